/*
 * The runtime of the differential test programs: no libc, just the Linux syscall ABI.
 * Each program includes this header and is linked with rt.c, which holds _start.
 * Written for riscv64 and x86_64 alike; only the syscall instruction and numbers differ.
 */
#ifndef RT_H
#define RT_H

typedef unsigned long u64;
typedef long i64;
typedef unsigned int u32;
typedef int i32;
typedef unsigned char u8;
typedef unsigned long size_t;

#if defined(__riscv)
/* riscv64 Linux: asm-generic/unistd.h */
#define SYS_write 64
#define SYS_exit 93
#define SYS_exit_group 94
#elif defined(__x86_64__)
/* x86_64 Linux: arch/x86/entry/syscalls/syscall_64.tbl */
#define SYS_write 1
#define SYS_exit 60
#define SYS_exit_group 231
#else
#error "unsupported architecture"
#endif

/* A syscall with up to three arguments: number and arguments in the ABI's registers. */
static inline i64 syscall3(i64 n, i64 a, i64 b, i64 c) {
#if defined(__riscv)
  register i64 a7 __asm__("a7") = n;
  register i64 a0 __asm__("a0") = a;
  register i64 a1 __asm__("a1") = b;
  register i64 a2 __asm__("a2") = c;
  __asm__ volatile("ecall" : "+r"(a0) : "r"(a7), "r"(a1), "r"(a2) : "memory");
  return a0;
#else
  i64 ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
#endif
}

/* Output, buffered; flushed when full, by put_flush, and at exit. */
void put_char(char c);
void put_str(const char *s);
void put_u64(u64 v);
void put_i64(i64 v);
void put_hex(u64 v);            /* 0x-prefixed, no leading zeros */
void put_hex_width(u64 v, int digits);
void put_nl(void);
void put_flush(void);
void put_kv(const char *key, i64 value); /* "key=value\n" */
void put_kx(const char *key, u64 value); /* "key=0x...\n" */
__attribute__((noreturn)) void sys_exit(int code);

/* What the compiler may call even with -ffreestanding. */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

int main(int argc, char **argv);

#endif
