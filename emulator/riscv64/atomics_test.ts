import assert from "node:assert/strict";
import {
  EXC_BREAKPOINT,
  EXC_ILLEGAL_INST,
  EXC_LOAD_ACCESS,
  EXC_LOAD_MISALIGNED,
  EXC_STORE_ACCESS,
  EXC_STORE_MISALIGNED,
  EXC_STORE_PAGE_FAULT,
} from "./csr.ts";
import { PageTables, R_USER, RAM_BASE, runUserCode, RX_USER, Testbench } from "./testing.ts";

const DATA = RAM_BASE + 0x8000;
const u64 = (v: bigint) => BigInt.asUintN(64, v);

Deno.test("AMOs: each operation, word and doubleword, returns the old value", () => {
  // [instruction, memory before, rs2, memory after, rd] (the .w rows: 32-bit memory).
  const table: [string, bigint, bigint, bigint, bigint][] = [
    ["amoswap.d", 5n, 9n, 9n, 5n],
    ["amoadd.d", -1n, 2n, 1n, -1n],
    ["amoxor.d", 0xffn, 0x0fn, 0xf0n, 0xffn],
    ["amoand.d", 0xffn, 0x0fn, 0x0fn, 0xffn],
    ["amoor.d", 0xf0n, 0x0fn, 0xffn, 0xf0n],
    ["amomin.d", -5n, 3n, -5n, -5n],
    ["amomax.d", -5n, 3n, 3n, -5n],
    ["amominu.d", -5n, 3n, 3n, -5n],
    ["amomaxu.d", -5n, 3n, -5n, -5n],
    ["amoswap.w", 0x8000_0000n, 1n, 1n, -(1n << 31n)],
    ["amoadd.w", 0xffff_ffffn, 2n, 1n, -1n],
    ["amoadd.w", 0x7fff_ffffn, 1n, 0x8000_0000n, 0x7fff_ffffn],
    ["amoxor.w", 0xf0n, -1n, 0xffff_ff0fn, 0xf0n],
    ["amoand.w", 0xffff_ffffn, 0x1_0000_00ffn, 0xffn, -1n],
    ["amoor.w", 0n, 0x8000_0000n, 0x8000_0000n, 0n],
    ["amomin.w", 0xffff_fffbn, 3n, 0xffff_fffbn, -5n], // -5 < 3 as signed words
    ["amomax.w", 0xffff_fffbn, 3n, 3n, -5n],
    ["amominu.w", 0xffff_fffbn, 3n, 3n, -5n],
    ["amomaxu.w", 0xffff_fffbn, 3n, 0xffff_fffbn, -5n],
    ["amomin.w", 1n, 0x1_0000_0002n, 1n, 1n], // the upper half of rs2 is ignored
  ];
  for (const [op, before, src, after, rd] of table) {
    const word = op.endsWith(".w");
    const run = runUserCode(`${op}.aqrl a0, a2, (a1)\nebreak`, {
      regs: { a1: BigInt(DATA), a2: src, a0: 0x5555n },
      setup: (tb) => {
        tb.writeU64(DATA, 0x1111_1111_1111_1111n);
        tb.machine.bus.write(DATA, word ? 4 : 8, before);
      },
    });
    assert.equal(run.trap?.code, EXC_BREAKPOINT, op);
    const mem = run.tb.read(DATA, 8);
    if (word) {
      assert.equal(mem & 0xffff_ffffn, after & 0xffff_ffffn, `${op}: memory`);
      assert.equal(mem >> 32n, 0x1111_1111n, `${op}: the next word is untouched`);
    } else assert.equal(mem, u64(after), `${op}: memory`);
    assert.equal(run.hart.x[10], rd, `${op}: rd`);
  }
});

Deno.test("LR/SC: success, failure without a reservation, and at another address", () => {
  const cases: [string, bigint, bigint][] = [
    ["lr.d a0, (a1)\nsc.d a3, a2, (a1)", 0n, 42n],
    ["lr.w a0, (a1)\nsc.w.rl a3, a2, (a1)", 0n, 42n],
    ["sc.d a3, a2, (a1)", 1n, 7n], // no lr at all
    ["lr.d a0, (a4)\nsc.d a3, a2, (a1)", 1n, 7n], // reserved another doubleword
    ["lr.d a0, (a1)\nsc.d a3, a2, (a1)\nsc.d a3, a2, (a1)", 1n, 42n], // an SC ends it
    ["lr.d a0, (a1)\nsd a2, 0(a4)\nsc.d a3, a2, (a1)", 0n, 42n], // own stores keep it
  ];
  for (const [source, rd, mem] of cases) {
    const run = runUserCode(`${source}\nebreak`, {
      regs: { a1: BigInt(DATA), a2: 42n, a4: BigInt(DATA + 8) },
      setup: (tb) => tb.writeU64(DATA, 7n),
    });
    assert.equal(run.trap?.code, EXC_BREAKPOINT, source);
    assert.equal(run.hart.x[13], rd, `${source}: sc's result`);
    assert.equal(run.tb.read(DATA, 8) & 0xffn, mem, `${source}: memory`);
  }
});

