/**
 * Assembling straight into an ELF executable, laid out as GNU ld lays out a static
 * x86-64 program with `-z separate-code`: text and read-only data in one R+X segment at
 * 0x401000, data and .bss in an R+W segment starting on the next page.
 *
 * @module
 */

import { type ElfSegmentSpec, EM_X86_64, PF_R, PF_W, PF_X, writeElf } from "../elf.ts";
import { assembleX86, type X86AsmOptions, type X86AsmResult } from "./assembler.ts";

/** The page size segments are aligned to. */
const PAGE = 4096;

/** An assembled program and its ELF image. */
export interface X86AsmElf {
  /** The assembler's output (flat image, sections, symbols). */
  readonly asm: X86AsmResult;
  /** The ELF file. */
  readonly elf: Uint8Array;
}

/**
 * Assembles NASM `source` and wraps the result in a static ET_EXEC for EM_X86_64: segment
 * 1 is .text + .rodata (PF_R | PF_X), segment 2 is .data + .bss (PF_R | PF_W,
 * page-aligned), entry `_start` (else the origin), and every symbol in .symtab (`global`
 * ones with global binding). Throws X86AsmError for errors in the source.
 */
export function assembleX86Elf(source: string, options: X86AsmOptions = {}): X86AsmElf {
  const asm = assembleX86(source, {
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
  const inSection = (v: number) =>
    asm.sections.some((s) => v >= s.address && v <= s.address + s.size);
  const symbols = [...asm.symbols].map(([name, value]) => ({
    name,
    value,
    global: asm.globals.has(name),
    absolute: !inSection(value),
  }));
  const elf = writeElf({ machine: EM_X86_64, entry: asm.entry, segments, symbols });
  return { asm, elf };
}
