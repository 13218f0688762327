import assert from "node:assert/strict";
import { writeFakeLesson } from "../lessons/harness/testing.ts";
import { gradeCommand } from "./grade.ts";

async function grade(root: string, args: string[]) {
  let out = "", err = "";
  const status = await gradeCommand(args, { out: (s) => (out += s), err: (s) => (err += s) }, {
    root,
  });
  return { status, out, err };
}

Deno.test("grade: results.json has Gradescope's shape, one test per case and architecture", async () => {
  const root = Deno.makeTempDirSync({ prefix: "grade-test-" });
  writeFakeLesson(root, "wrong");
  const file = `${root}/results.json`;
  const r = await grade(root, ["--out", file, "--seed", "3"]);
  assert.equal(r.status, 0, r.err);
  assert.match(r.out, /90-copying: 1\/5\n/);
  assert.match(r.out, /total: 1\/5; wrote .*results\.json/);
  const results = JSON.parse(Deno.readTextFileSync(file));
  assert.equal(results.score, 1);
  assert.equal(typeof results.execution_time, "number");
  assert.equal(results.visibility, "visible");
  assert.match(results.output, /Lesson 90 \(Copying bytes\): 1\/5/);
  assert.equal(results.tests.length, 3, "copies 64 bytes on both, the other on riscv64");
  for (const t of results.tests) {
    assert.deepEqual(
      Object.keys(t).sort(),
      ["max_score", "name", "number", "output", "score", "status", "visibility"],
    );
    assert.equal(t.visibility, "visible");
  }
  const [x86, rv, zero] = results.tests;
  assert.deepEqual(
    [x86.name, x86.number, x86.score, x86.max_score, x86.status],
    ["90 copies 64 bytes [x86_64]", "90.1", 0, 2, "failed"],
  );
  assert.match(x86.output, /they differ first at \[63\]/);
  assert.match(
    x86.output,
    /replay: deno task lesson 90 --arch x86_64 --seed 3 --case "copies 64 bytes"/,
  );
  assert.match(x86.output, /read: lessons\/90-copying\/README\.md#copying/);
  assert.equal(rv.name, "90 copies 64 bytes [riscv64]");
  assert.deepEqual(
    [zero.name, zero.number, zero.score, zero.max_score, zero.status, zero.output],
    ["90 copies nothing when the length is 0 [riscv64]", "90.2", 1, 1, "passed", ""],
  );
});

Deno.test("grade: --solution grades the references; bad options exit 2", async () => {
  const root = Deno.makeTempDirSync({ prefix: "grade-test-" });
  writeFakeLesson(root, "starter");
  const file = `${root}/results.json`;
  assert.equal((await grade(root, ["--solution", "--out", file])).status, 0);
  assert.equal(JSON.parse(Deno.readTextFileSync(file)).score, 5);
  assert.equal((await grade(root, ["--seed", "x"])).status, 2);
  assert.equal((await grade(root, ["--nope"])).status, 2);
  assert.equal((await grade(`${root}/none`, [])).status, 1);
});
