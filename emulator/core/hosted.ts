/**
 * Entering the hosted kernel: what both CPUs do when privileged execution reaches an
 * address (DESIGN.md, "Kernel entry points").
 *
 * A CPU in supervisor mode (RISC-V S-mode, x86-64 ring 0) does not interpret bytes: it
 * looks its program counter up in the kernel text and calls the TypeScript function
 * registered there. The function runs to completion and must leave the CPU somewhere: back
 * in user mode (`sret`, `iretq`, `sysretq`), waiting for an interrupt (`wfi`, `hlt`), at
 * another kernel entry, or stopped. Whatever goes wrong on the way becomes a machine
 * check that says what, where and what to check, never a JavaScript exception that
 * escapes the emulator.
 *
 * @module
 */

import type { Cpu, Machine } from "./machine.ts";
import { hex } from "./memory.ts";

/** Virtual time charged for entering the kernel (the trap itself), in ns. */
export const KERNEL_ENTRY_COST_NS = 20;

/**
 * How many operations (CSR, MSR, memory and device accesses) one kernel entry may make
 * before the CPU decides it will never return. Counting operations rather than wall time
 * keeps a hung kernel deterministic to diagnose.
 */
export const KERNEL_OP_BUDGET = 20_000_000;

/**
 * An architectural fault raised by a kernel operation: a page fault on a kernel access,
 * an illegal CSR, a general-protection fault on a bad MSR. The kernel may catch it (a
 * copy-in helper would); if it escapes the entry, the machine stops with a panic report.
 */
export class CpuFault extends Error {
  /** Builds a fault with the architecture's cause number and faulting value. */
  constructor(
    /** The exception code: scause (RISC-V) or the exception vector (x86-64). */
    readonly code: number,
    /** stval or CR2 (the faulting address), or 0. */
    readonly tval: bigint,
    message: string,
  ) {
    super(message);
    this.name = "CpuFault";
  }
}

/** Thrown when a kernel entry exceeds {@link KERNEL_OP_BUDGET} operations. */
export class KernelHang extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "KernelHang";
  }
}

/**
 * Calls the kernel entry registered at `address` on `cpu`. `via` says how execution got
 * there, for the message when nothing is registered: "stvec", "IDT vector 14", "sret".
 * Returns false when the machine has stopped (no entry, or the entry failed).
 */
export function callKernelEntry<C extends Cpu>(
  machine: Machine<C>,
  cpu: C,
  address: bigint,
  via: string,
): boolean {
  const symbol = machine.kernelText.lookup(address);
  if (!symbol) {
    machine.fail(
      cpu.index,
      `${via} points at ${hex(address)}, where no kernel code is registered ` +
        `(check the address written there against the kernel's entry points)`,
    );
    return false;
  }
  if (machine.trace.kernel) {
    machine.trace.emit("kernel", cpu.index, { entry: symbol.name, address: hex(symbol.address) });
  }
  try {
    symbol.entry(cpu);
    return true;
  } catch (e) {
    if (e instanceof CpuFault) {
      machine.fail(cpu.index, `kernel fault in ${symbol.name}: ${e.message}`);
    } else if (e instanceof KernelHang) {
      machine.fail(cpu.index, `kernel hang in ${symbol.name}: ${e.message}`);
    } else {
      const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      machine.fail(cpu.index, `kernel panic in ${symbol.name}: ${what}`);
      if (e instanceof Error && e.stack) machine.report(cpu.index, e.stack);
    }
    return false;
  }
}
