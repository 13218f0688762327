/**
 * The architecture-neutral half of the exec layer's tiny kernel: what the RISC-V and the
 * x86-64 port do the same way, so that each port (riscv64.ts, x86_64.ts) keeps only what
 * is architectural (its page-table format, its entry code, how it decodes a trap).
 *
 * An {@link ExecKernel} is one run of one program:
 *
 * 1. the constructor builds a bare machine (RAM and the port's one CPU, no devices) and a
 *    frame allocator over its RAM;
 * 2. `load` maps the ELF's PT_LOAD segments into the port's address space (loader.ts) and
 *    lays out the Linux initial stack below `stackTop` (stack.ts), with the auxiliary
 *    vector Linux gives a static program;
 * 3. from the port's trap entries: `syscall` serves a syscall (linux.ts), `growStack`
 *    maps a fresh page when the program touches its stack below what is mapped (as Linux
 *    grows a stack, up to its limit), and `kill` ends the program with a signal and a
 *    message like QEMU's;
 * 4. `run` runs the machine and turns how it stopped into an {@link ExecResult}.
 *
 * @module
 */

import type { ElfImage } from "../../emulator/asm/elf.ts";
import { type Cpu, Machine } from "../../emulator/core/machine.ts";
import { hex } from "../../emulator/core/memory.ts";
import { Prng } from "../../emulator/core/prng.ts";
import type { AddressSpace } from "./address_space.ts";
import { FrameAllocator, OutOfMemory, PAGE_SIZE } from "./frames.ts";
import {
  LinuxProcess,
  SIGNAL_NAMES,
  SIGSEGV,
  type SyscallNumbers,
  type UserMemory,
} from "./linux.ts";
import { loadSegments, mapZeroed } from "./loader.ts";
import { DEFAULT_MEMORY, DEFAULT_STACK, type ExecOptions, type ExecResult } from "./port.ts";
import {
  AT_BASE,
  AT_CLKTCK,
  AT_EGID,
  AT_ENTRY,
  AT_EUID,
  AT_FLAGS,
  AT_GID,
  AT_HWCAP,
  AT_PAGESZ,
  AT_PHDR,
  AT_PHENT,
  AT_PHNUM,
  AT_SECURE,
  AT_UID,
  buildInitialStack,
} from "./stack.ts";

/**
 * What a port tells the neutral kernel about its machine. `C` is the CPU type the machine
 * is built for, `P` the class of the CPU the port builds.
 */
export interface ExecLayout<C extends Cpu, P extends C = C> {
  /** Where RAM starts in the physical address space (all of `options.memory` is RAM). */
  readonly ramBase: number;
  /** Where the kernel's frames start (the rest of RAM above it is handed out as needed). */
  readonly framesBase: number;
  /** The address just above the user stack. */
  readonly stackTop: number;
  /** The architecture's syscall numbers. */
  readonly syscalls: SyscallNumbers;
  /** Builds the machine's one CPU, number 0, and adds it to `machine.cpus`. */
  cpu(machine: Machine<C>): P;
  /** The physical address user mode reads at `va` through `cpu`'s MMU, or undefined. */
  userRead(cpu: P, va: bigint): number | undefined;
}

/** A program the kernel refuses to start, with the reason (reported like OutOfMemory). */
export class LoadError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "LoadError";
  }
}

/** One run of one static Linux program (see the module comment and {@link ExecLayout}). */
export class ExecKernel<C extends Cpu, P extends C = C> {
  /** The bare machine. */
  readonly machine: Machine<C>;
  /** Its one CPU. */
  readonly cpu: P;
  /** Physical frames for page tables, segments, the stack and the port's own tables. */
  readonly frames: FrameAllocator;
  /** The address just above the user stack. */
  readonly stackTop: number;
  /** The lowest address the stack may grow down to (its limit). */
  readonly stackBottom: number;
  /** What the program was killed with, once it was. */
  killed: { signal: number; message: string } | undefined;

  readonly #options: ExecOptions;
  readonly #process: LinuxProcess;
  #space: AddressSpace | undefined;

