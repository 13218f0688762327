import assert from "node:assert/strict";
import { FIGURES, flatten, formatRow, nest } from "./bench.ts";
import { execElf } from "./exec/exec.ts";
import { RISCV_ALU_LOOP, riscvAluElf } from "./exec/riscv64_bench.ts";

Deno.test("bench: figures nest by their dotted names and flatten back", () => {
  const flat = { "riscv64.alu_mips": 300, "riscv64.mem_mips": 200, "kernel.x86_64.ns": 5 };
  assert.deepEqual(nest(flat), {
    riscv64: { alu_mips: 300, mem_mips: 200 },
    kernel: { x86_64: { ns: 5 } },
  });
  assert.deepEqual(flatten(nest(flat)), flat);
});

Deno.test("bench: a row shows the change against the previous run, and its direction", () => {
  const mips = FIGURES.find((f) => f.name === "riscv64.alu_mips")!;
  assert.match(formatRow(mips, 330, 300), /330 MIPS +\(was 300, \+10\.0%, better\)/);
  assert.match(formatRow(mips, 270, 300), /-10\.0%, worse/);
  assert.match(formatRow(mips, 301, 300), /\+0\.3%\)$/, "small changes are not judged");
  assert.match(formatRow(mips, undefined, 300), /n\/a \(tool missing\)/);
  const ns = { ...mips, unit: "ns", higherIsBetter: false };
  assert.match(formatRow(ns, 90, 100), /better/);
});

Deno.test("bench: the loop QEMU is timed on runs to completion on our exec layer", () => {
  const run = (n: number) => execElf(riscvAluElf(n), { args: [], output: () => {} });
  const a = run(1000), b = run(2000);
  assert.equal(a.how, "exit");
  assert.equal(a.status, 0);
  // The MIPS figure assumes RISCV_ALU_LOOP (11) instructions an iteration.
  assert.equal(b.instret - a.instret, RISCV_ALU_LOOP * 1000);
});

Deno.test("bench: every lesson with a lesson.ts has its lessons.NN.seconds figure", () => {
  const names = FIGURES.map((f) => f.name).filter((n) => n.startsWith("lessons."));
  const folders = [...Deno.readDirSync(new URL("../lessons", import.meta.url))]
    .filter((e) => e.isDirectory && /^\d\d-/.test(e.name))
    .filter((e) => {
      try {
        return Deno.statSync(new URL(`../lessons/${e.name}/lesson.ts`, import.meta.url)).isFile;
      } catch {
        return false;
      }
    })
    .map((e) => `lessons.${e.name.slice(0, 2)}.seconds`)
    .sort();
  assert.ok(folders.length >= 2);
  assert.deepEqual(names.sort(), folders);
});
