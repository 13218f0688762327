/**
 * The ELF image of a TypeScript user program, exactly as emulator/core/user_program.ts
 * describes it: a text segment at 0x10000 whose entry `_start` holds the four-instruction
 * stub, with the program's NUL-terminated name at `_start + 16`.
 *
 * ```
 * riscv64                       x86_64
 * _start:    ts.start           0F 0A 00   ts.start
 * 1:         ecall              0F 05      syscall
 *            ts.resume          0F 0A 01   ts.resume
 *            j 1b               EB F9      jmp back to the syscall
 * _start+16: "name\0"           (CC padding up to offset 16) "name\0"
 * ```
 *
 * @module
 */

import { STUB_NAME_MAX, STUB_NAME_OFFSET } from "../core/user_program.ts";
import { EM_RISCV, EM_X86_64, PF_R, PF_X, writeElf } from "./elf.ts";
import { encode } from "./riscv/encode.ts";

/** Where the stub is loaded: the usual start of a static program's text. */
export const USER_PROGRAM_BASE = 0x10000;

function le32(...words: number[]): number[] {
  return words.flatMap((w) => [w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, (w >>> 24) & 0xff]);
}

/** The 16 stub bytes before the name, for `arch`. */
export function userProgramStub(arch: "riscv64" | "x86_64"): Uint8Array {
  if (arch === "riscv64") {
    // The jump goes from _start+12 back to the ecall at _start+4.
    return new Uint8Array(
      le32(encode("ts.start"), encode("ecall"), encode("ts.resume"), encode("jal", 0, -8)),
    );
  }
  const code = [0x0f, 0x0a, 0x00, 0x0f, 0x05, 0x0f, 0x0a, 0x01, 0xeb, 0xf9];
  // EB F9 at offset 8: rel8 -7 from the next instruction (offset 10) is the syscall at 3.
  return new Uint8Array([...code, ...Array(STUB_NAME_OFFSET - code.length).fill(0xcc)]);
}

/**
 * The ELF image of the TypeScript program `name` for `arch`. Throws RangeError for a name
 * that user_program.ts would not accept (1 to 63 printable ASCII characters, no spaces).
 */
export function userProgramElf(arch: "riscv64" | "x86_64", name: string): Uint8Array {
  if (!/^[\x21-\x7e]+$/.test(name) || name.length >= STUB_NAME_MAX) {
    throw new RangeError(
      `program name "${name}" must be 1 to ${
        STUB_NAME_MAX - 1
      } printable ASCII characters without spaces`,
    );
  }
  const data = new Uint8Array(STUB_NAME_OFFSET + name.length + 1);
  data.set(userProgramStub(arch));
  data.set(new TextEncoder().encode(name), STUB_NAME_OFFSET);
  return writeElf({
    machine: arch === "riscv64" ? EM_RISCV : EM_X86_64,
    entry: USER_PROGRAM_BASE,
    segments: [{
      vaddr: USER_PROGRAM_BASE,
      memsz: data.length,
      flags: PF_R | PF_X,
      data,
      name: ".text",
    }],
    symbols: [{ name: "_start", value: USER_PROGRAM_BASE, global: true }],
  });
}
