/**
 * What both ports' `bootSystem` (arch/riscv64/boot.ts, arch/x86_64/boot.ts) do alike: turn
 * the programs to start into boot modules, the way a bootloader hands a kernel its files.
 * Host-independent (no Deno API).
 *
 * A program is machine code (assembly in the architecture's own syntax, assembled here for
 * the kernel's load address, or a ready image) or a TypeScript generator (registered with
 * the machine; its boot module is the user-program stub and its name). Either way the kernel
 * receives a flat image and cannot tell which it is.
 *
 * @module
 */

import { assembleRiscv } from "../../emulator/asm/riscv/assembler.ts";
import { assembleX86 } from "../../emulator/asm/x86/assembler.ts";
import { userProgramStub } from "../../emulator/asm/user_program_elf.ts";
import type { Cpu, Machine } from "../../emulator/core/machine.ts";
import type { Trace } from "../../emulator/core/trace.ts";
import { STUB_NAME_OFFSET, type UserProgram } from "../../emulator/core/user_program.ts";
import type { Arch, ArchName } from "../../kernel/arch.ts";
import type { KernelComponents, SchedClass } from "../../kernel/components.ts";
import type { Kernel } from "../../kernel/kernel.ts";
import { USER_IMAGE_BASE } from "../../kernel/proc/loader.ts";
import { DEMO_PROGRAMS } from "../../servers/demo/programs.ts";

/** A program to start at boot. */
export interface BuiltinProgram {
  /** Its name. */
  name: string;
  /**
   * Assembly in the architecture's syntax (RV64 as GNU as writes it; x86-64 in NASM's),
   * assembled for the load address 0x10000.
   */
  assembly?: string;
  /** A ready flat image for the load address. */
  image?: Uint8Array;
  /** A TypeScript program. */
  typescript?: UserProgram;
  /** Its scheduling class (default normal). */
  schedClass?: SchedClass;
  /** Its level (default 128). */
  priority?: number;
  /** Its first thread's argument (the first argument register: a0, RDI). */
  arg?: bigint;
}

/** How to boot, on either board (each port adds how many CPUs). */
export interface BootOptions {
  /** RAM in bytes (default 256 MiB). */
  memory?: number;
  /** The seed (default 1). */
  seed?: number;
  /** A trace to record into. */
  trace?: Trace;
  /** Quantum bounds (see MachineOptions). */
  quantumMinNs?: number;
  /** See `quantumMinNs`. */
  quantumMaxNs?: number;
  /** The components (default: the port's reference components). */
  components?: KernelComponents;
  /** The programs (default: servers/demo's). */
  programs?: readonly BuiltinProgram[];
  /** The kernel command line (see kernel/cmdline.ts; default "console=ttyS0"). */
  cmdline?: string;
  /** Receives every byte the console UART sends. */
  transmit?: (byte: number) => void;
}

/** A file the bootloader loads for the kernel: its name (with parameters) and contents. */
export interface ModuleFile {
  /** The name, e.g. `compute-a?priority=100`. */
  name: string;
  /** The flat image. */
  data: Uint8Array;
}

/** A booted system, ready to run. */
export interface BootedSystem<B, C extends Cpu, A extends Arch> {
  /** The board. */
  board: B;
  /** Its machine: `run()` it. */
  machine: Machine<C>;
  /** The port. */
  arch: A;
  /** The kernel, once the boot entry has run (for tests and benchmarks to inspect). */
  kernel(): Kernel | undefined;
}

/** The demo programs (servers/demo) as builtin programs for `arch`. */
export function demoPrograms(arch: ArchName): BuiltinProgram[] {
  return DEMO_PROGRAMS.map((p) => ({
    name: p.name,
    assembly: p[arch],
    typescript: p.typescript,
    priority: p.priority,
  }));
}

/**
 * The boot modules for `programs` on `arch`: each named with its scheduling parameters, its
 * data the flat image. Throws a RangeError for a program that does not assemble or has
 * nothing to run.
 */
export function bootModules(arch: ArchName, programs: readonly BuiltinProgram[]): ModuleFile[] {
  return programs.map((p) => ({ name: moduleName(p), data: imageOf(arch, p) }));
}

/** Where a hosted kernel's image is, as both boards' options describe it. */
export interface KernelRegion {
  /** The size of the image region in bytes. */
  size: number;
  /** The entry address the firmware jumps to. */
  entry: bigint;
  /** The address the kernel is linked at, for the boot information. */
  virtualBase: bigint;
}

/**
 * The board options both boards take alike, from `options`: RAM, seed, trace, quanta, the
 * kernel's region, the programs as boot modules, the command line and the console's other
 * end. The port adds what is its own (the CPUs). Throws a RangeError for a program that does
 * not assemble.
 */
export function boardOptions(
  arch: ArchName,
  options: BootOptions,
  programs: readonly BuiltinProgram[],
  kernel: KernelRegion,
) {
  return {
    memory: options.memory,
    seed: options.seed,
    trace: options.trace,
    quantumMinNs: options.quantumMinNs,
    quantumMaxNs: options.quantumMaxNs,
    kernel,
    modules: bootModules(arch, programs),
    cmdline: options.cmdline ?? "console=ttyS0",
    transmit: options.transmit,
  };
}

/** Registers the TypeScript programs among `programs` with `machine`, by name. */
export function registerPrograms<C extends Cpu>(
  machine: Machine<C>,
  programs: readonly BuiltinProgram[],
): void {
  for (const p of programs) if (p.typescript) machine.programs.register(p.name, p.typescript);
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
function imageOf(arch: ArchName, p: BuiltinProgram): Uint8Array {
  if (p.image) return p.image;
  if (p.assembly !== undefined) {
    const origin = Number(USER_IMAGE_BASE);
    return arch === "riscv64"
      ? assembleRiscv(p.assembly, { origin }).bytes
      : assembleX86(p.assembly, { origin }).bytes;
  }
  if (p.typescript) {
    // The stub, then the NUL-terminated name at _start + 16 (emulator/core/user_program.ts).
    const name = new TextEncoder().encode(p.name);
    const image = new Uint8Array(STUB_NAME_OFFSET + name.length + 1);
    image.set(userProgramStub(arch));
    image.set(name, STUB_NAME_OFFSET);
    return image;
  }
  throw new RangeError(`program ${p.name}: give assembly, an image or a TypeScript program`);
}
