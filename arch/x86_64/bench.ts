/**
 * Benchmarks of the kernel on the PC, for `deno task bench`: the measurements of
 * arch/common/bench.ts (null syscall and context switch, machine-code and TypeScript
 * threads; boot to the first output) on the PC, through SYSCALL and SYSRETQ, so the two
 * ports' figures compare.
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
import { bootSystem, X86_SUCCESS_STATUS } from "./boot.ts";

export { BENCH_OPERATIONS };
export type { HostClock, ThreadKind };

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

const bench = kernelBench({
  boot: bootSystem,
  syscallLoop: asmLoop,
  successCode: X86_SUCCESS_STATUS,
});

/**
 * Wall ns per null syscall (getpid) and return to the same thread: SYSCALL, the kernel's
 * dispatch, SYSRETQ.
 */
export const nullSyscallNs: KernelBench["nullSyscallNs"] = bench.nullSyscallNs;

/**
 * Wall ns per context switch: two threads that `yield` to each other, each yield a SYSCALL,
 * a save of one thread's registers to its save area, a load of the other's, and SYSRETQ.
 */
export const contextSwitchNs: KernelBench["contextSwitchNs"] = bench.contextSwitchNs;

/** Wall ms from building the board to the first line a user program prints (the demo). */
export const bootMs: KernelBench["bootMs"] = bench.bootMs;
