/* The initial stack a Linux kernel builds: argc, argv, envp and the auxiliary vector.
 * Prints the arguments and the auxv entries every loader provides, and exits with a
 * status computed from argc, to check that the exit status arrives too. */
#include "rt.h"

#define AT_NULL 0
#define AT_PAGESZ 6
#define AT_ENTRY 9

extern char _start[];

int main(int argc, char **argv) {
  put_kv("argc", argc);
  for (int i = 1; i < argc; i++) {
    put_str("argv[");
    put_i64(i);
    put_str("]=");
    put_str(argv[i]);
    put_nl();
  }
  put_kv("argv[argc]_is_null", argv[argc] == 0);
  char **envp = argv + argc + 1;
  while (*envp) envp++;
  u64 *auxv = (u64 *)(envp + 1);
  u64 pagesz = 0, entry = 0;
  int entries = 0;
  for (; auxv[0] != AT_NULL; auxv += 2, entries++) {
    if (auxv[0] == AT_PAGESZ) pagesz = auxv[1];
    if (auxv[0] == AT_ENTRY) entry = auxv[1];
  }
  put_kv("AT_PAGESZ", (i64)pagesz);
  put_kv("AT_ENTRY_is_start", entry == (u64)_start);
  put_kv("auxv_has_entries", entries > 2);
  u64 sp;
#if defined(__riscv)
  __asm__("mv %0, sp" : "=r"(sp));
#else
  __asm__("mov %%rsp, %0" : "=r"(sp));
#endif
  put_kv("stack_aligned", (sp & 15) == 0);
  return 40 + argc;
}
