/**
 * The reference page tables for x86-64 (lesson 03): 4-level paging, as the Intel SDM
 * defines it (Vol. 3A §4.5, "4-Level Paging and 5-Level Paging", Tables 4-15 to 4-20), in
 * frames of RAM that the CPU's MMU walks from CR3.
 *
 * ```
 *  47     39 38     30 29     21 20     12 11         0     a linear address
 * | PML4    | PDPT    | PD      | PT      | page offset |
 *
 *  63 62   52 51        12 11  9 8 7 6 5 4 3 2 1 0           an entry
 * |XD| avail |  address   |avail|G|PS|D|A|PCD|PWT|U/S|R/W|P|
 * ```
 *
 * An entry with P = 1 in the PML4 (level 4) always points at a page-directory-pointer
 * table. One in a PDPT (level 3) or page directory (level 2) maps a 1 GiB or 2 MiB page
 * when PS = 1, and otherwise points at the next table; one in a page table (level 1) maps
 * a 4 KiB page. The MMU combines the permissions of every level it passes (§4.6): a write
 * needs R/W = 1 everywhere, a user access U/S = 1 everywhere, and a fetch XD = 0 everywhere
 * (XD is bit 63, honoured with EFER.NXE = 1). So the tables that point at other tables are
 * permissive (R/W = 1, and U/S = 1 in the user half) and each leaf says what is allowed.
 *
 * Leaves get P, R/W when writable, U/S when user, G when global (with CR4.PGE), XD unless
 * executable, and PCD | PWT for device memory (PAT entry 3 of the power-on PAT: uncached,
 * §11.12.4). The MMU sets the accessed and dirty flags itself as it uses a leaf (§4.8), so
 * they start clear, and `protect` keeps what the MMU recorded.
 *
 * This file is the encoding; the walk, the higher half every root shares and the TLB
 * maintenance (§4.10.4: removing or changing a present leaf is followed by an invalidation of
 * that page in its address space, INVLPG or INVPCID through TlbControl; adding a leaf where
 * none was needs nothing, because the CPU caches no translation that faulted, §4.10.3) are
 * the same for every format: kernel/mm/page_tables.ts.
 *
 * @module
 */

import type { PageFlags, PageTables, PageTablesDeps } from "../../kernel/components.ts";
import { PAGE_SIZE } from "../../kernel/mm/phys.ts";
import {
  ALLOW_EXECUTE,
  ALLOW_USER,
  ALLOW_WRITE,
  createPageTables,
  isCanonical48 as isCanonical,
  type PteFormat,
} from "../../kernel/mm/page_tables.ts";
import {
  MAXPHYADDR,
  PAGE_SIZE_1G,
  PAGE_SIZE_2M,
  PTE_A,
  PTE_D,
  PTE_G,
  PTE_NX,
  PTE_P,
  PTE_PCD,
  PTE_PS,
  PTE_PWT,
  PTE_U,
  PTE_W,
} from "../../emulator/x86_64/regs.ts";

/** The page sizes a leaf at level 1, 2 and 3 maps. */
export const X86_PAGE_SIZES: readonly number[] = [PAGE_SIZE, PAGE_SIZE_2M, PAGE_SIZE_1G];

/** The SDM's name of an entry at each level (index = level). */
export const ENTRY_NAMES: readonly string[] = ["", "PTE", "PDE", "PDPTE", "PML4E"];

/** Bits 51:12 of an entry that points at a table or maps a 4 KiB page. */
const ADDRESS_MASK = ((1n << 52n) - 1n) & ~0xfffn;

/** The size of the pages a leaf at `level` maps. */
function levelSize(level: number): number {
  return X86_PAGE_SIZES[level - 1];
}

/** The table an entry that is not a leaf points at. */
function tableAddress(pte: bigint): number {
  return Number(pte & ADDRESS_MASK);
}

/** The page a leaf at `level` maps (a large page's PAT bit 12 is not part of it). */
function pageAddress(pte: bigint, level: number): number {
  return Number(pte & ADDRESS_MASK & ~BigInt(levelSize(level) - 1));
}

