/**
 * `deno task bench`: measures the emulator (and, as they arrive, the kernel, the lessons
 * and the site), prints each figure beside the previous run's, and with `--json` prints
 * one JSON object of all figures, nested by their dotted names
 * (`{"riscv64": {"alu_mips": 312.4, ...}}`).
 *
 * Speed is measured here, never asserted in tests. The previous run is kept in
 * `.cache/bench/last.json` (not committed: figures belong to a machine).
 *
 * Each figure is measured in a fresh Deno process: the JIT's state after one benchmark
 * (its type feedback, its optimised code) measurably skews the next (the Sv48 load/store
 * loop ran 10% slower after the ALU loop in the same process).
 *
 * ```
 * deno task bench [--json] [--only PREFIX]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import * as riscv64 from "../emulator/riscv64/bench.ts";
import * as x86_64 from "../emulator/x86_64/bench.ts";
import * as riscvKernel from "../arch/riscv64/bench.ts";
import * as x86Kernel from "../arch/x86_64/bench.ts";
import { measureQemuMips } from "./exec/bench.ts";
import { RISCV_ALU_LOOP, riscvAluElf } from "./exec/riscv64_bench.ts";
import { X86_ALU_LOOP, x86AluElf } from "./exec/x86_64_bench.ts";
import { measureBuildSeconds } from "../site/bench.ts";
import { lessonSeconds } from "../lessons/harness/bench.ts";
import { LESSONS_ROOT, listLessons } from "../lessons/harness/catalog.ts";

/** One figure: a dotted name, its unit, which direction is better, how to measure it. */
export interface Figure {
  /** Dotted name, e.g. `riscv64.alu_mips`. */
  name: string;
  /** Unit for the table. */
  unit: string;
  /** Whether a larger value is an improvement. */
  higherIsBetter: boolean;
  /** Measures it; undefined when it cannot be measured here (a tool is missing). */
  measure: () => Promise<number | undefined> | number | undefined;
}

/** Every figure, in the order they are printed. */
export const FIGURES: Figure[] = [
  mips("riscv64.alu_mips", () => riscv64.measureAluMips()),
  mips("riscv64.mem_mips", () => riscv64.measureMemMips()),
  mips("riscv64.qemu_alu_mips", () => measureQemuMips(riscvAluElf, RISCV_ALU_LOOP, "qemu-riscv64")),
  mips("x86_64.alu_mips", () => x86_64.measureAluMips()),
  mips("x86_64.mem_mips", () => x86_64.measureMemMips()),
  mips("x86_64.qemu_alu_mips", () => measureQemuMips(x86AluElf, X86_ALU_LOOP, "qemu-x86_64")),
  ...kernelFigures("riscv64", riscvKernel),
  ...kernelFigures("x86_64", x86Kernel),
  // One lesson's graded suite on both architectures, against the reference.
  ...listLessons(LESSONS_ROOT).map((l): Figure => ({
    name: `lessons.${l.dir.slice(0, 2)}.seconds`,
    unit: "s",
    higherIsBetter: false,
    measure: () => lessonSeconds(l.number),
  })),
  { name: "site.build_seconds", unit: "s", higherIsBetter: false, measure: measureBuildSeconds },
];

/** What each architecture's kernel port measures (arch/<arch>/bench.ts). */
interface KernelBench {
  nullSyscallNs(kind: "machine" | "typescript"): number;
  contextSwitchNs(kind: "machine" | "typescript"): number;
  bootMs(): number;
}

/** The kernel's figures for one architecture (DESIGN: kernel.<arch>.*, boot.<arch>.ms). */
function kernelFigures(arch: string, bench: KernelBench): Figure[] {
  return [
    ns(`kernel.${arch}.null_syscall_ns.machine_code`, () => bench.nullSyscallNs("machine")),
    ns(`kernel.${arch}.null_syscall_ns.typescript`, () => bench.nullSyscallNs("typescript")),
    ns(`kernel.${arch}.context_switch_ns.machine_code`, () => bench.contextSwitchNs("machine")),
    ns(`kernel.${arch}.context_switch_ns.typescript`, () => bench.contextSwitchNs("typescript")),
    { name: `boot.${arch}.ms`, unit: "ms", higherIsBetter: false, measure: () => bench.bootMs() },
  ];
}

/** A cost in nanoseconds of wall time per operation. */
function ns(name: string, measure: Figure["measure"]): Figure {
  return { name, unit: "ns", higherIsBetter: false, measure };
}

/** A speed figure in millions of instructions per second. */
function mips(name: string, measure: Figure["measure"]): Figure {
  return { name, unit: "MIPS", higherIsBetter: true, measure };
}

/** Nests dotted names: {"a.b": 1} -> {a: {b: 1}}. */
export function nest(flat: Record<string, number>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(flat)) {
    const parts = name.split(".");
    let node = out as Record<string, unknown>;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]] = value;
  }
  return out;
}

/** Flattens what `nest` made. */
export function flatten(tree: unknown, prefix = ""): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof tree === "number") out[prefix] = tree;
  else if (tree && typeof tree === "object") {
    for (const [k, v] of Object.entries(tree)) {
      Object.assign(out, flatten(v, prefix ? `${prefix}.${k}` : k));
    }
  }
  return out;
}

/** One table row: the figure, now, before, and the change, marked better or worse. */
export function formatRow(f: Figure, now: number | undefined, before: number | undefined): string {
  const value = now === undefined ? "n/a (tool missing)" : `${round(now)} ${f.unit}`;
  let change = "";
  if (now !== undefined && before !== undefined && before !== 0) {
    const pct = ((now - before) / before) * 100;
    const better = f.higherIsBetter ? pct > 0 : pct < 0;
    change = `  (was ${round(before)}, ${pct >= 0 ? "+" : ""}${pct.toFixed(1)}%${
      Math.abs(pct) >= 5 ? (better ? ", better" : ", worse") : ""
    })`;
  }
  return `${f.name.padEnd(46)} ${value}${change}`;
}

function round(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toPrecision(3);
}

const LAST = ".cache/bench/last.json";

/** Measures one figure in a fresh process running this file with `--measure NAME`. */
async function measureIsolated(f: Figure): Promise<number | undefined> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", import.meta.filename!, "--measure", f.name],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`measuring ${f.name} failed (status ${out.code})`);
  const text = new TextDecoder().decode(out.stdout).trim();
  return text === "undefined" ? undefined : Number(text);
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: "boolean", default: false },
      only: { type: "string", default: "" },
      measure: { type: "string" },
    },
  });
  if (values.measure !== undefined) {
    const f = FIGURES.find((f) => f.name === values.measure);
    if (!f) throw new Error(`no figure named ${values.measure}`);
    console.log(String(await f.measure()));
    return 0;
  }
  let previous: Record<string, number> = {};
  try {
    previous = flatten(JSON.parse(await Deno.readTextFile(LAST)));
  } catch { /* first run */ }
  const results: Record<string, number> = {};
  for (const f of FIGURES.filter((f) => f.name.startsWith(values.only))) {
    const v = await measureIsolated(f);
    if (v !== undefined) results[f.name] = v;
    if (!values.json) console.log(formatRow(f, v, previous[f.name]));
  }
  await Deno.mkdir(".cache/bench", { recursive: true });
  await Deno.writeTextFile(LAST, JSON.stringify(nest({ ...previous, ...results }), null, 2));
  if (values.json) console.log(JSON.stringify(nest(results)));
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
