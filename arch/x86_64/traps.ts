/**
 * Traps on x86-64, from the kernel's side: which vector means what, where each entry lives
 * in the kernel's text, and how a vector, its error code and CR2 become the kernel's
 * architecture-neutral `Trap` (kernel/trap.ts).
 *
 * ## Vectors (SDM Vol. 3A §6.3.1, Table 6-1 for 0 to 31)
 *
 * | vector      | what                                  | gate                        |
 * | ----------- | ------------------------------------- | --------------------------- |
 * | 0 to 31     | exceptions                            | DPL 0; #DF on IST1, NMI IST2 |
 * | 3 (#BP)     | `int3`                                | DPL 3: a breakpoint          |
 * | 0x20        | the local APIC timer                  | DPL 0                       |
 * | 0x30 + gsi  | I/O APIC inputs (COM1: GSI 4)         | DPL 0                       |
 * | 0x69        | `int 0x69`, the slow system call (anos) | DPL 3                     |
 * | 0xf0        | inter-processor interrupts            | DPL 0                       |
 * | 0xff        | the local APIC's spurious vector      | DPL 0                       |
 *
 * Every other vector has a DPL 0 gate too, so `int n` from ring 3 is a #GP, not a way in.
 *
 * ## Entries (the kernel's "text")
 *
 * | address                   | name            | reached by                                |
 * | ------------------------- | --------------- | ----------------------------------------- |
 * | KERNEL_VIRT_BASE          | `kmain`         | the firmware's jump (see boot.ts)         |
 * | {@link SYSCALL_ENTRY}     | `syscall_entry` | IA32_LSTAR, on every `syscall`            |
 * | {@link IDLE_ENTRY}        | `idle`          | the resume address of the idle `hlt`      |
 * | {@link vectorEntry}(v)    | `vector_N`      | IDT gate N, 16 bytes apart as stubs are   |
 *
 * @module
 */

import { hex } from "../../kernel/format.ts";
import { type TrapKind, TrapRecord } from "../../kernel/trap.ts";
import {
  EXC_AC,
  EXC_BP,
  EXC_GP,
  EXC_NMI,
  EXC_NP,
  EXC_PF,
  EXC_SS,
  EXC_TS,
  EXC_UD,
  PF_I,
  PF_P,
  PF_RSVD,
  PF_U,
  PF_W,
  vectorName,
} from "../../emulator/x86_64/regs.ts";

/** Where the kernel image is linked (the top 2 GiB, as Limine requires). */
export const KERNEL_VIRT_BASE = 0xffff_ffff_8000_0000n;
/** The SYSCALL entry, written to IA32_LSTAR. */
export const SYSCALL_ENTRY: bigint = KERNEL_VIRT_BASE + 0x1000n;
/** Where an idle CPU resumes (and the RIP of the frame of an interrupt taken there). */
export const IDLE_ENTRY: bigint = KERNEL_VIRT_BASE + 0x2000n;
/** The first vector stub; vector v's is 16 bytes further per vector. */
export const VECTOR_ENTRIES: bigint = KERNEL_VIRT_BASE + 0x3000n;

/** The IDT gate target of vector `v`. */
export function vectorEntry(v: number): bigint {
  return VECTOR_ENTRIES + BigInt(16 * v);
}

/** Number of IDT gates. */
export const IDT_VECTORS = 256;
/** The local APIC timer's vector. */
export const TIMER_VECTOR = 0x20;
/** I/O APIC input n's vector is this + n. */
export const EXTERNAL_VECTOR_BASE = 0x30;
/** I/O APIC inputs the kernel gives vectors to (one I/O APIC's 24). */
export const EXTERNAL_VECTORS = 24;
/** The slow system-call channel, as anos's: `int 0x69`. */
export const SYSCALL_VECTOR = 0x69;
/** Inter-processor interrupts (the SMP issue sends them). */
export const IPI_VECTOR = 0xf0;
/** The local APIC's spurious-interrupt vector (SVR); needs no EOI. */
export const SPURIOUS_VECTOR = 0xff;

