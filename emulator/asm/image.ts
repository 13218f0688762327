/**
 * What an assembler produces, whichever instruction set it reads: a flat memory image laid
 * out from an origin in four sections (.text, .rodata, .data, .bss), with its symbols, its
 * entry point and a table of which source line each byte came from. The RISC-V assembler
 * (riscv/assembler.ts) and the x86-64 one (x86/assembler.ts) both return an
 * {@link AsmResult} and both throw an {@link AsmError}, so what consumes their output
 * (image_elf.ts, the test benches, `deno task asm`) serves both.
 *
 * @module
 */

import { PF_R, PF_W, PF_X } from "./elf.ts";

/** The output sections, in image order. */
export type SectionName = ".text" | ".rodata" | ".data" | ".bss";

/** Every section, in the order they are laid out from the origin. */
export const SECTION_ORDER: readonly SectionName[] = [".text", ".rodata", ".data", ".bss"];

/** Each section's ELF segment permissions (PF_R, PF_W, PF_X: ELF gABI, "Program Header"). */
export const SECTION_FLAGS: Readonly<Record<SectionName, number>> = {
  ".text": PF_R | PF_X,
  ".rodata": PF_R,
  ".data": PF_R | PF_W,
  ".bss": PF_R | PF_W,
};

/** One output section of the image. */
export interface AsmSection {
  /** `.text`, `.rodata`, `.data` or `.bss`. */
  readonly name: SectionName;
  /** Its first address. */
  readonly address: number;
  /** Its length in bytes. */
  readonly size: number;
  /** ELF segment permissions: PF_R, PF_W, PF_X (from elf.ts). */
  readonly flags: number;
  /** Its alignment. */
  readonly align: number;
}

/** What an assembler produces. */
export interface AsmResult {
  /** Address of `bytes[0]`. */
  readonly origin: number;
  /** The image: every section at its address, gaps and .bss zeroed. */
  readonly bytes: Uint8Array;
  /** The four sections, in image order (empty ones have size 0). */
  readonly sections: readonly AsmSection[];
  /**
   * Labels and constants (`.equ`, `equ`) with their values. RISC-V leaves out `.L` locals;
   * x86-64 names a local label by its full name, `main.loop`.
   */
  readonly symbols: Map<string, number>;
  /** Symbols declared global (`.globl` / `.global`, or NASM's `global`). */
  readonly globals: Set<string>;
  /** The address of `_start`, else `origin`. */
  readonly entry: number;
  /** Which source line each instruction or datum came from, in address order. */
  readonly lines: readonly { address: number; line: number }[];
}

/** What an assembler knows of a section once it is laid out: everything but its flags. */
export type LaidOutSection = Omit<AsmSection, "flags">;

/**
 * The result of an assembly: `sections` get their {@link SECTION_FLAGS}, and the entry is
 * `_start` if the program defines it, else the origin (where GNU ld and NASM's flat output
 * would start).
 */
export function assembledImage(
  origin: number,
  bytes: Uint8Array,
  sections: readonly LaidOutSection[],
  symbols: Map<string, number>,
  globals: Set<string>,
  lines: readonly { address: number; line: number }[],
): AsmResult {
  return {
    origin,
    bytes,
    sections: sections.map((s) => ({ ...s, flags: SECTION_FLAGS[s.name] })),
    symbols,
    globals,
    entry: symbols.get("_start") ?? origin,
    lines,
  };
}

/** An error in the source, with the line and column it concerns. */
export class AsmError extends Error {
  /** Builds the error; `message` is "line L, column C: reason" plus the source line. */
  constructor(
    readonly line: number,
    readonly column: number,
    readonly reason: string,
    readonly sourceLine = "",
  ) {
    super(
      `line ${line}, column ${column}: ${reason}` +
        (sourceLine ? `\n  ${sourceLine}\n  ${" ".repeat(Math.max(0, column - 1))}^` : ""),
    );
    this.name = "AsmError";
  }
}
