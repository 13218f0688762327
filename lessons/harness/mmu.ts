/**
 * The grader's view of a case CPU's MMU: how the CPU translates an address under page tables
 * the code under test built, asked of the CPU itself and never of the code.
 *
 * - {@link MmuProbe.walk} is the CPU's own page-table walk (`translate` of hart_api.ts and
 *   cpu_api.ts): it reads the tables from RAM as the MMU does, and touches neither the TLB nor
 *   the accessed and dirty bits.
 * - {@link MmuProbe.access} is the translation the CPU makes for a real load, store or
 *   instruction fetch, at user or supervisor privilege: its TLB first, the walk on a miss,
 *   and a TLB fill on success, exactly the path the CPU takes for a user-mode access that
 *   misses its fast path. No data moves (a store's translation, not the store), so a probe
 *   never writes the memory it asks about. This is what catches a missing TLB flush: a page
 *   the tables no longer map, still reached through a stale entry.
 * - {@link MmuProbe.tlb} is the TlbControl the code under test gets: each method executes
 *   the CPU's own invalidation instruction (`sfence.vma`; `invlpg`, `invpcid`) and is
 *   recorded in {@link MmuProbe.flushes}.
 *
 * The tables are made current only for the probe: satp (Sv48, with the ASID) or CR3 (with the
 * PCID, and bit 63 set so that the write flushes nothing) is loaded, the question asked, and
 * the CPU's own value put back, as a kernel switching address spaces would. The code under
 * test always runs with the board's own translation (Bare on RISC-V, the firmware's tables on
 * the PC), where its PhysMem works.
 *
 * On the PC the probe first turns on what the kernel turns on (arch/x86_64/arch.ts,
 * `enablePaging`): CR4.PGE (global pages) and CR4.PCIDE (PCIDs), and EFER.NXE. On RISC-V it
 * clears sstatus.SUM and MXR: supervisor code cannot touch user pages, as the kernel runs.
 *
 * Which TLB slot an entry lands in matters to a grader that wants to see a stale entry: the
 * code under test's own memory accesses fill entries too, and one that lands in the same slot
 * evicts the entry the grader planted. {@link MmuProbe.tlbSlot} and
 * {@link MmuProbe.physTlbSlot} say where each goes, so a grader can keep them apart.
 *
 * Call {@link mmuProbe} inside the case's kernel entry (in `run(t)`), where the CPU runs.
 *
 * Portable: no Deno or Node API.
 *
 * @module
 */

import { hex } from "../../emulator/core/memory.ts";
import { CSR_SATP, CSR_SSTATUS, makeSatp, SATP_MODE_SV48 } from "../../emulator/riscv64/csr.ts";
import { MXR_BIT, SUM_BIT } from "../../emulator/riscv64/csrs.ts";
import { PRIV_S, PRIV_U } from "../../emulator/riscv64/hart_api.ts";
import type { RiscvHart } from "../../emulator/riscv64/hart.ts";
import {
  FaultSource,
  translate as hartTranslateAccess,
  vaNumber,
} from "../../emulator/riscv64/access.ts";
import {
  ACCESS_EXECUTE,
  ACCESS_READ,
  ACCESS_WRITE,
  explainWalk,
} from "../../emulator/riscv64/mmu.ts";
import { TLB_GLOBAL, tlbIndex } from "../../emulator/riscv64/tlb.ts";
import { FAULT, type X86Processor } from "../../emulator/x86_64/cpu.ts";
import { ACC_EXEC, ACC_READ, ACC_WRITE } from "../../emulator/x86_64/paging.ts";
import {
  CR3_NOFLUSH,
  CR4_PCIDE,
  CR4_PGE,
  EFER_NXE,
  IA32_EFER,
} from "../../emulator/x86_64/regs.ts";
import { Tlb as X86Tlb } from "../../emulator/x86_64/tlb.ts";
import type { TlbControl } from "../../kernel/components.ts";
import { HHDM_BASE } from "../../kernel/mm/phys.ts";
import type { CaseBoard } from "./boards.ts";
import type { ArchName } from "./define.ts";

/** The kind of access. */
export type Access = "read" | "write" | "execute";

/** One entry the walk read, root first. */
export interface ProbeStep {
  /** The level, numbered alike on both boards: 3 is the root, 0 the table of 4 KiB pages. */
  level: number;
  /** The entry's name in its manual: "PML4E", "PDE"; "level-3 PTE". */
  name: string;
  /** Its physical address. */
  pteAddress: number;
  /** Its value, or undefined when no RAM answers there. */
  pte: bigint | undefined;
}

