/**
 * What a kernel system test needs from a board, so that each test is written once and run on
 * both (DESIGN.md principle 5). `riscv64.ts` (the `virt` board) and `x86_64.ts` (the PC) each
 * implement {@link Board}: how to boot and run, the machine-code programs the tests use in
 * that board's assembly, and the hardware's own words the reports must contain. `boards.ts`
 * registers a test for both.
 *
 * Everything here is the same for both boards; everything in a board module differs only
 * where the architectures do.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { StopReason } from "../../emulator/core/machine.ts";
import type { Trace } from "../../emulator/core/trace.ts";
import type { Bus } from "../../emulator/core/bus.ts";
import type { UserProgram } from "../../emulator/core/user_program.ts";
import type { Arch, ArchName } from "../../kernel/arch.ts";
import type {
  KernelComponents,
  PageTableFormat,
  PageTablesFactory,
  SchedClass,
} from "../../kernel/components.ts";
import type { Kernel } from "../../kernel/kernel.ts";
import type { Thread } from "../../kernel/proc/thread.ts";

/** A program to start at boot: machine code in the board's assembly, or TypeScript. */
export interface TestProgram {
  /** Its name. */
  name: string;
  /** Assembly for the board's ISA (RV64, or x86-64 in NASM syntax). */
  assembly?: string;
  /** A TypeScript program. */
  typescript?: UserProgram;
  /** Its scheduling class (default normal). */
  schedClass?: SchedClass;
  /** Its level (default 128). */
  priority?: number;
}

/** How to boot, the same on both boards. */
export interface RunOptions {
  /** RAM in bytes (default 256 MiB). */
  memory?: number;
  /** CPUs, harts on RISC-V (default 1). */
  cpus?: number;
  /** The seed. */
  seed?: number;
  /** A trace to record into. */
  trace?: Trace;
  /** The components (default: the board's reference components). */
  components?: KernelComponents;
  /** The programs (default: the demo). */
  programs?: readonly TestProgram[];
  /** The kernel command line. */
  cmdline?: string;
}

/** What a test may touch of a booted system, the same on both boards. */
export interface System {
  /** The machine. */
  machine: {
    run(untilNs?: number): StopReason;
    readonly messages: string[];
    readonly bus: Bus;
  };
  /** The port. */
  arch: Arch;
  /** The kernel, once it booted. */
  kernel(): Kernel | undefined;
  /** The board, for where the firmware put the boot information. */
  board: { readonly bootInfoAddress: number };
}

/** A system booted and not yet run, with what its console has sent so far. */
export interface Started<S extends System = System> {
  /** The system. */
  sys: S;
  /** Everything the console UART sent until now. */
  output(): string;
}

/** What a run produced. */
export interface Run<S extends System = System> {
  /** Why the machine stopped. */
  reason: StopReason;
  /** Everything the console UART sent. */
  out: string;
  /** The machine's own diagnostics (machine checks, TypeScript thread deaths). */
  messages: string[];
  /** The kernel. */
  kernel: Kernel;
  /** The system. */
  sys: S;
}

/** A user exception a test provokes: the instructions, and what the kill report says. */
export interface UserException {
  /** The faulting instructions. */
  body: string;
  /** The report's second line: the hardware's words for the trap. */
  cause: RegExp;
  /** The report's first line, when a test checks the kernel's name for it. */
  killed?: RegExp;
  /**
   * The report's third line: the MMU's walk of the faulting address, or null when the
   * hardware gave no address (the registers follow at once).
   */
  walk?: RegExp | null;
}

/** The TLB flushes of a run, counted from the trace, and what each test expects of them. */
export interface TlbFlushCounter {
  /** The counts so far, by the kinds the board's trace names. */
  readonly counts: Readonly<Record<string, number>>;
  /** Asserts the flushes of a run whose ASIDs rolled over `rollovers` times. */
  afterRollovers(rollovers: number): void;
  /** Asserts the flushes of a run that switched address spaces and never rolled over. */
  withoutRollover(): void;
  /** Asserts the flushes of a run whose kernel forgot the rollover's flush. */
  sabotaged(): void;
}

