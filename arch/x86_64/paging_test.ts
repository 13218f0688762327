import assert from "node:assert/strict";
import { MEMMAP_USABLE } from "../../emulator/core/bootinfo.ts";
import { CpuFault } from "../../emulator/core/hosted.ts";
import { Machine } from "../../emulator/core/machine.ts";
import type { Access, X86Cpu } from "../../emulator/x86_64/cpu_api.ts";
import { X86Processor } from "../../emulator/x86_64/cpu.ts";
import {
  CR0_PE,
  CR0_PG,
  CR0_WP,
  CR3_NOFLUSH,
  CR4_PAE,
  CR4_PCIDE,
  CR4_PGE,
  EFER_LME,
  EFER_NXE,
  IA32_EFER,
} from "../../emulator/x86_64/regs.ts";
import { OutOfMemory, type PageFlags, type TlbControl } from "../../kernel/components.ts";
import { createStackPmm } from "../../kernel/mm/pmm.ts";
import { busPhysMem } from "../common/bus_mem.ts";
import { createX86PageTables, isCanonical48, leafEntry } from "./paging.ts";

const RAM = 0x100_0000; // frames from 16 MiB (RAM starts at 0 on the PC)
const KiB = 1024, MiB = 1 << 20, GiB = 2 ** 30;
const HIGH = 0xffff_8000_0000_0000n;

const userRw: PageFlags = { write: true, execute: false, user: true, global: false, device: false };
const userRx: PageFlags = { write: false, execute: true, user: true, global: false, device: false };
const kernelRw: PageFlags = {
  write: true,
  execute: false,
  user: false,
  global: true,
  device: false,
};

/**
 * A CPU in 64-bit mode over 48 MiB of RAM (PCIDs, global pages, NX), and page tables whose
 * TLB control is the CPU's own INVLPG and INVPCID.
 */
function setup(memory = 48 * MiB) {
  const machine = new Machine<X86Cpu>({ memory });
  machine.bus.addRam(0, memory);
  const cpu = new X86Processor(machine, { index: 0 });
  const bus = machine.bus;
  const mem = busPhysMem(bus);
  const flushes: { va: bigint; asid: number }[] = [];
  const tlb: TlbControl = {
    flushPage: (va, asid) => {
      flushes.push({ va, asid });
      if (asid === 0) cpu.invlpg(va);
      else cpu.invpcid(0, asid, va);
    },
    flushAsid: (asid) => cpu.invpcid(1, asid, 0n),
    flushAll: () => cpu.invpcid(2, 0, 0n),
  };
  const pmm = createStackPmm(mem, [{ base: RAM, length: memory - RAM, type: MEMMAP_USABLE }]);
  const pt = createX86PageTables({ mem, pmm, tlb });
  return { machine, cpu, mem, pmm, pt, flushes };
}

/** Turns paging on with `root` as CR3 (PCID `pcid`), as the kernel's enablePaging does. */
function usePaging(cpu: X86Processor, root: number, pcid = 0) {
  cpu.writeCr(4, BigInt(CR4_PAE | CR4_PGE));
  cpu.wrmsr(IA32_EFER, BigInt(EFER_LME | EFER_NXE));
  cpu.writeCr(3, BigInt(root));
  cpu.writeCr(0, BigInt(CR0_PG) | BigInt(CR0_PE | CR0_WP));
  cpu.writeCr(4, BigInt(CR4_PAE | CR4_PGE | CR4_PCIDE));
  if (pcid) cpu.writeCr(3, BigInt(root) | BigInt(pcid) | CR3_NOFLUSH);
}

