/**
 * Kernel panics: what the kernel does when it finds itself wrong. A panic never hangs and is
 * never only a JavaScript stack trace: it names the CPU, the thread, the trap being handled
 * and the state of the interrupted user code, says what went wrong in words, writes it to
 * the console and the log, and powers the machine off with a failure status.
 *
 * @module
 */

/** An error the kernel raises when an invariant it relies on does not hold. */
export class KernelPanic extends Error {
  /** Builds the panic with its message, and what caused it (an error caught on the way). */
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "KernelPanic";
  }
}

/**
 * A replaceable component (a student's, in the lesson harness) threw or returned something
 * the kernel cannot use. The message names the component, the call and what came back.
 */
export class ComponentFailure extends KernelPanic {
  /** Builds the failure of `component` ("pmm", "page tables", ...). */
  constructor(readonly component: string, message: string, cause?: unknown) {
    super(`component ${component}: ${message}`, cause);
    this.name = "ComponentFailure";
  }
}

/** Describes anything thrown, in one line: its class and message. */
export function describeError(e: unknown): string {
  if (e instanceof KernelPanic) return e.message;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return `a non-Error value was thrown: ${String(e)}`;
}
