/**
 * The reference fixed-block allocator: blocks of one size carved from 4 KiB frames of the
 * PMM, each frame with its own free list threaded through its free blocks in RAM.
 *
 * A free block's first eight bytes hold the physical address of the next free block of the
 * same frame (0 ends the list): the classic intrusive free list, so the allocator's only
 * memory is the blocks themselves. What a kernel keeps in registers and globals (which
 * frames it owns, each list's head and count) is TypeScript here.
 *
 * - **allocate** pops the head of a frame that still has free blocks; when none has, it
 *   takes a frame from the PMM and links all its blocks.
 * - **free** pushes the block back on its frame's list; a frame whose blocks are all free
 *   goes back to the PMM, so the allocator holds only the frames it needs (and a leak shows
 *   in its frame count).
 *
 * A block address that is not one of its blocks, or a block already free, is a RangeError
 * that names it: a kernel's double free is found where it happens.
 *
 * @module
 */

import type { AllocatorStats, FixedBlockAllocator, PhysicalMemoryManager } from "../components.ts";
import { hex } from "../format.ts";
import { PAGE_SIZE, type PhysMem } from "./phys.ts";

/** One frame of blocks: its free list's head and a bit per block that is free. */
interface BlockFrame {
  head: number;
  free: number;
  isFree: Uint8Array;
}

/**
 * Builds an allocator of `blockSize`-byte blocks (a multiple of 8 from 8 to 4096; blocks are
 * aligned to it when it is a power of two). Throws a RangeError for any other size.
 */
export function createFixedBlockAllocator(
  mem: PhysMem,
  pmm: PhysicalMemoryManager,
  blockSize: number,
): FixedBlockAllocator {
  if (!Number.isInteger(blockSize) || blockSize < 8 || blockSize > PAGE_SIZE || blockSize % 8) {
    throw new RangeError(`block size ${blockSize}: give a multiple of 8 from 8 to ${PAGE_SIZE}`);
  }
  const perFrame = Math.floor(PAGE_SIZE / blockSize);
  const frames = new Map<number, BlockFrame>();
  /** Frames with at least one free block; allocation takes from the last. */
  const partial: number[] = [];
  let inUse = 0;

  const grow = (): number | undefined => {
    const frame = pmm.allocate(1);
    if (frame === undefined) return undefined;
    // Link the blocks in address order: block i points at block i + 1, the last at 0.
    for (let i = 0; i < perFrame; i++) {
      const next = i + 1 < perFrame ? frame + (i + 1) * blockSize : 0;
      mem.write(frame + i * blockSize, 8, BigInt(next));
    }
    frames.set(frame, { head: frame, free: perFrame, isFree: new Uint8Array(perFrame).fill(1) });
    partial.push(frame);
    return frame;
  };

  return {
    blockSize,

    allocate(): number | undefined {
      const frame = partial.length ? partial[partial.length - 1] : grow();
      if (frame === undefined) return undefined;
      const f = frames.get(frame)!;
      const block = f.head;
      f.head = Number(mem.read(block, 8));
      f.isFree[(block - frame) / blockSize] = 0;
      if (--f.free === 0) partial.pop();
      inUse++;
      return block;
    },

    free(pa: number): void {
      const frame = pa - (pa % PAGE_SIZE);
      const f = frames.get(frame);
      const index = (pa - frame) / blockSize;
      if (!f || !Number.isInteger(index) || index >= perFrame) {
        throw new RangeError(`free(${hex(pa)}): not a ${blockSize}-byte block of this allocator`);
      }
      if (f.isFree[index]) throw new RangeError(`free(${hex(pa)}): the block is already free`);
      f.isFree[index] = 1;
      mem.write(pa, 8, BigInt(f.head));
      f.head = pa;
      inUse--;
      if (f.free++ === 0) partial.push(frame);
      if (f.free === perFrame) {
        // Every block is free: the frame goes back to the PMM.
        partial.splice(partial.lastIndexOf(frame), 1);
        frames.delete(frame);
        pmm.free(frame, 1);
      }
    },

    stats(): AllocatorStats {
      return { inUse, frames: frames.size };
    },
  };
}
