/*
 * A freestanding test program for the emulated x86-64 CPU: integer code of every kind GCC
 * emits (arithmetic at every width, signed and unsigned division, shifts, bit tricks,
 * switch tables, indirect calls, recursion, struct copies, 128-bit multiplies and shifts,
 * string loops, FS-relative loads). No 128-bit division: libgcc's __udivmodti4 uses SSE. It prints one line per check through the
 * write syscall and exits with the exit syscall (Linux numbers), so the same binary runs
 * natively to give the expected output (gen_gcc.sh) and on the emulator (gcc_test.ts).
 */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;
typedef signed char i8;
typedef short i16;
typedef int i32;
typedef long i64;

static long sys3(long nr, long a, long b, long c) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}

static char out[8192];
static int outn;

static void put(const char *s) {
  while (*s) out[outn++] = *s++;
}

static void flush(void) {
  sys3(1, 1, (long)out, outn);
  outn = 0;
}

static void hex64(u64 v) {
  char b[17];
  for (int k = 15; k >= 0; k--) {
    b[k] = "0123456789abcdef"[v & 15];
    v >>= 4;
  }
  b[16] = 0;
  put(b);
}

static void dec(i64 v) {
  char b[24];
  int n = 0;
  u64 u = v < 0 ? -(u64)v : (u64)v;
  do {
    b[n++] = '0' + u % 10;
    u /= 10;
  } while (u);
  if (v < 0) put("-");
  while (n) {
    char c[2] = {b[--n], 0};
    put(c);
  }
}

static void check(const char *name, u64 v) {
  put(name);
  put(" ");
  hex64(v);
  put("\n");
  if (outn > 7000) flush();
}

/* Values the optimizer cannot see through. */
static volatile u64 seeds[] = {0, 1, 2, 3, 7, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
                               0x7fffffff, 0x80000000, 0xffffffff, 0x123456789abcdef0,
                               0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff,
                               0xdeadbeefcafebabe, 12345, (u64)-12345, 1000000007};
#define NSEEDS (sizeof seeds / sizeof seeds[0])

static u64 mix(u64 h, u64 v) {
  h ^= v + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2);
  return h;
}

static void widths(void) {
  u64 h = 0;
  for (unsigned i = 0; i < NSEEDS; i++) {
    for (unsigned j = 0; j < NSEEDS; j++) {
      u64 a = seeds[i], b = seeds[j];
      h = mix(h, (u8)a + (u8)b);
      h = mix(h, (i8)a * (i8)b);
      h = mix(h, (u16)a - (u16)b);
      h = mix(h, (i16)a * (i16)b);
      h = mix(h, (u32)a * (u32)b);
      h = mix(h, (i32)a + (i32)b);
      h = mix(h, a * b);
      h = mix(h, (i64)a < (i64)b);
      h = mix(h, a < b);
      h = mix(h, (i32)a > (i32)b);
      h = mix(h, (u8)a < (u8)b);
      h = mix(h, a ^ (b >> (a & 63)));
      h = mix(h, (i64)a >> (b & 63));
      h = mix(h, (u32)a << (b & 31));
      h = mix(h, (i32)a >> (b & 31));
      h = mix(h, (i16)a >> (b & 15));
      if (b) {
        h = mix(h, a / b);
        h = mix(h, a % b);
        h = mix(h, (u32)a / (u32)(b | 1));
        h = mix(h, (u16)a % (u16)(b | 1));
        h = mix(h, (u8)a / (u8)(b | 1));
      }
      if ((i64)b != 0 && !((i64)a == (-0x7fffffffffffffff - 1) && (i64)b == -1)) {
        h = mix(h, (i64)a / (i64)b);
        h = mix(h, (i64)a % (i64)b);
      }
      if ((i32)b != 0 && !((i32)a == (-0x7fffffff - 1) && (i32)b == -1)) {
        h = mix(h, (i32)a / (i32)b);
        h = mix(h, (i32)a % (i32)b);
      }
      if ((i8)b != 0 && !((i8)a == -128 && (i8)b == -1)) h = mix(h, (i8)a / (i8)b);
      h = mix(h, (a > b) ? a - b : b - a);
      h = mix(h, (i64)a < 0 ? -(i64)a : (i64)a);
    }
  }
  check("widths", h);
}

