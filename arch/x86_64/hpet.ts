/**
 * The kernel's driver for the HPET, just enough to measure time against: its period, its
 * main counter, and starting it. Registers and fields are those of the IA-PC HPET (High
 * Precision Event Timers) Specification 1.0a, §2.3 (cited "HPET §n"); the kernel finds the
 * block through the ACPI HPET table and maps it uncached in its device window.
 *
 * @module
 */

import { hex } from "../../kernel/format.ts";
import type { Mmio } from "./mmio.ts";

/** General capabilities and ID register (HPET §2.3.4): COUNTER_CLK_PERIOD in bits 63:32. */
export const HPET_GCAP_ID = 0x000;
/** General configuration register (HPET §2.3.5). */
export const HPET_GEN_CONF = 0x010;
/** Main counter value register (HPET §2.3.7). */
export const HPET_MAIN_COUNTER = 0x0f0;
/** GEN_CONF bit 0, ENABLE_CNF: the main counter runs. */
export const HPET_ENABLE_CNF = 1;
/** The longest period the specification allows: 100 ns, in femtoseconds (HPET §2.3.4). */
export const HPET_MAX_PERIOD_FS = 100_000_000;

/** The main counter's period in femtoseconds. Throws when the HPET reports nonsense. */
export function hpetPeriodFs(hpet: Mmio): number {
  const cap = hpet.read64(HPET_GCAP_ID);
  const period = Number(cap >> 32n);
  if (period === 0 || period > HPET_MAX_PERIOD_FS) {
    throw new Error(
      `the HPET reports a counter period of ${period} fs (capabilities ${hex(cap)}): the ` +
        `specification allows 1 to ${HPET_MAX_PERIOD_FS} fs`,
    );
  }
  return period;
}

/** Starts the main counter (it keeps its value; nothing is routed or enabled but that). */
export function hpetStart(hpet: Mmio): void {
  hpet.write64(HPET_GEN_CONF, hpet.read64(HPET_GEN_CONF) | BigInt(HPET_ENABLE_CNF));
}

/** The main counter now. */
export function hpetCounter(hpet: Mmio): bigint {
  return hpet.read64(HPET_MAIN_COUNTER);
}
