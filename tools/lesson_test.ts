import assert from "node:assert/strict";
import { lessonStatus } from "../lessons/harness/cache.ts";
import { findLesson, listLessons } from "../lessons/harness/catalog.ts";
import { FAKE_DIR, setFakeExercise, writeFakeLesson } from "../lessons/harness/testing.ts";
import type { SerialConsoleFactory } from "../kernel/components.ts";
import { createUartConsole } from "../kernel/drivers/uart16550.ts";
import { boot, parseBootArgs } from "./boot.ts";
import { changes, lessonCommand, type LessonEnv, parseLessonArgs } from "./lesson.ts";

/** Runs `deno task lesson ARGS` on a fake lesson tree; returns exit status and output. */
async function run(root: string, args: string[], env: Partial<LessonEnv> = {}) {
  let out = "", err = "";
  const status = await lessonCommand(args, {
    out: (s) => (out += s),
    err: (s) => (err += s),
  }, { root, cacheDir: `${root}/.cache`, ...env });
  return { status, out, err };
}

function fakeTree(exercise: string): string {
  const root = Deno.makeTempDirSync({ prefix: "lesson-test-" });
  writeFakeLesson(root, exercise);
  return root;
}

Deno.test("lesson: a passing exercise prints ✓ per architecture, the score, and exits 0", async () => {
  const root = fakeTree("correct");
  const r = await run(root, ["90", "--no-check"]);
  assert.equal(r.status, 0, r.out + r.err);
  assert.match(r.out, /^Lesson 90: Copying bytes \(your exercise, seed 1\)/);
  assert.match(r.out, / {2}x86_64 {2}riscv64 points {2}case\n/);
  assert.match(r.out, / {2}✓ {7}✓ {7}4\/4 {5}copies 64 bytes\n/);
  // A case that runs on one architecture shows · for the other.
  assert.match(r.out, / {2}· {7}✓ {7}1\/1 {5}copies nothing when the length is 0\n/);
  assert.match(r.out, /\nScore: 5\/5 \(passed\)\n$/);
  assert.doesNotMatch(r.out, /Failures/);
});

Deno.test("lesson: --verbose shows what each case noted and the operations it took", async () => {
  const root = fakeTree("correct");
  const quiet = await run(root, ["90", "--no-check"]);
  const loud = await run(root, ["90", "--no-check", "--verbose"]);
  assert.doesNotMatch(quiet.out, /copied from/);
  assert.match(loud.out, / {6}x86_64: copied from \w+\n {6}x86_64: 128 operations\n/);
  assert.match(loud.out, / {6}riscv64: copied from 80\w+\n/);
});

