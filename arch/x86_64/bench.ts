/**
 * Benchmarks of the kernel on the PC, for `deno task bench`: wall time per null syscall and
 * per context switch, for machine-code and for TypeScript threads, and the wall time a boot
 * takes to the first user program's output. The same measurements as arch/riscv64/bench.ts,
 * so the two ports' figures compare.
 *
 * Each per-operation figure boots the system twice, with a program making `n` and `2n`
 * operations, and divides the difference in wall time by `n`: what boot and exit cost
 * cancels out. The best of three pairs is reported.
 *
 * The host clock is a parameter (default `performance.now`, a web API): the kernel and the
 * emulator never read it, only these measurements do.
 *
 * @module
 */

import type { UserProgram } from "../../emulator/core/user_program.ts";
import { bootSystem, type BuiltinProgram, X86_SUCCESS_STATUS } from "./boot.ts";

/** A host clock in milliseconds. */
export type HostClock = () => number;

const defaultClock: HostClock = () => performance.now();

/** Which kind of user thread to measure. */
export type ThreadKind = "machine" | "typescript";

/** Operations in the shorter run (the longer makes twice as many). */
export const BENCH_OPERATIONS = 20_000;

/** A machine-code loop making `n` syscalls `nr` through `syscall`, then exit. */
function asmLoop(nr: number, n: number): string {
  return `
_start:
    mov   r12, ${n}
.again:
    mov   eax, ${nr}
    syscall
    dec   r12
    jnz   .again
    xor   edi, edi
    mov   eax, 2
    syscall
`;
}

/** A TypeScript loop making `n` syscalls `nr`, then exit. */
function tsLoop(nr: bigint, n: number): UserProgram {
  return function* (ctx) {
    for (let i = 0; i < n; i++) yield* ctx.syscall(nr);
    yield* ctx.syscall(2n, 0n);
  };
}

function program(kind: ThreadKind, name: string, nr: number, n: number): BuiltinProgram {
  return kind === "machine"
    ? { name, assembly: asmLoop(nr, n) }
    : { name, typescript: tsLoop(BigInt(nr), n) };
}

/** Wall ms to boot and run `programs` to the end. */
function timeRun(programs: BuiltinProgram[], clock: HostClock): number {
  const sys = bootSystem({ programs, cmdline: "loglevel=warn" });
  const start = clock();
  const reason = sys.machine.run();
  const ms = clock() - start;
  if (reason.kind !== "shutdown" || reason.code !== X86_SUCCESS_STATUS) {
    throw new Error(`benchmark run ended with ${JSON.stringify(reason)}`);
  }
  return ms;
}

/** Nanoseconds per operation from runs with `n` and `2n` operations (best of `tries`). */
function perOperation(
  make: (n: number) => BuiltinProgram[],
  opsPerN: number,
  clock: HostClock,
  n: number,
  tries: number,
): number {
  timeRun(make(n), clock); // warm up
  let best = Infinity;
  for (let i = 0; i < tries; i++) {
    const diff = timeRun(make(2 * n), clock) - timeRun(make(n), clock);
    best = Math.min(best, (diff * 1e6) / (n * opsPerN));
  }
  return Math.max(0, best);
}

/**
 * Wall ns per null syscall (getpid) and return to the same thread: SYSCALL, the kernel's
 * dispatch, SYSRETQ.
 */
export function nullSyscallNs(
  kind: ThreadKind,
  clock = defaultClock,
  operations = BENCH_OPERATIONS,
  tries = 3,
): number {
  return perOperation((n) => [program(kind, "nullsys", 7, n)], 1, clock, operations, tries);
}

/**
 * Wall ns per context switch: two threads that `yield` to each other, each yield a SYSCALL,
 * a save of one thread's registers to its save area, a load of the other's, and SYSRETQ.
 */
export function contextSwitchNs(
  kind: ThreadKind,
  clock = defaultClock,
  operations = BENCH_OPERATIONS,
  tries = 3,
): number {
  return perOperation(
    (n) => [program(kind, "ping", 4, n), program(kind, "pong", 4, n)],
    2,
    clock,
    operations,
    tries,
  );
}

/** Wall ms from building the board to the first line a user program prints (the demo). */
export function bootMs(clock = defaultClock, tries = 3): number {
  let best = Infinity;
  for (let i = 0; i < tries; i++) {
    const start = clock();
    let text = "";
    const sys = bootSystem({ transmit: (b) => (text += String.fromCharCode(b)) });
    // Run in slices of 10 µs of virtual time until a program's line appears.
    for (let until = 10_000; !/\]: /.test(text) && !sys.machine.stopReason; until += 10_000) {
      sys.machine.run(until);
    }
    best = Math.min(best, clock() - start);
  }
  return best;
}
