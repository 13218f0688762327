/**
 * The built-in demo programs the boot starts: two machine-code compute loops and one
 * TypeScript program, as plain data (the boot of each architecture turns them into boot
 * modules: it assembles the sources and registers the TypeScript generators).
 *
 * @module
 */

import { COMPUTE_A_SOURCE, COMPUTE_B_SOURCE } from "./riscv64.ts";
import { COMPUTE_A_SOURCE_X86_64, COMPUTE_B_SOURCE_X86_64 } from "./x86_64.ts";
import type { SyscallContext } from "./syscalls.ts";
import { tsClock } from "./ts_clock.ts";

/** A TypeScript program, generic in what its syscalls yield (see syscalls.ts). */
export type DemoTsProgram = <Y>(ctx: SyscallContext<Y>) => Generator<Y, void, void>;

/** One built-in program: machine code for each architecture, or TypeScript for all. */
export interface DemoProgram {
  /** Its name (the boot module's, and a TypeScript program's registered name). */
  name: string;
  /** Its level in the normal class (default 128: lower is more urgent). */
  priority?: number;
  /** RV64 assembly source, for riscv64. */
  riscv64?: string;
  /** x86-64 assembly source (NASM), for x86_64. */
  x86_64?: string;
  /** A TypeScript program, for every architecture. */
  typescript?: DemoTsProgram;
}

/** What `deno task boot` runs. */
export const DEMO_PROGRAMS: readonly DemoProgram[] = [
  { name: "compute-a", riscv64: COMPUTE_A_SOURCE, x86_64: COMPUTE_A_SOURCE_X86_64 },
  { name: "compute-b", riscv64: COMPUTE_B_SOURCE, x86_64: COMPUTE_B_SOURCE_X86_64 },
  // A little more urgent than the compute loops, so it runs as soon as it wakes.
  { name: "ts-clock", typescript: tsClock, priority: 100 },
];
