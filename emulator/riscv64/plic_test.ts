import assert from "node:assert/strict";
import { Bus } from "../core/bus.ts";
import { ProbeLine } from "../core/irq.ts";
import { Ram } from "../core/memory.ts";
import {
  Plic,
  PLIC_CLAIM_OFFSET,
  PLIC_CONTEXT_BASE,
  PLIC_CONTEXT_STRIDE,
  PLIC_ENABLE_BASE,
  PLIC_ENABLE_STRIDE,
  PLIC_PENDING_BASE,
  plicContext,
  VIRT_PLIC_NDEV,
  VIRT_PLIC_SIZE,
} from "./plic.ts";

const BASE = 0x0c00_0000;

/** A PLIC for two harts on a bus, with probes on all four context outputs. */
function setup() {
  const targets = [0, 1, 2, 3].map(() => new ProbeLine());
  const plic = new Plic({ contexts: 4, targets });
  const bus = new Bus(new Ram(1 << 20));
  bus.map(BASE, VIRT_PLIC_SIZE, plic);
  const rd = (off: number) => Number(bus.read(BASE + off, 4));
  const wr = (off: number, v: number) => assert.ok(bus.write(BASE + off, 4, BigInt(v)));
  const priority = (id: number, p: number) => wr(4 * id, p);
  const enable = (ctx: number, id: number) => {
    const off = PLIC_ENABLE_BASE + PLIC_ENABLE_STRIDE * ctx + 4 * (id >> 5);
    wr(off, rd(off) | (1 << (id & 31)));
  };
  const threshold = (ctx: number, t: number) =>
    wr(PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE * ctx, t);
  const claim = (ctx: number) =>
    rd(PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE * ctx + PLIC_CLAIM_OFFSET);
  const complete = (ctx: number, id: number) =>
    wr(PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE * ctx + PLIC_CLAIM_OFFSET, id);
  return { plic, bus, targets, rd, wr, priority, enable, threshold, claim, complete };
}

const S0 = plicContext(0, "S");

Deno.test("plic: virt's contexts are 2h for M-mode and 2h+1 for S-mode", () => {
  assert.equal(plicContext(0, "M"), 0);
  assert.equal(plicContext(0, "S"), 1);
  assert.equal(plicContext(3, "S"), 7);
  assert.equal(VIRT_PLIC_NDEV, 95);
});

Deno.test("plic: priorities keep 3 bits; source 0 and sources past ndev do not exist", () => {
  const { rd, wr } = setup();
  wr(4 * 10, 0xff);
  assert.equal(rd(4 * 10), 7);
  wr(0, 5);
  assert.equal(rd(0), 0, "source 0 has no priority register");
  wr(4 * 96, 5);
  assert.equal(rd(4 * 96), 0, "source 96 does not exist on virt");
});

Deno.test("plic: a high line becomes pending; pending bits are read-only", () => {
  const { plic, rd, wr } = setup();
  plic.input(10).set(true);
  assert.equal(rd(PLIC_PENDING_BASE), 1 << 10);
  wr(PLIC_PENDING_BASE, 0);
  assert.equal(rd(PLIC_PENDING_BASE), 1 << 10, "software cannot clear a pending bit");
  plic.input(40).set(true);
  assert.equal(rd(PLIC_PENDING_BASE + 4), 1 << 8);
});

Deno.test("plic: enable bit 0 and bits past ndev are hardwired to zero", () => {
  const { rd, wr } = setup();
  wr(PLIC_ENABLE_BASE, 0xffff_ffff);
  assert.equal(rd(PLIC_ENABLE_BASE) >>> 0, 0xffff_fffe);
  wr(PLIC_ENABLE_BASE + 8, 0xffff_ffff);
  assert.equal(rd(PLIC_ENABLE_BASE + 8) >>> 0, 0xffff_ffff, "sources 64..95 all exist");
  wr(PLIC_ENABLE_BASE + 12, 0xffff_ffff);
  assert.equal(rd(PLIC_ENABLE_BASE + 12), 0, "sources 96..127 do not");
  const small = new Plic({ sources: 40, contexts: 1 });
  small.write(PLIC_ENABLE_BASE + 4, 4, 0xffff_ffffn, -1);
  assert.equal(small.read(PLIC_ENABLE_BASE + 4, 4, -1), 0x1ffn, "a 40-source PLIC: 32..40");
});

Deno.test("plic: claim returns the highest priority above the threshold, ties to the lowest id", async (t) => {
  const { plic, priority, enable, threshold, claim } = setup();
  for (const [id, p] of [[3, 2], [5, 6], [7, 6], [9, 1]]) {
    priority(id, p);
    enable(S0, id);
    plic.input(id).set(true);
  }
  await t.step("priority, then lowest id", () => {
    assert.equal(claim(S0), 5);
    assert.equal(claim(S0), 7);
    assert.equal(claim(S0), 3);
  });
  await t.step("nothing above the threshold claims 0", () => {
    threshold(S0, 1);
    assert.equal(claim(S0), 0, "source 9 has priority 1, not above 1");
    threshold(S0, 0);
    assert.equal(claim(S0), 9);
    assert.equal(claim(S0), 0, "nothing pending");
  });
});

