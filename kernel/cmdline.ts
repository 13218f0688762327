/**
 * The kernel command line: `key=value` words (from the boot information, as Limine and
 * `/chosen/bootargs` give it). Unknown words are ignored, as Linux ignores what it does not
 * know (`console=ttyS0` is the board's, for instance); a known key with a bad value is
 * reported in the log and its default kept.
 *
 * | key           | meaning                                                   | default |
 * | ------------- | --------------------------------------------------------- | ------- |
 * | `tick_hz`     | the scheduler tick, per second of virtual time             | 100     |
 * | `slice_ticks` | ticks a thread runs before it goes to the back of its level | 1      |
 * | `loglevel`    | the lowest level written to the console                    | info    |
 * | `asids`       | use at most this many ASIDs (to exercise the rollover)     | all     |
 * | `timer`       | `platform`: the board's timer device, not the CPU's own     | auto    |
 *
 * @module
 */

import { LOG_LEVELS, type LogLevel } from "./log.ts";

/** The options the kernel reads from its command line. */
export interface KernelOptions {
  /** Scheduler ticks per second of virtual time. */
  tickHz: number;
  /** Ticks in a time slice. */
  sliceTicks: number;
  /** The console's log level. */
  logLevel: LogLevel;
  /** The most ASIDs to use (ASID 0 included), or undefined for what the MMU has. */
  asids: number | undefined;
  /**
   * The timer a port should use: its best (`auto`: the CPU's own deadline timer, Sstc or
   * TSC-deadline, where there is one), or the board's timer device (`platform`: the SBI
   * timer on RISC-V, the local APIC's one-shot mode on x86-64).
   */
  timer: "auto" | "platform";
}

/** Parses `cmdline`; returns the options and complaints about bad values. */
export function parseCmdline(cmdline: string): { options: KernelOptions; warnings: string[] } {
  const options: KernelOptions = {
    tickHz: 100,
    sliceTicks: 1,
    logLevel: "info",
    asids: undefined,
    timer: "auto",
  };
  const warnings: string[] = [];
  const int = (key: string, v: string, min: number, max: number): number | undefined => {
    const n = Number(v);
    if (Number.isInteger(n) && n >= min && n <= max) return n;
    warnings.push(`${key}=${v}: give an integer from ${min} to ${max}; keeping the default`);
    return undefined;
  };
  for (const word of cmdline.split(/\s+/).filter((w) => w.includes("="))) {
    const [key, v] = [word.slice(0, word.indexOf("=")), word.slice(word.indexOf("=") + 1)];
    switch (key) {
      case "tick_hz":
        options.tickHz = int(key, v, 1, 1_000_000) ?? options.tickHz;
        break;
      case "slice_ticks":
        options.sliceTicks = int(key, v, 1, 1000) ?? options.sliceTicks;
        break;
      case "asids":
        options.asids = int(key, v, 2, 1 << 16) ?? options.asids;
        break;
      case "loglevel":
        if ((LOG_LEVELS as string[]).includes(v)) options.logLevel = v as LogLevel;
        else warnings.push(`loglevel=${v}: give one of ${LOG_LEVELS.join(", ")}`);
        break;
      case "timer":
        if (v === "platform" || v === "auto") options.timer = v;
        else warnings.push(`timer=${v}: give platform or auto`);
        break;
    }
  }
  return { options, warnings };
}
