/* Printing numbers: decimal and hex at the edges of every width, padded columns, octal
 * and binary, with the arithmetic (division by 10, shifts) that formatting needs. */
#include "rt.h"

static void put_base(u64 v, unsigned base, int width, char pad) {
  char buf[64];
  int n = 0;
  do {
    buf[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % base];
    v /= base;
  } while (v);
  while (n < width) buf[n++] = pad;
  while (n) put_char(buf[--n]);
}

static volatile i64 signed_values[] = {0, 1, -1, 9, 10, -10, 99, 100, 127, -128, 32767, -32768,
                                       2147483647, -2147483647 - 1, 4294967296,
                                       9223372036854775807, -9223372036854775807 - 1};
static volatile u64 unsigned_values[] = {0, 0xf, 0x10, 0xff, 0xffff, 0x10000, 0xffffffff,
                                         0x100000000, 0x7fffffffffffffff, 0xffffffffffffffff};

int main(int argc, char **argv) {
  (void)argc, (void)argv;
  for (unsigned i = 0; i < sizeof signed_values / sizeof signed_values[0]; i++) {
    i64 v = signed_values[i];
    put_base((u64)(i + 1), 10, 2, ' ');
    put_str(": ");
    put_i64(v);
    put_str(" hex ");
    put_hex((u64)v);
    put_str(" low32 ");
    put_i64((i32)v);
    put_nl();
  }
  for (unsigned i = 0; i < sizeof unsigned_values / sizeof unsigned_values[0]; i++) {
    u64 v = unsigned_values[i];
    put_base(v, 10, 20, ' ');
    put_char(' ');
    put_hex_width(v, 16);
    put_char(' ');
    put_base(v, 8, 22, '0');
    put_nl();
  }
  put_base(0xa5, 2, 16, '0');
  put_nl();
  put_base(1295, 36, 0, ' ');
  put_nl();
  u64 total = 0;
  for (unsigned i = 0; i < sizeof unsigned_values / sizeof unsigned_values[0]; i++) total += unsigned_values[i] % 1000;
  put_kv("digits_total", (i64)total);
  return 0;
}
