/**
 * The kernel's driver for the local APIC in xAPIC mode: its registers are 32-bit words at
 * 16-byte strides in a page at the address the MADT gives (0xFEE0_0000 on a PC), which the
 * kernel maps uncached in its device window. Register offsets and fields are those of the
 * Intel SDM Vol. 3A chapter 11, "Advanced Programmable Interrupt Controller (APIC)", Table
 * 11-1 "Local APIC Register Address Map"; a real kernel's header defines the same names.
 *
 * @module
 */

import type { Mmio } from "./mmio.ts";

/** Local APIC ID register: the id in bits 31:24 (§11.4.6). */
export const APIC_ID = 0x020;
/** Task priority register. */
export const APIC_TPR = 0x080;
/** EOI register: write 0 to end the interrupt in service (§11.8.5). */
export const APIC_EOI = 0x0b0;
/** Spurious interrupt vector register: vector (7:0), APIC software enable (8) (§11.9). */
export const APIC_SVR = 0x0f0;
/** Error status register. */
export const APIC_ESR = 0x280;
/** Interrupt command register, low and high words (§11.6.1). */
export const APIC_ICR_LOW = 0x300;
/** See {@link APIC_ICR_LOW}. */
export const APIC_ICR_HIGH = 0x310;
/** LVT timer register (§11.5.1). */
export const APIC_LVT_TIMER = 0x320;
/** LVT LINT0 and LINT1 registers. */
export const APIC_LVT_LINT0 = 0x350;
/** See {@link APIC_LVT_LINT0}. */
export const APIC_LVT_LINT1 = 0x360;
/** LVT error register. */
export const APIC_LVT_ERROR = 0x370;
/** The timer's initial count, current count and divide configuration (§11.5.4). */
export const APIC_TIMER_INITIAL = 0x380;
/** See {@link APIC_TIMER_INITIAL}. */
export const APIC_TIMER_CURRENT = 0x390;
/** See {@link APIC_TIMER_INITIAL}. */
export const APIC_TIMER_DIVIDE = 0x3e0;

/** SVR bit 8: the APIC is software-enabled. */
export const SVR_APIC_ENABLE = 1 << 8;
/** LVT bit 16: masked. */
export const LVT_MASKED = 1 << 16;
/** LVT timer bits 18:17 = 00: one-shot (Table 11-2). */
export const LVT_TIMER_ONE_SHOT = 0 << 17;
/** LVT timer bits 18:17 = 10: TSC-deadline (§11.5.4.1). */
export const LVT_TIMER_TSC_DEADLINE = 2 << 17;
/** Divide configuration 1011b: divide by 1 (Figure 11-10). */
export const TIMER_DIVIDE_BY_1 = 0b1011;

/** The largest initial count (the register is 32 bits). */
export const TIMER_MAX_COUNT = 0xffff_ffff;

/**
 * Brings the local APIC up: software-enabled with `spuriousVector` (§11.9), every local
 * interrupt source masked until the kernel programs it, and the task priority at 0 so
 * that every vector is delivered.
 */
export function lapicInit(apic: Mmio, spuriousVector: number): void {
  apic.write32(APIC_SVR, SVR_APIC_ENABLE | spuriousVector);
  apic.write32(APIC_TPR, 0);
  for (const lvt of [APIC_LVT_TIMER, APIC_LVT_LINT0, APIC_LVT_LINT1, APIC_LVT_ERROR]) {
    apic.write32(lvt, LVT_MASKED);
  }
  apic.write32(APIC_ESR, 0); // latch, then clear, any error from before
}

/** This CPU's local APIC id. */
export function lapicId(apic: Mmio): number {
  return apic.read32(APIC_ID) >>> 24;
}

/** Ends the interrupt in service: the next one of equal or lower priority may come. */
export function lapicEoi(apic: Mmio): void {
  apic.write32(APIC_EOI, 0);
}