/** Bytes of `syscall` (0F 05) and of `int 0x69` (CD 69): the RIP after one minus its address. */
export const SYSCALL_INSTRUCTION_SIZE = 2n;

/**
 * A trap as the x86-64 port decodes it: the vector and what came with it, and the kernel's
 * view. `pc` is the RIP of the trapping instruction (for a system call: of the `syscall` or
 * `int`); `address` is CR2, for a page fault only (#GP and #SS name no address).
 */
export class X86Trap extends TrapRecord {
  /** The vector; -1 for SYSCALL, which goes through no vector. */
  vector: number = -1;
  /** The error code the CPU pushed, or -1. */
  errorCode: number = -1;
  /** CR2 when the vector is #PF. */
  cr2 = 0n;
  /** RAX at a SYSCALL (the system call's number), for the report. */
  rax = 0n;
  /** More words for the report, when the port has them (a refused return). */
  detail = "";

  /** "vector 14 (#PF page fault), error code 0x7 (...), CR2 0x...", formatted when read. */
  get cause(): string {
    if (this.vector < 0) return `syscall through IA32_LSTAR, rax ${hex(this.rax)}`;
    const parts = [`vector ${this.vector} (${vectorName(this.vector)})`];
    if (this.errorCode >= 0) {
      parts.push(
        `error code ${hex(this.errorCode)}` +
          (this.vector === EXC_PF ? ` (${describePageFaultError(this.errorCode)})` : ""),
      );
    }
    if (this.vector === EXC_PF) parts.push(`CR2 ${hex(this.cr2)}`);
    if (this.detail) parts.push(this.detail);
    return parts.join(", ");
  }
}

/** The page-fault error code in words (SDM Vol. 3A §4.7, Figure 4-12). */
export function describePageFaultError(code: number): string {
  const words = [
    code & PF_P ? "protection violation" : "not present",
    code & PF_I ? "instruction fetch" : code & PF_W ? "write" : "read",
    code & PF_U ? "user" : "supervisor",
  ];
  if (code & PF_RSVD) words.push("reserved bit set");
  return words.join(", ");
}

/**
 * Fills `trap` for `vector` with the error code the CPU pushed (-1: none) and CR2, the
 * interrupted RIP being `rip`. `from` is left to the caller, which read CS.
 */
export function decodeVector(
  trap: X86Trap,
  vector: number,
  errorCode: number,
  cr2: bigint,
  rip: bigint,
): void {
  trap.vector = vector;
  trap.errorCode = errorCode;
  trap.cr2 = cr2;
  trap.clear(rip);
  trap.detail = "";
  trap.kind = vectorKind(vector);
  if (vector === EXC_PF) {
    trap.address = cr2;
    trap.hasAddress = true;
    trap.access = errorCode & PF_I ? "execute" : errorCode & PF_W ? "write" : "read";
  }
  if (vector === SYSCALL_VECTOR) trap.pc = rip - SYSCALL_INSTRUCTION_SIZE;
}

/** What the kernel calls each vector. */
export function vectorKind(vector: number): TrapKind {
  switch (vector) {
    case EXC_PF:
      return "page_fault";
    case EXC_GP:
    case EXC_SS:
    case EXC_NP:
    case EXC_TS:
      return "access_fault";
    case EXC_UD:
      return "illegal_instruction";
    case EXC_BP:
      return "breakpoint";
    case EXC_AC:
      return "misaligned";
    case EXC_NMI:
    case IPI_VECTOR:
      return "ipi"; // an NMI comes from another CPU (or a watchdog), never from the thread
    case TIMER_VECTOR:
      return "timer";
    case SYSCALL_VECTOR:
      return "syscall";
  }
  if (vector >= EXTERNAL_VECTOR_BASE && vector < EXTERNAL_VECTOR_BASE + EXTERNAL_VECTORS) {
    return "external";
  }
  return "other";
}
