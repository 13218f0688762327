/**
 * The system-call numbering and error codes: one table for both architectures. The register
 * ABI (which registers carry the number, the arguments and the results) is in
 * kernel/README.md, "System calls"; this file holds the numbers it refers to.
 *
 * User space (servers/) cannot import this file (DESIGN.md: servers import nothing from
 * kernel/); its stubs repeat the numbers, and tests/kernel/abi_test.ts checks that they agree.
 *
 * Results: a non-negative value on success, a negative error code on failure. The error
 * codes are Linux's errno values, negated, so that a student who knows one knows the other.
 *
 * @module
 */

/** `debug_write(buf, len)`: writes `len` bytes at `buf` to the console and kernel log. */
export const SYS_DEBUG_WRITE = 1;
/** `exit(status)`: ends the calling process (every thread); does not return. */
export const SYS_EXIT = 2;
/** `thread_exit()`: ends the calling thread; the last thread's exit ends the process (0). */
export const SYS_THREAD_EXIT = 3;
/** `yield()`: goes to the back of its priority level; returns 0. */
export const SYS_YIELD = 4;
/** `sleep(ns)`: blocks for at least `ns` nanoseconds of virtual time; returns 0. */
export const SYS_SLEEP = 5;
/** `time()`: nanoseconds of virtual time since the machine started. */
export const SYS_TIME = 6;
/** `getpid()`: the calling process's id. */
export const SYS_GETPID = 7;
/** `gettid()`: the calling thread's id. */
export const SYS_GETTID = 8;
/**
 * `thread_create(entry, stack, arg)`: a new thread in the caller's process, starting at
 * `entry` with stack pointer `stack` and `arg` in the first argument register, with the
 * caller's class and priority. Returns its tid.
 */
export const SYS_THREAD_CREATE = 9;
/** `kill(pid)`: ends process `pid` (status {@link EXIT_KILLED}); returns 0. */
export const SYS_KILL = 10;
/** `memstats(buf, len)`: copies up to `len` bytes of {@link MemStats} to `buf`; returns bytes. */
export const SYS_MEMSTATS = 11;
/** `log_read(buf, len)`: copies the newest `len` bytes of the kernel log; returns bytes. */
export const SYS_LOG_READ = 12;
/**
 * `set_priority(tid, class, level)`: moves thread `tid` of the caller's process to
 * scheduling class `class` (0 realtime, 1 high, 2 normal, 3 idle) and `level` (0 highest
 * to 254). Returns 0.
 */
export const SYS_SET_PRIORITY = 13;

/** The names of the calls, for traces and the kernel log. */
export const SYSCALL_NAMES: Readonly<Record<number, string>> = {
  [SYS_DEBUG_WRITE]: "debug_write",
  [SYS_EXIT]: "exit",
  [SYS_THREAD_EXIT]: "thread_exit",
  [SYS_YIELD]: "yield",
  [SYS_SLEEP]: "sleep",
  [SYS_TIME]: "time",
  [SYS_GETPID]: "getpid",
  [SYS_GETTID]: "gettid",
  [SYS_THREAD_CREATE]: "thread_create",
  [SYS_KILL]: "kill",
  [SYS_MEMSTATS]: "memstats",
  [SYS_LOG_READ]: "log_read",
  [SYS_SET_PRIORITY]: "set_priority",
};

// ---- error codes (negated Linux errno values) -------------------------------------------

/** No such process or thread. */
export const E_SRCH: number = -3;
/** Out of memory. */
export const E_NOMEM: number = -12;
/** A pointer argument is not mapped user-accessible with the permission the call needs. */
export const E_FAULT: number = -14;
/** An argument is out of range. */
export const E_INVAL: number = -22;
/** No system call has this number. */
export const E_NOSYS: number = -38;

/** The exit status the kernel records for a process ended by `kill`. */
export const EXIT_KILLED: number = -9;
/** The exit status the kernel records for a process whose last thread it killed on a fault. */
export const EXIT_FAULTED: number = -11;

/** The most bytes one `debug_write` takes; a longer write is partial. */
export const DEBUG_WRITE_MAX = 4096;

// ---- memstats -------------------------------------------------------------------------

/**
 * What `memstats` copies out: little-endian u64 fields, in this order.
 *
 * ```
 * struct memstats {              // MEMSTATS_SIZE = 96 bytes
 *   u64 total_bytes;             //  0  usable RAM the PMM manages
 *   u64 free_bytes;              //  8  free now
 *   u64 allocated_frames;        // 16  frames handed out and not freed
 *   u64 free_runs;               // 24  runs on the PMM's free stack
 *   u64 page_table_frames;       // 32  frames holding page tables
 *   u64 kernel_stack_frames;     // 40  frames of kernel stacks
 *   u64 heap_frames;             // 48  frames held by the kernel heap (slabs, blocks)
 *   u64 user_frames;             // 56  frames mapped into user address spaces
 *   u64 heap_objects;            // 64  kernel objects allocated and not freed
 *   u64 processes;               // 72  live processes
 *   u64 threads;                 // 80  live threads (idle threads not counted)
 *   u64 address_spaces;          // 88  live user address spaces
 * };
 * ```
 */
export const MEMSTATS_FIELDS = [
  "totalBytes",
  "freeBytes",
  "allocatedFrames",
  "freeRuns",
  "pageTableFrames",
  "kernelStackFrames",
  "heapFrames",
  "userFrames",
  "heapObjects",
  "processes",
  "threads",
  "addressSpaces",
] as const;

/** Size of `struct memstats`. */
export const MEMSTATS_SIZE = MEMSTATS_FIELDS.length * 8;

/** `struct memstats`, as the kernel fills it in. */
export type MemStats = Record<(typeof MEMSTATS_FIELDS)[number], number>;

/** Encodes `stats` as `struct memstats`. */
export function encodeMemStats(stats: MemStats): Uint8Array {
  const bytes = new Uint8Array(MEMSTATS_SIZE);
  const dv = new DataView(bytes.buffer);
  MEMSTATS_FIELDS.forEach((f, i) => dv.setBigUint64(i * 8, BigInt(stats[f]), true));
  return bytes;
}

/** Decodes `struct memstats` (for tests and tools). */
export function decodeMemStats(bytes: Uint8Array): MemStats {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = {} as MemStats;
  MEMSTATS_FIELDS.forEach((f, i) => (out[f] = Number(dv.getBigUint64(i * 8, true))));
  return out;
}

/** Scheduling classes by their number in `set_priority`, highest first. */
export const SCHED_CLASS_NUMBERS = ["realtime", "high", "normal", "idle"] as const;
