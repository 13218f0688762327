import assert from "node:assert/strict";
import {
  CSR_SATP,
  EXC_BREAKPOINT,
  EXC_STORE_PAGE_FAULT,
  PTE_A,
  PTE_G,
  PTE_R,
  PTE_V,
} from "./csr.ts";
import { PRIV_S } from "./hart_api.ts";
import { ASIDLEN, Tlb, TLB_GLOBAL } from "./tlb.ts";
import { PageTables, RAM_BASE, RW_KERNEL, RW_USER, RX_USER, Testbench } from "./testing.ts";

const POOL = RAM_BASE + 0x80_0000;
/** Two frames holding different values, so a read shows which one a page maps to. */
const OLD = RAM_BASE + 0x10_0000;
const NEW = RAM_BASE + 0x10_1000;
const VA = 0x40_0000;
const VA2 = 0x40_1000;

/** A hart in S-mode with Sv39 tables whose pages map to OLD. */
function bench(asid = 1) {
  const tb = new Testbench();
  const pt = new PageTables(tb, 3, POOL);
  tb.writeU64(OLD, 0x01dn);
  tb.writeU64(NEW, 0x9e3n);
  const h = tb.harts[0];
  h.priv = PRIV_S;
  h.csrw(CSR_SATP, pt.satp(asid));
  const read = (va = VA) => h.load(BigInt(va), 8);
  const remap = (va = VA) => pt.map(va, NEW, RW_KERNEL);
  pt.map(VA, OLD, RW_KERNEL);
  pt.map(VA2, OLD, RW_KERNEL);
  return { tb, pt, h, read, remap };
}

Deno.test("TLB: a remapped page goes on using the old translation until sfence.vma", () => {
  const { h, read, remap } = bench();
  assert.equal(read(), 0x01dn);
  remap();
  assert.equal(read(), 0x01dn, "stale: the TLB still holds the old PTE");
  h.sfenceVma(BigInt(VA));
  assert.equal(read(), 0x9e3n);
});

Deno.test("TLB: sfence.vma by address flushes that page in every address space, globals too", () => {
  const { h, pt, read, remap } = bench();
  pt.map(VA2, OLD, RW_KERNEL | PTE_G);
  assert.equal(read(), 0x01dn);
  assert.equal(read(VA2), 0x01dn);
  remap();
  remap(VA2);
  pt.setPte(VA2, 0, pt.pte(VA2, 0) | BigInt(PTE_G));
  h.sfenceVma(BigInt(VA2), undefined);
  assert.equal(read(VA2), 0x9e3n, "the global page at the address is flushed");
  assert.equal(read(), 0x01dn, "another page stays stale");
  h.sfenceVma(BigInt(VA + 0xff8)); // any address in the page
  assert.equal(read(), 0x9e3n);
});

Deno.test("TLB: sfence.vma by ASID flushes that address space only, and keeps global pages", () => {
  const { h, pt, read, remap } = bench(1);
  pt.map(VA2, OLD, RW_KERNEL | PTE_G);
  assert.equal(read(), 0x01dn); // ASID 1
  assert.equal(read(VA2), 0x01dn); // global
  h.csrw(CSR_SATP, pt.satp(2));
  assert.equal(read(), 0x01dn); // ASID 2 walks, and its entry takes the same index
  remap();
  remap(VA2);
  h.sfenceVma(undefined, 1);
  assert.equal(read(), 0x01dn, "ASID 2's entry is untouched by a flush of ASID 1");
  assert.equal(read(VA2), 0x01dn, "the global entry survives a flush by ASID");
  h.sfenceVma(undefined, 2);
  assert.equal(read(), 0x9e3n);
  assert.equal(read(VA2), 0x01dn, "still global");
});

Deno.test("TLB: sfence.vma by address and ASID flushes one page of one address space", () => {
  const { h, pt, read, remap } = bench(1);
  pt.map(VA2, OLD, RW_KERNEL | PTE_G);
  assert.equal(read(), 0x01dn);
  assert.equal(read(VA2), 0x01dn);
  remap();
  remap(VA2);
  h.sfenceVma(BigInt(VA), 2);
  assert.equal(read(), 0x01dn, "another ASID: no effect");
  h.sfenceVma(BigInt(VA2), 1);
  assert.equal(read(VA2), 0x01dn, "global: kept by a flush that names an ASID");
  h.sfenceVma(BigInt(VA), 1);
  assert.equal(read(), 0x9e3n);
});

Deno.test("TLB: sfence.vma with neither flushes everything, global pages too", () => {
  const { h, pt, read, remap } = bench(1);
  pt.map(VA2, OLD, RW_KERNEL | PTE_G);
  read();
  read(VA2);
  remap();
  remap(VA2);
  h.sfenceVma();
  assert.equal(read(), 0x9e3n);
  assert.equal(read(VA2), 0x9e3n);
});

