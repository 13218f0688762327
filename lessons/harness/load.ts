/**
 * Loading the implementations a run grades: the reference factories the lesson imports, or
 * the student's, imported here from the lesson's `exercise/` folder. An exercise that does
 * not load (a syntax error, an exception at its top level, a missing export) is a
 * {@link Failure} that every case reports, never an exception that stops the harness.
 *
 * Portable: dynamic `import()` only.
 *
 * @module
 */

import type { Lesson, Which } from "./define.ts";
import { describeThrown, exerciseFrame, type Failure } from "./failure.ts";

/** The factories under test by component name, or why they could not be loaded. */
export type Loaded = { impls: Record<string, unknown> } | { failure: Failure };

/** Loads the implementations of `which` for the lesson whose lesson.ts is at `lessonUrl`. */
export async function loadImplementations(
  lesson: Lesson<unknown>,
  lessonUrl: string,
  which: Which,
): Promise<Loaded> {
  const impls: Record<string, unknown> = {};
  const slots = Object.entries(lesson.components as Record<string, Lesson["components"][string]>);
  for (const [name, slot] of slots) {
    if (which === "reference") {
      impls[name] = slot.reference;
      continue;
    }
    const { file, export: exported } = slot.exercise;
    let module: Record<string, unknown>;
    try {
      module = await import(new URL(file, lessonUrl).href);
    } catch (e) {
      const at = exerciseFrame(e);
      return {
        failure: {
          kind: "load",
          message: `${file} does not load: ${describeThrown(e)}`,
          ...(at ? { at } : {}),
        },
      };
    }
    const fn = module[exported];
    if (typeof fn !== "function") {
      return {
        failure: {
          kind: "load",
          message: `${file} does not export a function named ${exported} ` +
            `(it exports: ${Object.keys(module).join(", ") || "nothing"})`,
        },
      };
    }
    impls[name] = fn;
  }
  return { impls };
}
