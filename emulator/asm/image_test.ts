import assert from "node:assert/strict";
import { PF_R, PF_W, PF_X } from "./elf.ts";
import { AsmError, assembledImage, SECTION_ORDER } from "./image.ts";

const SECTIONS = SECTION_ORDER.map((name, k) => ({
  name,
  address: 0x1000 * (k + 1),
  size: 0,
  align: 8,
}));

Deno.test("assembled image: each section gets its ELF permissions", () => {
  const image = assembledImage(0x1000, new Uint8Array(), SECTIONS, new Map(), new Set(), []);
  assert.deepEqual(image.sections.map((s) => [s.name, s.flags]), [
    [".text", PF_R | PF_X],
    [".rodata", PF_R],
    [".data", PF_R | PF_W],
    [".bss", PF_R | PF_W],
  ]);
  assert.equal(image.sections[2].address, 0x3000);
});

Deno.test("assembled image: the entry is _start, else the origin", () => {
  const none = assembledImage(0x1000, new Uint8Array(), SECTIONS, new Map(), new Set(), []);
  assert.equal(none.entry, 0x1000);
  const symbols = new Map([["main", 0x1004], ["_start", 0x1008]]);
  const start = assembledImage(0x1000, new Uint8Array(), SECTIONS, symbols, new Set(), []);
  assert.equal(start.entry, 0x1008);
});

Deno.test("AsmError: line, column, reason, and the source line with a caret", () => {
  const e = new AsmError(3, 5, "bad operand", "  li a0, x");
  assert.equal(e.message, "line 3, column 5: bad operand\n    li a0, x\n      ^");
  assert.equal(new AsmError(1, 1, "oops").message, "line 1, column 1: oops");
  assert.equal(e.name, "AsmError");
});
