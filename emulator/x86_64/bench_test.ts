/**
 * The benchmark loops run exactly the instructions they claim (bench.ts checks the count
 * and the final int3), so the figures `deno task bench` prints measure what they say.
 * Speed itself is never asserted in tests.
 */

import assert from "node:assert/strict";
import { measureAluMips, measureMemMips } from "./bench.ts";

Deno.test("bench: the ALU and memory loops run exactly their iterations", () => {
  assert.ok(measureAluMips(20_000) > 0);
  assert.ok(measureMemMips(20_000) > 0);
});
