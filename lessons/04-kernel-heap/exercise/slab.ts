// deno-lint-ignore-file no-unused-vars -- the starter's parameters are yours to use
/**
 * Lesson 04: your slab allocator.
 *
 * The chapter (../README.md) walks you through it step by step. Grade it with
 * `deno task lesson 04`.
 *
 * @module
 */

import type {
  AllocatorStats,
  PhysicalMemoryManager,
  SlabAllocator,
  SlabCache,
} from "../../../kernel/components.ts";
import type { PhysMem } from "../../../kernel/mm/phys.ts";

/** Builds a slab allocator whose caches take their slabs from `pmm`. */
export function createSlabAllocator(mem: PhysMem, pmm: PhysicalMemoryManager): SlabAllocator {
  return {
    createCache(name: string, objectSize: number): SlabCache {
      return {
        name,
        objectSize,

        allocate(): number | undefined {
          throw new Error("not implemented yet: see README.md#step-8-allocating-an-object");
        },

        free(pa: number): void {
          throw new Error("not implemented yet: see README.md#step-9-freeing-an-object");
        },

        stats(): AllocatorStats & { slabs: number } {
          throw new Error("not implemented yet: see README.md#step-11-statistics");
        },
      };
    },

    caches(): readonly SlabCache[] {
      throw new Error("not implemented yet: see README.md#step-7-a-cache-and-its-slabs");
    },
  };
}
