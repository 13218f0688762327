/**
 * Assembling straight into an ELF executable, laid out as GNU ld lays out a static
 * RISC-V program: text and read-only data in one R+X segment at 0x10000, data and .bss in
 * an R+W segment starting on the next page.
 *
 * @module
 */

import { EF_RISCV_RVC, type ElfSegmentSpec, EM_RISCV, PF_R, PF_W, PF_X, writeElf } from "../elf.ts";
import { type AsmOptions, type AsmResult, assembleRiscv } from "./assembler.ts";

/** The page size segments are aligned to. */
const PAGE = 4096;

/** An assembled program and its ELF image. */
export interface AsmElf {
  /** The assembler's output (flat image, sections, symbols). */
  readonly asm: AsmResult;
  /** The ELF file. */
  readonly elf: Uint8Array;
}

/**
 * Assembles `source` and wraps the result in a static ET_EXEC for EM_RISCV: segment 1 is
 * .text + .rodata (PF_R | PF_X), segment 2 is .data + .bss (PF_R | PF_W, page-aligned),
 * entry `_start` (else the origin), and every non-local symbol in .symtab. Throws AsmError
 * for errors in the source.
 */
export function assembleRiscvElf(source: string, options: AsmOptions = {}): AsmElf {
  const asm = assembleRiscv(source, {
    ...options,
    dataAlign: Math.max(PAGE, options.dataAlign ?? 0),
  });
  const [text, rodata, data, bss] = asm.sections;
  const slice = (from: number, to: number) => asm.bytes.slice(from - asm.origin, to - asm.origin);
  const segments: ElfSegmentSpec[] = [];
  const codeEnd = rodata.size ? rodata.address + rodata.size : text.address + text.size;
  if (codeEnd > text.address) {
    segments.push({
      vaddr: text.address,
      memsz: codeEnd - text.address,
      flags: PF_R | PF_X,
      data: slice(text.address, codeEnd),
      name: ".text",
    });
  }
  if (data.size || bss.size) {
    const start = data.size ? data.address : bss.address;
    segments.push({
      vaddr: start,
      memsz: (bss.size ? bss.address + bss.size : data.address + data.size) - start,
      flags: PF_R | PF_W,
      data: slice(start, data.size ? data.address + data.size : start),
      name: ".data",
    });
  }
  const symbols = [...asm.symbols].map(([name, value]) => ({
    name,
    value,
    global: asm.globals.has(name),
    absolute: !asm.sections.some((s) => value >= s.address && value <= s.address + s.size),
  }));
  const elf = writeElf({
    machine: EM_RISCV,
    entry: asm.entry,
    segments,
    symbols,
    flags: options.compressed || /^\s*\.option\s+rvc\b/m.test(source) ? EF_RISCV_RVC : 0,
  });
  return { asm, elf };
}
