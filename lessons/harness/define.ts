/**
 * What a lesson is, as its `lesson.ts` declares it: the component(s) the student writes, by
 * their interface, with the exercise's factory and the reference's; and the graded cases.
 *
 * ```ts
 * import { defineLesson, exercise } from "../harness/define.ts";
 * import type { SerialConsoleFactory } from "../../kernel/components.ts";
 * import { createUartConsole } from "../../kernel/drivers/uart16550.ts";
 * import type { createConsole } from "./exercise/console.ts";
 *
 * export default defineLesson<{ console: SerialConsoleFactory }>({
 *   number: 1,
 *   title: "Boot and the serial console",
 *   components: {
 *     console: {
 *       interface: "SerialConsoleFactory",
 *       kernelKey: "console",
 *       // deno check proves the exercise fits the interface
 *       exercise: exercise<typeof createConsole>("exercise/console.ts", "createConsole"),
 *       reference: createUartConsole,
 *     },
 *   },
 *   cases: [{ name: "...", points: 2, anchor: "...", arch: "both", run(t) { ... } }],
 * });
 * ```
 *
 * The type parameter names each component's interface, and {@link exercise} carries the
 * exercise's type, so `deno check` (part of `deno task check`) rejects an exercise that
 * does not fit it. The exercise is imported only as a type: the lesson module runs none of
 * the student's code, so it always loads; the harness imports the exercise when it grades
 * (load.ts), and an exercise that does not load fails every case with the reason.
 *
 * A case's `run` receives a {@link CaseContext}; see context.ts.
 *
 * Portable: no Deno or Node API (the course site may one day grade in the browser).
 *
 * @module
 */

import type { KernelComponents } from "../../kernel/components.ts";
import type { CaseContext } from "./context.ts";

/** The two architectures every lesson grades. */
export type ArchName = "x86_64" | "riscv64";

/** Both architectures, in the order reports show them. */
export const ARCHES: readonly ArchName[] = ["x86_64", "riscv64"];

/** Which implementation a run grades: the student's exercise or the reference solution. */
export type Which = "exercise" | "reference";

/**
 * Where the student's implementation of a component is: a file of the lesson's `exercise/`
 * folder and the name it exports. `F` is the export's type (`typeof createConsole`), which
 * must fit the component's interface.
 */
export interface ExerciseRef<F> {
  /** The file, relative to the lesson's folder: `exercise/console.ts`. */
  readonly file: string;
  /** The exported name: `createConsole`. */
  readonly export: string;
  /** Never set: it carries `F` for the type check. */
  readonly type?: F;
}

/** Names the student's implementation; `F` is `typeof` the export, imported as a type. */
export function exercise<F>(file: string, exportName: string): ExerciseRef<F> {
  return { file, export: exportName };
}

/** One component a lesson asks the student to write. */
export interface ComponentSlot<F> {
  /** The interface's name, for messages: `SerialConsoleFactory` (kernel/components.ts). */
  interface: string;
  /**
   * The field of {@link KernelComponents} this component fills in the whole kernel, if any.
   * A component that exists only in the lesson (a boot-information reader) has none.
   */
  kernelKey?: keyof KernelComponents;
  /**
   * When the {@link kernelKey} field is a record of factories rather than one factory
   * (`pageTables`, one factory per page-table format), the entry this component fills:
   * `"sv48"` or `"x86_64"`.
   */
  kernelEntry?: string;
  /** The student's factory: where it is. */
  exercise: ExerciseRef<F>;
  /** The reference factory, from kernel/ or arch/. */
  reference: F;
}

/** The board a component case runs on (each architecture's own board). */
export interface BoardSpec {
  /** RAM in bytes (default {@link DEFAULT_CASE_MEMORY}). */
  memory?: number;
  /** The kernel command line the firmware passes. */
  cmdline?: string;
}

/** RAM of a case's board unless the case says otherwise: small boards build fast. */
export const DEFAULT_CASE_MEMORY = 16 * 2 ** 20;

/**
 * How many operations (memory and device accesses through the CPU) a component case lets
 * the code under test make before it is stopped as hung, unless the case says otherwise.
 */
export const DEFAULT_CASE_BUDGET = 2_000_000;