Deno.test("x86 paging: translate agrees with the CPU's walk for pages of every size", () => {
  const { cpu, pt } = setup();
  const root = pt.createRoot();
  pt.map(root, 1, 0x1000n, RAM + 0x10_0000, 3 * 4 * KiB, userRw);
  pt.map(root, 1, 0x4020_0000n, RAM + 2 * MiB, 2 * MiB, userRx, 2 * MiB);
  pt.map(root, 0, HIGH, 0, GiB, kernelRw, GiB);
  usePaging(cpu, root);
  const cases: [bigint, Access, boolean][] = [
    [0x1000n, "read", true],
    [0x2abcn, "write", true],
    [0x3fffn, "read", true],
    [0x3fffn, "execute", true], // NX
    [0x4000n, "read", true], // not mapped
    [0x4020_0000n + 0x1_2345n, "execute", true],
    [0x4020_0000n, "write", true], // read-only
    [HIGH + 0x123_4567n, "write", false],
    [HIGH + 0x123_4567n, "read", true], // a supervisor page
    [HIGH + 0x123_4567n, "execute", false], // NX
    [0x0000_8000_0000_0000n, "read", true], // not canonical
  ];
  for (const [va, access, user] of cases) {
    const mine = pt.translate(root, va);
    const walk = cpu.translate(va, access, user ? 3 : 0);
    if (walk.pa !== undefined) {
      assert.equal(mine?.pa, walk.pa, `${va.toString(16)}: ${walk.explanation}`);
      assert.equal(mine?.pageSize, walk.pageSize, `${va.toString(16)}`);
    }
    const allowed = mine !== undefined && (!user || mine.flags.user) &&
      (access !== "write" || mine.flags.write) && (access !== "execute" || mine.flags.execute);
    assert.equal(
      allowed,
      walk.fault === undefined,
      `${va.toString(16)} ${access}: ${walk.explanation}`,
    );
  }
  assert.deepEqual(pt.translate(root, 0x4020_0000n + 0x1_2345n), {
    pa: RAM + 2 * MiB + 0x1_2345,
    pageSize: 2 * MiB,
    flags: userRx,
  });
  assert.equal(pt.translate(root, HIGH + 5n)?.pageSize, GiB);
  assert.deepEqual(pt.translate(root, HIGH + 5n)?.flags, kernelRw);
});

Deno.test("x86 paging: the CPU runs through the tables: a store lands where translate says", () => {
  const { cpu, pt, mem } = setup();
  const root = pt.createRoot();
  pt.map(root, 0, HIGH + 0x8000_0000n, RAM, 2 * MiB, kernelRw, 2 * MiB);
  usePaging(cpu, root);
  cpu.store(HIGH + 0x8000_0000n + 0x1238n, 8, 0x1234_5678n);
  assert.equal(mem.read(RAM + 0x1238, 8), 0x1234_5678n);
  assert.equal(pt.translate(root, HIGH + 0x8000_0000n + 0x1238n)?.pa, RAM + 0x1238);
});

Deno.test("x86 paging: entry bits are the SDM's: P R/W U/S PWT PCD PS G XD and the address", () => {
  const { pt, mem } = setup();
  const root = pt.createRoot();
  pt.map(root, 1, 0x40_0000n, RAM + 0x5000, 4 * KiB, userRw);
  // Walk by hand: PML4[0] -> PDPT[0] -> PD[2] -> PT[0].
  const next = (table: number, i: number) => Number(mem.read(table + i * 8, 8) & 0xf_ffff_f000n);
  assert.equal(mem.read(root, 8) & 0xfffn, 0b111n, "a table pointer in the user half: P R/W U/S");
  assert.equal(mem.read(root + 256 * 8, 8) & 0xfffn, 0b011n, "in the kernel half: P R/W");
  const pt1 = next(next(next(root, 0), 0), 2);
  const pte = mem.read(pt1, 8);
  assert.equal(pte & 0xf_ffff_f000n, BigInt(RAM + 0x5000));
  assert.equal(pte & 0xfffn, 0b111n, "P R/W U/S, A and D left to the MMU");
  assert.equal(pte >> 63n, 1n, "XD: not executable");
  // Large, global, device: PS, G, PCD|PWT; executable leaves have XD clear.
  const dev = leafEntry(0xfec0_0000, { ...kernelRw, device: true }, 2);
  assert.equal(dev, 0x8000_0000_fec0_0000n | 0x1_9bn, "P R/W PWT PCD PS G XD");
  assert.equal(leafEntry(0x20_0000, userRx), 0x20_0005n, "P U/S, XD clear");
});

Deno.test("x86 paging: unmap and protect invalidate exactly the pages they change", () => {
  const { cpu, pt, flushes } = setup();
  const root = pt.createRoot();
  pt.map(root, 7, 0x10_0000n, RAM + 0x40_0000, 4 * 4 * KiB, userRw);
  assert.equal(flushes.length, 0, "adding mappings needs no invalidation");
  usePaging(cpu, root, 7);
  cpu.store(0x10_1000n, 8, 42n); // fills the TLB (supervisor may write a user page: no SMAP)
  assert.equal(pt.protect(root, 7, 0x10_0000n, 4 * 4 * KiB, userRx), 4);
  assert.deepEqual(flushes.map((f) => f.va), [0x10_0000n, 0x10_1000n, 0x10_2000n, 0x10_3000n]);
  assert.ok(flushes.every((f) => f.asid === 7));
  assert.throws(() => cpu.store(0x10_1000n, 8, 1n), CpuFault, "read-only now, and not stale");
  assert.equal(pt.protect(root, 7, 0x10_0000n, 4 * KiB, userRx), 0, "no change, no flush");
  assert.equal(flushes.length, 4);
  assert.equal(pt.unmap(root, 7, 0x10_1000n, 2 * 4 * KiB), 2);
  assert.deepEqual(flushes.slice(4).map((f) => f.va), [0x10_1000n, 0x10_2000n]);
  assert.throws(() => cpu.load(0x10_1000n, 8), CpuFault, "unmapped, and not stale");
  assert.equal(cpu.load(0x10_0000n, 8), 0n, "its neighbour is still there");
  assert.equal(pt.unmap(root, 7, 0x1000_0000n, 64 * KiB), 0, "a hole is stepped over");
  assert.equal(pt.unmap(root, 7, 0x7f00_0000_0000n, GiB), 0, "a missing PDPT too");
});

