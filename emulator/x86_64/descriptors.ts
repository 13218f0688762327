/**
 * Segment descriptors, IDT gates and the 64-bit TSS as the CPU reads them from memory
 * (SDM Vol. 3A §3.4.5, "Segment Descriptors"; §3.5, "System Descriptor Types"; §6.14.1,
 * "64-Bit Mode IDT"; §8.7, "Task Management in 64-bit Mode").
 *
 * Plain functions that decode the bits the hardware reads and describe them in words for
 * messages; the reading itself (through paging, as supervisor accesses) is the CPU's.
 *
 * @module
 */

import { hex } from "../core/memory.ts";
import { GATE_INTERRUPT64, GATE_TRAP64, SYS_TSS64_AVAILABLE, SYS_TSS64_BUSY } from "./regs.ts";

/** A decoded 8-byte segment descriptor (the low 8 bytes of a system descriptor). */
export interface Descriptor {
  /** Base address bits 31:0 (a system descriptor's bits 63:32 come from the next 8 bytes). */
  base: number;
  /** Limit in bytes (already scaled by G). */
  limit: number;
  /** The 4-bit type field. */
  type: number;
  /** S: 1 for code and data segments, 0 for system descriptors. */
  s: boolean;
  /** Descriptor privilege level. */
  dpl: number;
  /** P. */
  present: boolean;
  /** L: 64-bit code segment. */
  long: boolean;
  /** D/B. */
  db: boolean;
}

/** Decodes a descriptor from its two 32-bit words (bytes 0-3 and 4-7). */
export function parseDescriptor(lo: number, hi: number): Descriptor {
  const rawLimit = (lo & 0xffff) | (hi & 0xf_0000);
  const g = (hi & (1 << 23)) !== 0;
  return {
    base: ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff00_0000)) >>> 0,
    limit: g ? rawLimit * 4096 + 4095 : rawLimit,
    type: (hi >> 8) & 0xf,
    s: (hi & (1 << 12)) !== 0,
    dpl: (hi >> 13) & 3,
    present: (hi & (1 << 15)) !== 0,
    long: (hi & (1 << 21)) !== 0,
    db: (hi & (1 << 22)) !== 0,
  };
}

/** Whether a descriptor describes a code segment. */
export function isCode(d: Descriptor): boolean {
  return d.s && (d.type & 8) !== 0;
}

/** Whether a descriptor describes a writable data segment. */
export function isWritableData(d: Descriptor): boolean {
  return d.s && (d.type & 8) === 0 && (d.type & 2) !== 0;
}

/** Describes a descriptor in words: "64-bit code segment, DPL 3, present". */
export function describeDescriptor(d: Descriptor): string {
  if (!d.s) {
    const names: Record<number, string> = {
      [SYS_TSS64_AVAILABLE]: "64-bit TSS (available)",
      [SYS_TSS64_BUSY]: "64-bit TSS (busy)",
      2: "LDT",
      0xc: "64-bit call gate",
      [GATE_INTERRUPT64]: "64-bit interrupt gate",
      [GATE_TRAP64]: "64-bit trap gate",
    };
    return `${names[d.type] ?? `system descriptor of type ${d.type}`}, DPL ${d.dpl}, ` +
      `${d.present ? "present" : "not present"}`;
  }
  const kind = d.type & 8
    ? `${d.long ? "64-bit" : d.db ? "32-bit" : "16-bit"} code segment`
    : `${d.type & 2 ? "writable" : "read-only"} data segment`;
  return `${kind}, DPL ${d.dpl}, ${d.present ? "present" : "not present"}`;
}

/** A decoded 16-byte IDT gate. */
export interface Gate {
  /** Target offset (linear address), as a signed number when canonical, else NaN. */
  offset: number;
  /** The offset as an unsigned 64-bit value (for messages and kernel-text lookups). */
  offsetBig: bigint;
  /** Code-segment selector. */
  selector: number;
  /** Interrupt-stack-table index (0 = no IST). */
  ist: number;
  /** Gate type (14 interrupt, 15 trap in 64-bit mode). */
  type: number;
  /** Gate DPL (checked for INT n, INT3 and INTO). */
  dpl: number;
  /** P. */
  present: boolean;
}

/** Decodes a gate from its four 32-bit words. */
export function parseGate(w0: number, w1: number, w2: number): Gate {
  const lo = ((w0 & 0xffff) | (w1 & 0xffff_0000)) >>> 0;
  const offsetBig = (BigInt(w2 >>> 0) << 32n) | BigInt(lo);
  const canonical = (w2 >> 15) === 0 || (w2 >> 15) === -1;
  return {
    offset: canonical ? w2 * 4294967296 + lo : NaN,
    offsetBig,
    selector: w0 >>> 16,
    ist: w1 & 7,
    type: (w1 >> 8) & 0xf,
    dpl: (w1 >> 13) & 3,
    present: (w1 & (1 << 15)) !== 0,
  };
}

/** Describes a gate in words. */
export function describeGate(g: Gate): string {
  const kind = g.type === GATE_INTERRUPT64
    ? "interrupt gate"
    : g.type === GATE_TRAP64
    ? "trap gate"
    : `type ${g.type} (not a 64-bit interrupt or trap gate)`;
  return `${kind}, selector ${hex(g.selector)}, target ${hex(g.offsetBig)}, IST ${g.ist}, ` +
    `DPL ${g.dpl}, ${g.present ? "present" : "not present"}`;
}

// ---- builders, for firmware, kernels and tests that lay tables out in memory -------------

/**
 * Encodes a code or data segment descriptor for 64-bit mode (base 0, limit 0xFFFFF, G = 1):
 * `code` chooses a 64-bit code segment (L = 1, readable) or a writable data segment.
 */
export function segmentDescriptor(code: boolean, dpl: number, present = true): bigint {
  const type = code ? 0xa : 0x2; // execute/read, or read/write; "accessed" left clear
  const hi = (0xf << 16) | (type << 8) | (1 << 12) | (dpl << 13) | (present ? 1 << 15 : 0) |
    (code ? 1 << 21 : 1 << 22) | (1 << 23);
  return (BigInt(hi >>> 0) << 32n) | 0xffffn;
}

/** Encodes a 16-byte 64-bit TSS descriptor as two 8-byte words [low, high]. */
export function tssDescriptor(base: bigint, limit: number, busy = false): [bigint, bigint] {
  const b = BigInt.asUintN(64, base);
  const lo = (BigInt(limit & 0xffff)) | ((b & 0xff_ffffn) << 16n) |
    (BigInt(busy ? SYS_TSS64_BUSY : SYS_TSS64_AVAILABLE) << 40n) | (1n << 47n) |
    (BigInt((limit >> 16) & 0xf) << 48n) | (((b >> 24n) & 0xffn) << 56n);
  return [lo, b >> 32n];
}

/** Encodes a 16-byte IDT gate as two 8-byte words [low, high]. */
export function gateDescriptor(
  offset: bigint,
  selector: number,
  options: { type?: number; dpl?: number; ist?: number; present?: boolean } = {},
): [bigint, bigint] {
  const o = BigInt.asUintN(64, offset);
  const type = options.type ?? GATE_INTERRUPT64;
  const attr = (options.ist ?? 0) | (type << 8) | ((options.dpl ?? 0) << 13) |
    ((options.present ?? true) ? 1 << 15 : 0);
  const lo = (o & 0xffffn) | (BigInt(selector) << 16n) | (BigInt(attr) << 32n) |
    (((o >> 16n) & 0xffffn) << 48n);
  return [lo, o >> 32n];
}
