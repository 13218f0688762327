/**
 * Both boards, and {@link testBoth}: a kernel system test written once (as a function of a
 * {@link Board}) is registered for each, its name prefixed with the architecture
 * (`riscv64: faults: ...`, `x86_64: faults: ...`), so `deno test --filter x86_64:` runs one
 * board's tests.
 *
 * @module
 */

import type { Board, System } from "./board.ts";
import type { RiscvSystem } from "../../arch/riscv64/boot.ts";
import type { X86System } from "../../arch/x86_64/boot.ts";
import * as riscv64 from "./riscv64.ts";
import * as x86_64 from "./x86_64.ts";

/** The RISC-V `virt` board. */
export const RISCV64: Board<RiscvSystem> = riscv64;
/** The PC. */
export const X86_64: Board<X86System> = x86_64;

/** Every board the kernel runs on. */
export const BOARDS: readonly Board[] = [RISCV64, X86_64];

/** Registers the test `name` for every board: `fn` runs with that board. */
export function testBoth(name: string, fn: (board: Board<System>) => void): void {
  for (const board of BOARDS) Deno.test(`${board.name}: ${name}`, () => fn(board));
}
