import assert from "node:assert/strict";
import { EXC_ECALL_U } from "./csr.ts";
import { PageTables, RAM_BASE, RW_USER, RX_USER, Testbench } from "./testing.ts";
import { buildWithGnu, operandPairs, OPERATIONS, toolsPresent } from "./testdata/alu_vectors.ts";

const fixture = (name: string) => Deno.readFileSync(new URL(`./testdata/${name}`, import.meta.url));

/**
 * Runs the ALU conformance program `text` on a hart (Bare mode, or Sv48 with the code at a
 * low virtual address) until its write syscall, and returns the results it wrote.
 */
function runOnHart(text: Uint8Array, paged: boolean): Uint8Array {
  const tb = new Testbench();
  const h = tb.harts[0];
  let entry = RAM_BASE, stackTop = RAM_BASE + 0x80_0000;
  tb.write(RAM_BASE, text);
  let satp = 0n;
  if (paged) {
    const pt = new PageTables(tb, 4, RAM_BASE + 0xc0_0000);
    entry = 0x1_0000;
    for (let off = 0; off < text.length; off += 4096) pt.map(entry + off, RAM_BASE + off, RX_USER);
    stackTop = 0x7fff_0000;
    for (let off = 4096; off <= 0x2_0000; off += 4096) {
      pt.map(stackTop - off, RAM_BASE + 0x40_0000 - off, RW_USER);
    }
    satp = pt.satp(1);
  }
  tb.enterUser(0, entry, satp);
  h.x[2] = BigInt(stackTop);
  tb.run(100_000_000);
  const t = tb.traps[0];
  assert.equal(t?.code, EXC_ECALL_U, "the program ends with its write syscall");
  assert.equal(h.x[17], 64n);
  h.priv = 1; // read the results as the kernel would, through the same MMU, with SUM set
  h.csrs(0x100, 1n << 18n);
  const out = new Uint8Array(Number(h.x[12]));
  for (let i = 0; i < out.length; i += 8) {
    new DataView(out.buffer).setBigUint64(i, h.load(h.x[11] + BigInt(i), 8), true);
  }
  return out;
}

/** The first differences between the hart's results and QEMU's, in words. */
function differences(got: Uint8Array, want: Uint8Array): string[] {
  const pairs = operandPairs();
  const g = new DataView(got.buffer, got.byteOffset), w = new DataView(want.buffer);
  const out: string[] = [];
  for (let i = 0; i < want.length / 8 && out.length < 10; i++) {
    const a = g.getBigUint64(i * 8, true), b = w.getBigUint64(i * 8, true);
    if (a !== b) {
      const [x, y] = pairs[i % pairs.length];
      out.push(
        `${OPERATIONS[Math.floor(i / pairs.length)]} ${x}, ${y}: hart ${a.toString(16)}, ` +
          `QEMU ${b.toString(16)}`,
      );
    }
  }
  return out;
}

Deno.test("conformance: RV64IM results match QEMU's, running GNU-assembled compressed code", async (t) => {
  const text = fixture("alu_vectors.text.bin");
  const expected = fixture("alu_vectors.expected.bin");
  assert.equal(expected.length, OPERATIONS.length * operandPairs().length * 8);
  for (const paged of [false, true]) {
    await t.step(paged ? "through Sv48 paging" : "in Bare mode", () => {
      const got = runOnHart(text, paged);
      assert.equal(got.length, expected.length);
      assert.deepEqual(differences(got, expected), []);
    });
  }
});

Deno.test({
  name: "conformance: a fresh build with riscv64-linux-gnu-gcc agrees with qemu-riscv64 (live)",
  ignore: !toolsPresent(),
  fn() {
    const { text, expected } = buildWithGnu();
    assert.deepEqual(differences(runOnHart(text, false), expected), []);
    assert.deepEqual(text, fixture("alu_vectors.text.bin"), "the committed fixture is current");
  },
});
