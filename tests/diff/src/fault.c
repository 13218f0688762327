/* Programs that die: a store to an unmapped address (SIGSEGV), a store into the code,
 * which is mapped read and execute only (SIGSEGV), an illegal instruction (SIGILL), or a
 * breakpoint (SIGTRAP). What they printed before dying must still come out, and the
 * status is 128 + the signal. */
#include "rt.h"

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "";
  put_str("about to fault: ");
  put_str(what);
  put_nl();
  put_flush();
  if (!memcmp(what, "segv", 5)) {
    volatile u64 *unmapped = (volatile u64 *)(u64)argc; /* 2: nothing is mapped there */
    *unmapped = 1;
  } else if (!memcmp(what, "text", 5)) {
    *(volatile u32 *)(u64)main = 0;
  } else if (!memcmp(what, "ill", 4)) {
#if defined(__riscv)
    __asm__ volatile(".4byte 0xffffffff");
#else
    __asm__ volatile("ud2");
#endif
  } else if (!memcmp(what, "trap", 5)) {
#if defined(__riscv)
    __asm__ volatile("ebreak");
#else
    __asm__ volatile("int3");
#endif
  }
  put_str("still alive\n");
  return 3;
}