static void bits(void) {
  u64 h = 0;
  for (unsigned i = 0; i < NSEEDS; i++) {
    u64 a = seeds[i];
    if (a) h = mix(h, __builtin_ctzl(a));
    if (a) h = mix(h, __builtin_clzl(a));
    if ((u32)a) h = mix(h, __builtin_ctz((u32)a));
    if ((u32)a) h = mix(h, __builtin_clz((u32)a));
    h = mix(h, __builtin_popcountl(a));
    h = mix(h, __builtin_popcount((u32)a));
    h = mix(h, __builtin_parityl(a));
    h = mix(h, __builtin_bswap64(a));
    h = mix(h, __builtin_bswap32((u32)a));
    h = mix(h, __builtin_bswap16((u16)a));
    h = mix(h, (a << 13) | (a >> 51));
    h = mix(h, ((u32)a >> 7) | ((u32)a << 25));
    h = mix(h, (a >> 17) & 1);
    h = mix(h, a & (a - 1));
    h = mix(h, a & -a);
    h = mix(h, a | (1UL << (a & 63)));
    h = mix(h, a & ~(1UL << ((a >> 3) & 63)));
  }
  check("bits", h);
}

static u64 wide(void) {
  u64 h = 0;
  for (unsigned i = 0; i < NSEEDS; i++) {
    for (unsigned j = 0; j < NSEEDS; j++) {
      unsigned __int128 a = seeds[i], b = seeds[j];
      unsigned __int128 p = a * b;
      h = mix(h, (u64)(p >> 64));
      h = mix(h, (u64)p);
      __int128 s = (__int128)(i64)seeds[i] * (i64)seeds[j];
      h = mix(h, (u64)(s >> 64));
      h = mix(h, (u64)((p << 3) >> 67) ^ (u64)(s >> 100));
    }
  }
  return h;
}

typedef u64 (*op_fn)(u64, u64);
static u64 op_add(u64 a, u64 b) { return a + b; }
static u64 op_sub(u64 a, u64 b) { return a - b; }
static u64 op_mul(u64 a, u64 b) { return a * b; }
static u64 op_xor(u64 a, u64 b) { return a ^ b; }
static op_fn ops[] = {op_add, op_sub, op_mul, op_xor};

static u64 classify(u64 v) {
  switch (v % 13) {
  case 0: return v + 1;
  case 1: return v * 3;
  case 2: return v ^ 0x55;
  case 3: return v >> 1;
  case 4: return ~v;
  case 5: return v - 7;
  case 6: return v << 2;
  case 7: return v | 0x100;
  case 8: return v & 0xff;
  case 9: return v * v;
  case 10: return -v;
  case 11: return v / 3;
  default: return 42;
  }
}

