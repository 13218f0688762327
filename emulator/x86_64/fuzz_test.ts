/**
 * Bad input never crashes the host: random machine code, random page-table entries and
 * random IDT gates end in architectural faults or machine-check messages, and never in a
 * JavaScript exception (which the machine would report as an "emulator error"). Seeded,
 * so any failure replays.
 */

import assert from "node:assert/strict";
import { Prng } from "../core/prng.ts";
import type { TrapRecord } from "./testing.ts";
import { X86TestBench } from "./testing.ts";

const CODE = 0x40_0000;
const DATA = 0x60_0000;

/** Runs `fn`; a thrown "no trap" or machine stop is fine unless it was an emulator error. */
function survive(fn: () => TrapRecord | void): string {
  try {
    fn();
    return "trap";
  } catch (e) {
    const text = String(e);
    assert.doesNotMatch(text, /emulator error/, text);
    assert.doesNotMatch(text, /kernel panic/, text);
    if (/no trap within/.test(text)) return "timeout";
    assert.match(text, /the machine stopped|machine check|triple fault/, text);
    return "stopped";
  }
}

Deno.test("fuzz: random code in ring 3 only ever faults, loops or stops the machine cleanly", () => {
  const prng = new Prng(2024);
  const outcomes = new Map<string, number>();
  for (let round = 0; round < 40; round++) {
    const t = new X86TestBench({ jitThreshold: 4 });
    t.mapUser(CODE, 0x2000); // writable and executable: code may rewrite itself
    t.mapUser(DATA, 0x2000, { exec: false });
    const code = new Uint8Array(0x2000);
    for (let k = 0; k < code.length; k++) code[k] = prng.nextU32() & 0xff;
    t.writeUser(CODE, code);
    t.onTrap = (trap, cpu) => {
      // Skip past whatever faulted, a few times, to get deeper into the bytes.
      if (t.traps.length > 30 || trap.vector === 8) return "stop";
      cpu.store(trap.frameAt + (trap.errorCode === undefined ? 0n : 8n), 8, trap.rip + 1n);
      return "resume";
    };
    t.onSyscall = () => "resume";
    for (let k = 0; k < 16; k++) t.cpu.regs[k] = BigInt(DATA + (prng.nextU32() & 0xfff));
    const how = survive(() => t.runUser(CODE + (prng.nextU32() & 0xfff), { limitNs: 200_000 }));
    outcomes.set(how, (outcomes.get(how) ?? 0) + 1);
  }
  assert.ok((outcomes.get("trap") ?? 0) > 0, JSON.stringify([...outcomes]));
});

Deno.test("fuzz: random page-table entries give page faults or machine checks, never exceptions", () => {
  const prng = new Prng(7);
  for (let round = 0; round < 60; round++) {
    const t = new X86TestBench();
    t.code(CODE, new Uint8Array([0x48, 0x8b, 0x07, 0x48, 0x89, 0x07, 0xcc])); // load, store, int3
    t.mapUser(DATA, 0x1000);
    const rsp = t.stack(); // mapped before the tables are damaged (the bench walks them too)
    const level = 1 + (prng.nextU32() % 4);
    const at = t.entryAddress(BigInt(DATA), level);
    const garbage = (BigInt(prng.nextU32()) << 32n) | BigInt(prng.nextU32());
    t.poke64(at, garbage);
    t.cpu.regs[7] = BigInt(DATA);
    survive(() => t.runUser(CODE, { rsp, limitNs: 50_000 }));
    // translate() explains whatever is there, without throwing.
    const tr = t.cpu.translate(BigInt(DATA), "write", 3);
    assert.ok(tr.explanation.length > 0);
  }
});

Deno.test("fuzz: random IDT gates and TSS stacks end in a delivered fault or a clear stop", () => {
  const prng = new Prng(99);
  for (let round = 0; round < 60; round++) {
    const t = new X86TestBench();
    t.code(CODE, new Uint8Array([0x0f, 0x0b])); // ud2
    const word = () => (BigInt(prng.nextU32()) << 32n) | BigInt(prng.nextU32());
    const vector = [6, 8, 13, 11, 12, 10, 14][prng.nextU32() % 7];
    if (prng.nextU32() & 1) t.setGate(vector, word(), word());
    else t.poke64(t.tables.tss + 4 + 8 * (prng.nextU32() % 10), word());
    survive(() => t.runUser(CODE, { limitNs: 50_000 }));
  }
});
