/**
 * Benchmarks of the RV64 hart, for `deno task bench`: each builds its own machine, runs
 * a U-mode loop for a fixed number of instructions after a warm-up, and returns the
 * speed in millions of emulated instructions per second of host time (the best of five
 * segments).
 *
 * The host clock is a parameter (default `performance.now`, a web API): the emulator
 * itself never reads it, only these measurements of the emulator do.
 *
 * @module
 */

import { PageTables, RAM_BASE, RW_USER, RX_USER, Testbench } from "./testing.ts";

/** A host clock in milliseconds. */
export type HostClock = () => number;

const defaultClock: HostClock = () => performance.now();

/** Instructions in the measured part of a run (after a warm-up of a fifth of that). */
export const BENCH_INSTRUCTIONS = 50_000_000;

/** The integer ALU loop: additions, logic, shifts, a compare and a branch. */
const ALU_LOOP = `
    li t0, 0
    li t1, 1
  1:
    add t2, t0, t1
    xor t3, t2, t0
    slli t4, t3, 3
    srli t5, t4, 2
    and t6, t5, t2
    or a0, t6, t1
    sltu a1, a0, t2
    sub a2, a0, a1
    addi t0, t0, 1
    addi t1, t1, 3
    bne t0, zero, 1b`;

/** Loads and stores sweeping 64 KiB (sixteen pages, all TLB hits after the first pass). */
const MEM_LOOP = `
  1:
    mv a1, s0
    li a2, 4096
  2:
    ld t0, 0(a1)
    addi t0, t0, 1
    sd t0, 0(a1)
    ld t1, 8(a1)
    add t2, t2, t1
    sd t2, 8(a1)
    addi a1, a1, 16
    addi a2, a2, -1
    bnez a2, 2b
    j 1b`;

/**
 * Runs `tb` for a warm-up, then for `instructions` more in five segments, and returns the
 * MIPS of the fastest segment: the host may be busy with other work (tests run in
 * parallel), and the best segment is the closest to what the emulator can do.
 */
function measure(tb: Testbench, instructions: number, clock: HostClock): number {
  const h = tb.harts[0];
  let until = Math.floor(instructions / 5);
  tb.machine.run(until);
  let best = 0;
  for (let segment = 0; segment < 5; segment++) {
    const before = h.instret;
    const t0 = clock();
    until += instructions / 5;
    const stop = tb.machine.run(until);
    const t1 = clock();
    if (stop.kind !== "paused") {
      throw new Error(`benchmark stopped early: ${stop.kind} ${JSON.stringify(stop)}`);
    }
    best = Math.max(best, (h.instret - before) / ((t1 - t0) * 1000));
  }
  return best;
}

/** MIPS of the integer ALU loop in U-mode (Bare mode: no translation involved). */
export function measureAluMips(
  instructions = BENCH_INSTRUCTIONS,
  clock: HostClock = defaultClock,
): number {
  const tb = new Testbench();
  const code = tb.load(ALU_LOOP);
  tb.enterUser(0, code.entry);
  return measure(tb, instructions, clock);
}

/** MIPS of the load/store loop in U-mode through Sv48 page tables, hitting the TLB. */
export function measureMemMips(
  instructions = BENCH_INSTRUCTIONS,
  clock: HostClock = defaultClock,
): number {
  const tb = new Testbench();
  const pt = new PageTables(tb, 4, RAM_BASE + 0x80_0000);
  const codeVa = 0x40_0000, dataVa = 0x1000_0000;
  pt.map(codeVa, RAM_BASE, RX_USER);
  for (let page = 0; page < 16; page++) {
    pt.map(dataVa + page * 4096, RAM_BASE + 0x10_0000 + page * 4096, RW_USER);
  }
  tb.load(MEM_LOOP, codeVa, RAM_BASE);
  const h = tb.enterUser(0, codeVa, pt.satp(1));
  h.x[8] = BigInt(dataVa);
  return measure(tb, instructions, clock);
}

if (import.meta.main) {
  console.log(`ALU loop:          ${measureAluMips().toFixed(1)} MIPS`);
  console.log(`loads/stores Sv48: ${measureMemMips().toFixed(1)} MIPS`);
}
