/**
 * Assembling straight into an ELF executable, laid out as GNU ld lays out a static
 * RISC-V program: text and read-only data in one R+X segment at 0x10000, data and .bss in
 * an R+W segment starting on the next page (image_elf.ts).
 *
 * @module
 */

import { EF_RISCV_RVC, EM_RISCV } from "../elf.ts";
import { type AsmElf, imageToElf, SEGMENT_ALIGN } from "../image_elf.ts";
import { type AsmOptions, assembleRiscv } from "./assembler.ts";

export type { AsmElf } from "../image_elf.ts";

/**
 * Assembles `source` and wraps the result in a static ET_EXEC for EM_RISCV: segment 1 is
 * .text + .rodata (PF_R | PF_X), segment 2 is .data + .bss (PF_R | PF_W, page-aligned),
 * entry `_start` (else the origin), and every non-local symbol in .symtab; e_flags has
 * EF_RISCV_RVC when the program is compressed. Throws AsmError for errors in the source.
 */
export function assembleRiscvElf(source: string, options: AsmOptions = {}): AsmElf {
  const asm = assembleRiscv(source, {
    ...options,
    dataAlign: Math.max(SEGMENT_ALIGN, options.dataAlign ?? 0),
  });
  const rvc = options.compressed || /^\s*\.option\s+rvc\b/m.test(source);
  return { asm, elf: imageToElf(asm, EM_RISCV, rvc ? EF_RISCV_RVC : 0) };
}
