/**
 * Traps, architecture-neutral: what the port's trap entry decodes from the hardware
 * (scause/stval on RISC-V, the vector and error code on x86-64) into one description, and
 * the kernel's handler, which decides what to do with it.
 *
 * @module
 */

import type { Access } from "./arch.ts";
import type { Kernel } from "./kernel.ts";
import { hex } from "./format.ts";
import { KernelPanic } from "./panic.ts";
import type { PerCpu } from "./percpu.ts";
import { EXIT_FAULTED } from "./syscall/abi.ts";
import { dispatchSyscall } from "./syscall/handlers.ts";
import { killThread, leaveKernel } from "./sched/scheduler.ts";

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
  /**
   * Whether the hardware reported the faulting address: false for faults that have none
   * (an x86-64 #GP or #SS says only that an access was refused, not where).
   */
  hasAddress: boolean;
  /** The access of a memory trap. */
  access: Access;
  /**
   * The hardware's own words, for reports: "scause 0xd (load page fault), stval 0x...". A
   * port may compute it when it is read (a getter), so that traps nobody reports cost no
   * formatting.
   */
  readonly cause: string;
}

/**
 * The architecture-neutral part of a port's trap record, at rest: a port extends it with the
 * registers its trap entry reads (scause and stval; the vector, error code and CR2) and
 * their words ({@link Trap.cause}), and keeps one per CPU.
 */
export abstract class TrapRecord implements Trap {
  /** What happened. */
  kind: TrapKind = "other";
  /** Where the CPU was. */
  from: Trap["from"] = "user";
  /** The pc of the interrupted (or faulting) instruction. */
  pc = 0n;
  /** The faulting address of a memory trap, else 0. */
  address = 0n;
  /** Whether `address` is one the hardware reported. */
  hasAddress = false;
  /** The access of a memory trap. */
  access: Access = "read";

  /** The hardware's own words for the trap. */
  abstract get cause(): string;

  /** Starts decoding a new trap at `pc`: no faulting address (yet), a read. */
  clear(pc: bigint): void {
    this.pc = pc;
    this.address = 0n;
    this.hasAddress = false;
    this.access = "read";
  }
}

/** A fresh record, for a port to keep one per CPU. */
export function newTrap(): Trap {
  return {
    kind: "other",
    from: "user",
    pc: 0n,
    address: 0n,
    hasAddress: false,
    access: "read",
    cause: "",
  };
}

// ---- the kernel's handler ----------------------------------------------------------------

/**
 * Handles `trap` on the CPU running now, then leaves the kernel (scheduler.ts leaveKernel).
 *
 * - A syscall runs its handler (syscall/handlers.ts).
 * - The timer's work (ticks, wake-ups) is done on the way out, whatever the trap was.
 * - An exception caused by a user instruction kills that thread, with a report in the log:
 *   what happened, where, and for a memory fault the MMU's walk in words. The rest of the
 *   system runs on.
 * - A trap taken in the kernel, or an exception in the idle wait, is a kernel bug: a panic.
 */
export function handleTrap(k: Kernel, trap: Trap): void {
  const cpu = k.cpus[k.arch.cpuIndex()];
  cpu.trap = trap;
  checkKernelStack(k, cpu);
  if (trap.from === "kernel") {
    throw new KernelPanic(
      `a trap was taken while the kernel ran (interrupts must be off in kernel entries)`,
    );
  }
  switch (trap.kind) {
    case "syscall":
      dispatchSyscall(k, cpu);
      break;
    case "timer":
      break; // the tick and the wake-ups are done on the way out
    case "ipi":
      break; // nothing is sent yet: the SMP issue adds the work queues
    case "external":
      k.log.warn(`an external interrupt arrived, but no device interrupt is enabled`);
      break;
    default:
      if (trap.from === "idle") throw new KernelPanic(`an exception in the idle wait`);
      userFault(k, cpu, trap);
  }
  leaveKernel(k, cpu);
}

/** The trap found its kernel stack through sscratch / TSS.RSP0: it must be the current thread's. */
function checkKernelStack(k: Kernel, cpu: PerCpu): void {
  const found = k.arch.kernelStack(), expected = cpu.current.kstackTop;
  if (found !== expected) {
    throw new KernelPanic(
      `the trap found the kernel stack at ${hex(found)}, but the current thread ` +
        `${cpu.current.tid} has its stack top at ${hex(expected)} (sscratch / TSS.RSP0 not ` +
        `updated on a switch?)`,
    );
  }
}

/** Kills the thread whose instruction faulted, with a report. */
function userFault(k: Kernel, cpu: PerCpu, trap: Trap): void {
  const t = cpu.current;
  const lines = [
    `thread ${t.tid} of process ${t.process.pid} (${t.process.name}) killed: ` +
    `${trap.kind.replaceAll("_", " ")} at pc ${hex(trap.pc)}`,
    `  ${trap.cause}`,
  ];
  if (isMemoryTrap(trap.kind) && trap.hasAddress) {
    lines.push(
      `  ${trap.access} of ${hex(trap.address)}: ${
        k.arch.explainTranslation(trap.address, trap.access, true)
      }`,
    );
  }
  lines.push(`  registers: ${k.arch.describeUserState()}`);
  k.log.warn(lines.join("\n"));
  killThread(k, t, EXIT_FAULTED);
}

function isMemoryTrap(kind: TrapKind): boolean {
  return kind === "page_fault" || kind === "access_fault" || kind === "misaligned";
}
