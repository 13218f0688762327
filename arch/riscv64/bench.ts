/**
 * Benchmarks of the kernel on RISC-V, for `deno task bench`: the measurements of
 * arch/common/bench.ts (null syscall and context switch, machine-code and TypeScript
 * threads; boot to the first output) on the virt board, through `ecall` and `sret`.
 *
 * @module
 */

import {
  BENCH_OPERATIONS,
  type HostClock,
  type KernelBench,
  kernelBench,
  type ThreadKind,
} from "../common/bench.ts";
import { bootSystem } from "./boot.ts";

export { BENCH_OPERATIONS };
export type { HostClock, ThreadKind };

/** A machine-code loop making `n` syscalls `nr`, then exit. */
function asmLoop(nr: number, n: number): string {
  return `
    li    s1, ${n}
1:  li    a7, ${nr}
    ecall
    addi  s1, s1, -1
    bnez  s1, 1b
    li    a0, 0
    li    a7, 2
    ecall
`;
}

const bench = kernelBench({ boot: bootSystem, syscallLoop: asmLoop, successCode: 0 });

/**
 * Wall ns per null syscall (getpid) and return to the same thread: the trap, the kernel's
 * dispatch, `sret`.
 */
export const nullSyscallNs: KernelBench["nullSyscallNs"] = bench.nullSyscallNs;

/**
 * Wall ns per context switch: two threads that `yield` to each other, each yield a trap, a
 * save of one thread's registers to its save area and a load of the other's.
 */
export const contextSwitchNs: KernelBench["contextSwitchNs"] = bench.contextSwitchNs;

/** Wall ms from building the board to the first line a user program prints (the demo). */
export const bootMs: KernelBench["bootMs"] = bench.bootMs;
