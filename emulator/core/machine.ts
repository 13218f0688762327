/**
 * The machine: RAM, buses, virtual time, the CPUs, and the loop that interleaves them.
 *
 * ## Interleaving and time
 *
 * Every CPU has its own virtual clock (`timeNs`). The machine always runs the CPU that is
 * furthest behind; ties are broken by the seeded generator, and each turn lasts a quantum
 * whose length is also drawn from the seed, cut short at the next device event. So a
 * failure seen with one seed replays exactly with `--seed N`, and another seed shows
 * another interleaving. CPUs never run at the same host instant: what one CPU does between
 * another's quanta (keep running with its own TLB, see an IPI late) is where SMP is real.
 *
 * Device events (timer comparators, UART transmit) fire when the slowest running CPU
 * reaches their time. When every CPU waits for an interrupt, time jumps to the next event;
 * when there is none, the machine stops and says why (a deadlock, not a silent hang).
 *
 * @module
 */

import { Bus } from "./bus.ts";
import { EventQueue } from "./events.ts";
import { KernelText } from "./kernel_text.ts";
import { Ram } from "./memory.ts";
import { Prng } from "./prng.ts";
import { Trace } from "./trace.ts";
import { UserProgramRegistry, UserThreadTable } from "./user_program.ts";

/** Whether a CPU executes, waits for an interrupt, or is stopped (not started or halted). */
export type CpuState = "running" | "idle" | "stopped";

/** What the machine needs of a CPU of either architecture. */
export interface Cpu {
  /** Position in `machine.cpus`, from 0. */
  readonly index: number;
  /** Running, idle (wfi/hlt) or stopped. */
  state: CpuState;
  /** Local virtual time in nanoseconds: how far this CPU has run. */
  timeNs: number;
  /** Instructions retired. */
  instret: number;
  /**
   * Runs until local time reaches `untilNs`, the CPU goes idle or stops, or the machine
   * stops. Must advance `timeNs` when it executed anything.
   */
  run(untilNs: number): void;
  /** Exact local time, including the part of the current quantum already run. */
  nowNs(): number;
  /** Whether an idle CPU has an interrupt pending that would end its wait. */
  wakeable(): boolean;
}

/** Why `Machine.run` returned. */
export type StopReason =
  /** The guest powered the machine off; `code` is its exit status. */
  | { kind: "shutdown"; code: number; message: string }
  /** The guest asked for a reset. */
  | { kind: "reset"; message: string }
  /** `run(untilNs)` reached its time; call `run` again to continue. */
  | { kind: "paused" }
  /** Nothing can happen any more: every CPU waits and no event is pending. */
  | { kind: "deadlock"; message: string }
  /** A machine check: the emulator found a state it cannot continue from. */
  | { kind: "error"; cpu: number; message: string };

/** How to build a machine. */
export interface MachineOptions {
  /** RAM size in bytes. */
  memory: number;
  /** Seed for every random choice (default 1). */
  seed?: number;
  /** Shortest and longest quantum, in ns of virtual time (default 500 and 2000). */
  quantumMinNs?: number;
  /** See `quantumMinNs`. */
  quantumMaxNs?: number;
  /** A trace to record into (default: a trace with every category off). */
  trace?: Trace;
}

/** A machine of some architecture; `C` is its CPU type. */
export class Machine<C extends Cpu = Cpu> {
  /** Guest RAM. */
  readonly ram: Ram;
  /** The physical address space. */
  readonly bus: Bus;
  /** Device timers. */
  readonly events = new EventQueue();
  /** The seeded generator behind every random choice. */
  readonly prng: Prng;
  /** The seed it was built with. */
  readonly seed: number;
  /** The structured trace. */
  readonly trace: Trace;
  /** Kernel entry points (see kernel_text.ts). */
  readonly kernelText = new KernelText<C>();
  /** TypeScript user programs this machine can run (see user_program.ts). */
  readonly programs = new UserProgramRegistry();
  /** Live TypeScript user threads. */
  readonly userThreads = new UserThreadTable();
  /** The CPUs, added by the board. */
  readonly cpus: C[] = [];
  /** Diagnostics the machine reported (bounded), newest last. */
  readonly messages: string[] = [];
  /** Called with each diagnostic as it is reported (the host prints them). */
  onMessage: ((message: string) => void) | undefined;

  #quantumMin: number;
  #quantumMax: number;
  #globalNs = 0;
  #current: C | undefined;
  #stop: StopReason | undefined;

