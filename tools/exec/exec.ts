/**
 * `exec`: runs a static user-mode ELF on a bare machine of the ELF's architecture with a
 * minimal Linux-compatible syscall layer, as QEMU's user-mode emulators do. Pure
 * TypeScript with no Deno API; tools/exec.ts is the command-line host adapter.
 *
 * ```ts
 * const result = execElf(bytes, { args: ["hello"], output: (fd, b) => chunks.push(b) });
 * ```
 *
 * Adding an architecture: write its port (see port.ts and riscv64.ts) and add it to
 * {@link PORTS}.
 *
 * @module
 */

import { ElfError, EM_RISCV, EM_X86_64, readElf } from "../../emulator/asm/elf.ts";
import type { ExecOptions, ExecResult, Port } from "./port.ts";
import { runRiscv64 } from "./riscv64.ts";
import { runX86_64 } from "./x86_64.ts";

export type { ExecOptions, ExecResult } from "./port.ts";

/** The port for each e_machine. */
export const PORTS: ReadonlyMap<number, Port> = new Map([
  [EM_RISCV, runRiscv64],
  [EM_X86_64, runX86_64],
]);

/** A file the exec layer refuses to run, with the reason (an ElfError's message). */
export class ExecError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "ExecError";
  }
}

/**
 * Runs the ELF file `bytes`. Throws {@link ExecError} when the file is not a static
 * executable of a supported architecture; anything that happens once it runs (exit,
 * signal, a machine check) is in the result.
 */
export function execElf(bytes: Uint8Array, options: ExecOptions): ExecResult {
  let image;
  try {
    image = readElf(bytes);
  } catch (e) {
    if (e instanceof ElfError) throw new ExecError(e.message);
    throw e;
  }
  const port = PORTS.get(image.machine);
  if (!port) {
    throw new ExecError(
      `programs for machine ${image.machine} cannot be run: the exec layer has ports for ` +
        `RISC-V (${EM_RISCV}) and x86-64 (${EM_X86_64}) only`,
    );
  }
  return port(image, options);
}