/** One board: how to boot it, its programs, and its hardware's words. */
export interface Board<S extends System = System> {
  /** The architecture: test names start with it. */
  readonly name: ArchName;

  // ---- booting and running ----------------------------------------------------------------

  /** Boots with `options`, ready to run. */
  start(options: RunOptions): Started<S>;
  /**
   * Boots with `options`, lets `prepare` change the system, and runs until the machine
   * stops or `untilNs` of virtual time.
   */
  run(options: RunOptions, untilNs?: number, prepare?: (sys: S) => void): Run<S>;
  /**
   * A stop reason as "shutdown 0" (a clean power-off), "shutdown 1" (a panic), or
   * "kind: message", the same on both boards.
   */
  stopped(r: { reason: StopReason }): string;
  /** The lines a program printed (see {@link userLines}). */
  userLines(out: string, name?: string): string[];
  /** The board's own exit code of a clean power-off. */
  readonly SUCCESS_CODE: number;
  /** The board's own exit code of a panic's power-off. */
  readonly FAILURE_CODE: number;
  /** The state of each CPU (hart), by index. */
  cpuStates(sys: S): string[];
  /** Throws what `bootSystem` throws for `options` (or nothing). */
  bootSystem(options: RunOptions): void;
  /** What `bootSystem` says of 1 MiB of RAM. */
  readonly TOO_LITTLE_RAM: RegExp;
  /** The reference components, with the port's page tables. */
  readonly REFERENCE_COMPONENTS: KernelComponents;
  /** The port's page-table format and its reference factory. */
  readonly PAGE_TABLES: { format: PageTableFormat; create: PageTablesFactory };

  // ---- addresses ----------------------------------------------------------------------------

  /** The direct map's view of the kernel image: kernel memory, never a user's. */
  readonly KERNEL_ADDRESS: bigint;
  /** A device's physical address, which no user page maps. */
  readonly DEVICE_ADDRESS: number;
  /** The pc of a TypeScript thread's `ts.resume` step, as fault reports give it. */
  readonly TS_RESUME_PC: string;

  // ---- machine-code programs ----------------------------------------------------------------

  /** Exits with `status` (a number or a register): the tail of every test program. */
  EXIT(status: string | number): string;
  /** Writes the NUL-terminated string at `label` through debug_write. */
  PUTS(label: string): string;
  /** Invalid assembly, which the board's assembler refuses by naming it. */
  readonly BAD_ASSEMBLY: string;
  /** Counts down from a few hundred thousand, then exits. */
  readonly SPIN_THEN_EXIT: string;
  /** Loops forever. */
  readonly SPIN: string;
  /** Prints "step" three times with some work between, then "done", and exits 0. */
  readonly WORKER: string;
  /** Some work, then `body`, then exit 0. */
  faulty(body: string): string;
  /** Prints "step" three times with work between, kills process 1, says so, exits 0. */
  readonly KILLER: string;
  /** Prints "start", computes for `iterations` loop turns, prints "end", exits 0. */
  startEnd(iterations: number): string;
  /** Prints `text` and a newline `rounds` times, each after `iterations` loop turns. */
  repeat(text: string, rounds: number, iterations: number): string;
  /** Writes a line now and then (20 times), so traps happen. */
  readonly CHATTY: string;
  /**
   * Checks system-call results in the return register: each `[n, nr, arg0, arg1, expected]`
   * makes call `nr` and exits with a status naming `n` if the result differs; "msg" as arg0
   * is the address of "ok\n". Exits 0 when all passed, once per system-call channel.
   */
  syscallChecks(checks: readonly [number, number, string, string, number][]): string;
  /** How many system-call channels {@link syscallChecks} goes through: one "ok" line each. */
  readonly SYSCALL_CHANNELS: number;
  /**
   * Programs that set every register, make an unknown system call (no switch) and a `yield`
   * (a switch to another of them and back), and check every register the call must keep;
   * each exits 0 when all were kept, else with a status naming the register.
   */
  readonly REGISTER_KEEPERS: readonly TestProgram[];
  /**
   * Fills every general register from `key`, then `iterations` times increments and checks
   * them all; exits 0 when all survived, else with a status naming the register.
   */
  registerChecker(key: number, iterations: number): string;
  /** Iterations of {@link registerChecker} that take about a thousand preemptions. */
  readonly REGISTER_CHECK_ITERATIONS: number;
  /** The checker's source with a system call in each turn that changes a checked register. */
  clobbered(source: string): string;
  /** The exit status the clobbered checker ends with: the register the call changes. */
  readonly CLOBBERED_STATUS: number;
  /**
   * With `sys` paused between the checkers `running` and `waiting` (of the checker with
   * `key`): asserts the trap's kernel-stack register points at the running thread's stack,
   * and the waiting one's registers are in the save area at the top of its stack.
   */
  checkSwitchedOut(sys: S, running: Thread, waiting: Thread, key: number): void;
  /** Creates `threads` threads one by one, each exiting at once; memstats before and after. */
  threadChurn(threads: number): string;
  /** Stores `key` in its data page, then yields and checks it `turns` times. */
  keeper(key: number, turns: number): string;
  /** Creates sleeping threads until E_NOMEM, then exits with how many it made. */
  readonly GREEDY: string;

