import assert from "node:assert/strict";
import { parseDescriptor, parseGate } from "../../emulator/x86_64/descriptors.ts";
import {
  GATE_INTERRUPT64,
  SYS_TSS64_AVAILABLE,
  TSS_IOMAP_BASE,
  TSS_IST1,
  TSS_RSP0,
} from "../../emulator/x86_64/regs.ts";
import {
  codeSegment,
  dataSegment,
  GDT_KERNEL_CODE,
  GDT_KERNEL_DATA,
  GDT_SIZE,
  GDT_TSS,
  gdtEntries,
  interruptGate,
  STAR,
  TSS_SIZE,
  tssBytes,
  tssDescriptor,
  USER_CS,
  USER_SS,
} from "./descriptors.ts";

/** Decodes a quadword with the emulator's (independently written) decoder. */
function decode(q: bigint) {
  return parseDescriptor(Number(q & 0xffff_ffffn), Number(q >> 32n));
}

Deno.test("descriptors: code and data segments are what the CPU checks in 64-bit mode", () => {
  for (const dpl of [0, 3]) {
    const code = decode(codeSegment(dpl));
    assert.equal(code.s, true);
    assert.equal(code.type, 0xa, "execute/read");
    assert.equal(code.dpl, dpl);
    assert.equal(code.present, true);
    assert.equal(code.long, true, "L = 1");
    assert.equal(code.db, false, "D = 0 with L = 1");
    const data = decode(dataSegment(dpl));
    assert.equal(data.s, true);
    assert.equal(data.type, 0x2, "read/write");
    assert.equal(data.dpl, dpl);
    assert.equal(data.present, true);
  }
  // The classic values (as in Linux's GDT_ENTRY_INIT(0xa09b/0xc093...), minus accessed).
  assert.equal(codeSegment(0), 0x00af_9a00_0000_ffffn);
  assert.equal(dataSegment(3), 0x008f_f200_0000_ffffn);
});

Deno.test("descriptors: the GDT's order is what SYSCALL and SYSRET compute from STAR", () => {
  const gdt = gdtEntries(0xffff_8000_0012_3000n);
  assert.equal(gdt.length * 8, GDT_SIZE);
  const star = (STAR >> 32n) & 0xffffn, sysret = STAR >> 48n;
  // SYSCALL: CS = STAR[47:32], SS = + 8.
  assert.equal(Number(star), GDT_KERNEL_CODE);
  assert.equal(decode(gdt[Number(star) / 8]).long, true);
  assert.equal(decode(gdt[Number(star + 8n) / 8]).type, 0x2);
  assert.equal(Number(star + 8n), GDT_KERNEL_DATA);
  // SYSRET: SS = STAR[63:48] + 8, CS = + 16, both RPL 3.
  assert.equal(Number(sysret + 8n) | 3, USER_SS);
  assert.equal(Number(sysret + 16n) | 3, USER_CS);
  assert.equal(decode(gdt[USER_SS >> 3]).dpl, 3);
  assert.equal(decode(gdt[USER_CS >> 3]).long, true);
  assert.equal(decode(gdt[USER_CS >> 3]).dpl, 3);
});

Deno.test("descriptors: the TSS descriptor splits its 64-bit base over 16 bytes", () => {
  const base = 0xffff_8000_1234_5678n;
  const [low, high] = tssDescriptor(base);
  const d = decode(low);
  assert.equal(d.s, false);
  assert.equal(d.type, SYS_TSS64_AVAILABLE);
  assert.equal(d.present, true);
  assert.equal(d.limit, TSS_SIZE - 1);
  assert.equal(BigInt(d.base) | (high << 32n), base);
  const gdt = gdtEntries(base);
  assert.deepEqual(gdt.slice(GDT_TSS / 8), [low, high]);
});

Deno.test("descriptors: an interrupt gate's target, selector, type, DPL and IST", () => {
  const target = 0xffff_ffff_8000_3150n;
  const [low, high] = interruptGate(target, { dpl: 3, ist: 2 });
  const g = parseGate(
    Number(low & 0xffff_ffffn),
    Number(low >> 32n),
    Number(high & 0xffff_ffffn),
  );
  assert.equal(g.offsetBig, target);
  assert.equal(g.selector, GDT_KERNEL_CODE);
  assert.equal(g.type, GATE_INTERRUPT64, "an interrupt gate: IF cleared on entry");
  assert.equal(g.dpl, 3);
  assert.equal(g.ist, 2);
  assert.equal(g.present, true);
  const plain = interruptGate(target);
  assert.equal((plain[0] >> 32n) & 0xffffn, 0x8e00n, "P, DPL 0, type 14, no IST");
});

Deno.test("descriptors: the TSS holds RSP0, the IST stacks, and no I/O bitmap", () => {
  const bytes = tssBytes({ rsp0: 0xffff_8000_0001_0000n, ist: [0x1000n, 0x2000n] });
  const dv = new DataView(bytes.buffer);
  assert.equal(bytes.length, 104);
  assert.equal(dv.getBigUint64(TSS_RSP0, true), 0xffff_8000_0001_0000n);
  assert.equal(dv.getBigUint64(TSS_IST1, true), 0x1000n);
  assert.equal(dv.getBigUint64(TSS_IST1 + 8, true), 0x2000n);
  assert.equal(dv.getBigUint64(TSS_IST1 + 16, true), 0n);
  assert.ok(dv.getUint16(TSS_IOMAP_BASE, true) >= TSS_SIZE, "the bitmap lies beyond the limit");
});
