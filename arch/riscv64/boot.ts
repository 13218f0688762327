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
 * A program is machine code (RV64 assembly, assembled here for the kernel's load address,
 * or a ready image) or a TypeScript generator (registered with the machine; its boot module
 * is the four-instruction stub and its name). Either way the kernel receives a flat image
 * and cannot tell which it is.
 *
 * @module
 */

import { assembleRiscv } from "../../emulator/asm/riscv/assembler.ts";
import { userProgramStub } from "../../emulator/asm/user_program_elf.ts";
import type { Machine } from "../../emulator/core/machine.ts";
import type { Trace } from "../../emulator/core/trace.ts";
import { STUB_NAME_OFFSET, type UserProgram } from "../../emulator/core/user_program.ts";
import type { Hart } from "../../emulator/riscv64/hart_api.ts";
import { createVirt, VIRT_KERNEL_BASE, type VirtBoard } from "../../emulator/riscv64/virt.ts";
import {
  type KernelComponents,
  REFERENCE_COMPONENTS,
  type SchedClass,
} from "../../kernel/components.ts";
import { type Kernel, kmain } from "../../kernel/kernel.ts";
import { USER_IMAGE_BASE } from "../../kernel/proc/loader.ts";
import { DEMO_PROGRAMS } from "../../servers/demo/programs.ts";
import { IDLE_ENTRY, KERNEL_VIRT_BASE, RiscvArch, TRAP_ENTRY } from "./arch.ts";
import { createSv48PageTables } from "./sv48.ts";

/** Where the firmware enters the kernel: the start of its image (physical, satp = 0). */
export const BOOT_ENTRY = BigInt(VIRT_KERNEL_BASE);
/** The size of the kernel image region: a hosted kernel's code is TypeScript, not bytes. */
export const KERNEL_IMAGE_SIZE = 64 * 1024;

/** The reference components with this port's reference page tables. */
export const RISCV_REFERENCE_COMPONENTS: KernelComponents = {
  ...REFERENCE_COMPONENTS,
  pageTables: { sv48: createSv48PageTables },
};

/** A program to start at boot. */
export interface BuiltinProgram {
  /** Its name. */
  name: string;
  /** RV64 assembly, assembled for the load address 0x10000. */
  assembly?: string;
  /** A ready flat image for the load address. */
  image?: Uint8Array;
  /** A TypeScript program. */
  typescript?: UserProgram;
  /** Its scheduling class (default normal). */
  schedClass?: SchedClass;
  /** Its level (default 128). */
  priority?: number;
  /** Its first thread's argument (a0). */
  arg?: bigint;
}

/** How to boot. */
export interface BootSystemOptions {
  /** RAM in bytes (default 256 MiB). */
  memory?: number;
  /** Harts (default 1; the kernel starts only the first until SMP). */
  harts?: number;
  /** The seed (default 1). */
  seed?: number;
  /** A trace to record into. */
  trace?: Trace;
  /** Quantum bounds (see MachineOptions). */
  quantumMinNs?: number;
  /** See `quantumMinNs`. */
  quantumMaxNs?: number;
  /** The components (default {@link RISCV_REFERENCE_COMPONENTS}). */
  components?: KernelComponents;
  /** The programs (default: servers/demo's). */
  programs?: readonly BuiltinProgram[];
  /** The kernel command line (see kernel/cmdline.ts; default "console=ttyS0"). */
  cmdline?: string;
  /** Receives every byte UART0 sends. */
  transmit?: (byte: number) => void;
}

/** A booted system, ready to run. */
export interface RiscvSystem {
  /** The board. */
  board: VirtBoard;
  /** Its machine: `run()` it. */
  machine: Machine<Hart>;
  /** The port. */
  arch: RiscvArch;
  /** The kernel, once the boot entry has run (for tests and benchmarks to inspect). */
  kernel(): Kernel | undefined;
}

/** The demo programs as builtin programs for this architecture. */
export function demoPrograms(): BuiltinProgram[] {
  return DEMO_PROGRAMS.map((p) => ({
    name: p.name,
    assembly: p.riscv64,
    typescript: p.typescript,
    priority: p.priority,
  }));
}

/**
 * Builds the virt board, installs the kernel, and hands it the programs as boot modules.
 * Throws a RangeError for impossible options (RAM too small, a program that does not
 * assemble), which are the host's mistakes, not the guest's.
 */
export function bootSystem(options: BootSystemOptions = {}): RiscvSystem {
  const programs = options.programs ?? demoPrograms();
  const modules = programs.map((p) => ({ name: moduleName(p), data: imageOf(p) }));
  const board = createVirt({
    memory: options.memory,
    harts: options.harts,
    seed: options.seed,
    trace: options.trace,
    quantumMinNs: options.quantumMinNs,
    quantumMaxNs: options.quantumMaxNs,
    kernel: { size: KERNEL_IMAGE_SIZE, entry: BOOT_ENTRY, virtualBase: KERNEL_VIRT_BASE },
    modules,
    cmdline: options.cmdline ?? "console=ttyS0",
    transmit: options.transmit,
  });
  const machine = board.machine;
  for (const p of programs) if (p.typescript) machine.programs.register(p.name, p.typescript);
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

/** The module name: the program's, with its scheduling parameters (kernel/proc/loader.ts). */
function moduleName(p: BuiltinProgram): string {
  const q = [];
  if (p.schedClass) q.push(`class=${p.schedClass}`);
  if (p.priority !== undefined) q.push(`priority=${p.priority}`);
  if (p.arg !== undefined) q.push(`arg=${p.arg}`);
  return q.length ? `${p.name}?${q.join("&")}` : p.name;
}

/** The flat image of a program, for the kernel's load address. */
function imageOf(p: BuiltinProgram): Uint8Array {
  if (p.image) return p.image;
  if (p.assembly !== undefined) {
    return assembleRiscv(p.assembly, { origin: Number(USER_IMAGE_BASE) }).bytes;
  }
  if (p.typescript) {
    // The stub, then the NUL-terminated name at _start + 16 (emulator/core/user_program.ts).
    const name = new TextEncoder().encode(p.name);
    const image = new Uint8Array(STUB_NAME_OFFSET + name.length + 1);
    image.set(userProgramStub("riscv64"));
    image.set(name, STUB_NAME_OFFSET);
    return image;
  }
  throw new RangeError(`program ${p.name}: give assembly, an image or a TypeScript program`);
}
