import assert from "node:assert/strict";
import { node, u32, u64, writeFdt } from "../../emulator/riscv64/dtb.ts";
import { virtDeviceTree } from "../../emulator/riscv64/virt.ts";
import { BufferPhysMem } from "../../kernel/mm/buffer_mem.ts";
import { cells, findPath, parseFdt, readFdt, reg, stringProp, strings } from "./fdt.ts";
import { devicetreePlatform } from "./platform.ts";

const virtBlob = (memory = 256 << 20, harts = 2) =>
  writeFdt(virtDeviceTree({ memory, harts, cmdline: "console=ttyS0" }));

Deno.test("fdt: the virt board's devicetree parses into its nodes and properties", () => {
  const mem = new BufferPhysMem(0x8000_0000, 1 << 20);
  const blob = virtBlob();
  mem.writeBytes(0x8000_1000, blob);
  const { root, size } = readFdt(mem, 0x8000_1000);
  assert.equal(size, blob.length);
  assert.equal(root.path, "/");
  assert.equal(stringProp(findPath(root, "/chosen")!, "bootargs"), "console=ttyS0");
  const serial = findPath(root, "/soc/serial@10000000")!;
  assert.deepEqual(reg(serial), [{ base: 0x1000_0000, length: 0x100 }]);
  assert.deepEqual(cells(findPath(root, "/cpus/cpu@1")!.props.get("reg")!), [1]);
  assert.ok(
    strings(findPath(root, "/cpus/cpu@0")!.props.get("riscv,isa-extensions")!).includes("sstc"),
  );
});

Deno.test("fdt: the platform: RAM without the firmware's no-map region, harts, UART, timer", () => {
  const p = devicetreePlatform(parseFdt(virtBlob(512 << 20, 3)), "test");
  assert.deepEqual(p.memory, [{ base: 0x8020_0000, length: (512 << 20) - 0x20_0000 }]);
  assert.deepEqual(p.cpus, [{ index: 0, hwId: 0 }, { index: 1, hwId: 1 }, { index: 2, hwId: 2 }]);
  assert.equal(p.timerHz, 10_000_000);
  assert.equal(p.console.clockHz, 3_686_400);
  assert.equal(p.console.irq, 10);
  assert.equal(p.sstc, true);
  assert.deepEqual(p.devices, [
    { name: "uart0", base: 0x1000_0000, length: 0x1000 },
    { name: "plic", base: 0x0c00_0000, length: 0x60_0000 },
  ]);
  assert.ok(p.notes.some((n) => /PLIC at 0xc00_0000, 95 sources/.test(n)));
});

Deno.test("fdt: a board without Sstc, with its console found by compatible", () => {
  const tree = {
    root: node("", { "#address-cells": 2, "#size-cells": 2 }, [
      node("memory@80000000", { device_type: "memory", reg: u64(0x8000_0000, 64 << 20) }),
      node(
        "cpus",
        { "#address-cells": 1, "#size-cells": 0, "timebase-frequency": u32(1_000_000) },
        [
          node("cpu@5", { device_type: "cpu", reg: 5, "riscv,isa": "rv64imac_zicsr" }),
        ],
      ),
      node("uart@20000000", {
        compatible: "ns16550a",
        reg: u64(0x2000_0000, 8),
        "clock-frequency": 1843200,
      }),
    ]),
    reservations: [],
    bootCpuId: 5,
  };
  const p = devicetreePlatform(parseFdt(writeFdt(tree)), "test");
  assert.equal(p.sstc, false);
  assert.deepEqual(p.cpus, [{ index: 0, hwId: 5 }]);
  assert.equal(p.timerHz, 1_000_000);
  assert.equal(p.devices[0].base, 0x2000_0000);
  assert.equal(p.devices[0].length, 0x1000, "rounded up to a page");
});

Deno.test("fdt: malformed blobs are errors that say where, never a read past the end", () => {
  const blob = virtBlob();
  const mem = new BufferPhysMem(0x8000_0000, 1 << 20);
  assert.throws(() => readFdt(mem, 0x8000_0000), /no magic 0xd00dfeed \(found 0x0\)/);
  const bad = (mutate: (b: Uint8Array, dv: DataView) => void, why: RegExp) => {
    const b = blob.slice();
    mutate(b, new DataView(b.buffer));
    assert.throws(() => parseFdt(b, "dtb"), why);
  };
  bad((_b, dv) => dv.setUint32(4, blob.length + 100), /totalsize .* more than/);
  bad((_b, dv) => dv.setUint32(20, 15), /version 15/);
  bad((_b, dv) => dv.setUint32(36, 0x10_0000), /outside the blob/);
  bad((_b, dv) => dv.setUint32(dv.getUint32(8), 7), /unknown token 0x7/);
  // Truncate the structure block: its end token goes missing.
  bad((_b, dv) => dv.setUint32(36, 64), /ends without FDT_END|runs past/);
  // A property name offset beyond the strings block.
  bad((b, dv) => {
    const s = dv.getUint32(8);
    for (let p = s; p < b.length; p += 4) {
      if (dv.getUint32(p) === 3) return dv.setUint32(p + 8, 0xffff);
    }
  }, /name offset 65535 is outside the strings/);
  // Arbitrary garbage never throws anything but an Error with a message.
  for (let seed = 1; seed < 200; seed++) {
    const b = blob.slice();
    let x = seed;
    for (let i = 0; i < 8; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      b[40 + (x % (b.length - 40))] = x >>> 24;
    }
    try {
      devicetreePlatform(parseFdt(b, "fuzz"), "fuzz");
    } catch (e) {
      assert.ok(e instanceof Error && /fuzz|\//.test(e.message), String(e));
    }
  }
});

Deno.test("fdt: a devicetree without the essentials names what is missing", () => {
  const bare = (children: ReturnType<typeof node>[]) =>
    parseFdt(
      writeFdt({
        root: node("", { "#address-cells": 2, "#size-cells": 2 }, children),
        reservations: [],
        bootCpuId: 0,
      }),
    );
  assert.throws(() => devicetreePlatform(bare([]), "dt"), /dt: no \/memory node/);
  const mem = node("memory@0", { device_type: "memory", reg: u64(0, 1 << 20) });
  assert.throws(() => devicetreePlatform(bare([mem]), "dt"), /no \/cpus node/);
  const cpus = node("cpus", { "timebase-frequency": 10 }, [
    node("cpu@0", { device_type: "cpu", reg: 0 }),
  ]);
  assert.throws(() => devicetreePlatform(bare([mem, cpus]), "dt"), /no console/);
});
