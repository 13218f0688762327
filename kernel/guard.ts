/**
 * Guards around the replaceable components: the kernel calls a student's PMM, page tables,
 * allocators and run queue through these wrappers, which check every answer before the
 * kernel relies on it. A component that throws, or returns something impossible (a frame
 * outside RAM, the same frame twice, a thread that was never queued), becomes a
 * {@link ComponentFailure} that names the component, the call and what came back, and the
 * kernel panics with it: never a JavaScript crash, never silent corruption.
 *
 * The guards also catch the kernel's own mistakes with the components (freeing a frame
 * twice, queueing a thread twice) as {@link KernelPanic}s.
 *
 * Only {@link OutOfMemory} passes through: running out of memory is a condition the kernel
 * handles (E_NOMEM), not a failure.
 *
 * @module
 */

import {
  type AllocatorStats,
  type FixedBlockAllocator,
  type Mapping,
  OutOfMemory,
  type PageTables,
  type PhysicalMemoryManager,
  type PmmStats,
  type RunQueue,
  type Schedulable,
  type SerialConsole,
  type SlabAllocator,
  type SlabCache,
} from "./components.ts";
import { hex } from "./format.ts";
import { PAGE_SIZE } from "./mm/phys.ts";
import { ComponentFailure, describeError, KernelPanic } from "./panic.ts";

/** Calls `fn`, turning anything it throws (but OutOfMemory) into a ComponentFailure. */
function call<R>(component: string, what: string, fn: () => R): R {
  try {
    return fn();
  } catch (e) {
    if (e instanceof OutOfMemory || e instanceof KernelPanic) throw e;
    throw new ComponentFailure(component, `${what} threw ${describeError(e)}`, e);
  }
}

function show(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) && v >= 0 ? hex(v) : String(v);
  if (typeof v === "bigint") return hex(v);
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? hex(x) : x)) ?? String(v);
  } catch {
    return String(v);
  }
}

// ---- the PMM -----------------------------------------------------------------------------

/** The guarded PMM: the component's interface, plus what only the kernel may do. */
export interface GuardedPmm extends PhysicalMemoryManager {
  /** Hands bootloader-reclaimable frames to the PMM (they become usable). */
  reclaim(pa: number, frames: number): void;
  /** Whether the frame at `pa` is allocated now (for the other guards). */
  isAllocated(pa: number): boolean;
}

/** Guards `pmm`, which may hand out frames only inside `usable`. */
export function guardPmm(
  pmm: PhysicalMemoryManager,
  usable: readonly { base: number; frames: number }[],
): GuardedPmm {
  const ranges = usable.map((r) => ({ base: r.base, end: r.base + r.frames * PAGE_SIZE }));
  const allocated = new Set<number>(); // frame numbers
  const inRam = (pa: number, frames: number) =>
    ranges.some((r) => pa >= r.base && pa + frames * PAGE_SIZE <= r.end);
  const fail = (why: string): never => {
    throw new ComponentFailure("pmm", why);
  };
  return {
    allocate(frames = 1) {
      const pa = call("pmm", `allocate(${frames})`, () => pmm.allocate(frames));
      if (pa === undefined) return undefined;
      const what = `allocate(${frames}) returned ${show(pa)}`;
      if (typeof pa !== "number" || !Number.isSafeInteger(pa) || pa % PAGE_SIZE !== 0) {
        fail(`${what}, which is not the address of a frame (a 4 KiB-aligned number)`);
      }
      if (!inRam(pa, frames)) {
        fail(`${what}: ${hex(pa)}+${frames} frames is not inside usable RAM (${describe(ranges)})`);
      }
      for (let i = 0; i < frames; i++) {
        if (allocated.has(pa / PAGE_SIZE + i)) {
          fail(`${what}, but the frame at ${hex(pa + i * PAGE_SIZE)} is already allocated`);
        }
      }
      for (let i = 0; i < frames; i++) allocated.add(pa / PAGE_SIZE + i);
      return pa;
    },
    free(pa, frames = 1) {
      for (let i = 0; i < frames; i++) {
        if (!allocated.has(pa / PAGE_SIZE + i)) {
          throw new KernelPanic(
            `the kernel freed the frame at ${hex(pa + i * PAGE_SIZE)}, which is not allocated ` +
              `(a double free, or a frame it never allocated)`,
          );
        }
      }
      for (let i = 0; i < frames; i++) allocated.delete(pa / PAGE_SIZE + i);
      call("pmm", `free(${hex(pa)}, ${frames})`, () => pmm.free(pa, frames));
    },
    stats(): PmmStats {
      const s = call("pmm", "stats()", () => pmm.stats());
      for (const k of ["total", "free", "allocatedFrames", "runs"] as const) {
        const v = s?.[k];
        if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
          fail(`stats() returned ${show(s)}: ${k} is not a count`);
        }
      }
      return s;
    },
    reclaim(pa, frames) {
      ranges.push({ base: pa, end: pa + frames * PAGE_SIZE });
      call("pmm", `free(${hex(pa)}, ${frames}) of reclaimed memory`, () => pmm.free(pa, frames));
    },
    isAllocated: (pa) => allocated.has(Math.floor(pa / PAGE_SIZE)),
  };
}

