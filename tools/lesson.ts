/**
 * `deno task lesson`: lists the lessons with their status, or grades one.
 *
 * ```
 * deno task lesson                    the lessons: not started, X of Y points, or passed
 * deno task lesson NN [options]       grades lesson NN against your exercise
 *
 *   --solution           grade the reference solution instead
 *   --arch A             x86_64, riscv64 or both                       [both]
 *   --seed N             the seed of every random choice               [1]
 *   --case TEXT          only the cases whose name contains TEXT
 *   --watch              grade again on every save in the exercise folder
 *   --json FILE          also write the results as JSON
 *   --verbose            show what each case checked, passed or not
 *   --no-check           skip the type check of the exercise
 * ```
 *
 * The exit status is 0 only when every case passed. A full grading of the exercise (both
 * architectures, every case) is cached in `.cache/lessons/` with a hash of the exercise's
 * files, for the listing and for `deno task boot --mine`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  DEFAULT_CACHE_DIR,
  describeStatus,
  exerciseHash,
  lessonStatus,
  saveGrade,
} from "../lessons/harness/cache.ts";
import {
  findLesson,
  type LessonEntry,
  LESSONS_ROOT,
  listLessons,
} from "../lessons/harness/catalog.ts";
import type { ArchName } from "../lessons/harness/define.ts";
import { formatReport, type LessonReport } from "../lessons/harness/report.ts";
import { gradeInSandbox } from "../lessons/harness/sandbox.ts";

const USAGE = `usage: deno task lesson [NN] [options]

  (no NN)          list the lessons and your status in each
  NN               grade lesson NN against your exercise

  --solution       grade the reference solution instead
  --arch ARCH      x86_64, riscv64 or both                          [both]
  --seed N         the seed of every random choice                  [1]
  --case TEXT      only the cases whose name contains TEXT
  --watch          grade again on every save in the exercise folder
  --json FILE      also write the results as JSON
  --verbose        show what each case checked, passed or not
  --no-check       skip the type check of the exercise
  --help           this text`;

/** Where the command reads and writes, so tests can point it at a fake lesson. */
export interface LessonEnv {
  /** The lessons folder. */
  root: string;
  /** The status cache folder. */
  cacheDir: string;
  /** The safety net for a case that never answers, in ms (default: the harness's, 60 s). */
  timeoutMs?: number;
  /** Stops `--watch`. */
  signal?: AbortSignal;
}

/** Output channels. */
export interface LessonIo {
  /** Standard output. */
  out(text: string): void;
  /** Standard error. */
  err(text: string): void;
}

/** The parsed command line. */
export interface LessonArgs {
  /** The lesson asked for, if any. */
  lesson?: string;
  /** Grade the reference. */
  solution: boolean;
  /** Architectures. */
  arches: ArchName[];
  /** The seed. */
  seed: number;
  /** Case filter. */
  only?: string;
  /** Re-grade on save. */
  watch: boolean;
  /** JSON output file. */
  json?: string;
  /** Verbose report. */
  verbose: boolean;
  /** Type-check first. */
  check: boolean;
}

/** Parses the command line; a string is an error message (or the usage). */
export function parseLessonArgs(args: string[]): LessonArgs | string {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        solution: { type: "boolean", default: false },
        arch: { type: "string", default: "both" },
        seed: { type: "string", default: "1" },
        case: { type: "string" },
        watch: { type: "boolean", default: false },
        json: { type: "string" },
        verbose: { type: "boolean", default: false },
        "no-check": { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    });
  } catch (e) {
    return `${(e as Error).message}\n\n${USAGE}`;
  }
  const v = parsed.values;
  if (v.help) return USAGE;
  if (parsed.positionals.length > 1) return `give one lesson number\n\n${USAGE}`;
  const arch = v.arch;
  if (arch !== "both" && arch !== "x86_64" && arch !== "riscv64") {
    return `--arch ${arch}: choose x86_64, riscv64 or both`;
  }
  const seed = Number(v.seed);
  if (!Number.isSafeInteger(seed)) return `--seed ${v.seed}: give an integer`;
  return {
    lesson: parsed.positionals[0],
    solution: v.solution,
    arches: arch === "both" ? ["x86_64", "riscv64"] : [arch],
    seed,
    only: v.case,
    watch: v.watch,
    json: v.json,
    verbose: v.verbose,
    check: !v["no-check"],
  };
}

