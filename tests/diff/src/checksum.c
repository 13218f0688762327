/* Checksums over a large array: CRC-32 (table built at run time), Adler-32 and FNV-1a
 * over 256 KiB in .bss filled from a generator, and a sum over an initialised .data table. */
#include "rt.h"

#define SIZE (256 * 1024)
static u8 big[SIZE];
static u32 crc_table[256];
static u32 primes[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53};

static void crc_init(void) {
  for (u32 i = 0; i < 256; i++) {
    u32 c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}

static u32 crc32(const u8 *p, size_t n) {
  u32 c = 0xffffffffu;
  while (n--) c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

static u32 adler32(const u8 *p, size_t n) {
  u32 a = 1, b = 0;
  while (n--) {
    a = (a + *p++) % 65521;
    b = (b + a) % 65521;
  }
  return (b << 16) | a;
}

static u64 fnv1a(const u8 *p, size_t n) {
  u64 h = 0xcbf29ce484222325;
  while (n--) h = (h ^ *p++) * 0x100000001b3;
  return h;
}

int main(int argc, char **argv) {
  (void)argc, (void)argv;
  int zero = 1;
  for (size_t i = 0; i < SIZE; i++) zero &= big[i] == 0;
  put_kv("bss_was_zero", zero);
  u32 x = 12345;
  for (size_t i = 0; i < SIZE; i++) {
    x = x * 1103515245u + 12345u;
    big[i] = (u8)(x >> 16);
  }
  crc_init();
  put_kx("crc32(\"123456789\")", crc32((const u8 *)"123456789", 9));
  put_kx("crc32", crc32(big, SIZE));
  put_kx("adler32", adler32(big, SIZE / 4));
  put_kx("fnv1a", fnv1a(big, SIZE));
  u64 sum = 0;
  for (unsigned i = 0; i < sizeof primes / sizeof primes[0]; i++) sum += primes[i] * big[i * 4099];
  put_kv("weighted", (i64)sum);
  return (int)(crc32(big, 64) & 0xff);
}