function describe(ranges: { base: number; end: number }[]): string {
  return ranges.map((r) => `${hex(r.base)}..${hex(r.end)}`).join(", ");
}

// ---- page tables -------------------------------------------------------------------------

/** Guards `pt`. */
export function guardPageTables(pt: PageTables): PageTables {
  const c = "page tables";
  const fail = (why: string): never => {
    throw new ComponentFailure(c, why);
  };
  const count = (what: string, n: unknown): number => {
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
      fail(`${what} returned ${show(n)}, not a count of pages`);
    }
    return n as number;
  };
  return {
    format: pt.format,
    pageSizes: pt.pageSizes,
    createRoot(kernelFrom) {
      const what = `createRoot(${kernelFrom === undefined ? "" : hex(kernelFrom)})`;
      const root = call(c, what, () => pt.createRoot(kernelFrom));
      if (typeof root !== "number" || !Number.isSafeInteger(root) || root % PAGE_SIZE !== 0) {
        fail(`${what} returned ${show(root)}, not the address of a frame`);
      }
      return root;
    },
    map(root, asid, va, pa, size, flags, pageSize) {
      const what = `map(root ${hex(root)}, asid ${asid}, ${hex(va)} -> ${hex(pa)}, ${size} bytes)`;
      call(c, what, () => pt.map(root, asid, va, pa, size, flags, pageSize));
    },
    unmap(root, asid, va, size) {
      const what = `unmap(root ${hex(root)}, ${hex(va)}, ${size} bytes)`;
      return count(what, call(c, what, () => pt.unmap(root, asid, va, size)));
    },
    protect(root, asid, va, size, flags) {
      const what = `protect(root ${hex(root)}, ${hex(va)}, ${size} bytes)`;
      return count(what, call(c, what, () => pt.protect(root, asid, va, size, flags)));
    },
    translate(root, va): Mapping | undefined {
      const what = `translate(root ${hex(root)}, ${hex(va)})`;
      const m = call(c, what, () => pt.translate(root, va));
      if (m === undefined) return undefined;
      if (
        typeof m !== "object" || m === null || typeof m.pa !== "number" ||
        !Number.isSafeInteger(m.pa) || m.pa < 0 || !pt.pageSizes.includes(m.pageSize) ||
        typeof m.flags !== "object" || m.flags === null
      ) {
        fail(`${what} returned ${show(m)}, which is not a Mapping`);
      }
      return m;
    },
    destroyRoot(root) {
      call(c, `destroyRoot(${hex(root)})`, () => pt.destroyRoot(root));
    },
  };
}

// ---- the heap ----------------------------------------------------------------------------

/** Checks the objects an allocator hands out: inside frames the PMM gave out, never twice. */
function objectGuard(
  component: string,
  pmm: GuardedPmm,
  allocate: () => number | undefined,
  free: (pa: number) => void,
) {
  const live = new Set<number>();
  return {
    allocate(): number | undefined {
      const pa = call(component, "allocate()", allocate);
      if (pa === undefined) return undefined;
      if (typeof pa !== "number" || !Number.isSafeInteger(pa) || pa % 8 !== 0) {
        throw new ComponentFailure(component, `allocate() returned ${show(pa)}, not an address`);
      }
      if (!pmm.isAllocated(pa)) {
        throw new ComponentFailure(
          component,
          `allocate() returned ${hex(pa)}, which is not in a frame it took from the PMM`,
        );
      }
      if (live.has(pa)) {
        throw new ComponentFailure(component, `allocate() returned ${hex(pa)} twice`);
      }
      live.add(pa);
      return pa;
    },
    free(pa: number): void {
      if (!live.delete(pa)) {
        throw new KernelPanic(
          `the kernel freed ${hex(pa)} to ${component}, which did not hand it out`,
        );
      }
      call(component, `free(${hex(pa)})`, () => free(pa));
    },
  };
}

