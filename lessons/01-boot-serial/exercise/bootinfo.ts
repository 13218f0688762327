// deno-lint-ignore-file no-unused-vars -- the starter's parameters are yours to use
/**
 * Lesson 01, part 1: reading the memory map from the boot-information block the firmware
 * left in RAM.
 *
 * The chapter (../README.md) walks you through it. Grade it with `deno task lesson 01`.
 *
 * @module
 */

import type { MemoryRegion } from "../../../emulator/core/bootinfo.ts";
import type { PhysMem } from "../../../kernel/mm/phys.ts";

/**
 * Reads the memory map from the boot-information block at physical address `bootInfo`.
 * Throws an Error when the block is not one (wrong magic or version).
 */
export function readMemoryMap(mem: PhysMem, bootInfo: number): MemoryRegion[] {
  throw new Error("not implemented yet: see README.md#step-1-reading-the-memory-map");
}
