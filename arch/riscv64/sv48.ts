/**
 * The reference page tables for Sv48 (lesson 03): four levels of 512 eight-byte PTEs, as
 * the privileged specification defines them (§10.3.1 "Addressing and Memory Protection",
 * §10.5 "Sv48"), in frames of RAM that the hart's MMU walks.
 *
 * ```
 *  47      39 38      30 29      21 20      12 11         0     a virtual address
 * | VPN[3]   | VPN[2]   | VPN[1]   | VPN[0]   | page offset |
 *
 *  63   54 53                                10 9 8 7 6 5 4 3 2 1 0     a PTE
 * | 0     | PPN                                |RSW|D|A|G|U|X|W|R|V|
 * ```
 *
 * A PTE with V = 1 and R = W = X = 0 points at the next level; one with R or X set is a leaf,
 * at level 0 (a 4 KiB page), 1 (a 2 MiB megapage) or 2 (a 1 GiB gigapage). A pointer carries
 * no permissions (its U, A and D are reserved): the leaf alone says what is allowed. Leaves
 * carry A, and D when writable, from the start: this hart follows Svade and faults on a leaf
 * whose A (or, for a store, D) is clear, rather than setting them itself.
 *
 * This file is the encoding; the walk, the higher half every root shares and the TLB
 * maintenance (§10.2.1: `sfence.vma va, asid` after a present leaf is removed or changed,
 * nothing after one is added, because the hart caches no invalid entries) are the same for
 * every format: kernel/mm/page_tables.ts.
 *
 * @module
 */

import type { PageFlags, PageTables, PageTablesDeps } from "../../kernel/components.ts";
import { PAGE_SIZE } from "../../kernel/mm/phys.ts";
import {
  ALLOW_ALL,
  createPageTables,
  isCanonical48,
  type PteFormat,
} from "../../kernel/mm/page_tables.ts";
import {
  PTE_A,
  PTE_D,
  PTE_G,
  PTE_PPN_SHIFT,
  PTE_R,
  PTE_U,
  PTE_V,
  PTE_W,
  PTE_X,
} from "../../emulator/riscv64/csr.ts";

/** The page sizes a leaf at level 0, 1 and 2 maps. */
export const SV48_PAGE_SIZES: readonly number[] = [PAGE_SIZE, 2 ** 21, 2 ** 30];

/** PTE bits 53:10 hold the PPN. */
const PPN_MASK = (1n << 44n) - 1n;

/** The table (or page) a PTE points at. */
function ptePa(pte: bigint): number {
  return Number((pte >> PTE_PPN_SHIFT) & PPN_MASK) * PAGE_SIZE;
}

/** The leaf PTE for `pa` with `flags`: always R, A; W with D; X; U; G. */
export function leafPte(pa: number, flags: PageFlags): bigint {
  let bits = PTE_V | PTE_R | PTE_A;
  if (flags.write) bits |= PTE_W | PTE_D;
  if (flags.execute) bits |= PTE_X;
  if (flags.user) bits |= PTE_U;
  if (flags.global) bits |= PTE_G;
  return (BigInt(pa / PAGE_SIZE) << PTE_PPN_SHIFT) | BigInt(bits);
}

/** The PageFlags a leaf PTE grants. */
export function pteFlags(pte: bigint): PageFlags {
  const b = Number(pte & 0xffn);
  return {
    write: (b & PTE_W) !== 0,
    execute: (b & PTE_X) !== 0,
    user: (b & PTE_U) !== 0,
    global: (b & PTE_G) !== 0,
    device: false,
  };
}

/** Whether `va` is a canonical Sv48 address (bits 63 to 47 all equal, §10.5). */
export const isCanonicalSv48: (va: bigint) => boolean = isCanonical48;

/** The Sv48 encoding of page-table entries (§10.3.1, §10.5). */
export const SV48: PteFormat = {
  format: "sv48",
  leafLevel: 0,
  pageSizes: SV48_PAGE_SIZES,
  physicalAddressBits: 56, // a 44-bit PPN of 4 KiB pages
  mmuBits: 0n, // Svade: the kernel sets A and D, the hart only checks them
  names: {
    scheme: "Sv48",
    root: "a root page table",
    kernelTable: "a higher-half page table",
    canonical: "canonical Sv48",
    physicalLimit: "",
    entry: (level, leaf) => `level-${level} ${leaf ? "leaf " : ""}PTE`,
  },
  isValid: (pte) => (pte & BigInt(PTE_V)) !== 0n,
  isLeaf: (pte) => (pte & BigInt(PTE_R | PTE_X)) !== 0n,
  isReserved: () => false,
  isGlobal: (pte) => (pte & BigInt(PTE_G)) !== 0n,
  pointer: (table) => (BigInt(table / PAGE_SIZE) << PTE_PPN_SHIFT) | BigInt(PTE_V),
  leaf: leafPte,
  tableAddress: ptePa,
  pageAddress: ptePa,
  leafFlags: pteFlags,
  pointerAllows: () => ALLOW_ALL,
};

/** Builds Sv48 page tables over `deps` (see the module comment). */
export function createSv48PageTables(deps: PageTablesDeps): PageTables {
  return createPageTables(SV48, deps);
}
