import assert from "node:assert/strict";
import { Bus } from "./bus.ts";
import { Ram } from "./memory.ts";
import {
  type BootInfo,
  bootInfoSize,
  CPU_FLAG_BOOT,
  MEMMAP_KERNEL_AND_MODULES,
  MEMMAP_RESERVED,
  MEMMAP_USABLE,
  readBootInfo,
  writeBootInfo,
} from "./bootinfo.ts";

const sample: BootInfo = {
  hhdmOffset: 0xffff_8000_0000_0000n,
  rsdp: 0,
  dtb: 0x8700_0000,
  cmdline: "console=ttyS0 seed=7",
  memoryMap: [
    { base: 0x8000_0000, length: 0x20_0000, type: MEMMAP_RESERVED },
    { base: 0x8020_0000, length: 0x10_0000, type: MEMMAP_KERNEL_AND_MODULES },
    { base: 0x8030_0000, length: 0x7d00_0000, type: MEMMAP_USABLE },
  ],
  modules: [{ base: 0x8040_0000, length: 1234, name: "/initrd.tar" }],
  cpus: [{ index: 0, hwId: 0, flags: CPU_FLAG_BOOT }, { index: 1, hwId: 1, flags: 0 }],
  bootCpu: 0,
  kernelPhys: 0x8020_0000,
  kernelVirt: 0xffff_ffff_8000_0000n,
  kernelSize: 0x10_0000,
};

function bus(): Bus {
  const b = new Bus(new Ram(1 << 20));
  b.addRam(0x8000_0000, 1 << 20);
  return b;
}

Deno.test("bootinfo: what is written reads back the same", () => {
  const b = bus();
  const size = writeBootInfo(b, 0x8000_1000, sample);
  assert.equal(size, bootInfoSize(sample));
  assert.equal(size % 8, 0);
  assert.deepEqual(readBootInfo(b, 0x8000_1000), sample);
});

Deno.test("bootinfo: the header fields sit where the documented layout says", () => {
  const b = bus();
  writeBootInfo(b, 0x8000_0000, sample);
  assert.equal(b.read(0x8000_0000, 8), 0x4f46_4e49_544f_4f42n);
  assert.equal(new TextDecoder().decode(b.readBytes(0x8000_0000, 8)), "BOOTINFO");
  assert.equal(b.read(0x8000_0000 + 32, 8), 0x8700_0000n);
  assert.equal(b.read(0x8000_0000 + 56, 4), 3n);
  const memmap = Number(b.read(0x8000_0000 + 48, 8));
  assert.equal(b.read(memmap + 24 + 16, 4), BigInt(MEMMAP_KERNEL_AND_MODULES));
});

Deno.test("bootinfo: a block without the magic is refused by name", () => {
  assert.throws(() => readBootInfo(bus(), 0x8000_0000), /no magic "BOOTINFO"/);
});

Deno.test("bootinfo: a block that does not fit in RAM is refused", () => {
  assert.throws(() => writeBootInfo(bus(), 0x800f_ff00, sample), /does not fit in RAM/);
});
