/**
 * 4-level paging as the SDM defines it (Vol. 3A §4.5 to §4.8): pages of every size,
 * permissions, reserved bits, the #PF error code and CR2, accessed and dirty flags, and
 * translate(), which explains a translation without changing anything.
 */

import assert from "node:assert/strict";
import { Trace } from "../core/trace.ts";
import { CpuFault } from "../core/hosted.ts";
import { EXC_GP, EXC_PF, PF_I, PF_P, PF_RSVD, PF_U, PF_W, PTE_A, PTE_D, RAX, RDI } from "./regs.ts";
import { bytes, X86TestBench } from "./testing.ts";

const CODE = 0x40_0000;
const LOAD = bytes("48 8b 07 cc"); // mov rax, [rdi]; int3
const STORE = bytes("48 89 07 cc"); // mov [rdi], rax; int3

/** Runs `code` in ring 3 with RDI = va; returns the first trap. */
function access(t: X86TestBench, code: Uint8Array, va: number | bigint, rax = 0n) {
  t.code(CODE, code);
  t.cpu.regs[RDI] = BigInt.asIntN(64, BigInt(va));
  t.cpu.regs[RAX] = rax;
  return t.runUser(CODE);
}

Deno.test("paging: 4-KiB, 2-MiB and 1-GiB pages translate to their frames", () => {
  const t = new X86TestBench({ memory: 64 * 2 ** 20 });
  const frame = t.alloc(1);
  t.poke64(frame + 8, 0x1111n);
  t.mapPhys(0x1000_0000n, frame, 4096);
  t.poke64(0x20_0000 + 0x10, 0x2222n);
  t.mapPhys(0x4000_0000n + 0x20_0000n, 0x20_0000, 2 ** 21, { pageSize: 2 ** 21 });
  t.poke64(0x30_0018, 0x3333n);
  t.mapPhys(0x80_0000_0000n, 0, 2 ** 30, { pageSize: 2 ** 30 });
  assert.equal(access(t, LOAD, 0x1000_0008).vector, 3);
  assert.equal(t.cpu.regs[RAX], 0x1111n);
  access(t, LOAD, 0x4020_0010);
  assert.equal(t.cpu.regs[RAX], 0x2222n);
  access(t, LOAD, 0x80_0030_0018);
  assert.equal(t.cpu.regs[RAX], 0x3333n, "a 1-GiB page maps 0x80_0030_0018 to 0x30_0018");
  const tr = t.cpu.translate(0x80_0030_0018n, "read", 3);
  assert.equal(tr.pa, 0x30_0018);
  assert.equal(tr.pageSize, 2 ** 30);
  assert.equal(tr.steps.length, 2, "a 1-GiB page ends the walk at the PDPTE");
  assert.equal(t.cpu.translate(0x4020_0010n, "read", 3).steps.length, 3);
  assert.equal(t.cpu.translate(0x1000_0008n, "read", 3).steps.length, 4);
});

Deno.test("paging: #PF error codes and CR2 for each kind of violation", async (s) => {
  const t = new X86TestBench();
  const ro = t.mapUser(0x50_0000, 4096, { write: false, exec: false });
  const sup = t.mapUser(0x50_1000, 4096, { user: false });
  t.mapUser(0x50_2000, 4096, { exec: false });
  void ro;
  void sup;
  const pf = (trap: ReturnType<typeof access>) => {
    assert.equal(trap.vector, EXC_PF);
    return trap.errorCode;
  };
  await s.step("not present: P = 0", () => {
    assert.equal(pf(access(t, LOAD, 0x60_0000)), PF_U);
    assert.equal(t.cpu.readCr(2), 0x60_0000n);
    assert.equal(t.traps.at(-1)!.rip, BigInt(CODE), "the pushed RIP is the faulting instruction");
  });
  await s.step("write to a read-only page: P | W | U", () => {
    assert.equal(pf(access(t, STORE, 0x50_0010)), PF_P | PF_W | PF_U);
    assert.equal(t.cpu.readCr(2), 0x50_0010n);
  });
  await s.step("user read of a supervisor page: P | U", () => {
    assert.equal(pf(access(t, LOAD, 0x50_1000)), PF_P | PF_U);
  });
  await s.step("fetch from an execute-disable page: P | U | I/D", () => {
    t.writeUser(0x50_2000, bytes("cc"));
    t.code(CODE, bytes("ff e7")); // jmp rdi
    t.cpu.regs[RDI] = 0x50_2000n;
    const trap = t.runUser(CODE);
    assert.equal(pf(trap), PF_P | PF_U | PF_I);
    assert.equal(trap.rip, 0x50_2000n);
  });
  await s.step("a reserved bit in a PTE: RSVD | P, and the fault says which bit", () => {
    const leaf = t.entryAddress(0x50_2000n, 1);
    t.poke64(leaf, t.peek64(leaf) | (1n << 50n)); // bit 50 is above MAXPHYADDR (46)
    t.cpu.invlpg(0x50_2000n);
    assert.equal(pf(access(t, LOAD, 0x50_2000)), PF_RSVD | PF_P | PF_U);
    assert.match(t.cpu.translate(0x50_2000n, "read", 3).explanation, /reserved address bits 51:46/);
  });
});

