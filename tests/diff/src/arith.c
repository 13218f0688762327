/* Integer arithmetic: signed and unsigned division and remainder, including the edge
 * cases C defines (truncation toward zero) and, through the instruction itself, the ones
 * it leaves to the hardware (division by zero, INT64_MIN / -1). */
#include "rt.h"

static volatile i64 sv[] = {7, -7, 2, -2, 1, -1, 0, 100, -100, 3, 0x7fffffffffffffff, -0x7fffffffffffffff - 1};
static volatile u64 uv[] = {7, 2, 0xffffffffffffffff, 0x8000000000000000, 3, 10, 1, 0x123456789};

/* The hardware's division, even where C calls it undefined. */
static i64 hw_div(i64 a, i64 b) {
#if defined(__riscv)
  i64 q;
  __asm__("div %0, %1, %2" : "=r"(q) : "r"(a), "r"(b));
  return q;
#else
  return b == 0 ? -1 : (a == (-0x7fffffffffffffff - 1) && b == -1) ? a : a / b;
#endif
}

static i64 hw_rem(i64 a, i64 b) {
#if defined(__riscv)
  i64 r;
  __asm__("rem %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
#else
  return b == 0 ? a : (b == -1) ? 0 : a % b;
#endif
}

static u64 hw_divu(u64 a, u64 b) {
#if defined(__riscv)
  u64 q;
  __asm__("divu %0, %1, %2" : "=r"(q) : "r"(a), "r"(b));
  return q;
#else
  return b == 0 ? ~0ul : a / b;
#endif
}

static i32 hw_divw(i32 a, i32 b) {
#if defined(__riscv)
  i64 q;
  __asm__("divw %0, %1, %2" : "=r"(q) : "r"((i64)a), "r"((i64)b));
  return (i32)q;
#else
  return b == 0 ? -1 : (a == (-0x7fffffff - 1) && b == -1) ? a : a / b;
#endif
}

int main(int argc, char **argv) {
  (void)argc, (void)argv;
  u64 mix = 0;
  int n = sizeof sv / sizeof sv[0];
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < n; j++) {
      i64 a = sv[i], b = sv[j];
      if (b == 0 || (b == -1 && a == sv[n - 1])) continue;
      i64 q = a / b, r = a % b;
      if (q * b + r != a) put_str("identity broken\n");
      mix = mix * 31 + (u64)q * 7 + (u64)r;
    }
  }
  put_kx("signed_mix", mix);
  put_kv("-7/2", sv[1] / sv[2]);
  put_kv("-7%2", sv[1] % sv[2]);
  put_kv("7/-2", sv[0] / sv[3]);
  put_kv("7%-2", sv[0] % sv[3]);
  put_kv("-100/3", sv[8] / sv[9]);
  put_kv("-100%3", sv[8] % sv[9]);
  mix = 0;
  int m = sizeof uv / sizeof uv[0];
  for (int i = 0; i < m; i++) {
    for (int j = 0; j < m; j++) {
      u64 a = uv[i], b = uv[j];
      mix = mix * 131 + a / b + (a % b) * 3;
    }
  }
  put_kx("unsigned_mix", mix);
  put_kx("max/3", uv[2] / uv[4]);
  put_kx("max%10", uv[2] % uv[5]);
  /* What the hardware does where C does not say. */
  put_kv("div_by_zero", hw_div(sv[0], sv[6]));
  put_kv("rem_by_zero", hw_rem(sv[0], sv[6]));
  put_kx("divu_by_zero", hw_divu(uv[0], 0));
  put_kv("min_div_-1", hw_div(sv[11], sv[5]));
  put_kv("min_rem_-1", hw_rem(sv[11], sv[5]));
  put_kv("divw_min_-1", hw_divw(-0x7fffffff - 1, -1));
  put_kv("divw_by_zero", hw_divw(5, 0));
  /* Overflowing additions wrap, done on unsigned values where C defines them. */
  u64 big = (u64)sv[10];
  put_kx("max+1", big + 1);
  put_kv("sub_chain", sv[7] - sv[8] - sv[9] + sv[4]);
  i32 w = (i32)uv[7];
  put_kv("truncated_to_32", w);
  put_kv("shift_arith", sv[8] >> 3);
  put_kx("shift_logic", (u64)sv[8] >> 3);
  return (int)(mix & 0x3f);
}
