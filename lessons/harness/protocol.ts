/**
 * The grading side of a sandboxed run (child.ts runs it in a child process that sandbox.ts
 * starts): it imports the lesson, tells the host its plan, imports the implementations (the
 * student's exercise, or the reference), then runs the units one by one, announcing each
 * before it starts, so that the host knows which case to blame if the child stops
 * answering. An exercise that does not load fails every unit with the reason.
 *
 * Messages to the host: `plan`, `start`, `result`, `done`, or `load-error`.
 *
 * Portable: dynamic `import()` only; the transport is the caller's.
 *
 * @module
 */

import type { Lesson } from "./define.ts";
import { describeThrown, type Failure } from "./failure.ts";
import { loadImplementations } from "./load.ts";
import { type CaseResult, notLoaded, type RunOptions, runUnit, type Unit, unitsOf } from "./run.ts";

/** What the host asks for. */
export interface GradeRequest {
  /** The lesson module's URL (its lesson.ts). */
  lessonUrl: string;
  /** What to run. */
  options: RunOptions;
  /** Units to skip (already run by an earlier child). */
  skip: number;
}

/** The lesson's shape, as the host needs it for the report. */
export interface GradePlan {
  /** The lesson's number. */
  number: number;
  /** Its title. */
  title: string;
  /** Its cases: name, anchor, points, architectures it would run on. */
  cases: { name: string; anchor: string; points: number }[];
  /** The units this run covers. */
  units: Unit[];
}

/** What the grading process tells its host. */
export type GradeMessage =
  | { type: "plan"; plan: GradePlan }
  | { type: "start"; index: number }
  | { type: "result"; index: number; result: CaseResult }
  | { type: "done" }
  | { type: "load-error"; failure: Failure };

/** Serves `request`, telling the host everything through `post`. */
export async function serveGrading(
  request: GradeRequest,
  post: (m: GradeMessage) => void,
): Promise<void> {
  const { lessonUrl, options, skip } = request;
  let lesson: Lesson<unknown>;
  try {
    lesson = (await import(lessonUrl)).default;
    if (!lesson || !Array.isArray(lesson.cases)) {
      throw new Error(`${lessonUrl} has no default export made by defineLesson`);
    }
  } catch (err) {
    post({ type: "load-error", failure: { kind: "load", message: describeThrown(err) } });
    return;
  }
  const units = unitsOf(lesson, options);
  post({
    type: "plan",
    plan: {
      number: lesson.number,
      title: lesson.title,
      cases: lesson.cases.map((c) => ({ name: c.name, anchor: c.anchor, points: c.points })),
      units,
    },
  });
  const loaded = await loadImplementations(lesson, lessonUrl, options.which);
  for (let i = skip; i < units.length; i++) {
    post({ type: "start", index: i });
    const result = "failure" in loaded
      ? notLoaded(lesson, units[i], loaded.failure)
      : runUnit(lesson, loaded.impls, units[i], options);
    post({ type: "result", index: i, result });
  }
  post({ type: "done" });
}
