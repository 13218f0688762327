import assert from "node:assert/strict";
import { STUB_NAME_OFFSET } from "../core/user_program.ts";
import { EM_RISCV, EM_X86_64, PF_R, PF_X, readElf } from "./elf.ts";
import { USER_PROGRAM_BASE, userProgramElf } from "./user_program_elf.ts";

const bytesAtEntry = (elf: Uint8Array, n: number) => {
  const image = readElf(elf);
  const seg = image.segments.find((s) =>
    image.entry >= s.vaddr && image.entry < s.vaddr + s.memsz
  )!;
  return [...seg.data.subarray(image.entry - seg.vaddr, image.entry - seg.vaddr + n)];
};

Deno.test("userProgramElf: the RISC-V stub is ts.start, ecall, ts.resume, j back, then the name", () => {
  const elf = userProgramElf("riscv64", "shell");
  const image = readElf(elf, { machine: EM_RISCV });
  assert.equal(image.entry, USER_PROGRAM_BASE);
  assert.deepEqual(image.segments.map((s) => s.flags), [PF_R | PF_X]);
  assert.deepEqual(bytesAtEntry(elf, 16), [
    0x0b,
    0x00,
    0x00,
    0x00, // ts.start  (custom-0, funct3 0)
    0x73,
    0x00,
    0x00,
    0x00, // ecall
    0x0b,
    0x10,
    0x00,
    0x00, // ts.resume (custom-0, funct3 1)
    0x6f,
    0xf0,
    0x9f,
    0xff, // jal zero, -8: back to the ecall
  ]);
  const name = bytesAtEntry(elf, STUB_NAME_OFFSET + 6).slice(STUB_NAME_OFFSET);
  assert.deepEqual(name, [..."shell"].map((c) => c.charCodeAt(0)).concat(0));
  assert.deepEqual(image.symbols.map((s) => [s.name, s.value]), [["_start", USER_PROGRAM_BASE]]);
});

Deno.test("userProgramElf: the x86-64 stub bytes, CC padding, then the name", () => {
  const elf = userProgramElf("x86_64", "pci");
  assert.equal(readElf(elf, { machine: EM_X86_64 }).entry, USER_PROGRAM_BASE);
  assert.deepEqual(bytesAtEntry(elf, 20), [
    0x0f,
    0x0a,
    0x00, // ts.start
    0x0f,
    0x05, // syscall
    0x0f,
    0x0a,
    0x01, // ts.resume
    0xeb,
    0xf9, // jmp -7: back to the syscall at offset 3
    0xcc,
    0xcc,
    0xcc,
    0xcc,
    0xcc,
    0xcc,
    0x70,
    0x63,
    0x69,
    0x00, // "pci\0"
  ]);
});

Deno.test("userProgramElf: names user_program.ts would refuse are refused", () => {
  assert.throws(() => userProgramElf("riscv64", ""), /must be 1 to 63 printable ASCII/);
  assert.throws(() => userProgramElf("riscv64", "two words"), /without spaces/);
  assert.throws(() => userProgramElf("x86_64", "x".repeat(64)), /1 to 63/);
  assert.doesNotThrow(() => userProgramElf("x86_64", "x".repeat(63)));
});
