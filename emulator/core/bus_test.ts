import assert from "node:assert/strict";
import { Bus, type Device } from "./bus.ts";
import { formatSize, hex, parseSize, Ram } from "./memory.ts";
import { Trace } from "./trace.ts";

class Scratch implements Device {
  readonly name = "scratch";
  regs = new Map<number, bigint>();
  read(offset: number, size: number): bigint | undefined {
    if (offset >= 0x10) return undefined;
    return (this.regs.get(offset) ?? 0n) & ((1n << BigInt(size * 8)) - 1n);
  }
  write(offset: number, _size: number, value: bigint): boolean {
    if (offset >= 0x10) return false;
    this.regs.set(offset, value);
    return true;
  }
}

function board(): Bus {
  const bus = new Bus(new Ram(2 << 20));
  bus.addRam(0x8000_0000, 1 << 20, 0);
  bus.addRam(0x1_0000_0000, 1 << 20, 1 << 20);
  bus.map(0x1000_0000, 0x100, new Scratch());
  return bus;
}

Deno.test("bus: RAM reads back what was written, at every width, in every window", () => {
  const bus = board();
  for (const base of [0x8000_0000, 0x1_0000_0000]) {
    assert.ok(bus.write(base + 8, 8, 0x1122_3344_5566_7788n));
    assert.equal(bus.read(base + 8, 8), 0x1122_3344_5566_7788n);
    assert.equal(bus.read(base + 8, 4), 0x5566_7788n);
    assert.equal(bus.read(base + 9, 2), 0x6677n, "unaligned and little-endian");
    assert.equal(bus.read(base + 15, 1), 0x11n);
  }
  assert.equal(bus.ramOffset(0x1_0000_0000), 1 << 20, "second window is the second MiB");
});

Deno.test("bus: an address with nothing behind it faults instead of throwing", () => {
  const bus = board();
  assert.equal(bus.read(0x2000_0000, 4), undefined);
  assert.equal(bus.write(0x2000_0000, 4, 1n), false);
  assert.equal(bus.read(0x8000_0000 + (1 << 20) - 4, 8), undefined, "straddles the RAM end");
  assert.match(bus.describe(0x2000_0000), /nothing/);
});

Deno.test("bus: device registers answer at their offsets and can refuse", () => {
  const bus = board();
  assert.ok(bus.write(0x1000_0004, 4, 0xdead_beefn));
  assert.equal(bus.read(0x1000_0004, 4), 0xdead_beefn);
  assert.equal(bus.read(0x1000_0004, 1), 0xefn);
  assert.equal(bus.read(0x1000_0020, 4), undefined, "the device refused that offset");
  assert.equal(bus.describe(0x1000_0005), "scratch+0x5");
});

Deno.test("bus: overlapping mappings are a board bug, reported with addresses", () => {
  const bus = board();
  assert.throws(() => bus.map(0x1000_0080, 0x100, new Scratch()), /overlaps .* 0x1000_0000/);
  assert.throws(() => bus.addRam(0x8008_0000, 0x1000, 0), /overlaps/);
});

Deno.test("bus: device accesses are traced when the mmio category is on", () => {
  const bus = board();
  bus.trace = new Trace().enable("mmio");
  bus.write(0x1000_0000, 4, 5n);
  bus.read(0x8000_0000, 4);
  assert.equal(bus.trace.events.length, 1, "RAM is not traced");
  assert.deepEqual(bus.trace.events[0].data, {
    op: "write",
    device: "scratch",
    addr: "0x1000_0000",
    size: 4,
    value: "0x5",
  });
});

Deno.test("memory: sizes parse and print the way a boot log shows them", () => {
  assert.equal(parseSize("256M"), 256 * 2 ** 20);
  assert.equal(parseSize("4GiB"), 4 * 2 ** 30);
  assert.equal(parseSize("4096"), 4096);
  assert.equal(parseSize("lots"), undefined);
  assert.equal(formatSize(256 * 2 ** 20), "256 MiB");
  assert.equal(formatSize(1536 * 2 ** 20), "1.5 GiB");
  assert.equal(hex(0xffff_8000_0000_0000n), "0xffff_8000_0000_0000");
  assert.equal(hex(-1), "0xffff_ffff_ffff_ffff");
  assert.throws(() => new Ram(1000), /multiple of 4 KiB/);
});

Deno.test("memory: a 4 GiB machine costs no host memory until it is touched", () => {
  const before = Deno.memoryUsage().rss;
  const ram = new Ram(4 * 2 ** 30);
  ram.u8[ram.size - 1] = 1;
  assert.ok(Deno.memoryUsage().rss - before < 64 * 2 ** 20);
});