  /** Builds an empty machine: RAM allocated, no CPUs or devices yet. */
  constructor(options: MachineOptions) {
    this.ram = new Ram(options.memory);
    this.bus = new Bus(this.ram);
    this.seed = options.seed ?? 1;
    this.prng = new Prng(this.seed);
    this.trace = options.trace ?? new Trace();
    this.trace.clock = () => this.now();
    this.bus.trace = this.trace;
    this.#quantumMin = options.quantumMinNs ?? 500;
    this.#quantumMax = options.quantumMaxNs ?? 2000;
    if (!(this.#quantumMin >= 1 && this.#quantumMax >= this.#quantumMin)) {
      throw new RangeError("quantum bounds must satisfy 1 <= min <= max");
    }
  }

  /** Virtual time now: the running CPU's exact local time, or the machine's. */
  now(): number {
    return this.#current ? this.#current.nowNs() : this.#globalNs;
  }

  /** The CPU whose quantum is running, if any. */
  get current(): C | undefined {
    return this.#current;
  }

  /** The reason the machine stopped, once it has. */
  get stopReason(): StopReason | undefined {
    return this.#stop;
  }

  /** Powers the machine off with exit status `code` (from the guest: SBI SRST, debug exit). */
  powerOff(code: number, message = "the guest powered the machine off"): void {
    this.#stop ??= { kind: "shutdown", code, message };
  }

  /** Resets the machine (the run stops; the host decides whether to boot again). */
  reset(message = "the guest asked for a reset"): void {
    this.#stop ??= { kind: "reset", message };
  }

  /** Stops the machine with a machine check that names what went wrong. */
  fail(cpu: number, message: string): void {
    this.report(cpu, message);
    this.#stop ??= { kind: "error", cpu, message };
  }

  /** Records a diagnostic: kept in `messages`, traced as `info`, passed to `onMessage`. */
  report(cpu: number, message: string): void {
    const line = cpu >= 0 ? `cpu${cpu}: ${message}` : message;
    if (this.messages.length >= 1000) this.messages.shift();
    this.messages.push(line);
    if (this.trace.info) this.trace.emit("info", cpu, { message });
    this.onMessage?.(line);
  }

  /**
   * Runs until the guest stops the machine or virtual time reaches `untilNs`.
   * Call it again after `paused` to continue; after any other reason it returns at once.
   */
  run(untilNs = Infinity): StopReason {
    for (;;) {
      if (this.#stop) return this.#stop;
      const cpu = this.#pick();
      if (!cpu) {
        const next = this.events.nextTime();
        if (next === Infinity) {
          this.#stop = { kind: "deadlock", message: this.#deadlockMessage() };
          return this.#stop;
        }
        if (next > untilNs) {
          this.#globalNs = Math.max(this.#globalNs, untilNs);
          return { kind: "paused" };
        }
        this.#globalNs = Math.max(this.#globalNs, next);
        this.events.runDue(this.#globalNs);
        continue;
      }
      const now = cpu.timeNs;
      if (now >= untilNs) {
        // Every CPU is past the pause time (a long kernel entry can carry one far past
        // it): the machine's time still reaches it, so a host that runs in slices of
        // now() + slice always sees time move.
        this.#globalNs = Math.max(this.#globalNs, untilNs);
        return { kind: "paused" };
      }
      this.#globalNs = Math.max(this.#globalNs, now);
      if (this.events.runDue(now) > 0) continue;
      const quantum = this.prng.range(this.#quantumMin, this.#quantumMax);
      const limit = Math.min(now + quantum, this.events.nextTime(), untilNs);
      this.#runQuantum(cpu, limit);
    }
  }

  /** Runs `cpu` until `limit`, catching anything that escapes it as a machine check. */
  #runQuantum(cpu: C, limit: number): void {
    const before = cpu.timeNs;
    if (this.trace.sched) {
      this.trace.emit("sched", cpu.index, { until: limit, instret: cpu.instret });
    }
    this.#current = cpu;
    try {
      cpu.run(limit);
    } catch (e) {
      const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      this.fail(cpu.index, `emulator error (a bug in the emulator or kernel): ${what}`);
      if (e instanceof Error && e.stack) this.report(cpu.index, e.stack);
    } finally {
      this.#current = undefined;
    }
    if (cpu.state === "running" && cpu.timeNs <= before && !this.#stop) {
      this.fail(cpu.index, `made no progress in a quantum at ${before} ns (a CPU model bug)`);
    }
  }

  /** Wakes idle CPUs that have an interrupt, then picks the running CPU furthest behind. */
  #pick(): C | undefined {
    let best: C | undefined;
    let ties = 0;
    for (const cpu of this.cpus) {
      if (cpu.state === "idle" && cpu.wakeable()) {
        cpu.state = "running";
        cpu.timeNs = Math.max(cpu.timeNs, this.#globalNs);
      }
      if (cpu.state !== "running") continue;
      if (!best || cpu.timeNs < best.timeNs) {
        best = cpu;
        ties = 1;
      } else if (cpu.timeNs === best.timeNs) {
        // Reservoir sampling: each of the tied CPUs is chosen with equal probability.
        ties++;
        if (this.prng.range(1, ties) === 1) best = cpu;
      }
    }
    if (!best) {
      // Idle CPUs follow the machine's time while they wait.
      for (const cpu of this.cpus) {
        if (cpu.state === "idle") cpu.timeNs = Math.max(cpu.timeNs, this.#globalNs);
      }
    }
    return best;
  }

  #deadlockMessage(): string {
    const states = this.cpus.map((c) => `cpu${c.index} ${c.state}`).join(", ");
    if (this.cpus.every((c) => c.state === "stopped")) {
      return `every CPU is stopped (${states}) and nothing else can run`;
    }
    return `every CPU waits for an interrupt (${states}) and no device event is pending: ` +
      `nothing will ever wake them (check that the timer was armed and interrupts enabled)`;
  }
}