Deno.test("LR/SC: a trap between them loses the reservation", () => {
  const tb = new Testbench({
    onTrap: (t, h, b) => {
      if (t.code === EXC_BREAKPOINT) return b.machine.powerOff(0);
      h.csrw(0x141, t.sepc + 4n);
      h.sret();
    },
  });
  const code = tb.load(`lr.d a0, (a1)\necall\nsc.d a3, a2, (a1)\nebreak`);
  const h = tb.enterUser(0, code.entry);
  h.x[11] = BigInt(DATA);
  tb.run();
  assert.equal(h.x[13], 1n);
});

/** Two harts: hart 0 reserves, waits, then tries its SC; hart 1 stores to `target` meanwhile. */
function race(target: number, kernelStore = false): bigint {
  const tb = new Testbench({ harts: 2, seed: 3 });
  const code = tb.load(`
      lr.d a0, (a1)
      li t0, 5000
    1: addi t0, t0, -1
      bnez t0, 1b
      sc.d a3, a2, (a1)
      ebreak
    other:
      li t0, 500
    1: addi t0, t0, -1
      bnez t0, 1b
      sd zero, 0(a4)
      ebreak`);
  tb.onTrap = (_t, h) => h.stop();
  const h0 = tb.enterUser(0, code.entry);
  h0.x[11] = BigInt(DATA);
  h0.x[12] = 42n;
  if (kernelStore) {
    tb.machine.kernelText.register(0x1000n, "store", (cpu) => {
      cpu.store(BigInt(target), 8, 0n);
      cpu.stop();
    });
    tb.machine.events.schedule(1500, () => tb.harts[1].start(0x1000n, 0n));
  } else {
    const h1 = tb.enterUser(1, code.symbols.get("other")!);
    h1.x[14] = BigInt(target);
  }
  tb.run();
  assert.equal(tb.traps[0].code, EXC_BREAKPOINT);
  return h0.x[13];
}

Deno.test("LR/SC: another hart's store to the reservation set makes the SC fail", () => {
  assert.equal(race(DATA), 1n, "a store to the reserved doubleword");
  assert.equal(race(DATA + 56), 1n, "a store elsewhere in the 64-byte reservation set");
  assert.equal(race(DATA + 64), 0n, "a store to the next block does not matter");
  assert.equal(race(DATA + 8, true), 1n, "a kernel store clears it too");
});

Deno.test("atomics: misaligned addresses raise 4 for lr, 6 for sc and AMOs", () => {
  const cases: [string, number][] = [
    ["lr.w a0, (a1)", EXC_LOAD_MISALIGNED],
    ["lr.d a0, (a5)", EXC_LOAD_MISALIGNED],
    ["sc.w a0, a2, (a1)", EXC_STORE_MISALIGNED],
    ["amoadd.d a0, a2, (a5)", EXC_STORE_MISALIGNED],
    ["amoswap.w a0, a2, (a1)", EXC_STORE_MISALIGNED],
  ];
  for (const [source, code] of cases) {
    const run = runUserCode(source, { regs: { a1: BigInt(DATA + 2), a5: BigInt(DATA + 4) } });
    assert.equal(run.trap?.code, code, source);
    assert.equal(run.trap?.stval, BigInt(source.includes("a5") ? DATA + 4 : DATA + 2), source);
  }
});

Deno.test("atomics: on a device they raise access faults; on a read-only page a store page fault", () => {
  const dev = 0x1000_0000;
  for (
    const [source, code] of [
      ["lr.w a0, (a1)", EXC_LOAD_ACCESS],
      ["sc.w a0, a2, (a1)", EXC_STORE_ACCESS],
      ["amoor.w a0, a2, (a1)", EXC_STORE_ACCESS],
    ] as [string, number][]
  ) {
    const run = runUserCode(source, {
      regs: { a1: BigInt(dev) },
      setup: (tb) =>
        tb.machine.bus.map(dev, 0x1000, { name: "dev", read: () => 0n, write: () => true }),
    });
    assert.equal(run.trap?.code, code, source);
    assert.equal(run.trap?.stval, BigInt(dev), source);
  }
  const tb = new Testbench();
  const pt = new PageTables(tb, 3, RAM_BASE + 0x8_0000);
  pt.map(0x1000, RAM_BASE, RX_USER);
  pt.map(0x2000, RAM_BASE + 0x2000, R_USER);
  tb.load(`amoadd.d a0, a2, (a1)`, 0x1000, RAM_BASE);
  const h = tb.enterUser(0, 0x1000, pt.satp());
  h.x[11] = 0x2000n;
  tb.run();
  assert.equal(tb.traps[0].code, EXC_STORE_PAGE_FAULT);
});

Deno.test("atomics: reserved encodings are illegal instructions", () => {
  const words = [
    0x1005_a52f | (1 << 20), // lr.w with rs2 != 0
    0x0005_c52f, // amoadd with funct3 = 4 (no such width)
    0x2805_a52f, // funct5 00101 (Zacas): not implemented
    0x3005_a52f, // funct5 00110: reserved
  ];
  for (const w of words) {
    const run = runUserCode(`.word ${w >>> 0}`, { regs: { a1: BigInt(DATA) } });
    assert.equal(run.trap?.code, EXC_ILLEGAL_INST, `0x${(w >>> 0).toString(16)}`);
    assert.equal(run.trap?.stval, BigInt(w >>> 0));
  }
});
