/**
 * Assembling straight into an ELF executable, laid out as GNU ld lays out a static
 * x86-64 program with `-z separate-code`: text and read-only data in one R+X segment at
 * 0x401000, data and .bss in an R+W segment starting on the next page (image_elf.ts).
 *
 * @module
 */

import { EM_X86_64 } from "../elf.ts";
import { type AsmElf, imageToElf, SEGMENT_ALIGN } from "../image_elf.ts";
import { assembleX86, type X86AsmOptions } from "./assembler.ts";

/** An assembled x86-64 program and its ELF image (the same shape for both ISAs). */
export type X86AsmElf = AsmElf;

/**
 * Assembles NASM `source` and wraps the result in a static ET_EXEC for EM_X86_64: segment
 * 1 is .text + .rodata (PF_R | PF_X), segment 2 is .data + .bss (PF_R | PF_W,
 * page-aligned), entry `_start` (else the origin), and every symbol in .symtab (`global`
 * ones with global binding). Throws X86AsmError for errors in the source.
 */
export function assembleX86Elf(source: string, options: X86AsmOptions = {}): X86AsmElf {
  const asm = assembleX86(source, {
    ...options,
    dataAlign: Math.max(SEGMENT_ALIGN, options.dataAlign ?? 0),
  });
  return { asm, elf: imageToElf(asm, EM_X86_64) };
}