/** Guards the slab allocator and every cache it makes. */
export function guardSlab(slab: SlabAllocator, pmm: GuardedPmm): SlabAllocator {
  const guarded: SlabCache[] = [];
  return {
    createCache(name, objectSize) {
      const cache = call(
        "slab",
        `createCache("${name}", ${objectSize})`,
        () => slab.createCache(name, objectSize),
      );
      const g = objectGuard(
        `slab cache "${name}"`,
        pmm,
        () => cache.allocate(),
        (pa) => cache.free(pa),
      );
      const out: SlabCache = {
        name,
        objectSize,
        allocate: g.allocate,
        free: g.free,
        stats: () =>
          checkStats(`slab cache "${name}"`, call("slab", "stats()", () => cache.stats())),
      };
      guarded.push(out);
      return out;
    },
    caches: () => guarded,
  };
}

/** Guards a fixed-block allocator. */
export function guardFixedBlock(fba: FixedBlockAllocator, pmm: GuardedPmm): FixedBlockAllocator {
  const name = `fixed-block allocator (${fba.blockSize} bytes)`;
  const g = objectGuard(name, pmm, () => fba.allocate(), (pa) => fba.free(pa));
  return {
    blockSize: fba.blockSize,
    allocate: g.allocate,
    free: g.free,
    stats: () => checkStats(name, call(name, "stats()", () => fba.stats())),
  };
}

function checkStats<S extends AllocatorStats>(component: string, s: S): S {
  for (const k of ["inUse", "frames"] as const) {
    const v = s?.[k];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      throw new ComponentFailure(component, `stats() returned ${show(s)}: ${k} is not a count`);
    }
  }
  return s;
}

// ---- the run queue -----------------------------------------------------------------------

/** Guards a run queue: it must give back exactly the threads it was given. */
export function guardRunQueue<T extends Schedulable>(rq: RunQueue<T>): RunQueue<T> {
  const c = "run queue";
  const queued = new Set<T>();
  const tids = () => [...queued].map((t) => t.tid).join(", ");
  return {
    enqueue(t) {
      if (queued.has(t)) throw new KernelPanic(`the kernel queued thread ${t.tid} twice`);
      call(c, `enqueue(thread ${t.tid})`, () => rq.enqueue(t));
      queued.add(t);
    },
    remove(t) {
      const r = call(c, `remove(thread ${t.tid})`, () => rq.remove(t));
      if (r !== queued.has(t)) {
        throw new ComponentFailure(
          c,
          `remove(thread ${t.tid}) returned ${show(r)}, but the thread was ${
            queued.has(t) ? "" : "not "
          }queued`,
        );
      }
      queued.delete(t);
      return r;
    },
    next() {
      const t = call(c, "next()", () => rq.next());
      if (t === undefined) {
        if (queued.size > 0) {
          throw new ComponentFailure(
            c,
            `next() returned nothing while threads ${tids()} are queued`,
          );
        }
        return undefined;
      }
      if (!queued.has(t)) {
        throw new ComponentFailure(
          c,
          `next() returned ${describeThread(t)}, which is not a queued thread ` +
            `(queued: ${tids() || "none"})`,
        );
      }
      queued.delete(t);
      return t;
    },
    outranks(current) {
      const r = call(c, `outranks(thread ${current.tid})`, () => rq.outranks(current));
      if (typeof r !== "boolean") throw new ComponentFailure(c, `outranks() returned ${show(r)}`);
      return r;
    },
    get size() {
      return queued.size;
    },
  };
}

/** "thread 5" for something with a tid, else what it is. */
function describeThread(t: unknown): string {
  const tid = (t as Schedulable | null)?.tid;
  return typeof tid === "number" ? `thread ${tid}` : show(t);
}

// ---- the console -------------------------------------------------------------------------

/** Guards a console driver. */
export function guardConsole(con: SerialConsole): SerialConsole {
  const c = "console";
  return {
    init: (baud) => call(c, `init(${baud})`, () => con.init(baud)),
    putByte: (b) => call(c, `putByte(${b})`, () => con.putByte(b)),
    getByte: () => call(c, "getByte()", () => con.getByte()),
    enableReceiveInterrupt: (on) =>
      call(c, `enableReceiveInterrupt(${on})`, () => con.enableReceiveInterrupt(on)),
  };
}
