import assert from "node:assert/strict";
import { MEMMAP_USABLE } from "../emulator/core/bootinfo.ts";
import { OutOfMemory, type PageTables, type RunQueue, type Schedulable } from "./components.ts";
import { guardFixedBlock, guardPageTables, guardPmm, guardRunQueue } from "./guard.ts";
import { BufferPhysMem } from "./mm/buffer_mem.ts";
import { createFixedBlockAllocator } from "./mm/fixed_block.ts";
import { createStackPmm } from "./mm/pmm.ts";
import { ComponentFailure, KernelPanic } from "./panic.ts";
import { createRunQueue } from "./sched/run_queue.ts";

const RAM = 0x8000_0000;

function pmm() {
  const mem = new BufferPhysMem(RAM, 1 << 20);
  const real = createStackPmm(mem, [{ base: RAM, length: 1 << 20, type: MEMMAP_USABLE }]);
  return { mem, real, guarded: guardPmm(real, [{ base: RAM, frames: 256 }]) };
}

Deno.test("guard: the PMM's answers are checked, and the kernel's double frees caught", () => {
  const { guarded } = pmm();
  const a = guarded.allocate()!;
  assert.equal(guarded.isAllocated(a), true);
  guarded.free(a);
  assert.throws(() => guarded.free(a), KernelPanic);
  assert.throws(
    () => guarded.free(a),
    /the kernel freed the frame at 0x\S+, which is not allocated/,
  );
  const outside = guardPmm({ ...pmm().real, allocate: () => 0x1000 }, [{ base: RAM, frames: 256 }]);
  assert.throws(() => outside.allocate(), ComponentFailure);
  assert.throws(
    () => outside.allocate(),
    /returned 0x1000: 0x1000\+1 frames is not inside usable RAM/,
  );
  const badStats = guardPmm({ ...pmm().real, stats: () => ({ total: -1 }) as never }, []);
  assert.throws(() => badStats.stats(), /stats\(\) returned \{"total":-1\}: total is not a count/);
});

Deno.test("guard: the heap's objects must lie in frames the PMM handed out", () => {
  const { mem, guarded } = pmm();
  const fba = guardFixedBlock(createFixedBlockAllocator(mem, guarded, 64), guarded);
  const a = fba.allocate()!;
  fba.free(a);
  assert.throws(
    () => fba.free(a),
    /the kernel freed 0x\S+ to fixed-block allocator \(64 bytes\), which did not hand it out/,
  );
  const stray = guardFixedBlock({
    ...createFixedBlockAllocator(mem, guarded, 64),
    allocate: () => RAM + 0x8_0000,
  }, guarded);
  assert.throws(
    () => stray.allocate(),
    /returned 0x8008_0000, which is not in a frame it took from the PMM/,
  );
});

Deno.test("guard: a run queue must give back exactly what it was given", () => {
  const t = (tid: number): Schedulable => ({ tid, schedClass: "normal", priority: 1 });
  const inventing: RunQueue = { ...createRunQueue(), next: () => t(99) };
  const q = guardRunQueue(inventing);
  q.enqueue(t(1));
  assert.throws(
    () => q.next(),
    /next\(\) returned thread 99, which is not a queued thread \(queued: 1\)/,
  );
  const liar = guardRunQueue({ ...createRunQueue(), remove: () => true });
  assert.throws(
    () => liar.remove(t(5)),
    /remove\(thread 5\) returned true, but the thread was not queued/,
  );
  const vague = guardRunQueue({ ...createRunQueue(), outranks: () => "yes" as never });
  assert.throws(() => vague.outranks(t(1)), /outranks\(\) returned "yes"/);
  const twice = guardRunQueue(createRunQueue());
  const x = t(7);
  twice.enqueue(x);
  assert.throws(() => twice.enqueue(x), /the kernel queued thread 7 twice/);
});

Deno.test("guard: page tables may run out of memory, but not answer nonsense", () => {
  const base = {
    format: "sv48",
    pageSizes: [4096],
    createRoot: () => 123,
    map: () => {
      throw new OutOfMemory("a table");
    },
    unmap: () => -1,
    protect: () => 0,
    translate: () => ({ pa: 0x1000, pageSize: 8192, flags: {} }) as never,
    destroyRoot: () => {},
  } as PageTables;
  const pt = guardPageTables(base);
  const flags = { write: true, execute: false, user: true, global: false, device: false };
  assert.throws(() => pt.map(0, 1, 0n, 0, 4096, flags), OutOfMemory, "passes through");
  assert.throws(() => pt.createRoot(), /createRoot\(\) returned 0x7b, not the address of a frame/);
  assert.throws(() => pt.unmap(0, 1, 0n, 4096), /returned -1, not a count of pages/);
  assert.throws(() => pt.translate(0, 0n), /which is not a Mapping/);
});
