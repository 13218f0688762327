/**
 * The demo programs' own system-call stubs. User space imports nothing from kernel/, arch/
 * or emulator/ (DESIGN.md), so the numbers of kernel/syscall/abi.ts are repeated here (a test
 * checks that they agree) and the CPU context a TypeScript program runs with is described
 * structurally: {@link SyscallContext} is the part of the emulator's `UserContext` these
 * programs use, generic in what a syscall yields, so a program written against it is an
 * emulator `UserProgram` without naming one.
 *
 * @module
 */

/** `debug_write(buf, len)`. */
export const SYS_DEBUG_WRITE = 1n;
/** `exit(status)`. */
export const SYS_EXIT = 2n;
/** `thread_exit()`. */
export const SYS_THREAD_EXIT = 3n;
/** `yield()`. */
export const SYS_YIELD = 4n;
/** `sleep(ns)`. */
export const SYS_SLEEP = 5n;
/** `time()`: ns. */
export const SYS_TIME = 6n;
/** `getpid()`. */
export const SYS_GETPID = 7n;
/** `gettid()`. */
export const SYS_GETTID = 8n;
/** `thread_create(entry, stack, arg)`. */
export const SYS_THREAD_CREATE = 9n;
/** `kill(pid)`. */
export const SYS_KILL = 10n;
/** `memstats(buf, len)`. */
export const SYS_MEMSTATS = 11n;
/** `log_read(buf, len)`. */
export const SYS_LOG_READ = 12n;
/** `set_priority(tid, class, level)`. */
export const SYS_SET_PRIORITY = 13n;

/** What a TypeScript program sees of its CPU (the emulator's UserContext, structurally). */
export interface SyscallContext<Y> {
  /** The argument registers when the thread started. */
  readonly args: readonly bigint[];
  /** The initial stack pointer. */
  readonly stackPointer: bigint;
  /** Makes a syscall: `const r = yield* ctx.syscall(nr, a, b)`. */
  syscall(nr: bigint, ...args: bigint[]): Generator<Y, bigint, void>;
  /** Copies bytes into user memory (through the MMU). */
  write(va: number, bytes: Uint8Array): void;
  /** Copies bytes out of user memory. */
  read(va: number, length: number): Uint8Array;
}

/** Scratch space for buffers, this far below the initial stack pointer. */
const SCRATCH_BELOW_SP = 2048;

/** Writes `text` through debug_write, from a buffer in the program's own stack memory. */
export function* print<Y>(ctx: SyscallContext<Y>, text: string): Generator<Y, bigint, void> {
  const bytes = new TextEncoder().encode(text);
  const buf = Number(ctx.stackPointer) - SCRATCH_BELOW_SP;
  ctx.write(buf, bytes);
  return yield* ctx.syscall(SYS_DEBUG_WRITE, BigInt(buf), BigInt(bytes.length));
}

/** Ends the program with `status`. */
export function* exit<Y>(ctx: SyscallContext<Y>, status: number): Generator<Y, void, void> {
  yield* ctx.syscall(SYS_EXIT, BigInt(status));
}
