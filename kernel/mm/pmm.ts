/**
 * The reference physical memory manager, after anos's: a stack of free runs kept in RAM.
 *
 * Free memory is a stack of runs, each a `struct run { u64 base; u64 frames; }` (16 bytes):
 * a whole free region costs one entry however large it is. The stack lives in frames the
 * PMM reserves for itself at the start of the first usable region big enough, so it is
 * bits in emulated RAM like everything else the kernel owns.
 *
 * - **allocate(1)** takes the lowest frame of the run on top: O(1), two stores.
 * - **allocate(n)** looks down the stack for the first run of at least `n` frames and takes
 *   its low end; a run that empties is replaced by the top entry. If none is long enough
 *   (free memory may be there in adjacent runs that were never merged), it coalesces the
 *   whole stack once and tries again.
 * - **free(pa, n)** extends the top run when the freed frames touch it (so freeing what
 *   was just allocated, the common case, costs no new entry), and otherwise pushes a run.
 *   When the stack is full it coalesces (sort by base, merge neighbours) and pushes again.
 *
 * Capacity: at most half the frames (plus one) can be separate, non-adjacent free runs, so a
 * stack of that many entries never overflows after coalescing. It costs 8 bytes per frame
 * of RAM, 1/512: 512 KiB for 256 MiB.
 *
 * Only `MEMMAP_USABLE` regions (rounded inwards to whole frames) are ever handed out. The
 * kernel image, modules, firmware and ACPI tables and reserved memory are never on the
 * stack. Bootloader-reclaimable memory is not given to the PMM at all: the kernel returns it
 * with `free` once it has consumed what is there (see kernel.ts), and then it is ordinary
 * free memory.
 *
 * What it does not do: detect a double free (that would cost a scan of the stack per free;
 * the kernel's component guard detects it instead, see guard.ts).
 *
 * @module
 */

import { MEMMAP_USABLE, type MemoryRegion } from "../../emulator/core/bootinfo.ts";
import type { PhysicalMemoryManager, PmmStats } from "../components.ts";
import { formatSize, hex } from "../format.ts";
import { PAGE_SIZE, type PhysMem } from "./phys.ts";

/** Bytes of one `struct run` on the stack. */
export const RUN_ENTRY_SIZE = 16;

/** The reference PMM: what {@link createStackPmm} returns, with a few more read-outs. */
export interface StackPmm extends PhysicalMemoryManager {
  /** Where the run stack lives, and how many frames it takes. */
  readonly stackBase: number;
  /** See {@link StackPmm.stackBase}. */
  readonly stackFrames: number;
  /** The free runs, top of the stack first (reads them from RAM; for tests and the log). */
  runs(): { base: number; frames: number }[];
}

/**
 * Builds the PMM from the boot memory map. Throws an Error that says why when there is no
 * usable memory or no usable region can hold the run stack.
 */
