/*
 * Flag vectors from the host CPU: runs integer instructions with edge-value operands and
 * prints, for each, the inputs, the outputs and RFLAGS, as JSON rows. gen_flags.sh builds
 * and runs it to make flags_vectors.json, which flags_vectors_test.ts replays on the
 * emulated CPU with nothing but Deno.
 *
 * Output: {"generator": ..., "host": ..., "garbage": G, "rows": [...]}, one row per string:
 *   "mnemonic size flags_in a b c out1 out2 flags_out", numbers in hex.
 *   a, b: the destination and source operands, masked to the operand size; in the
 *         registers the bits above a narrow operand hold the garbage G, on purpose, to
 *         check what the instruction keeps;
 *   c:    the shift count (CL); for mul and div the initial rdx (the high half of the
 *         dividend), except for 8-bit divides, where c is AH (the high half of AX);
 *   out1: the destination register after (rax for mul/div), out2: the second result
 *         (rdx for mul/div, the source register for xadd), flags_* masked to the six
 *         status flags.
 *
 * Build: gcc -O1 -mno-red-zone (the asm pushes and pops around the instruction).
 */
#include <stdint.h>
#include <stdio.h>

typedef uint64_t u64;
static const u64 STATUS = 0x8d5; /* CF PF AF ZF SF OF */
static const u64 GARBAGE = 0x5a5a5a5a5a5a5a5aull;
static int first = 1;

static void row(const char *op, int size, u64 fin, u64 a, u64 b, u64 c, u64 o1, u64 o2,
                u64 fout) {
  const u64 m = size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
  printf("%s    \"%s %d %llx %llx %llx %llx %llx %llx %llx\"", first ? "" : ",\n", op, size,
         (unsigned long long)fin, (unsigned long long)(a & m), (unsigned long long)(b & m),
         (unsigned long long)c, (unsigned long long)o1, (unsigned long long)o2,
         (unsigned long long)(fout & STATUS));
  first = 0;
}

/* x op= y with flags_in f; x, y are full registers. */
#define BIN(NAME, INSN)                                                                 \
  static void NAME(u64 f, u64 *x, u64 *y, u64 *fo) {                                   \
    u64 xx = *x, yy = *y, ff;                                                           \
    __asm__ volatile("push %[f]\n\tpopfq\n\t" INSN "\n\tpushfq\n\tpop %[ff]"            \
                     : [x] "+q"(xx), [y] "+q"(yy), [ff] "=&r"(ff)                      \
                     : [f] "r"(f)                                                       \
                     : "cc", "memory");                                                 \
    *x = xx; *y = yy; *fo = ff;                                                         \
  }
/* x shifted by cl = c. */
#define SHC(NAME, INSN)                                                                 \
  static void NAME(u64 f, u64 *x, u64 *y, u64 c, u64 *fo) {                             \
    u64 xx = *x, yy = *y, ff;                                                           \
    __asm__ volatile("push %[f]\n\tpopfq\n\t" INSN "\n\tpushfq\n\tpop %[ff]"            \
                     : [x] "+r"(xx), [y] "+r"(yy), [ff] "=&r"(ff)                      \
                     : [f] "r"(f), "c"(c)                                               \
                     : "cc", "memory");                                                 \
    *x = xx; *y = yy; *fo = ff;                                                         \
  }
/* rdx:rax op y (mul, div). */
#define MD(NAME, INSN)                                                                  \
  static void NAME(u64 f, u64 *ax, u64 *dx, u64 y, u64 *fo) {                           \
    u64 a = *ax, d = *dx, ff;                                                           \
    __asm__ volatile("push %[f]\n\tpopfq\n\t" INSN "\n\tpushfq\n\tpop %[ff]"            \
                     : "+a"(a), "+d"(d), [ff] "=&r"(ff)                                 \
                     : [f] "r"(f), [y] "q"(y)                                           \
                     : "cc", "memory");                                                 \
    *ax = a; *dx = d; *fo = ff;                                                         \
  }