Deno.test("x86 paging: protect keeps the accessed and dirty flags the MMU set", () => {
  const { cpu, pt, mem } = setup();
  const root = pt.createRoot();
  pt.map(root, 3, 0x20_0000n, RAM + 0x80_0000, 4 * KiB, userRw);
  usePaging(cpu, root, 3);
  cpu.store(0x20_0000n, 8, 9n);
  const leaf = cpu.translate(0x20_0000n, "read", 0).steps[3].pteAddress;
  assert.equal(mem.read(leaf, 8) & 0x60n, 0x60n, "A and D set by the MMU");
  assert.equal(pt.protect(root, 3, 0x20_0000n, 4 * KiB, { ...userRw, write: true }), 0);
  assert.equal(pt.protect(root, 3, 0x20_0000n, 4 * KiB, userRx), 1);
  assert.equal(mem.read(leaf, 8) & 0x60n, 0x60n, "kept");
});

Deno.test("x86 paging: a stale TLB entry is what a missing invalidation leaves behind", () => {
  const { cpu, pt } = setup();
  const root = pt.createRoot();
  pt.map(root, 3, 0x20_0000n, RAM + 0x80_0000, 4 * KiB, userRw);
  usePaging(cpu, root, 3);
  cpu.load(0x20_0000n, 8);
  // Clear the leaf behind the page tables' back (no INVLPG): the CPU still uses it.
  const leaf = cpu.translate(0x20_0000n, "read", 0).steps[3].pteAddress;
  cpu.machine.bus.write(leaf, 8, 0n);
  assert.equal(cpu.load(0x20_0000n, 8), 0n, "stale translation survives");
  cpu.invpcid(0, 3, 0x20_0000n);
  assert.throws(() => cpu.load(0x20_0000n, 8), CpuFault);
});

Deno.test("x86 paging: PCIDs keep two spaces' entries apart; a global kernel page is in both", () => {
  const { cpu, pt, mem, flushes } = setup();
  const kernel = pt.createRoot();
  pt.map(kernel, 0, HIGH + 0x4000_0000n, RAM + 0x1000, 4 * KiB, kernelRw);
  const a = pt.createRoot(kernel), b = pt.createRoot(kernel);
  pt.map(a, 1, 0x1000n, RAM + 0x2000, 4 * KiB, userRw);
  pt.map(b, 2, 0x1000n, RAM + 0x3000, 4 * KiB, userRw);
  mem.write(RAM + 0x2000, 8, 0xaan);
  mem.write(RAM + 0x3000, 8, 0xbbn);
  usePaging(cpu, a, 1);
  assert.equal(cpu.load(0x1000n, 8), 0xaan);
  cpu.load(HIGH + 0x4000_0000n, 8);
  cpu.writeCr(3, BigInt(b) | 2n | CR3_NOFLUSH);
  assert.equal(cpu.load(0x1000n, 8), 0xbbn, "PCID 2 has its own entry");
  cpu.writeCr(3, BigInt(a) | 1n | CR3_NOFLUSH);
  assert.equal(cpu.load(0x1000n, 8), 0xaan, "PCID 1's entry survived the switch");
  // The kernel page is global: unmapping it through ASID 0 drops it from every space.
  assert.equal(pt.unmap(kernel, 0, HIGH + 0x4000_0000n, 4 * KiB), 1);
  assert.deepEqual(flushes.at(-1), { va: HIGH + 0x4000_0000n, asid: 0 });
  cpu.writeCr(3, BigInt(b) | 2n | CR3_NOFLUSH);
  assert.throws(() => cpu.load(HIGH + 0x4000_0000n, 8), CpuFault, "gone everywhere");
});