Deno.test("paging: reserved bits at every level, and XD without EFER.NXE", () => {
  // Each address has the entry under test to itself (no code, stack or other data shares it).
  const cases: [string, number, number, bigint, RegExp][] = [
    ["PML4E with PS = 1", 4, 0x80_0000_0000, 1n << 7n, /PS must be 0 in a PML4E/],
    ["PDPTE above MAXPHYADDR", 3, 0xc000_0000, 1n << 47n, /bits 51:46/],
    ["PDE above MAXPHYADDR", 2, 0x80_0000, 1n << 51n, /bits 51:46/],
  ];
  for (const [what, level, va, bit, why] of cases) {
    const t = new X86TestBench();
    t.mapUser(va, 4096);
    const at = t.entryAddress(BigInt(va), level);
    t.poke64(at, t.peek64(at) | bit);
    const trap = access(t, LOAD, va);
    assert.equal(trap.errorCode, PF_RSVD | PF_P | PF_U, what);
    assert.match(t.cpu.translate(BigInt(va), "read", 3).explanation, why, what);
  }
  // A 2-MiB page whose address sets bits 20:13, and a 1-GiB page that sets bits 29:13.
  const t = new X86TestBench({ memory: 64 * 2 ** 20 });
  t.mapPhys(0x8000_0000n, 0x20_0000 | 0x2000, 2 ** 21, { pageSize: 2 ** 21 });
  assert.equal(access(t, LOAD, 0x8000_0000).errorCode, PF_RSVD | PF_P | PF_U);
  t.mapPhys(0x100_0000_0000n, 0x4000_0000 | 0x10_0000, 2 ** 30, { pageSize: 2 ** 30 });
  assert.equal(access(t, LOAD, 0x100_0000_0000).errorCode, PF_RSVD | PF_P | PF_U);
  // With EFER.NXE = 0, bit 63 is reserved rather than execute-disable.
  const nonx = new X86TestBench({ nxe: false });
  nonx.mapUser(0x70_0000, 4096, { exec: false });
  assert.equal(access(nonx, LOAD, 0x70_0000).errorCode, PF_RSVD | PF_P | PF_U);
  assert.match(nonx.cpu.translate(0x70_0000n, "read", 3).explanation, /XD, with EFER\.NXE = 0/);
});

Deno.test("paging: CR0.WP decides whether ring 0 may write a read-only page", () => {
  const t = new X86TestBench();
  const pa = t.mapUser(0x50_0000, 4096, { write: false });
  assert.throws(() => t.cpu.store(0x50_0000n, 8, 1n), (e: unknown) => {
    assert.ok(e instanceof CpuFault);
    assert.equal(e.code, EXC_PF);
    assert.equal(e.tval, 0x50_0000n);
    assert.equal((e as CpuFault & { errorCode: number }).errorCode, PF_P | PF_W);
    assert.match(e.message, /read-only, and CR0\.WP = 1/);
    return true;
  });
  const cr0 = t.cpu.readCr(0);
  t.cpu.writeCr(0, cr0 & ~(1n << 16n));
  t.cpu.store(0x50_0000n, 8, 0x77n);
  assert.equal(t.peek64(pa), 0x77n, "with WP = 0 the supervisor write goes through");
  t.cpu.writeCr(0, cr0);
});

