/**
 * Booting the whole system on the PC: the board, the kernel installed in its kernel text,
 * and the built-in programs handed over as boot modules. Host-independent (no Deno API):
 * `deno task boot --arch x86_64` (tools/boot.ts) and the tests call {@link bootSystem}, then
 * run the machine. It mirrors arch/riscv64/boot.ts.
 *
 * ```ts
 * const sys = bootSystem({ memory: 256 << 20, transmit: (b) => out.push(b) });
 * const reason = sys.machine.run();   // { kind: "shutdown", code: 33 } when all exited
 * ```
 *
 * Power-off goes through the debug-exit port, which can only report odd statuses: a clean
 * shutdown is status {@link X86_SUCCESS_STATUS} (33, which the boot command maps to 0), a
 * panic {@link X86_FAILURE_STATUS} (3). {@link exitStatus} turns them into 0 and 1, as on
 * RISC-V.
 *
 * The programs become boot modules as on RISC-V (arch/common/boot.ts): NASM assembly is
 * assembled for the kernel's load address, a TypeScript program's module is the stub and its
 * name.
 *
 * @module
 */

import type { Machine } from "../../emulator/core/machine.ts";
import { X86Processor } from "../../emulator/x86_64/cpu.ts";
import type { X86Cpu } from "../../emulator/x86_64/cpu_api.ts";
import { debugExitStatus } from "../../emulator/x86_64/debug_exit.ts";
import { createPc, type PcBoard } from "../../emulator/x86_64/pc.ts";
import { RDI } from "../../emulator/x86_64/regs.ts";
import { type KernelComponents, REFERENCE_COMPONENTS } from "../../kernel/components.ts";
import { type Kernel, kmain } from "../../kernel/kernel.ts";
import {
  boardOptions,
  type BootedSystem,
  type BootOptions,
  type BuiltinProgram,
  demoPrograms as demo,
  registerPrograms,
} from "../common/boot.ts";
import { DEBUG_EXIT_FAILURE, DEBUG_EXIT_SUCCESS, X86Arch } from "./arch.ts";
import { KERNEL_IMAGE_SIZE } from "./image.ts";
import { createX86PageTables } from "./paging.ts";
import { IDLE_ENTRY, IDT_VECTORS, KERNEL_VIRT_BASE, SYSCALL_ENTRY, vectorEntry } from "./traps.ts";

export type { BuiltinProgram };

/** Where the firmware enters the kernel: the start of its image, at its link address. */
export const BOOT_ENTRY: bigint = KERNEL_VIRT_BASE;
/** The kernel image region's size: the text addresses and the port's data (image.ts). */
export { KERNEL_IMAGE_SIZE };

/** The exit status of a clean power-off (the debug-exit port's (0x10 << 1) | 1). */
export const X86_SUCCESS_STATUS: number = debugExitStatus(DEBUG_EXIT_SUCCESS);
/** The exit status of a panic. */
export const X86_FAILURE_STATUS: number = debugExitStatus(DEBUG_EXIT_FAILURE);

/** The exit status as the RISC-V board reports it: 0 for a clean power-off, 1 for a panic. */
export function exitStatus(code: number): number {
  return code === X86_SUCCESS_STATUS ? 0 : code === X86_FAILURE_STATUS ? 1 : code;
}

/** The reference components with this port's reference page tables. */
export const X86_REFERENCE_COMPONENTS: KernelComponents = {
  ...REFERENCE_COMPONENTS,
  pageTables: { x86_64: createX86PageTables },
};

/** How to boot the PC. */
export interface BootSystemOptions extends BootOptions {
  /** CPUs (default 1; the kernel starts only the first until SMP). */
  cpus?: number;
}

/** A booted PC, ready to run. */
export type X86System = BootedSystem<PcBoard, X86Cpu, X86Arch>;

/** The demo programs as builtin programs for this architecture. */
export function demoPrograms(): BuiltinProgram[] {
  return demo("x86_64");
}

/**
 * Builds the PC, installs the kernel, and hands it the programs as boot modules. Throws a
 * RangeError for impossible options (RAM too small, a program that does not assemble),
 * which are the host's mistakes, not the guest's.
 */
export function bootSystem(options: BootSystemOptions = {}): X86System {
  const programs = options.programs ?? demoPrograms();
  const board = createPc({
    ...boardOptions("x86_64", options, programs, {
      size: KERNEL_IMAGE_SIZE,
      entry: BOOT_ENTRY,
      virtualBase: KERNEL_VIRT_BASE,
    }),
    cpus: options.cpus,
    cpu: (m, index, io) => new X86Processor(m, { index, io }),
  });
  const machine = board.machine;
  registerPrograms(machine, programs);
  const { arch, kernel } = installKernel(machine, options.components ?? X86_REFERENCE_COMPONENTS);
  return { board, machine, arch, kernel };
}

/**
 * Registers the kernel's entries in `machine`'s kernel text: the boot entry at the start of
 * the kernel image (where the firmware jumps, RDI = the boot information), the SYSCALL
 * entry, the idle resume address, and one entry per IDT vector.
 */
export function installKernel(
  machine: Machine<X86Cpu>,
  components: KernelComponents,
): { arch: X86Arch; kernel: () => Kernel | undefined } {
  const arch = new X86Arch(machine);
  let kernel: Kernel | undefined;
  const text = machine.kernelText;
  text.register(BOOT_ENTRY, "kmain", (cpu) => {
    arch.enter(cpu);
    kernel = kmain(arch, components, Number(cpu.regs[RDI]));
  });
  text.register(SYSCALL_ENTRY, "syscall_entry", (cpu) => arch.syscallEntry(cpu));
  text.register(IDLE_ENTRY, "idle", (cpu) => arch.idleEntry(cpu));
  for (let v = 0; v < IDT_VECTORS; v++) {
    text.register(vectorEntry(v), `vector_${v}`, (cpu) => arch.vectorEntry(cpu, v));
  }
  return { arch, kernel: () => kernel };
}
