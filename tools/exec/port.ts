/**
 * The contract between the architecture-neutral exec layer and each architecture's port:
 * what a run is asked to do and what it reports. A port (riscv64.ts, x86_64.ts) builds its
 * page tables and its kernel entries; kernel.ts does the rest the same way for both: the
 * bare machine with one CPU, loading the image (loader.ts, stack.ts), the syscalls
 * (linux.ts), stack growth and signals, and turning the machine's stop into an
 * {@link ExecResult}.
 *
 * @module
 */

import type { ElfImage } from "../../emulator/asm/elf.ts";
import type { Trace } from "../../emulator/core/trace.ts";
import type { UserProgram } from "../../emulator/core/user_program.ts";

/** How to run a program. */
export interface ExecOptions {
  /** argv, with argv[0] the program's name. */
  args: readonly string[];
  /** The environment ("NAME=value"); default empty. */
  env?: readonly string[];
  /** The machine's seed (default 1). */
  seed?: number;
  /** RAM size in bytes (default 256 MiB; only what is touched costs host memory). */
  memory?: number;
  /** A trace to record into (its categories switched on by the caller). */
  trace?: Trace;
  /** Size of the user stack (default 8 MiB, as Linux's default limit). */
  stackSize?: number;
  /** Stop after this much virtual time (ns); default: run until the program ends. */
  limitNs?: number;
  /**
   * TypeScript user programs by name, for ELF images made by userProgramElf (their stub
   * names the program to start; see emulator/core/user_program.ts).
   */
  programs?: Readonly<Record<string, UserProgram>>;
  /** Receives what the program writes to fd 1 and 2, as it writes it. */
  output(fd: number, bytes: Uint8Array): void;
}

/** How a run ended. */
export interface ExecResult {
  /** The exit status: the exit code, 128 + the signal, or 1 when the run failed. */
  status: number;
  /** exit: the program exited; signal: it was killed; error: the machine could not go on;
   * timeout: `limitNs` was reached. */
  how: "exit" | "signal" | "error" | "timeout";
  /** The signal that killed it. */
  signal?: number;
  /** What to tell the user (for everything but a plain exit), like QEMU's messages. */
  message?: string;
  /** User instructions retired. */
  instret: number;
  /** Virtual time at the end (ns). */
  timeNs: number;
}

/** Runs a loaded ELF image on a bare machine of one architecture. */
export type Port = (image: ElfImage, options: ExecOptions) => ExecResult;

/** The default RAM size: 256 MiB. */
export const DEFAULT_MEMORY = 256 * 2 ** 20;
/** The default user stack: 8 MiB. */
export const DEFAULT_STACK = 8 * 2 ** 20;
