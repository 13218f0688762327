/**
 * The descriptors the kernel writes for the CPU to read: the GDT's segment descriptors, the
 * 64-bit TSS and its descriptor, and the IDT's gates, encoded bit by bit as the Intel SDM
 * Vol. 3A defines them (§3.4.5 "Segment Descriptors", Figure 3-8; §8.2.3 "TSS Descriptor in
 * 64-bit mode", Figure 8-4; §8.7 "Task Management in 64-bit Mode", Figure 8-11; §6.14.1
 * "64-Bit Mode IDT", Figure 6-8).
 *
 * ## The GDT, laid out for SYSCALL and SYSRET
 *
 * | selector | descriptor                   | why here                                       |
 * | -------- | ---------------------------- | ---------------------------------------------- |
 * | 0x00     | null                         | required                                       |
 * | 0x08     | kernel code (64-bit, DPL 0)  | SYSCALL loads CS = STAR[47:32]                 |
 * | 0x10     | kernel data (DPL 0)          | SYSCALL loads SS = STAR[47:32] + 8             |
 * | 0x18     | user data (DPL 3)            | SYSRET loads SS = STAR[63:48] + 8, RPL 3       |
 * | 0x20     | user code (64-bit, DPL 3)    | SYSRET (64-bit) loads CS = STAR[63:48] + 16    |
 * | 0x28     | the TSS (16 bytes)           | LTR                                            |
 *
 * with STAR[47:32] = 0x08 and STAR[63:48] = 0x10 (SDM Vol. 2, SYSCALL and SYSRET). The user
 * selectors are therefore 0x1b (SS) and 0x23 (CS), with RPL 3. In 64-bit mode the CPU
 * ignores base and limit of code and data segments; it checks type, DPL, P and L.
 *
 * @module
 */

import {
  DESC_L,
  DESC_P,
  DESC_S,
  DESC_TYPE_CODE,
  DESC_TYPE_RW,
  GATE_INTERRUPT64,
  SYS_TSS64_AVAILABLE,
  TSS_IOMAP_BASE,
  TSS_IST1,
  TSS_MIN_LIMIT,
  TSS_RSP0,
} from "../../emulator/x86_64/regs.ts";

/** The kernel's code segment: SYSCALL's CS, every IDT gate's selector. */
export const GDT_KERNEL_CODE = 0x08;
/** The kernel's data segment: SYSCALL's SS. */
export const GDT_KERNEL_DATA = 0x10;
/** User data: SYSRET's SS (with RPL 3). */
export const GDT_USER_DATA = 0x18;
/** User code: SYSRET's CS (with RPL 3). */
export const GDT_USER_CODE = 0x20;
/** The TSS descriptor (two slots). */
export const GDT_TSS = 0x28;
/** Bytes of the GDT: six slots and the TSS's second half. */
export const GDT_SIZE = 0x38;
/** The user's CS as pushed and popped: the user code selector with RPL 3. */
export const USER_CS = GDT_USER_CODE | 3;
/** The user's SS: the user data selector with RPL 3. */
export const USER_SS = GDT_USER_DATA | 3;

/**
 * IA32_STAR: SYSCALL's selectors in bits 47:32, SYSRET's base in bits 63:48 (SDM Vol. 2,
 * SYSRET: CS = base + 16, SS = base + 8, both with RPL 3).
 */
export const STAR: bigint = (BigInt(GDT_KERNEL_DATA) << 48n) | (BigInt(GDT_KERNEL_CODE) << 32n);

/** Bytes of the 64-bit TSS (SDM Vol. 3A Figure 8-11): 104, no I/O permission bitmap. */
export const TSS_SIZE: number = TSS_MIN_LIMIT + 1;
/** The IST slot (1 to 7) the double-fault gate switches to: a known-good stack. */
export const IST_DOUBLE_FAULT = 1;
/** The IST slot of the NMI gate: an NMI may arrive anywhere. */
export const IST_NMI = 2;

