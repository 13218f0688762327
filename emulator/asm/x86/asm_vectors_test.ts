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

const dir = new URL("./testdata/", import.meta.url);

async function compare(casesFile: string, vectorsFile: string): Promise<number> {
  const source = await Deno.readTextFile(new URL(casesFile, dir));
  const vectors = (await Deno.readTextFile(new URL(vectorsFile, dir))).split("\n")
    .filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t"));
  const labelled = source.split("\n").map((l, i) => (isCase(l) ? `vcase_${i + 1}:\n${l}` : l))
    .join("\n") + "\nvcase_end:\n";
  const out = assembleX86(labelled, { origin: 0x401000 });
  const marks = [...out.symbols].filter(([n]) => n.startsWith("vcase_"))
    .map(([n, a]) => ({ n: n === "vcase_end" ? Infinity : Number(n.slice(6)), a }))
    .sort((x, y) => x.a - y.a || x.n - y.n);
  const ours = new Map<number, string>();
  marks.forEach((m, i) => {
    if (i + 1 === marks.length) return;
    const bytes = out.bytes.subarray(m.a - out.origin, marks[i + 1].a - out.origin);
    ours.set(m.n, [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(""));
  });
  // The vectors must be those of this very file: run regenerate.ts after editing a case.
  const lines = source.split("\n");
  const cases = lines.map((l, i) => (isCase(l) ? i + 1 : 0)).filter(Boolean);
  assert.deepEqual(vectors.map(([line]) => Number(line)), cases, `${vectorsFile} is stale`);
  for (const [line, , text] of vectors) {
    assert.equal(lines[Number(line) - 1].trim(), text, `${vectorsFile} is stale at line ${line}`);
  }
  const failures: string[] = [];
  for (const [line, hex, text] of vectors) {
    const got = ours.get(Number(line));
    if (got !== hex) failures.push(`line ${line}: ${text}\n    GNU as: ${hex}\n    ours:   ${got}`);
  }
  assert.equal(
    failures.length,
    0,
    `${failures.length} mismatches:\n${failures.slice(0, 20).join("\n")}`,
  );
  return vectors.length;
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
