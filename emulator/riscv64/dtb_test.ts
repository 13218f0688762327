import assert from "node:assert/strict";
import { Prng } from "../core/prng.ts";
import {
  cellsOf,
  type DtNode,
  empty,
  type Fdt,
  FDT_BEGIN_NODE,
  FDT_END,
  FDT_HEADER_SIZE,
  FDT_MAGIC,
  findNode,
  node,
  propertyOf,
  readFdt,
  str,
  stringsOf,
  u32,
  u64,
  writeFdt,
} from "./dtb.ts";

/** A small tree in the shape of a board's: nested nodes, every kind of value. */
function sample(): Fdt {
  const root = node("", { "#address-cells": 2, "#size-cells": 2, compatible: "test,board" }, [
    node("chosen", { bootargs: "console=ttyS0", "stdout-path": "/soc/serial@10000000" }),
    node("memory@80000000", { device_type: "memory", reg: u64(0x8000_0000, 0x1000_0000) }),
    node("soc", { ranges: true, compatible: ["simple-bus"] }, [
      node("serial@10000000", {
        compatible: ["ns16550a"],
        reg: u64(0x1000_0000, 0x100),
        interrupts: 10,
        "interrupt-parent": 3,
      }),
    ]),
  ]);
  return { root, reservations: [{ address: 0x8000_0000n, size: 0x20_0000n }], bootCpuId: 0 };
}

Deno.test("dtb: value encoders are big-endian as DT §2.2.4 says", () => {
  assert.deepEqual([...u32(1, 0xdead_beef)], [0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef]);
  assert.deepEqual([...u64(0x1_0000_0002n)], [0, 0, 0, 1, 0, 0, 0, 2]);
  assert.deepEqual([...str("ab", "c")], [0x61, 0x62, 0, 0x63, 0]);
  assert.equal(empty().length, 0);
  assert.deepEqual(cellsOf(u32(7, 8)), [7, 8]);
  assert.deepEqual(stringsOf(str("sifive,plic-1.0.0", "riscv,plic0")), [
    "sifive,plic-1.0.0",
    "riscv,plic0",
  ]);
});

Deno.test("dtb: the header says version 17, compatible with 16, with aligned blocks", () => {
  const blob = writeFdt(sample());
  const dv = new DataView(blob.buffer);
  const h = (i: number) => dv.getUint32(4 * i);
  assert.equal(h(0), FDT_MAGIC);
  assert.equal(h(1), blob.length, "totalsize");
  assert.equal(h(5), 17);
  assert.equal(h(6), 16);
  assert.equal(h(4), FDT_HEADER_SIZE, "the reservation block follows the header");
  assert.equal(h(4) % 8, 0);
  assert.equal(h(2) % 4, 0);
  assert.equal(h(2), h(4) + 32, "one reservation and the terminator");
  assert.equal(h(3), h(2) + h(9), "strings follow the structure block");
  assert.equal(dv.getUint32(h(2)), FDT_BEGIN_NODE);
  assert.equal(dv.getUint32(h(2) + h(9) - 4), FDT_END);
});

Deno.test("dtb: what is written reads back the same", () => {
  const fdt = sample();
  assert.deepEqual(readFdt(writeFdt(fdt)), fdt);
});

Deno.test("dtb: property names are stored once in the strings block", () => {
  const blob = writeFdt(sample());
  const dv = new DataView(blob.buffer);
  const strings = new TextDecoder().decode(
    blob.subarray(dv.getUint32(12), dv.getUint32(12) + dv.getUint32(32)),
  );
  assert.equal(strings.split("\0").filter((s) => s === "reg").length, 1);
  assert.equal(strings.split("\0").filter((s) => s === "compatible").length, 1);
});

Deno.test("dtb: nodes and properties are found by path", () => {
  const { root } = readFdt(writeFdt(sample()));
  const serial = findNode(root, "/soc/serial@10000000")!;
  assert.deepEqual(cellsOf(propertyOf(serial, "interrupts")!), [10]);
  assert.equal(findNode(root, "/"), root);
  assert.equal(findNode(root, "/soc/nothing"), undefined);
  assert.equal(propertyOf(serial, "nothing"), undefined);
});

