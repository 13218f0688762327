/**
 * Running a lesson's cases, in this process: each case on each architecture, on a fresh
 * board (or a fresh boot of the whole kernel), with a generator seeded from the run's seed,
 * the case and the architecture, so that any failure replays exactly with `--seed`.
 *
 * A case never takes the run down: whatever it throws, however the machine stops, the
 * result is a {@link CaseResult} with a {@link Failure} that says why. (A loop that never
 * touches memory cannot be interrupted in-process; sandbox.ts runs the cases in a child
 * process and kills one that stops answering.)
 *
 * Portable: no Deno or Node API.
 *
 * @module
 */

import { Prng } from "../../emulator/core/prng.ts";
import { buildBoard, type CaseBoard } from "./boards.ts";
import { budgetedPhysMem, budgetedUartRegisters, OpCounter } from "./budget.ts";
import { type CaseContext, checks } from "./context.ts";
import {
  type ArchName,
  type Case,
  caseArches,
  DEFAULT_CASE_BUDGET,
  kernelComponentsOf,
  type Lesson,
  type Which,
} from "./define.ts";
import { classify, describeThrown, type Failure } from "./failure.ts";
import { instrumentFactory } from "./instrument.ts";
import { bootWith, SYSTEM_ARCHES } from "./system.ts";

/** What to run. */
export interface RunOptions {
  /** The student's exercise or the reference. */
  which: Which;
  /** The seed. */
  seed: number;
  /** The architectures. */
  arches: readonly ArchName[];
  /** Only cases whose name contains this text (case-insensitive). */
  only?: string;
}

/** One case on one architecture, as it ran. */
export interface CaseResult {
  /** The case's name. */
  name: string;
  /** The architecture. */
  arch: ArchName;
  /** Points it is worth there. */
  points: number;
  /** Points earned: all or nothing. */
  score: number;
  /** Whether it passed. */
  passed: boolean;
  /** Why not. */
  failure?: Failure;
  /** Lines the case noted (shown with --verbose). */
  notes: string[];
  /** Operations the code under test made (component cases). */
  ops: number;
  /** The machine's own reports, when it failed. */
  messages: string[];
}

/** A unit of work: one case on one architecture. */
export interface Unit {
  /** The case's index in the lesson. */
  index: number;
  /** The architecture. */
  arch: ArchName;
}

/** The units a run covers, in order: each case on each of its architectures. */
export function unitsOf(lesson: Lesson<unknown>, options: RunOptions): Unit[] {
  const only = options.only?.toLowerCase();
  const units: Unit[] = [];
  lesson.cases.forEach((c, index) => {
    if (only && !c.name.toLowerCase().includes(only)) return;
    for (const arch of caseArches(c)) {
      if (options.arches.includes(arch)) units.push({ index, arch });
    }
  });
  return units;
}

/** FNV-1a over a string: the per-case seed. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The seed of a case's generator: the same for the same run seed, case and architecture. */
export function caseSeed(seed: number, arch: ArchName, name: string): number {
  return hash32(`${seed}/${arch}/${name}`);
}

/**
 * Runs one unit with `impls`, the factories under test by component name (load.ts loads
 * them: the reference, or the student's exercise).
 */
export function runUnit(
  lesson: Lesson<unknown>,
  impls: Record<string, unknown>,
  unit: Unit,
  options: RunOptions,
): CaseResult {
  const c = lesson.cases[unit.index];
  const result: CaseResult = {
    name: c.name,
    arch: unit.arch,
    points: c.points,
    score: 0,
    passed: false,
    notes: [],
    ops: 0,
    messages: [],
  };
  let failure: Failure | undefined;
  try {
    failure = c.system
      ? runSystemCase(lesson, impls, c, unit.arch, options, result)
      : runComponentCase(lesson, impls, c, unit.arch, options, result);
  } catch (e) {
    // Only the harness or the lesson's own code can get here (a board that cannot be built).
    failure = { kind: "threw", message: `the case could not run: ${describeThrown(e)}` };
  }
  if (failure) result.failure = failure;
  else {
    result.passed = true;
    result.score = c.points;
  }
  return result;
}