  /** Builds the machine and its CPU, and registers the TypeScript programs of `options`. */
  constructor(options: ExecOptions, layout: ExecLayout<C, P>) {
    const memory = options.memory ?? DEFAULT_MEMORY;
    this.#options = options;
    this.machine = new Machine<C>({ memory, seed: options.seed, trace: options.trace });
    this.machine.bus.addRam(layout.ramBase, memory);
    this.cpu = layout.cpu(this.machine);
    for (const [name, program] of Object.entries(options.programs ?? {})) {
      this.machine.programs.register(name, program);
    }
    this.frames = new FrameAllocator(layout.framesBase, layout.ramBase + memory);
    this.stackTop = layout.stackTop;
    const stackSize = Math.ceil((options.stackSize ?? DEFAULT_STACK) / PAGE_SIZE) * PAGE_SIZE;
    this.stackBottom = layout.stackTop - stackSize;
    const memoryOfUser = userMemory(this.machine, (va) => layout.userRead(this.cpu, va));
    this.#process = new LinuxProcess(layout.syscalls, memoryOfUser, options.output);
  }

  /**
   * Maps every PT_LOAD segment of `image` into `space`, then the pages of the initial
   * stack with its contents; `hwcap` is the architecture's AT_HWCAP. Returns the initial
   * stack pointer. Throws {@link OutOfMemory} when RAM runs out, and {@link LoadError} when
   * the arguments do not fit in the stack or a segment reaches into the stack region.
   */
  load(image: ElfImage, space: AddressSpace, hwcap: number): number {
    this.#space = space;
    loadSegments(image, space, this.frames, this.machine.bus);
    const random = new Uint8Array(16);
    const prng = new Prng(this.machine.seed ^ 0x5eed);
    for (let i = 0; i < 16; i++) random[i] = prng.nextU32() & 0xff;
    const auxv: [number, number][] = [
      ...(image.phdrAddress !== undefined
        ? [[AT_PHDR, image.phdrAddress] as [number, number]]
        : []),
      [AT_PHENT, 56],
      [AT_PHNUM, image.phnum],
      [AT_PAGESZ, PAGE_SIZE],
      [AT_BASE, 0],
      [AT_FLAGS, 0],
      [AT_ENTRY, image.entry],
      [AT_UID, 0],
      [AT_EUID, 0],
      [AT_GID, 0],
      [AT_EGID, 0],
      [AT_HWCAP, hwcap],
      [AT_CLKTCK, 100],
      [AT_SECURE, 0],
    ];
    const top = this.stackTop;
    const stack = buildInitialStack({
      top,
      args: this.#options.args,
      env: this.#options.env ?? [],
      auxv,
      random,
    });
    const stackSize = top - this.stackBottom;
    if (top - stack.sp > stackSize) {
      throw new LoadError(
        `the arguments and environment do not fit in the ${stackSize}-byte stack`,
      );
    }
    // The stack region must be free: a segment there would be overwritten or grown into.
    for (let page = this.stackBottom; page < top; page += PAGE_SIZE) {
      if (space.lookup(page)) {
        throw new LoadError(
          `the program's segments reach into the stack region ` +
            `${hex(this.stackBottom)}..${hex(top)} (at ${hex(page)}): link it lower`,
        );
      }
    }
    // The pages the initial stack occupies now; the rest are mapped when first touched.
    mapZeroed(space, this.frames, top, Math.ceil((top - stack.sp) / PAGE_SIZE) * PAGE_SIZE);
    for (let off = 0; off < stack.bytes.length;) {
      const va = stack.sp + off;
      const chunk = Math.min(stack.bytes.length - off, PAGE_SIZE - (va % PAGE_SIZE));
      const pa = space.lookup(va)!.pa + (va % PAGE_SIZE);
      this.machine.bus.writeBytes(pa, stack.bytes.subarray(off, off + chunk));
      off += chunk;
    }
    return stack.sp;
  }