/** One graded case. */
export interface Case<C> {
  /** What it checks, as a sentence a student reads: "putByte waits for LSR.THRE". */
  name: string;
  /** Points on each architecture it runs on. */
  points: number;
  /** The chapter's section that explains it: a heading's anchor in the lesson's README.md. */
  anchor: string;
  /** Where it runs. */
  arch: ArchName | "both";
  /**
   * A system case boots the whole kernel (t.boot) with the student's components in place of
   * the reference ones; a component case (the default) runs `run` inside one kernel entry
   * on a fresh board, with the component alone over the board's RAM and devices.
   */
  system?: boolean;
  /** The board (component cases), or a function of the architecture giving it. */
  board?: BoardSpec | ((arch: ArchName) => BoardSpec);
  /** The operation budget (component cases; default {@link DEFAULT_CASE_BUDGET}). */
  budget?: number;
  /** The check. It fails by throwing (t.fail, t.check, t.equal) or by the code under test. */
  run(t: CaseContext<C>): void;
}

/** What a lesson's `lesson.ts` gives {@link defineLesson}. */
export interface LessonSpec<C> {
  /** Its number: 1 for `01-boot-serial`. */
  number: number;
  /** Its title, as the chapter's first heading gives it. */
  title: string;
  /** The components the student writes, by the name cases use (`t.impl.console`). */
  components: { [K in keyof C]: ComponentSlot<C[K]> };
  /** The graded cases, in the order they run and print. */
  cases: Case<C>[];
}

/** A lesson, checked. */
export interface Lesson<C = Record<string, unknown>> extends LessonSpec<C> {
  /** The total points on each architecture (a case on one architecture counts there only). */
  readonly maxPoints: Readonly<Record<ArchName, number>>;
}

/**
 * The kernel components `impls` (factories by component name) stand for: each component with
 * a {@link ComponentSlot.kernelKey} fills that field, or with a
 * {@link ComponentSlot.kernelEntry} that entry of the field's record.
 */
export function kernelComponentsOf(
  components: Record<string, ComponentSlot<unknown>>,
  impls: Record<string, unknown>,
): Partial<KernelComponents> {
  const out: Record<string, unknown> = {};
  for (const [name, slot] of Object.entries(components)) {
    if (!slot.kernelKey || !(name in impls)) continue;
    if (slot.kernelEntry === undefined) out[slot.kernelKey] = impls[name];
    else {
      const record = (out[slot.kernelKey] ?? {}) as Record<string, unknown>;
      out[slot.kernelKey] = { ...record, [slot.kernelEntry]: impls[name] };
    }
  }
  return out as Partial<KernelComponents>;
}

/** The architectures a case runs on. */
export function caseArches(c: { arch: ArchName | "both" }): readonly ArchName[] {
  return c.arch === "both" ? ARCHES : [c.arch];
}

/**
 * Checks a lesson's declaration and returns it: case names unique and non-empty, points
 * positive integers, anchors present, at least one case and one component. A mistake here
 * is the lesson author's, so it throws at once with what to fix.
 */
export function defineLesson<C>(spec: LessonSpec<C>): Lesson<C> {
  const where = `lesson ${spec.number} (${spec.title})`;
  const problem = (why: string): never => {
    throw new Error(`${where}: ${why}`);
  };
  if (!Number.isInteger(spec.number) || spec.number < 1 || spec.number > 99) {
    problem(`number ${spec.number} is not 1 to 99`);
  }
  if (Object.keys(spec.components).length === 0) problem("it declares no component");
  for (const [name, slot] of Object.entries<ComponentSlot<unknown>>(spec.components)) {
    if (typeof slot.reference !== "function") {
      problem(`component ${name}: the reference must be a factory (a function)`);
    }
    if (!/^exercise\/[\w./-]+\.ts$/.test(slot.exercise.file)) {
      problem(`component ${name}: ${slot.exercise.file} is not a .ts file under exercise/`);
    }
  }
  if (spec.cases.length === 0) problem("it has no graded case");
  const names = new Set<string>();
  for (const c of spec.cases) {
    if (!c.name.trim()) problem("a case has an empty name");
    if (names.has(c.name)) problem(`two cases are named "${c.name}"`);
    names.add(c.name);
    if (!Number.isInteger(c.points) || c.points < 1) {
      problem(`case "${c.name}": points ${c.points} is not a positive integer`);
    }
    if (!/^[a-z0-9-]+$/.test(c.anchor)) {
      problem(`case "${c.name}": anchor "${c.anchor}" is not a heading anchor (a-z, 0-9, -)`);
    }
  }
  const maxPoints = { x86_64: 0, riscv64: 0 };
  for (const c of spec.cases) for (const a of caseArches(c)) maxPoints[a] += c.points;
  return { ...spec, maxPoints };
}
