import assert from "node:assert/strict";
import { EventQueue } from "../core/events.ts";
import { ProbeLine } from "../core/irq.ts";
import {
  ENABLE_CNF,
  Hpet,
  HPET_GCAP_ID,
  HPET_GEN_CONF,
  HPET_GINTR_STA,
  HPET_MAIN_COUNTER,
  hpetTimerComparator,
  hpetTimerConf,
  LEG_RT_CNF,
  TN_32MODE_CNF,
  TN_INT_ENB_CNF,
  TN_INT_ROUTE_SHIFT,
  TN_INT_TYPE_CNF,
  TN_TYPE_CNF,
  TN_VAL_SET_CNF,
} from "./hpet.ts";

/** An HPET on a hand-driven clock, with a probe on every I/O APIC input. */
function setup() {
  const clock = { t: 0, now: () => clock.t, events: new EventQueue() };
  const pins = Array.from({ length: 24 }, () => new ProbeLine());
  const hpet = new Hpet({ clock, irq: (pin) => pins[pin] });
  const r64 = (off: number) => hpet.read(off, 8, 0)!;
  const w64 = (off: number, v: bigint) => assert.ok(hpet.write(off, 8, v, 0));
  const advance = (ns: number) => {
    clock.t += ns;
    clock.events.runDue(clock.t);
  };
  const route = (pin: number) => pin << TN_INT_ROUTE_SHIFT;
  return { clock, pins, hpet, r64, w64, advance, route };
}

Deno.test("hpet: capabilities (HPET §2.3.4): 10 ns, Intel, 3 timers, 64-bit, legacy", () => {
  const { r64, hpet } = setup();
  assert.equal(r64(HPET_GCAP_ID), 0x0098_9680_8086_a201n);
  assert.equal(hpet.read(HPET_GCAP_ID + 4, 4, 0), 10_000_000n, "COUNTER_CLK_PERIOD in fs");
  assert.equal(hpet.read(HPET_GCAP_ID, 4, 0), 0x8086_a201n, "the ACPI event timer block ID");
});

Deno.test("hpet: the main counter counts virtual time at 100 MHz, only while enabled", () => {
  const { r64, w64, advance } = setup();
  advance(1000);
  assert.equal(r64(HPET_MAIN_COUNTER), 0n, "halted at reset");
  w64(HPET_GEN_CONF, BigInt(ENABLE_CNF));
  advance(1005);
  assert.equal(r64(HPET_MAIN_COUNTER), 100n);
  w64(HPET_GEN_CONF, 0n);
  advance(500);
  assert.equal(r64(HPET_MAIN_COUNTER), 100n, "halted again, keeping its value");
  w64(HPET_MAIN_COUNTER, 1n << 40n);
  w64(HPET_GEN_CONF, BigInt(ENABLE_CNF));
  advance(20);
  assert.equal(r64(HPET_MAIN_COUNTER), (1n << 40n) + 2n);
});

Deno.test("hpet: the counter reads as two 32-bit halves", () => {
  const { hpet, w64, advance } = setup();
  w64(HPET_MAIN_COUNTER, 0x1_ffff_fff0n);
  w64(HPET_GEN_CONF, BigInt(ENABLE_CNF));
  advance(100);
  assert.equal(hpet.read(HPET_MAIN_COUNTER, 4, 0), 0xffff_fffan);
  assert.equal(hpet.read(HPET_MAIN_COUNTER + 4, 4, 0), 1n);
  assert.ok(hpet.write(HPET_MAIN_COUNTER + 4, 4, 7n, 0));
  assert.equal(hpet.read(HPET_MAIN_COUNTER + 4, 4, 0), 7n);
});

Deno.test("hpet: timer 0 periodic 64-bit, 1 and 2 one-shot 32-bit, routes 20-23", () => {
  const { r64 } = setup();
  assert.equal(r64(hpetTimerConf(0)), 0x00f0_0000_0000_0030n);
  assert.equal(r64(hpetTimerConf(1)), 0x00f0_0000_0000_0000n);
  assert.equal(r64(hpetTimerComparator(0)), 0xffff_ffff_ffff_ffffn, "reset: all ones");
  assert.equal(r64(hpetTimerComparator(1)), 0xffff_ffffn);
});

