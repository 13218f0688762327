import assert from "node:assert/strict";
import { EventQueue } from "../core/events.ts";
import { ProbeLine } from "../core/irq.ts";
import { Machine } from "../core/machine.ts";
import { Clint, CLINT_MSIP, CLINT_MTIME, CLINT_MTIMECMP, VIRT_CLINT_SIZE } from "./clint.ts";

const FW = -1; // accesses made by the firmware (M-mode)

/** A two-hart CLINT on a hand-driven clock. */
function setup() {
  const clock = { t: 0, now: () => clock.t, events: new EventQueue() };
  const mtip = [new ProbeLine(), new ProbeLine()];
  const msip = [new ProbeLine(), new ProbeLine()];
  const clint = new Clint({ harts: 2, clock, mtip, msip });
  const advance = (ns: number) => {
    clock.t += ns;
    clock.events.runDue(clock.t);
  };
  return { clint, clock, mtip, msip, advance };
}

Deno.test("clint: mtime counts virtual time at 10 MHz, as 64 bits or two halves", () => {
  const { clint, clock } = setup();
  clock.t = 123_456_789_000;
  assert.equal(clint.read(CLINT_MTIME, 8, FW), 1_234_567_890n);
  assert.equal(clint.read(CLINT_MTIME, 4, FW), 1_234_567_890n & 0xffff_ffffn);
  clock.t = 2 ** 33 * 100 + 250;
  assert.equal(clint.read(CLINT_MTIME + 4, 4, FW), 2n, "the high half");
  assert.equal(clint.read(CLINT_MTIME, 4, FW), 2n, "the low half: 250 ns is 2 ticks");
  assert.ok(clint.write(CLINT_MTIME, 8, 0n, FW));
  assert.equal(clint.mtime(), (2n ** 33n) + 2n, "writes to mtime are ignored");
});

Deno.test("clint: mtimecmp resets to all ones and MTIP is low", () => {
  const { clint, mtip } = setup();
  assert.equal(clint.read(CLINT_MTIMECMP, 8, FW), 0xffff_ffff_ffff_ffffn);
  assert.equal(mtip[0].level, false);
});

Deno.test("clint: MTIP rises exactly when mtime reaches mtimecmp, by a scheduled event", () => {
  const { clint, clock, mtip, advance } = setup();
  assert.ok(clint.write(CLINT_MTIMECMP + 8, 8, 500n, FW)); // hart 1, at 50 us
  assert.equal(clock.events.nextTime(), 50_000, "scheduled, not polled");
  advance(49_999);
  assert.equal(mtip[1].level, false);
  advance(1);
  assert.equal(mtip[1].level, true);
  assert.equal(mtip[0].level, false, "hart 0's comparator is its own");
  assert.equal(clint.mtip(1), true);
});

Deno.test("clint: moving mtimecmp into the future lowers MTIP and reschedules", () => {
  const { clint, clock, mtip, advance } = setup();
  clint.write(CLINT_MTIMECMP, 8, 10n, FW);
  advance(1000);
  assert.equal(mtip[0].level, true);
  clint.write(CLINT_MTIMECMP, 8, 30n, FW);
  assert.equal(mtip[0].level, false);
  assert.equal(clock.events.nextTime(), 3000, "the old event was cancelled");
  clint.write(CLINT_MTIMECMP, 8, 5n, FW);
  assert.equal(mtip[0].level, true, "a comparator already in the past matches at once");
  assert.equal(clock.events.nextTime(), Infinity);
});

Deno.test("clint: mtimecmp written as two 32-bit halves", () => {
  const { clint, clock } = setup();
  // The classic RV32 sequence: high to all ones first, then low, then high.
  clint.write(CLINT_MTIMECMP + 4, 4, 0xffff_ffffn, FW);
  clint.write(CLINT_MTIMECMP, 4, 0x10n, FW);
  clint.write(CLINT_MTIMECMP + 4, 4, 0x1n, FW);
  assert.equal(clint.read(CLINT_MTIMECMP, 8, FW), 0x1_0000_0010n);
  assert.equal(clint.read(CLINT_MTIMECMP + 4, 4, FW), 1n);
  assert.equal(clock.events.nextTime(), 0x1_0000_0010 * 100);
});

Deno.test("clint: a comparator beyond any run (all ones) schedules nothing", () => {
  const { clint, clock } = setup();
  clint.write(CLINT_MTIMECMP, 8, 100n, FW);
  clint.write(CLINT_MTIMECMP, 8, -1n, FW);
  assert.equal(clock.events.nextTime(), Infinity);
  assert.equal(clint.mtimecmp(0), 0xffff_ffff_ffff_ffffn);
});

Deno.test("clint: msip bit 0 drives the hart's MSIP line; other bits read 0", () => {
  const { clint, msip } = setup();
  assert.ok(clint.write(CLINT_MSIP + 4, 4, 0xffn, FW));
  assert.equal(msip[1].level, true);
  assert.equal(msip[0].level, false);
  assert.equal(clint.read(CLINT_MSIP + 4, 4, FW), 1n);
  clint.write(CLINT_MSIP + 4, 4, 0n, FW);
  assert.equal(msip[1].level, false);
  assert.equal(msip[1].rises, 1);
});

Deno.test("clint: accesses from a hart fault, as under OpenSBI's PMP", () => {
  const { clint } = setup();
  assert.equal(clint.read(CLINT_MTIME, 8, 0), undefined);
  assert.equal(clint.write(CLINT_MTIMECMP, 8, 0n, 1), false);
  assert.equal(clint.write(CLINT_MSIP, 4, 1n, 0), false);
  const open = new Clint({
    harts: 1,
    clock: { now: () => 0, events: new EventQueue() },
    machineModeOnly: false,
  });
  assert.equal(open.read(CLINT_MTIME, 8, 0), 0n, "unless the board opens it");
});

Deno.test("clint: bad widths fault; holes read 0", () => {
  const { clint } = setup();
  assert.equal(clint.read(CLINT_MSIP, 8, FW), undefined);
  assert.equal(clint.read(CLINT_MSIP, 1, FW), undefined);
  assert.equal(clint.read(CLINT_MTIME, 2, FW), undefined);
  assert.equal(clint.read(CLINT_MTIMECMP + 4, 8, FW), undefined, "misaligned doubleword");
  assert.equal(clint.read(CLINT_MSIP + 4 * 7, 4, FW), 0n, "hart 7 does not exist");
  assert.equal(clint.read(CLINT_MTIMECMP + 8 * 7, 8, FW), 0n);
  assert.ok(clint.write(CLINT_MTIMECMP + 8 * 7, 8, 1n, FW));
  assert.equal(clint.read(VIRT_CLINT_SIZE - 16, 8, FW), 0n, "between mtimecmp and mtime");
});

Deno.test("clint: in a machine, the comparator fires when virtual time gets there", () => {
  const m = new Machine({ memory: 1 << 20 });
  const mtip = new ProbeLine();
  let at = -1;
  const clint = new Clint({
    harts: 1,
    clock: m,
    mtip: [{ set: (l) => (mtip.set(l), l && (at = m.now())) }],
  });
  m.bus.map(0x200_0000, VIRT_CLINT_SIZE, clint);
  assert.ok(m.bus.write(0x200_0000 + CLINT_MTIMECMP, 8, 1234n));
  // No CPU: the machine jumps to the event, fires it, then has nothing left to do.
  assert.equal(m.run(1_000_000).kind, "deadlock");
  assert.equal(at, 123_400);
  assert.equal(m.bus.read(0x200_0000 + CLINT_MTIME, 8), 1234n);
});
