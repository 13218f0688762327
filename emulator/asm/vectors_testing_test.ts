import assert from "node:assert/strict";
import { assembleRiscv } from "./riscv/assembler.ts";
import { compareWithVectors } from "./vectors_testing.ts";

const SOURCE = "# two cases\nnop\nlabel:\nli a0, 1\n";
const isCase = (l: string) => /^[a-z]+ /.test(l) || l === "nop";
const assemble = (s: string) => assembleRiscv(s);

Deno.test("vector harness: matching bytes pass and count the cases", () => {
  const vectors = "# header\n2\t13000000\tnop\n4\t13051000\tli a0, 1\n";
  assert.deepEqual(compareWithVectors("v.txt", SOURCE, vectors, isCase, assemble), {
    cases: 2,
    problem: undefined,
  });
});

Deno.test("vector harness: a wrong byte is a mismatch showing both encodings", () => {
  const vectors = "2\t13000000\tnop\n4\t13052000\tli a0, 1\n";
  const { problem } = compareWithVectors("v.txt", SOURCE, vectors, isCase, assemble);
  assert.equal(
    problem,
    "1 mismatches:\nline 4: li a0, 1\n    GNU as: 13052000\n    ours:   13051000",
  );
});

Deno.test("vector harness: a vector file of another case file is stale", () => {
  const missing = compareWithVectors("v.txt", SOURCE, "2\t13000000\tnop\n", isCase, assemble);
  assert.equal(missing.problem, "v.txt is stale");
  const edited = "2\t13000000\tnop\n4\t13051000\tli a0, 2\n";
  assert.equal(
    compareWithVectors("v.txt", SOURCE, edited, isCase, assemble).problem,
    "v.txt is stale at line 4",
  );
});
