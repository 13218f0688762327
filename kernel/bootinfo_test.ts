import assert from "node:assert/strict";
import { Bus } from "../emulator/core/bus.ts";
import { type BootInfo, MEMMAP_USABLE, writeBootInfo } from "../emulator/core/bootinfo.ts";
import { Ram } from "../emulator/core/memory.ts";
import { parseBootInfo } from "./bootinfo.ts";
import type { PhysMem } from "./mm/phys.ts";

const INFO: BootInfo = {
  hhdmOffset: 0xffff_8000_0000_0000n,
  rsdp: 0,
  dtb: 0x8100_0000,
  cmdline: "tick_hz=1000",
  memoryMap: [
    { base: 0x8000_0000, length: 0x20_0000, type: 1 },
    { base: 0x8020_0000, length: 0x100_0000, type: MEMMAP_USABLE },
  ],
  modules: [{ base: 0x8030_0000, length: 123, name: "demo?class=high" }],
  cpus: [{ index: 0, hwId: 0, flags: 1 }, { index: 1, hwId: 7, flags: 0 }],
  bootCpu: 0,
  kernelPhys: 0x8020_0000,
  kernelVirt: 0xffff_ffff_8000_0000n,
  kernelSize: 0x1_0000,
};

function memory() {
  const ram = new Ram(1 << 20);
  const bus = new Bus(ram);
  bus.addRam(0x8000_0000, 1 << 20);
  const mem: PhysMem = {
    read: (pa, size) => {
      const v = bus.read(pa, size);
      if (v === undefined) throw new RangeError(`nothing at ${pa.toString(16)}`);
      return v;
    },
    write: (pa, size, v) => void bus.write(pa, size, v),
    zero: () => {},
    readBytes: (pa, n) => bus.readBytes(pa, n)!,
    writeBytes: (pa, b) => void bus.writeBytes(pa, b),
  };
  return { bus, mem };
}

Deno.test("bootinfo: the kernel reads back what the firmware wrote", () => {
  const { bus, mem } = memory();
  writeBootInfo(bus, 0x8000_1000, INFO);
  assert.deepEqual(parseBootInfo(mem, 0x8000_1000), INFO);
});

Deno.test("bootinfo: a corrupt block is an error that names the field", () => {
  const { bus, mem } = memory();
  const at = 0x8000_1000;
  const corrupt = (offset: number, size: number, value: bigint, why: RegExp) => {
    writeBootInfo(bus, at, INFO);
    bus.write(at + offset, size, value);
    assert.throws(() => parseBootInfo(mem, at), why);
  };
  corrupt(0, 8, 0n, /boot information at 0x8000_1000: no "BOOTINFO" magic/);
  corrupt(8, 4, 9n, /version 9, this kernel reads 1/);
  corrupt(56, 4, 1_000_000n, /memmap_count = 1000000 is more than 4096/);
  corrupt(48, 8, 1n << 60n, /memmap = 0x1000_0000_0000_0000 is not a physical address/);
  corrupt(76, 4, 5n, /boot_cpu 5 is not below cpu_count 2/);
  // The second memory map entry moved below the first.
  writeBootInfo(bus, at, INFO);
  const memmap = Number(bus.read(at + 48, 8));
  bus.write(memmap + 24, 8, 0x7000_0000n);
  assert.throws(() => parseBootInfo(mem, at), /memmap\[1\] at 0x7000_0000 overlaps or precedes/);
  // Strings without their NUL (the module's name lies after the command line).
  writeBootInfo(bus, at, INFO);
  const cmdline = Number(bus.read(at + 40, 8));
  bus.writeBytes(cmdline, new Uint8Array(5000).fill(0x41));
  assert.throws(() => parseBootInfo(mem, at), /modules\[0\]\.name at 0x\S+ has no NUL within 4096/);
});
