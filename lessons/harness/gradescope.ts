/**
 * Grading runs in the shape of Gradescope's `results.json` (the "Autograder
 * Specifications" page of Gradescope's autograder documentation, "Output format"): a
 * top-level `score`, and `tests`, each with `name`, `number`, `score`, `max_score`,
 * `status` ("passed" or "failed"), `output` and `visibility`. An instructor's
 * `run_autograder` runs `deno task grade --out /autograder/results/results.json`.
 *
 * One test per case and architecture, so the rubric shows exactly what failed where.
 *
 * Portable: no Deno or Node API.
 *
 * @module
 */

import { chapterLink, formatReport, type LessonReport, replayCommand } from "./report.ts";

/** One test in results.json. */
export interface GradescopeTest {
  /** `01 init programs the divisor latch [riscv64]`. */
  name: string;
  /** `1.3`: lesson, then case, as Gradescope sorts them. */
  number: string;
  /** Points earned. */
  score: number;
  /** Points possible. */
  max_score: number;
  /** "passed" or "failed". */
  status: "passed" | "failed";
  /** What failed and where to read about it; empty when it passed. */
  output: string;
  /** Always "visible": students see every case, as they do with `deno task lesson`. */
  visibility: "visible";
}

/** The whole file. */
export interface GradescopeResults {
  /** The total score. */
  score: number;
  /** Seconds the grading took. */
  execution_time: number;
  /** One line per lesson. */
  output: string;
  /** Visible to students. */
  visibility: "visible";
  /** The autograder's stdout is shown to students too. */
  stdout_visibility: "visible";
  /** The tests. */
  tests: GradescopeTest[];
}

/** results.json for `reports`, graded in `seconds`. */
export function gradescopeResults(
  reports: readonly LessonReport[],
  seconds: number,
): GradescopeResults {
  const tests: GradescopeTest[] = [];
  for (const report of reports) {
    const nn = String(report.number).padStart(2, "0");
    if (report.loadError) {
      tests.push({
        name: `${nn} the lesson loads`,
        number: `${report.number}.0`,
        score: 0,
        max_score: report.maxScore,
        status: "failed",
        output: formatReport(report),
        visibility: "visible",
      });
      continue;
    }
    for (const r of report.results) {
      const index = report.cases.findIndex((c) => c.name === r.name);
      const c = report.cases[index];
      const f = r.failure;
      const output = f
        ? [
          f.message,
          f.at && `at: ${f.at}`,
          f.expected !== undefined && `expected: ${f.expected}`,
          f.saw !== undefined && `saw: ${f.saw}`,
          ...(f.hardware ?? []),
          `replay: ${replayCommand(report, r.name, r.arch)}`,
          `read: ${chapterLink(report, c.anchor)}`,
        ].filter(Boolean).join("\n")
        : "";
      tests.push({
        name: `${nn} ${r.name} [${r.arch}]`,
        number: `${report.number}.${index + 1}`,
        score: r.score,
        max_score: r.points,
        status: r.passed ? "passed" : "failed",
        output,
        visibility: "visible",
      });
    }
  }
  return {
    score: reports.reduce((n, r) => n + r.score, 0),
    execution_time: Math.round(seconds),
    output: reports.map((r) =>
      `Lesson ${String(r.number).padStart(2, "0")} (${r.title}): ${r.score}/${r.maxScore}`
    ).join("\n"),
    visibility: "visible",
    stdout_visibility: "visible",
    tests,
  };
}
