/**
 * The TLB keeps translations until a flush removes them (SDM Vol. 3A §4.10): for every
 * flush form, a page-table change is invisible before it and visible after it. PCIDs keep
 * address spaces apart; global pages survive CR3 writes; a stale, too-strict entry gives a
 * spurious page fault and is dropped.
 */

import assert from "node:assert/strict";
import { Trace } from "../core/trace.ts";
import { CR4_PCIDE, CR4_PGE, EXC_PF, PF_P, PF_U, PF_W, RAX, RDI } from "./regs.ts";
import { bytes, X86TestBench } from "./testing.ts";

const VA = 0x50_0000n;

/** A bench with VA mapped to frame A (holding 0xA); frame B holds 0xB. */
function setup(options: { global?: boolean; pageSize?: number } = {}) {
  const t = new X86TestBench({ memory: 32 * 2 ** 20 });
  const size = options.pageSize ?? 4096;
  const a = size === 4096 ? t.alloc(1) : 0x40_0000 * 2;
  const b = size === 4096 ? t.alloc(1) : 0x40_0000 * 3;
  t.poke64(a, 0xan);
  t.poke64(b, 0xbn);
  const va = size === 4096 ? VA : 0x4000_0000n;
  const leaf = t.mapPhys(va, a, size, { global: options.global, pageSize: size });
  const read = (at = va) => t.cpu.load(at, 8);
  /** Points the mapping at frame B in RAM, without telling the TLB. */
  const remap = () => t.poke64(leaf, (t.peek64(leaf) & ~0x000f_ffff_ffff_f000n) | BigInt(b));
  return { t, read, remap, va };
}

Deno.test("tlb: a remapped page keeps its old translation until INVLPG", () => {
  const { t, read, remap } = setup();
  assert.equal(read(), 0xan);
  remap();
  assert.equal(read(), 0xan, "stale: the TLB still maps the old frame");
  t.cpu.invlpg(VA + 0x1000n);
  assert.equal(read(), 0xan, "INVLPG of another page leaves this one");
  t.cpu.invlpg(VA + 0x123n);
  assert.equal(read(), 0xbn, "INVLPG of any address in the page drops it");
});

Deno.test("tlb: a CR3 write flushes non-global entries; global ones survive it", () => {
  const plain = setup();
  plain.read();
  plain.remap();
  plain.t.cpu.writeCr(3, plain.t.cpu.readCr(3));
  assert.equal(plain.read(), 0xbn);

  const g = setup({ global: true });
  g.read();
  g.remap();
  g.t.cpu.writeCr(3, g.t.cpu.readCr(3));
  assert.equal(g.read(), 0xan, "a global entry survives mov cr3");
  g.t.cpu.invlpg(VA);
  assert.equal(g.read(), 0xbn, "INVLPG drops global entries too");
});

Deno.test("tlb: toggling CR4.PGE flushes everything, global entries included", () => {
  const { t, read, remap } = setup({ global: true });
  read();
  remap();
  const cr4 = t.cpu.readCr(4);
  t.cpu.writeCr(4, cr4 & ~BigInt(CR4_PGE));
  assert.equal(read(), 0xbn);
  // And setting it again flushes too.
  const t2 = setup({ global: true });
  t2.t.cpu.writeCr(4, t2.t.cpu.readCr(4) & ~BigInt(CR4_PGE));
  t2.read();
  t2.remap();
  t2.t.cpu.writeCr(4, t2.t.cpu.readCr(4) | BigInt(CR4_PGE));
  assert.equal(t2.read(), 0xbn);
});

Deno.test("tlb: PCIDs keep address spaces apart; CR3 bit 63 keeps the new PCID's entries", () => {
  const { t, read, remap } = setup();
  const cpu = t.cpu;
  const base = cpu.readCr(3);
  cpu.writeCr(4, cpu.readCr(4) | BigInt(CR4_PCIDE));
  cpu.writeCr(3, base | 1n); // PCID 1
  assert.equal(read(), 0xan);
  remap();
  cpu.writeCr(3, base | 2n | (1n << 63n)); // PCID 2, no flush
  assert.equal(read(), 0xbn, "PCID 2 has no entry: it walks and sees the new mapping");
  cpu.writeCr(3, base | 1n | (1n << 63n)); // back to PCID 1, no flush
  assert.equal(read(), 0xan, "PCID 1's stale entry is still there");
  assert.equal(cpu.readCr(3), base | 1n, "bit 63 is not stored in CR3");
  cpu.writeCr(3, base | 1n); // PCID 1 again, flushing it
  assert.equal(read(), 0xbn);
});

