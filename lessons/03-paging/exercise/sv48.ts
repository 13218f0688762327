// deno-lint-ignore-file no-unused-vars -- the starter's parameters are yours to use
/**
 * Lesson 03: Sv48, the encoding of its entries (RISC-V privileged specification §10.3.1,
 * §10.5). The walk itself is in page_tables.ts, shared with x86-64.
 *
 * Grade it with `deno task lesson 03 --arch riscv64`.
 *
 * @module
 */

import type { PageFlags, PageTables, PageTablesDeps } from "../../../kernel/components.ts";
import { createPageTables, type PteFormat } from "./page_tables.ts";

const TODO = "not implemented yet: see README.md#step-2-two-encodings";

/** The Sv48 encoding. */
export const SV48: PteFormat = {
  name: "sv48",
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

/** Builds Sv48 page tables over `deps`. */
export function createSv48PageTables(deps: PageTablesDeps): PageTables {
  return createPageTables(SV48, deps);
}
