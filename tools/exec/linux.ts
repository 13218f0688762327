/**
 * The Linux system calls the exec layer implements, and the signals it reports, shared by
 * every architecture's port. Numbers differ by architecture (each port passes its table);
 * behaviour and error codes do not.
 *
 * Implemented: write to fd 1 and 2 (others: -EBADF; an unreadable buffer: -EFAULT),
 * exit and exit_group. Everything else returns -ENOSYS, as a kernel without that call
 * would.
 *
 * @module
 */

/** errno values (include/uapi/asm-generic/errno-base.h, errno.h). */
export const EBADF = 9;
/** Bad address. */
export const EFAULT = 14;
/** Function not implemented. */
export const ENOSYS = 38;

/** The largest count one write transfers, as Linux's MAX_RW_COUNT. */
export const MAX_RW_COUNT = 0x7fff_f000;

/** An architecture's syscall numbers for the calls implemented here. */
export interface SyscallNumbers {
  /** write(fd, buf, count). */
  write: number;
  /** exit(status). */
  exit: number;
  /** exit_group(status). */
  exitGroup: number;
}

/** riscv64 (include/uapi/asm-generic/unistd.h). */
export const RISCV64_SYSCALLS: SyscallNumbers = { write: 64, exit: 93, exitGroup: 94 };
/** x86_64 (arch/x86/entry/syscalls/syscall_64.tbl). */
export const X86_64_SYSCALLS: SyscallNumbers = { write: 1, exit: 60, exitGroup: 231 };

/** Signal numbers (the same on both architectures) and their descriptions, as strsignal. */
export const SIGILL = 4;
/** Trace/breakpoint trap. */
export const SIGTRAP = 5;
/** Bus error (misaligned access). */
export const SIGBUS = 7;
/** Floating-point exception (x86-64 divide error). */
export const SIGFPE = 8;
/** Segmentation fault. */
export const SIGSEGV = 11;

/** What strsignal says of each signal. */
export const SIGNAL_NAMES: Readonly<Record<number, string>> = {
  4: "Illegal instruction",
  5: "Trace/breakpoint trap",
  7: "Bus error",
  8: "Floating point exception",
  11: "Segmentation fault",
};

/** User memory as the kernel reaches it: through the process's page tables. */
export interface UserMemory {
  /**
   * Copies up to `length` bytes from user address `va`, stopping at the first byte the
   * user could not read; returns what it copied (possibly nothing).
   */
  read(va: number, length: number): Uint8Array;
}

/** What a syscall did. */
export type SyscallOutcome =
  | { kind: "return"; value: bigint; name: string }
  | { kind: "exit"; status: number; name: string };

/** The process-wide state the syscalls act on. */
export class LinuxProcess {
  /** Builds a process with the port's syscall numbers, memory access and output sink. */
  constructor(
    readonly numbers: SyscallNumbers,
    readonly memory: UserMemory,
    readonly output: (fd: number, bytes: Uint8Array) => void,
  ) {}

  /** Performs syscall `nr` with the argument registers `args` (six of them). */
  syscall(nr: bigint, args: readonly bigint[]): SyscallOutcome {
    const n = this.numbers;
    switch (nr) {
      case BigInt(n.write):
        return { kind: "return", value: this.write(args[0], args[1], args[2]), name: "write" };
      case BigInt(n.exit):
      case BigInt(n.exitGroup):
        return {
          kind: "exit",
          status: Number(args[0] & 0xffn),
          name: nr === BigInt(n.exit) ? "exit" : "exit_group",
        };
      default:
        return { kind: "return", value: BigInt(-ENOSYS), name: `syscall ${nr}` };
    }
  }

  /** write(fd, buf, count): fd 1 and 2 only; a partial copy returns what was copied. */
  write(fd: bigint, buf: bigint, count: bigint): bigint {
    if (fd !== 1n && fd !== 2n) return BigInt(-EBADF);
    const n = BigInt.asUintN(64, count); // size_t
    const length = n > BigInt(MAX_RW_COUNT) ? MAX_RW_COUNT : Number(n);
    if (length === 0) return 0n;
    const va = BigInt.asIntN(64, buf);
    if (va < 0n || va >= 1n << 53n) return BigInt(-EFAULT);
    const bytes = this.memory.read(Number(va), length);
    if (bytes.length === 0) return BigInt(-EFAULT);
    this.output(Number(fd), bytes);
    return BigInt(bytes.length);
  }
}
