import assert from "node:assert/strict";
import { TSC_HZ } from "../../emulator/x86_64/regs.ts";
import type { Mmio } from "./mmio.ts";
import { HPET_GCAP_ID, HPET_MAIN_COUNTER } from "./hpet.ts";
import { APIC_TIMER_CURRENT } from "./lapic.ts";
import { calibrateLapicTimer, TscClock } from "./timer.ts";

Deno.test("timer: nanoseconds from the TSC are exact, and deadlines never early", () => {
  const clock = new TscClock(100_000_000, 24, 1); // what CPUID 15H gives on the PC
  assert.equal(clock.hz, TSC_HZ);
  for (const ns of [0, 1, 2, 3, 4, 5, 999, 123_456_789, 2 ** 40 + 3]) {
    const tsc = BigInt(Math.floor(ns * 2.4)); // the CPU's TSC at virtual time ns
    assert.equal(clock.ns(tsc), ns, `ns ${ns}`);
    // The deadline's TSC value is the TSC at `ns`: reached then, not a nanosecond before.
    assert.equal(clock.tsc(ns), tsc, `deadline for ${ns}`);
    assert.ok(ns === 0 || BigInt(Math.floor((ns - 1) * 2.4)) < tsc);
  }
  assert.throws(() => new TscClock(0, 0, 0), /CPUID leaf 15H gives no TSC frequency/);
});

/** An HPET at `periodFs` and an APIC timer at `hz`, advancing 1 ns per register read. */
function fakeDevices(periodFs: number, hz: number, hpetMoves = true) {
  let ns = 0;
  const count = (): number => Math.max(0, 0xffff_ffff - Math.floor((ns * hz) / 1e9));
  const regs = (read: (off: number) => bigint): Mmio => ({
    read32: (off) => {
      ns++;
      return Number(read(off));
    },
    read64: (off) => {
      ns++;
      return read(off);
    },
    write32: () => ns++,
    write64: () => ns++,
  });
  const hpet = regs((off) =>
    off === HPET_GCAP_ID
      ? BigInt(periodFs) << 32n
      : off === HPET_MAIN_COUNTER
      ? BigInt(hpetMoves ? Math.floor((ns * 1e6) / periodFs) : 7)
      : 0n
  );
  const apic = regs((off) => (off === APIC_TIMER_CURRENT ? BigInt(count()) : 0n));
  return { hpet, apic };
}

Deno.test("timer: the APIC timer's frequency is measured against the HPET's period", () => {
  for (const [periodFs, hz] of [[10_000_000, 143_181_818], [69_841_279, 25_000_000]]) {
    const { hpet, apic } = fakeDevices(periodFs, hz);
    const c = calibrateLapicTimer(apic, hpet);
    assert.equal(c.hpetPeriodFs, periodFs);
    assert.ok(Math.abs(c.lapicHz - hz) / hz < 1e-3, `${c.lapicHz} for ${hz}`);
  }
});

Deno.test("timer: a stuck HPET or a bad period is an error, not a hang", () => {
  const stuck = fakeDevices(10_000_000, 100e6, false);
  assert.throws(
    () => calibrateLapicTimer(stuck.apic, stuck.hpet),
    /the HPET's main counter did not advance 5000 counts/,
  );
  const bad = fakeDevices(0, 100e6);
  assert.throws(() => calibrateLapicTimer(bad.apic, bad.hpet), /counter period of 0 fs/);
});