  /**
   * The result of a run that could not start because setting it up threw `e`: an
   * {@link OutOfMemory} or a {@link LoadError}, whose message says why. Anything else is
   * a bug, and is thrown again.
   */
  refuse(e: unknown): ExecResult {
    if (e instanceof OutOfMemory || e instanceof LoadError) {
      return { status: 1, how: "error", message: `exec: ${e.message}`, instret: 0, timeNs: 0 };
    }
    throw e;
  }

  /**
   * Serves syscall `nr` with the six argument registers `args`. Returns the value for the
   * result register, or undefined when the program exited (the machine is powered off
   * with its status, and the kernel must not return to it).
   */
  syscall(nr: bigint, args: readonly bigint[]): bigint | undefined {
    const outcome = this.#process.syscall(nr, args);
    const machine = this.machine;
    if (machine.trace.kernel) {
      machine.trace.emit("kernel", this.cpu.index, {
        syscall: outcome.name,
        result: outcome.kind === "exit" ? `exit ${outcome.status}` : String(outcome.value),
      });
    }
    if (outcome.kind === "exit") {
      machine.powerOff(outcome.status, `the program called ${outcome.name}(${outcome.status})`);
      return undefined;
    }
    return outcome.value;
  }

  /**
   * Demand paging of the stack, as Linux grows a stack: a user access to `va`, an
   * unmapped page of the stack region, gets a fresh zeroed page. "grown": the port
   * retries the access (after whatever TLB flush its architecture needs); "no": `va` is
   * not the stack's to grow, an ordinary fault; "killed": RAM ran out, and the program was
   * killed with SIGSEGV.
   */
  growStack(va: number): "grown" | "no" | "killed" {
    const space = this.#space!;
    if (!(va >= this.stackBottom && va < this.stackTop) || space.lookup(va)) return "no";
    const page = va - (va % PAGE_SIZE);
    try {
      space.map(page, this.frames.allocate(), { read: true, write: true, execute: false });
    } catch (e) {
      if (!(e instanceof OutOfMemory)) throw e;
      this.#die(SIGSEGV, `exec: cannot grow the stack: ${e.message}`);
      return "killed";
    }
    return "grown";
  }

  /** Kills the program with `signal`, saying what it did (`detail`) as QEMU does. */
  kill(signal: number, detail: string): void {
    this.#die(signal, `exec: uncaught signal ${signal} (${SIGNAL_NAMES[signal]}) - ${detail}`);
  }

  #die(signal: number, message: string): void {
    this.killed = { signal, message };
    this.machine.powerOff(128 + signal, message);
  }

  /**
   * Runs the machine until the program ends or `options.limitNs` of virtual time pass,
   * and says how it ended. `where` names the CPU's program counter for a timeout message
   * (`pc 0x...`, `rip 0x...`).
   */
  run(where: () => string): ExecResult {
    const limitNs = this.#options.limitNs;
    const stop = this.machine.run(limitNs ?? Infinity);
    const done = { instret: this.cpu.instret, timeNs: this.cpu.timeNs };
    switch (stop.kind) {
      case "shutdown":
        return this.killed
          ? {
            status: stop.code,
            how: "signal",
            signal: this.killed.signal,
            message: this.killed.message,
            ...done,
          }
          : { status: stop.code, how: "exit", ...done };
      case "paused":
        return {
          status: 124,
          how: "timeout",
          message: `exec: stopped after ${limitNs} ns of virtual time (${where()})`,
          ...done,
        };
      default:
        return {
          status: 1,
          how: "error",
          message: `exec: the machine stopped: ${(stop as { message: string }).message}`,
          ...done,
        };
    }
  }
}

/** Copies user memory page by page, through `translate` (user-mode reads), as write() does. */
function userMemory<C extends Cpu>(
  machine: Machine<C>,
  translate: (va: bigint) => number | undefined,
): UserMemory {
  return {
    read(va, length) {
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const at = va + done;
        const pa = translate(BigInt(at));
        if (pa === undefined) break;
        const chunk = Math.min(length - done, PAGE_SIZE - (at % PAGE_SIZE));
        const bytes = machine.bus.readBytes(pa, chunk);
        if (!bytes) break;
        out.set(bytes, done);
        done += chunk;
      }
      return out.subarray(0, done);
    },
  };
}
