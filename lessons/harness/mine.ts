/**
 * The student's components for `deno task boot --mine` (host side): every component of
 * every lesson the student has passed, from the status cache, re-graded first when the
 * exercise changed since it was graded. Everything else is the reference.
 *
 * Re-grading runs in child processes when the process may start them (`--allow-run`), as
 * `deno task lesson` does; otherwise in this process, where the operation budgets still
 * stop any loop that touches memory. The grade is cached when the process may write.
 *
 * @module
 */

import type { KernelComponents } from "../../kernel/components.ts";
import { exerciseHash, lessonStatus, saveGrade } from "./cache.ts";
import { type LessonEntry, listLessons } from "./catalog.ts";
import type { Lesson } from "./define.ts";
import { loadImplementations } from "./load.ts";
import { ARCHES, kernelComponentsOf } from "./define.ts";
import { type LessonReport, totals } from "./report.ts";
import { runLesson } from "./run.ts";
import { gradeInSandbox } from "./sandbox.ts";

/** What `--mine` boots with, and what it tells the user. */
export interface MineChoice {
  /** The student's components, by KernelComponents field. */
  components: Partial<KernelComponents>;
  /** One line per component: whose it is, and why. */
  lines: string[];
}

/** Whether this process has permission `name` (for `path`), without asking. */
function granted(descriptor: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(descriptor).state === "granted";
  } catch {
    return false;
  }
}

/** Grades a lesson's exercise fully in this process (no safety net for a silent loop). */
async function gradeHere(entry: LessonEntry): Promise<LessonReport> {
  const lesson: Lesson<unknown> = (await import(entry.url)).default;
  const options = { which: "exercise" as const, seed: 1, arches: [...ARCHES] };
  const loaded = await loadImplementations(lesson, entry.url, "exercise");
  const results = "failure" in loaded ? [] : runLesson(lesson, loaded.impls, options);
  const loadError = "failure" in loaded ? loaded.failure : undefined;
  return {
    number: lesson.number,
    dir: entry.dir,
    title: lesson.title,
    ...options,
    cases: [],
    results,
    ...(loadError ? { loadError } : {}),
    ...totals(results, loadError),
  };
}

/** Grades a lesson's exercise fully (both architectures) and caches the grade if it may. */
export async function regrade(cacheDir: string, lesson: LessonEntry): Promise<LessonReport> {
  const hash = await exerciseHash(lesson);
  const report = granted({ name: "run" })
    ? await gradeInSandbox(lesson, { which: "exercise", seed: 1, arches: [...ARCHES] })
    : await gradeHere(lesson);
  if (granted({ name: "write", path: cacheDir })) saveGrade(cacheDir, lesson, report, hash);
  return report;
}

/**
 * Chooses the components: the student's where their lesson passed, the reference elsewhere.
 * `grade` re-grades a lesson whose cached grade is stale (default: {@link regrade}).
 */
export async function mineComponents(
  root: string,
  cacheDir: string,
  grade: (lesson: LessonEntry) => Promise<LessonReport> = (l) => regrade(cacheDir, l),
): Promise<MineChoice> {
  const components: Partial<KernelComponents> = {};
  const lines: string[] = [];
  for (const entry of listLessons(root)) {
    const lesson: Lesson<unknown> = (await import(entry.url)).default;
    const slots = Object.entries(lesson.components as Record<string, Lesson["components"][string]>)
      .filter(([, s]) => s.kernelKey);
    if (slots.length === 0) continue;
    const names = slots
      .map(([, s]) => s.kernelEntry === undefined ? s.kernelKey : `${s.kernelKey}.${s.kernelEntry}`)
      .join(", ");
    const nn = entry.dir.slice(0, 2);
    let status = await lessonStatus(cacheDir, entry);
    if (status.state === "stale") {
      lines.push(`lesson ${nn}: your exercise changed since it was graded: grading it again`);
      const report = await grade(entry);
      const hash = await exerciseHash(entry);
      const cached = {
        hash,
        score: report.score,
        maxScore: report.maxScore,
        passed: report.passed,
        seed: 1,
      };
      status = { state: "graded", cached };
    }
    if (status.state !== "graded" || !status.cached.passed) {
      const why = status.state === "graded"
        ? `yours has ${status.cached.score} of ${status.cached.maxScore} points`
        : "not started";
      lines.push(`lesson ${nn} (${names}): the reference (${why})`);
      continue;
    }
    const loaded = await loadImplementations(lesson, entry.url, "exercise");
    if ("failure" in loaded) {
      lines.push(`lesson ${nn} (${names}): the reference (${loaded.failure.message})`);
      continue;
    }
    Object.assign(components, kernelComponentsOf(Object.fromEntries(slots), loaded.impls));
    lines.push(`lesson ${nn} (${names}): yours (passed)`);
  }
  return { components, lines };
}
