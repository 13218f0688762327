/**
 * `deno task grade`: grades every lesson (both architectures, every case) and writes the
 * results in the shape Gradescope's autograder reads (`results.json`; see
 * lessons/harness/gradescope.ts), so an instructor can plug the course into the tools they
 * already use.
 *
 * ```
 * deno task grade [--solution] [--out FILE] [--seed N]
 * ```
 *
 * A Gradescope `run_autograder` copies the submission's `exercise/` folders into the
 * repository and runs `deno task grade --out /autograder/results/results.json`. The exit
 * status is 0 when the file was written, whatever the score.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { LESSONS_ROOT, listLessons } from "../lessons/harness/catalog.ts";
import { gradescopeResults } from "../lessons/harness/gradescope.ts";
import type { LessonReport } from "../lessons/harness/report.ts";
import { gradeInSandbox } from "../lessons/harness/sandbox.ts";

const USAGE = `usage: deno task grade [options]

  --solution     grade the reference solutions instead of the exercises
  --out FILE     where to write results.json                    [results.json]
  --seed N       the seed                                       [1]
  --help         this text`;

/** Where the command reads and writes. */
export interface GradeEnv {
  /** The lessons folder. */
  root: string;
  /** The safety net per case, in ms (default: the harness's). */
  timeoutMs?: number;
}

/** Runs the command; returns the exit status. */
export async function gradeCommand(
  args: string[],
  io: { out(s: string): void; err(s: string): void },
  env: GradeEnv,
): Promise<number> {
  let v;
  try {
    v = parseArgs({
      args,
      options: {
        solution: { type: "boolean", default: false },
        out: { type: "string", default: "results.json" },
        seed: { type: "string", default: "1" },
        help: { type: "boolean", default: false },
      },
    }).values;
  } catch (e) {
    io.err(`${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (v.help) {
    io.out(USAGE + "\n");
    return 0;
  }
  const seed = Number(v.seed);
  if (!Number.isSafeInteger(seed)) {
    io.err(`--seed ${v.seed}: give an integer\n`);
    return 2;
  }
  const lessons = listLessons(env.root);
  if (lessons.length === 0) {
    io.err(`grade: no lessons under ${env.root}\n`);
    return 1;
  }
  const start = performance.now();
  const reports: LessonReport[] = [];
  for (const lesson of lessons) {
    const report = await gradeInSandbox(lesson, {
      which: v.solution ? "reference" : "exercise",
      seed,
      arches: ["x86_64", "riscv64"],
      ...(env.timeoutMs ? { timeoutMs: env.timeoutMs } : {}),
    });
    reports.push(report);
    io.out(
      `${lesson.dir}: ${report.score}/${report.maxScore}${report.passed ? " (passed)" : ""}\n`,
    );
  }
  const results = gradescopeResults(reports, (performance.now() - start) / 1000);
  Deno.writeTextFileSync(v.out, JSON.stringify(results, null, 2) + "\n");
  const max = reports.reduce((n, r) => n + r.maxScore, 0);
  io.out(`total: ${results.score}/${max}; wrote ${v.out}\n`);
  return 0;
}

if (import.meta.main) {
  const enc = new TextEncoder();
  Deno.exit(
    await gradeCommand(Deno.args, {
      out: (s) => Deno.stdout.writeSync(enc.encode(s)),
      err: (s) => Deno.stderr.writeSync(enc.encode(s)),
    }, { root: LESSONS_ROOT }),
  );
}
