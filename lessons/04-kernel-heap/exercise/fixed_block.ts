// deno-lint-ignore-file no-unused-vars -- the starter's parameters are yours to use
/**
 * Lesson 04: your fixed-block allocator.
 *
 * The chapter (../README.md) walks you through it step by step. Grade it with
 * `deno task lesson 04`.
 *
 * @module
 */

import type {
  AllocatorStats,
  FixedBlockAllocator,
  PhysicalMemoryManager,
} from "../../../kernel/components.ts";
import type { PhysMem } from "../../../kernel/mm/phys.ts";

/** Builds an allocator of `blockSize`-byte blocks carved from frames of `pmm`. */
export function createFixedBlockAllocator(
  mem: PhysMem,
  pmm: PhysicalMemoryManager,
  blockSize: number,
): FixedBlockAllocator {
  return {
    blockSize,

    allocate(): number | undefined {
      throw new Error("not implemented yet: see README.md#step-2-allocating-a-block");
    },

    free(pa: number): void {
      throw new Error(
        "not implemented yet: see README.md#step-3-freeing-a-block-and-giving-frames-back",
      );
    },

    stats(): AllocatorStats {
      throw new Error("not implemented yet: see README.md#step-6-statistics");
    },
  };
}
