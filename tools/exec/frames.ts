/**
 * Physical page frames for the exec layer's tiny kernel: a bump allocator over a range of
 * RAM. Frames come out zeroed because guest RAM starts zeroed and a frame is never handed
 * out twice (the process lives for one run).
 *
 * @module
 */

import { formatSize, hex } from "../../emulator/core/memory.ts";

/** The page size of both architectures' user mappings. */
export const PAGE_SIZE = 4096;

/** Thrown when the program needs more RAM than the machine has. */
export class OutOfMemory extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "OutOfMemory";
  }
}

/** Hands out 4 KiB frames of physical memory in [base, end). */
export class FrameAllocator {
  #next: number;

  /** Allocates from physical addresses `base` (page-aligned) up to `end`. */
  constructor(readonly base: number, readonly end: number) {
    if (base % PAGE_SIZE) throw new RangeError(`frame pool base ${hex(base)} is not page-aligned`);
    this.#next = base;
  }

  /** The physical address of a fresh zeroed frame. */
  allocate(): number {
    if (this.#next + PAGE_SIZE > this.end) {
      throw new OutOfMemory(
        `out of memory: all ${formatSize(this.end - this.base)} of RAM are in use ` +
          `(give the machine more with --mem)`,
      );
    }
    const pa = this.#next;
    this.#next += PAGE_SIZE;
    return pa;
  }

  /** How many bytes have been handed out. */
  get used(): number {
    return this.#next - this.base;
  }
}