  // ---- the hardware's words -----------------------------------------------------------------

  /** The demo's boot log, stage by stage, in order. */
  readonly DEMO_BOOT_LOG: readonly RegExp[];
  /** What the boot log says with 4 GiB and four CPUs. */
  readonly FOUR_CPUS_LOG: readonly RegExp[];
  /** A user store to kernel memory: the instructions and the kill report's lines. */
  readonly KERNEL_WRITE: { body: string; report: readonly RegExp[] };
  /** Every kind of user exception the board has, by program name. */
  readonly USER_EXCEPTIONS: Readonly<Record<string, UserException>>;
  /** The timer the kernel picks by default. */
  readonly DEFAULT_TIMER: RegExp;
  /** The timer with `timer=platform` and a 10 kHz tick. */
  readonly PLATFORM_TIMER: RegExp;
  /** Counts the TLB flushes `trace` records. */
  countTlbFlushes(trace: Trace): TlbFlushCounter;
  /** A panic report's trap line for CHATTY's debug_write. */
  readonly SYSCALL_TRAP: RegExp;
  /** A panic report's user-state line for CHATTY's debug_write. */
  readonly SYSCALL_USER_STATE: RegExp;
  /** A panic report's first two lines when the direct map is missing. */
  readonly MISSING_DIRECT_MAP: readonly RegExp[];
  /** Points the trap's kernel-stack register (sscratch, TSS.RSP0) away from the thread's. */
  corruptKernelStackPointer(sys: S): void;
}

/** The lines a program printed (debug_write), without the log prefix: `name[tid]: text`. */
export function userLines(out: string, name?: string): string[] {
  return out.split("\n")
    .map((l) => /^\[ *[\d.]+\] cpu\d+ info {2}(\S+?)\[(\d+)\]: (.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && (name === undefined || m[1] === name))
    .map((m) => (name === undefined ? `${m[1]}: ${m[3]}` : m[3]));
}

/** Lets `prepare` change a started system, then runs it until it stops or `untilNs`. */
export function runStarted<S extends System>(
  { sys, output }: Started<S>,
  untilNs: number,
  prepare?: (sys: S) => void,
): Run<S> {
  prepare?.(sys);
  const reason = sys.machine.run(untilNs);
  return { reason, out: output(), messages: sys.machine.messages, kernel: sys.kernel()!, sys };
}

/** The lines of the panic report in `out`, without their log prefix. */
export function panicReport(out: string): string[] {
  const at = out.indexOf("KERNEL PANIC");
  assert.ok(at >= 0, `a panic report:\n${out}`);
  return out.slice(at).split("\n").map((l) => l.replace(/^\[ *[\d.]+\] cpu\d+ error /, ""));
}

/** Decodes what a console sent. */
export function text(bytes: readonly number[]): string {
  return new TextDecoder().decode(new Uint8Array(bytes));
}
