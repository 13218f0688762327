/**
 * The grader of lesson 02 catches real mistakes: physical memory managers with one bug
 * each (the mistakes students make) must fail the case about that bug, on both boards,
 * while the reference passes everything (tests/lessons_test.ts).
 */

import assert from "node:assert/strict";
import { MEMMAP_USABLE, type MemoryRegion } from "../../emulator/core/bootinfo.ts";
import type { PhysicalMemoryManager, PmmFactory } from "../../kernel/components.ts";
import { createStackPmm } from "../../kernel/mm/pmm.ts";
import { assertFailsOn, failingCases, type Failures } from "../harness/grader_testing.ts";
import { runLesson } from "../harness/run.ts";
import lesson from "./lesson.ts";

const F = 4096;

/** The cases `pmm` fails, with the architectures each fails on. */
function failures(pmm: PmmFactory, only?: string): Failures {
  return failingCases(lesson, { pmm }, only);
}

/**
 * A PMM that keeps its free runs in a JavaScript array, with switchable bugs. Without bugs
 * it is correct in every way but one: its books are not in RAM.
 */
function listPmm(bugs: {
  noCoalesce?: boolean;
  freeIsNoop?: boolean;
  staleStats?: boolean;
  fixedTotal?: boolean;
} = {}): PmmFactory {
  return (_mem, map) => {
    // Free runs, the one allocate looks at first last (a stack, as the reference's).
    let runs = map.filter((r) => r.type === MEMMAP_USABLE).map((r) => {
      const base = Math.ceil(r.base / F) * F, end = Math.floor((r.base + r.length) / F) * F;
      return { base, frames: (end - base) / F };
    }).filter((r) => r.frames > 0).reverse();
    let free = runs.reduce((n, r) => n + r.frames, 0), allocated = 0;
    const total0 = free;
    const coalesce = () => {
      runs.sort((a, b) => a.base - b.base);
      const out: typeof runs = [];
      for (const r of runs) {
        const last = out[out.length - 1];
        if (last && last.base + last.frames * F === r.base) last.frames += r.frames;
        else out.push({ ...r });
      }
      runs = out.reverse(); // the lowest run last, where allocate looks first
    };
    const pmm: PhysicalMemoryManager = {
      allocate(n = 1) {
        let i = runs.findLastIndex((x) => x.frames >= n);
        if (i < 0 && !bugs.noCoalesce) {
          coalesce();
          i = runs.findLastIndex((x) => x.frames >= n);
        }
        if (i < 0) return undefined;
        const r = runs[i];
        const pa = r.base;
        r.base += n * F;
        r.frames -= n;
        if (r.frames === 0) runs.splice(i, 1);
        free -= n;
        allocated += n;
        return pa;
      },
      free(pa, n = 1) {
        if (bugs.freeIsNoop) return;
        runs.push({ base: pa, frames: n });
        free += n;
        if (!bugs.staleStats) allocated = Math.max(0, allocated - n);
      },
      stats() {
        const total = bugs.fixedTotal ? total0 : free + allocated;
        return { total: total * F, free: free * F, allocatedFrames: allocated, runs: runs.length };
      },
    };
    return pmm;
  };
}

Deno.test("lesson 02 grader: a PMM whose books are not in RAM fails only the case about it", () => {
  const failed = failures(listPmm());
  assertFailsOn(failed, "keeps its free runs in RAM, in frames it never hands out");
  assert.equal(failed.size, 1, [...failed.keys()].join("; "));
});

Deno.test("lesson 02 grader: handing out memory the map does not call usable fails", () => {
  const everything: PmmFactory = (mem, map) =>
    createStackPmm(mem, map.map((r) => ({ ...r, type: MEMMAP_USABLE })));
  const failed = failures(everything, "usable 4 KiB frame");
  assertFailsOn(failed, "allocate hands out a usable 4 KiB frame that the CPU can write");
});