/** What the CPU's walk found (no TLB involved). */
export interface WalkView {
  /** The physical address, when the access is allowed. */
  pa?: number;
  /** The size of the page that maps it, when allowed: 4 KiB, 2 MiB or 1 GiB. */
  pageSize?: number;
  /** The entries read, root first. */
  steps: ProbeStep[];
  /** The CPU's words for the outcome. */
  explanation: string;
}

/** What the CPU did for one access's translation (through its TLB). */
export interface AccessView {
  /** Whether the access was allowed. */
  ok: boolean;
  /** Where it went, when allowed. */
  pa?: number;
  /** Whether the TLB held an entry for the page just before the access. */
  tlbHit: boolean;
  /** In words: where it went, or the fault and why. */
  explanation: string;
}

/** One call the code under test made to its TlbControl. */
export interface FlushRecord {
  /** Which method. */
  op: "flushPage" | "flushAsid" | "flushAll";
  /** The page (flushPage). */
  va?: bigint;
  /** The address space (flushPage, flushAsid). */
  asid?: number;
}

/** The grader's handle on the MMU of a case's CPU. */
export interface MmuProbe {
  /** The board's architecture. */
  readonly arch: ArchName;
  /** TLB invalidation for the code under test: the CPU's own instructions, recorded. */
  readonly tlb: TlbControl;
  /** Every call made to {@link tlb}, in order. */
  readonly flushes: FlushRecord[];
  /** The CPU's walk of `va` under the tables at `root`, for an access at a privilege. */
  walk(root: number, va: bigint, access: Access, user: boolean): WalkView;
  /** The CPU's translation of a real access under (`root`, `asid`), through its TLB. */
  access(root: number, asid: number, va: bigint, access: Access, user: boolean): AccessView;
  /** Whether the TLB holds an entry for `va`'s page in address space `asid` (or global). */
  cached(asid: number, va: bigint, access: Access): boolean;
  /** The TLB slot (RISC-V: entry; x86-64: set) an entry for `va` in `asid` lands in. */
  tlbSlot(va: bigint, asid: number): number;
  /** The slot the code under test's own PhysMem access at `pa` lands in. */
  physTlbSlot(pa: number): number;
  /** The flushes recorded since index `from`, in words. */
  describeFlushes(from?: number): string;
}

/** Builds the probe for `board`'s boot CPU. Call it inside the case's kernel entry. */
export function mmuProbe(board: CaseBoard): MmuProbe {
  const flushes: FlushRecord[] = [];
  const common = {
    flushes,
    describeFlushes(from = 0): string {
      const list = flushes.slice(from).map((f) =>
        f.op === "flushPage"
          ? `flushPage(${hex(f.va!)}, ${f.asid})`
          : f.op === "flushAsid"
          ? `flushAsid(${f.asid})`
          : "flushAll()"
      );
      return list.length === 0 ? "no TLB flush at all" : list.join(", ");
    },
  };
  return board.arch === "riscv64"
    ? { ...common, ...hartProbe(board.machine.cpus[0] as unknown as RiscvHart, flushes) }
    : { ...common, ...pcProbe(board.machine.cpus[0] as unknown as X86Processor, flushes) };
}

/** Checks the arguments of a TlbControl call, as the instruction's operands. */
function checkFlushArgs(what: string, va: unknown, asid: unknown, asidMax: number): void {
  if (va !== undefined && typeof va !== "bigint") {
    throw new TypeError(`${what}: the virtual address must be a bigint, not ${typeof va}`);
  }
  if (
    asid !== undefined &&
    (!Number.isInteger(asid) || (asid as number) < 0 || (asid as number) > asidMax)
  ) {
    throw new RangeError(`${what}: address space ${String(asid)} is not 0 to ${asidMax}`);
  }
}

/** The page-size of a leaf at `level` (0 = 4 KiB). */
const levelSize = (level: number) => 4096 * 512 ** level;

// ---- RISC-V ----------------------------------------------------------------------------------

const RISCV_KINDS: Record<Access, number> = {
  read: ACCESS_READ,
  write: ACCESS_WRITE,
  execute: ACCESS_EXECUTE,
};

const RISCV_FAULTS: Record<number, string> = {
  1: "instruction access fault",
  5: "load access fault",
  7: "store/AMO access fault",
  12: "instruction page fault",
  13: "load page fault",
  15: "store/AMO page fault",
};

