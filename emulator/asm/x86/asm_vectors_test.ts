/**
 * The assembler against GNU as: each case file in testdata/ was assembled by GNU as
 * (linked at 0x401000) into the vector file beside it, and our assembler must produce the
 * same bytes for every case line; every line of rejects.asm must be refused, as GNU as
 * refuses it (or, where GNU as accepts it, for the reason the line gives). See
 * testdata/regenerate.ts.
 */
import assert from "node:assert/strict";
import { assembleX86, X86AsmError } from "./assembler.ts";
import { isCase } from "./testdata/cases.ts";
import { compareWithVectors } from "../vectors_testing.ts";

const dir = new URL("./testdata/", import.meta.url);

async function compare(casesFile: string, vectorsFile: string): Promise<number> {
  const { cases, problem } = compareWithVectors(
    vectorsFile,
    await Deno.readTextFile(new URL(casesFile, dir)),
    await Deno.readTextFile(new URL(vectorsFile, dir)),
    isCase,
    (source) => assembleX86(source, { origin: 0x401000 }),
  );
  assert.equal(problem, undefined, problem);
  return cases;
}

Deno.test("x86 assembler: hand-written cases match GNU as byte for byte", async () => {
  const n = await compare("cases.asm", "cases_vectors.txt");
  assert.ok(n > 300, `only ${n} cases`);
});

Deno.test("x86 assembler: generated cases (every register, size, immediate edge, address form) match GNU as", async () => {
  const n = await compare("generated_cases.asm", "generated_vectors.txt");
  assert.ok(n > 3000, `only ${n} cases`);
});

Deno.test("x86 assembler: refuses what GNU as refuses, saying why", async () => {
  const verdicts = (await Deno.readTextFile(new URL("rejects_verdicts.txt", dir))).split("\n")
    .filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t"));
  assert.ok(verdicts.length > 30, `only ${verdicts.length} rejects`);
  const source = (await Deno.readTextFile(new URL("rejects.asm", dir))).split("\n");
  assert.deepEqual(
    verdicts.map(([line, , text]) => [Number(line), text]),
    source.flatMap((l, i) => (isCase(l) ? [[i + 1, l.trim()]] : [])),
    "rejects_verdicts.txt is stale: run regenerate.ts",
  );
  for (const [line, verdict, text] of verdicts) {
    const expect = /; expect: (.*)$/.exec(text)?.[1];
    const why = /; gas accepts: (.*)$/.exec(text)?.[1];
    if (verdict === "ACCEPTED") {
      assert.ok(
        why,
        `line ${line}: GNU as accepts "${text}" and the line does not say why we refuse it`,
      );
    }
    let message = "";
    try {
      assembleX86(`bits 64\n${text}\n`);
    } catch (e) {
      assert.ok(e instanceof X86AsmError, `line ${line}: ${e}`);
      message = e.message;
    }
    assert.ok(message, `line ${line}: "${text}" should be refused`);
    const want = expect ?? why!;
    assert.ok(
      message.includes(want),
      `line ${line}: "${text}"\n  expected "${want}" in:\n  ${message}`,
    );
  }
});