Deno.test("lesson 02 grader: not rounding a region inwards, or merging regions, fails", () => {
  const outwards: PmmFactory = (mem, map) =>
    createStackPmm(
      mem,
      map.map((r): MemoryRegion =>
        r.type !== MEMMAP_USABLE ? r : {
          base: Math.floor(r.base / F) * F,
          length: Math.ceil((r.base + r.length) / F) * F - Math.floor(r.base / F) * F,
          type: r.type,
        }
      ),
    );
  assertFailsOn(
    failures(outwards, "rounded inwards"),
    "usable regions that do not start or end on a frame are rounded inwards",
  );
  const merged: PmmFactory = (mem, map) => {
    const usable = map.filter((r) => r.type === MEMMAP_USABLE);
    const base = Math.min(...usable.map((r) => r.base));
    const end = Math.max(...usable.map((r) => r.base + r.length));
    return createStackPmm(mem, [{ base, length: end - base, type: MEMMAP_USABLE }]);
  };
  assertFailsOn(failures(merged, "straddles"), "a run never straddles a hole in the memory map");
});

Deno.test("lesson 02 grader: a PMM that hands out its own books fails", () => {
  const careless: PmmFactory = (mem, map) => {
    const pmm = createStackPmm(mem, map);
    pmm.free(pmm.stackBase, pmm.stackFrames); // its stack becomes "free"
    return pmm;
  };
  assertFailsOn(
    failures(careless, "never overlap"),
    "frames never overlap each other, the PMM's own data, or reserved memory",
  );
  assertFailsOn(
    failures(careless, "keeps its free runs"),
    "keeps its free runs in RAM, in frames it never hands out",
  );
});

Deno.test("lesson 02 grader: runs, frees, coalescing and statistics each have a case that catches them", () => {
  const single: PmmFactory = (mem, map) => {
    const pmm = createStackPmm(mem, map);
    return {
      allocate: () => pmm.allocate(),
      free: (pa, n) => pmm.free(pa, n),
      stats: () => pmm.stats(),
    };
  };
  assertFailsOn(
    failures(single, "contiguous"),
    "runs of several frames are contiguous, inside one region, and apart",
  );
  assertFailsOn(
    failures(listPmm({ freeIsNoop: true }), "come back"),
    "freed frames come back: free everything, then allocate it all again",
  );
  assertFailsOn(
    failures(listPmm({ noCoalesce: true }), "frame by frame"),
    "a run freed frame by frame comes back whole",
  );
  assertFailsOn(
    failures(listPmm({ staleStats: true }), "statistics"),
    "statistics add up through allocations and frees",
  );
  assertFailsOn(
    failures(listPmm({ fixedTotal: true }), "reclaimable"),
    "bootloader-reclaimable memory is handed out only once it is freed to the PMM",
  );
});

Deno.test("lesson 02 grader: a PMM that throws, loops or returns nonsense fails with a clear message", () => {
  const nonsense: PmmFactory = (mem, map) => ({
    ...createStackPmm(mem, map),
    allocate: () => "a frame" as unknown as number,
  });
  const r1 = runLesson(lesson, { pmm: nonsense }, {
    which: "exercise",
    seed: 1,
    arches: ["riscv64"],
    only: "usable 4 KiB frame",
  });
  assert.match(
    r1[0].failure!.message,
    /allocate\(\) returned "a frame", not the address of a 4 KiB frame/,
  );
  const spinning: PmmFactory = (mem) => ({
    allocate: () => {
      for (;;) mem.read(0x8020_0000, 8);
    },
    free: () => {},
    stats: () => ({ total: 0, free: 0, allocatedFrames: 0, runs: 0 }),
  });
  const r2 = runLesson(lesson, { pmm: spinning }, {
    which: "exercise",
    seed: 1,
    arches: ["riscv64"],
    only: "usable 4 KiB frame",
  });
  assert.equal(r2[0].failure!.kind, "hang");
  assert.match(
    r2[0].failure!.message,
    /pmm\.allocate\(\) did not finish: more than 2000000 operations/,
  );
});
