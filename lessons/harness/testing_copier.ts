/**
 * The fake lesson's component (testing.ts): copying bytes through PhysMem. Its reference
 * implementation lives here so the fake lesson, written to a temporary folder, can import it.
 *
 * @module
 */

import type { PhysMem } from "../../kernel/mm/phys.ts";

/** Copies bytes in physical memory. */
export interface Copier {
  /** Copies `length` bytes from `from` to `to`. */
  copy(from: number, to: number, length: number): void;
}

/** Builds a copier over `mem`. */
export type CopierFactory = (mem: PhysMem) => Copier;

/** The fake lesson's reference. */
export const referenceCopier: CopierFactory = (mem) => ({
  copy(from, to, length) {
    if (length > 0) mem.writeBytes(to, mem.readBytes(from, length));
  },
});
