import assert from "node:assert/strict";
import { FORMS, FormTableError, parseFormLine } from "./forms.ts";
import { mnemonics } from "./encode.ts";

Deno.test("x86 forms: a line expands once per operand size, with its prefixes and fields", () => {
  const add = parseFormLine("add rmv,simm8 : 83 /0 ib");
  assert.deepEqual(add.map((f) => [f.size, f.operands]), [
    [16, ["rm16", "simm8"]],
    [32, ["rm32", "simm8"]],
    [64, ["rm64", "simm8"]],
  ]);
  assert.deepEqual({ opcode: add[0].opcode, modrm: add[0].modrm, imms: add[0].imms }, {
    opcode: [0x83],
    modrm: 0,
    imms: ["ib"],
  });
  assert.deepEqual(parseFormLine("push rv : 50+r d64").map((f) => f.size), [16, 64]);
  assert.deepEqual(parseFormLine("bswap ry : 0f c8+r").map((f) => f.size), [32, 64]);
  assert.deepEqual(parseFormLine("xchg accv,rv : 90+r notnop")[2].operands, ["rax", "r64"]);
  const popcnt = parseFormLine("popcnt rv,rmv : pF3 0f b8 /r")[0];
  assert.equal(popcnt.mandatory, 0xf3);
  assert.equal(parseFormLine("jmp rel8 : eb rb")[0].rel, 1);
  assert.equal(parseFormLine("retf : cb")[0].opcode[0], 0xcb, "cb is an opcode byte; rb is rel8");
  assert.equal(parseFormLine("cqo : w 99")[0].rexW, true);
  assert.throws(() => parseFormLine("add rmv,rv 01 /r"), FormTableError);
  assert.throws(() => parseFormLine("add rmq,rv : 01 /r"), /unknown operand pattern "rmq"/);
  assert.throws(() => parseFormLine("add rmv,rv : 01 /9"), /unknown encoding token "\/9"/);
  assert.throws(() => parseFormLine("add rmv,rv : /r"), /no opcode/);
});

Deno.test("x86 forms: every mnemonic is checked against GNU as, or against the NASM manual", async () => {
  const used = new Set<string>();
  for (const file of ["cases_vectors.txt", "generated_vectors.txt"]) {
    const text = await Deno.readTextFile(new URL(`./testdata/${file}`, import.meta.url));
    for (const line of text.split("\n")) {
      if (!line || line.startsWith("#")) continue;
      for (const word of line.split("\t")[2].split(/[\s,]+/)) used.add(word.toLowerCase());
    }
  }
  // GNU as has no spelling for these (or calls the 32-bit sysret ambiguous): assembler_test.ts
  // checks their bytes against the SDM.
  const nasmOnly = ["sysexit", "sysret", "ts.resume", "ts.start"];
  assert.deepEqual(mnemonics().filter((m) => !used.has(m)), nasmOnly);
  assert.ok(FORMS.size > 240, `${FORMS.size} mnemonics`);
});