Deno.test("plic: priority 0 never interrupts, and a disabled source is invisible", () => {
  const { plic, targets, priority, enable, claim } = setup();
  enable(S0, 4);
  plic.input(4).set(true);
  assert.equal(targets[S0].level, false);
  assert.equal(claim(S0), 0);
  plic.input(6).set(true);
  priority(6, 3);
  assert.equal(claim(S0), 0, "source 6 is not enabled for the context");
  priority(4, 1);
  assert.equal(targets[S0].level, true);
});

Deno.test("plic: the interrupt output goes to the enabled context only, above its threshold", () => {
  const { plic, targets, priority, enable, threshold, claim, complete } = setup();
  priority(10, 1);
  enable(plicContext(1, "S"), 10);
  plic.input(10).set(true);
  assert.deepEqual(targets.map((t) => t.level), [false, false, false, true]);
  threshold(plicContext(1, "S"), 1);
  assert.equal(targets[3].level, false, "masked by the threshold");
  threshold(plicContext(1, "S"), 0);
  assert.equal(targets[3].level, true);
  assert.equal(claim(3), 10);
  assert.equal(targets[3].level, false, "claimed: no longer pending");
  plic.input(10).set(false);
  complete(3, 10);
  assert.equal(targets[3].level, false);
});

Deno.test("plic: a level-triggered gateway waits for completion before forwarding again", async (t) => {
  const { plic, targets, priority, enable, claim, complete } = setup();
  priority(10, 1);
  enable(S0, 10);
  const line = plic.input(10);
  line.set(true);
  assert.equal(claim(S0), 10);
  await t.step("the still-high line is not pending while claimed", () => {
    line.set(true);
    assert.equal(plic.isPending(10), false);
    assert.equal(targets[S0].level, false);
    assert.equal(plic.isClaimed(10), true);
  });
  await t.step("completion re-arms it: pending again at once", () => {
    complete(S0, 10);
    assert.equal(plic.isPending(10), true);
    assert.equal(targets[S0].level, true);
    assert.equal(claim(S0), 10);
  });
  await t.step("a line that dropped before completion stays quiet", () => {
    line.set(false);
    complete(S0, 10);
    assert.equal(plic.isPending(10), false);
    assert.equal(claim(S0), 0);
  });
});

Deno.test("plic: a request stays pending when the line drops before the claim", () => {
  const { plic, priority, enable, claim } = setup();
  priority(2, 1);
  enable(S0, 2);
  plic.input(2).set(true);
  plic.input(2).set(false);
  assert.equal(claim(S0), 2, "the handler finds the device idle; the spec says so");
});

Deno.test("plic: wrong completions are ignored", async (t) => {
  const { plic, priority, enable, claim, complete } = setup();
  priority(10, 1);
  enable(S0, 10);
  plic.input(10).set(true);
  assert.equal(claim(S0), 10);
  await t.step("completing a source that was never claimed", () => {
    complete(S0, 11);
    complete(S0, 0);
    complete(S0, 1000);
    assert.equal(plic.isClaimed(10), true);
  });
  await t.step("completing from a context that does not enable the source", () => {
    complete(plicContext(1, "S"), 10);
    assert.equal(plic.isClaimed(10), true);
    assert.equal(plic.isPending(10), false);
  });
  await t.step("the right completion works", () => {
    complete(S0, 10);
    assert.equal(plic.isClaimed(10), false);
    assert.equal(plic.isPending(10), true, "the line is still high");
  });
});

Deno.test("plic: accesses other than aligned 32 bits are access faults", () => {
  const { bus } = setup();
  assert.equal(bus.read(BASE + 4 * 10, 8), undefined);
  assert.equal(bus.read(BASE + 4 * 10, 1), undefined);
  assert.equal(bus.read(BASE + 4 * 10 + 2, 4), undefined);
  assert.equal(bus.write(BASE + PLIC_CONTEXT_BASE, 8, 0n), false);
  assert.equal(bus.read(BASE + PLIC_CONTEXT_BASE + 8 * PLIC_CONTEXT_STRIDE, 4), 0n, "no context");
});

Deno.test("plic: bad source numbers for device wiring are reported", () => {
  const { plic } = setup();
  assert.throws(() => plic.input(0), /source 0 does not exist/);
  assert.throws(() => plic.input(96), /1\.\.95/);
  assert.throws(() => new Plic({ contexts: 0 }), /contexts/);
});