static u64 fib(u64 n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static u64 ackermann(u64 m, u64 n) {
  if (m == 0) return n + 1;
  if (n == 0) return ackermann(m - 1, 1);
  return ackermann(m - 1, ackermann(m, n - 1));
}

static void control(void) {
  u64 h = 0;
  for (unsigned i = 0; i < NSEEDS; i++) {
    h = mix(h, classify(seeds[i]));
    h = mix(h, ops[i & 3](seeds[i], seeds[(i + 5) % NSEEDS]));
  }
  check("control", h);
  check("fib", fib(20));
  check("ackermann", ackermann(2, 3));
}

struct item {
  u32 key;
  u16 tag;
  u8 flags;
  i64 value;
  char name[13];
};

static struct item items[64];

static void sort(struct item *a, int n) {
  for (int i = 1; i < n; i++) {
    struct item x = a[i];
    int j = i - 1;
    while (j >= 0 && (a[j].key > x.key || (a[j].key == x.key && a[j].value > x.value))) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = x;
  }
}

static void memory(void) {
  u64 h = 0;
  u32 x = 12345;
  for (int i = 0; i < 64; i++) {
    x = x * 1103515245 + 12345;
    items[i].key = (x >> 16) & 0x3f;
    items[i].tag = x;
    items[i].flags = x >> 24;
    items[i].value = (i64)x - 0x40000000;
    for (int k = 0; k < 12; k++) items[i].name[k] = 'a' + (x >> k) % 26;
    items[i].name[12] = 0;
  }
  sort(items, 64);
  for (int i = 0; i < 64; i++) {
    h = mix(h, items[i].key);
    h = mix(h, items[i].value);
    h = mix(h, items[i].name[i % 12]);
  }
  check("sort", h);
  struct item copy[8];
  __builtin_memcpy(copy, items + 3, sizeof copy);
  __builtin_memset(items, 0, sizeof items);
  h = 0;
  for (int i = 0; i < 8; i++) h = mix(h, copy[i].value ^ copy[i].tag);
  for (int i = 0; i < 64; i++) h = mix(h, items[i].value);
  check("copy", h);
  char s[64] = "the quick brown fox jumps over the lazy dog";
  int len = 0;
  while (s[len]) len++;
  for (int i = 0; i < len / 2; i++) {
    char t = s[i];
    s[i] = s[len - 1 - i];
    s[len - 1 - i] = t;
  }
  h = 0;
  for (int i = 0; i < len; i++) h = h * 31 + s[i];
  check("string", h);
  u32 crc = 0xffffffff;
  for (int i = 0; i < len; i++) {
    crc ^= (u8)s[i];
    for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
  }
  check("crc32", ~crc);
}

static struct {
  u64 self;
  u64 a;
  u32 b;
} tls_block = {0, 0x1122334455667788, 0x99aabbcc};

static void fs_segment(void) {
  tls_block.self = (u64)&tls_block;
  sys3(158, 0x1002, (long)&tls_block, 0); /* arch_prctl(ARCH_SET_FS) */
  u64 a, self;
  u32 b;
  __asm__ volatile("mov %%fs:8, %0" : "=r"(a));
  __asm__ volatile("movl %%fs:16, %0" : "=r"(b));
  __asm__ volatile("mov %%fs:0, %0" : "=r"(self));
  check("fs", a ^ b ^ (self - (u64)&tls_block));
}

static void flags(void) {
  u64 h = 0;
  for (unsigned i = 0; i < NSEEDS; i++) {
    for (unsigned j = 0; j < NSEEDS; j++) {
      u64 a = seeds[i], b = seeds[j], r;
      u8 c;
      c = __builtin_add_overflow(a, b, &r);
      h = mix(h, r + c);
      c = __builtin_sub_overflow((i64)a, (i64)b, (i64 *)&r);
      h = mix(h, r + c);
      c = __builtin_mul_overflow((i32)a, (i32)b, (i32 *)&r);
      h = mix(h, (u32)r + c);
      c = __builtin_mul_overflow(a, b, &r);
      h = mix(h, r * 2 + c);
    }
  }
  check("overflow", h);
}

int main(void) {
  widths();
  bits();
  check("wide", wide());
  control();
  memory();
  fs_segment();
  flags();
  put("done ");
  dec(-1234567);
  put("\n");
  flush();
  return 7;
}

__asm__(".globl _start\n"
        "_start:\n"
        "  xor %ebp, %ebp\n"
        "  and $-16, %rsp\n"
        "  call main\n"
        "  mov %eax, %edi\n"
        "  mov $60, %eax\n"
        "  syscall\n"
        "  hlt\n");
