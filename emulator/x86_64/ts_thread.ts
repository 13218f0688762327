/**
 * The CPU side of TypeScript user programs on x86-64 (the contract is in
 * `emulator/core/user_program.ts`): the instructions `ts.start` (`0F 0A 00`) and
 * `ts.resume` (`0F 0A 01`), and the {@link UserContext} a program uses.
 *
 * The stub a program's ELF image holds:
 *
 * ```
 * _start:     0F 0A 00    ts.start    ; create the coroutine named at _start+16, run it
 * 1:          0F 05       syscall     ; its syscall, through the real instruction
 *             0F 0A 01    ts.resume   ; hand rax and rdx back to it, run it again
 *             EB F9       jmp 1b
 * _start+16:  "name\0"
 * ```
 *
 * A program's memory accesses go through this CPU's MMU with user permissions. A fault is
 * delivered at once (RIP = the stub instruction that is running), and the kernel runs
 * nested, inside the access, until the CPU is back in ring 3 or waits: if it returned to
 * that stub instruction with the same handle in R15 and the same address space, the access
 * is retried; otherwise the coroutine is abandoned and the access throws
 * UserThreadAbandoned (the CPU stays where the kernel put it).
 *
 * @module
 */

import { hex } from "../core/memory.ts";
import {
  STUB_NAME_MAX,
  STUB_NAME_OFFSET,
  SYSCALL,
  type SyscallTrap,
  USER_STEP_COST,
  type UserContext,
  UserThreadAbandoned,
  type UserThreadSlot,
} from "../core/user_program.ts";
import { canonicalNumber, FAULT, u64, type X86Processor } from "./cpu.ts";
import { deliverEvent, EV_EXCEPTION } from "./exceptions.ts";
import { EXC_UD, R10, R15, R8, R9, RAX, RCX, RDI, RDX, RSI, RSP } from "./regs.ts";

/** How many kernel entries a fault inside a program's access may run before giving up. */
const NESTED_ENTRY_LIMIT = 10_000;

/** The context object of one coroutine. */
class X86UserContext implements UserContext {
  readonly arch = "x86_64" as const;
  readonly args: readonly bigint[];
  readonly stackPointer: bigint;
  result1 = 0n;
  /** The CPU running the coroutine now (a thread may be resumed on another CPU). */
  cpu: X86Processor;
  /** The stub instruction running now (the RIP a fault is reported at). */
  stepIp = 0;
  /** The coroutine's handle. */
  handle = 0;
  /** Set when the kernel did not come back to a faulting access. */
  abandoned: string | undefined = undefined;

  constructor(cpu: X86Processor) {
    this.cpu = cpu;
    const r = cpu.regs;
    this.args = [r[RDI], r[RSI], r[RDX], r[RCX], r[R8], r[R9]].map((v) => BigInt.asUintN(64, v));
    this.stackPointer = BigInt.asUintN(64, r[RSP]);
  }

  *syscall(nr: bigint, ...args: bigint[]): Generator<SyscallTrap, bigint, void> {
    this.#check();
    const regs = this.cpu.regs;
    const order = [RDI, RSI, RDX, R10, R8, R9];
    if (args.length > order.length) {
      throw new RangeError(`a syscall takes at most 6 arguments, not ${args.length}`);
    }
    regs[RAX] = nr;
    args.forEach((a, k) => (regs[order[k]] = a));
    yield SYSCALL;
    this.#check();
    this.result1 = BigInt.asUintN(64, this.cpu.regs[RDX]);
    return BigInt.asUintN(64, this.cpu.regs[RAX]);
  }

  load(va: number, size: number): bigint {
    return this.#access(() => this.cpu.ldB(this.#addr(va, size), size));
  }

  store(va: number, size: number, value: bigint): void {
    this.#access(() => this.cpu.stB(this.#addr(va, size), size, value));
  }

  read(va: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let k = 0; k < length; k++) out[k] = Number(this.load(va + k, 1));
    return out;
  }

  write(va: number, bytes: Uint8Array): void {
    for (let k = 0; k < bytes.length; k++) this.store(va + k, 1, BigInt(bytes[k]));
  }

  #addr(va: number, size: number): number {
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
      throw new RangeError(`access size ${size} is not 1, 2, 4 or 8`);
    }
    const n = canonicalNumber(BigInt.asIntN(64, BigInt(va)));
    if (n === undefined) throw new RangeError(`address ${hex(va)} is not canonical`);
    return n;
  }

  #check(): void {
    if (this.abandoned) throw new UserThreadAbandoned(this.handle, this.abandoned);
  }

  /** Runs a memory access; a fault is delivered now and the access retried if it may be. */
  #access<T>(fn: () => T): T {
    for (;;) {
      this.#check();
      const cpu = this.cpu;
      cpu.timeNs += 1;
      try {
        return fn();
      } catch (e) {
        if (e !== FAULT) throw e;
      }
      const space = cpu.pml4;
      deliverEvent(cpu, cpu.fVector, EV_EXCEPTION, cpu.fError, this.stepIp);
      cpu.runKernelNested(NESTED_ENTRY_LIMIT);
      const back = cpu.state === "running" && !cpu.machine.stopReason && cpu.cplN === 3 &&
        cpu.ip === this.stepIp && Number(cpu.regs[R15] & 0xffff_ffffn) === this.handle &&
        cpu.pml4 === space;
      if (!back) {
        this.abandoned = "the kernel did not return to the instruction whose access faulted";
        throw new UserThreadAbandoned(this.handle, this.abandoned);
      }
    }
  }
}

