/**
 * Memory accesses through the MMU: the TLB in front of the page-table walk, and the
 * complete (slow) paths of fetches, loads and stores that the interpreter's fast path
 * falls back to, that the hosted kernel's `load`/`store` use, and that TypeScript user
 * programs' `ctx` accesses use.
 *
 * Order of checks for a data access, as the privileged specification ranks them (§3.1.15,
 * Table 3.7, with misaligned accesses never emulated): address misaligned, then page fault
 * (from the walk, or from a TLB entry that no longer allows the access), then access fault
 * (the physical address holds nothing, or a device refuses).
 *
 * A TLB hit whose permissions refuse the access is dropped and the page walked again
 * before a fault is raised, as QEMU does: a kernel that upgrades a PTE (sets W, or D) in
 * its fault handler sees the upgrade without an `sfence.vma`, while a downgrade (or a
 * remap) stays invisible until the fence, which is the stale behaviour kernels must
 * handle.
 *
 * Pages of RAM are reached through the RAM buffer directly; everything else (device
 * registers, and RAM beyond the first 2 GiB of the buffer, which the fast path's int32
 * offset arithmetic cannot reach) goes through `bus.read`/`bus.write`, and instructions
 * there are fetched one at a time.
 *
 * @module
 */

import { readRam, writeRam } from "../core/bus.ts";
import { CpuFault } from "../core/hosted.ts";
import { hex } from "../core/memory.ts";
import {
  EXC_INST_ACCESS,
  EXC_LOAD_MISALIGNED,
  EXC_STORE_MISALIGNED,
  PTE_A,
  PTE_D,
  PTE_R,
  PTE_U,
  PTE_V,
  PTE_W,
  PTE_X,
} from "./csr.ts";
import { MXR_BIT, SUM_BIT } from "./csrs.ts";
import type { Access, Privilege, Translation, WalkStep } from "./hart_api.ts";
import type { RiscvHart } from "./hart.ts";
import {
  ACCESS_EXECUTE,
  ACCESS_READ,
  ACCESS_WRITE,
  accessFaultCode,
  explainWalk,
  isCanonical,
  newWalkOut,
  permissionCheck,
  walk,
  WalkReason,
} from "./mmu.ts";
import { type Tlb, TLB_BARE, TLB_GLOBAL, TLB_IO } from "./tlb.ts";
import { takeTrap } from "./trap.ts";

/** RAM-buffer offsets the fast path handles (int32 arithmetic: below 2 GiB). */
const FAST_RAM_LIMIT = 2 ** 31;
/** The permissions of an identity entry in Bare mode: everything. */
const PERM_ALL = PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D;
/** 2^53: numbers hold integers exactly below it. */
export const TWO53 = 2n ** 53n;
/** Physical addresses are 56 bits (§10.3.2: PPN is 44 bits). */
const PA_LIMIT = 2 ** 56;

/** Why the last access failed, beyond its code (for messages). */
export enum FaultSource {
  /** The page-table walk (or a TLB entry) refused it: see `walkOut`. */
  Walk,
  /** The physical address holds nothing, or the device refused. */
  Physical,
  /** The address is not aligned to the access size. */
  Misaligned,
  /** An instruction fetch from a device. */
  FetchFromDevice,
  /** LR, SC or an AMO on something that is not RAM. */
  AtomicNotRam,
  /** Bare mode: the address is beyond the 56-bit physical address space. */
  BeyondPhysical,
}

/** Names of the access kinds for messages. */
const KIND_WORDS = ["load", "store", "fetch"];

/**
 * Translates signed virtual address `va` for a `kind` access by `priv`: TLB first, walk
 * on a miss. Returns -1 and sets `h.xlatOff`/`h.xlatPa`, or returns the exception code
 * and sets `h.faultSource` (and `h.walkOut` for a walk fault).
 */