Deno.test("hpet: a one-shot edge timer pulses its I/O APIC input when the counter matches", () => {
  const { w64, pins, advance, clock, route } = setup();
  w64(hpetTimerConf(0), BigInt(TN_INT_ENB_CNF | route(20)));
  w64(hpetTimerComparator(0), 500n);
  w64(HPET_GEN_CONF, BigInt(ENABLE_CNF));
  assert.equal(clock.events.nextTime(), 5000, "scheduled at counter 500");
  advance(4999);
  assert.equal(pins[20].rises, 0);
  advance(1);
  assert.equal(pins[20].rises, 1);
  assert.equal(pins[20].level, false, "an edge is a pulse");
  // Only the 32-bit timers' reset comparators (all ones) remain scheduled.
  assert.equal(clock.events.nextTime(), (2 ** 32 - 1) * 10, "a 64-bit one-shot matches once");
});

Deno.test("hpet: a comparator already passed does not match (64 bits never wrap)", () => {
  const { w64, advance, clock } = setup();
  w64(HPET_GEN_CONF, BigInt(ENABLE_CNF));
  advance(10_000);
  w64(hpetTimerComparator(0), 500n);
  assert.equal(clock.events.nextTime(), (2 ** 32 - 1) * 10, "only the 32-bit timers' events");
});

Deno.test("hpet: a level timer sets its status bit and holds the line until it is cleared", () => {
  const { w64, r64, pins, advance, route } = setup();
  w64(hpetTimerConf(1), BigInt(TN_INT_ENB_CNF | TN_INT_TYPE_CNF | route(21)));
  w64(hpetTimerComparator(1), 10n);
  w64(HPET_GEN_CONF, BigInt(ENABLE_CNF));
  advance(100);
  assert.equal(r64(HPET_GINTR_STA), 2n);
  assert.equal(pins[21].level, true);
  w64(HPET_GINTR_STA, 1n); // timer 0's bit: nothing to clear
  assert.equal(pins[21].level, true);
  w64(HPET_GINTR_STA, 2n);
  assert.equal(r64(HPET_GINTR_STA), 0n);
  assert.equal(pins[21].level, false);
});

Deno.test("hpet: interrupts disabled still set the level status, without the line", () => {
  const { w64, r64, pins, advance, route } = setup();
  w64(hpetTimerConf(1), BigInt(TN_INT_TYPE_CNF | route(21)));
  w64(hpetTimerComparator(1), 10n);
  w64(HPET_GEN_CONF, BigInt(ENABLE_CNF));
  advance(100);
  assert.equal(r64(HPET_GINTR_STA), 2n);
  assert.equal(pins[21].level, false);
  w64(hpetTimerConf(1), BigInt(TN_INT_ENB_CNF | TN_INT_TYPE_CNF | route(21)));
  assert.equal(pins[21].level, true, "enabling raises the pending request");
});

Deno.test("hpet: periodic mode, programmed the way drivers do (VAL_SET, start, period)", () => {
  const { w64, r64, pins, advance, clock, route } = setup();
  w64(HPET_GEN_CONF, BigInt(ENABLE_CNF));
  advance(1000); // counter 100
  w64(hpetTimerConf(0), BigInt(TN_INT_ENB_CNF | TN_TYPE_CNF | TN_VAL_SET_CNF | route(22)));
  w64(hpetTimerComparator(0), 100n + 50n); // first match
  w64(hpetTimerComparator(0), 50n); // the period
  assert.equal(r64(hpetTimerConf(0)) & BigInt(TN_VAL_SET_CNF), 0n, "VAL_SET clears itself");
  assert.equal(r64(hpetTimerComparator(0)), 150n);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    clock.t = clock.events.nextTime();
    clock.events.runDue(clock.t);
    times.push(clock.t);
  }
  assert.deepEqual(times, [1500, 2000, 2500]);
  assert.equal(pins[22].rises, 3);
  assert.equal(r64(hpetTimerComparator(0)), 300n, "the comparator advanced by the period");
});

