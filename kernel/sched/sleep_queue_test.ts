import assert from "node:assert/strict";
import { SleepQueue } from "./sleep_queue.ts";

Deno.test("sleep queue: ordered by wake time, ties in arrival order", () => {
  const q = new SleepQueue<{ wakeAt: number; id: string }>();
  const s = (id: string, wakeAt: number) => ({ id, wakeAt });
  const [a, b, c, d] = [s("a", 30), s("b", 10), s("c", 30), s("d", 20)];
  [a, b, c, d].forEach((x) => q.insert(x));
  assert.equal(q.earliest(), 10);
  assert.deepEqual(q.takeDue(5), []);
  assert.deepEqual(q.takeDue(20).map((x) => x.id), ["b", "d"]);
  assert.equal(q.remove(a), true);
  assert.equal(q.remove(a), false);
  assert.deepEqual(q.takeDue(100).map((x) => x.id), ["c"]);
  assert.equal(q.earliest(), Infinity);
  assert.equal(q.size, 0);
});
