/**
 * Grading a lesson in a child process (host side; uses Deno's subprocess API).
 *
 * Budgets are counted in operations (budget.ts), so an endless loop that touches memory or
 * a device ends deterministically inside the run. A loop that touches nothing cannot be
 * interrupted from inside JavaScript, so the cases run in a child process (child.ts, with
 * read permission only): when it says nothing for `timeoutMs` (60 s by default: a safety
 * net, not a grading budget), it is killed, the case it was running is reported as "did not
 * finish", and a new child carries on from the next case.
 *
 * Why not a Worker: Deno 2.9's `Worker.terminate()` does not stop a Worker spinning in a
 * loop (measured: its thread keeps a core busy after `terminate`, and the process can no
 * longer exit on its own). Killing a process always works.
 *
 * @module
 */

import { MESSAGE_MARK } from "./child.ts";
import { ARCHES } from "./define.ts";
import type { Failure } from "./failure.ts";
import type { GradeMessage, GradePlan, GradeRequest } from "./protocol.ts";
import { type LessonReport, totals } from "./report.ts";
import type { CaseResult, RunOptions } from "./run.ts";

/** The safety net: how long a child may stay silent before it is killed. */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** What to grade, and how. */
export interface SandboxOptions extends RunOptions {
  /** The safety net, in ms (default {@link DEFAULT_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Called with each result as it arrives. */
  onResult?: (r: CaseResult) => void;
  /** Called with each line the exercise printed (console.log). Default: ignored. */
  onOutput?: (line: string) => void;
}

/** Where a lesson is. */
export interface LessonLocation {
  /** The folder name, `01-boot-serial`. */
  dir: string;
  /** The URL of its lesson.ts. */
  url: string;
  /** Its title from the chapter, for a lesson that cannot load. */
  title: string;
  /** Its number. */
  number: number;
}

const CHILD_URL = new URL("./child.ts", import.meta.url).href;

type Ending = "done" | "timeout" | "exited" | "load-error";

/** One child's run: from `request.skip`, until done, a load error, silence or an exit. */
async function runChild(
  request: GradeRequest,
  timeoutMs: number,
  on: (m: GradeMessage) => void,
  onOutput: (line: string) => void,
): Promise<{ ending: Ending; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--no-prompt", CHILD_URL],
    env: { NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(request)));
  await writer.close();
  const stderr = new Response(child.stderr).text();

  let ending: Ending | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      ending ??= "timeout";
      try {
        child.kill("SIGKILL");
      } catch { /* it has exited already */ }
    }, timeoutMs);
  };
  arm();
  let rest = "";
  const line = (l: string) => {
    if (!l.startsWith(MESSAGE_MARK)) return onOutput(l);
    arm();
    const m = JSON.parse(l.slice(MESSAGE_MARK.length)) as GradeMessage;
    on(m);
    if (m.type === "done") ending ??= "done";
    if (m.type === "load-error") ending ??= "load-error";
  };
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop()!;
    for (const l of lines) line(l);
  }
  if (rest) line(rest);
  await child.status;
  clearTimeout(timer);
  return { ending: ending ?? "exited", stderr: (await stderr).trim() };
}

/** Grades one lesson in child processes; never throws for anything the exercise does. */
export async function gradeInSandbox(
  where: LessonLocation,
  options: SandboxOptions,
): Promise<LessonReport> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const runOptions: RunOptions = {
    which: options.which,
    seed: options.seed,
    arches: options.arches,
    ...(options.only ? { only: options.only } : {}),
  };
  let plan: GradePlan | undefined;
  let loadError: Failure | undefined;
  const results: CaseResult[] = [];
  let running = -1;
  let skip = 0;
  for (;;) {
    const { ending, stderr } = await runChild(
      { lessonUrl: where.url, options: runOptions, skip },
      timeoutMs,
      (m) => {
        if (m.type === "plan") plan = m.plan;
        else if (m.type === "start") running = m.index;
        else if (m.type === "result") {
          results[m.index] = m.result;
          options.onResult?.(m.result);
          running = -1;
        } else if (m.type === "load-error") loadError ??= m.failure;
      },
      options.onOutput ?? (() => {}),
    );
    if (ending === "done" || ending === "load-error") break;
    const why = ending === "timeout"
      ? `no answer for ${timeoutMs / 1000} s (an endless loop that never touches memory?)`
      : `the grading process exited${stderr ? `: ${lastLines(stderr)}` : ""}`;
    if (!plan) {
      loadError = {
        kind: ending === "timeout" ? "timeout" : "load",
        message: `the lesson did not load: ${why}`,
      };
      break;
    }
    // The child went silent (or died) in the middle of a unit: that unit failed.
    const index = running >= 0 ? running : results.length;
    const unit = plan.units[index];
    if (!unit) break;
    const c = plan.cases[unit.index];
    results[index] = {
      name: c.name,
      arch: unit.arch,
      points: c.points,
      score: 0,
      passed: false,
      failure: {
        kind: ending === "timeout" ? "timeout" : "threw",
        message: `did not finish: ${why}`,
      },
      notes: [],
      ops: 0,
      messages: [],
    };
    options.onResult?.(results[index]);
    skip = index + 1;
    running = -1;
    if (skip >= plan.units.length) break;
  }
  const filled = results.filter((r): r is CaseResult => r !== undefined);
  const units = plan?.units ?? [];
  const cases = (plan?.cases ?? []).map((c, i) => ({
    ...c,
    arches: ARCHES.filter((a) => units.some((u) => u.index === i && u.arch === a)),
  })).filter((c) => c.arches.length > 0);
  const t = totals(filled, loadError);
  return {
    number: plan?.number ?? where.number,
    dir: where.dir,
    title: plan?.title ?? where.title,
    which: options.which,
    seed: options.seed,
    arches: [...options.arches],
    ...(options.only ? { only: options.only } : {}),
    cases,
    results: filled,
    ...(loadError ? { loadError } : {}),
    ...t,
  };
}

function lastLines(text: string): string {
  return text.split("\n").slice(-5).join("\n");
}