/** Runs `ts.start` and `ts.resume` for one CPU. */
export class TsThreads {
  readonly #cpu: X86Processor;
  readonly #contexts = new Map<number, X86UserContext>();

  /** The TypeScript-thread instructions of `cpu`. */
  constructor(cpu: X86Processor) {
    this.#cpu = cpu;
  }

  /** Executes `ts.start` (sub 0) or `ts.resume` (sub 1) at `ip`. */
  execute(sub: number, ip: number, next: number): void {
    const cpu = this.#cpu;
    const m = cpu.machine;
    const space = Math.floor(cpu.pml4 / 4096);
    let slot: UserThreadSlot;
    let ctx: X86UserContext;
    if (sub === 0) {
      const name = this.#readName(ip + STUB_NAME_OFFSET);
      const program = m.programs.get(name);
      if (!program) {
        return this.#illegal(
          ip,
          `ts.start: no TypeScript program is registered as "${name}" (known: ${
            m.programs.names().join(", ") || "none"
          })`,
        );
      }
      ctx = new X86UserContext(cpu);
      let generator;
      try {
        generator = program(ctx);
      } catch (e) {
        return this.#illegal(ip, `ts.start: program "${name}" threw while starting: ${e}`);
      }
      slot = m.userThreads.create(name, generator, space);
      ctx.handle = slot.handle;
      cpu.regs[R15] = BigInt(slot.handle);
      this.#contexts.set(slot.handle, ctx);
    } else {
      const handle = Number(cpu.regs[R15] & 0xffff_ffffn);
      const found = m.userThreads.get(handle);
      if (!found) {
        const why = m.userThreads.whyDead(handle);
        return this.#illegal(
          ip,
          `ts.resume: R15 = ${handle} is not a live TypeScript thread${why ? ` (${why})` : ""}`,
        );
      }
      if (found.addressSpace !== space) {
        return this.#illegal(
          ip,
          `ts.resume: thread ${handle} (${found.name}) belongs to another address space`,
        );
      }
      slot = found;
      ctx = this.#contexts.get(handle) ?? this.#adopt(handle);
    }
    ctx.cpu = cpu;
    ctx.stepIp = ip;
    cpu.timeNs += USER_STEP_COST - 1;
    let step: IteratorResult<SyscallTrap, void>;
    try {
      step = slot.generator.next();
    } catch (e) {
      this.#forget(slot);
      if (ctx.abandoned || e instanceof UserThreadAbandoned) {
        m.userThreads.kill(slot, ctx.abandoned ?? String(e));
        return; // the CPU is where the kernel left it
      }
      if (typeof e === "object" && e !== null && "stopped" in e) throw e;
      m.userThreads.kill(slot, `threw ${e}`);
      const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      return this.#illegal(
        ip,
        `TypeScript program "${slot.name}" (thread ${slot.handle}) threw ${what}`,
      );
    }
    if (ctx.abandoned) {
      this.#forget(slot);
      m.userThreads.kill(slot, ctx.abandoned);
      return;
    }
    if (step.done) {
      this.#forget(slot);
      m.userThreads.kill(slot, "returned");
      return this.#illegal(
        ip,
        `TypeScript program "${slot.name}" (thread ${slot.handle}) returned without an exit ` +
          `syscall`,
      );
    }
    cpu.ip = next; // on to the stub's syscall instruction
  }

  /** Another CPU created the coroutine: its context moves with it. */
  #adopt(handle: number): X86UserContext {
    for (const c of this.#cpu.machine.cpus) {
      const ts = (c as X86Processor).ts;
      const other = ts ? ts.#take(handle) : undefined;
      if (other) {
        this.#contexts.set(handle, other);
        return other;
      }
    }
    throw new Error(`TypeScript thread ${handle} has no context on any CPU`);
  }

  #take(handle: number): X86UserContext | undefined {
    const c = this.#contexts.get(handle);
    this.#contexts.delete(handle);
    return c;
  }

  #forget(slot: UserThreadSlot): void {
    this.#contexts.delete(slot.handle);
  }

  /** Reads the NUL-terminated program name with user permissions (a fault is a #PF). */
  #readName(va: number): string {
    const bytes: number[] = [];
    for (let k = 0; k < STUB_NAME_MAX; k++) {
      const b = this.#cpu.ld8(va + k);
      if (b === 0) return String.fromCharCode(...bytes);
      bytes.push(b);
    }
    return String.fromCharCode(...bytes);
  }

  /** #UD at the stub instruction, with the machine saying why. */
  #illegal(ip: number, why: string): void {
    const cpu = this.#cpu;
    cpu.machine.report(cpu.index, `${why} (at ${hex(u64(ip))}): #UD`);
    cpu.faultWhy = why;
    cpu.raise(EXC_UD);
  }
}
