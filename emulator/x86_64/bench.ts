/**
 * Speed of the x86-64 interpreter, for `deno task bench`: millions of ring-3 instructions
 * per second of wall time on two loops, each in its own machine (the test bench of
 * testing.ts: 4-level paging, the loop's pages in the TLB after the first pass).
 *
 * - ALU: 32- and 64-bit register arithmetic, a compare and a conditional branch.
 * - memory: 64-bit loads and stores through 4-level paging over 64 KiB (16 pages, TLB
 *   hits), with the index arithmetic.
 *
 * Both loops become compiled blocks (jit.ts) after their first thousand iterations; the
 * figures are for the steady state after a warm-up run.
 *
 * Uses `performance.now()` (a web API, so the emulator stays browser-portable).
 *
 * @module
 */

import { RAX, RCX, RDI, RDX, RSI } from "./regs.ts";
import { bytes, X86TestBench } from "./testing.ts";

const CODE = 0x40_0000;
const DATA = 0x60_0000;

/**
 * The ALU loop, 5 instructions per iteration:
 *
 * ```
 * 1: add eax, ecx      01 c8
 *    xor edx, eax      31 c2
 *    add rbx, rdx      48 01 d3
 *    sub esi, 1        83 ee 01
 *    jnz 1b            75 f4
 *    int3              cc
 * ```
 */
const ALU_LOOP = bytes("01 c8 31 c2 48 01 d3 83 ee 01 75 f4 cc");

/**
 * The memory loop, 7 instructions per iteration:
 *
 * ```
 * 1: mov rax, [rdi+rcx*8]   48 8b 04 cf
 *    add rax, rdx           48 01 d0
 *    mov [rdi+rcx*8], rax   48 89 04 cf
 *    add ecx, 1             83 c1 01
 *    and ecx, 0x1fff        81 e1 ff 1f 00 00
 *    dec esi                ff ce
 *    jnz 1b                 75 e8
 *    int3                   cc
 * ```
 */
const MEM_LOOP = bytes(
  "48 8b 04 cf 48 01 d0 48 89 04 cf 83 c1 01 81 e1 ff 1f 00 00 ff ce 75 e8 cc",
);

function measure(
  code: Uint8Array,
  perIteration: number,
  iterations: number,
  data: boolean,
): number {
  const t = new X86TestBench({ memory: 8 * 2 ** 20 });
  t.code(CODE, code);
  if (data) t.mapUser(DATA, 0x10000, { exec: false });
  const r = t.cpu.regs;
  const run = (n: number) => {
    r[RAX] = 1n;
    r[RCX] = 0n;
    r[RDX] = 3n;
    r[RSI] = BigInt(n);
    r[RDI] = BigInt(DATA);
    const before = t.cpu.instret;
    const trap = t.runUser(CODE, { limitNs: n * perIteration * 2 + 1_000_000 });
    // The loop must end at its int3 after exactly n iterations: a broken loop measures nothing.
    if (trap.vector !== 3 || t.cpu.instret - before !== n * perIteration + 1) {
      throw new Error(
        `benchmark loop misbehaved: trap ${trap.vector} after ${t.cpu.instret - before} ` +
          `instructions, expected ${n * perIteration + 1}`,
      );
    }
  };
  run(Math.min(iterations, 200_000)); // warm up the JIT and the caches
  const before = t.cpu.instret;
  const start = performance.now();
  run(iterations);
  const ms = performance.now() - start;
  return (t.cpu.instret - before) / ms / 1000;
}

/** MIPS on the register ALU loop. */
export function measureAluMips(iterations = 10_000_000): number {
  return measure(ALU_LOOP, 5, iterations, false);
}

/** MIPS on the load/store loop through 4-level paging with TLB hits. */
export function measureMemMips(iterations = 5_000_000): number {
  return measure(MEM_LOOP, 7, iterations, true);
}
