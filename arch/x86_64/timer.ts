/**
 * Time on the PC, as the kernel keeps it:
 *
 * - **The clock** is the time-stamp counter: invariant (CPUID.80000007H:EDX[8]), so it ticks
 *   at one rate whatever the CPU does, and CPUID leaf 15H says that rate: crystal × EBX / EAX
 *   (SDM Vol. 3B §19.7.3, "Determining the Processor Base Frequency"). Nanoseconds are
 *   computed from it exactly, in integers.
 * - **The timer** is the local APIC's. Its input clock is told to the kernel nowhere (not in
 *   ACPI, not in CPUID), so the kernel measures it, as anos and Linux do: start the APIC
 *   timer counting down from its largest count, let a known interval pass on the HPET (whose
 *   period the HPET does report), and see how far it counted. The measured frequency turns a
 *   deadline into an initial count for one-shot mode; TSC-deadline mode (§11.5.4.1) needs no
 *   frequency at all, only the TSC value to fire at.
 *
 * @module
 */

import { hex } from "../../kernel/format.ts";
import { hpetCounter, hpetPeriodFs, hpetStart } from "./hpet.ts";
import {
  APIC_LVT_TIMER,
  APIC_TIMER_CURRENT,
  APIC_TIMER_DIVIDE,
  APIC_TIMER_INITIAL,
  LVT_MASKED,
  LVT_TIMER_ONE_SHOT,
  TIMER_DIVIDE_BY_1,
  TIMER_MAX_COUNT,
} from "./lapic.ts";
import type { Mmio } from "./mmio.ts";

/** How long the calibration watches the HPET: 50 µs, about 7000 counts of a 143 MHz timer. */
export const CALIBRATION_NS = 50_000;

/** What the calibration measured. */
export interface Calibration {
  /** The local APIC timer's input frequency, in Hz (divide by 1). */
  lapicHz: number;
  /** The HPET's counter period, in femtoseconds. */
  hpetPeriodFs: number;
  /** HPET counts the measurement lasted. */
  hpetTicks: number;
  /** APIC timer counts in that time. */
  lapicTicks: number;
}

/**
 * Measures the local APIC timer's frequency against the HPET over `windowNs`. Leaves the
 * APIC timer stopped and masked, the HPET counting. Throws an Error when either counter
 * does not move.
 */
export function calibrateLapicTimer(
  apic: Mmio,
  hpet: Mmio,
  windowNs = CALIBRATION_NS,
): Calibration {
  const periodFs = hpetPeriodFs(hpet);
  hpetStart(hpet);
  apic.write32(APIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_1);
  apic.write32(APIC_LVT_TIMER, LVT_MASKED | LVT_TIMER_ONE_SHOT);
  apic.write32(APIC_TIMER_INITIAL, TIMER_MAX_COUNT);
  const window = BigInt(Math.ceil((windowNs * 1e6) / periodFs));
  const h0 = hpetCounter(hpet);
  const c0 = apic.read32(APIC_TIMER_CURRENT) >>> 0;
  let h1 = h0;
  // Each poll takes time, so this ends; a counter that never moves is a broken HPET.
  for (let polls = 0; h1 - h0 < window; polls++) {
    if (polls > 4 * windowNs) {
      throw new Error(
        `the HPET's main counter did not advance ${window} counts in ${polls} reads ` +
          `(it reads ${hex(h1)}): is it enabled?`,
      );
    }
    h1 = hpetCounter(hpet);
  }
  const c1 = apic.read32(APIC_TIMER_CURRENT) >>> 0;
  apic.write32(APIC_TIMER_INITIAL, 0); // stop it
  const hpetTicks = Number(h1 - h0), lapicTicks = c0 - c1;
  if (lapicTicks <= 0) {
    throw new Error(
      `the local APIC timer did not count down while the HPET counted ${hpetTicks} ` +
        `(current count ${hex(c0)}, then ${hex(c1)})`,
    );
  }
  const lapicHz = (lapicTicks * 1e15) / (hpetTicks * periodFs);
  return { lapicHz, hpetPeriodFs: periodFs, hpetTicks, lapicTicks };
}

/** The TSC's rate as CPUID leaf 15H gives it: crystal × numerator / denominator. */
export class TscClock {
  readonly #num: bigint;
  readonly #den: bigint;

  /** A clock of `crystalHz` × `numerator` / `denominator` TSC counts per second. */
  constructor(
    readonly crystalHz: number,
    readonly numerator: number,
    readonly denominator: number,
  ) {
    if (!(crystalHz > 0 && numerator > 0 && denominator > 0)) {
      throw new Error(
        `CPUID leaf 15H gives no TSC frequency (crystal ${crystalHz} Hz, ratio ` +
          `${numerator}/${denominator})`,
      );
    }
    this.#num = BigInt(crystalHz) * BigInt(numerator);
    this.#den = BigInt(denominator) * 1_000_000_000n;
  }

  /** TSC counts per second. */
  get hz(): number {
    return (this.crystalHz * this.numerator) / this.denominator;
  }

  /**
   * Nanoseconds at TSC value `tsc`: the smallest n whose TSC value floor(n × rate) reaches
   * `tsc`, so that ns(tsc(n)) = n exactly.
   */
  ns(tsc: bigint): number {
    return Number((tsc * this.#den + this.#num - 1n) / this.#num);
  }

  /**
   * The TSC value at `ns` nanoseconds (rounded up to a whole one): floor(n × rate). A TSC
   * that counts at least once a nanosecond reaches it at n exactly, not a nanosecond before,
   * so a TSC-deadline timer armed with it fires on time.
   */
  tsc(ns: number): bigint {
    return (BigInt(Math.ceil(ns)) * this.#num) / this.#den;
  }
}