Deno.test("paging: accessed and dirty flags are set in RAM by the walk, only on success", () => {
  const t = new X86TestBench();
  t.mapUser(0x50_0000, 4096);
  const levels = [4, 3, 2, 1].map((l) => t.entryAddress(0x50_0000n, l));
  const flags = () => levels.map((at) => Number(t.peek64(at) & BigInt(PTE_A | PTE_D)));
  assert.deepEqual(flags(), [0, 0, 0, 0]);
  access(t, LOAD, 0x50_0000);
  assert.deepEqual(flags(), [PTE_A, PTE_A, PTE_A, PTE_A], "a read sets A at every level");
  access(t, STORE, 0x50_0000, 5n);
  assert.deepEqual(flags(), [PTE_A, PTE_A, PTE_A, PTE_A | PTE_D], "a write sets D in the PTE");
  // A walk that ends in a fault sets nothing.
  const t2 = new X86TestBench();
  t2.mapUser(0x50_0000, 4096, { write: false });
  const leaf = t2.entryAddress(0x50_0000n, 1);
  access(t2, STORE, 0x50_0000);
  assert.equal(t2.peek64(leaf) & BigInt(PTE_A | PTE_D), 0n);
  // translate() changes nothing either.
  t2.cpu.translate(0x50_0000n, "read", 3);
  assert.equal(t2.peek64(leaf) & BigInt(PTE_A), 0n);
});

Deno.test("paging: translate() explains success and failure in words, without side effects", () => {
  const t = new X86TestBench();
  t.mapUser(0x50_0000, 4096, { write: false });
  const ok = t.cpu.translate(0x50_0123n, "read", 3);
  assert.equal(ok.fault, undefined);
  assert.equal(ok.pa! & 0xfff, 0x123);
  assert.equal(ok.steps.map((s) => s.name).join(","), "PML4E,PDPTE,PDE,PTE");
  assert.match(ok.explanation, /maps to physical .* read-only, user/);
  const bad = t.cpu.translate(0x50_0123n, "write", 3);
  assert.equal(bad.fault, EXC_PF);
  assert.equal(bad.errorCode, PF_P | PF_W | PF_U);
  assert.match(bad.explanation, /R\/W = 0/);
  const none = t.cpu.translate(0x90_0000n, "read", 3);
  assert.match(none.explanation, /has P = 0 \(not present\)/);
  const nc = t.cpu.translate(0x8000_0000_0000n, "read", 3);
  assert.equal(nc.fault, EXC_GP);
  assert.match(nc.explanation, /not canonical/);
  assert.equal(t.cpu.tlb.count() > 0, true);
  const before = t.cpu.tlb.count();
  t.cpu.translate(0x50_0000n, "read", 0);
  assert.equal(t.cpu.tlb.count(), before, "translate() does not fill the TLB");
});

Deno.test("paging: the walk can be traced entry by entry", () => {
  const trace = new Trace().enable("walk");
  const t = new X86TestBench({ trace });
  t.mapUser(0x50_0000, 4096);
  trace.events.length = 0;
  access(t, LOAD, 0x50_0000);
  const walk = trace.events.filter((e) => e.kind === "walk" && e.data.va === "0x50_0000");
  assert.deepEqual(walk.slice(0, 4).map((e) => e.data.entry), ["PML4E", "PDPTE", "PDE", "PTE"]);
  assert.match(String(walk[4].data.result), /maps to physical/);
});

Deno.test("paging: a table pointer into nothing is a machine check that says where", () => {
  const t = new X86TestBench();
  t.code(CODE, LOAD);
  t.mapUser(0x80_0000, 4096);
  const pde = t.entryAddress(0x80_0000n, 2);
  t.poke64(pde, 0x3000_0000_0000n | 7n); // a page table far beyond RAM
  t.cpu.regs[RDI] = 0x80_0000n;
  assert.throws(
    () => t.runUser(CODE),
    /machine check: the PTE for 0x80_0000 would be read at physical 0x3000_0000_0000/,
  );
  assert.equal(t.machine.stopReason?.kind, "error");
});
