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
 * A program is machine code (x86-64 NASM assembly, assembled here for the kernel's load
 * address, or a ready image) or a TypeScript generator (registered with the machine; its boot
 * module is the stub and its name). Either way the kernel receives a flat image and cannot
 * tell which it is.
 *
 * @module
 */

import { assembleX86 } from "../../emulator/asm/x86/assembler.ts";
import { userProgramStub } from "../../emulator/asm/user_program_elf.ts";
import type { Machine } from "../../emulator/core/machine.ts";
import type { Trace } from "../../emulator/core/trace.ts";
import { STUB_NAME_OFFSET, type UserProgram } from "../../emulator/core/user_program.ts";
import { X86Processor } from "../../emulator/x86_64/cpu.ts";
import type { X86Cpu } from "../../emulator/x86_64/cpu_api.ts";
import { debugExitStatus } from "../../emulator/x86_64/debug_exit.ts";
import { createPc, type PcBoard } from "../../emulator/x86_64/pc.ts";
import { RDI } from "../../emulator/x86_64/regs.ts";
import {
  type KernelComponents,
  REFERENCE_COMPONENTS,
  type SchedClass,
} from "../../kernel/components.ts";
import { type Kernel, kmain } from "../../kernel/kernel.ts";
import { USER_IMAGE_BASE } from "../../kernel/proc/loader.ts";
import { DEMO_PROGRAMS } from "../../servers/demo/programs.ts";
import { X86_64_SOURCES } from "../../servers/demo/x86_64.ts";
import { DEBUG_EXIT_FAILURE, DEBUG_EXIT_SUCCESS, X86Arch } from "./arch.ts";
import { KERNEL_IMAGE_SIZE } from "./image.ts";
import { createX86PageTables } from "./paging.ts";
import { IDLE_ENTRY, IDT_VECTORS, KERNEL_VIRT_BASE, SYSCALL_ENTRY, vectorEntry } from "./traps.ts";

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

/** A program to start at boot. */
export interface BuiltinProgram {
  /** Its name. */
  name: string;
  /** x86-64 assembly (NASM), assembled for the load address 0x10000. */
  assembly?: string;
  /** A ready flat image for the load address. */
  image?: Uint8Array;
  /** A TypeScript program. */
  typescript?: UserProgram;
  /** Its scheduling class (default normal). */
  schedClass?: SchedClass;
  /** Its level (default 128). */
  priority?: number;
  /** Its first thread's argument (RDI). */
  arg?: bigint;
}

/** How to boot. */
export interface BootSystemOptions {
  /** RAM in bytes (default 256 MiB). */
  memory?: number;
  /** CPUs (default 1; the kernel starts only the first until SMP). */
  cpus?: number;
  /** The seed (default 1). */
  seed?: number;
  /** A trace to record into. */
  trace?: Trace;
  /** Quantum bounds (see MachineOptions). */
  quantumMinNs?: number;
  /** See `quantumMinNs`. */
  quantumMaxNs?: number;
  /** The components (default {@link X86_REFERENCE_COMPONENTS}). */
  components?: KernelComponents;
  /** The programs (default: servers/demo's). */
  programs?: readonly BuiltinProgram[];
  /** The kernel command line (see kernel/cmdline.ts; default "console=ttyS0"). */
  cmdline?: string;
  /** Receives every byte COM1 sends. */
  transmit?: (byte: number) => void;
}

/** A booted system, ready to run. */
export interface X86System {
  /** The board. */
  board: PcBoard;
  /** Its machine: `run()` it. */
  machine: Machine<X86Cpu>;
  /** The port. */
  arch: X86Arch;
  /** The kernel, once the boot entry has run (for tests and benchmarks to inspect). */
  kernel(): Kernel | undefined;
}

/** The demo programs as builtin programs for this architecture. */
export function demoPrograms(): BuiltinProgram[] {
  return DEMO_PROGRAMS.map((p) => ({
    name: p.name,
    assembly: X86_64_SOURCES[p.name],
    typescript: p.typescript as UserProgram | undefined,
    priority: p.priority,
  }));
}

/**
 * Builds the PC, installs the kernel, and hands it the programs as boot modules. Throws a
 * RangeError for impossible options (RAM too small, a program that does not assemble),
 * which are the host's mistakes, not the guest's.
 */
export function bootSystem(options: BootSystemOptions = {}): X86System {
  const programs = options.programs ?? demoPrograms();
  const modules = programs.map((p) => ({ name: moduleName(p), data: imageOf(p) }));
  const board = createPc({
    memory: options.memory,
    cpus: options.cpus,
    seed: options.seed,
    trace: options.trace,
    quantumMinNs: options.quantumMinNs,
    quantumMaxNs: options.quantumMaxNs,
    kernel: { size: KERNEL_IMAGE_SIZE, entry: BOOT_ENTRY, virtualBase: KERNEL_VIRT_BASE },
    modules,
    cmdline: options.cmdline ?? "console=ttyS0",
    transmit: options.transmit,
    cpu: (m, index, io) => new X86Processor(m, { index, io }),
  });
  const machine = board.machine;
  for (const p of programs) if (p.typescript) machine.programs.register(p.name, p.typescript);
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
    return assembleX86(p.assembly, { origin: Number(USER_IMAGE_BASE) }).bytes;
  }
  if (p.typescript) {
    // The stub, then the NUL-terminated name at _start + 16 (emulator/core/user_program.ts).
    const name = new TextEncoder().encode(p.name);
    const image = new Uint8Array(STUB_NAME_OFFSET + name.length + 1);
    image.set(userProgramStub("x86_64"));
    image.set(name, STUB_NAME_OFFSET);
    return image;
  }
  throw new RangeError(`program ${p.name}: give assembly, an image or a TypeScript program`);
}
