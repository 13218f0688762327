/**
 * The CPU side of TypeScript user programs on x86-64 (the contract is in
 * `emulator/core/user_program.ts`, and what every CPU does the same way, the context's
 * bookkeeping and a step of the coroutine, in `emulator/core/user_thread.ts`): the
 * instructions `ts.start` (`0F 0A 00`) and `ts.resume` (`0F 0A 01`), and the UserContext
 * a program uses, with the Linux syscall registers (number in RAX; arguments in RDI, RSI,
 * RDX, R10, R8, R9; results in RAX and RDX) and the handle in R15.
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
import { STUB_NAME_MAX, STUB_NAME_OFFSET, type UserThreadSlot } from "../core/user_program.ts";
import { stepUserThread, threadName, thrownText, UserThreadContext } from "../core/user_thread.ts";
import { canonicalNumber, FAULT, STOPPED, u64, type X86Processor } from "./cpu.ts";
import { deliverEvent, EV_EXCEPTION } from "./exceptions.ts";
import { EXC_UD, R10, R15, R8, R9, RAX, RCX, RDI, RDX, RSI, RSP } from "./regs.ts";

/** How many kernel entries a fault inside a program's access may run before giving up. */
const NESTED_ENTRY_LIMIT = 10_000;

/** The syscall ABI's argument registers, in order (user_program.ts). */
const SYSCALL_ARGUMENT_REGISTERS = [RDI, RSI, RDX, R10, R8, R9];

/** Each coroutine's context, found from its slot on whichever CPU resumes it. */
const contexts = new WeakMap<UserThreadSlot, X86UserContext>();

/** The context object of one coroutine: the Linux syscall registers and 4-level paging. */
class X86UserContext extends UserThreadContext<X86Processor> {
  readonly arch = "x86_64" as const;
  protected readonly argumentRegisters = "rdi, rsi, rdx, r10, r8, r9";

  constructor(cpu: X86Processor) {
    const r = cpu.regs;
    super(
      cpu,
      cpu.machine.userThreads,
      [r[RDI], r[RSI], r[RDX], r[RCX], r[R8], r[R9]],
      r[RSP],
    );
  }

  protected putSyscall(nr: bigint, args: readonly bigint[]): void {
    const regs = this.cpu.regs;
    regs[RAX] = nr;
    args.forEach((a, k) => (regs[SYSCALL_ARGUMENT_REGISTERS[k]] = a));
  }

  protected result(k: 0 | 1): bigint {
    return this.cpu.regs[k === 0 ? RAX : RDX];
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

  /** Runs a memory access; a fault is delivered now and the access retried if it may be. */
  #access<T>(fn: () => T): T {
    for (;;) {
      this.check();
      this.charge(1);
      const cpu = this.cpu;
      try {
        return fn();
      } catch (e) {
        if (e !== FAULT) throw e;
      }
      const space = cpu.pml4;
      deliverEvent(cpu, cpu.fVector, EV_EXCEPTION, cpu.fError, this.stubPc);
      cpu.runKernelNested(NESTED_ENTRY_LIMIT);
      const back = cpu.state === "running" && !cpu.machine.stopReason && cpu.cplN === 3 &&
        cpu.ip === this.stubPc && Number(cpu.regs[R15] & 0xffff_ffffn) === this.slot.handle &&
        cpu.pml4 === space;
      if (!back) this.abandon("the kernel did not return to the instruction whose access faulted");
    }
  }
}

/** Runs `ts.start` and `ts.resume` for one CPU. */
export class TsThreads {
  readonly #cpu: X86Processor;

  /** The TypeScript-thread instructions of `cpu`. */
  constructor(cpu: X86Processor) {
    this.#cpu = cpu;
  }

  /** Executes `ts.start` (sub 0) or `ts.resume` (sub 1) at `ip`. */
  execute(sub: number, ip: number, next: number): void {
    const cpu = this.#cpu;
    const m = cpu.machine;
    const space = Math.floor(cpu.pml4 / 4096);
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
      ctx.slot = m.userThreads.create(name, generator, space);
      contexts.set(ctx.slot, ctx);
      cpu.regs[R15] = BigInt(ctx.slot.handle);
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
      ctx = contexts.get(found)!;
    }
    const end = stepUserThread(ctx, cpu, ip);
    if (end === "syscall") {
      cpu.ip = next; // on to the stub's syscall instruction
      return;
    }
    if (end === "abandoned") return; // the CPU is where the kernel left it
    if (typeof end === "object" && end.threw === STOPPED) throw STOPPED; // the machine stopped
    const who = threadName(ctx.slot);
    const why = end === "returned"
      ? `${who} returned without an exit syscall`
      : end === "yielded"
      ? `${who} yielded something other than a syscall (use yield* ctx.syscall(...))`
      : `${who} threw ${thrownText(end.threw)}`;
    m.userThreads.kill(ctx.slot, why);
    return this.#illegal(ip, why);
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
