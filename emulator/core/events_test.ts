import assert from "node:assert/strict";
import { EventQueue } from "./events.ts";

Deno.test("events: fire in time order, ties in scheduling order", () => {
  const q = new EventQueue();
  const log: string[] = [];
  q.schedule(30, () => log.push("c"));
  q.schedule(10, () => log.push("a1"));
  q.schedule(20, () => log.push("b"));
  q.schedule(10, () => log.push("a2"));
  assert.equal(q.nextTime(), 10);
  assert.equal(q.runDue(20), 3);
  assert.deepEqual(log, ["a1", "a2", "b"]);
  assert.equal(q.nextTime(), 30);
});

Deno.test("events: cancelled events never fire", () => {
  const q = new EventQueue();
  const log: number[] = [];
  const e = q.schedule(5, () => log.push(5));
  q.schedule(7, () => log.push(7));
  q.cancel(e);
  assert.equal(q.nextTime(), 7);
  q.runDue(100);
  assert.deepEqual(log, [7]);
  assert.equal(q.nextTime(), Infinity);
});

Deno.test("events: an event may schedule another that is already due", () => {
  const q = new EventQueue();
  const log: number[] = [];
  q.schedule(1, () => {
    log.push(1);
    q.schedule(2, () => log.push(2));
  });
  q.runDue(3);
  assert.deepEqual(log, [1, 2]);
});

Deno.test("events: a non-finite time is refused", () => {
  assert.throws(() => new EventQueue().schedule(NaN, () => {}), /not a finite time/);
});

Deno.test("events: a timer moved far ahead again and again does not grow the queue", () => {
  const q = new EventQueue();
  let ev = q.schedule(1_000_000, () => {});
  for (let i = 0; i < 10_000; i++) {
    q.cancel(ev);
    ev = q.schedule(1_000_000 + i, () => {});
  }
  assert.ok(q.size < 200, `queue holds ${q.size} entries for one live event`);
  let fired = 0;
  q.schedule(5, () => fired++);
  q.runDue(2_000_000);
  assert.equal(fired, 1);
  assert.equal(q.nextTime(), Infinity);
});
