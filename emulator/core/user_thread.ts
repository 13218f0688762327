/**
 * The CPU side of TypeScript user programs that is the same on every architecture (the
 * contract is in user_program.ts): the bookkeeping of a coroutine's {@link UserContext},
 * and running one step of the coroutine.
 *
 * Each CPU's module (riscv64/user_thread.ts, x86_64/ts_thread.ts) extends
 * {@link UserThreadContext} with what is architectural: the syscall ABI's registers, the
 * memory accesses through its MMU and the delivery of their faults; and it decodes
 * `ts.start` and `ts.resume`, finds the handle in its register, and raises its
 * illegal-instruction exception with a report when a thread cannot go on.
 *
 * Cost: a step is {@link USER_STEP_COST} instructions (the CPU has counted the stub
 * instruction itself; {@link stepUserThread} charges the rest), a memory access one more.
 *
 * @module
 */

import type { Cpu } from "./machine.ts";
import {
  SYSCALL,
  type SyscallTrap,
  USER_STEP_COST,
  type UserContext,
  UserThreadAbandoned,
  type UserThreadSlot,
  type UserThreadTable,
} from "./user_program.ts";

/** How many argument registers the syscall ABI has (user_program.ts). */
export const SYSCALL_ARGUMENTS = 6;

/**
 * The state of one coroutine's context that every CPU keeps the same way: the slot, the
 * stub instruction running, whether a step is running, whether the thread was abandoned,
 * and the syscall sequence (check, registers, yield, check, results).
 */
export abstract class UserThreadContext<C extends Cpu> implements UserContext {
  /** The architecture the program runs on. */
  abstract readonly arch: "riscv64" | "x86_64";
  /** The six argument registers when the thread started. */
  readonly args: readonly bigint[];
  /** The initial stack pointer. */
  readonly stackPointer: bigint;
  /** The second result register of the last syscall. */
  result1 = 0n;
  /** The CPU running the current step (a thread may be resumed on another CPU). */
  cpu: C;
  /** The coroutine's slot in the machine's table, once it is created. */
  slot!: UserThreadSlot;
  /** The address of the stub instruction whose step is running: a fault's pc. */
  stubPc = 0;
  /** True while a step runs: the context may be used only then. */
  stepping = false;
  /** Set, with the reason, when the kernel did not return to the thread after a fault. */
  abandoned: string | undefined;

  readonly #threads: UserThreadTable;

  /**
   * A context for a thread starting on `cpu` with the argument registers `args` and stack
   * pointer `stackPointer` (both as unsigned values); `threads` is the machine's table.
   */
  constructor(cpu: C, threads: UserThreadTable, args: readonly bigint[], stackPointer: bigint) {
    this.cpu = cpu;
    this.#threads = threads;
    this.args = args;
    this.stackPointer = stackPointer;
  }

  /** The ABI's argument registers, named for a message: `a0..a5`. */
  protected abstract readonly argumentRegisters: string;
  /** Puts the syscall number and arguments (missing ones as the CPU likes) in the registers. */
  protected abstract putSyscall(nr: bigint, args: readonly bigint[]): void;
  /** Result register `k` (0 or 1) once the kernel has returned. */
  protected abstract result(k: 0 | 1): bigint;

  /** Makes a syscall (see {@link UserContext.syscall}). */
  *syscall(nr: bigint, ...args: bigint[]): Generator<SyscallTrap, bigint, void> {
    this.check();
    if (args.length > SYSCALL_ARGUMENTS) {
      throw new RangeError(
        `a syscall takes at most 6 arguments (${this.argumentRegisters}), got ${args.length}`,
      );
    }
    this.putSyscall(nr, args);
    yield SYSCALL;
    this.check();
    this.result1 = this.result(1);
    return this.result(0);
  }

  /** See {@link UserContext.load}. */
  abstract load(va: number, size: number): bigint;
  /** See {@link UserContext.store}. */
  abstract store(va: number, size: number, value: bigint): void;
  /** See {@link UserContext.read}. */
  abstract read(va: number, length: number): Uint8Array;
  /** See {@link UserContext.write}. */
  abstract write(va: number, bytes: Uint8Array): void;

  /** Throws unless the context may be used now: inside its own step, not abandoned. */
  check(): void {
    if (this.abandoned) throw new UserThreadAbandoned(this.slot.handle, this.abandoned);
    if (!this.stepping) {
      throw new Error(
        `TypeScript thread ${this.slot.handle} (${this.slot.name}) used its context outside ` +
          `its own step (keep ctx inside the program's generator)`,
      );
    }
  }

  /** Charges `n` instructions (and as many ns) to the CPU running the step. */
  charge(n: number): void {
    this.cpu.timeNs += n;
    this.cpu.instret += n;
  }

  /**
   * Gives the thread up because the kernel did not return to it after a fault (`why`):
   * its slot dies with that reason, and the access throws {@link UserThreadAbandoned}.
   */
  abandon(why: string): never {
    this.abandoned = why;
    this.#threads.kill(this.slot, why);
    throw new UserThreadAbandoned(this.slot.handle, why);
  }
}

/**
 * How a step ended: at a syscall (the CPU moves on to the stub's trap instruction);
 * abandoned (the slot is dead and the CPU is wherever the kernel left it); or, for a
 * program that can never run again, because it returned (without making its exit
 * syscall), yielded something other than a syscall, or threw.
 */
export type StepEnd = "syscall" | "abandoned" | "returned" | "yielded" | {
  readonly threw: unknown;
};

/**
 * Runs the coroutine of `ctx` on `cpu` from the stub instruction at `stubPc` to its next
 * syscall, charging the rest of {@link USER_STEP_COST}. For "returned", "yielded" and a
 * throw the caller kills the slot and raises its illegal-instruction exception.
 */
export function stepUserThread<C extends Cpu>(
  ctx: UserThreadContext<C>,
  cpu: C,
  stubPc: number,
): StepEnd {
  ctx.cpu = cpu;
  ctx.stubPc = stubPc;
  ctx.charge(USER_STEP_COST - 1);
  ctx.stepping = true;
  let r: IteratorResult<SyscallTrap, void>;
  try {
    r = ctx.slot.generator.next();
  } catch (e) {
    return ctx.abandoned ? "abandoned" : { threw: e };
  } finally {
    ctx.stepping = false;
  }
  if (ctx.abandoned) return "abandoned";
  if (r.done) return "returned";
  return r.value === SYSCALL ? "syscall" : "yielded";
}

/** `TypeScript program "name" (thread 3)`: how the messages name a thread. */
export function threadName(slot: UserThreadSlot): string {
  return `TypeScript program "${slot.name}" (thread ${slot.handle})`;
}

/** What a program threw, for a message: `TypeError: bad state`. */
export function thrownText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
