import assert from "node:assert/strict";
import { EF_RISCV_RVC, EM_RISCV, PF_R, PF_W, PF_X, readElf } from "../elf.ts";
import { assembleRiscvElf } from "./assemble_elf.ts";

const PROGRAM = `
  .globl _start
  .text
_start:
  la a0, msg
  ld a1, counter
  ret
  .section .rodata
msg: .asciz "hi"
  .data
counter: .dword 7
  .bss
buffer: .zero 100
`;

Deno.test("assembleRiscvElf: text+rodata R+X at 0x10000, data+bss R+W on the next page", () => {
  const { asm, elf } = assembleRiscvElf(PROGRAM);
  const image = readElf(elf, { machine: EM_RISCV });
  assert.equal(image.entry, 0x10000);
  assert.equal(image.segments.length, 2);
  const [code, data] = image.segments;
  assert.equal(code.vaddr, 0x10000);
  assert.equal(code.flags, PF_R | PF_X);
  assert.equal(code.memsz, asm.symbols.get("msg")! + 3 - 0x10000, "text and rodata together");
  assert.deepEqual([...code.data], [...asm.bytes.subarray(0, code.memsz)]);
  assert.equal(data.vaddr, 0x11000, "data starts on a page boundary, as GNU ld puts it");
  assert.equal(data.flags, PF_R | PF_W);
  assert.deepEqual([...data.data], [7, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(data.vaddr + data.memsz, asm.symbols.get("buffer")! + 100, "memsz covers .bss");
  const byName = new Map(image.symbols.map((s) => [s.name, s]));
  assert.equal(byName.get("_start")?.global, true);
  assert.equal(byName.get("counter")?.value, 0x11000);
  assert.equal(image.flags, 0);
});

Deno.test("assembleRiscvElf: rvc sets EF_RISCV_RVC; a program without data has one segment", () => {
  const { elf } = assembleRiscvElf("_start: li a0, 1\n ret\n", { compressed: true });
  const image = readElf(elf);
  assert.equal(image.flags, EF_RISCV_RVC);
  assert.equal(image.segments.length, 1);
  assert.equal(image.segments[0].memsz, 4);
});
