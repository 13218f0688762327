import assert from "node:assert/strict";
import { Prng } from "./prng.ts";

Deno.test("prng: the same seed gives the same sequence", () => {
  const a = new Prng(42), b = new Prng(42);
  const xs = Array.from({ length: 100 }, () => a.nextU32());
  const ys = Array.from({ length: 100 }, () => b.nextU32());
  assert.deepEqual(xs, ys);
});

Deno.test("prng: different seeds give different sequences, seed 0 included", () => {
  const a = new Prng(0), b = new Prng(1);
  const xs = Array.from({ length: 8 }, () => a.nextU32());
  const ys = Array.from({ length: 8 }, () => b.nextU32());
  assert.notDeepEqual(xs, ys);
  assert.notDeepEqual(xs, new Array(8).fill(0));
});

Deno.test("prng: range stays inside its bounds and reaches both ends", () => {
  const p = new Prng(7);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const v = p.range(3, 9);
    assert.ok(v >= 3 && v <= 9 && Number.isInteger(v), `out of range: ${v}`);
    seen.add(v);
  }
  assert.deepEqual([...seen].sort(), [3, 4, 5, 6, 7, 8, 9]);
  assert.equal(p.range(5, 5), 5);
});
