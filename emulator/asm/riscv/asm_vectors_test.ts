/**
 * The assembler against GNU as: each case file in testdata/ was assembled by GNU as
 * (`-mno-relax`, linked at 0x10000) into the vector file beside it, and our assembler must
 * produce the same bytes for every line. See testdata/regenerate.sh.
 */
import assert from "node:assert/strict";
import { compareWithVectors } from "../vectors_testing.ts";
import { assembleRiscv } from "./assembler.ts";

/** The case-line rule of regenerate.sh: an instruction or a data directive. */
function isCase(line: string): boolean {
  const s = line.replace(/#.*$/, "").replace(/\/\/.*$/, "").trim();
  if (!s || s.endsWith(":")) return false;
  if (/^[A-Za-z]/.test(s)) return true;
  return /^\.(byte|half|short|word|long|dword|quad|2byte|4byte|8byte|ascii|asciz|string|zero|space|insn)(\s|$)/
    .test(s);
}

async function compare(casesFile: string, vectorsFile: string): Promise<number> {
  const dir = new URL("./testdata/", import.meta.url);
  const { cases, problem } = compareWithVectors(
    vectorsFile,
    await Deno.readTextFile(new URL(casesFile, dir)),
    await Deno.readTextFile(new URL(vectorsFile, dir)),
    isCase,
    (source) => assembleRiscv(source, { origin: 0x10000 }),
  );
  assert.equal(problem, undefined, problem);
  return cases;
}

Deno.test("assembler: hand-written cases match GNU as byte for byte", async () => {
  const n = await compare("asm_cases.s", "asm_vectors.txt");
  assert.ok(n > 200, `only ${n} cases`);
});

Deno.test("assembler: generated compression and li cases match GNU as", async () => {
  const n = await compare("asm_generated_cases.s", "asm_generated_vectors.txt");
  assert.ok(n > 1000, `only ${n} cases`);
});
