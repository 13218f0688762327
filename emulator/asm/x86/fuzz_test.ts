/**
 * Bad input never crashes the assembler: seeded mutations of real source lines (characters
 * inserted, deleted and replaced with the ones that matter in NASM syntax, lines spliced
 * together) either assemble or raise X86AsmError with a line and a reason, never another
 * exception.
 */
import assert from "node:assert/strict";
import { Prng } from "../../core/prng.ts";
import { assembleX86, X86AsmError } from "./assembler.ts";

const ALPHABET = [..."[]()+-*,:;'\"`$.0123456789 \\"].concat([
  "rax",
  "eax",
  "al",
  "ah",
  "r8",
  "rsp",
  "fs",
  "cr3",
  "qword ",
  "byte ",
  "strict ",
  "rel ",
  "short ",
  "times 3 ",
  "0xffffffffffffffff",
  "-0x80000000",
  "label",
  ".local",
  "$$",
]);

Deno.test("x86 asm fuzz: mutated source raises X86AsmError or assembles, never anything else", async () => {
  const source = await Deno.readTextFile(new URL("./testdata/cases.asm", import.meta.url));
  const lines = source.split("\n").filter((l) => l.trim() && !l.trim().startsWith(";"));
  const prng = new Prng(4242);
  const pick = <T>(xs: readonly T[]) => xs[prng.range(0, xs.length - 1)];
  let ok = 0, refused = 0;
  for (let i = 0; i < 2500; i++) {
    let text = pick(lines);
    const edits = prng.range(1, 4);
    for (let e = 0; e < edits; e++) {
      const at = prng.range(0, text.length);
      const kind = prng.range(0, 3);
      if (kind === 0) text = text.slice(0, at) + pick(ALPHABET) + text.slice(at);
      else if (kind === 1) text = text.slice(0, at) + text.slice(at + prng.range(1, 4));
      else if (kind === 2) text = text.slice(0, at) + pick(ALPHABET) + text.slice(at + 1);
      else text = text + "\n" + pick(lines);
    }
    const program = `bits 64\nlabel: nop\n${text}\nsection .data\nd: dq label\n`;
    try {
      assembleX86(program);
      ok++;
    } catch (e) {
      if (!(e instanceof X86AsmError)) {
        throw new Error(`case ${i}: ${JSON.stringify(text)} threw ${e}`);
      }
      assert.ok(e.line >= 1 && e.reason.length > 10, `case ${i}: a vague error: ${e.message}`);
      refused++;
    }
  }
  assert.ok(ok > 300 && refused > 300, `assembled ${ok}, refused ${refused}`);
});