/**
 * Whether an entry sets bits the MMU reserves at `level` (§4.5, Tables 4-15 to 4-20), which
 * makes it fault (#PF with RSVD) however present it is: address bits at or above
 * MAXPHYADDR, PS in a PML4E, and the address bits below a large page's alignment (bit 12
 * is the large page's PAT bit, not an address bit).
 */
function reservedBits(pte: bigint, level: number): boolean {
  if ((pte & ADDRESS_MASK) >> BigInt(MAXPHYADDR)) return true;
  if (level === 4) return (pte & BigInt(PTE_PS)) !== 0n;
  if (!isLeaf(pte, level) || level === 1) return false;
  return (pte & BigInt(levelSize(level) - 1) & ~0x1fffn) !== 0n;
}

/** Whether a present entry at `level` maps a page (rather than pointing at a table). */
function isLeaf(pte: bigint, level: number): boolean {
  return level === 1 || ((level === 2 || level === 3) && (pte & BigInt(PTE_PS)) !== 0n);
}

/** The leaf entry that maps `pa` at `level` with `flags` (PS for 2 MiB and 1 GiB pages). */
export function leafEntry(pa: number, flags: PageFlags, level = 1): bigint {
  let bits = PTE_P;
  if (flags.write) bits |= PTE_W;
  if (flags.user) bits |= PTE_U;
  if (flags.global) bits |= PTE_G;
  if (flags.device) bits |= PTE_PCD | PTE_PWT;
  if (level > 1) bits |= PTE_PS;
  const entry = BigInt(pa) | BigInt(bits);
  return flags.execute ? entry : entry | PTE_NX;
}

/** The entry that points at the table at `table`; `user` for the lower half. */
export function tableEntry(table: number, user: boolean): bigint {
  return BigInt(table) | BigInt(PTE_P | PTE_W | (user ? PTE_U : 0));
}

/** Whether `va` is canonical for 48-bit linear addresses (bits 63 to 47 all equal). */
export const isCanonical48: (va: bigint) => boolean = isCanonical;

/** The 4-level paging encoding of entries (SDM Vol. 3A §4.5). */
export const X86_4LEVEL: PteFormat = {
  format: "x86_64",
  leafLevel: 1,
  pageSizes: X86_PAGE_SIZES,
  physicalAddressBits: MAXPHYADDR,
  mmuBits: BigInt(PTE_A | PTE_D), // set by the MMU as it uses a leaf (§4.8)
  names: {
    scheme: "4-level paging",
    root: "a PML4",
    kernelTable: "a higher-half PDPT",
    canonical: "canonical",
    physicalLimit: ` below 2^${MAXPHYADDR} (MAXPHYADDR)`,
    entry: (level) => ENTRY_NAMES[level],
  },
  isValid: (pte) => (pte & BigInt(PTE_P)) !== 0n,
  isLeaf,
  isReserved: reservedBits,
  isGlobal: (pte) => (pte & BigInt(PTE_G)) !== 0n,
  pointer: tableEntry,
  leaf: leafEntry,
  tableAddress,
  pageAddress,
  leafFlags: (pte) => {
    const b = Number(pte & 0xfffn);
    return {
      write: (b & PTE_W) !== 0,
      execute: (pte & PTE_NX) === 0n,
      user: (b & PTE_U) !== 0,
      global: (b & PTE_G) !== 0,
      device: (b & PTE_PCD) !== 0,
    };
  },
  // The MMU combines every level's permissions (§4.6): each table pointer may restrict.
  pointerAllows: (pte) => {
    const b = Number(pte & 0xfffn);
    return ((b & PTE_W) !== 0 ? ALLOW_WRITE : 0) | ((b & PTE_U) !== 0 ? ALLOW_USER : 0) |
      ((pte & PTE_NX) === 0n ? ALLOW_EXECUTE : 0);
  },
};

/** Builds x86-64 4-level page tables over `deps` (see the module comment). */
export function createX86PageTables(deps: PageTablesDeps): PageTables {
  return createPageTables(X86_4LEVEL, deps);
}
