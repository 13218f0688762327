/**
 * A thread's saved user state on RISC-V: what a context switch writes to the top of the
 * outgoing thread's kernel stack and reads back for the incoming one. In C it would be
 *
 * ```
 * struct user_regs {          // SAVE_AREA_SIZE = 272 bytes, ending at the stack's top
 *   u64 sstatus;              //   0  SPP and SPIE: how sret returns to the thread
 *   u64 x[31];                //   8  x1 (ra) .. x31 (t6), at 8 * n
 *   u64 sepc;                 // 256  where it resumes
 *   u64 pad;                  // 264  (keeps the stack 16-byte aligned)
 * };
 * ```
 *
 * x0 is not saved: it is always zero. A TypeScript thread's coroutine handle is in s11
 * (x27), so it is saved and restored with the rest, and the kernel cannot tell the threads
 * apart.
 *
 * @module
 */

import { CSR_SEPC, CSR_SSTATUS, SSTATUS_SPIE, SSTATUS_SPP } from "../../emulator/riscv64/csr.ts";
import type { Hart } from "../../emulator/riscv64/hart_api.ts";
import type { PhysMem } from "../../kernel/mm/phys.ts";

/** Bytes of `struct user_regs`. */
export const SAVE_AREA_SIZE = 272;
/** Offset of `sstatus`. */
export const SAVE_SSTATUS = 0;
/** Offset of `sepc`. */
export const SAVE_SEPC = 256;
/** Offset of register x`n` (1 to 31). */
export function saveX(n: number): number {
  return 8 * n;
}

/** The sstatus bits a thread's return depends on. */
const SAVED_STATUS = SSTATUS_SPP | SSTATUS_SPIE;

/** Writes a new thread's state: user mode at `entry`, sp = `stack`, a0 = `arg`, the rest 0. */
export function initUserRegs(
  mem: PhysMem,
  area: number,
  entry: bigint,
  stack: bigint,
  arg: bigint,
): void {
  mem.zero(area, SAVE_AREA_SIZE);
  mem.write(area + SAVE_SSTATUS, 8, SSTATUS_SPIE); // SPP = U; interrupts on after sret
  mem.write(area + saveX(2), 8, stack);
  mem.write(area + saveX(10), 8, arg);
  mem.write(area + SAVE_SEPC, 8, entry);
}

/** Saves the hart's user state (registers, sepc, SPP/SPIE) to `area`. */
export function saveUserRegs(hart: Hart, mem: PhysMem, area: number): void {
  mem.write(area + SAVE_SSTATUS, 8, hart.csrr(CSR_SSTATUS) & SAVED_STATUS);
  for (let n = 1; n < 32; n++) mem.write(area + saveX(n), 8, hart.x[n]);
  mem.write(area + SAVE_SEPC, 8, hart.csrr(CSR_SEPC));
}

/** Loads the user state saved at `area` into the hart, ready for `sret`. */
export function loadUserRegs(hart: Hart, mem: PhysMem, area: number): void {
  for (let n = 1; n < 32; n++) hart.x[n] = BigInt.asIntN(64, mem.read(area + saveX(n), 8));
  hart.csrw(CSR_SEPC, mem.read(area + SAVE_SEPC, 8));
  const saved = mem.read(area + SAVE_SSTATUS, 8);
  hart.csrc(CSR_SSTATUS, SAVED_STATUS & ~saved);
  hart.csrs(CSR_SSTATUS, saved & SAVED_STATUS);
}
