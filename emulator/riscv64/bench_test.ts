import assert from "node:assert/strict";
import { measureAluMips, measureMemMips } from "./bench.ts";

// The benchmarks' figures are for `deno task bench`; here they only have to run their
// loops to the end (a trap or a fault in a loop would throw) with a clock that ticks.
Deno.test("bench: both loops run without trapping and report a speed", () => {
  let t = 0;
  const clock = () => (t += 1); // 1 ms per reading: a deterministic, positive figure
  assert.ok(measureAluMips(100_000, clock) > 0);
  assert.ok(measureMemMips(100_000, clock) > 0);
});
