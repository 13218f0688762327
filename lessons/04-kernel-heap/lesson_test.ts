/**
 * The grader of lesson 04 catches real mistakes: allocators with one bug each (the mistakes
 * students make) must fail the case about that bug, on both boards, while the reference
 * passes everything (tests/lessons_test.ts).
 */

import assert from "node:assert/strict";
import {
  type FixedBlockFactory,
  OutOfMemory,
  type PhysicalMemoryManager,
  type SlabCache,
  type SlabFactory,
} from "../../kernel/components.ts";
import { createFixedBlockAllocator } from "../../kernel/mm/fixed_block.ts";
import { createSlabAllocator, SLAB_MAX_OBJECT } from "../../kernel/mm/slab.ts";
import { assertFailsOn, failingCases, type Failures } from "../harness/grader_testing.ts";
import { runLesson } from "../harness/run.ts";
import lesson from "./lesson.ts";

/** The cases the given components fail (the reference for the other), with their boards. */
function failures(
  impls: { fixedBlock?: FixedBlockFactory; slab?: SlabFactory },
  only: string,
): Failures {
  return failingCases(lesson, {
    fixedBlock: impls.fixedBlock ?? createFixedBlockAllocator,
    slab: impls.slab ?? createSlabAllocator,
  }, only);
}

/** A PMM whose free does nothing: whatever goes back is lost. */
const leaky = (pmm: PhysicalMemoryManager): PhysicalMemoryManager => ({
  allocate: (n) => pmm.allocate(n),
  free: () => {},
  stats: () => pmm.stats(),
});

Deno.test("lesson 04 grader: blocks that overlap fail the overlap case", () => {
  // A stride 8 bytes short of the block size: each block overlaps the next.
  const short: FixedBlockFactory = (mem, pmm, size) => ({
    ...createFixedBlockAllocator(mem, pmm, Math.max(8, size - 8)),
    blockSize: size,
  });
  assertFailsOn(
    failures({ fixedBlock: short }, "never overlap"),
    "blocks of sizes that do and do not divide a page never overlap",
  );
});

Deno.test("lesson 04 grader: bookkeeping written into a live block is seen", () => {
  const scribbler: FixedBlockFactory = (mem, pmm, size) => {
    const fba = createFixedBlockAllocator(mem, pmm, size);
    let first: number | undefined;
    return {
      blockSize: size,
      allocate() {
        const pa = fba.allocate();
        first ??= pa;
        if (first !== undefined) mem.write(first, 4, BigInt(fba.stats().inUse)); // a "counter"
        return pa;
      },
      free: (pa) => fba.free(pa),
      stats: () => fba.stats(),
    };
  };
  const failed = failures({ fixedBlock: scribbler }, "never overlap");
  assertFailsOn(failed, "blocks of sizes that do and do not divide a page never overlap");
});

Deno.test("lesson 04 grader: frames that never go back to the PMM fail the leak cases", () => {
  const keeps: FixedBlockFactory = (mem, pmm, size) =>
    createFixedBlockAllocator(mem, leaky(pmm), size);
  assertFailsOn(
    failures({ fixedBlock: keeps }, "nothing leaks"),
    "a frame whose blocks are all free goes back to the PMM: nothing leaks",
  );
  const keepsSlabs: SlabFactory = (mem, pmm) => createSlabAllocator(mem, leaky(pmm));
  assertFailsOn(
    failures({ slab: keepsSlabs }, "empty slab"),
    "an empty slab goes back to the PMM: freeing everything leaves no frame held",
  );
});

Deno.test("lesson 04 grader: statistics that do not match the PMM's traffic fail", () => {
  // Counts every frame it ever took, not the ones it holds.
  const everTaken: FixedBlockFactory = (mem, pmm, size) => {
    let taken = 0;
    const fba = createFixedBlockAllocator(mem, {
      allocate: (n) => {
        const pa = pmm.allocate(n);
        if (pa !== undefined) taken++;
        return pa;
      },
      free: (pa, n) => pmm.free(pa, n),
      stats: () => pmm.stats(),
    }, size);
    return { ...fba, stats: () => ({ inUse: fba.stats().inUse, frames: taken }) };
  };
  assertFailsOn(
    failures({ fixedBlock: everTaken }, "seeded random allocations and frees of blocks"),
    "seeded random allocations and frees of blocks agree with the grader's books",
  );
});

