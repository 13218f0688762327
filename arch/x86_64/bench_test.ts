import assert from "node:assert/strict";
import { bootMs, contextSwitchNs, nullSyscallNs } from "./bench.ts";

// Speed is measured by `deno task bench`, never asserted: these only check that the
// benchmarks run their programs to a clean end and report a figure.

Deno.test("x86 bench: the kernel benchmarks run and report figures", () => {
  let t = 0;
  const clock = () => (t += 1); // every reading one "ms" later: a figure of the right shape
  for (const kind of ["machine", "typescript"] as const) {
    assert.ok(Number.isFinite(nullSyscallNs(kind, clock, 50, 1)));
    assert.ok(Number.isFinite(contextSwitchNs(kind, clock, 50, 1)));
  }
  assert.ok(bootMs(clock, 1) > 0);
});
