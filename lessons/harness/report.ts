/**
 * A lesson's grading run as a record ({@link LessonReport}: what `--json` writes and the
 * status cache keeps) and as the text a student reads: each case with ✓ or ✗ per
 * architecture and its points, then each failure with what was expected, what the hardware
 * showed, the command that replays it and the chapter's section that explains it, then
 * `Score: X/Y`.
 *
 * Portable: no Deno or Node API.
 *
 * @module
 */

import { ARCHES, type ArchName, type Which } from "./define.ts";
import type { Failure } from "./failure.ts";
import type { CaseResult } from "./run.ts";

/** A case as the report lays it out. */
export interface ReportCase {
  /** Its name. */
  name: string;
  /** Its chapter anchor. */
  anchor: string;
  /** Points per architecture. */
  points: number;
  /** The architectures it ran on in this run. */
  arches: ArchName[];
}

/** One grading run of one lesson. */
export interface LessonReport {
  /** The lesson's number. */
  number: number;
  /** Its folder name: `01-boot-serial`. */
  dir: string;
  /** Its title. */
  title: string;
  /** What was graded. */
  which: Which;
  /** The seed. */
  seed: number;
  /** The architectures graded. */
  arches: ArchName[];
  /** The case filter (`--case`), if any. */
  only?: string;
  /** The cases, in order. */
  cases: ReportCase[];
  /** Every result, one per case and architecture. */
  results: CaseResult[];
  /** When the lesson itself could not be loaded (the exercise does not import). */
  loadError?: Failure;
  /** Points earned. */
  score: number;
  /** Points possible. */
  maxScore: number;
  /** Every case passed (and there was at least one). */
  passed: boolean;
}

/** Adds up `results` into the report's totals. */
export function totals(results: readonly CaseResult[], loadError?: Failure) {
  const score = results.reduce((n, r) => n + r.score, 0);
  const maxScore = results.reduce((n, r) => n + r.points, 0);
  const passed = !loadError && results.length > 0 && results.every((r) => r.passed);
  return { score, maxScore, passed };
}

/** The command that replays one failure. */
export function replayCommand(report: LessonReport, name: string, arch: ArchName): string {
  const nn = String(report.number).padStart(2, "0");
  const solution = report.which === "reference" ? " --solution" : "";
  return `deno task lesson ${nn}${solution} --arch ${arch} --seed ${report.seed} ` +
    `--case ${JSON.stringify(name)}`;
}

/** The chapter link for an anchor. */
export function chapterLink(report: LessonReport, anchor: string): string {
  return `lessons/${report.dir}/README.md#${anchor}`;
}

/** How to print: `verbose` adds each case's notes and machine reports. */
export interface FormatOptions {
  /** Show notes and machine messages for every case. */
  verbose?: boolean;
}

const PASS = "✓", FAIL = "✗", NOT_RUN = "·";

/** The report as text. */
export function formatReport(report: LessonReport, options: FormatOptions = {}): string {
  const nn = String(report.number).padStart(2, "0");
  const whose = report.which === "reference" ? "the reference solution" : "your exercise";
  const lines = [`Lesson ${nn}: ${report.title} (${whose}, seed ${report.seed})`, ""];
  if (report.loadError) {
    lines.push(`${FAIL} the lesson could not load: ${report.loadError.message}`);
    if (report.loadError.at) lines.push(`    at:       ${report.loadError.at}`);
    lines.push("", `Score: ${report.score}/${report.maxScore}`);
    return lines.join("\n") + "\n";
  }
  const arches = ARCHES.filter((a) => report.arches.includes(a));
  const byCase = new Map<string, Map<ArchName, CaseResult>>();
  for (const r of report.results) {
    if (!byCase.has(r.name)) byCase.set(r.name, new Map());
    byCase.get(r.name)!.set(r.arch, r);
  }
  const width = Math.max(
    "points".length,
    ...report.cases.map((c) => `${c.points * c.arches.length}`.length * 2 + 1),
  );
  lines.push(`  ${arches.map((a) => a.padEnd(8)).join("")}${"points".padEnd(width + 2)}case`);
  for (const c of report.cases) {
    const rs = byCase.get(c.name);
    const marks = arches.map((a) => {
      const r = rs?.get(a);
      return (r ? (r.passed ? PASS : FAIL) : NOT_RUN).padEnd(8);
    }).join("");
    const got = [...(rs?.values() ?? [])].reduce((n, r) => n + r.score, 0);
    const max = [...(rs?.values() ?? [])].reduce((n, r) => n + r.points, 0);
    lines.push(`  ${marks}${`${got}/${max}`.padEnd(width + 2)}${c.name}`);
    if (options.verbose) {
      for (const r of rs?.values() ?? []) {
        for (const n of r.notes) lines.push(`      ${r.arch}: ${n}`);
        if (r.ops) lines.push(`      ${r.arch}: ${r.ops} operations`);
      }
    }
  }
  const failures = report.results.filter((r) => !r.passed);
  if (failures.length) {
    lines.push("", "Failures", "");
    for (const c of report.cases) {
      const failed = arches.map((a) => byCase.get(c.name)?.get(a)).filter((r): r is CaseResult =>
        r !== undefined && !r.passed
      );
      if (!failed.length) continue;
      // The same failure on both architectures is told once.
      const groups: CaseResult[][] = [];
      for (const r of failed) {
        const same = groups.find((g) => sameFailure(g[0].failure, r.failure));
        if (same) same.push(r);
        else groups.push([r]);
      }
      for (const g of groups) lines.push(...formatFailure(report, c, g, options));
    }
  }
  lines.push(`Score: ${report.score}/${report.maxScore}${report.passed ? " (passed)" : ""}`);
  return lines.join("\n") + "\n";
}

function sameFailure(a: Failure | undefined, b: Failure | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function formatFailure(
  report: LessonReport,
  c: ReportCase,
  group: CaseResult[],
  options: FormatOptions,
): string[] {
  const f = group[0].failure!;
  const arches = group.map((r) => r.arch);
  const out = [`${FAIL} ${c.name} (${arches.join(" and ")})`];
  const field = (label: string, text: string) => {
    const [first, ...rest] = text.split("\n");
    out.push(`    ${label.padEnd(10)}${first}`);
    for (const l of rest) out.push(`    ${"".padEnd(10)}${l}`);
  };
  out.push(...indent(f.message, 4));
  if (f.at) field("at:", f.at);
  if (f.expected !== undefined) field("expected:", f.expected);
  if (f.saw !== undefined) field("saw:", f.saw);
  for (const h of f.hardware ?? []) out.push(`    ${"".padEnd(10)}${h}`);
  const messages = options.verbose ? group[0].messages : group[0].messages.slice(-3);
  for (const m of messages) field("machine:", m);
  for (const a of arches) field("replay:", replayCommand(report, c.name, a));
  field("read:", chapterLink(report, c.anchor));
  out.push("");
  return out;
}

function indent(text: string, n: number): string[] {
  return text.split("\n").map((l) => " ".repeat(n) + l);
}
