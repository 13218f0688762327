/**
 * 4-level paging: the walk from CR3 through the PML4, the page-directory-pointer table, the
 * page directory and the page table (SDM Vol. 3A §4.5, "4-Level Paging and 5-Level
 * Paging"), with the permission rules of §4.6, the page-fault error code of §4.7 and the
 * accessed and dirty flags of §4.8.
 *
 * The entries are read from physical memory at the moment of the walk, exactly as the
 * hardware reads them. `walk` fills a reusable {@link WalkResult}; with `explain` it also
 * records every entry it read and says in words why the translation succeeded or failed,
 * which `translate()` (for graders and panic reports) and fault messages use.
 *
 * Choices the SDM leaves open, made here: the accessed flags are set only when the whole
 * translation succeeds (a walk that faults changes nothing), and the A and D updates write
 * the entry's low byte in place (no other CPU runs during a walk, so that is atomic).
 *
 * @module
 */

import type { Bus } from "../core/bus.ts";
import { hex } from "../core/memory.ts";
import type { Access, WalkStep } from "./cpu_api.ts";
import {
  MAXPHYADDR,
  PF_I,
  PF_P,
  PF_RSVD,
  PF_U,
  PF_W,
  PTE_A,
  PTE_D,
  PTE_G,
  PTE_P,
  PTE_PS,
  PTE_U,
  PTE_W,
} from "./regs.ts";
import { TLB_D, TLB_U, TLB_W, TLB_X } from "./tlb.ts";

/** Access kinds as numbers, for the hot paths. */
export const ACC_READ = 0;
/** A write (or the read of a read-modify-write instruction). */
export const ACC_WRITE = 1;
/** An instruction fetch. */
export const ACC_EXEC = 2;

/** The access names, indexed by ACC_*. */
export const ACCESS_NAMES: readonly Access[] = ["read", "write", "execute"];

/** The paging controls a walk depends on. */
export interface PagingControls {
  /** Physical address of the PML4 table (CR3 bits 51:12). */
  pml4: number;
  /** EFER.NXE: bit 63 is XD rather than reserved. */
  nxe: boolean;
  /** CR0.WP: supervisor writes obey R/W. */
  wp: boolean;
  /** CR4.PGE: the G flag makes a translation global. */
  pge: boolean;
}

/** What a walk found. */
export class WalkResult {
  /** Whether the access is allowed. */
  ok = false;
  /** Physical address of the 4-KiB frame that holds the address. */
  frame = 0;
  /** Size of the page (4 KiB, 2 MiB or 1 GiB). */
  pageSize = 4096;
  /** Virtual address where the page starts. */
  pageBase = 0;
  /** TLB_W | TLB_U | TLB_X | TLB_D as the walk found them. */
  perm = 0;
  /** Whether the translation is global (G = 1 in the leaf and CR4.PGE = 1). */
  global = false;
  /** The #PF error code, when `ok` is false and `machineCheck` is undefined. */
  errorCode = 0;
  /** Set when a paging-structure entry lies where nothing answers: no fault can describe it. */
  machineCheck: string | undefined = undefined;
  /** Why, in words (filled only when `explain` was asked). */
  explanation = "";
  /** The entries read, root first (filled only when `explain` was asked). */
  steps: WalkStep[] = [];
}

const LEVEL_NAMES = ["", "PTE", "PDE", "PDPTE", "PML4E"];
const TABLE_NAMES = ["", "page table", "page directory", "page-directory-pointer table", "PML4"];

/** Bits 51:MAXPHYADDR of an entry, in its high word: reserved (§4.5, Tables 4-15 to 4-20). */
const RSVD_HI_ADDR = ((1 << 20) - 1) & ~((1 << (MAXPHYADDR - 32)) - 1);
/** Address bits MAXPHYADDR-1:32 of an entry, in its high word. */
const ADDR_HI = (1 << (MAXPHYADDR - 32)) - 1;
/** Reserved low bits of a PDPTE that maps a 1-GiB page (bits 29:13) and of a 2-MiB PDE. */
const RSVD_1G = 0x3fff_e000;
const RSVD_2M = 0x001f_e000;

