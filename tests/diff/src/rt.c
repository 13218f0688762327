/* The runtime: _start, buffered output, exit, and the memory functions gcc may call. */
#include "rt.h"

/*
 * _start: the kernel leaves argc at sp, then argv[], NULL, envp[], NULL, auxv. Align the
 * stack to 16 bytes as the ABI requires at a call, and call rt_start(argc, argv).
 */
#if defined(__riscv)
__asm__(".section .text._start,\"ax\",@progbits\n"
        ".globl _start\n"
        "_start:\n"
        "  .option push\n"
        "  .option norelax\n"
        "  la gp, __global_pointer$\n" /* gcc may address small data through gp */
        "  .option pop\n"
        "  ld a0, 0(sp)\n"
        "  addi a1, sp, 8\n"
        "  andi sp, sp, -16\n"
        "  call rt_start\n"
        "  unimp\n");
#else
__asm__(".section .text._start,\"ax\",@progbits\n"
        ".globl _start\n"
        "_start:\n"
        "  xor %ebp, %ebp\n"
        "  mov (%rsp), %rdi\n"
        "  lea 8(%rsp), %rsi\n"
        "  and $-16, %rsp\n"
        "  call rt_start\n"
        "  hlt\n");
#endif

static char out_buf[256];
static int out_len;

void put_flush(void) {
  int done = 0;
  while (done < out_len) {
    i64 n = syscall3(SYS_write, 1, (i64)(out_buf + done), out_len - done);
    if (n <= 0) break;
    done += (int)n;
  }
  out_len = 0;
}

void put_char(char c) {
  if (out_len == sizeof out_buf) put_flush();
  out_buf[out_len++] = c;
}

void put_str(const char *s) {
  while (*s) put_char(*s++);
}

void put_nl(void) { put_char('\n'); }

void put_u64(u64 v) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) put_char(digits[--n]);
}

void put_i64(i64 v) {
  if (v < 0) {
    put_char('-');
    put_u64(-(u64)v);
  } else {
    put_u64((u64)v);
  }
}

void put_hex_width(u64 v, int digits) {
  put_str("0x");
  for (int i = digits - 1; i >= 0; i--) put_char("0123456789abcdef"[(v >> (4 * i)) & 15]);
}

void put_hex(u64 v) {
  int digits = 1;
  while (digits < 16 && (v >> (4 * digits))) digits++;
  put_hex_width(v, digits);
}

void put_kv(const char *key, i64 value) {
  put_str(key);
  put_char('=');
  put_i64(value);
  put_nl();
}

void put_kx(const char *key, u64 value) {
  put_str(key);
  put_char('=');
  put_hex(value);
  put_nl();
}

void sys_exit(int code) {
  put_flush();
  for (;;) syscall3(SYS_exit_group, code, 0, 0);
}

void rt_start(i64 argc, char **argv) { sys_exit(main((int)argc, argv)); }

/* gcc at -O2 would turn these loops into calls to themselves: keep them loops. */
#define NO_IDIOMS __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_IDIOMS void *memset(void *dst, int c, size_t n) {
  u8 *d = dst;
  while (n--) *d++ = (u8)c;
  return dst;
}

NO_IDIOMS void *memcpy(void *dst, const void *src, size_t n) {
  u8 *d = dst;
  const u8 *s = src;
  while (n--) *d++ = *s++;
  return dst;
}

NO_IDIOMS void *memmove(void *dst, const void *src, size_t n) {
  u8 *d = dst;
  const u8 *s = src;
  if (d < s) {
    while (n--) *d++ = *s++;
  } else {
    while (n--) d[n] = s[n];
  }
  return dst;
}

NO_IDIOMS int memcmp(const void *a, const void *b, size_t n) {
  const u8 *x = a, *y = b;
  for (; n; n--, x++, y++) {
    if (*x != *y) return *x - *y;
  }
  return 0;
}

NO_IDIOMS size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}
