/**
 * The kernel's driver for the I/O APIC: two registers in its page, an index (IOREGSEL) and
 * a window (IOWIN) onto the registers behind it, among them one 64-bit redirection entry per
 * input that says which vector, to which local APIC, with which polarity and trigger mode
 * (Intel 82093AA I/O APIC datasheet §3, cited "82093AA §n").
 *
 * @module
 */

import type { Mmio } from "./mmio.ts";

/** IOREGSEL: selects the register IOWIN reaches (82093AA §3.1.1). */
export const IOREGSEL = 0x00;
/** IOWIN: the selected register (82093AA §3.1.2). */
export const IOWIN = 0x10;
/** Register index of IOAPICVER: maximum redirection entry in bits 23:16 (82093AA §3.2.2). */
export const IOAPICVER = 0x01;
/** Register index of redirection entry `n`'s low word; the high word follows. */
export function ioredtbl(n: number): number {
  return 0x10 + 2 * n;
}
/** Redirection entry bit 13: the input is active low. */
export const IOREDTBL_ACTIVE_LOW = 1 << 13;
/** Redirection entry bit 15: level-triggered. */
export const IOREDTBL_LEVEL = 1 << 15;
/** Redirection entry bit 16: masked. */
export const IOREDTBL_MASKED = 1 << 16;

function read(io: Mmio, index: number): number {
  io.write32(IOREGSEL, index);
  return io.read32(IOWIN);
}

function write(io: Mmio, index: number, value: number): void {
  io.write32(IOREGSEL, index);
  io.write32(IOWIN, value);
}

/** How many inputs (redirection entries) the I/O APIC has. */
export function ioapicInputs(io: Mmio): number {
  return ((read(io, IOAPICVER) >>> 16) & 0xff) + 1;
}

/** How an input is routed. */
export interface Route {
  /** The vector the local APIC delivers. */
  vector: number;
  /** The local APIC id it goes to (physical destination mode, fixed delivery). */
  apicId: number;
  /** The input is active low (as the MADT's override says). */
  activeLow: boolean;
  /** The input is level-triggered. */
  level: boolean;
  /** Leave it masked (programmed, but not delivering yet). */
  masked: boolean;
}

/** Masks every input: nothing is delivered until the kernel routes it. */
export function ioapicMaskAll(io: Mmio): number {
  const n = ioapicInputs(io);
  for (let pin = 0; pin < n; pin++) {
    write(io, ioredtbl(pin) + 1, 0);
    write(io, ioredtbl(pin), IOREDTBL_MASKED);
  }
  return n;
}

/** Programs input `pin`'s redirection entry (high word first, so it is never half-set). */
export function ioapicRoute(io: Mmio, pin: number, route: Route): void {
  write(io, ioredtbl(pin), IOREDTBL_MASKED);
  write(io, ioredtbl(pin) + 1, (route.apicId & 0xff) << 24);
  const low = route.vector | (route.activeLow ? IOREDTBL_ACTIVE_LOW : 0) |
    (route.level ? IOREDTBL_LEVEL : 0) | (route.masked ? IOREDTBL_MASKED : 0);
  write(io, ioredtbl(pin), low);
}

/** Reads input `pin`'s redirection entry (for tests and reports). */
export function ioapicEntry(io: Mmio, pin: number): bigint {
  return (BigInt(read(io, ioredtbl(pin) + 1) >>> 0) << 32n) | BigInt(read(io, ioredtbl(pin)) >>> 0);
}