// Scratch space for the A/D update: where each entry was and what its low word was.
const seenAt = new Float64Array(4);
const seenLo = new Int32Array(4);

/**
 * Walks the tables for the linear address `va` (a canonical address as a signed number).
 * With `update`, sets the accessed flags (and the dirty flag for a write) when the access
 * is allowed. `user` is true for a user-mode access (CPL 3, not an implicit supervisor
 * access such as an IDT read).
 */
export function walk(
  bus: Bus,
  ctl: PagingControls,
  va: number,
  access: number,
  user: boolean,
  update: boolean,
  out: WalkResult,
  explain: boolean,
): WalkResult {
  out.ok = false;
  out.machineCheck = undefined;
  out.global = false;
  out.errorCode = 0;
  if (explain) {
    out.steps = [];
    out.explanation = "";
  }
  const write = access === ACC_WRITE, exec = access === ACC_EXEC;
  const ecBase = (write ? PF_W : 0) | (user ? PF_U : 0) | (exec && ctl.nxe ? PF_I : 0);
  let table = ctl.pml4;
  let allowW = true, allowU = true, allowX = true;
  let lo = 0, hi = 0;
  let level = 4;
  const path: string[] = [];
  for (; level >= 1; level--) {
    const shift = 12 + 9 * (level - 1);
    const index = Math.floor(va / 2 ** shift) & 511;
    const at = table + index * 8;
    const off = bus.ramOffset(at, 8);
    if (off >= 0) {
      lo = bus.ram!.dv.getInt32(off, true);
      hi = bus.ram!.dv.getInt32(off + 4, true);
    } else {
      const v = bus.read(at, 8);
      if (v === undefined) {
        out.machineCheck = `the ${LEVEL_NAMES[level]} for ${hex(va)} would be read at ` +
          `physical ${hex(at)} (${TABLE_NAMES[level]} at ${hex(table)}, index ${index}), ` +
          `where nothing answers: check CR3 and the table addresses in the entries above`;
        if (explain) {
          out.steps.push({ level, name: LEVEL_NAMES[level], pteAddress: at, pte: undefined });
          out.explanation = out.machineCheck;
        }
        return out;
      }
      lo = Number(v & 0xffff_ffffn) | 0;
      hi = Number(v >> 32n) | 0;
    }
    seenAt[4 - level] = at;
    seenLo[4 - level] = lo;
    if (explain) {
      const pte = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
      out.steps.push({ level, name: LEVEL_NAMES[level], pteAddress: at, pte });
      path.push(`${LEVEL_NAMES[level]}[${index}] at ${hex(at)} = ${hex(pte)}`);
    }
    if ((lo & PTE_P) === 0) {
      out.errorCode = ecBase;
      if (explain) explainFault(out, path, `${LEVEL_NAMES[level]} has P = 0 (not present)`);
      return out;
    }
    const leaf = level === 1 || ((level === 2 || level === 3) && (lo & PTE_PS) !== 0);
    const rsvd = reservedBits(lo, hi, level, leaf, ctl.nxe);
    if (rsvd) {
      out.errorCode = ecBase | PF_P | PF_RSVD;
      if (explain) explainFault(out, path, `${LEVEL_NAMES[level]} sets reserved ${rsvd}`);
      return out;
    }
    if ((lo & PTE_W) === 0) allowW = false;
    if ((lo & PTE_U) === 0) allowU = false;
    if (ctl.nxe && hi < 0) allowX = false;
    const addrHi = (hi & ADDR_HI) * 4294967296;
    if (leaf) {
      const size = 2 ** shift;
      const base = level === 1 ? (lo & ~0xfff) >>> 0 : (lo & -size) >>> 0;
      const pageFrame = addrHi + base;
      const pageBase = Math.floor(va / size) * size;
      out.pageSize = size;
      out.pageBase = pageBase;
      out.frame = pageFrame + (Math.floor((va - pageBase) / 4096) * 4096);
      out.global = ctl.pge && (lo & PTE_G) !== 0;
      break;
    }
    table = addrHi + ((lo & ~0xfff) >>> 0);
  }
  if (level === 0) level = 1;

  // Permission checks (§4.6): user accesses need U/S = 1 everywhere; writes need R/W = 1
  // everywhere (supervisor writes only when CR0.WP = 1); fetches need XD = 0 everywhere.
  let denied = "";
  if (user && !allowU) denied = "U/S = 0 at some level (a supervisor-only page)";
  else if (write && !allowW && (user || ctl.wp)) {
    denied = "R/W = 0 at some level (read-only" + (user ? ")" : ", and CR0.WP = 1)");
  } else if (exec && !allowX) denied = "XD = 1 at some level (execute-disable, EFER.NXE = 1)";
  if (denied) {
    out.errorCode = ecBase | PF_P;
    if (explain) explainFault(out, path, denied);
    return out;
  }

  const leafIndex = 4 - level;
  let dirty = (seenLo[leafIndex] & PTE_D) !== 0;
  if (update) {
    for (let k = 0; k <= leafIndex; k++) {
      let want = seenLo[k] | PTE_A;
      if (k === leafIndex && write) want |= PTE_D;
      if ((want & 0xff) !== (seenLo[k] & 0xff)) bus.write(seenAt[k], 1, BigInt(want & 0xff));
    }
    if (write) dirty = true;
  }
  out.perm = (allowW ? TLB_W : 0) | (allowU ? TLB_U : 0) | (allowX ? TLB_X : 0) |
    (dirty ? TLB_D : 0);
  out.ok = true;
  if (explain) {
    const pa = out.frame + (((va % 4096) + 4096) % 4096);
    out.explanation = `${path.join(" -> ")}: ${hex(va)} maps to physical ${hex(pa)} ` +
      `(a ${sizeName(out.pageSize)} page; ${allowW ? "writable" : "read-only"}, ` +
      `${allowU ? "user" : "supervisor-only"}, ${allowX ? "executable" : "execute-disable"}` +
      `${out.global ? ", global" : ""})`;
  }
  return out;
}