Deno.test("lesson: a failure says what was expected, what the hardware has, how to replay, where to read", async () => {
  const root = fakeTree("wrong");
  const r = await run(root, ["90", "--no-check", "--seed", "7"]);
  assert.equal(r.status, 1);
  assert.match(r.out, / {2}✗ {7}✗ {7}0\/4 {5}copies 64 bytes/);
  assert.match(
    r.out,
    /✗ copies 64 bytes \(x86_64\)\n {4}the 64 bytes at the destination: they differ first at \[63\]/,
  );
  assert.match(
    r.out,
    / {4}expected: \[63\] = \d+ \(64 entries\)\n {4}saw: {6}\[63\] = 0 \(64 entries\)/,
  );
  assert.match(
    r.out,
    /replay: {3}deno task lesson 90 --arch riscv64 --seed 7 --case "copies 64 bytes"/,
  );
  assert.match(r.out, /read: {5}lessons\/90-copying\/README\.md#copying/);
  assert.match(r.out, /Score: 1\/5\n$/);
});

Deno.test("lesson: a throwing exercise names the call and the line in the exercise", async () => {
  const root = fakeTree("starter");
  const r = await run(root, ["90", "--no-check"]);
  assert.equal(r.status, 1);
  assert.match(
    r.out,
    /copier\.copy\(0x80210000, 0x80211000, 64\) threw Error: not implemented yet: see README\.md#copying/,
  );
  assert.match(r.out, /at: {7}exercise\/copier\.ts:\d+:\d+/);
  assert.match(r.out, /Score: 0\/5/);
});

Deno.test("lesson: an endless loop touching memory is stopped by its operation budget, deterministically", async () => {
  const root = fakeTree("hang-touching");
  const a = await run(root, ["90", "--no-check", "--arch", "riscv64"]);
  const b = await run(root, ["90", "--no-check", "--arch", "riscv64"]);
  assert.equal(a.status, 1);
  assert.match(a.out, /copier\.copy\(.*\) did not finish: more than 10000 operations/);
  assert.equal(a.out, b.out, "the same failure, byte for byte");
});

Deno.test("lesson: a loop that never touches memory is killed by the safety net; the rest still runs", async () => {
  const root = fakeTree("hang-silent");
  const r = await run(root, ["90", "--no-check"], { timeoutMs: 1000 });
  assert.equal(r.status, 1);
  assert.match(
    r.out,
    /did not finish: no answer for 1 s \(an endless loop that never touches memory\?\)/,
  );
  // The case after the one that hung ran and passed.
  assert.match(r.out, / {2}· {7}✓ {7}1\/1 {5}copies nothing when the length is 0/);
  assert.match(r.out, /Score: 1\/5/);
});

Deno.test("lesson: what the exercise prints reaches stderr; an exercise that exits its process fails", async () => {
  const root = fakeTree("chatty");
  const chatty = await run(root, ["90", "--no-check"]);
  assert.equal(chatty.status, 0);
  assert.match(chatty.err, /^exercise: copier: hello from the exercise\n/);
  setFakeExercise(root, "exits");
  const exits = await run(root, ["90", "--no-check"]);
  assert.equal(exits.status, 1);
  assert.match(exits.out, /did not finish: the grading process exited/);
  assert.match(exits.out, /Score: 0\/5/, "every case ran, and failed");
});

Deno.test("lesson: an exercise that does not load fails every case, with the reason", async () => {
  const root = fakeTree("no-load");
  const r = await run(root, ["90", "--no-check"]);
  assert.equal(r.status, 1);
  assert.match(
    r.out,
    /exercise\/copier\.ts does not load: Error: the exercise breaks at its top level/,
  );
  assert.match(r.out, /Score: 0\/5/);
});

Deno.test("lesson: an access to no memory is the hardware's fault, in the hardware's words", async () => {
  const root = fakeTree("fault");
  const r = await run(root, ["90", "--no-check"]);
  assert.match(r.out, /made an access the hardware refused: #PF page fault/);
  assert.match(r.out, /physical address 0x7000_0000_0000 is nothing/);
});

Deno.test("lesson: --json writes the report; --arch limits the run; --case filters", async () => {
  const root = fakeTree("wrong");
  const file = `${root}/report.json`;
  const r = await run(root, ["90", "--no-check", "--arch", "riscv64", "--json", file]);
  assert.equal(r.status, 1);
  const report = JSON.parse(Deno.readTextFileSync(file));
  assert.equal(report.number, 90);
  assert.equal(report.dir, FAKE_DIR);
  assert.deepEqual(report.arches, ["riscv64"]);
  assert.equal(report.score, 1);
  assert.equal(report.maxScore, 3);
  assert.equal(report.passed, false);
  assert.equal(report.results.length, 2);
  const failed = report.results.find((x: { passed: boolean }) => !x.passed);
  assert.equal(failed.name, "copies 64 bytes");
  assert.equal(failed.failure.kind, "check");
  assert.match(failed.failure.expected, /\[63\]/);
  assert.doesNotMatch(r.out, /x86_64/, "only the riscv64 column");

  const only = await run(root, ["90", "--no-check", "--case", "NOTHING WHEN"]);
  assert.equal(only.status, 0, "the one selected case passes");
  assert.match(only.out, /Score: 1\/1 \(passed\)/);
});

Deno.test("lesson: the listing shows not started, points, stale, passed, from the cache", async () => {
  const root = fakeTree("wrong");
  const listing = async () => (await run(root, [])).out;
  assert.match(await listing(), / {2}90 {2}Copying bytes {2}not started\n/);
  await run(root, ["90", "--no-check"]);
  assert.match(await listing(), /Copying bytes {2}1 of 5 points\n/);
  // A partial run (one architecture, or one case) never replaces the full grade.
  await run(root, ["90", "--no-check", "--arch", "x86_64"]);
  await run(root, ["90", "--no-check", "--case", "nothing"]);
  assert.match(await listing(), /Copying bytes {2}1 of 5 points\n/);
  // Editing the exercise makes the cached grade stale: never shown as current.
  setFakeExercise(root, "correct");
  assert.match(await listing(), /changed since last graded \(then: 1 of 5 points\)\n/);
  const lesson = findLesson(root, "90")!;
  assert.equal((await lessonStatus(`${root}/.cache`, lesson)).state, "stale");
  await run(root, ["90", "--no-check"]);
  assert.match(await listing(), /Copying bytes {2}passed\n/);
  // The reference's grade is not the student's status.
  setFakeExercise(root, "starter");
  await run(root, ["90", "--no-check", "--solution"]);
  assert.match(await listing(), /changed since last graded \(then: 5 of 5 points\)/);
});

Deno.test("lesson: usage errors exit 2 and say what is wrong", async () => {
  const root = fakeTree("correct");
  assert.match(
    parseLessonArgs(["--arch", "arm"]) as string,
    /--arch arm: choose x86_64, riscv64 or both/,
  );
  assert.match(parseLessonArgs(["--seed", "x"]) as string, /--seed x: give an integer/);
  assert.match(parseLessonArgs(["1", "2"]) as string, /give one lesson number/);
  const missing = await run(root, ["42"]);
  assert.equal(missing.status, 2);
  assert.match(missing.err, /there is no lesson 42 \(the lessons: 90-copying\)/);
  const bad = await run(root, ["--bogus"]);
  assert.equal(bad.status, 2);
  assert.equal((await run(root, ["--help"])).status, 0);
});

Deno.test("lesson: lessons are NN-slug folders with a lesson.ts, by number", () => {
  const root = Deno.makeTempDirSync();
  for (const d of ["02-physical-memory", "01-boot", "notes", "1-bad", "03-empty"]) {
    Deno.mkdirSync(`${root}/${d}`);
  }
  Deno.writeTextFileSync(`${root}/02-physical-memory/lesson.ts`, "");
  Deno.writeTextFileSync(`${root}/01-boot/lesson.ts`, "");
  Deno.writeTextFileSync(`${root}/01-boot/README.md`, "# Boot and the serial console\n");
  assert.deepEqual(listLessons(root).map((l) => l.dir), ["01-boot", "02-physical-memory"]);
  assert.equal(listLessons(root)[0].title, "Boot and the serial console");
  assert.equal(findLesson(root, "1")?.dir, "01-boot");
  assert.equal(findLesson(root, "02-physical-memory")?.number, 2);
  assert.equal(findLesson(root, "3"), undefined, "a folder without lesson.ts is not a lesson");
  assert.deepEqual(listLessons(`${root}/missing`), []);
});

Deno.test("lesson: --watch sees a save in the exercise folder", async () => {
  const root = fakeTree("correct");
  const abort = new AbortController();
  const seen: string[] = [];
  const watching = (async () => {
    for await (const f of changes(`${root}/${FAKE_DIR}/exercise`, abort.signal)) {
      seen.push(f);
      abort.abort();
    }
  })();
  await new Promise((r) => setTimeout(r, 100));
  setFakeExercise(root, "wrong");
  await watching;
  assert.deepEqual(seen, ["exercise/copier.ts"]);
});

Deno.test("lesson: the type check rejects an exercise that does not fit its interface", async () => {
  // One `deno check` of the fake lesson (a few seconds: it checks the emulator's types too).
  const root = fakeTree("wrong-type");
  const r = await run(root, ["90"]);
  assert.equal(r.status, 1);
  assert.match(r.out, /your exercise does not type-check/);
  assert.match(r.out, /CopierFactory/, "the error names the interface it does not fit");
  assert.doesNotMatch(r.out, /Score:/, "nothing is graded");
});

Deno.test("lesson: boot --mine boots the kernel with the student's components, and says so", () => {
  let bytes = 0, err = "";
  const spy: SerialConsoleFactory = (regs, clock) => {
    const con = createUartConsole(regs, clock);
    return { ...con, putByte: (b) => (bytes++, con.putByte(b)) };
  };
  const status = boot(
    ["--arch", "riscv64", "--mem", "32M"],
    () => {},
    (s) => (err += s),
    { console: spy },
  );
  assert.equal(status, 0, err);
  assert.match(
    err,
    /booting the kernel on the RISC-V virt board with your console and the reference for the rest/,
  );
  assert.ok(bytes > 1000, `the student's putByte sent the log (${bytes} bytes)`);
  assert.equal(
    parseBootArgs(["--mine"]) && (parseBootArgs(["--mine"]) as { mine: boolean }).mine,
    true,
  );
});
