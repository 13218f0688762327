import assert from "node:assert/strict";
import { MEMMAP_USABLE } from "../../emulator/core/bootinfo.ts";
import { BufferPhysMem } from "./buffer_mem.ts";
import { createFixedBlockAllocator } from "./fixed_block.ts";
import { createStackPmm } from "./pmm.ts";
import { createSlabAllocator, SLAB_HEADER_SIZE, SLAB_MAGIC, SLAB_MAX_OBJECT } from "./slab.ts";

const BASE = 0x8000_0000;

function setup() {
  const mem = new BufferPhysMem(BASE, 4 << 20);
  const pmm = createStackPmm(mem, [{ base: BASE, length: 4 << 20, type: MEMMAP_USABLE }]);
  return { mem, pmm };
}

Deno.test("fixed-block: blocks are distinct, aligned, inside frames of the PMM", () => {
  const { mem, pmm } = setup();
  const fba = createFixedBlockAllocator(mem, pmm, 64);
  const blocks = Array.from({ length: 200 }, () => fba.allocate()!);
  assert.equal(new Set(blocks).size, 200);
  for (const b of blocks) assert.equal(b % 64, 0);
  assert.deepEqual(fba.stats(), { inUse: 200, frames: Math.ceil(200 / 64) });
  assert.equal(pmm.stats().allocatedFrames, 4);
});

Deno.test("fixed-block: the free list is threaded through the free blocks in RAM", () => {
  const { mem, pmm } = setup();
  const fba = createFixedBlockAllocator(mem, pmm, 128);
  const a = fba.allocate()!, b = fba.allocate()!;
  fba.free(a);
  // a is the head now, and its first word links the next free block (the one after b).
  assert.equal(mem.read(a, 8), BigInt(b + 128));
  assert.equal(fba.allocate(), a, "LIFO");
});

Deno.test("fixed-block: a frame whose blocks are all free goes back to the PMM", () => {
  const { mem, pmm } = setup();
  const before = pmm.stats();
  const fba = createFixedBlockAllocator(mem, pmm, 512);
  const blocks = Array.from({ length: 20 }, () => fba.allocate()!);
  assert.equal(fba.stats().frames, 3);
  for (const b of blocks) fba.free(b);
  assert.deepEqual(fba.stats(), { inUse: 0, frames: 0 });
  assert.equal(pmm.stats().free, before.free, "nothing leaked");
  assert.equal(pmm.stats().allocatedFrames, 0);
});

Deno.test("fixed-block: double frees, strangers and bad sizes are RangeErrors", () => {
  const { mem, pmm } = setup();
  const fba = createFixedBlockAllocator(mem, pmm, 64);
  const a = fba.allocate()!;
  fba.allocate();
  fba.free(a);
  assert.throws(() => fba.free(a), /already free/);
  assert.throws(() => fba.free(a + 8), /not a 64-byte block/);
  assert.throws(() => fba.free(BASE + (3 << 20)), /not a 64-byte block/);
  assert.throws(() => createFixedBlockAllocator(mem, pmm, 12), /multiple of 8/);
  assert.throws(() => createFixedBlockAllocator(mem, pmm, 8192), RangeError);
});

Deno.test("fixed-block: an exhausted PMM is undefined, not an exception", () => {
  const mem = new BufferPhysMem(BASE, 1 << 20);
  const pmm = createStackPmm(mem, [{ base: BASE, length: 1 << 20, type: MEMMAP_USABLE }]);
  const fba = createFixedBlockAllocator(mem, pmm, 4096);
  let n = 0;
  while (fba.allocate() !== undefined) n++;
  assert.equal(n * 4096, pmm.stats().total);
});

Deno.test("slab: objects come zeroed from slabs whose header is in RAM", () => {
  const { mem, pmm } = setup();
  const slab = createSlabAllocator(mem, pmm);
  const threads = slab.createCache("thread", 100);
  const a = threads.allocate()!;
  const frame = a - (a % 4096);
  assert.equal(a, frame + SLAB_HEADER_SIZE);
  assert.equal(mem.read(frame, 4), BigInt(SLAB_MAGIC));
  assert.equal(mem.read(frame + 4, 4), 0n, "cache index 0");
  assert.equal(mem.read(frame + 16, 4), 1n, "in_use");
  assert.equal(mem.read(frame + 20, 4), BigInt(Math.floor((4096 - 32) / 112)), "capacity");
  mem.writeBytes(a, new Uint8Array(100).fill(0xaa));
  threads.free(a);
  const b = threads.allocate()!;
  assert.equal(b, a);
  assert.deepEqual(mem.readBytes(b, 100), new Uint8Array(100), "zeroed again");
});

Deno.test("slab: caches are separate and empty slabs go back to the PMM", () => {
  const { mem, pmm } = setup();
  const before = pmm.stats();
  const slab = createSlabAllocator(mem, pmm);
  const p = slab.createCache("process", 200), t = slab.createCache("thread", 64);
  const ps = Array.from({ length: 50 }, () => p.allocate()!);
  const ts = Array.from({ length: 50 }, () => t.allocate()!);
  assert.equal(new Set([...ps, ...ts]).size, 100);
  const pFrames = new Set(ps.map((x) => x - (x % 4096)));
  for (const x of ts) assert.ok(!pFrames.has(x - (x % 4096)), "no slab is shared by two caches");
  assert.deepEqual(slab.caches().map((c) => c.name), ["process", "thread"]);
  assert.equal(p.stats().inUse, 50);
  assert.equal(p.stats().slabs, Math.ceil(50 / Math.floor(4064 / 208)));
  ps.forEach((x) => p.free(x));
  ts.forEach((x) => t.free(x));
  assert.deepEqual(p.stats(), { inUse: 0, frames: 0, slabs: 0 });
  assert.equal(pmm.stats().free, before.free, "every slab went back");
});

Deno.test("slab: double frees, strangers and oversized objects are RangeErrors", () => {
  const { mem, pmm } = setup();
  const slab = createSlabAllocator(mem, pmm);
  const c = slab.createCache("thing", 48);
  const a = c.allocate()!;
  c.allocate();
  c.free(a);
  assert.throws(() => c.free(a), /"thing": free\(0x[0-9a-f_]+\): the object is already free/);
  assert.throws(() => c.free(a + 4), /not one of its objects/);
  assert.throws(() => c.free(a - SLAB_HEADER_SIZE), /not one of its objects/);
  assert.throws(() => slab.createCache("big", SLAB_MAX_OBJECT + 1), /allocate larger objects/);
});