function hartProbe(hart: RiscvHart, flushes: FlushRecord[]) {
  hart.csrc(CSR_SSTATUS, BigInt(SUM_BIT | MXR_BIT));
  const under = <T>(root: number, asid: number, fn: () => T): T => {
    const saved = hart.csrr(CSR_SATP);
    hart.csrw(CSR_SATP, makeSatp(SATP_MODE_SV48, asid, Math.floor(root / 4096)));
    try {
      return fn();
    } finally {
      hart.csrw(CSR_SATP, saved);
    }
  };
  const tlbFor = (access: Access) => access === "execute" ? hart.itlb : hart.dtlb;
  const pageOf = (va: bigint) => {
    const n = vaNumber(BigInt.asUintN(64, va));
    return n - (n & 4095);
  };
  const ASID_MAX = 0xffff;
  const tlb: TlbControl = {
    flushPage(va, asid) {
      checkFlushArgs(`tlb.flushPage(${String(va)}, ${asid})`, va, asid, ASID_MAX);
      flushes.push({ op: "flushPage", va: BigInt.asUintN(64, va), asid });
      // ASID 0 is the kernel's: its pages are global, so the fence names no ASID.
      hart.sfenceVma(va, asid === 0 ? undefined : asid);
    },
    flushAsid(asid) {
      checkFlushArgs(`tlb.flushAsid(${asid})`, undefined, asid, ASID_MAX);
      flushes.push({ op: "flushAsid", asid });
      hart.sfenceVma(undefined, asid);
    },
    flushAll() {
      flushes.push({ op: "flushAll" });
      hart.sfenceVma();
    },
  };
  return {
    arch: "riscv64" as const,
    tlb,
    walk(root: number, va: bigint, access: Access, user: boolean): WalkView {
      const t = under(root, 0, () => hart.translate(va, access, user ? PRIV_U : PRIV_S));
      const steps = t.steps.map((s) => ({
        level: s.level,
        name: `level-${s.level} PTE`,
        pteAddress: s.pteAddress,
        pte: s.pte,
      }));
      if (t.pa === undefined) {
        const fault = RISCV_FAULTS[t.fault ?? -1] ?? `exception ${t.fault}`;
        return { steps, explanation: `${fault}: ${t.explanation}` };
      }
      const leaf = steps[steps.length - 1];
      return { pa: t.pa, pageSize: levelSize(leaf.level), steps, explanation: t.explanation };
    },
    access(root: number, asid: number, va: bigint, access: Access, user: boolean): AccessView {
      const v = BigInt.asUintN(64, va);
      return under(root, asid, () => {
        const kind = RISCV_KINDS[access];
        const priv = user ? PRIV_U : PRIV_S;
        const tlbHit = tlbFor(access).lookup(pageOf(v), hart.tlbAsid, TLB_GLOBAL) >= 0;
        const code = hartTranslateAccess(hart, vaNumber(v), kind, priv);
        if (code < 0) {
          const via = tlbHit ? "a TLB entry" : "the walk";
          return {
            ok: true,
            pa: hart.xlatPa,
            tlbHit,
            explanation: `${user ? "U" : "S"}-mode ${access} at ${hex(v)} went to ${
              hex(hart.xlatPa)
            } (through ${via})`,
          };
        }
        const fault = RISCV_FAULTS[code] ?? `exception ${code}`;
        const why = hart.faultSource === FaultSource.Walk
          ? explainWalk(hart.walkOut, v, kind, priv, "Sv48")
          : `physical address ${hex(hart.xlatPa)} is not RAM`;
        return { ok: false, tlbHit, explanation: `${fault}: ${why}` };
      });
    },
    cached(asid: number, va: bigint, access: Access): boolean {
      return tlbFor(access).lookup(pageOf(va), asid, TLB_GLOBAL) >= 0;
    },
    tlbSlot(va: bigint, _asid: number): number {
      return tlbIndex(pageOf(va));
    },
    physTlbSlot(pa: number): number {
      return tlbIndex(pa); // satp is Bare while the code under test runs
    },
  };
}

// ---- x86-64 ----------------------------------------------------------------------------------

const X86_ACCESS: Record<Access, number> = { read: ACC_READ, write: ACC_WRITE, execute: ACC_EXEC };
const X86_NAMES = ["PTE", "PDE", "PDPTE", "PML4E"];

