/**
 * `deno task asm SOURCE [-o OUT.elf]`: assembles a program into a static ELF executable
 * that `deno task exec` (or QEMU, or real hardware) runs. `.s` and `.S` files are RISC-V
 * in GNU `as` syntax; `.asm` and `.nasm` files are x86-64 in NASM syntax; `--arch` says
 * otherwise. The output defaults to the source's name with `.elf`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { AsmError } from "../emulator/asm/image.ts";
import { assembleRiscvElf } from "../emulator/asm/riscv/assemble_elf.ts";
import { assembleX86Elf } from "../emulator/asm/x86/assemble_elf.ts";

const USAGE = "usage: deno task asm [--arch riscv64|x86_64] SOURCE [-o OUT.elf]";

/** The architecture a source file is written for, from `--arch` or its extension. */
export function archOf(path: string, arch?: string): "riscv64" | "x86_64" | undefined {
  if (arch === "riscv64" || arch === "x86_64") return arch;
  if (arch !== undefined) return undefined;
  if (/\.[sS]$/.test(path)) return "riscv64";
  if (/\.(asm|nasm)$/.test(path)) return "x86_64";
  return undefined;
}

/** Assembles `source` for `arch`; throws the assembler's error (with line and column). */
export function assemble(source: string, arch: "riscv64" | "x86_64"): Uint8Array {
  return arch === "riscv64" ? assembleRiscvElf(source).elf : assembleX86Elf(source).elf;
}

/** Runs the command; returns the exit status. */
export function main(args: string[], err: (s: string) => void): number {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { arch: { type: "string" }, output: { type: "string", short: "o" } },
    });
  } catch (e) {
    err(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const [path] = parsed.positionals;
  if (parsed.positionals.length !== 1) {
    err(USAGE + "\n");
    return 2;
  }
  const arch = archOf(path, parsed.values.arch);
  if (!arch) {
    err(
      `${path}: say --arch riscv64 or --arch x86_64 (or name it .s for RISC-V, .asm for x86-64)\n`,
    );
    return 2;
  }
  const out = parsed.values.output ?? path.replace(/\.[^./]*$/, "") + ".elf";
  let source;
  try {
    source = Deno.readTextFileSync(path);
  } catch (e) {
    err(`${path}: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    Deno.writeFileSync(out, assemble(source, arch), { mode: 0o755 });
  } catch (e) {
    if (e instanceof AsmError) { // either assembler's (X86AsmError is an AsmError)
      err(`${path}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  return 0;
}

if (import.meta.main) {
  Deno.exit(main(Deno.args, (s) => Deno.stderr.writeSync(new TextEncoder().encode(s))));
}
