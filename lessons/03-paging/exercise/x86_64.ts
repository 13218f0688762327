// deno-lint-ignore-file no-unused-vars -- the starter's parameters are yours to use
/**
 * Lesson 03: x86-64 4-level paging, the encoding of its entries (Intel SDM Vol. 3A §4.5,
 * Tables 4-15 to 4-20). The walk itself is in page_tables.ts, shared with Sv48.
 *
 * Grade it with `deno task lesson 03 --arch x86_64`.
 *
 * @module
 */

import type { PageFlags, PageTables, PageTablesDeps } from "../../../kernel/components.ts";
import { createPageTables, type PteFormat } from "./page_tables.ts";

const TODO = "not implemented yet: see README.md#step-2-two-encodings";

/** The 4-level paging encoding. */
export const X86_64: PteFormat = {
  name: "x86_64",
  isValid(pte: bigint): boolean {
    throw new Error(TODO);
  },
  isLeaf(pte: bigint, level: number): boolean {
    throw new Error(TODO);
  },
  pointer(table: number, user: boolean): bigint {
    throw new Error(TODO);
  },
  leaf(pa: number, flags: PageFlags, level: number): bigint {
    throw new Error(TODO);
  },
  address(pte: bigint): number {
    throw new Error(TODO);
  },
  flags(pte: bigint): PageFlags {
    throw new Error(TODO);
  },
};

/** Builds x86-64 4-level page tables over `deps`. */
export function createX86PageTables(deps: PageTablesDeps): PageTables {
  return createPageTables(X86_64, deps);
}