export function translate(h: RiscvHart, va: number, kind: number, priv: number): number {
  const tlb = kind === ACCESS_EXECUTE ? h.itlb : h.dtlb;
  const page = va - (va & 4095);
  if (h.satpLevels === 0) {
    if (!(va >= 0 && va < PA_LIMIT)) {
      h.faultSource = FaultSource.BeyondPhysical;
      return accessFaultCode(kind);
    }
    let i = tlb.lookup(page, TLB_BARE, TLB_BARE);
    if (i < 0) i = fillPage(h, tlb, page, TLB_BARE, PERM_ALL, 0, page);
    return finish(h, tlb, i, va);
  }
  const sum = (h.sstatus & SUM_BIT) !== 0, mxr = (h.sstatus & MXR_BIT) !== 0;
  let i = tlb.lookup(page, h.tlbAsid, TLB_GLOBAL);
  if (i >= 0) {
    const perm = tlb.perm[i] & 0xff;
    if (
      permissionCheck(perm, kind, priv, sum, mxr) === WalkReason.Ok && (perm & PTE_A) &&
      (kind !== ACCESS_WRITE || (perm & PTE_D))
    ) {
      return finish(h, tlb, i, va);
    }
    tlb.drop(i); // walk again before faulting (see the module comment)
  }
  const out = h.walkOut;
  const m = h.machine;
  const traced = m.trace.walk ? { trace: m.trace, cpu: h.index } : undefined;
  if (!walk(m.bus, h.satpLevels, h.satpPpn, va, kind, priv, sum, mxr, out, undefined, traced)) {
    h.faultSource = FaultSource.Walk;
    return out.fault;
  }
  const asid = out.global ? TLB_GLOBAL : h.satpAsid;
  i = fillPage(h, tlb, page, asid, out.perm, out.level, out.pa - (va - page));
  return finish(h, tlb, i, va);
}

/** Fills the TLB entry for the page at `pagePa`, deciding whether it is fast RAM. */
function fillPage(
  h: RiscvHart,
  tlb: Tlb,
  pageVa: number,
  asid: number,
  perm: number,
  level: number,
  pagePa: number,
): number {
  const off = h.machine.bus.ramOffset(pagePa, 4096);
  let delta = NaN;
  if (off >= 0 && off + 4096 <= FAST_RAM_LIMIT && off % 8 === 0) delta = off - pageVa;
  else perm |= TLB_IO;
  const i = tlb.fill(pageVa, asid, perm, delta, pagePa - pageVa, level);
  const trace = h.machine.trace;
  if (trace.tlb) {
    trace.emit("tlb", h.index, {
      op: "fill",
      tlb: tlb === h.itlb ? "fetch" : "data",
      va: hex(BigInt.asUintN(64, BigInt(pageVa))),
      pa: hex(pagePa),
      asid: asid === TLB_GLOBAL ? "global" : asid === TLB_BARE ? "bare" : asid,
      level,
    });
  }
  return i;
}

function finish(h: RiscvHart, tlb: Tlb, i: number, va: number): number {
  h.xlatPa = va + tlb.paDelta[i];
  h.xlatOff = tlb.perm[i] & TLB_IO ? -1 : va + tlb.delta[i];
  return -1;
}

/** `va` as the signed number the MMU works with (NaN when |va| >= 2^53: never mapped). */
export function vaNumber(va: bigint): number {
  const s = BigInt.asIntN(64, va);
  return s >= -TWO53 && s < TWO53 ? Number(s) : NaN;
}

function fault(h: RiscvHart, code: number, source: FaultSource, tval: bigint): undefined {
  h.faultCode = code;
  h.faultSource = source;
  h.faultTval = tval;
  return undefined;
}

/**
 * Loads `size` bytes at `va` (exactly `vaBig`) with `priv` permissions, zero-extended.
 * On failure returns undefined with `h.faultCode`/`h.faultTval` set.
 */
export function memLoad(
  h: RiscvHart,
  va: number,
  vaBig: bigint,
  size: number,
  priv: number,
): bigint | undefined {
  if (Number(vaBig & BigInt(size - 1)) !== 0) {
    return fault(h, EXC_LOAD_MISALIGNED, FaultSource.Misaligned, vaBig);
  }
  const code = translate(h, va, ACCESS_READ, priv);
  if (code >= 0) return fault(h, code, h.faultSource, vaBig);
  const m = h.machine;
  if (h.xlatOff >= 0) return readRam(m.ram, h.xlatOff, size);
  const v = m.bus.read(h.xlatPa, size, h.index);
  if (v === undefined) return fault(h, accessFaultCode(ACCESS_READ), FaultSource.Physical, vaBig);
  return v;
}