#define SIZES(M, op) \
  M(op##_8, #op "b %b[y], %b[x]") M(op##_16, #op "w %w[y], %w[x]") \
  M(op##_32, #op "l %k[y], %k[x]") M(op##_64, #op "q %q[y], %q[x]")
#define SIZES3(M, op) \
  M(op##_16, #op "w %w[y], %w[x]") M(op##_32, #op "l %k[y], %k[x]") M(op##_64, #op "q %q[y], %q[x]")
#define UNARY(M, op) \
  M(op##_8, #op "b %b[x]") M(op##_16, #op "w %w[x]") M(op##_32, #op "l %k[x]") M(op##_64, #op "q %q[x]")
#define SHIFTS(op) \
  SHC(op##_8, #op "b %%cl, %b[x]") SHC(op##_16, #op "w %%cl, %w[x]") \
  SHC(op##_32, #op "l %%cl, %k[x]") SHC(op##_64, #op "q %%cl, %q[x]")
#define DSHIFTS(op) \
  SHC(op##_16, #op "w %%cl, %w[y], %w[x]") SHC(op##_32, #op "l %%cl, %k[y], %k[x]") \
  SHC(op##_64, #op "q %%cl, %q[y], %q[x]")
#define MULDIV(op) \
  MD(md_##op##_8, #op "b %b[y]") MD(md_##op##_16, #op "w %w[y]") \
  MD(md_##op##_32, #op "l %k[y]") MD(md_##op##_64, #op "q %q[y]")

SIZES(BIN, add) SIZES(BIN, adc) SIZES(BIN, sub) SIZES(BIN, sbb) SIZES(BIN, cmp)
SIZES(BIN, and) SIZES(BIN, or) SIZES(BIN, xor) SIZES(BIN, test) SIZES(BIN, xadd)
UNARY(BIN, inc) UNARY(BIN, dec) UNARY(BIN, neg) UNARY(BIN, not)
SIZES3(BIN, imul) SIZES3(BIN, bt) SIZES3(BIN, bts) SIZES3(BIN, btr) SIZES3(BIN, btc)
SIZES3(BIN, bsf) SIZES3(BIN, bsr) SIZES3(BIN, tzcnt) SIZES3(BIN, lzcnt) SIZES3(BIN, popcnt)
SHIFTS(rol) SHIFTS(ror) SHIFTS(rcl) SHIFTS(rcr) SHIFTS(shl) SHIFTS(shr) SHIFTS(sar)
DSHIFTS(shld) DSHIFTS(shrd)
MULDIV(mul) MULDIV(imul) MULDIV(div) MULDIV(idiv)

typedef void (*binfn)(u64, u64 *, u64 *, u64 *);
typedef void (*shfn)(u64, u64 *, u64 *, u64, u64 *);
typedef void (*mdfn)(u64, u64 *, u64 *, u64, u64 *);

/* Flags before the instruction: all clear, then (for instructions that read or keep some
 * status flags) all set. */
static const u64 FIN[2] = {0, 0x8d5};

/* Edge values for an operand of `size` bytes, in the low bits of a garbage register. */
static int values(int size, u64 *out) {
  const u64 m = size == 8 ? ~0ull : (1ull << (size * 8)) - 1, s = 1ull << (size * 8 - 1);
  const u64 v[] = {0, 1, 0x7f, 0x80, s - 1, s, m, m - 1, 0x5555555555555555ull & m,
                   0x123456789abcdef1ull & m};
  int n = 0;
  for (unsigned k = 0; k < sizeof v / sizeof v[0]; k++) {
    int dup = 0;
    for (int j = 0; j < n; j++) dup |= (out[j] & m) == (v[k] & m);
    if (!dup) out[n++] = (size == 8 ? 0 : (GARBAGE & ~m)) | (v[k] & m);
  }
  return n;
}

static void bin(const char *op, int size, binfn fn, int nfin) {
  u64 vals[16];
  int n = values(size, vals);
  for (int fi = 0; fi < nfin; fi++)
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++) {
        u64 x = vals[i], y = vals[j], fo;
        fn(FIN[fi], &x, &y, &fo);
        row(op, size, FIN[fi], vals[i], vals[j], 0, x, y, fo);
      }
}

static void unary(const char *op, int size, binfn fn) {
  u64 vals[16];
  int n = values(size, vals);
  for (int fi = 0; fi < 2; fi++)
    for (int i = 0; i < n; i++) {
      u64 x = vals[i], y = 0, fo;
      fn(FIN[fi], &x, &y, &fo);
      row(op, size, FIN[fi], vals[i], 0, 0, x, 0, fo);
    }
}

static void shifts(const char *op, int size, shfn fn, int dbl) {
  static const u64 counts[] = {0, 1, 2, 7, 8, 9, 16, 17, 31, 32, 33, 63};
  u64 vals[16];
  int n = values(size, vals);
  for (int fi = 0; fi < 2; fi++)
    for (int i = 0; i < n; i++)
      for (unsigned k = 0; k < sizeof counts / sizeof counts[0]; k++)
        for (int j = 0; j < (dbl ? n : 1); j += (dbl ? 4 : 1)) {
          u64 x = vals[i], y = dbl ? vals[j] : 0, fo;
          fn(FIN[fi], &x, &y, counts[k], &fo);
          row(op, size, FIN[fi], vals[i], dbl ? vals[j] : 0, counts[k], x, y, fo);
        }
}

static int div_ok(int sgn, int size, u64 hi, u64 lo, u64 d) {
  const int bits = size * 8;
  const u64 m = size == 8 ? ~0ull : (1ull << bits) - 1;
  hi &= m; lo &= m; d &= m;
  if (size == 1) { lo = lo | (hi << 8); hi = 0; } /* AX / r8: hi is AH, kept in lo here */
  if (d == 0) return 0;
  if (!sgn) {
    if (size == 1) return (lo / d) <= 0xff;
    unsigned __int128 n = ((unsigned __int128)hi << bits) | lo;
    return (n / d) <= m;
  }
  if (size == 1) {
    int16_t n = (int16_t)lo; int8_t dd = (int8_t)d;
    if (n == -32768 && dd == -1) return 0;
    int q = n / dd; return q >= -128 && q <= 127;
  }
  __int128 n;
  if (size == 8) n = (__int128)(((unsigned __int128)hi << 64) | lo);
  else {
    unsigned __int128 u = ((unsigned __int128)hi << bits) | lo;
    int sh = 128 - 2 * bits;
    n = ((__int128)(u << sh)) >> sh;
  }
  __int128 dd = (__int128)(((__int128)(d << (64 - bits))) >> 0);
  dd = (int64_t)(d << (64 - bits)) >> (64 - bits);
  if (dd == -1 && n == -(((__int128)1) << (2 * bits - 1))) return 0;
  __int128 q = n / dd, lim = ((__int128)1) << (bits - 1);
  return q < lim && q >= -lim;
}

static void muldiv(const char *op, int size, mdfn fn, int isdiv, int sgn) {
  u64 vals[16];
  int n = values(size, vals);
  for (int fi = 0; fi < 2; fi++)
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++)
        for (int h = 0; h < (isdiv ? n : 1); h += 4) {
          u64 ax = vals[i], dx = isdiv ? vals[h] : GARBAGE, fo;
          if (size == 1 && isdiv) {
            /* 8-bit divides use AX only: put the "high half" in AH. */
            ax = (ax & ~0xff00ull) | ((vals[h] & 0xff) << 8);
            dx = GARBAGE;
          }
          if (isdiv && !div_ok(sgn, size, size == 1 ? (ax >> 8) : dx, ax, vals[j])) continue;
          u64 a0 = ax, d0 = dx;
          fn(FIN[fi], &ax, &dx, vals[j], &fo);
          /* 8-bit divides: c is AH (the dividend's high half); otherwise the initial rdx. */
          row(op, size, FIN[fi], a0, vals[j], size == 1 && isdiv ? (a0 >> 8) & 0xff : d0, ax, dx,
              fo);
        }
}

#define B4(op, f) bin(#op, 1, op##_8, f); bin(#op, 2, op##_16, f); bin(#op, 4, op##_32, f); \
  bin(#op, 8, op##_64, f);
#define B3(op, f) bin(#op, 2, op##_16, f); bin(#op, 4, op##_32, f); bin(#op, 8, op##_64, f);
#define U4(op) unary(#op, 1, op##_8); unary(#op, 2, op##_16); unary(#op, 4, op##_32); unary(#op, 8, op##_64);
#define S4(op) shifts(#op, 1, op##_8, 0); shifts(#op, 2, op##_16, 0); shifts(#op, 4, op##_32, 0); shifts(#op, 8, op##_64, 0);
#define D3(op) shifts(#op, 2, op##_16, 1); shifts(#op, 4, op##_32, 1); shifts(#op, 8, op##_64, 1);
#define M4(op, name, d, s) muldiv(name, 1, md_##op##_8, d, s); \
  muldiv(name, 2, md_##op##_16, d, s); muldiv(name, 4, md_##op##_32, d, s); \
  muldiv(name, 8, md_##op##_64, d, s);

int main(int argc, char **argv) {
  printf("{\n  \"generator\": \"emulator/x86_64/testdata/flags_gen.c\",\n");
  printf("  \"host\": \"%s\",\n", argc > 1 ? argv[1] : "unknown");
  printf("  \"garbage\": \"%llx\",\n", (unsigned long long)GARBAGE);
  printf("  \"rows\": [\n");
  B4(add, 1) B4(adc, 2) B4(sub, 1) B4(sbb, 2) B4(cmp, 1) B4(and, 1) B4(or, 1) B4(xor, 1)
  B4(test, 1) B4(xadd, 1)
  U4(inc) U4(dec) U4(neg) U4(not)
  B3(imul, 2) B3(bt, 2) B3(bts, 2) B3(btr, 2) B3(btc, 2) B3(bsf, 2) B3(bsr, 2) B3(tzcnt, 2)
  B3(lzcnt, 2) B3(popcnt, 2)
  S4(rol) S4(ror) S4(rcl) S4(rcr) S4(shl) S4(shr) S4(sar)
  D3(shld) D3(shrd)
  M4(mul, "mul", 0, 0) M4(imul, "imul1", 0, 1) M4(div, "div", 1, 0) M4(idiv, "idiv", 1, 1)
  printf("\n  ]\n}\n");
  return 0;
}