export function createStackPmm(mem: PhysMem, memoryMap: readonly MemoryRegion[]): StackPmm {
  const regions = usableRegions(memoryMap);
  // The memory it manages: frames freed outside it are new memory (reclaimed).
  const managed = regions.map((r) => ({ base: r.base, end: r.base + r.frames * PAGE_SIZE }));
  const totalFrames = regions.reduce((n, r) => n + r.frames, 0);
  if (totalFrames === 0) {
    throw new Error("the memory map has no usable RAM (no MEMMAP_USABLE region of a whole frame)");
  }
  const capacity = Math.floor(totalFrames / 2) + 2;
  const stackFrames = Math.ceil((capacity * RUN_ENTRY_SIZE) / PAGE_SIZE);
  const home = regions.find((r) => r.frames > stackFrames);
  if (!home) {
    throw new Error(
      `no usable region can hold the free-run stack (${stackFrames} frames, ` +
        `${formatSize(stackFrames * PAGE_SIZE)})`,
    );
  }
  const stackBase = home.base;
  home.base += stackFrames * PAGE_SIZE;
  home.frames -= stackFrames;

  let depth = 0; // entries on the stack; entry i is at stackBase + 16 i
  let freeFrames = 0;
  let allocated = 0;

  const entry = (i: number) => stackBase + i * RUN_ENTRY_SIZE;
  const baseOf = (i: number) => Number(mem.read(entry(i), 8));
  const framesOf = (i: number) => Number(mem.read(entry(i) + 8, 8));
  const setRun = (i: number, base: number, frames: number) => {
    mem.write(entry(i), 8, BigInt(base));
    mem.write(entry(i) + 8, 8, BigInt(frames));
  };

  /** Sorts the stack by base and merges runs that touch; the highest run ends on top. */
  const coalesce = () => {
    const runs = Array.from({ length: depth }, (_, i) => ({ base: baseOf(i), frames: framesOf(i) }))
      .sort((a, b) => b.base - a.base); // highest first, so the lowest ends on top
    const merged: { base: number; frames: number }[] = [];
    for (const r of runs) {
      const last = merged[merged.length - 1];
      if (last && r.base + r.frames * PAGE_SIZE === last.base) {
        last.base = r.base;
        last.frames += r.frames;
      } else merged.push({ ...r });
    }
    merged.forEach((r, i) => setRun(i, r.base, r.frames));
    depth = merged.length;
  };

  const push = (base: number, frames: number) => {
    if (depth === capacity) coalesce();
    if (depth === capacity) {
      throw new Error(
        `the free-run stack is full (${capacity} runs) even after coalescing: ` +
          `something freed frames twice`,
      );
    }
    setRun(depth++, base, frames);
  };

  // Push the highest region first, so that allocation starts at the lowest address.
  for (let i = regions.length - 1; i >= 0; i--) {
    if (regions[i].frames > 0) push(regions[i].base, regions[i].frames);
  }
  freeFrames = totalFrames - stackFrames;

  const takeFrom = (i: number, frames: number): number => {
    const base = baseOf(i), have = framesOf(i);
    if (have === frames) {
      // The run empties: move the top entry into its slot.
      depth--;
      if (i !== depth) setRun(i, baseOf(depth), framesOf(depth));
    } else {
      setRun(i, base + frames * PAGE_SIZE, have - frames);
    }
    freeFrames -= frames;
    allocated += frames;
    return base;
  };

  const find = (frames: number): number => {
    for (let i = depth - 1; i >= 0; i--) if (framesOf(i) >= frames) return i;
    return -1;
  };

  return {
    stackBase,
    stackFrames,

    allocate(frames = 1): number | undefined {
      checkCount(frames, "allocate");
      if (depth === 0 || frames > freeFrames) return undefined;
      if (frames === 1) return takeFrom(depth - 1, 1);
      let i = find(frames);
      if (i < 0) {
        coalesce();
        i = find(frames);
      }
      return i < 0 ? undefined : takeFrom(i, frames);
    },

    free(pa: number, frames = 1): void {
      checkCount(frames, "free");
      if (!Number.isInteger(pa) || pa % PAGE_SIZE !== 0) {
        throw new RangeError(`free(${hex(pa)}): not the address of a frame (4 KiB aligned)`);
      }
      const end = pa + frames * PAGE_SIZE;
      if (depth > 0) {
        const top = depth - 1, base = baseOf(top), have = framesOf(top);
        if (base + have * PAGE_SIZE === pa) {
          mem.write(entry(top) + 8, 8, BigInt(have + frames));
        } else if (end === base) {
          setRun(top, pa, have + frames);
        } else push(pa, frames);
      } else push(pa, frames);
      // Frames outside the memory it manages were never handed out: they are reclaimed
      // memory (bootloader-reclaimable frames the kernel gives back), new free memory that
      // grows the total. The total is always what is free plus what is allocated.
      if (managed.some((m) => pa >= m.base && end <= m.end)) {
        allocated = Math.max(0, allocated - frames);
      } else {
        managed.push({ base: pa, end });
      }
      freeFrames += frames;
    },

    stats(): PmmStats {
      return {
        total: (freeFrames + allocated) * PAGE_SIZE,
        free: freeFrames * PAGE_SIZE,
        allocatedFrames: allocated,
        runs: depth,
      };
    },

    runs() {
      const out = [];
      for (let i = depth - 1; i >= 0; i--) out.push({ base: baseOf(i), frames: framesOf(i) });
      return out;
    },
  };
}

/** The usable regions of a memory map, rounded inwards to whole frames, lowest first. */
export function usableRegions(
  memoryMap: readonly MemoryRegion[],
): { base: number; frames: number }[] {
  return memoryMap
    .filter((r) => r.type === MEMMAP_USABLE)
    .map((r) => {
      const base = Math.ceil(r.base / PAGE_SIZE) * PAGE_SIZE;
      const end = Math.floor((r.base + r.length) / PAGE_SIZE) * PAGE_SIZE;
      return { base, frames: Math.max(0, (end - base) / PAGE_SIZE) };
    })
    .filter((r) => r.frames > 0)
    .sort((a, b) => a.base - b.base);
}

function checkCount(frames: number, what: string): void {
  if (!Number.isSafeInteger(frames) || frames < 1) {
    throw new RangeError(`${what}: ${frames} is not a number of frames (a positive integer)`);
  }
}