function pcProbe(cpu: X86Processor, flushes: FlushRecord[]) {
  // What the kernel turns on before it uses its own tables (arch/x86_64/arch.ts): NX, global
  // pages and PCIDs. Toggling CR4.PGE flushes everything; PCIDE needs CR3[11:0] = 0 (§4.10.1).
  cpu.wrmsr(IA32_EFER, cpu.rdmsr(IA32_EFER) | BigInt(EFER_NXE));
  const cr4 = cpu.readCr(4);
  if ((cr4 & BigInt(CR4_PCIDE)) === 0n) {
    cpu.writeCr(4, cr4 & ~BigInt(CR4_PGE));
    cpu.writeCr(4, (cr4 & ~BigInt(CR4_PGE)) | BigInt(CR4_PGE | CR4_PCIDE));
  }
  const under = <T>(root: number, pcid: number, fn: () => T): T => {
    const saved = cpu.readCr(3);
    cpu.writeCr(3, CR3_NOFLUSH | BigInt(root) | BigInt(pcid));
    try {
      return fn();
    } finally {
      cpu.writeCr(3, CR3_NOFLUSH | saved);
    }
  };
  const signed = (va: bigint) => Number(BigInt.asIntN(64, va));
  const PCID_MAX = 0xfff;
  const tlb: TlbControl = {
    // ASID 0 is the kernel's, whose pages are global: INVLPG drops a page's global entry
    // (and the current PCID's); another PCID's page needs INVPCID type 0.
    flushPage(va, asid) {
      checkFlushArgs(`tlb.flushPage(${String(va)}, ${asid})`, va, asid, PCID_MAX);
      flushes.push({ op: "flushPage", va: BigInt.asUintN(64, va), asid });
      if (asid === 0) cpu.invlpg(va);
      else cpu.invpcid(0, asid, va);
    },
    flushAsid(asid) {
      checkFlushArgs(`tlb.flushAsid(${asid})`, undefined, asid, PCID_MAX);
      flushes.push({ op: "flushAsid", asid });
      cpu.invpcid(1, asid, 0n);
    },
    flushAll() {
      flushes.push({ op: "flushAll" });
      cpu.invpcid(2, 0, 0n);
    },
  };
  const walk = (root: number, va: bigint, access: Access, user: boolean): WalkView => {
    const t = under(root, 0, () => cpu.translate(va, access, user ? 3 : 0));
    const steps = t.steps.map((s) => ({
      level: s.level - 1,
      name: X86_NAMES[s.level - 1],
      pteAddress: s.pteAddress,
      pte: s.pte,
    }));
    if (t.pa === undefined) {
      const fault = t.fault === 14
        ? `page fault (#PF, error code ${hex(t.errorCode ?? 0)})`
        : t.fault === 13
        ? "general-protection fault (#GP)"
        : "machine check";
      return { steps, explanation: `${fault}: ${t.explanation}` };
    }
    return { pa: t.pa, pageSize: t.pageSize, steps, explanation: t.explanation };
  };
  return {
    arch: "x86_64" as const,
    tlb,
    walk,
    access(root: number, asid: number, va: bigint, access: Access, user: boolean): AccessView {
      const v = BigInt.asUintN(64, va);
      const n = signed(v);
      const who = `${user ? "ring-3" : "ring-0"} ${access} at ${hex(v)}`;
      return under(root, asid, () => {
        const vpn = Math.floor(n / 4096);
        const tlbHit = cpu.tlb.holds(vpn, cpu.pcid);
        if (!tlbHit) {
          // A walk that reads a table where no RAM is would stop the machine (a machine
          // check): say so instead of making the access.
          const t = cpu.translate(v, access, user ? 3 : 0);
          if (t.pa === undefined && t.fault === undefined) {
            return { ok: false, tlbHit, explanation: `machine check: ${t.explanation}` };
          }
        }
        const wasUser = cpu.user;
        cpu.setUserAccess(user);
        try {
          cpu.xlate(n, X86_ACCESS[access]);
          const s = cpu.tlb.find(vpn, cpu.pcid);
          const pa = cpu.tlb.frame[s] + (n & 0xfff);
          const via = tlbHit ? "a TLB entry" : "the walk";
          return {
            ok: true,
            pa,
            tlbHit,
            explanation: `${who} went to ${hex(pa)} (through ${via})`,
          };
        } catch (e) {
          if (e !== FAULT) throw e;
          const ec = hex(Math.max(0, cpu.fError));
          const walkWords = cpu.translate(v, access, user ? 3 : 0);
          const why = tlbHit && walkWords.pa !== undefined
            ? `the TLB entry for the page refused it, though the tables now allow it (a ` +
              `stale entry that was never flushed: the CPU does not walk again, SDM Vol. 3A ` +
              `§4.10.4.1)`
            : walkWords.explanation;
          return { ok: false, tlbHit, explanation: `page fault (#PF, error code ${ec}): ${why}` };
        } finally {
          cpu.setUserAccess(wasUser);
        }
      });
    },
    cached(asid: number, va: bigint, _access: Access): boolean {
      return cpu.tlb.holds(Math.floor(signed(va) / 4096), asid);
    },
    tlbSlot(va: bigint, asid: number): number {
      return X86Tlb.setOf(Math.floor(signed(va) / 4096), asid);
    },
    physTlbSlot(pa: number): number {
      // The code under test reaches RAM through the direct map, in PCID 0.
      return X86Tlb.setOf(Math.floor(signed(HHDM_BASE + BigInt(pa)) / 4096), 0);
    },
  };
}
