// deno-lint-ignore-file no-unused-vars -- the starter's parameters are yours to use
/**
 * Lesson 03: the page-table walk, written once for both formats.
 *
 * Both MMUs walk the same shape of tree: four levels of 512 eight-byte entries, each level
 * indexed by 9 bits of the virtual address. Write the walk here, once; x86_64.ts and sv48.ts
 * each describe how their entries encode "valid", "leaf", the address and the permissions
 * (a {@link PteFormat}). The chapter (../README.md) walks you through it step by step. Grade
 * it with `deno task lesson 03`.
 *
 * @module
 */

import type { Mapping, PageFlags, PageTables, PageTablesDeps } from "../../../kernel/components.ts";

/**
 * How one format encodes its entries. Levels are numbered 0 (the table of 4 KiB pages) to 3
 * (the root), on both boards.
 */
export interface PteFormat {
  /** The name `PageTables.format` gives: "x86_64" or "sv48". */
  readonly name: string;
  /** Whether the MMU looks at the entry at all: P (x86-64), V (Sv48). */
  isValid(pte: bigint): boolean;
  /** Whether a valid entry at `level` maps a page, rather than pointing at a table. */
  isLeaf(pte: bigint, level: number): boolean;
  /** The entry that points at the table at `table`; `user` in the lower half. */
  pointer(table: number, user: boolean): bigint;
  /** The leaf at `level` that maps the page at `pa` with `flags`. */
  leaf(pa: number, flags: PageFlags, level: number): bigint;
  /** The physical address an entry holds: the table it points at, or the page it maps. */
  address(pte: bigint): number;
  /** The permissions a leaf grants. */
  flags(pte: bigint): PageFlags;
}

/** Builds page tables of `format` over `deps`: RAM, the PMM for tables, the TLB. */
export function createPageTables(format: PteFormat, deps: PageTablesDeps): PageTables {
  const { mem, pmm, tlb } = deps;
  return {
    format: format.name,
    pageSizes: [4096, 2 ** 21, 2 ** 30],

    createRoot(kernelFrom?: number): number {
      throw new Error("not implemented yet: see README.md#step-3-the-root-and-the-higher-half");
    },

    map(root, asid, va, pa, size, flags, pageSize = 4096): void {
      throw new Error("not implemented yet: see README.md#step-5-map");
    },

    unmap(root, asid, va, size): number {
      throw new Error("not implemented yet: see README.md#step-7-unmap-and-the-tlb");
    },

    protect(root, asid, va, size, flags): number {
      throw new Error("not implemented yet: see README.md#step-8-protect");
    },

    translate(root: number, va: bigint): Mapping | undefined {
      throw new Error("not implemented yet: see README.md#step-6-translate");
    },

    destroyRoot(root: number): void {
      throw new Error("not implemented yet: see README.md#step-10-destroyroot");
    },
  };
}