Deno.test("dtb: the writer refuses a tree the specification forbids", () => {
  const bad = (root: DtNode) => () => writeFdt({ root, reservations: [], bootCpuId: 0 });
  assert.throws(bad(node("", {}, [node("bad name", {})])), /"bad name" at \/bad name/);
  assert.throws(bad(node("", {}, [node("a", {}), node("a", {})])), /two children "a"/);
  assert.throws(bad(node("x", {})), /node "x" at \//, "the root has no name");
  const twice = node("", { a: 1 });
  twice.properties.push({ name: "a", value: u32(2) });
  assert.throws(bad(twice), /two properties "a"/);
  assert.throws(bad(node("", { "sp ace": 1 })), /bad name/);
});

Deno.test("dtb: the reader reports what is wrong with a broken blob", async (t) => {
  const good = writeFdt(sample());
  const broken = (edit: (dv: DataView, b: Uint8Array) => void) => {
    const b = good.slice();
    edit(new DataView(b.buffer), b);
    return b;
  };
  await t.step("too short", () => assert.throws(() => readFdt(good.subarray(0, 10)), /shorter/));
  await t.step("bad magic", () => {
    assert.throws(() => readFdt(broken((dv) => dv.setUint32(0, 0x1234))), /magic is 0x1234/);
  });
  await t.step("totalsize past the end", () => {
    assert.throws(() => readFdt(broken((dv) => dv.setUint32(4, 1 << 20))), /totalsize/);
  });
  await t.step("an old version", () => {
    assert.throws(() => readFdt(broken((dv) => dv.setUint32(20, 3))), /version 3/);
  });
  await t.step("no FDT_END", () => {
    const b = broken((dv) => dv.setUint32(dv.getUint32(8) + dv.getUint32(36) - 4, 0x4));
    assert.throws(() => readFdt(b), /without FDT_END/);
  });
  await t.step("an unknown token", () => {
    const b = broken((dv) => dv.setUint32(dv.getUint32(8), 0x77));
    assert.throws(() => readFdt(b), /unknown token 0x77/);
  });
  await t.step("a property name offset outside the strings", () => {
    // The root's first token is BEGIN_NODE, then its (empty) name padded to 4, then PROP.
    const b = broken((dv) => dv.setUint32(dv.getUint32(8) + 16, 0xffff));
    assert.throws(() => readFdt(b), /name offset 65535/);
  });
});

Deno.test("dtb: random corruption is reported as a RangeError, never anything else", () => {
  const good = writeFdt(sample());
  const prng = new Prng(42);
  for (let i = 0; i < 2000; i++) {
    const b = good.slice();
    for (let k = prng.range(1, 4); k > 0; k--) b[prng.range(0, b.length - 1)] = prng.range(0, 255);
    try {
      readFdt(b);
    } catch (e) {
      // A DataView overrun is a RangeError too: insist on the reader's own message.
      assert.ok(e instanceof RangeError && /^devicetree: /.test(e.message), `#${i}: ${e}`);
    }
  }
});

const DTC = (() => {
  try {
    return new Deno.Command("dtc", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "dtb: Debian's dtc decodes the blob (skipped when dtc is not installed)",
  ignore: !DTC,
  fn() {
    const p = new Deno.Command("dtc", {
      args: ["-I", "dtb", "-O", "dts"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    })
      .spawn();
    const w = p.stdin.getWriter();
    w.write(writeFdt(sample()));
    w.close();
    return p.output().then((r) => {
      const dts = new TextDecoder().decode(r.stdout);
      assert.ok(r.success, new TextDecoder().decode(r.stderr));
      assert.match(dts, /\/memreserve\/\s+0x0*80000000 0x0*200000;/);
      assert.match(dts, /serial@10000000 \{/);
      assert.match(dts, /compatible = "ns16550a";/);
      assert.match(dts, /interrupts = <0x0a>;/);
      assert.match(dts, /bootargs = "console=ttyS0";/);
      assert.match(dts, /ranges;/);
    });
  },
});
