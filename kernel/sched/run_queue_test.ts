import assert from "node:assert/strict";
import type { SchedClass, Schedulable } from "../components.ts";
import { createRunQueue, rankOf } from "./run_queue.ts";

let nextTid = 1;
function t(schedClass: SchedClass, priority: number): Schedulable {
  return { tid: nextTid++, schedClass, priority };
}

function drain(q: ReturnType<typeof createRunQueue>): number[] {
  const out: number[] = [];
  for (let x = q.next(); x; x = q.next()) out.push(x.tid);
  return out;
}

Deno.test("run queue: classes first, then levels, then first come first served", () => {
  const q = createRunQueue();
  const idle = t("idle", 0), n5 = t("normal", 5), n1a = t("normal", 1), rt = t("realtime", 254);
  const n1b = t("normal", 1), high = t("high", 100);
  for (const x of [idle, n5, n1a, rt, n1b, high]) q.enqueue(x);
  assert.equal(q.size, 6);
  assert.deepEqual(drain(q), [rt.tid, high.tid, n1a.tid, n1b.tid, n5.tid, idle.tid]);
  assert.equal(q.size, 0);
  assert.equal(q.next(), undefined);
});

Deno.test("run queue: round robin within a level", () => {
  const q = createRunQueue();
  const [a, b, c] = [t("normal", 10), t("normal", 10), t("normal", 10)];
  [a, b, c].forEach((x) => q.enqueue(x));
  const order: number[] = [];
  for (let i = 0; i < 6; i++) {
    const x = q.next()!;
    order.push(x.tid);
    q.enqueue(x); // its slice is used up: to the back
  }
  assert.deepEqual(order, [a.tid, b.tid, c.tid, a.tid, b.tid, c.tid]);
});

Deno.test("run queue: remove takes a thread out wherever it is", () => {
  const q = createRunQueue();
  const [a, b, c] = [t("normal", 3), t("normal", 3), t("high", 0)];
  [a, b, c].forEach((x) => q.enqueue(x));
  assert.equal(q.remove(b), true);
  assert.equal(q.remove(b), false, "not there any more");
  c.priority = 200; // changed while queued: remove still finds it
  assert.equal(q.remove(c), true);
  assert.deepEqual(drain(q), [a.tid]);
});

Deno.test("run queue: outranks compares the best waiting thread with the current one", () => {
  const q = createRunQueue();
  const current = t("normal", 50);
  assert.equal(q.outranks(current), false, "empty");
  q.enqueue(t("normal", 50));
  assert.equal(q.outranks(current), false, "equal rank does not preempt");
  q.enqueue(t("normal", 49));
  assert.equal(q.outranks(current), true);
  assert.equal(q.outranks(t("high", 254)), false, "a higher class is not outranked by normal");
});

Deno.test("run queue: every one of the 1020 ranks is ordered, and bad threads are refused", () => {
  const q = createRunQueue();
  const all: Schedulable[] = [];
  for (const c of ["idle", "normal", "high", "realtime"] as SchedClass[]) {
    for (let p = 254; p >= 0; p--) all.push(t(c, p));
  }
  all.forEach((x) => q.enqueue(x));
  const out = drain(q);
  assert.deepEqual(out, [...all].sort((x, y) => rankOf(x) - rankOf(y)).map((x) => x.tid));
  const twice = t("normal", 0);
  q.enqueue(twice);
  assert.throws(() => q.enqueue(twice), /already queued/);
  assert.throws(() => q.enqueue(t("normal", 255)), /not a level from 0 to 254/);
  assert.throws(() => q.enqueue(t("turbo" as SchedClass, 0)), /not a scheduling class/);
});
