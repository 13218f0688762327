import assert from "node:assert/strict";
import * as riscv64 from "../riscv64/bench.ts";
import * as x86_64 from "../x86_64/bench.ts";
import { bootSystem } from "../riscv64/boot.ts";
import { kernelBench } from "./bench.ts";

// Speed is measured by `deno task bench`, never asserted: these only check that each port's
// benchmarks run their programs to a clean end and report a figure.

for (const [arch, bench] of [["riscv64", riscv64], ["x86_64", x86_64]] as const) {
  Deno.test(`${arch}: bench: the kernel benchmarks run and report figures`, () => {
    let t = 0;
    const clock = () => (t += 1); // every reading one "ms" later: a figure of the right shape
    for (const kind of ["machine", "typescript"] as const) {
      assert.ok(Number.isFinite(bench.nullSyscallNs(kind, clock, 50, 1)));
      assert.ok(Number.isFinite(bench.contextSwitchNs(kind, clock, 50, 1)));
    }
    assert.ok(bench.bootMs(clock, 1) > 0);
  });
}

Deno.test("bench: a run that does not end as the port's clean power-off is an error, not a figure", () => {
  // The machine powers off with code 0, which this port does not call a clean power-off.
  const failing = kernelBench({
    boot: bootSystem,
    syscallLoop: () => "li a0, 0\n li a7, 2\n ecall",
    successCode: 99,
  });
  assert.throws(() => failing.nullSyscallNs("machine", () => 0, 5, 1), /benchmark run ended with/);
});