/** Stores the low `size` bytes of `value` at `va`; false (with the fault set) on failure. */
export function memStore(
  h: RiscvHart,
  va: number,
  vaBig: bigint,
  size: number,
  value: bigint,
  priv: number,
): boolean {
  if (Number(vaBig & BigInt(size - 1)) !== 0) {
    fault(h, EXC_STORE_MISALIGNED, FaultSource.Misaligned, vaBig);
    return false;
  }
  const code = translate(h, va, ACCESS_WRITE, priv);
  if (code >= 0) {
    fault(h, code, h.faultSource, vaBig);
    return false;
  }
  const m = h.machine;
  if (h.xlatOff >= 0) {
    writeRam(m.ram, h.xlatOff, size, value);
    if (h.reservations.active !== 0) h.reservations.storeHit(h.xlatOff, h.index);
    return true;
  }
  if (!m.bus.write(h.xlatPa, size, value, h.index)) {
    fault(h, accessFaultCode(ACCESS_WRITE), FaultSource.Physical, vaBig);
    return false;
  }
  return true;
}

/**
 * The last fault in words: what was accessed, by whom, and why it failed. `kind` is the
 * access kind and `priv` the privilege it was made with.
 */
export function faultMessage(h: RiscvHart, kind: number, priv: number): string {
  const va = h.faultTval;
  const who = `${priv === 0 ? "U" : "S"}-mode ${KIND_WORDS[kind]} at ${hex(va)}`;
  switch (h.faultSource) {
    case FaultSource.Walk:
      return explainWalk(h.walkOut, va, kind, priv, h.satpLevels === 3 ? "Sv39" : "Sv48");
    case FaultSource.Misaligned:
      return `${who} is misaligned (this hart does not split misaligned accesses)`;
    case FaultSource.Physical:
      return `${who}: physical address ${hex(h.xlatPa)} is ${
        h.machine.bus.describe(h.xlatPa)
      }, or the device refused the access`;
    case FaultSource.FetchFromDevice:
      return `${who}: physical address ${hex(h.xlatPa)} is ${
        h.machine.bus.describe(h.xlatPa)
      }, and instructions are fetched only from RAM`;
    case FaultSource.AtomicNotRam:
      return `${who}: physical address ${hex(h.xlatPa)} is ${
        h.machine.bus.describe(h.xlatPa)
      }, and LR/SC and AMOs work only on RAM`;
    case FaultSource.BeyondPhysical:
      return `${who}: satp.MODE is Bare and the address is beyond the 56-bit physical ` +
        `address space`;
  }
}

// ---- the hosted kernel's loads and stores ----

function checkSize(size: number): void {
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
    throw new RangeError(`access size ${size} is not 1, 2, 4 or 8 bytes`);
  }
}

/** S-mode `load` (see hart_api.ts): throws CpuFault with scause, stval and the reason. */
export function kernelLoad(h: RiscvHart, va: bigint, size: number): bigint {
  checkSize(size);
  const vaBig = BigInt.asUintN(64, va);
  const v = memLoad(h, vaNumber(vaBig), vaBig, size, 1);
  if (v === undefined) {
    throw new CpuFault(h.faultCode, h.faultTval, faultMessage(h, ACCESS_READ, 1));
  }
  return v;
}

/** S-mode `store`: throws CpuFault as `kernelLoad` does. */
export function kernelStore(h: RiscvHart, va: bigint, size: number, value: bigint): void {
  checkSize(size);
  const vaBig = BigInt.asUintN(64, va);
  if (!memStore(h, vaNumber(vaBig), vaBig, size, value, 1)) {
    throw new CpuFault(h.faultCode, h.faultTval, faultMessage(h, ACCESS_WRITE, 1));
  }
}

// ---- the U-mode slow paths of the interpreter ----

/** A slow path finished the instruction: continue with the next one. */
export const SLOW_DONE = 0;
/** Finished, after touching a device: leave the fast loop (an interrupt may be pending). */
export const SLOW_DEVICE = 1;
/** A trap was taken (or the machine stopped): the pc is no longer the interpreter's. */
export const SLOW_TRAPPED = 2;

/** The exact effective address x[rs1] + imm, unsigned. */
export function effectiveAddress(h: RiscvHart, rs1: number, imm: number): bigint {
  return BigInt.asUintN(64, h.x[rs1] + BigInt(imm));
}