/** Names the reserved bits set in an entry, or returns "" (§4.5, Tables 4-15 to 4-20). */
function reservedBits(lo: number, hi: number, level: number, leaf: boolean, nxe: boolean): string {
  if (hi & RSVD_HI_ADDR) return `address bits 51:${MAXPHYADDR} (beyond MAXPHYADDR)`;
  if (!nxe && hi < 0) return "bit 63 (XD, with EFER.NXE = 0)";
  if (level === 4 && (lo & PTE_PS)) return "bit 7 (PS must be 0 in a PML4E)";
  if (leaf && level === 3 && (lo & RSVD_1G)) return "bits 29:13 (of a 1-GiB page's address)";
  if (leaf && level === 2 && (lo & RSVD_2M)) return "bits 20:13 (of a 2-MiB page's address)";
  return "";
}

function explainFault(out: WalkResult, path: string[], why: string): void {
  out.explanation = `${path.join(" -> ")}: ${why}; #PF error code ${hex(out.errorCode)}` +
    ` (${describePfError(out.errorCode)})`;
}

/** The #PF error code in words: "present, write, user, reserved bit, fetch". */
export function describePfError(ec: number): string {
  const parts = [
    ec & PF_P ? "protection violation" : "not present",
    ec & PF_W ? "write" : "read",
    ec & PF_U ? "user" : "supervisor",
  ];
  if (ec & PF_RSVD) parts.push("reserved bit");
  if (ec & PF_I) parts.push("instruction fetch");
  return parts.join(", ");
}

function sizeName(size: number): string {
  return size === 4096 ? "4-KiB" : size === 2 ** 21 ? "2-MiB" : "1-GiB";
}
