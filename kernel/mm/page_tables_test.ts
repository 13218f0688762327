import assert from "node:assert/strict";
import { MEMMAP_USABLE } from "../../emulator/core/bootinfo.ts";
import { OutOfMemory, type PageFlags } from "../components.ts";
import { BufferPhysMem } from "./buffer_mem.ts";
import {
  ALLOW_ALL,
  ALLOW_EXECUTE,
  ALLOW_USER,
  ALLOW_WRITE,
  createPageTables,
  isCanonical48,
  type PteFormat,
} from "./page_tables.ts";
import { createStackPmm } from "./pmm.ts";

// The walk is tested here against a made-up format, so that what it does comes from the
// format's answers and nothing else; arch/riscv64/sv48_test.ts and arch/x86_64/paging_test.ts
// test it with the real encodings against the emulated MMUs.

const RAM = 0x20_0000;
const MiB = 1 << 20, GiB = 2 ** 30;

/** Bit 0 valid, 1 leaf, 2 W, 3 U, 4 X, 5 G, 6 reserved, 7 set by the "MMU"; address from 12. */
const V = 1n, L = 2n, W = 4n, U = 8n, X = 16n, G = 32n, RSVD = 64n, MMU = 128n;
const ADDRESS = ~0xfffn & ((1n << 52n) - 1n);

/** A format that numbers its levels 5 (the last) to 8 (the root). */
const TOY: PteFormat = {
  format: "sv48",
  leafLevel: 5,
  pageSizes: [4096, 2 * MiB, GiB],
  physicalAddressBits: 40,
  mmuBits: MMU,
  names: {
    scheme: "Toy paging",
    root: "a toy root",
    kernelTable: "a toy kernel table",
    canonical: "toy-canonical",
    physicalLimit: " (toy limit)",
    entry: (level, leaf) => `toy-${level}${leaf ? "-leaf" : ""}`,
  },
  isValid: (pte) => (pte & V) !== 0n,
  isLeaf: (pte) => (pte & L) !== 0n,
  isReserved: (pte) => (pte & RSVD) !== 0n,
  isGlobal: (pte) => (pte & G) !== 0n,
  // A pointer in the user half allows everything; in the kernel half no user access.
  pointer: (table, user) => BigInt(table) | V | W | X | (user ? U : 0n),
  leaf: (pa, f) =>
    BigInt(pa) | V | L | (f.write ? W : 0n) | (f.user ? U : 0n) | (f.execute ? X : 0n) |
    (f.global ? G : 0n),
  tableAddress: (pte) => Number(pte & ADDRESS),
  pageAddress: (pte) => Number(pte & ADDRESS),
  leafFlags: (pte) => ({
    write: (pte & W) !== 0n,
    user: (pte & U) !== 0n,
    execute: (pte & X) !== 0n,
    global: (pte & G) !== 0n,
    device: false,
  }),
  pointerAllows: (pte) =>
    ((pte & W) !== 0n ? ALLOW_WRITE : 0) | ((pte & U) !== 0n ? ALLOW_USER : 0) |
    ((pte & X) !== 0n ? ALLOW_EXECUTE : 0),
};

const rw: PageFlags = { write: true, execute: false, user: true, global: false, device: false };

function setup(memory = 8 * MiB) {
  const mem = new BufferPhysMem(RAM, memory);
  const pmm = createStackPmm(mem, [{ base: RAM, length: memory, type: MEMMAP_USABLE }]);
  const flushes: [bigint, number][] = [];
  const tlb = {
    flushPage: (va: bigint, asid: number) => void flushes.push([va, asid]),
    flushAsid() {},
    flushAll() {},
  };
  return { mem, pmm, flushes, pt: createPageTables(TOY, { mem, pmm, tlb }) };
}

Deno.test("page tables: the walk indexes each level by 9 bits and writes the format's entries", () => {
  const { mem, pt } = setup();
  const root = pt.createRoot();
  const va = (1n << 39n) * 3n + (1n << 30n) * 5n + (1n << 21n) * 7n + (1n << 12n) * 9n;
  pt.map(root, 1, va, RAM + 0x40_0000, 4096, rw);
  const next = (table: number, i: number) => Number(mem.read(table + 8 * i, 8) & ADDRESS);
  const last = next(next(next(root, 3), 5), 7);
  assert.equal(mem.read(last + 8 * 9, 8), BigInt(RAM + 0x40_0000) | V | L | W | U);
  assert.equal(mem.read(root + 8 * 3, 8) & 0xfffn, V | W | X | U, "a user-half pointer");
  assert.equal(mem.read(root + 8 * 256, 8) & 0xfffn, V | W | X, "a kernel-half pointer");
  assert.deepEqual(pt.translate(root, va + 0x123n), {
    pa: RAM + 0x40_0123,
    pageSize: 4096,
    flags: rw,
  });
  assert.equal(pt.format, "sv48");
  assert.deepEqual(pt.pageSizes, [4096, 2 * MiB, GiB]);
});

Deno.test("page tables: a leaf at each level maps its page size; holes translate to nothing", () => {
  const { pt } = setup();
  const root = pt.createRoot();
  pt.map(root, 1, 0x20_0000n, RAM + 2 * MiB, 2 * MiB, rw, 2 * MiB);
  pt.map(root, 1, 0x4000_0000n, 0, GiB, rw, GiB);
  assert.equal(pt.translate(root, 0x20_1234n)?.pa, RAM + 2 * MiB + 0x1234);
  assert.equal(pt.translate(root, 0x20_1234n)?.pageSize, 2 * MiB);
  assert.equal(pt.translate(root, 0x4123_4567n)?.pa, 0x123_4567);
  assert.equal(pt.translate(root, 0x4123_4567n)?.pageSize, GiB);
  assert.equal(pt.translate(root, 0x1000n), undefined);
  assert.equal(pt.translate(root, 0x8000_0000_0000n), undefined, "not canonical");
  assert.ok(isCanonical48(-1n) && !isCanonical48(0x8000_0000_0000n));
});

