/**
 * The kernel log: records with a level and a per-CPU prefix, written to the console as they
 * happen and kept in a ring buffer that user space can read back (the `log_read` syscall),
 * as Linux's `dmesg` reads its printk buffer.
 *
 * ```
 * [    0.001234] cpu0 info  pmm: 253 MiB free in 1 run
 * ```
 *
 * The time is the CPU's virtual clock, so a run's log is the same byte for byte every time.
 * Records below the console level go to the ring only. Records made before the console
 * exists wait in the ring and are written out when it is attached ({@link KernelLog.attach}).
 *
 * @module
 */

import { formatTime } from "./format.ts";

/** Log levels, least severe first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** The levels in order, for comparison. */
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/** The ring buffer's default size. */
export const LOG_RING_SIZE = 64 * 1024;

/** Where the log's time and CPU come from. */
export interface LogSource {
  /** Virtual time now, in ns. */
  nowNs(): number;
  /** The CPU making the record. */
  cpuIndex(): number;
}

/** The kernel log. */
export class KernelLog {
  /** Records at or above this level go to the console too. */
  consoleLevel: LogLevel = "info";
  readonly #ring: Uint8Array;
  /** Bytes written since boot: the ring holds the last `ring.length` of them. */
  #written = 0;
  #source: LogSource;
  #sink: ((text: string) => void) | undefined;
  /** Console lines logged before the sink was attached, waiting for it. */
  #pending: string[] = [];

  /** A log of `capacity` bytes, timed and prefixed from `source`. */
  constructor(source: LogSource, capacity = LOG_RING_SIZE) {
    this.#source = source;
    this.#ring = new Uint8Array(capacity);
  }

  /** Sends console output to `sink` from now on, first writing what waited. */
  attach(sink: (text: string) => void): void {
    this.#sink = sink;
    const waiting = this.#pending;
    this.#pending = [];
    for (const line of waiting) sink(line);
  }

  /** Logs `message` (one or more lines) at `level`. */
  log(level: LogLevel, message: string): void {
    this.#record(level, message, false);
  }

  /** Logs what a user program wrote (debug_write): at info level, always on the console. */
  user(message: string): void {
    this.#record("info", message, true);
  }

  #record(level: LogLevel, message: string, always: boolean): void {
    const prefix = `[${formatTime(this.#source.nowNs())}] cpu${this.#source.cpuIndex()} ` +
      `${level.padEnd(5)} `;
    const text = message.split("\n").map((line) => prefix + line + "\n").join("");
    this.#append(text);
    if (!always && LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(this.consoleLevel)) return;
    if (this.#sink) this.#sink(text);
    else this.#pending.push(text);
  }

  /** Logs at debug level. */
  debug(message: string): void {
    this.log("debug", message);
  }

  /** Logs at info level. */
  info(message: string): void {
    this.log("info", message);
  }

  /** Logs at warn level. */
  warn(message: string): void {
    this.log("warn", message);
  }

  /** Logs at error level. */
  error(message: string): void {
    this.log("error", message);
  }

  /** The newest `max` bytes of the ring (all it holds by default), oldest first. */
  tail(max = this.#ring.length): Uint8Array {
    const held = Math.min(this.#written, this.#ring.length, max);
    const out = new Uint8Array(held);
    const start = this.#written - held;
    for (let i = 0; i < held; i++) out[i] = this.#ring[(start + i) % this.#ring.length];
    return out;
  }

  /** The newest records as text (for tests and panics). */
  text(max?: number): string {
    return new TextDecoder().decode(this.tail(max));
  }

  #append(text: string): void {
    const bytes = new TextEncoder().encode(text);
    for (const b of bytes) this.#ring[this.#written++ % this.#ring.length] = b;
  }
}
