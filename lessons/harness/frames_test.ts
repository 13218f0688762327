import assert from "node:assert/strict";
import { buildBoard } from "./boards.ts";
import { DEFAULT_PAINT, frameLedger } from "./frames.ts";

const F = 4096;

Deno.test("frames: a window of usable RAM, aligned as asked, handed out first fit", () => {
  for (const arch of ["x86_64", "riscv64"] as const) {
    const board = buildBoard(arch, {}, 1);
    const ledger = frameLedger(board, { frames: 16, align: 4 << 20 });
    assert.equal(ledger.base % (4 << 20), 0, arch);
    const usable = board.memoryMap.find((r) =>
      r.type === 0 && ledger.base >= r.base && ledger.base + 16 * F <= r.base + r.length
    );
    assert.ok(usable, `${arch}: the window lies in one usable region`);
    const { pmm } = ledger;
    const a = pmm.allocate()!, b = pmm.allocate(3)!;
    assert.deepEqual([a, b], [ledger.base, ledger.base + F]);
    assert.deepEqual(pmm.stats(), { total: 16 * F, free: 12 * F, allocatedFrames: 4, runs: 1 });
    assert.equal(ledger.allocationOf(b + 100, 2 * F), b, "inside one allocation");
    assert.equal(ledger.allocationOf(a + F - 8, 16), undefined, "across two allocations");
    pmm.free(b + F, 1);
    assert.equal(ledger.allocationOf(b, 2 * F), undefined, "a frame of it came back");
    assert.deepEqual(pmm.stats().runs, 2);
    assert.deepEqual(ledger.heldFrames(), [a, b, b + 2 * F]);
    assert.equal(ledger.outstanding(), 3);
    assert.deepEqual(ledger.log.map((e) => e.op), ["allocate", "allocate", "free"]);
  }
});

Deno.test("frames: new frames are painted, not zeroed", () => {
  const board = buildBoard("riscv64", {}, 1);
  const ledger = frameLedger(board, { frames: 4 });
  const pa = ledger.pmm.allocate()!;
  assert.deepEqual(board.ram.readBytes(pa, F), new Uint8Array(F).fill(DEFAULT_PAINT));
  const other = frameLedger(board, { frames: 4, paint: 0x5a });
  const pb = other.pmm.allocate()!;
  assert.equal(board.ram.read(pb, 1), 0x5an);
});

Deno.test("frames: the limit makes it run dry; bad frees say what is wrong", () => {
  const board = buildBoard("x86_64", {}, 1);
  const ledger = frameLedger(board, { frames: 8 });
  ledger.limit = 2;
  const a = ledger.pmm.allocate(2)!;
  assert.equal(ledger.pmm.allocate(), undefined);
  assert.equal(ledger.log.at(-1)?.pa, undefined, "the refusal is in the log");
  ledger.limit = Infinity;
  assert.equal(ledger.pmm.allocate(7), undefined, "only 6 frames are free");
  assert.notEqual(ledger.pmm.allocate(6), undefined);
  assert.throws(() => ledger.pmm.free(a + 8 * F), /never handed out the frame at 0x/);
  ledger.pmm.free(a);
  assert.throws(() => ledger.pmm.free(a), /already free \(freed twice\?\)/);
  assert.throws(() => ledger.pmm.free(a + 1), /not the address of a frame/);
  assert.throws(() => ledger.pmm.allocate(0), /positive integer/);
  assert.throws(() => frameLedger(board, { frames: 1 << 20 }), /no usable region holds/);
});