Deno.test("lesson 04 grader: accepting bad frees fails the refusal cases", () => {
  const lenient: FixedBlockFactory = (mem, pmm, size) => {
    const fba = createFixedBlockAllocator(mem, pmm, size);
    return {
      ...fba,
      free(pa) {
        try {
          fba.free(pa);
        } catch { /* a kernel that shrugs */ }
      },
    };
  };
  assertFailsOn(
    failures({ fixedBlock: lenient }, "freeing a block twice"),
    "freeing a block twice, or an address it never handed out, throws a RangeError",
  );
});

Deno.test("lesson 04 grader: throwing when the PMM is dry fails the running-out case", () => {
  const throwing: FixedBlockFactory = (mem, pmm, size) =>
    createFixedBlockAllocator(mem, {
      ...pmm,
      allocate: (n) => {
        const pa = pmm.allocate(n);
        if (pa === undefined) throw new OutOfMemory("a block");
        return pa;
      },
      free: (pa, n) => pmm.free(pa, n),
      stats: () => pmm.stats(),
    }, size);
  assertFailsOn(
    failures({ fixedBlock: throwing }, "when the PMM runs dry, allocate"),
    "when the PMM runs dry, allocate returns undefined and corrupts nothing",
  );
});

Deno.test("lesson 04 grader: a slab cache that does not zero its objects fails", () => {
  const dirty: SlabFactory = (mem, pmm) => {
    const slab = createSlabAllocator(mem, pmm);
    return {
      createCache(name, size) {
        const c = slab.createCache(name, size);
        return {
          ...c,
          name,
          objectSize: size,
          allocate() {
            const pa = c.allocate();
            if (pa !== undefined && size > 8) mem.write(pa + 8, 1, 0xa5n); // "forgot to zero"
            return pa;
          },
          free: (pa) => c.free(pa),
          stats: () => c.stats(),
        };
      },
      caches: () => slab.caches(),
    };
  };
  assertFailsOn(
    failures({ slab: dirty }, "zeroed, aligned objects"),
    "a slab cache hands out zeroed, aligned objects inside a slab taken from the PMM",
  );
});

Deno.test("lesson 04 grader: caches that share slabs fail the separation and refusal cases", () => {
  // Every cache is a view of one big cache: objects of different caches share slabs.
  const shared: SlabFactory = (mem, pmm) => {
    const slab = createSlabAllocator(mem, pmm);
    let one: SlabCache | undefined;
    const views: SlabCache[] = [];
    return {
      createCache(name, objectSize) {
        one ??= slab.createCache("shared", SLAB_MAX_OBJECT);
        const c = one;
        const view: SlabCache = {
          name,
          objectSize,
          allocate: () => c.allocate(),
          free: (pa) => c.free(pa),
          stats: () => c.stats(),
        };
        views.push(view);
        return view;
      },
      caches: () => views,
    };
  };
  assertFailsOn(
    failures({ slab: shared }, "keep their objects apart"),
    "caches of several sizes, some larger than a quarter page, keep their objects apart",
  );
  assertFailsOn(
    failures({ slab: shared }, "another cache's object"),
    "freeing a foreign address, another cache's object, or an object twice throws a RangeError",
  );
});

Deno.test("lesson 04 grader: a failure names the call and the object", () => {
  const wild: SlabFactory = (mem, pmm) => ({
    createCache: (name, size) => ({
      ...createSlabAllocator(mem, pmm).createCache(name, size),
      allocate: () => 0x10,
    }),
    caches: () => [],
  });
  const results = runLesson(lesson, { fixedBlock: createFixedBlockAllocator, slab: wild }, {
    which: "exercise",
    seed: 1,
    arches: ["riscv64"],
    only: "zeroed, aligned objects",
  });
  assert.match(
    results[0].failure!.message,
    /cache "thread"\.allocate\(\) returned 0x10, but 0x10\.\.0xd8 is not inside frames/,
  );
});
