/**
 * The rules of the hart's CSRs: who may access each one, and what a write keeps (WARL).
 * Both the U-mode `csrrw`/`csrrs`/`csrrc` instructions (interp.ts) and the hosted
 * kernel's `csrr`/`csrw`/`csrs`/`csrc` (hart.ts) come here.
 *
 * Access (§2.1): bits 9:8 of the CSR number are the lowest privilege that may access it,
 * and bits 11:10 = 11 mark it read-only. U-mode may read only `cycle`, `time` and
 * `instret`, and each only when its scounteren bit is set (the firmware's mcounteren is
 * taken to allow all three). Anything else is an illegal instruction.
 *
 * What writes keep:
 *
 * | CSR        | writable                                | reads as                      |
 * | ---------- | --------------------------------------- | ----------------------------- |
 * | sstatus    | SIE, SPIE, SPP, SUM, MXR                | those, UXL = 2 (64-bit)       |
 * | sie        | SSIE, STIE, SEIE                        |                               |
 * | sip        | SSIP                                    | SSIP, STIP, SEIP              |
 * | stvec      | BASE and MODE 0/1; MODE 2/3 ignored     | the last legal value          |
 * | scounteren | CY, TM, IR                              |                               |
 * | senvcfg    | FIOM (no effect: memory is SC here)     |                               |
 * | sepc       | bits 63:1 (bit 0 reads 0, IALIGN = 16)  |                               |
 * | satp       | Bare, Sv39, Sv48; another MODE: ignored |                               |
 * | stimecmp   | all 64 bits (Sstc)                      |                               |
 * | cycle      | read-only                               | virtual ns (a 1 GHz clock)    |
 * | time       | read-only                               | ns / 100 (TIMEBASE_HZ 10 MHz) |
 * | instret    | read-only                               | instructions retired          |
 *
 * A write of an unsupported stvec MODE leaves stvec unchanged, as QEMU does; a write of
 * an unsupported satp MODE leaves satp unchanged, as §10.1.11 requires.
 *
 * @module
 */

import {
  CSR_CYCLE,
  CSR_INSTRET,
  CSR_SATP,
  CSR_SCAUSE,
  CSR_SCOUNTEREN,
  CSR_SENVCFG,
  CSR_SEPC,
  CSR_SIE,
  CSR_SIP,
  CSR_SSCRATCH,
  CSR_SSTATUS,
  CSR_STIMECMP,
  CSR_STVAL,
  CSR_STVEC,
  CSR_TIME,
  NS_PER_TICK,
  SATP_MODE_SHIFT,
  SCOUNTEREN_CY,
  SCOUNTEREN_IR,
  SCOUNTEREN_TM,
  SENVCFG_FIOM,
  SSTATUS_UXL_64,
  STVEC_MODE_VECTORED,
} from "./csr.ts";
import type { RiscvHart } from "./hart.ts";
import { levelsOf } from "./mmu.ts";

/** sstatus.SIE, as a bit of the number the hart keeps sstatus in. */
export const SIE_BIT = 1 << 1;
/** sstatus.SPIE. */
export const SPIE_BIT = 1 << 5;
/** sstatus.SPP (0: the trap came from U-mode). */
export const SPP_BIT = 1 << 8;
/** sstatus.SUM. */
export const SUM_BIT = 1 << 18;
/** sstatus.MXR. */
export const MXR_BIT = 1 << 19;
/** The writable sstatus bits. */
export const SSTATUS_WRITABLE = SIE_BIT | SPIE_BIT | SPP_BIT | SUM_BIT | MXR_BIT;
/** The writable sie bits: SSIE, STIE, SEIE. */
export const SIE_WRITABLE = (1 << 1) | (1 << 5) | (1 << 9);

/** Whether `priv` may access `csr` at all (bits 9:8 of the number, §2.1). */
function privilegeAllows(csr: number, priv: number): boolean {
  return ((csr >> 8) & 3) <= priv;
}

