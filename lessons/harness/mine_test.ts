import assert from "node:assert/strict";
import { findLesson } from "./catalog.ts";
import { mineComponents, regrade } from "./mine.ts";
import { setFakeExercise, writeFakeLesson } from "./testing.ts";

Deno.test("mine: a component is the student's only once its lesson passed, re-graded when stale", async () => {
  const root = Deno.makeTempDirSync({ prefix: "mine-test-" });
  const cache = `${root}/.cache`;
  writeFakeLesson(root, "wrong", "runQueue");
  const lesson = findLesson(root, "90")!;

  let mine = await mineComponents(root, cache);
  assert.deepEqual(mine.components, {});
  assert.deepEqual(mine.lines, ["lesson 90 (runQueue): the reference (not started)"]);

  await regrade(cache, lesson); // 1 of 5 points, cached
  mine = await mineComponents(root, cache);
  assert.deepEqual(mine.lines, ["lesson 90 (runQueue): the reference (yours has 1 of 5 points)"]);

  // Fixed since it was graded: graded again (by the function given), then used.
  setFakeExercise(root, "correct");
  const graded: string[] = [];
  mine = await mineComponents(root, cache, (l) => {
    graded.push(l.dir);
    return regrade(cache, l);
  });
  assert.deepEqual(graded, ["90-copying"]);
  assert.deepEqual(mine.lines, [
    "lesson 90: your exercise changed since it was graded: grading it again",
    "lesson 90 (runQueue): yours (passed)",
  ]);
  assert.equal(typeof mine.components.runQueue, "function");
  assert.equal((mine.components.runQueue as { name: string }).name, "createCopier");

  // Cached now: no grading the second time.
  mine = await mineComponents(root, cache, () => {
    throw new Error("graded again");
  });
  assert.deepEqual(mine.lines, ["lesson 90 (runQueue): yours (passed)"]);
});
