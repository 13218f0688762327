/**
 * The student's components for `deno task boot --mine` (host side): every component of
 * every lesson the student has passed, from the status cache, re-graded first when the
 * exercise changed since it was graded. Everything else is the reference.
 *
 * @module
 */

import type { KernelComponents } from "../../kernel/components.ts";
import { exerciseHash, lessonStatus, saveGrade } from "./cache.ts";
import { type LessonEntry, listLessons } from "./catalog.ts";
import type { Lesson } from "./define.ts";
import { loadImplementations } from "./load.ts";
import type { LessonReport } from "./report.ts";
import { gradeInSandbox } from "./sandbox.ts";

/** What `--mine` boots with, and what it tells the user. */
export interface MineChoice {
  /** The student's components, by KernelComponents field. */
  components: Partial<KernelComponents>;
  /** One line per component: whose it is, and why. */
  lines: string[];
}

/** Grades a lesson's exercise fully (both architectures) and caches the grade. */
export async function regrade(cacheDir: string, lesson: LessonEntry): Promise<LessonReport> {
  const hash = await exerciseHash(lesson);
  const report = await gradeInSandbox(lesson, {
    which: "exercise",
    seed: 1,
    arches: ["x86_64", "riscv64"],
  });
  saveGrade(cacheDir, lesson, report, hash);
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
    const names = slots.map(([, s]) => s.kernelKey).join(", ");
    const nn = entry.dir.slice(0, 2);
    let status = await lessonStatus(cacheDir, entry);
    if (status.state === "stale") {
      lines.push(`lesson ${nn}: your exercise changed since it was graded: grading it again`);
      await grade(entry);
      status = await lessonStatus(cacheDir, entry);
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
    for (const [name, slot] of slots) {
      (components as Record<string, unknown>)[slot.kernelKey!] = loaded.impls[name];
    }
    lines.push(`lesson ${nn} (${names}): yours (passed)`);
  }
  return { components, lines };
}
