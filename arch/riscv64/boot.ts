/**
 * Booting the whole system on the RISC-V `virt` board: the board, the kernel installed in
 * its kernel text, and the built-in programs handed over as boot modules. Host-independent
 * (no Deno API): `deno task boot` (tools/boot.ts) and the tests call {@link bootSystem}, then
 * run the machine.
 *
 * ```ts
 * const sys = bootSystem({ memory: 256 << 20, transmit: (b) => out.push(b) });
 * const reason = sys.machine.run();   // { kind: "shutdown", code: 0 } when all exited
 * ```
 *
 * The programs become boot modules as on the PC (arch/common/boot.ts): RV64 assembly is
 * assembled for the kernel's load address, a TypeScript program's module is the
 * four-instruction stub and its name.
 *
 * @module
 */

import type { Machine } from "../../emulator/core/machine.ts";
import type { Hart } from "../../emulator/riscv64/hart_api.ts";
import { createVirt, VIRT_KERNEL_BASE, type VirtBoard } from "../../emulator/riscv64/virt.ts";
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
import { IDLE_ENTRY, KERNEL_VIRT_BASE, RiscvArch, TRAP_ENTRY } from "./arch.ts";
import { createSv48PageTables } from "./sv48.ts";

export type { BuiltinProgram };

/** Where the firmware enters the kernel: the start of its image (physical, satp = 0). */
export const BOOT_ENTRY = BigInt(VIRT_KERNEL_BASE);
/** The size of the kernel image region: a hosted kernel's code is TypeScript, not bytes. */
export const KERNEL_IMAGE_SIZE = 64 * 1024;

/** The reference components with this port's reference page tables. */
export const RISCV_REFERENCE_COMPONENTS: KernelComponents = {
  ...REFERENCE_COMPONENTS,
  pageTables: { sv48: createSv48PageTables },
};

/** How to boot the virt board. */
export interface BootSystemOptions extends BootOptions {
  /** Harts (default 1; the kernel starts only the first until SMP). */
  harts?: number;
}

/** A booted virt board, ready to run. */
export type RiscvSystem = BootedSystem<VirtBoard, Hart, RiscvArch>;

/** The demo programs as builtin programs for this architecture. */
export function demoPrograms(): BuiltinProgram[] {
  return demo("riscv64");
}

/**
 * Builds the virt board, installs the kernel, and hands it the programs as boot modules.
 * Throws a RangeError for impossible options (RAM too small, a program that does not
 * assemble), which are the host's mistakes, not the guest's.
 */
export function bootSystem(options: BootSystemOptions = {}): RiscvSystem {
  const programs = options.programs ?? demoPrograms();
  const board = createVirt({
    ...boardOptions("riscv64", options, programs, {
      size: KERNEL_IMAGE_SIZE,
      entry: BOOT_ENTRY,
      virtualBase: KERNEL_VIRT_BASE,
    }),
    harts: options.harts,
  });
  const machine = board.machine;
  registerPrograms(machine, programs);
  const { arch, kernel } = installKernel(machine, options.components ?? RISCV_REFERENCE_COMPONENTS);
  return { board, machine, arch, kernel };
}

/**
 * Registers the kernel's entries in `machine`'s kernel text: the boot entry at the start of
 * the kernel image (where the board's firmware jumps), the trap entry and the idle resume
 * address.
 */
export function installKernel(
  machine: Machine<Hart>,
  components: KernelComponents,
): { arch: RiscvArch; kernel: () => Kernel | undefined } {
  const arch = new RiscvArch(machine);
  let kernel: Kernel | undefined;
  machine.kernelText.register(BOOT_ENTRY, "kmain", (hart) => {
    arch.enter(hart);
    kernel = kmain(arch, components, Number(hart.x[12]));
  });
  machine.kernelText.register(TRAP_ENTRY, "trap_entry", (hart) => arch.trapEntry(hart));
  machine.kernelText.register(IDLE_ENTRY, "idle", (hart) => arch.idleEntry(hart));
  return { arch, kernel: () => kernel };
}
