// deno-lint-ignore-file no-unused-vars -- the starter's parameters are yours to use
/**
 * Lesson 02: your physical memory manager.
 *
 * The chapter (../README.md) walks you through it step by step. Grade it with
 * `deno task lesson 02`.
 *
 * @module
 */

import type { MemoryRegion } from "../../../emulator/core/bootinfo.ts";
import type { PhysicalMemoryManager, PmmStats } from "../../../kernel/components.ts";
import type { PhysMem } from "../../../kernel/mm/phys.ts";

/** Builds the PMM over the usable memory of `memoryMap`; `mem` reaches RAM. */
export function createPmm(mem: PhysMem, memoryMap: readonly MemoryRegion[]): PhysicalMemoryManager {
  return {
    allocate(frames = 1): number | undefined {
      throw new Error("not implemented yet: see README.md#step-3-allocating-a-frame");
    },

    free(pa: number, frames = 1): void {
      throw new Error("not implemented yet: see README.md#step-4-freeing-frames");
    },

    stats(): PmmStats {
      throw new Error("not implemented yet: see README.md#step-6-statistics");
    },
  };
}
