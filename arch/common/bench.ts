/**
 * The kernel benchmarks both ports run for `deno task bench` (arch/riscv64/bench.ts,
 * arch/x86_64/bench.ts): wall time per null syscall and per context switch, for machine-code
 * and for TypeScript threads, and the wall time a boot takes to the first user program's
 * output. The same measurements on both, so the two ports' figures compare.
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

import type { StopReason } from "../../emulator/core/machine.ts";
import type { UserProgram } from "../../emulator/core/user_program.ts";
import type { BootOptions, BuiltinProgram } from "./boot.ts";

/** A host clock in milliseconds. */
export type HostClock = () => number;

const defaultClock: HostClock = () => performance.now();

/** Which kind of user thread to measure. */
export type ThreadKind = "machine" | "typescript";

/** Operations in the shorter run (the longer makes twice as many). */
export const BENCH_OPERATIONS = 20_000;

/** What a port gives the benchmarks. */
export interface BenchPort {
  /** Boots its board with `options`. */
  boot(options: BootOptions): {
    machine: { run(untilNs?: number): StopReason; readonly stopReason: StopReason | undefined };
  };
  /** Machine code making `n` system calls `nr` through the fast channel, then exiting 0. */
  syscallLoop(nr: number, n: number): string;
  /** The power-off code of a clean shutdown. */
  successCode: number;
}

/** The benchmarks, measured on one port. */
export interface KernelBench {
  /**
   * Wall ns per null syscall (getpid) and return to the same thread: the trap, the kernel's
   * dispatch, the return.
   */
  nullSyscallNs(kind: ThreadKind, clock?: HostClock, operations?: number, tries?: number): number;
  /**
   * Wall ns per context switch: two threads that `yield` to each other, each yield a trap, a
   * save of one thread's registers to its save area, a load of the other's, and the return.
   */
  contextSwitchNs(
    kind: ThreadKind,
    clock?: HostClock,
    operations?: number,
    tries?: number,
  ): number;
  /** Wall ms from building the board to the first line a user program prints (the demo). */
  bootMs(clock?: HostClock, tries?: number): number;
}

/** A TypeScript loop making `n` syscalls `nr`, then exit. */
function tsLoop(nr: bigint, n: number): UserProgram {
  return function* (ctx) {
    for (let i = 0; i < n; i++) yield* ctx.syscall(nr);
    yield* ctx.syscall(2n, 0n);
  };
}

/** The benchmarks on `port`. */
export function kernelBench(port: BenchPort): KernelBench {
  const program = (kind: ThreadKind, name: string, nr: number, n: number): BuiltinProgram =>
    kind === "machine"
      ? { name, assembly: port.syscallLoop(nr, n) }
      : { name, typescript: tsLoop(BigInt(nr), n) };

  /** Wall ms to boot and run `programs` to the end. */
  const timeRun = (programs: BuiltinProgram[], clock: HostClock): number => {
    const sys = port.boot({ programs, cmdline: "loglevel=warn" });
    const start = clock();
    const reason = sys.machine.run();
    const ms = clock() - start;
    if (reason.kind !== "shutdown" || reason.code !== port.successCode) {
      throw new Error(`benchmark run ended with ${JSON.stringify(reason)}`);
    }
    return ms;
  };

  /** Nanoseconds per operation from runs with `n` and `2n` operations (best of `tries`). */
  const perOperation = (
    make: (n: number) => BuiltinProgram[],
    opsPerN: number,
    clock: HostClock,
    n: number,
    tries: number,
  ): number => {
    timeRun(make(n), clock); // warm up
    let best = Infinity;
    for (let i = 0; i < tries; i++) {
      const diff = timeRun(make(2 * n), clock) - timeRun(make(n), clock);
      best = Math.min(best, (diff * 1e6) / (n * opsPerN));
    }
    return Math.max(0, best);
  };

  return {
    nullSyscallNs(kind, clock = defaultClock, operations = BENCH_OPERATIONS, tries = 3) {
      return perOperation((n) => [program(kind, "nullsys", 7, n)], 1, clock, operations, tries);
    },

    contextSwitchNs(kind, clock = defaultClock, operations = BENCH_OPERATIONS, tries = 3) {
      return perOperation(
        (n) => [program(kind, "ping", 4, n), program(kind, "pong", 4, n)],
        2,
        clock,
        operations,
        tries,
      );
    },

    bootMs(clock = defaultClock, tries = 3) {
      let best = Infinity;
      for (let i = 0; i < tries; i++) {
        const start = clock();
        let text = "";
        const sys = port.boot({ transmit: (b) => (text += String.fromCharCode(b)) });
        // Run in slices of 10 µs of virtual time until a program's line appears.
        for (let until = 10_000; !/\]: /.test(text) && !sys.machine.stopReason; until += 10_000) {
          sys.machine.run(until);
        }
        best = Math.min(best, clock() - start);
      }
      return best;
    },
  };
}