Deno.test("tlb: INVPCID, all four types", async (s) => {
  /** Caches VA under PCIDs 1 and 2 (and a global page), then remaps them all. */
  const prepared = () => {
    const x = setup();
    const cpu = x.t.cpu;
    const base = cpu.readCr(3);
    cpu.writeCr(4, cpu.readCr(4) | BigInt(CR4_PCIDE));
    const g = x.t.alloc(2);
    x.t.poke64(g, 0x6an);
    x.t.poke64(g + 4096, 0x6bn);
    const gleaf = x.t.mapPhys(0x60_0000n, g, 4096, { global: true });
    const sw = (pcid: number) => cpu.writeCr(3, base | BigInt(pcid) | (1n << 63n));
    sw(1);
    x.read();
    x.read(0x60_0000n);
    sw(2);
    x.read();
    x.remap();
    x.t.poke64(gleaf, x.t.peek64(gleaf) + 0x1000n);
    return { ...x, sw, cpu };
  };
  await s.step("type 0: one address of one PCID, not global ones", () => {
    const x = prepared();
    x.cpu.invpcid(0, 1, VA);
    x.sw(1);
    assert.equal(x.read(), 0xbn);
    assert.equal(x.read(0x60_0000n), 0x6an, "the global page is kept");
    x.sw(2);
    assert.equal(x.read(), 0xan, "PCID 2's entry is kept");
  });
  await s.step("type 1: every non-global entry of one PCID", () => {
    const x = prepared();
    x.cpu.invpcid(1, 2, 0n);
    assert.equal(x.read(), 0xbn);
    x.sw(1);
    assert.equal(x.read(), 0xan);
    assert.equal(x.read(0x60_0000n), 0x6an);
  });
  await s.step("type 2: everything, global entries included", () => {
    const x = prepared();
    x.cpu.invpcid(2, 0, 0n);
    assert.equal(x.read(), 0xbn);
    x.sw(1);
    assert.equal(x.read(), 0xbn);
    assert.equal(x.read(0x60_0000n), 0x6bn);
  });
  await s.step("type 3: everything but global entries", () => {
    const x = prepared();
    x.cpu.invpcid(3, 0, 0n);
    x.sw(1);
    assert.equal(x.read(), 0xbn);
    assert.equal(x.read(0x60_0000n), 0x6an);
  });
  await s.step("bad types, PCIDs and addresses raise #GP(0)", () => {
    const x = prepared();
    assert.throws(() => x.cpu.invpcid(4, 0, 0n), /#GP/);
    assert.throws(() => x.cpu.invpcid(1, 0x1000, 0n), /#GP/);
    assert.throws(() => x.cpu.invpcid(0, 1, 0x8000_0000_0000n), /#GP/);
  });
});

Deno.test("tlb: clearing CR4.PCIDE flushes every PCID", () => {
  const { t, read, remap } = setup({ global: true });
  const cpu = t.cpu;
  cpu.writeCr(4, cpu.readCr(4) | BigInt(CR4_PCIDE));
  read();
  remap();
  cpu.writeCr(3, cpu.readCr(3) | (1n << 63n)); // no flush
  assert.equal(read(), 0xan);
  cpu.writeCr(4, cpu.readCr(4) & ~BigInt(CR4_PCIDE));
  assert.equal(read(), 0xbn);
});

Deno.test("tlb: INVLPG anywhere in a 2-MiB page drops the whole page", () => {
  const { t, read, remap, va } = setup({ pageSize: 2 ** 21 });
  assert.equal(read(va), 0xan);
  remap();
  assert.equal(read(va), 0xan);
  t.cpu.invlpg(va + 0x1f_f000n); // the last 4 KiB of the large page
  assert.equal(read(va), 0xbn);
});

Deno.test("tlb: a permission granted without a flush faults once (spurious #PF), then works", () => {
  const t = new X86TestBench();
  t.mapUser(0x50_0000, 4096, { write: false, exec: false });
  t.code(0x40_0000, bytes("48 8b 07 cc 48 89 07 cc")); // mov rax, [rdi]; int3; mov [rdi], rax; int3
  t.cpu.regs[RDI] = 0x50_0000n;
  t.cpu.regs[RAX] = 0n;
  assert.equal(t.runUser(0x40_0000).vector, 3, "the read fills the TLB with a read-only entry");
  t.mapUser(0x50_0000, 4096, { write: true, exec: false }); // writable now, in RAM only
  const trap = t.runUser(0x40_0004);
  assert.equal(trap.vector, EXC_PF, "the stale read-only entry faults");
  assert.equal(trap.errorCode, PF_P | PF_W | PF_U);
  assert.equal(t.resume().vector, 3, "the fault dropped the entry: the retry walks and succeeds");
});

Deno.test("tlb: fills and flushes are traced", () => {
  const trace = new Trace().enable("tlb");
  const t = new X86TestBench({ trace });
  t.mapUser(0x50_0000, 4096);
  trace.events.length = 0;
  t.cpu.load(0x50_0000n, 8);
  t.cpu.invlpg(0x50_0000n);
  const ops = trace.events.map((e) => e.data.op);
  assert.deepEqual(ops, ["fill", "invlpg"]);
  assert.equal(trace.events[1].data.dropped, 1);
});