/** The implementations, instrumented for the case, and the kernel's view of them. */
function implementations(lesson: Lesson<unknown>, impls: Record<string, unknown>) {
  const impl: Record<string, unknown> = {};
  const slots = lesson.components as Record<string, Lesson["components"][string]>;
  for (const name of Object.keys(slots)) {
    const fn = impls[name] as (...args: unknown[]) => unknown;
    impl[name] = instrumentFactory(fn, fn.name || name, name);
  }
  return { impl, components: kernelComponentsOf(slots, impls) };
}

function baseContext(
  lesson: Lesson<unknown>,
  impls: Record<string, unknown>,
  c: Case<unknown>,
  arch: ArchName,
  options: RunOptions,
  result: CaseResult,
) {
  const { impl, components } = implementations(lesson, impls);
  return {
    arch,
    seed: options.seed,
    which: options.which,
    rng: new Prng(caseSeed(options.seed, arch, c.name)),
    impl,
    components,
    note: (line: string) => void result.notes.push(line),
    ...checks,
  };
}

function notHere(what: string): never {
  throw new Error(what);
}

function runComponentCase(
  lesson: Lesson<unknown>,
  impls: Record<string, unknown>,
  c: Case<unknown>,
  arch: ArchName,
  options: RunOptions,
  result: CaseResult,
): Failure | undefined {
  const spec = typeof c.board === "function" ? c.board(arch) : c.board ?? {};
  const board: CaseBoard = buildBoard(arch, spec, options.seed);
  const ops = new OpCounter(c.budget ?? DEFAULT_CASE_BUDGET);
  const t: CaseContext<unknown> = {
    ...baseContext(lesson, impls, c, arch, options, result),
    board,
    mem: budgetedPhysMem(board.cpuMem, ops),
    uartRegisters: budgetedUartRegisters(board.cpuUart, ops),
    ops,
    boot: () => notHere("t.boot() is for system cases (system: true)"),
  };
  const { thrown, reason } = board.runEntry(() => c.run(t));
  result.ops = ops.count;
  if (thrown !== undefined) {
    result.messages = [...board.machine.messages];
    return classify(thrown);
  }
  if (reason.kind === "error") {
    result.messages = [...board.machine.messages];
    return { kind: "fault", message: `the machine stopped: ${reason.message}` };
  }
  return undefined;
}

function runSystemCase(
  lesson: Lesson<unknown>,
  impls: Record<string, unknown>,
  c: Case<unknown>,
  arch: ArchName,
  options: RunOptions,
  result: CaseResult,
): Failure | undefined {
  if (!SYSTEM_ARCHES.includes(arch)) {
    return { kind: "threw", message: `the whole kernel cannot boot on ${arch} yet` };
  }
  const base = baseContext(lesson, impls, c, arch, options, result);
  const t: CaseContext<unknown> = {
    ...base,
    get board(): CaseBoard {
      return notHere("a system case has no case board: boot the kernel with t.boot()");
    },
    get mem() {
      return notHere("a system case has no PhysMem: boot the kernel with t.boot()");
    },
    get uartRegisters() {
      return notHere("a system case has no UART registers: boot the kernel with t.boot()");
    },
    ops: new OpCounter(Infinity),
    boot: (bootOptions = {}) => {
      const run = bootWith(arch, base.components, bootOptions, options.seed);
      result.messages = run.messages;
      return run;
    },
  };
  try {
    c.run(t);
    return undefined;
  } catch (e) {
    return classify(e);
  }
}

/** The result of a unit that could not run because the implementations did not load. */
export function notLoaded(lesson: Lesson<unknown>, unit: Unit, failure: Failure): CaseResult {
  const c = lesson.cases[unit.index];
  return {
    name: c.name,
    arch: unit.arch,
    points: c.points,
    score: 0,
    passed: false,
    failure,
    notes: [],
    ops: 0,
    messages: [],
  };
}

/**
 * Runs every unit of `options` in order, in this process (no safety net for a loop that
 * never touches memory: sandbox.ts has one); `onResult` sees each result as it is ready.
 */
export function runLesson(
  lesson: Lesson<unknown>,
  impls: Record<string, unknown>,
  options: RunOptions,
  onResult?: (r: CaseResult) => void,
): CaseResult[] {
  return unitsOf(lesson, options).map((u) => {
    const r = runUnit(lesson, impls, u, options);
    onResult?.(r);
    return r;
  });
}
