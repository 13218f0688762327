/**
 * Naming the calls into the code under test. A case calls the student's factory and the
 * methods of what it returns through a wrapper that, when the code throws, faults or runs
 * out of operations, rethrows a {@link StudentError} naming the call: "pmm.allocate(16)
 * threw Error: not implemented yet". The values themselves pass through untouched.
 *
 * Portable: no Deno or Node API.
 *
 * @module
 */

import { StudentError } from "./failure.ts";

/** Formats one argument for a call's description. */
export function formatArg(v: unknown): string {
  if (typeof v === "number") {
    // Addresses read best in hex; counts, bytes, baud rates and clocks (round decimal
    // numbers) in decimal.
    const address = Number.isSafeInteger(v) && v >= 0x1000 && v % 8 === 0 && v % 100 !== 0;
    return address ? `0x${v.toString(16)}` : String(v);
  }
  if (typeof v === "bigint") return `0x${BigInt.asUintN(64, v).toString(16)}`;
  if (typeof v === "string") return JSON.stringify(v);
  if (v === undefined || v === null || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.length} entries]`;
  if (typeof v === "function") return "function";
  return "{…}";
}

/** The description of a call: `pmm.free(0x8030_0000, 2)`. */
export function describeCall(name: string, args: readonly unknown[]): string {
  return `${name}(${args.map(formatArg).join(", ")})`;
}

/**
 * Wraps factory `fn` so that it and every method of the object it returns name themselves
 * when they fail. `factoryName` names the factory (`createStackPmm`), `objectName` what it
 * builds (`pmm`).
 */
export function instrumentFactory<F>(fn: F, factoryName: string, objectName: string): F {
  if (typeof fn !== "function") return fn;
  const wrapped = function (this: unknown, ...args: unknown[]) {
    const result = guardCall(describeCall(factoryName, args), () => fn.apply(this, args));
    return instrumentObject(result, objectName);
  };
  return wrapped as F;
}

/** Wraps the methods (and getters) of `obj` so that failures name `name.method(args)`. */
export function instrumentObject<T>(obj: T, name: string): T {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) return obj;
  if (ArrayBuffer.isView(obj)) return obj;
  const target = obj as object;
  return new Proxy(target, {
    get(t, prop) {
      const label = typeof prop === "symbol" ? prop.toString() : prop;
      const v = guardCall(`${name}.${label}`, () => Reflect.get(t, prop, t));
      if (typeof v !== "function" || typeof prop === "symbol") return v;
      return (...args: unknown[]) =>
        guardCall(describeCall(`${name}.${label}`, args), () => v.apply(t, args));
    },
  }) as T;
}

/** Runs `fn`; whatever it throws becomes a StudentError naming `call` (once). */
export function guardCall<R>(call: string, fn: () => R): R {
  try {
    return fn();
  } catch (e) {
    if (e instanceof StudentError) throw e;
    throw new StudentError(call, e);
  }
}
