/**
 * Traps, architecture-neutral: what the port's trap entry decodes from the hardware
 * (scause/stval on RISC-V, the vector and error code on x86-64) into one description, and
 * the kernel's handler, which decides what to do with it.
 *
 * @module
 */

import type { Access } from "./arch.ts";

/** What happened, in the kernel's terms. */
export type TrapKind =
  /** A system call (ecall; syscall or int 0x69). The port has stepped the pc past it. */
  | "syscall"
  /** The CPU's timer fired (supervisor timer interrupt, the LAPIC timer). */
  | "timer"
  /** An external interrupt (PLIC, I/O APIC). */
  | "external"
  /** An inter-processor interrupt (supervisor software interrupt, an IPI vector). */
  | "ipi"
  /** A page fault: `address` and `access` say what was refused. */
  | "page_fault"
  /** An access fault: the physical address holds nothing (RISC-V), or #GP. */
  | "access_fault"
  /** An illegal (undefined) instruction. */
  | "illegal_instruction"
  /** A breakpoint instruction (ebreak, int3). */
  | "breakpoint"
  /** A misaligned access or jump: `address` and `access` say which. */
  | "misaligned"
  /** Anything else the port could not name (reported with its `cause`). */
  | "other";

/**
 * One trap, as the port decoded it. Each CPU has one record that the port fills in on
 * every entry (nothing is allocated per trap), so keep what you need, not the record.
 */
export interface Trap {
  /** What happened. */
  kind: TrapKind;
  /**
   * Where the CPU was: in user mode, waiting in the idle loop, or running kernel code
   * (which a hosted kernel never does between entries: it is a kernel bug).
   */
  from: "user" | "idle" | "kernel";
  /** The pc of the interrupted (or faulting) instruction. */
  pc: bigint;
  /** The faulting address of a memory trap (stval, CR2), else 0. */
  address: bigint;
  /** The access of a memory trap. */
  access: Access;
  /** The hardware's own words, for reports: "scause 0xd (load page fault), stval 0x...". */
  cause: string;
}

/** A fresh record, for a port to keep one per CPU. */
export function newTrap(): Trap {
  return { kind: "other", from: "user", pc: 0n, address: 0n, access: "read", cause: "" };
}

/** Whether `kind` is an exception caused by the interrupted user instruction itself. */
export function isFault(kind: TrapKind): boolean {
  return kind === "page_fault" || kind === "access_fault" || kind === "illegal_instruction" ||
    kind === "breakpoint" || kind === "misaligned" || kind === "other";
}
