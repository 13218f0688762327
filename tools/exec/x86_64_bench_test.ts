/**
 * The benchmark programs are what the figures say they are: they run under the exec layer
 * to a clean exit, and the instructions they retire are the loop's length times the count
 * (plus a fixed set-up and exit), so MIPS computed from the count is right. Speed itself is
 * measured by `deno task bench`, never asserted here.
 */
import assert from "node:assert/strict";
import { execElf } from "./exec.ts";
import {
  X86_ALU_LOOP,
  X86_BENCH_OVERHEAD,
  X86_MEM_LOOP,
  x86AluElf,
  x86MemElf,
} from "./x86_64_bench.ts";

for (
  const [name, program, length] of [
    ["ALU", x86AluElf, X86_ALU_LOOP],
    ["memory", x86MemElf, X86_MEM_LOOP],
  ] as const
) {
  Deno.test(`x86-64 bench: the ${name} loop retires ${length} instructions an iteration`, () => {
    const count = (n: number) => {
      const r = execElf(program(n), { args: ["bench"], output: () => {}, limitNs: 1e8 });
      assert.equal(r.how, "exit", r.message);
      assert.equal(r.status, 0);
      return r.instret;
    };
    const small = count(1000), large = count(3000);
    assert.equal(large - small, 2000 * length);
    assert.ok(small - 1000 * length > 0 && small - 1000 * length <= X86_BENCH_OVERHEAD);
  });
}
