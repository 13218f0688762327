/* Bit manipulation: population count, leading and trailing zeros, bit reversal, rotates,
 * byte swaps, sign extension and masks, all written out (no libgcc). */
#include "rt.h"

static int popcount(u64 x) {
  x = x - ((x >> 1) & 0x5555555555555555);
  x = (x & 0x3333333333333333) + ((x >> 2) & 0x3333333333333333);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0f;
  return (int)((x * 0x0101010101010101) >> 56);
}

static int clz(u64 x) {
  if (!x) return 64;
  int n = 0;
  for (u64 bit = 1ul << 63; !(x & bit); bit >>= 1) n++;
  return n;
}

static int ctz(u64 x) {
  if (!x) return 64;
  int n = 0;
  while (!(x & 1)) x >>= 1, n++;
  return n;
}

static u64 reverse(u64 x) {
  u64 r = 0;
  for (int i = 0; i < 64; i++) r = (r << 1) | ((x >> i) & 1);
  return r;
}

static u64 rotl(u64 x, int k) { return (x << (k & 63)) | (x >> ((64 - k) & 63)); }

static u64 bswap(u64 x) {
  u64 r = 0;
  for (int i = 0; i < 8; i++) r = (r << 8) | ((x >> (8 * i)) & 0xff);
  return r;
}

static i64 sext(u64 x, int bits) { return (i64)(x << (64 - bits)) >> (64 - bits); }

static volatile u64 inputs[] = {0, 1, 0x80, 0xff00ff00ff00ff00, 0x8000000000000000,
                                0x0123456789abcdef, 0xffffffffffffffff, 0x1000};

int main(int argc, char **argv) {
  (void)argc, (void)argv;
  u64 acc = 0;
  for (unsigned i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    u64 x = inputs[i];
    put_hex_width(x, 16);
    put_str(" pop=");
    put_i64(popcount(x));
    put_str(" clz=");
    put_i64(clz(x));
    put_str(" ctz=");
    put_i64(ctz(x));
    put_str(" rev=");
    put_hex(reverse(x));
    put_str(" rotl13=");
    put_hex(rotl(x, 13));
    put_str(" bswap=");
    put_hex(bswap(x));
    put_str(" sext12=");
    put_i64(sext(x, 12));
    put_nl();
    acc ^= rotl(x ^ reverse(x), (int)i * 7) + (u64)popcount(x);
  }
  u32 w = 0x80000001u;
  put_kx("u32_shift", (u64)(w >> 1));
  put_kv("i32_shift", (i32)w >> 1);
  put_kx("mask_low_20", 0xabcdef123456 & ((1ul << 20) - 1));
  put_kx("set_bits", (0ul | (1ul << 63) | (1ul << 31) | 1));
  put_kx("xor_swap", inputs[5] ^ inputs[3] ^ inputs[5]);
  put_kx("acc", acc);
  return popcount(acc);
}