/** Raises the last fault as a trap from U-mode at `pc`. */
export function trapFault(h: RiscvHart, pc: number, kind: number): number {
  h.instret--; // a trapping instruction does not retire
  const why = h.machine.trace.trap ? faultMessage(h, kind, 0) : undefined;
  if (why) h.machine.trace.emit("trap", h.index, { why });
  takeTrap(h, h.faultCode, false, h.faultTval, pcBig(h, pc));
  return SLOW_TRAPPED;
}

/** The pc of U-mode code as an unsigned bigint. */
export function pcBig(h: RiscvHart, pc: number): bigint {
  return pc === pc ? BigInt.asUintN(64, BigInt(pc)) : h.pcExact!;
}

/** A load that missed the fast path: f3 is the LOAD funct3 (0..6). */
export function userLoad(
  h: RiscvHart,
  pc: number,
  rd: number,
  rs1: number,
  imm: number,
  f3: number,
): number {
  const size = 1 << (f3 & 3);
  const vaBig = effectiveAddress(h, rs1, imm);
  const v = memLoad(h, vaNumber(vaBig), vaBig, size, 0);
  if (v === undefined) return trapFault(h, pc, ACCESS_READ);
  if (rd !== 0) h.x[rd] = f3 < 4 ? BigInt.asIntN(size * 8, v) : v;
  return h.xlatOff < 0 ? SLOW_DEVICE : SLOW_DONE;
}

/** A store that missed the fast path: f3 is the STORE funct3 (0..3). */
export function userStore(
  h: RiscvHart,
  pc: number,
  rs1: number,
  rs2: number,
  imm: number,
  f3: number,
): number {
  const vaBig = effectiveAddress(h, rs1, imm);
  if (!memStore(h, vaNumber(vaBig), vaBig, 1 << f3, h.x[rs2], 0)) {
    return trapFault(h, pc, ACCESS_WRITE);
  }
  return h.xlatOff < 0 ? SLOW_DEVICE : SLOW_DONE;
}

/**
 * Fetches the instruction at `pc` for U-mode when the fetch page is not the current one.
 * Sets `h.fetchBase`/`h.fetchOff` for the page and returns the instruction bits (the low
 * 16 for a compressed instruction), or -1 after raising the fetch fault.
 */
export function fetchSlow(h: RiscvHart, pc: number): number {
  const exact = pcBig(h, pc);
  const code = translate(h, pc, ACCESS_EXECUTE, 0);
  if (code >= 0) return fetchFault(h, pc, code, h.faultSource, exact);
  if (h.xlatOff < 0) return fetchSlowRam(h, pc, exact);
  const off = h.xlatOff;
  const inPage = pc - Math.floor(pc / 4096) * 4096;
  h.fetchBase = pc - inPage;
  h.fetchOff = off - inPage;
  const u16 = h.machine.ram.u16;
  const lo = u16[off >>> 1];
  if ((lo & 3) !== 3) return lo;
  if (inPage < 4094) return (lo | (u16[(off >>> 1) + 1] << 16)) >>> 0;
  // A 32-bit instruction whose upper half is on the next page: fetch that half too.
  const next = pc + 2;
  const code2 = translate(h, next, ACCESS_EXECUTE, 0);
  const nextBig = BigInt.asUintN(64, exact + 2n);
  if (code2 >= 0) return fetchFault(h, pc, code2, h.faultSource, nextBig);
  if (h.xlatOff >= 0) return (lo | (u16[h.xlatOff >>> 1] << 16)) >>> 0;
  const bus = h.machine.bus;
  if (bus.ramOffset(h.xlatPa, 2) < 0) {
    return fetchFault(h, pc, EXC_INST_ACCESS, FaultSource.FetchFromDevice, nextBig);
  }
  return (lo | (Number(bus.read(h.xlatPa, 2)) << 16)) >>> 0;
}

