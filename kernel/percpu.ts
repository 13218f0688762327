/**
 * Per-CPU state: what each CPU's scheduler and trap handling keep for themselves. Every CPU
 * has its own run queue, idle thread, tick and timer, as anos and Linux do, so starting the
 * other CPUs (the SMP issue) adds CPUs, not locks around one queue.
 *
 * ## The idle thread
 *
 * In the hosted model a CPU with nothing to run waits in `wfi`/`hlt` with interrupts
 * enabled. That wait is the CPU's idle thread: a Thread record with a kernel stack (so that
 * sscratch and TSS.RSP0 always point at the current thread's stack) but no user state and no
 * process of its own. It is never in the run queue: when `next()` finds nothing, the CPU
 * "runs" its idle thread, and any queued thread outranks it. The next interrupt arrives as a
 * trap `from: "idle"`, and the scheduler picks again.
 *
 * @module
 */

import type { RunQueue } from "./components.ts";
import type { Thread } from "./proc/thread.ts";
import type { Trap } from "./trap.ts";

/** One CPU's scheduling state. */
export interface PerCpu {
  /** The CPU's index, from 0. */
  readonly index: number;
  /** The thread running on this CPU (its idle thread when nothing else is). */
  current: Thread;
  /** The idle thread (see the module comment). */
  readonly idle: Thread;
  /** The threads ready to run here. */
  readonly runQueue: RunQueue<Thread>;
  /** Set when the current thread must give way at the next exit from the kernel. */
  needResched: boolean;
  /** When the next tick is due (ns). */
  nextTickNs: number;
  /** Ticks taken so far. */
  ticks: number;
  /** What the timer is armed for (ns; Infinity: disarmed). */
  timerDeadline: number;
  /** Threads that died here; their stacks are freed once the CPU has switched away. */
  readonly zombies: Thread[];
  /** The trap being handled, for panic reports (undefined outside trap handling). */
  trap: Trap | undefined;
  /** The ASID generation this CPU's TLB was last flushed for. */
  asidGeneration: number;
  /** Context switches made. */
  switches: number;
}
