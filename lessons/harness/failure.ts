/**
 * How a case fails, and how a failure is told to the student.
 *
 * Two kinds of error end a case:
 *
 * - {@link CaseFailure}: the grader looked at the hardware and found it wrong. It says what
 *   was expected and what the hardware shows (RAM, device registers, the UART's output).
 * - {@link StudentError}: the code under test threw, faulted, or ran past its operation
 *   budget. It names the call that was running (`console.putByte(0x41)`), what happened,
 *   and where in the exercise it happened.
 *
 * {@link classify} turns anything a case threw into a {@link Failure}, the plain record
 * reports and JSON carry.
 *
 * Portable: no Deno or Node API.
 *
 * @module
 */

import { CpuFault, KernelHang } from "../../emulator/core/hosted.ts";

/** What kind of failure: a check, a throw, a fault, a hang, a timeout, a lesson that did not load. */
export type FailureKind = "check" | "threw" | "fault" | "hang" | "timeout" | "load";

/** A failure as reports show it. */
export interface Failure {
  /** Its kind. */
  kind: FailureKind;
  /** What went wrong, in one sentence. */
  message: string;
  /** What the grader expected. */
  expected?: string;
  /** What the hardware showed instead. */
  saw?: string;
  /** More lines on the hardware's state: register dumps, RAM, output. */
  hardware?: string[];
  /** Where in the student's code it happened (`exercise/console.ts:12:5`), when known. */
  at?: string;
}

/** The details a check can give beyond its message. */
export interface FailureDetails {
  /** What was expected. */
  expected?: string;
  /** What the hardware showed. */
  saw?: string;
  /** More lines on the hardware's state. */
  hardware?: string[];
}

/** Thrown by a grader's check: the hardware is not as it should be. */
export class CaseFailure extends Error {
  /** The details. */
  readonly details: FailureDetails;

  /** Builds the failure. */
  constructor(message: string, details: FailureDetails = {}) {
    super(message);
    this.name = "CaseFailure";
    this.details = details;
  }
}

/** Thrown when the code under test threw, faulted or hung during a call. */
export class StudentError extends Error {
  /** Builds it from the call (`pmm.allocate(1)`) and what it threw. */
  constructor(readonly call: string, readonly error: unknown) {
    super(`${call}: ${describeThrown(error)}`);
    this.name = "StudentError";
  }
}

/** One line for anything thrown: `Error: not implemented yet: ...`. */
export function describeThrown(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return `a non-Error value was thrown: ${safeString(e)}`;
}

function safeString(v: unknown): string {
  try {
    return String(v);
  } catch {
    return "(a value that cannot be printed)";
  }
}

/**
 * The first stack frame inside a lesson's `exercise/` folder, as `exercise/file.ts:line:col`:
 * where in the student's code an error was thrown.
 */
export function exerciseFrame(e: unknown): string | undefined {
  if (!(e instanceof Error) || typeof e.stack !== "string") return undefined;
  for (const line of e.stack.split("\n")) {
    const m = /(\/exercise\/[^\s:()]+:\d+:\d+)/.exec(line);
    if (m) return m[1].slice(1);
  }
  return undefined;
}

/** Turns what a case threw into a {@link Failure}. */
export function classify(e: unknown): Failure {
  if (e instanceof CaseFailure) return { kind: "check", message: e.message, ...e.details };
  if (e instanceof StudentError) {
    const inner = e.error;
    const at = exerciseFrame(inner);
    if (inner instanceof KernelHang) {
      return {
        kind: "hang",
        message: `${e.call} did not finish: ${inner.message}`,
        ...(at ? { at } : {}),
      };
    }
    if (inner instanceof CpuFault) {
      return {
        kind: "fault",
        message: `${e.call} made an access the hardware refused: ${inner.message}`,
        ...(at ? { at } : {}),
      };
    }
    return {
      kind: "threw",
      message: `${e.call} threw ${describeThrown(inner)}`,
      ...(at ? { at } : {}),
    };
  }
  if (e instanceof KernelHang) return { kind: "hang", message: `did not finish: ${e.message}` };
  if (e instanceof CpuFault) return { kind: "fault", message: e.message };
  const at = exerciseFrame(e);
  return { kind: "threw", message: `the case threw ${describeThrown(e)}`, ...(at ? { at } : {}) };
}