/** Runs the command; returns the exit status. */
export async function lessonCommand(args: string[], io: LessonIo, env: LessonEnv): Promise<number> {
  const a = parseLessonArgs(args);
  if (typeof a === "string") {
    (a === USAGE ? io.out : io.err)(a + "\n");
    return a === USAGE ? 0 : 2;
  }
  if (a.lesson === undefined) return await list(io, env);
  const lesson = findLesson(env.root, a.lesson);
  if (!lesson) {
    const have = listLessons(env.root).map((l) => l.dir).join(", ") || "none";
    io.err(`lesson: there is no lesson ${a.lesson} (the lessons: ${have})\n`);
    return 2;
  }
  let status = await gradeOnce(lesson, a, io, env);
  if (!a.watch) return status;
  for await (const changed of changes(`${lesson.path}/exercise`, env.signal)) {
    io.out(`\n--- ${changed} changed: grading again ---\n\n`);
    status = await gradeOnce(lesson, a, io, env);
  }
  return status;
}

/** The listing: every lesson and its status. */
async function list(io: LessonIo, env: LessonEnv): Promise<number> {
  const lessons = listLessons(env.root);
  if (lessons.length === 0) {
    io.err(`lesson: no lessons under ${env.root}\n`);
    return 1;
  }
  io.out("Lessons (deno task lesson NN grades one):\n\n");
  const width = Math.max(...lessons.map((l) => l.title.length));
  for (const l of lessons) {
    const s = describeStatus(await lessonStatus(env.cacheDir, l));
    io.out(`  ${l.dir.slice(0, 2)}  ${l.title.padEnd(width)}  ${s}\n`);
  }
  return 0;
}

/** Type-checks the lesson (and so the exercise against its interface); errors, or undefined. */
export async function typeCheck(lesson: LessonEntry): Promise<string | undefined> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--quiet", `${lesson.path}/lesson.ts`],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.success) return undefined;
  const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  return text.trim();
}

/** Grades once: type check, run, report, cache, JSON. */
async function gradeOnce(
  lesson: LessonEntry,
  a: LessonArgs,
  io: LessonIo,
  env: LessonEnv,
): Promise<number> {
  if (a.check && !a.solution) {
    const errors = await typeCheck(lesson);
    if (errors) {
      io.out(
        `Lesson ${lesson.dir.slice(0, 2)}: your exercise does not type-check, so it cannot fit ` +
          `its interface yet. Fix these first (or run with --no-check):\n\n${errors}\n`,
      );
      return 1;
    }
  }
  const hash = await exerciseHash(lesson);
  const report: LessonReport = await gradeInSandbox(lesson, {
    which: a.solution ? "reference" : "exercise",
    seed: a.seed,
    arches: a.arches,
    ...(a.only ? { only: a.only } : {}),
    ...(env.timeoutMs ? { timeoutMs: env.timeoutMs } : {}),
    onOutput: (line) => io.err(`exercise: ${line}\n`),
  });
  io.out(formatReport(report, { verbose: a.verbose }));
  saveGrade(env.cacheDir, lesson, report, hash);
  if (a.json) Deno.writeTextFileSync(a.json, JSON.stringify(report, null, 2) + "\n");
  return report.passed ? 0 : 1;
}

/**
 * Yields the name of a changed file under `dir` after each burst of changes (editors write
 * a file in several steps: one grading per save), until `signal` aborts.
 */
export async function* changes(dir: string, signal?: AbortSignal): AsyncGenerator<string> {
  const watcher = Deno.watchFs(dir, { recursive: true });
  const stop = () => watcher.close();
  signal?.addEventListener("abort", stop);
  const it = watcher[Symbol.asyncIterator]();
  // One read is always pending; a read that loses a race is kept for the next round.
  let pending = it.next();
  try {
    while (!signal?.aborted) {
      const first = await pending;
      if (first.done) return;
      pending = it.next();
      let name = first.value.paths[0] ?? dir;
      // Let the burst settle: wait until 150 ms pass without another event.
      for (;;) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const quiet = new Promise<"quiet">((r) => (timer = setTimeout(() => r("quiet"), 150)));
        const next = await Promise.race([pending, quiet]);
        clearTimeout(timer);
        if (next === "quiet") break;
        if (next.done) return;
        pending = it.next();
        name = next.value.paths[0] ?? name;
      }
      yield name.slice(name.lastIndexOf("/exercise/") + 1);
    }
  } finally {
    signal?.removeEventListener("abort", stop);
    try {
      watcher.close();
    } catch { /* already closed */ }
  }
}

if (import.meta.main) {
  const enc = new TextEncoder();
  const status = await lessonCommand(Deno.args, {
    out: (s) => Deno.stdout.writeSync(enc.encode(s)),
    err: (s) => Deno.stderr.writeSync(enc.encode(s)),
  }, { root: LESSONS_ROOT, cacheDir: DEFAULT_CACHE_DIR });
  Deno.exit(status);
}
