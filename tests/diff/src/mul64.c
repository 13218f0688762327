/* 64-bit multiplication: low and high halves (mul, mulh, mulhu, mulhsu), wrapping
 * products, modular exponentiation and 128-bit products built from 64-bit halves. */
#include "rt.h"

static volatile u64 vals[] = {0, 1, 3, 0xffffffff, 0x100000000, 0xdeadbeefcafebabe,
                              0x8000000000000000, 0xffffffffffffffff, 12345678901234567ul};

/* The high 64 bits of a * b, unsigned, the long way: four 32x32 products. */
static u64 mulhu_by_halves(u64 a, u64 b) {
  u64 al = a & 0xffffffff, ah = a >> 32, bl = b & 0xffffffff, bh = b >> 32;
  u64 ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  u64 mid = (ll >> 32) + (lh & 0xffffffff) + (hl & 0xffffffff);
  return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

static u64 mulmod(u64 a, u64 b, u64 m) {
  u64 r = 0;
  a %= m;
  while (b) {
    if (b & 1) r = (r + a) % m;
    a = (a * 2) % m;
    b >>= 1;
  }
  return r;
}

static u64 powmod(u64 base, u64 exp, u64 m) {
  u64 r = 1 % m;
  while (exp) {
    if (exp & 1) r = mulmod(r, base, m);
    base = mulmod(base, base, m);
    exp >>= 1;
  }
  return r;
}

int main(int argc, char **argv) {
  (void)argc, (void)argv;
  int n = sizeof vals / sizeof vals[0];
  u64 lo = 0, hi = 0, shi = 0;
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < n; j++) {
      u64 a = vals[i], b = vals[j];
      unsigned __int128 p = (unsigned __int128)a * b;
      __int128 sp = (__int128)(i64)a * (i64)b;
      if ((u64)(p >> 64) != mulhu_by_halves(a, b)) put_str("mulhu mismatch\n");
      lo = lo * 3 + (u64)p;
      hi = hi * 5 + (u64)(p >> 64);
      shi = shi * 7 + (u64)(sp >> 64);
    }
  }
  put_kx("low_mix", lo);
  put_kx("high_mix", hi);
  put_kx("signed_high_mix", shi);
  u64 f = 1;
  for (u64 k = 1; k <= 25; k++) f *= k; /* wraps past 20! */
  put_kx("25!_mod_2^64", f);
  put_kv("2^61-1_is_prime_witness", (i64)powmod(3, 0x1ffffffffffffffe, 0x1fffffffffffffff));
  put_kv("powmod", (i64)powmod(123456789, 987654321, 1000000007));
  i32 a32 = (i32)vals[5], b32 = (i32)vals[8];
  put_kv("mulw", (i32)((u32)a32 * (u32)b32));
  put_kv("square_neg", (i64)vals[7] * (i64)vals[7]);
  return (int)(hi & 0x7f);
}
