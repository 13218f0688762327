import assert from "node:assert/strict";
import { MEMMAP_USABLE } from "../../emulator/core/bootinfo.ts";
import { Machine } from "../../emulator/core/machine.ts";
import { makeSatp, SATP_MODE_SV48 } from "../../emulator/riscv64/csr.ts";
import { type Access, type Hart, PRIV_S, PRIV_U } from "../../emulator/riscv64/hart_api.ts";
import { RiscvHart } from "../../emulator/riscv64/hart.ts";
import { CpuFault } from "../../emulator/core/hosted.ts";
import { OutOfMemory, type PageFlags, type TlbControl } from "../../kernel/components.ts";
import { createStackPmm } from "../../kernel/mm/pmm.ts";
import { busPhysMem } from "../common/bus_mem.ts";
import { createSv48PageTables, isCanonicalSv48 } from "./sv48.ts";

const RAM = 0x8000_0000;
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

/** A hart over 32 MiB of RAM, page tables whose TLB control is the hart's sfence.vma. */
function setup(memory = 32 * MiB) {
  const machine = new Machine<Hart>({ memory });
  machine.bus.addRam(RAM, memory);
  const hart = new RiscvHart(machine, 0);
  machine.cpus.push(hart);
  const bus = machine.bus;
  const mem = busPhysMem(bus);
  const flushes: { va: bigint; asid: number }[] = [];
  const tlb: TlbControl = {
    flushPage: (va, asid) => {
      flushes.push({ va, asid });
      hart.sfenceVma(va, asid === 0 ? undefined : asid);
    },
    flushAsid: (asid) => hart.sfenceVma(undefined, asid),
    flushAll: () => hart.sfenceVma(),
  };
  const pmm = createStackPmm(mem, [{ base: RAM, length: memory, type: MEMMAP_USABLE }]);
  const pt = createSv48PageTables({ mem, pmm, tlb });
  return { machine, hart, mem, pmm, pt, flushes };
}

/** The hart's own walk, with satp pointing at `root`. */
function hartWalk(hart: RiscvHart, root: number, va: bigint, access: Access, user: boolean) {
  hart.csrw(0x180, makeSatp(SATP_MODE_SV48, 1, root / 4096));
  return hart.translate(va, access, user ? PRIV_U : PRIV_S);
}