Deno.test("x86 paging: user roots share the higher half, including later kernel mappings", () => {
  const { cpu, pt } = setup();
  const kernel = pt.createRoot();
  const user = pt.createRoot(kernel);
  pt.map(user, 2, 0x1000n, RAM + 0x1000, 4 * KiB, userRw);
  pt.map(kernel, 0, 0xffff_c000_fec0_0000n, 0xfec0_0000, 4 * KiB, { ...kernelRw, device: true });
  assert.equal(pt.translate(user, 0xffff_c000_fec0_0000n)?.pa, 0xfec0_0000);
  assert.equal(pt.translate(user, 0xffff_c000_fec0_0000n)?.flags.device, true);
  usePaging(cpu, user);
  assert.equal(cpu.translate(0xffff_c000_fec0_0000n, "write", 0).pa, 0xfec0_0000);
  assert.equal(pt.translate(kernel, 0x1000n), undefined, "the user half is not shared");
});

Deno.test("x86 paging: destroyRoot frees the user half's tables, not the pages or the shared half", () => {
  const { pt, pmm } = setup();
  const kernel = pt.createRoot();
  const before = pmm.stats().allocatedFrames;
  const user = pt.createRoot(kernel);
  pt.map(user, 2, 0x1000n, RAM + 0x1000, 4 * KiB, userRw);
  pt.map(user, 2, 0x7fff_ffff_0000n, RAM + 0x2000, 4 * KiB, userRw);
  pt.map(user, 2, 0x4000_0000n, RAM + 0x20_0000, 2 * MiB, userRw, 2 * MiB);
  assert.equal(pmm.stats().allocatedFrames - before, 1 + 3 + 3 + 1);
  pt.destroyRoot(user);
  assert.equal(pmm.stats().allocatedFrames, before);
  assert.equal(pt.translate(kernel, HIGH), undefined, "the kernel root is intact");
});

Deno.test("x86 paging: entries the MMU would refuse (reserved bits) translate to nothing", () => {
  const { cpu, pt, mem } = setup();
  const root = pt.createRoot();
  pt.map(root, 1, 0x20_0000n, RAM, 2 * MiB, userRw, 2 * MiB);
  usePaging(cpu, root, 1);
  const at = cpu.translate(0x20_0000n, "read", 3).steps[2].pteAddress;
  for (const bad of [1n << 13n, 1n << 50n]) { // bit 13 of a 2 MiB PDE; an address beyond 2^46
    mem.write(at, 8, leafEntry(RAM, userRw, 2) | bad);
    cpu.invpcid(1, 1, 0n);
    assert.equal(pt.translate(root, 0x20_1234n), undefined);
    assert.match(cpu.translate(0x20_1234n, "read", 3).explanation, /reserved/);
  }
});

Deno.test("x86 paging: mistakes are RangeErrors that name the address", () => {
  const { pt } = setup();
  const root = pt.createRoot();
  pt.map(root, 1, 0x20_0000n, RAM, 2 * MiB, userRw, 2 * MiB);
  assert.throws(
    () => pt.map(root, 1, 0x20_0000n, RAM, 4096, userRw),
    /already mapped by a 2 MiB page \(PDE/,
  );
  pt.map(root, 1, 0x1000n, RAM, 4096, userRw);
  assert.throws(() => pt.map(root, 1, 0x1000n, RAM, 4096, userRw), /0x1000 is already mapped/);
  assert.throws(() => pt.map(root, 1, 0x1800n, RAM, 4096, userRw), /not aligned to 4096/);
  assert.throws(
    () => pt.map(root, 1, 0x40_0000n, RAM + 4096, 2 * MiB, userRw, 2 * MiB),
    /not 2 MiB-aligned/,
  );
  assert.throws(() => pt.map(root, 1, 0x1000n, 2 ** 46, 4096, userRw), /MAXPHYADDR/);
  assert.throws(() => pt.map(root, 1, 0x1000n, RAM, 4096, userRw, 8192), /4-level paging maps/);
  assert.throws(() => pt.map(root, 1, 0x0000_8000_0000_0000n, RAM, 4096, userRw), /not canonical/);
  assert.throws(() => pt.map(root, 1, 0x7fff_ffff_f000n, RAM, 8192, userRw), /not canonical/);
  assert.throws(() => pt.unmap(root, 1, 0x20_0000n, 4096), /covers only part of the 2 MiB page/);
  assert.ok(isCanonical48(0xffff_8000_0000_0000n) && !isCanonical48(0xfff0_0000_0000_0000n));
});

Deno.test("x86 paging: running out of frames is OutOfMemory, and what was mapped stays", () => {
  const { pt, pmm } = setup(RAM + 2 * MiB);
  const root = pt.createRoot();
  pt.map(root, 1, 0x1000n, RAM, 4096, userRw);
  while (pmm.allocate() !== undefined) { /* use up the PMM */ }
  assert.throws(() => pt.map(root, 1, 0x4000_0000n, RAM, 4096, userRw), OutOfMemory);
  assert.throws(() => pt.createRoot(root), OutOfMemory);
  assert.equal(pt.translate(root, 0x1000n)?.pa, RAM);
});
