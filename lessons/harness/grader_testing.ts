/**
 * Testing a lesson's grader, not a student: run the lesson's cases over implementations
 * with one planted bug each, and ask which cases failed on which board. Every lesson's
 * lesson_test.ts does this, so that a graded case that cannot fail is found.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ARCHES, type ArchName, type Lesson } from "./define.ts";
import { runLesson } from "./run.ts";

/** The cases that fail, by name, with the boards each fails on (in ARCHES order). */
export type Failures = Map<string, ArchName[]>;

/**
 * Runs `lesson` (every case, or those whose name contains `only`) over `impls` on both boards,
 * with seed 1, and returns the cases that failed.
 */
export function failingCases(
  lesson: Lesson<unknown>,
  impls: Record<string, unknown>,
  only?: string,
): Failures {
  const results = runLesson(lesson, impls, {
    which: "exercise",
    seed: 1,
    arches: ARCHES,
    ...(only ? { only } : {}),
  });
  const failed: Failures = new Map();
  for (const r of results.filter((r) => !r.passed)) {
    failed.set(r.name, [...(failed.get(r.name) ?? []), r.arch]);
  }
  return failed;
}

/** Asserts that the case `name` failed on exactly `arches` (default: both boards). */
export function assertFailsOn(
  failed: Failures,
  name: string,
  arches: readonly ArchName[] = ARCHES,
): void {
  assert.deepEqual(
    failed.get(name),
    [...arches],
    `"${name}" must fail on ${arches.join(" and ")}; failed: ${
      [...failed.entries()].map(([n, a]) => `${n} [${a.join(", ")}]`).join("; ") || "nothing"
    }`,
  );
}