Deno.test("sv48: translate agrees with the hart's walk for pages of every size", () => {
  const { hart, pt } = setup();
  const root = pt.createRoot();
  pt.map(root, 1, 0x1000n, RAM + 0x10_0000, 3 * 4 * KiB, userRw);
  pt.map(root, 1, 0x4020_0000n, RAM + 2 * MiB, 2 * MiB, userRx, 2 * MiB);
  pt.map(root, 0, HIGH, RAM, GiB, kernelRw, GiB);
  const cases: [bigint, Access, boolean][] = [
    [0x1000n, "read", true],
    [0x2abcn, "write", true],
    [0x3fffn, "read", true],
    [0x4000n, "read", true], // not mapped
    [0x4020_0000n + 0x1_2345n, "execute", true],
    [0x4020_0000n, "write", true], // read-only
    [HIGH + 0x123_4567n, "write", false],
    [HIGH + 0x123_4567n, "read", true], // a supervisor page
    [0x0000_8000_0000_0000n, "read", true], // not canonical
  ];
  for (const [va, access, user] of cases) {
    const mine = pt.translate(root, va);
    const walk = hartWalk(hart, root, va, access, user);
    if (walk.pa !== undefined) {
      assert.equal(mine?.pa, walk.pa, `${va.toString(16)}: ${walk.explanation}`);
    }
    const allowed = mine !== undefined && (!user || mine.flags.user) &&
      (access !== "write" || mine.flags.write) && (access !== "execute" || mine.flags.execute) &&
      (user || !mine.flags.user);
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
});

Deno.test("sv48: the hart runs through the tables: a store lands where translate says", () => {
  const { hart, pt, mem } = setup();
  const root = pt.createRoot();
  pt.map(root, 0, HIGH + 0x8000_0000n, RAM, 2 * MiB, kernelRw, 2 * MiB);
  hart.csrw(0x180, makeSatp(SATP_MODE_SV48, 0, root / 4096));
  hart.store(HIGH + 0x8000_0000n + 0x1238n, 8, 0x1234_5678n);
  assert.equal(mem.read(RAM + 0x1238, 8), 0x1234_5678n);
});

Deno.test("sv48: PTE bits are the specification's: V R W X U G A D and the PPN", () => {
  const { pt, mem } = setup();
  const root = pt.createRoot();
  pt.map(root, 1, 0x40_0000n, RAM + 0x5000, 4 * KiB, userRw);
  // Walk by hand: root[0] -> l2[0] -> l1[2] -> l0[0].
  const next = (table: number, i: number) => Number(mem.read(table + i * 8, 8) >> 10n) * 4096;
  assert.equal(mem.read(root, 8) & 0x3ffn, 0x1n, "a pointer: V only");
  const l0 = next(next(next(root, 0), 0), 2);
  const pte = mem.read(l0, 8);
  assert.equal(pte >> 10n, BigInt((RAM + 0x5000) / 4096));
  assert.equal(pte & 0xffn, 0b1101_0111n, "D A - U - W R V");
});

Deno.test("sv48: unmap and protect flush exactly the pages they change", () => {
  const { hart, pt, flushes } = setup();
  const root = pt.createRoot();
  pt.map(root, 7, 0x10_0000n, RAM + 0x40_0000, 4 * 4 * KiB, userRw);
  assert.equal(flushes.length, 0, "adding mappings needs no flush");
  hart.csrw(0x180, makeSatp(SATP_MODE_SV48, 7, root / 4096));
  hart.csrs(0x100, 1n << 18n); // SUM: let this S-mode test touch U pages
  hart.store(0x10_1000n, 8, 42n); // fills the TLB
  assert.equal(pt.protect(root, 7, 0x10_0000n, 4 * 4 * KiB, userRx), 4);
  assert.deepEqual(flushes.map((f) => f.va), [0x10_0000n, 0x10_1000n, 0x10_2000n, 0x10_3000n]);
  assert.ok(flushes.every((f) => f.asid === 7));
  assert.throws(() => hart.store(0x10_1000n, 8, 1n), CpuFault, "read-only now, and not stale");
  assert.equal(pt.protect(root, 7, 0x10_0000n, 4 * KiB, userRx), 0, "no change, no flush");
  assert.equal(flushes.length, 4);
  assert.equal(pt.unmap(root, 7, 0x10_1000n, 2 * 4 * KiB), 2);
  assert.deepEqual(flushes.slice(4).map((f) => f.va), [0x10_1000n, 0x10_2000n]);
  assert.throws(() => hart.load(0x10_1000n, 8), CpuFault, "unmapped, and not stale");
  assert.equal(hart.load(0x10_0000n, 8), 0n, "its neighbour is still there");
  assert.equal(pt.unmap(root, 7, 0x1000_0000n, 64 * KiB), 0, "a hole is stepped over");
});

Deno.test("sv48: a stale TLB entry is what a missing flush leaves behind", () => {
  const { hart, pt } = setup();
  const root = pt.createRoot();
  pt.map(root, 3, 0x20_0000n, RAM + 0x80_0000, 4 * KiB, userRw);
  hart.csrw(0x180, makeSatp(SATP_MODE_SV48, 3, root / 4096));
  hart.csrs(0x100, 1n << 18n);
  hart.load(0x20_0000n, 8);
  // Clear the leaf behind the page tables' back (no sfence.vma): the hart still uses it.
  const leaf = hart.translate(0x20_0000n, "read", PRIV_S).steps[3].pteAddress;
  hart.machine.bus.write(leaf, 8, 0n);
  assert.equal(hart.load(0x20_0000n, 8), 0n, "stale translation survives");
  hart.sfenceVma(0x20_0000n, 3);
  assert.throws(() => hart.load(0x20_0000n, 8), CpuFault);
});

Deno.test("sv48: user roots share the higher half, including later kernel mappings", () => {
  const { hart, pt } = setup();
  const kernel = pt.createRoot();
  const user = pt.createRoot(kernel);
  pt.map(user, 2, 0x1000n, RAM + 0x1000, 4 * KiB, userRw);
  pt.map(kernel, 0, 0xffff_c000_1000_0000n, RAM + 0x2000, 4 * KiB, kernelRw);
  assert.equal(pt.translate(user, 0xffff_c000_1000_0000n)?.pa, RAM + 0x2000);
  assert.equal(hartWalk(hart, user, 0xffff_c000_1000_0000n, "write", false).pa, RAM + 0x2000);
  assert.equal(pt.translate(kernel, 0x1000n), undefined, "the user half is not shared");
});

Deno.test("sv48: destroyRoot frees the user half's tables, not the pages or the shared half", () => {
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

Deno.test("sv48: mistakes are RangeErrors that name the address", () => {
  const { pt } = setup();
  const root = pt.createRoot();
  pt.map(root, 1, 0x20_0000n, RAM, 2 * MiB, userRw, 2 * MiB);
  assert.throws(
    () => pt.map(root, 1, 0x20_0000n, RAM, 4096, userRw),
    /already mapped by a 2 MiB page/,
  );
  pt.map(root, 1, 0x1000n, RAM, 4096, userRw);
  assert.throws(() => pt.map(root, 1, 0x1000n, RAM, 4096, userRw), /0x1000 is already mapped/);
  assert.throws(() => pt.map(root, 1, 0x1800n, RAM, 4096, userRw), /not aligned to 4096/);
  assert.throws(
    () => pt.map(root, 1, 0x40_0000n, RAM + 4096, 2 * MiB, userRw, 2 * MiB),
    /not 2 MiB-aligned/,
  );
  assert.throws(() => pt.map(root, 1, 0x1000n, RAM, 4096, userRw, 8192), /Sv48 maps/);
  assert.throws(() => pt.map(root, 1, 0x0000_8000_0000_0000n, RAM, 4096, userRw), /not canonical/);
  assert.throws(() => pt.map(root, 1, 0x7fff_ffff_f000n, RAM, 8192, userRw), /not canonical/);
  assert.throws(() => pt.unmap(root, 1, 0x20_0000n, 4096), /covers only part of the 2 MiB page/);
  assert.ok(isCanonicalSv48(0xffff_8000_0000_0000n) && !isCanonicalSv48(0xfff0_0000_0000_0000n));
});

Deno.test("sv48: running out of frames is OutOfMemory, and what was mapped stays", () => {
  const { pt, pmm } = setup(2 * MiB);
  const root = pt.createRoot();
  while (pmm.allocate() !== undefined) { /* use up the PMM */ }
  assert.throws(() => pt.map(root, 1, 0x1000n, RAM, 4096, userRw), OutOfMemory);
  assert.throws(() => pt.createRoot(root), OutOfMemory);
});
