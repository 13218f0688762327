import assert from "node:assert/strict";
import {
  MEMMAP_BOOTLOADER_RECLAIMABLE,
  MEMMAP_KERNEL_AND_MODULES,
  MEMMAP_RESERVED,
  MEMMAP_USABLE,
  type MemoryRegion,
} from "../../emulator/core/bootinfo.ts";
import { BufferPhysMem } from "./buffer_mem.ts";
import { createStackPmm, RUN_ENTRY_SIZE } from "./pmm.ts";

const BASE = 0x8000_0000;
const MiB = 1 << 20;
const F = 4096;

/** 8 MiB of RAM: 1 MiB reserved, 1 MiB kernel, 5 MiB usable, 1 MiB bootloader reclaimable. */
function machine(): { mem: BufferPhysMem; map: MemoryRegion[] } {
  const mem = new BufferPhysMem(BASE, 8 * MiB);
  const map: MemoryRegion[] = [
    { base: BASE, length: MiB, type: MEMMAP_RESERVED },
    { base: BASE + MiB, length: MiB, type: MEMMAP_KERNEL_AND_MODULES },
    { base: BASE + 2 * MiB, length: 5 * MiB, type: MEMMAP_USABLE },
    { base: BASE + 7 * MiB, length: MiB, type: MEMMAP_BOOTLOADER_RECLAIMABLE },
  ];
  return { mem, map };
}

Deno.test("pmm: the run stack lives in RAM at the start of the first usable region", () => {
  const { mem, map } = machine();
  const pmm = createStackPmm(mem, map);
  const frames = (5 * MiB) / F;
  const stackFrames = Math.ceil(((Math.floor(frames / 2) + 2) * RUN_ENTRY_SIZE) / F);
  assert.equal(pmm.stackBase, BASE + 2 * MiB);
  assert.equal(pmm.stackFrames, stackFrames);
  const s = pmm.stats();
  assert.equal(s.total, (frames - stackFrames) * F);
  assert.equal(s.free, s.total);
  assert.equal(s.allocatedFrames, 0);
  assert.equal(s.runs, 1);
  // The one run, as bits in RAM: struct run { u64 base; u64 frames; }.
  const runStart = BASE + 2 * MiB + stackFrames * F;
  assert.equal(mem.read(pmm.stackBase, 8), BigInt(runStart));
  assert.equal(mem.read(pmm.stackBase + 8, 8), BigInt(frames - stackFrames));
});

Deno.test("pmm: frames come lowest first, and reserved memory is never handed out", () => {
  const { mem, map } = machine();
  const pmm = createStackPmm(mem, map);
  const usableStart = pmm.stackBase + pmm.stackFrames * F;
  const seen = new Set<number>();
  let last = 0;
  for (;;) {
    const pa = pmm.allocate();
    if (pa === undefined) break;
    assert.ok(pa >= usableStart && pa < BASE + 7 * MiB, `frame ${pa.toString(16)} is usable`);
    assert.ok(pa > last, "ascending");
    assert.ok(!seen.has(pa), "never twice");
    seen.add(pa);
    last = pa;
  }
  assert.equal(seen.size * F, pmm.stats().total, "every usable frame, once");
  assert.equal(pmm.stats().free, 0);
  assert.equal(pmm.stats().runs, 0);
  assert.equal(pmm.allocate(), undefined, "running out is undefined, not an exception");
  assert.equal(pmm.allocate(2), undefined);
});

Deno.test("pmm: freeing next to the top run extends it instead of pushing a new run", () => {
  const { mem, map } = machine();
  const pmm = createStackPmm(mem, map);
  const a = pmm.allocate()!, b = pmm.allocate()!;
  assert.equal(b, a + F);
  pmm.free(b);
  assert.equal(pmm.stats().runs, 1, "b touches the top run's base");
  pmm.free(a);
  assert.equal(pmm.stats().runs, 1);
  assert.equal(pmm.allocate(), a, "LIFO: the frame just freed comes back first");
  assert.equal(pmm.stats().allocatedFrames, 1);
});

