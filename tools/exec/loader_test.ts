import assert from "node:assert/strict";
import { EM_RISCV, PF_R, PF_W, PF_X, readElf, writeElf } from "../../emulator/asm/elf.ts";
import { Bus } from "../../emulator/core/bus.ts";
import { Ram } from "../../emulator/core/memory.ts";
import type { AddressSpace, PagePerms } from "./address_space.ts";
import { FrameAllocator, OutOfMemory } from "./frames.ts";
import { loadSegments, mapZeroed } from "./loader.ts";

class FakeSpace implements AddressSpace {
  pages = new Map<number, { pa: number; perms: PagePerms }>();
  map(va: number, pa: number, perms: PagePerms) {
    this.pages.set(va, { pa, perms });
  }
  lookup(va: number) {
    return this.pages.get(va - (va % 4096));
  }
}

Deno.test("loader: segments are mapped page by page, file bytes copied, the rest zero", () => {
  const text = new Uint8Array(5000).fill(0xaa);
  const data = new Uint8Array([1, 2, 3]);
  const image = readElf(writeElf({
    machine: EM_RISCV,
    entry: 0x10000,
    segments: [
      { vaddr: 0x10000, memsz: 5000, flags: PF_R | PF_X, data: text },
      // A data segment that starts inside the text's last page, as packed linkers do.
      { vaddr: 0x11400, memsz: 0x2000, flags: PF_R | PF_W, data, align: 0x400 },
    ],
  }));
  const bus = new Bus(new Ram(1 << 20));
  bus.addRam(0x8000_0000, 1 << 20);
  const space = new FakeSpace();
  const frames = new FrameAllocator(0x8000_0000, 0x8010_0000);
  const end = loadSegments(image, space, frames, bus);
  assert.equal(end, 0x14000);
  assert.deepEqual([...space.pages.keys()], [0x10000, 0x11000, 0x12000, 0x13000]);
  assert.deepEqual(space.lookup(0x10000)!.perms, { read: true, write: false, execute: true });
  assert.deepEqual(
    space.lookup(0x11000)!.perms,
    { read: true, write: true, execute: true },
    "a shared page gets both",
  );
  assert.deepEqual(space.lookup(0x12000)!.perms, { read: true, write: true, execute: false });
  const shared = space.lookup(0x11000)!.pa;
  assert.equal(bus.read(shared + 903, 1), 0xaan, "the text's last byte");
  assert.equal(bus.read(shared + 904, 1), 0n, "zero between the segments");
  assert.deepEqual([...bus.readBytes(shared + 0x400, 4)!], [1, 2, 3, 0], "data, then zero (bss)");
  assert.equal(frames.used, 4 * 4096);
});

Deno.test("loader: stacks are fresh pages; running out of frames says what to do", () => {
  const space = new FakeSpace();
  const frames = new FrameAllocator(0x8000_0000, 0x8000_3000);
  mapZeroed(space, frames, 0x7000, 0x2000);
  assert.deepEqual([...space.pages.keys()], [0x5000, 0x6000]);
  frames.allocate();
  assert.throws(
    () => frames.allocate(),
    (e) => e instanceof OutOfMemory && /out of memory.*--mem/.test(e.message),
  );
});
