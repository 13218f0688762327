/**
 * Interrupt lines: how a device tells an interrupt controller (the PLIC on RISC-V, the
 * IOAPIC on x86-64) that it wants attention. Lines are level-triggered, as the 16550's
 * and AHCI's are: the device holds the line high while its condition lasts.
 *
 * @module
 */

/** One wire from a device to an interrupt controller input. */
export interface IrqLine {
  /** Drives the line high (true) or low (false). Setting the same level again is harmless. */
  set(level: boolean): void;
}

/** A line that goes nowhere: for devices built without an interrupt controller. */
export const UNCONNECTED: IrqLine = { set() {} };

/** A line that records its level: for device tests. */
export class ProbeLine implements IrqLine {
  /** The current level. */
  level = false;
  /** How many times it went from low to high. */
  rises = 0;
  /** Drives the line. */
  set(level: boolean): void {
    if (level && !this.level) this.rises++;
    this.level = level;
  }
}