Deno.test("page tables: what the pointers allow limits what translate reports", () => {
  const { pt } = setup();
  const kernel = pt.createRoot();
  pt.map(kernel, 0, 0xffff_8000_0000_0000n, RAM, 4096, { ...rw, execute: true });
  const f = pt.translate(kernel, 0xffff_8000_0000_0000n)!.flags;
  assert.deepEqual(f, { ...rw, execute: true, user: false }, "a kernel-half pointer: no U");
  assert.equal(ALLOW_ALL, ALLOW_WRITE | ALLOW_USER | ALLOW_EXECUTE);
});

Deno.test("page tables: an entry the format calls reserved is a hole, as the MMU's fault", () => {
  const { mem, pt } = setup();
  const root = pt.createRoot();
  pt.map(root, 1, 0x20_0000n, RAM, 2 * MiB, rw, 2 * MiB);
  const dir = Number(mem.read(root, 8) & ADDRESS), pd = Number(mem.read(dir, 8) & ADDRESS);
  mem.write(pd + 8, 8, mem.read(pd + 8, 8) | RSVD);
  assert.equal(pt.translate(root, 0x20_0000n), undefined);
  assert.equal(pt.unmap(root, 1, 0x20_0000n, 2 * MiB), 0, "unmap steps over it");
});

Deno.test("page tables: protect keeps the MMU's bits, flushes changed pages, globals as ASID 0", () => {
  const { mem, pt, flushes } = setup();
  const root = pt.createRoot();
  pt.map(root, 4, 0x1000n, RAM, 2 * 4096, rw);
  assert.equal(flushes.length, 0, "adding a leaf flushes nothing");
  const leafAt = () => {
    const t = (table: number) => Number(mem.read(table, 8) & ADDRESS);
    return t(t(t(root))) + 8;
  };
  mem.write(leafAt(), 8, mem.read(leafAt(), 8) | MMU); // the "MMU" used the page
  assert.equal(pt.protect(root, 4, 0x1000n, 2 * 4096, rw), 0, "the same flags: no change");
  assert.equal(pt.protect(root, 4, 0x1000n, 4096, { ...rw, global: true }), 1);
  assert.equal(mem.read(leafAt(), 8) & (MMU | G), MMU | G);
  assert.equal(pt.unmap(root, 4, 0x1000n, 2 * 4096), 2);
  assert.deepEqual(flushes, [[0x1000n, 0], [0x1000n, 0], [0x2000n, 4]]);
});

Deno.test("page tables: messages use the format's names and level numbers", () => {
  const { pt, pmm } = setup(2 * MiB);
  const root = pt.createRoot();
  pt.map(root, 1, 0x20_0000n, RAM, 2 * MiB, rw, 2 * MiB);
  assert.throws(
    () => pt.map(root, 1, 0x20_0000n, RAM, 4096, rw),
    /already mapped by a 2 MiB page \(toy-6-leaf 0x/,
  );
  assert.throws(() => pt.map(root, 1, 0x20_0000n, RAM, 2 * MiB, rw, 2 * MiB), /\(toy-6 0x/);
  assert.throws(() => pt.map(root, 1, 0x1000n, RAM, 4096, rw, 8192), /Toy paging maps 4 KiB/);
  assert.throws(() => pt.map(root, 1, 0x1000n, 2 ** 40, 4096, rw), /-aligned \(toy limit\)/);
  assert.throws(() => pt.map(root, 1, 0x8000_0000_0000n, RAM, 4096, rw), /not toy-canonical/);
  while (pmm.allocate() !== undefined) { /* use up the PMM */ }
  assert.throws(
    () => pt.map(root, 1, 0x4000_0000n, RAM, 4096, rw),
    (e) => e instanceof OutOfMemory && /a level-6 page table for 0x4000_0000/.test(e.message),
  );
  assert.throws(() => pt.createRoot(), /no frame for a toy root/);
});

Deno.test("page tables: destroyRoot frees the user half's tables, not the shared ones", () => {
  const { pt, pmm } = setup();
  const kernel = pt.createRoot();
  const before = pmm.stats().allocatedFrames;
  const user = pt.createRoot(kernel);
  pt.map(user, 2, 0x1000n, RAM, 4096, rw);
  pt.map(user, 2, 0x4000_0000n, RAM, 2 * MiB, rw, 2 * MiB);
  assert.equal(pmm.stats().allocatedFrames - before, 1 + 3 + 1);
  pt.destroyRoot(user);
  assert.equal(pmm.stats().allocatedFrames, before);
});

Deno.test("page tables: a kernel root that runs out of frames halfway gives back what it took", () => {
  const { pt, pmm } = setup(2 * MiB);
  // Leave 100 frames: the root and 99 of the 256 higher-half tables it needs.
  while (pmm.stats().free > 100 * 4096) pmm.allocate();
  const before = pmm.stats();
  assert.throws(() => pt.createRoot(), (e) => e instanceof OutOfMemory);
  assert.deepEqual(pmm.stats(), before, "the PMM's books after the refused root");
});
