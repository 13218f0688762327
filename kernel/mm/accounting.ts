/**
 * Who holds which frames: the kernel takes every frame from the PMM through an account named
 * after its use (page tables, kernel stacks, the heap, user pages), so the statistics say
 * where memory went and a leak shows as a counter that does not come back down.
 *
 * The accounts wrap the PMM without changing its interface: a component that needs frames
 * (the page tables, the slab allocator) is handed the account it should charge.
 *
 * @module
 */

import type { PhysicalMemoryManager } from "../components.ts";

/** What a frame is used for. */
export type FrameUse = "pageTables" | "kernelStacks" | "heap" | "user";

/** Frames held per use. */
export type FrameCounts = Record<FrameUse, number>;

/** Per-use accounts over one PMM. */
export class FrameAccounts {
  /** Frames each use holds now. */
  readonly held: FrameCounts = { pageTables: 0, kernelStacks: 0, heap: 0, user: 0 };
  readonly #accounts = new Map<FrameUse, PhysicalMemoryManager>();

  /** Accounts over `pmm`. */
  constructor(pmm: PhysicalMemoryManager) {
    for (const use of Object.keys(this.held) as FrameUse[]) {
      this.#accounts.set(use, this.#account(pmm, use));
    }
  }

  /** A PMM that charges `use` for what it hands out and credits it for what comes back. */
  for(use: FrameUse): PhysicalMemoryManager {
    return this.#accounts.get(use)!;
  }

  #account(pmm: PhysicalMemoryManager, use: FrameUse): PhysicalMemoryManager {
    const held = this.held;
    return {
      allocate(frames = 1) {
        const pa = pmm.allocate(frames);
        if (pa !== undefined) held[use] += frames;
        return pa;
      },
      free(pa, frames = 1) {
        pmm.free(pa, frames);
        held[use] -= frames;
      },
      stats: () => pmm.stats(),
    };
  }
}