/** Whether `csr` is read-only (bits 11:10 = 11). */
export function isReadOnlyCsr(csr: number): boolean {
  return ((csr >> 10) & 3) === 3;
}

/** Reads `csr` at privilege `priv`; undefined when that is an illegal instruction. */
export function csrRead(h: RiscvHart, csr: number, priv: number): bigint | undefined {
  if (!privilegeAllows(csr, priv)) return undefined;
  switch (csr) {
    case CSR_CYCLE:
      return counterAllowed(h, priv, SCOUNTEREN_CY) ? BigInt(h.timeNs) : undefined;
    case CSR_TIME:
      return counterAllowed(h, priv, SCOUNTEREN_TM)
        ? BigInt(Math.floor(h.timeNs / NS_PER_TICK))
        : undefined;
    case CSR_INSTRET:
      return counterAllowed(h, priv, SCOUNTEREN_IR) ? BigInt(h.instret) : undefined;
    case CSR_SSTATUS:
      return BigInt(h.sstatus) | SSTATUS_UXL_64;
    case CSR_SIE:
      return BigInt(h.sie);
    case CSR_SIP:
      return BigInt(h.sipValue());
    case CSR_STVEC:
      return h.stvec;
    case CSR_SCOUNTEREN:
      return BigInt(h.scounteren);
    case CSR_SENVCFG:
      return h.senvcfg;
    case CSR_SSCRATCH:
      return h.sscratch;
    case CSR_SEPC:
      return h.sepc;
    case CSR_SCAUSE:
      return h.scause;
    case CSR_STVAL:
      return h.stval;
    case CSR_STIMECMP:
      return h.stimecmp;
    case CSR_SATP:
      return h.satp;
    default:
      return undefined;
  }
}

function counterAllowed(h: RiscvHart, priv: number, bit: number): boolean {
  return priv > 0 || (h.scounteren & bit) !== 0;
}

/**
 * Writes `value` to `csr` at privilege `priv`, keeping what the hardware keeps. Returns
 * false when the write is an illegal instruction (no such CSR, too little privilege, or
 * read-only).
 */
export function csrWrite(h: RiscvHart, csr: number, value: bigint, priv: number): boolean {
  if (!privilegeAllows(csr, priv) || isReadOnlyCsr(csr)) return false;
  const v = BigInt.asUintN(64, value);
  const low = Number(v & 0xffff_ffffn);
  switch (csr) {
    case CSR_SSTATUS:
      h.sstatus = low & SSTATUS_WRITABLE;
      return true;
    case CSR_SIE:
      h.sie = low & SIE_WRITABLE;
      return true;
    case CSR_SIP:
      h.sipSoft = low & (1 << 1); // only SSIP is writable; STIP and SEIP come from outside
      return true;
    case CSR_STVEC:
      if (Number(v & 3n) <= STVEC_MODE_VECTORED) h.stvec = v;
      return true;
    case CSR_SCOUNTEREN:
      h.scounteren = low & (SCOUNTEREN_CY | SCOUNTEREN_TM | SCOUNTEREN_IR);
      return true;
    case CSR_SENVCFG:
      h.senvcfg = v & SENVCFG_FIOM;
      return true;
    case CSR_SSCRATCH:
      h.sscratch = v;
      return true;
    case CSR_SEPC:
      h.sepc = v & ~1n;
      return true;
    case CSR_SCAUSE:
      h.scause = v;
      return true;
    case CSR_STVAL:
      h.stval = v;
      return true;
    case CSR_STIMECMP:
      h.setStimecmp(v);
      return true;
    case CSR_SATP: {
      const mode = Number(v >> SATP_MODE_SHIFT);
      const levels = levelsOf(mode);
      if (mode !== 0 && levels === 0) return true; // unsupported MODE: the write is ignored
      h.setSatp(v, levels);
      return true;
    }
    default:
      return false;
  }
}
