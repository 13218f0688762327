/**
 * An assembled image as an ELF executable, laid out as GNU ld lays out a static program:
 * text and read-only data in one R+X segment, data and .bss in an R+W segment starting on
 * the next page. The same for every instruction set: riscv/assemble_elf.ts and
 * x86/assemble_elf.ts only assemble and say which machine the file is for.
 *
 * @module
 */

import { type ElfSegmentSpec, PF_R, PF_W, PF_X, writeElf } from "./elf.ts";
import type { AsmResult } from "./image.ts";

/** The page size segments are aligned to: an assembler's `dataAlign` for an ELF image. */
export const SEGMENT_ALIGN = 4096;

/** An assembled program and its ELF image. */
export interface AsmElf {
  /** The assembler's output (flat image, sections, symbols). */
  readonly asm: AsmResult;
  /** The ELF file. */
  readonly elf: Uint8Array;
}

/**
 * Wraps `asm` in a static ET_EXEC for e_machine `machine` with e_flags `flags`: segment 1
 * is .text + .rodata (PF_R | PF_X), segment 2 is .data + .bss (PF_R | PF_W), entry
 * `asm.entry`, and every symbol in .symtab (the assembler's globals with global binding;
 * a value outside every section is SHN_ABS). `asm` must have been assembled with .data
 * aligned to {@link SEGMENT_ALIGN}, so that the segments do not share a page.
 */
export function imageToElf(asm: AsmResult, machine: number, flags = 0): Uint8Array {
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
  return writeElf({ machine, entry: asm.entry, segments, symbols, flags });
}