Deno.test("TLB: writing satp does not flush; entries are tagged with their ASID", () => {
  const { h, pt, read, remap } = bench(1);
  assert.equal(read(), 0x01dn);
  remap();
  h.csrw(CSR_SATP, pt.satp(5));
  assert.equal(read(), 0x9e3n, "ASID 5 has no entry: it walks");
  h.csrw(CSR_SATP, pt.satp(1));
  assert.equal(h.dtlb.count(), 1, "one entry per index: ASID 5's replaced ASID 1's");
  // With different indexes both survive: VA2 under ASID 1, then VA under ASID 6.
  h.sfenceVma();
  remap(VA2);
  pt.map(VA2, OLD, RW_KERNEL);
  assert.equal(read(VA2), 0x01dn);
  pt.map(VA2, NEW, RW_KERNEL);
  h.csrw(CSR_SATP, pt.satp(6));
  read();
  h.csrw(CSR_SATP, pt.satp(1));
  assert.equal(read(VA2), 0x01dn, "ASID 1's stale entry came back with ASID 1");
});

Deno.test("TLB: sfence.vma of one address flushes every cached piece of its superpage", () => {
  const { tb, h, pt, read } = bench();
  const big = 0x4000_0000; // a 1 GiB superpage at level 2 (Sv39)
  pt.map(big, RAM_BASE, RW_KERNEL, 2);
  tb.writeU64(RAM_BASE + 0x10_0000, 0x01dn);
  assert.equal(read(big + 0x10_0000), 0x01dn);
  assert.equal(read(big + 0x10_1000), 0x9e3n);
  pt.map(big, RAM_BASE + 0x4000_0000, RW_KERNEL, 2); // nothing there: would fault
  h.sfenceVma(BigInt(big + 0x3fff_f000)); // the superpage's last 4 KiB
  assert.equal(h.dtlb.count(), 0, "both cached pieces of the 1 GiB page are gone");
});

Deno.test("TLB: an invalid address in sfence.vma has no effect", () => {
  const { h, read, remap } = bench();
  read();
  remap();
  h.sfenceVma(0x8000_0000_0000_0000n);
  h.sfenceVma(BigInt(2 ** 38));
  assert.equal(read(), 0x01dn);
});

Deno.test("TLB: a stale entry that refuses an access is walked again before faulting", () => {
  const { h, pt } = bench();
  pt.map(VA, OLD, PTE_V | PTE_R | PTE_A); // read-only
  h.load(BigInt(VA), 8);
  assert.throws(
    () => h.store(BigInt(VA), 8, 1n),
    (e: unknown) => (e as { code: number }).code === EXC_STORE_PAGE_FAULT,
  );
  pt.map(VA, OLD, RW_KERNEL); // the fault handler adds W (and D), without sfence.vma
  h.store(BigInt(VA), 8, 7n);
  // A downgrade is not seen until the fence: the cached entry still allows the store.
  pt.map(VA, OLD, PTE_V | PTE_R | PTE_A);
  h.store(BigInt(VA), 8, 8n);
  h.sfenceVma(BigInt(VA));
  assert.throws(() => h.store(BigInt(VA), 8, 9n));
});

Deno.test("TLB: U-mode code and data use stale entries too (the interpreter's fast path)", () => {
  const tb = new Testbench({
    onTrap: (t, h, b) => {
      if (b.traps.length === 1) {
        // ecall: remap the data page and the code page 2, then return without a fence.
        pt.map(VA, NEW, RW_USER);
        pt.map(0x2000, RAM_BASE + 0x3000, RX_USER);
        h.csrw(0x141, t.sepc + 4n);
        h.sret();
      } else b.machine.powerOff(0);
    },
  });
  const pt = new PageTables(tb, 3, POOL);
  tb.writeU64(OLD, 0x01dn);
  tb.writeU64(NEW, 0x9e3n);
  pt.map(VA, OLD, RW_USER);
  pt.map(0x1000, RAM_BASE + 0x1000, RX_USER);
  pt.map(0x2000, RAM_BASE + 0x2000, RX_USER);
  tb.load(`ld a0, 0(s0)\nj 0x2000`, 0x1000, RAM_BASE + 0x1000);
  tb.load(`ld a1, 0(s0)\necall\nld a2, 0(s0)\nli a3, 1\nebreak`, 0x2000, RAM_BASE + 0x2000);
  tb.load(`ld a1, 0(s0)\necall\nld a2, 0(s0)\nli a3, 2\nebreak`, 0x2000, RAM_BASE + 0x3000);
  const h = tb.enterUser(0, 0x1000, pt.satp(3));
  h.x[8] = BigInt(VA);
  tb.run();
  assert.equal(tb.traps[1].code, EXC_BREAKPOINT);
  assert.equal(h.x[12], 0x01dn, "the load after the remap used the stale data entry");
  assert.equal(h.x[13], 1n, "the fetch used the stale code entry");
});

Deno.test("TLB: the structure", () => {
  assert.equal(ASIDLEN, 16);
  const t = new Tlb();
  t.fill(0x1000, 3, PTE_V, 0, 0, 0);
  t.fill(-4096, TLB_GLOBAL, PTE_V, 0, 0, 0);
  assert.equal(t.lookup(0x1000, 3, TLB_GLOBAL), 1);
  assert.equal(t.lookup(0x1000, 4, TLB_GLOBAL), -1);
  assert.equal(t.lookup(-4096, 4, TLB_GLOBAL), 1023, "a high-half page, global");
  assert.equal(t.flush(undefined, 3), 1);
  assert.equal(t.count(), 1);
});
