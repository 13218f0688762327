/**
 * The kernel's memory statistics: what `memstats` copies out and the boot log prints. Every
 * frame the kernel holds is in one of the per-use accounts, and every kernel object in one
 * of the heap's counters, so a leak is a number that does not come back down.
 *
 * @module
 */

import type { Kernel } from "./kernel.ts";
import type { MemStats } from "./syscall/abi.ts";

/** The statistics now. */
export function memStats(k: Kernel): MemStats {
  const s = k.pmm.stats();
  const caches = k.heap.slab.caches().map((c) => c.stats());
  const spaces = k.heap.spaces.stats();
  let threads = 0;
  for (const t of k.threads.values()) if (!t.idle && t.state !== "dead") threads++;
  return {
    totalBytes: s.total,
    freeBytes: s.free,
    allocatedFrames: s.allocatedFrames,
    freeRuns: s.runs,
    pageTableFrames: k.frames.held.pageTables,
    kernelStackFrames: k.frames.held.kernelStacks,
    heapFrames: k.frames.held.heap,
    userFrames: k.frames.held.user,
    heapObjects: caches.reduce((n, c) => n + c.inUse, 0) + spaces.inUse,
    processes: k.processes.size,
    threads,
    addressSpaces: spaces.inUse,
  };
}
