/**
 * Traps into S-mode, `sret` back out, and which interrupt is taken first.
 *
 * Trap entry (§10.1.1, §10.1.2, §10.1.7 to §10.1.9): sepc = the pc of the instruction
 * (or, for an interrupt, of the instruction that had not yet run); scause = the code, with
 * bit 63 set for an interrupt; stval = the faulting address, the instruction bits, or 0;
 * sstatus.SPP = the privilege the trap came from, SPIE = SIE, SIE = 0; the hart enters
 * S-mode at stvec.BASE, or at BASE + 4 × cause for an interrupt in vectored mode. An LR
 * reservation does not survive a trap.
 *
 * S-mode is the hosted kernel, so the new pc must be a registered kernel entry: if it is
 * not, the machine stops with a message naming the trap, stvec and the address (the
 * hardware would fetch garbage there).
 *
 * @module
 */

import { hex } from "../core/memory.ts";
import {
  EXCEPTION_NAMES,
  INTERRUPT_NAMES,
  IRQ_S_EXT,
  IRQ_S_SOFT,
  IRQ_S_TIMER,
  SCAUSE_INTERRUPT,
  STVEC_MODE_VECTORED,
} from "./csr.ts";
import { PRIV_S, PRIV_U } from "./hart_api.ts";
import type { RiscvHart } from "./hart.ts";
import { SIE_BIT, SPIE_BIT, SPP_BIT } from "./csrs.ts";

/** The name of a cause, for messages: "load page fault", "supervisor timer interrupt". */
export function causeName(code: number, interrupt: boolean): string {
  return (interrupt ? INTERRUPT_NAMES : EXCEPTION_NAMES)[code] ??
    `${interrupt ? "interrupt" : "exception"} ${code}`;
}

/**
 * Takes a trap into S-mode. `epc` is the address for sepc (unsigned). Returns false when
 * the machine stopped because stvec leads to no kernel entry.
 */
export function takeTrap(
  h: RiscvHart,
  code: number,
  interrupt: boolean,
  tval: bigint,
  epc: bigint,
): boolean {
  h.scause = interrupt ? SCAUSE_INTERRUPT | BigInt(code) : BigInt(code);
  h.sepc = epc & ~1n;
  h.stval = BigInt.asUintN(64, tval);
  let s = h.sstatus & ~(SPP_BIT | SPIE_BIT | SIE_BIT);
  if (h.priv === PRIV_S) s |= SPP_BIT;
  if (h.sstatus & SIE_BIT) s |= SPIE_BIT;
  h.sstatus = s;
  const from = h.priv;
  h.priv = PRIV_S;
  h.reservations.release(h.index);
  const base = h.stvec & ~3n;
  const vectored = Number(h.stvec & 3n) === STVEC_MODE_VECTORED;
  const target = BigInt.asUintN(64, interrupt && vectored ? base + 4n * BigInt(code) : base);
  h.setPc(target);
  h.entryVia = `stvec`;
  if (h.inEntry) h.left = true;
  const m = h.machine;
  if (m.trace.trap) {
    m.trace.emit("trap", h.index, {
      cause: causeName(code, interrupt),
      scause: hex(h.scause),
      sepc: hex(h.sepc),
      stval: hex(h.stval),
      from: from === PRIV_U ? "U" : "S",
      to: hex(target),
    });
  }
  if (!m.kernelText.lookup(target)) {
    m.fail(
      h.index,
      `${causeName(code, interrupt)} (scause ${hex(h.scause)}) at sepc ${hex(h.sepc)}: ` +
        `stvec = ${hex(h.stvec)} sends it to ${hex(target)}, where no kernel code is ` +
        `registered (check the value written to stvec against the kernel's trap entry)`,
    );
    return false;
  }
  return true;
}

/**
 * The interrupt to take now, or -1: pending in sip, enabled in sie, and either the hart
 * is in U-mode or sstatus.SIE = 1. Priority SEI > SSI > STI (§10.1.3).
 */
export function pendingInterrupt(h: RiscvHart): number {
  const p = h.sipValue() & h.sie;
  if (p === 0) return -1;
  if (h.priv === PRIV_S && (h.sstatus & SIE_BIT) === 0) return -1;
  if (p & (1 << IRQ_S_EXT)) return IRQ_S_EXT;
  if (p & (1 << IRQ_S_SOFT)) return IRQ_S_SOFT;
  return IRQ_S_TIMER;
}

/** Takes interrupt `irq` at the current pc. */
export function takeInterrupt(h: RiscvHart, irq: number): boolean {
  if (h.machine.trace.interrupt) {
    h.machine.trace.emit("interrupt", h.index, {
      taken: causeName(irq, true),
      at: hex(h.pc),
      from: h.priv === PRIV_U ? "U" : "S",
    });
  }
  return takeTrap(h, irq, true, 0n, h.pc);
}

/** `sret` (§10.1.1, §3.3.2): pc = sepc, priv = SPP, SIE = SPIE, SPIE = 1, SPP = U. */
export function sret(h: RiscvHart): void {
  const s = h.sstatus;
  const to = s & SPP_BIT ? PRIV_S : PRIV_U;
  let n = s & ~(SPP_BIT | SIE_BIT);
  if (s & SPIE_BIT) n |= SIE_BIT;
  n |= SPIE_BIT;
  h.sstatus = n;
  h.priv = to;
  h.setPc(h.sepc);
  h.entryVia = "sepc (sret to S-mode)";
  if (h.inEntry) h.left = true;
  if (h.machine.trace.kernel) {
    h.machine.trace.emit("kernel", h.index, {
      sret: to === PRIV_U ? "U" : "S",
      pc: hex(h.sepc),
    });
  }
}
