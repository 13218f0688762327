import assert from "node:assert/strict";
import { createSv48PageTables } from "../../arch/riscv64/sv48.ts";
import { createX86PageTables } from "../../arch/x86_64/paging.ts";
import type { PageFlags, PageTablesFactory, TlbControl } from "../../kernel/components.ts";
import { buildBoard } from "./boards.ts";
import type { ArchName } from "./define.ts";
import { frameLedger } from "./frames.ts";
import { mmuProbe } from "./mmu.ts";

const userRw: PageFlags = { write: true, execute: false, user: true, global: false, device: false };
const kernelRx: PageFlags = {
  write: false,
  execute: true,
  user: false,
  global: true,
  device: false,
};

/** Runs `fn` inside a case board's kernel entry; rethrows what it threw. */
function inEntry(arch: ArchName, fn: (board: ReturnType<typeof buildBoard>) => void): void {
  const board = buildBoard(arch, {}, 1);
  const { thrown, reason } = board.runEntry(() => fn(board));
  if (thrown !== undefined) throw thrown;
  assert.equal(reason.kind, "shutdown", JSON.stringify(reason));
}

const factories: Record<ArchName, PageTablesFactory> = {
  x86_64: createX86PageTables,
  riscv64: createSv48PageTables,
};

/** The reference tables over a ledger's frames, with `tlb` (the probe's, or a broken one). */
function tables(board: ReturnType<typeof buildBoard>, tlb: TlbControl) {
  const ledger = frameLedger(board, { frames: 512, align: 4 << 20 });
  const pt = factories[board.arch]({ mem: board.cpuMem, pmm: ledger.pmm, tlb });
  const kernel = pt.createRoot();
  const user = pt.createRoot(kernel);
  // Map to RAM past the ledger's window, which the grader never writes.
  const data = ledger.base + ledger.frames * 4096;
  return { ledger, pt, kernel, user, data };
}

for (const arch of ["x86_64", "riscv64"] as const) {
  Deno.test(`mmu probe (${arch}): the CPU's walk, and accesses through its TLB`, () => {
    inEntry(arch, (board) => {
      const probe = mmuProbe(board);
      const { pt, kernel, user, data } = tables(board, probe.tlb);
      pt.map(user, 5, 0x40_0000n, data, 4096, userRw);
      pt.map(kernel, 0, 0xffff_a000_0000_0000n, data + 4096, 4096, kernelRx);

      const w = probe.walk(user, 0x40_0123n, "write", true);
      assert.equal(w.pa, data + 0x123);
      assert.equal(w.pageSize, 4096);
      assert.deepEqual(w.steps.map((s) => s.level), [3, 2, 1, 0]);
      assert.equal(w.steps[0].pteAddress, user, "the root's entry 0");
      assert.ok(probe.walk(user, 0x40_0000n, "execute", true).pa === undefined);
      const k = probe.walk(user, 0xffff_a000_0000_0010n, "read", true);
      assert.equal(k.pa, undefined, "a user access to a kernel page");
      assert.match(k.explanation, /fault/);
      assert.equal(probe.walk(user, 0xffff_a000_0000_0010n, "execute", false).pa, data + 0x1010);

      assert.ok(!probe.cached(5, 0x40_0000n, "read"));
      const a = probe.access(user, 5, 0x40_0008n, "read", true);
      assert.deepEqual([a.ok, a.pa, a.tlbHit], [true, data + 8, false]);
      assert.ok(probe.cached(5, 0x40_0000n, "read"), "the access filled the TLB");
      assert.ok(!probe.cached(6, 0x40_0000n, "read"), "for its own address space only");
      assert.equal(probe.access(user, 5, 0x40_0010n, "read", true).tlbHit, true);
      const x = probe.access(user, 5, 0x40_0000n, "execute", true);
      assert.equal(x.ok, false);
      assert.match(x.explanation, /fault/);
    });
  });

  Deno.test(`mmu probe (${arch}): a flush the tables skip leaves a stale entry the CPU uses`, () => {
    inEntry(arch, (board) => {
      const probe = mmuProbe(board);
      const silent: TlbControl = { flushPage() {}, flushAsid() {}, flushAll() {} };
      const { pt, user, data } = tables(board, silent);
      pt.map(user, 3, 0x80_0000n, data, 4096, userRw);
      assert.ok(probe.access(user, 3, 0x80_0000n, "write", true).ok);
      assert.equal(pt.unmap(user, 3, 0x80_0000n, 4096), 1);
      assert.equal(probe.walk(user, 0x80_0000n, "read", true).pa, undefined, "unmapped");
      const stale = probe.access(user, 3, 0x80_0000n, "write", true);
      assert.deepEqual([stale.ok, stale.pa, stale.tlbHit], [true, data, true]);
      probe.tlb.flushPage(0x80_0000n, 3);
      assert.equal(probe.access(user, 3, 0x80_0000n, "write", true).ok, false);
      assert.deepEqual(probe.flushes, [{ op: "flushPage", va: 0x80_0000n, asid: 3 }]);
      assert.equal(probe.describeFlushes(), "flushPage(0x80_0000, 3)");
      assert.equal(probe.describeFlushes(1), "no TLB flush at all");
    });
  });

  Deno.test(`mmu probe (${arch}): the tables it probes are current only for the probe`, () => {
    inEntry(arch, (board) => {
      const probe = mmuProbe(board);
      const { pt, user, data, ledger } = tables(board, probe.tlb);
      pt.map(user, 2, 0x1000n, data, 4096, userRw);
      probe.access(user, 2, 0x1000n, "read", true);
      // PhysMem still works as the board's: through Bare or the firmware's direct map.
      assert.equal(board.cpuMem.read(ledger.base, 8), board.ram.read(ledger.base, 8));
      assert.throws(() => probe.tlb.flushPage(0x1000 as unknown as bigint, 2), /must be a bigint/);
      assert.throws(() => probe.tlb.flushAsid(-1), /address space -1 is not 0 to/);
      probe.tlb.flushAll();
      assert.ok(!probe.cached(2, 0x1000n, "read"));
    });
  });

  Deno.test(`mmu probe (${arch}): TLB slots, as the CPU indexes its TLB`, () => {
    inEntry(arch, (board) => {
      const probe = mmuProbe(board);
      const slots = new Set<number>();
      for (let i = 0; i < 1024; i++) slots.add(probe.tlbSlot(BigInt(i) << 12n, 7));
      assert.equal(slots.size, 1024, "consecutive pages use every slot once");
      assert.equal(probe.physTlbSlot(0x1000), probe.physTlbSlot(0x1000 + 1024 * 4096));
      assert.notEqual(probe.physTlbSlot(0x1000), probe.physTlbSlot(0x2000));
    });
  });
}