Deno.test("hpet: a 32-bit timer matches the counter's low half, again after it wraps", () => {
  const { w64, pins, advance, clock, route } = setup();
  w64(HPET_MAIN_COUNTER, 0x1_0000_0000n + 90n);
  w64(hpetTimerConf(2), BigInt(TN_INT_ENB_CNF | route(23)));
  w64(hpetTimerComparator(2), 0x7_0000_0000n + 100n); // only the low 32 bits are kept
  w64(HPET_GEN_CONF, BigInt(ENABLE_CNF));
  assert.equal(clock.events.nextTime(), 100);
  advance(100);
  assert.equal(pins[23].rises, 1);
  advance(2 ** 32 * 10 - 1);
  assert.equal(pins[23].rises, 1);
  advance(1);
  assert.equal(pins[23].rises, 2, "the next match is 2^32 ticks on");
});

Deno.test("hpet: 32MODE makes timer 0 a 32-bit timer", () => {
  const { w64, r64 } = setup();
  w64(hpetTimerConf(0), BigInt(TN_32MODE_CNF));
  assert.equal(r64(hpetTimerComparator(0)), 0xffff_ffffn);
  w64(hpetTimerComparator(0), 0x1_2345_6789n);
  assert.equal(r64(hpetTimerComparator(0)), 0x2345_6789n);
  w64(hpetTimerConf(1), BigInt(TN_32MODE_CNF | TN_TYPE_CNF));
  assert.equal(r64(hpetTimerConf(1)) & 0xffffn, 0n, "timer 1 has neither bit");
});

Deno.test("hpet: a route outside the capability is not taken (HPET §2.3.8)", () => {
  const { w64, r64, route } = setup();
  w64(hpetTimerConf(0), BigInt(route(21)));
  w64(hpetTimerConf(0), BigInt(route(4)));
  assert.equal(Number(r64(hpetTimerConf(0)) >> 9n) & 0x1f, 21, "reads back the old route");
});

Deno.test("hpet: legacy replacement routes timer 0 to input 2 and timer 1 to input 8", () => {
  const { w64, pins, advance, route } = setup();
  w64(hpetTimerConf(0), BigInt(TN_INT_ENB_CNF | route(20)));
  w64(hpetTimerConf(1), BigInt(TN_INT_ENB_CNF | route(20)));
  w64(hpetTimerComparator(0), 1n);
  w64(hpetTimerComparator(1), 2n);
  w64(HPET_GEN_CONF, BigInt(ENABLE_CNF | LEG_RT_CNF));
  advance(100);
  assert.deepEqual([pins[2].rises, pins[8].rises, pins[20].rises], [1, 1, 0]);
});

Deno.test("hpet: rerouting a level request moves the line", () => {
  const { w64, pins, advance, route } = setup();
  w64(hpetTimerConf(1), BigInt(TN_INT_ENB_CNF | TN_INT_TYPE_CNF | route(20)));
  w64(hpetTimerComparator(1), 1n);
  w64(HPET_GEN_CONF, BigInt(ENABLE_CNF));
  advance(10);
  assert.equal(pins[20].level, true);
  w64(hpetTimerConf(1), BigInt(TN_INT_ENB_CNF | TN_INT_TYPE_CNF | route(23)));
  assert.deepEqual([pins[20].level, pins[23].level], [false, true]);
});

Deno.test("hpet: odd accesses are refused; read-only and empty registers ignore writes", () => {
  const { hpet, r64, w64 } = setup();
  assert.equal(hpet.read(HPET_MAIN_COUNTER, 2, 0), undefined);
  assert.equal(hpet.read(HPET_MAIN_COUNTER + 2, 4, 0), undefined);
  assert.equal(hpet.write(HPET_GEN_CONF, 1, 1n, 0), false);
  w64(HPET_GCAP_ID, 0n);
  assert.equal(r64(HPET_GCAP_ID), Hpet.capabilities());
  w64(0x300, 5n);
  assert.equal(r64(0x300), 0n);
  w64(HPET_GEN_CONF, 0xffn);
  assert.equal(r64(HPET_GEN_CONF), 3n);
});
