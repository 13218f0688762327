/**
 * `lessons.NN.seconds` for `deno task bench`: the wall time of one lesson's graded suite,
 * every case on both architectures, graded against the reference, in this process (no
 * child process: the figure is the grading's own cost).
 *
 * @module
 */

import { findLesson, LESSONS_ROOT } from "./catalog.ts";
import type { Lesson } from "./define.ts";
import { loadImplementations } from "./load.ts";
import { runLesson } from "./run.ts";

/** Seconds to grade lesson `number`'s reference on both architectures; throws if any case fails. */
export async function lessonSeconds(number: number, root = LESSONS_ROOT): Promise<number> {
  const entry = findLesson(root, String(number));
  if (!entry) throw new Error(`there is no lesson ${number} under ${root}`);
  const lesson: Lesson<unknown> = (await import(entry.url)).default;
  const loaded = await loadImplementations(lesson, entry.url, "reference");
  if ("failure" in loaded) throw new Error(loaded.failure.message);
  const start = performance.now();
  const results = runLesson(lesson, loaded.impls, {
    which: "reference",
    seed: 1,
    arches: ["x86_64", "riscv64"],
  });
  const seconds = (performance.now() - start) / 1000;
  const failed = results.filter((r) => !r.passed);
  if (failed.length) {
    throw new Error(
      `lesson ${number}: the reference fails ${
        failed.map((r) => `${r.name} [${r.arch}]`).join(", ")
      }`,
    );
  }
  return seconds;
}
