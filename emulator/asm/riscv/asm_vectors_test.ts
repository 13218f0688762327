/**
 * The assembler against GNU as: each case file in testdata/ was assembled by GNU as
 * (`-mno-relax`, linked at 0x10000) into the vector file beside it, and our assembler must
 * produce the same bytes for every line. See testdata/regenerate.sh.
 */
import assert from "node:assert/strict";
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
  const source = await Deno.readTextFile(new URL(casesFile, dir));
  const vectors = (await Deno.readTextFile(new URL(vectorsFile, dir))).split("\n")
    .filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t"));
  const labelled = source.split("\n").map((l, i) => (isCase(l) ? `vcase_${i + 1}:\n${l}` : l))
    .join("\n") + "\nvcase_end:\n";
  const out = assembleRiscv(labelled, { origin: 0x10000 });
  const marks = [...out.symbols].filter(([n]) => n.startsWith("vcase_"))
    .map(([n, a]) => ({ n: n === "vcase_end" ? Infinity : Number(n.slice(6)), a }))
    .sort((x, y) => x.a - y.a || x.n - y.n);
  const ours = new Map<number, string>();
  marks.forEach((m, i) => {
    if (i + 1 === marks.length) return;
    const bytes = out.bytes.subarray(m.a - out.origin, marks[i + 1].a - out.origin);
    ours.set(m.n, [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(""));
  });
  const failures: string[] = [];
  for (const [line, hex, text] of vectors) {
    const got = ours.get(Number(line));
    if (got !== hex) failures.push(`line ${line}: ${text}\n    GNU as: ${hex}\n    ours:   ${got}`);
  }
  assert.equal(
    failures.length,
    0,
    `${failures.length} mismatches:\n${failures.slice(0, 15).join("\n")}`,
  );
  return vectors.length;
}

Deno.test("assembler: hand-written cases match GNU as byte for byte", async () => {
  const n = await compare("asm_cases.s", "asm_vectors.txt");
  assert.ok(n > 200, `only ${n} cases`);
});

Deno.test("assembler: generated compression and li cases match GNU as", async () => {
  const n = await compare("asm_generated_cases.s", "asm_generated_vectors.txt");
  assert.ok(n > 1000, `only ${n} cases`);
});
