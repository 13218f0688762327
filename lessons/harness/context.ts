/**
 * What a case's `run` receives: the implementation under test, the board it runs on (or a
 * way to boot the whole kernel), a seeded generator, and the checks that fail a case with
 * what was expected and what the hardware showed.
 *
 * Portable: no Deno or Node API.
 *
 * @module
 */

import type { Prng } from "../../emulator/core/prng.ts";
import type { KernelComponents, UartRegisters } from "../../kernel/components.ts";
import type { PhysMem } from "../../kernel/mm/phys.ts";
import type { OpCounter } from "./budget.ts";
import type { CaseBoard } from "./boards.ts";
import type { ArchName, Which } from "./define.ts";
import { CpuFault, KernelHang } from "../../emulator/core/hosted.ts";
import { CaseFailure, type FailureDetails, StudentError } from "./failure.ts";
import type { SystemBootOptions, SystemRun } from "./system.ts";

/** The context of one case on one architecture. */
export interface CaseContext<C> {
  /** The architecture it runs on. */
  readonly arch: ArchName;
  /** The run's seed (`--seed`). */
  readonly seed: number;
  /** Whether the student's exercise or the reference is graded. */
  readonly which: Which;
  /** A generator seeded from the seed, the case and the architecture: the same every run. */
  readonly rng: Prng;
  /**
   * The implementations under test, by component name. Calls into them are named in
   * failures (`pmm.allocate(2) threw ...`).
   */
  readonly impl: C;
  /**
   * The board (component cases): the grader's views of RAM and the UART, and the memory
   * map. Throws in a system case.
   */
  readonly board: CaseBoard;
  /** PhysMem for the code under test: through the CPU, charged to the case's budget. */
  readonly mem: PhysMem;
  /** The console UART's registers for the code under test, charged to the budget. */
  readonly uartRegisters: UartRegisters;
  /** Operations charged so far. */
  readonly ops: OpCounter;
  /**
   * Boots the whole kernel with the lesson's components from {@link impl} (the reference for
   * everything else) and runs it (system cases only).
   */
  boot(options?: SystemBootOptions): SystemRun;
  /** The kernel components under test, unwrapped (to hand to the kernel). */
  readonly components: Partial<KernelComponents>;
  /** Records a line that `--verbose` shows, passed or failed. */
  note(line: string): void;
  /** Fails the case. */
  fail(message: string, details?: FailureDetails): never;
  /** Fails the case unless `condition` holds. */
  check(condition: boolean, message: string, details?: FailureDetails): void;
  /** Fails the case unless `actual` equals `expected` (deeply, for plain data). */
  equal<T>(actual: T, expected: T, message: string, details?: FailureDetails): void;
  /**
   * Runs `fn`, in which the code under test must refuse something by throwing an Error;
   * returns what it threw. Fails the case with `message` if it returns instead; a hang or
   * a fault is not a refusal and fails the case as such.
   */
  throws(fn: () => unknown, message: string, details?: FailureDetails): unknown;
}

/** Deep equality for plain data: numbers, strings, bigints, arrays, plain objects. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) =>
    sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
  );
}

/** The first index where two arrays differ (the shorter length when one is a prefix). */
export function firstDifference(a: readonly unknown[], b: readonly unknown[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (!sameValue(a[i], b[i])) return i;
  return n;
}

/** Shows a value in a failure: numbers that look like addresses in hex, data as JSON. */
export function show(v: unknown): string {
  if (typeof v === "number") {
    return Number.isInteger(v) && v >= 0x1000 ? `0x${v.toString(16)}` : String(v);
  }
  if (typeof v === "bigint") return `0x${BigInt.asUintN(64, v).toString(16)}`;
  if (v === undefined) return "undefined";
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `0x${x.toString(16)}` : x)) ??
      String(v);
  } catch {
    return String(v);
  }
}

/** The failing checks, shared by every context. */
export const checks = {
  fail(message: string, details?: FailureDetails): never {
    throw new CaseFailure(message, details);
  },
  check(condition: boolean, message: string, details?: FailureDetails): void {
    if (!condition) throw new CaseFailure(message, details);
  },
  equal<T>(actual: T, expected: T, message: string, details?: FailureDetails): void {
    if (sameValue(actual, expected)) return;
    if (Array.isArray(actual) && Array.isArray(expected)) {
      const i = firstDifference(actual, expected);
      throw new CaseFailure(`${message}: they differ first at [${i}]`, {
        expected: `[${i}] = ${show(expected[i])} (${expected.length} entries)`,
        saw: `[${i}] = ${show(actual[i])} (${actual.length} entries)`,
        ...details,
      });
    }
    throw new CaseFailure(message, { expected: show(expected), saw: show(actual), ...details });
  },
  throws(fn: () => unknown, message: string, details?: FailureDetails): unknown {
    let value: unknown;
    try {
      value = fn();
    } catch (e) {
      const refused = e instanceof StudentError && !(e.error instanceof KernelHang) &&
        !(e.error instanceof CpuFault);
      if (refused) return e.error;
      throw e;
    }
    throw new CaseFailure(message, {
      expected: "an Error thrown",
      saw: `it returned ${show(value)}`,
      ...details,
    });
  },
};