Deno.test("pmm: runs of frames are contiguous and taken first-fit from the top", () => {
  const { mem, map } = machine();
  const pmm = createStackPmm(mem, map);
  const run = pmm.allocate(16)!;
  const next = pmm.allocate()!;
  assert.equal(next, run + 16 * F);
  pmm.free(run, 16); // not adjacent to the top run (next is in between): a new run
  assert.equal(pmm.stats().runs, 2);
  assert.equal(pmm.allocate(8), run, "the freed run is on top and fits");
  assert.equal(pmm.allocate(8), run + 8 * F, "the rest of it");
  assert.equal(pmm.stats().runs, 1, "an emptied run leaves the stack");
  pmm.free(next);
  assert.equal(pmm.stats().allocatedFrames, 16);
});

Deno.test("pmm: adjacent runs that were never merged are coalesced for a long allocation", () => {
  const { mem, map } = machine();
  const pmm = createStackPmm(mem, map);
  const total = pmm.stats().total / F;
  const frames = Array.from({ length: total }, () => pmm.allocate()!);
  // Free 64 frames, every other one first: no free touches the top run, so the stack holds
  // one run per frame, each adjacent to its neighbours.
  for (let i = 0; i < 64; i += 2) pmm.free(frames[i]);
  for (let i = 1; i < 64; i += 2) pmm.free(frames[i]);
  assert.equal(pmm.stats().runs, 64);
  assert.equal(pmm.allocate(64), frames[0], "one run again, from the lowest frame");
  assert.equal(pmm.stats().free, 0);
});

Deno.test("pmm: the stack never overflows: a full stack coalesces", () => {
  const { mem, map } = machine();
  const pmm = createStackPmm(mem, map);
  const total = pmm.stats().total / F;
  const frames = Array.from({ length: total }, () => pmm.allocate()!);
  // Freeing in this order keeps every free away from the top run: as many runs as frames.
  for (let i = total - 1; i >= 0; i -= 2) pmm.free(frames[i]);
  for (let i = total - 2; i >= 0; i -= 2) pmm.free(frames[i]);
  assert.equal(pmm.stats().free, total * F);
  assert.ok(pmm.stats().runs <= Math.floor(total / 2) + 2);
  assert.equal(pmm.allocate(total), frames[0]);
});

Deno.test("pmm: bootloader-reclaimable frames given back with free grow the total", () => {
  const { mem, map } = machine();
  const pmm = createStackPmm(mem, map);
  const before = pmm.stats().total;
  pmm.free(BASE + 7 * MiB, MiB / F);
  assert.equal(pmm.stats().total, before + MiB);
  assert.equal(pmm.stats().free, before + MiB);
});

Deno.test("pmm: reclaiming after allocations leaves what was allocated counted", () => {
  // The kernel reclaims bootloader memory after it has allocated its page tables: the
  // reclaimed frames were never handed out, so they must not cancel those allocations.
  const { mem, map } = machine();
  const pmm = createStackPmm(mem, map);
  const total = pmm.stats().total;
  const frames = Array.from({ length: 10 }, () => pmm.allocate()!);
  pmm.free(BASE + 7 * MiB, MiB / F);
  assert.equal(pmm.stats().allocatedFrames, 10);
  assert.equal(pmm.stats().total, total + MiB);
  // A reclaimed frame, handed out and freed again, is ordinary memory from then on.
  const again = pmm.allocate(MiB / F)!;
  pmm.free(again, MiB / F);
  for (const f of frames) pmm.free(f);
  assert.equal(pmm.stats().allocatedFrames, 0);
  assert.equal(pmm.stats().total, total + MiB);
  assert.equal(pmm.stats().free, total + MiB);
});

Deno.test("pmm: bad arguments and impossible maps are errors that say why", () => {
  const { mem, map } = machine();
  const pmm = createStackPmm(mem, map);
  assert.throws(() => pmm.allocate(0), /0 is not a number of frames/);
  assert.throws(() => pmm.allocate(1.5), RangeError);
  assert.throws(() => pmm.free(BASE + 2 * MiB + 12), /not the address of a frame/);
  assert.throws(
    () => createStackPmm(mem, [{ base: BASE, length: MiB, type: MEMMAP_RESERVED }]),
    /no usable RAM/,
  );
  assert.throws(
    () => createStackPmm(mem, [{ base: BASE + 100, length: 4000, type: MEMMAP_USABLE }]),
    /no usable RAM/,
    "a region smaller than a whole frame is not usable",
  );
});