/** Descriptor bits 55:52 G (bit 55) and the limit's top nibble 19:16 (bits 51:48). */
const LIMIT_4G = (0xfn << 48n) | (1n << 55n) | 0xffffn;

/** The access byte (descriptor bits 47:40) as bits of the descriptor. */
function access(type: number, dpl: number, system = false): bigint {
  return BigInt(type | (system ? 0 : DESC_S) | (dpl << 5) | DESC_P) << 40n;
}

/** A 64-bit code segment (L = 1, D = 0; execute/read) for ring `dpl`. */
export function codeSegment(dpl: number): bigint {
  return access(DESC_TYPE_CODE | DESC_TYPE_RW, dpl) | DESC_L | LIMIT_4G;
}

/** A writable data segment for ring `dpl` (what SS needs). */
export function dataSegment(dpl: number): bigint {
  return access(DESC_TYPE_RW, dpl) | LIMIT_4G;
}

/** The 16-byte descriptor of an available 64-bit TSS at `base`, as [low, high] quadwords. */
export function tssDescriptor(base: bigint, limit = TSS_MIN_LIMIT): [bigint, bigint] {
  const b = BigInt.asUintN(64, base);
  const low = BigInt(limit & 0xffff) | ((b & 0xff_ffffn) << 16n) |
    access(SYS_TSS64_AVAILABLE, 0, true) | (BigInt((limit >> 16) & 0xf) << 48n) |
    (((b >> 24n) & 0xffn) << 56n);
  return [low, b >> 32n];
}

/** What an IDT gate says besides its target. */
export interface GateOptions {
  /** The gate's DPL: 3 lets `int n` from ring 3 through (int3, int 0x69), 0 refuses it. */
  dpl?: number;
  /** An IST slot (1 to 7) to switch stacks to, or 0 for the usual RSP0 rule. */
  ist?: number;
}

/**
 * The 16-byte 64-bit interrupt gate (type 14: IF cleared on entry) to `offset` in the
 * kernel code segment, as [low, high] quadwords.
 */
export function interruptGate(offset: bigint, options: GateOptions = {}): [bigint, bigint] {
  const o = BigInt.asUintN(64, offset);
  // Bits 47:32: IST (2:0), type (11:8), DPL (14:13), P (15).
  const attributes = (options.ist ?? 0) | (GATE_INTERRUPT64 << 8) | ((options.dpl ?? 0) << 13) |
    (DESC_P << 8);
  const low = (o & 0xffffn) | (BigInt(GDT_KERNEL_CODE) << 16n) | (BigInt(attributes) << 32n) |
    (((o >> 16n) & 0xffffn) << 48n);
  return [low, o >> 32n];
}

/** The GDT's seven quadwords (see the module comment), its TSS descriptor for `tss`. */
export function gdtEntries(tss: bigint): bigint[] {
  return [
    0n,
    codeSegment(0),
    dataSegment(0),
    dataSegment(3),
    codeSegment(3),
    ...tssDescriptor(tss),
  ];
}

/** The TSS's fields that the kernel sets (offsets of SDM Figure 8-11). */
export interface TssFields {
  /** RSP0: the stack an interrupt from ring 3 switches to (the thread's kernel stack). */
  rsp0: bigint;
  /** IST1 to IST7 (index 0 is IST1); missing ones are 0. */
  ist: bigint[];
}

/** The 104 bytes of a TSS with `fields`, and no I/O permission bitmap. */
export function tssBytes(fields: TssFields): Uint8Array {
  const bytes = new Uint8Array(TSS_SIZE);
  const dv = new DataView(bytes.buffer);
  dv.setBigUint64(TSS_RSP0, BigInt.asUintN(64, fields.rsp0), true);
  fields.ist.forEach((v, i) => dv.setBigUint64(TSS_IST1 + 8 * i, BigInt.asUintN(64, v), true));
  // An I/O map base at or beyond the limit means "no bitmap": ring 3 may use no port.
  dv.setUint16(TSS_IOMAP_BASE, TSS_SIZE, true);
  return bytes;
}