/** Fetches from a page the fast path does not reach (RAM beyond 2 GiB), or faults. */
function fetchSlowRam(h: RiscvHart, pc: number, exact: bigint): number {
  const bus = h.machine.bus;
  h.fetchBase = NaN;
  const lo = bus.ramOffset(h.xlatPa, 2) >= 0 ? Number(bus.read(h.xlatPa, 2)) : -1;
  if (lo < 0) return fetchFault(h, pc, EXC_INST_ACCESS, FaultSource.FetchFromDevice, exact);
  if ((lo & 3) !== 3) return lo;
  const next = pc + 2;
  const code = translate(h, next, ACCESS_EXECUTE, 0);
  const nextBig = BigInt.asUintN(64, exact + 2n);
  if (code >= 0) return fetchFault(h, pc, code, h.faultSource, nextBig);
  if (bus.ramOffset(h.xlatPa, 2) < 0) {
    return fetchFault(h, pc, EXC_INST_ACCESS, FaultSource.FetchFromDevice, nextBig);
  }
  return (lo | (Number(bus.read(h.xlatPa, 2)) << 16)) >>> 0;
}

function fetchFault(h: RiscvHart, pc: number, code: number, src: FaultSource, tval: bigint) {
  h.faultCode = code;
  h.faultSource = src;
  h.faultTval = tval;
  trapFault(h, pc, ACCESS_EXECUTE);
  return -1;
}

// ---- sfence.vma, and translate() for graders ----

/** `sfence.vma` (§10.2.1): flushes both TLBs by address and/or ASID. */
export function flushTlbs(h: RiscvHart, vaddr?: bigint, asid?: number): void {
  let va: number | undefined;
  if (vaddr !== undefined) {
    va = vaNumber(vaddr);
    // "If the value held in rs1 is not a valid virtual address, then the SFENCE.VMA
    // instruction has no effect."
    if (va !== va || (h.satpLevels !== 0 && !isCanonical(va, h.satpLevels))) return;
  }
  const a = asid === undefined ? undefined : asid & 0xffff;
  const n = h.itlb.flush(va, a) + h.dtlb.flush(va, a);
  h.fetchBase = NaN;
  const trace = h.machine.trace;
  if (trace.tlb) {
    trace.emit("tlb", h.index, {
      op: "sfence.vma",
      va: vaddr === undefined ? "all" : hex(BigInt.asUintN(64, vaddr)),
      asid: a === undefined ? "all" : a,
      removed: n,
    });
  }
}

const ACCESS_KINDS: Record<Access, number> = {
  read: ACCESS_READ,
  write: ACCESS_WRITE,
  execute: ACCESS_EXECUTE,
};

/** `translate()` of the Hart interface: a walk with every PTE recorded, changing nothing. */
export function translateForGrader(
  h: RiscvHart,
  vaIn: bigint,
  access: Access,
  priv: Privilege,
): Translation {
  const va = BigInt.asUintN(64, vaIn);
  const kind = ACCESS_KINDS[access];
  const bus = h.machine.bus;
  const steps: WalkStep[] = [];
  const result = (pa: number | undefined, fault: number | undefined, explanation: string) => ({
    va,
    access,
    ...(pa === undefined ? {} : { pa }),
    ...(fault === undefined ? {} : { fault }),
    steps,
    tlbHit: false,
    explanation,
  });
  const present = (pa: number) => bus.ramOffset(pa) >= 0 || bus.regionAt(pa) !== undefined;
  if (h.satpLevels === 0) {
    const pa = va < TWO53 ? Number(va) : NaN;
    if (pa === pa && present(pa)) {
      return result(
        pa,
        undefined,
        `satp.MODE is Bare: ${hex(va)} is physical (${bus.describe(pa)})`,
      );
    }
    return result(
      undefined,
      accessFaultCode(kind),
      `satp.MODE is Bare: physical address ${hex(va)} holds no RAM or device`,
    );
  }
  const out = newWalkOut();
  const sum = (h.sstatus & SUM_BIT) !== 0, mxr = (h.sstatus & MXR_BIT) !== 0;
  const ok = walk(bus, h.satpLevels, h.satpPpn, vaNumber(va), kind, priv, sum, mxr, out, steps);
  const mode = h.satpLevels === 3 ? "Sv39" : "Sv48";
  const words = explainWalk(out, va, kind, priv, mode);
  if (!ok) return result(undefined, out.fault, words);
  if (!present(out.pa)) {
    return result(
      undefined,
      accessFaultCode(kind),
      `${words}, where there is ${bus.describe(out.pa)}`,
    );
  }
  return result(out.pa, undefined, words);
}
