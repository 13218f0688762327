/**
 * TypeScript user programs: the contract under which TypeScript code runs as a user thread
 * of the emulated machine, exactly as machine code does (DESIGN.md principle 3).
 *
 * ## How it works
 *
 * A TypeScript program is a generator function registered under a name. Its ELF image is
 * ordinary: a text segment holding a four-instruction stub and the program's name.
 *
 * ```
 * _start:  ts.start        ; create the coroutine named at _start+16, run it to its first syscall
 * 1:       ecall/syscall   ; the syscall trap, taken by the real CPU instruction
 *          ts.resume       ; resume the coroutine with the syscall's results
 *          j 1b
 * _start+16: "name\0"
 * ```
 *
 * `ts.start` and `ts.resume` are instructions in each ISA's custom space (RISC-V custom-0,
 * opcode 0x0b with funct3 0 and 1; x86-64 `0F 0A ib` with ib 0 and 1). When the program
 * asks for a syscall (`yield* ctx.syscall(...)`), the CPU writes the number and arguments
 * into the architectural registers of the syscall ABI below and lets the stub's trap
 * instruction run: the kernel sees an ordinary syscall from user mode and cannot tell a
 * TypeScript thread from machine code. When the kernel returns to the instruction after the
 * trap, `ts.resume` hands the result registers back to the coroutine.
 *
 * The coroutine's handle lives in a register the ABI leaves alone (`s11` on RISC-V, `r15`
 * on x86-64), so the kernel's context switch saves and restores it with the rest of the
 * user state. A handle is bound to the address space it was created in; `ts.resume` with a
 * handle that is unknown, finished, or bound to another address space raises an
 * illegal-instruction exception (#UD), as would any other bad opcode.
 *
 * Syscall ABI used by the stub (the Linux convention, which our kernel adopts):
 *
 * | arch    | number | arguments                | results  |
 * | ------- | ------ | ------------------------ | -------- |
 * | riscv64 | a7     | a0, a1, a2, a3, a4, a5   | a0, a1   |
 * | x86_64  | rax    | rdi, rsi, rdx, r10, r8, r9 | rax, rdx |
 *
 * Memory: `ctx.load`, `ctx.store`, `ctx.read` and `ctx.write` go through the MMU of the
 * current address space with user-mode permissions. A fault is delivered to the kernel as
 * the architecture's page fault, at once, with the program counter at the stub
 * instruction that is running. A TypeScript thread cannot block in the middle of an
 * access, so the kernel must either fix the fault and return to that same instruction
 * (the access is then retried and the program never notices) or not return to it: then
 * the coroutine is abandoned, the access throws {@link UserThreadAbandoned}, and a later
 * `ts.resume` with that handle raises an illegal-instruction exception.
 *
 * Preemption happens at instruction boundaries of the stub, that is at every syscall. A
 * program that throws, or returns without making an exit syscall, raises an
 * illegal-instruction exception at the stub and the machine reports why.
 *
 * Virtual time: each step of a coroutine (start or resume) costs
 * {@link USER_STEP_COST} instructions, and each memory access one more.
 *
 * Generators rather than async functions: the CPU drives the coroutine synchronously from
 * its instruction loop, with no microtask queue between a syscall and its reply.
 *
 * @module
 */

/** Instructions charged for one `ts.start` or `ts.resume` step. */
export const USER_STEP_COST = 20;

/** Offset from `_start` of the program's NUL-terminated name in the stub. */
export const STUB_NAME_OFFSET = 16;

/** Longest program name `ts.start` reads. */
export const STUB_NAME_MAX = 64;

/** The token a program's generator yields when it has put a syscall in the registers. */
export const SYSCALL: unique symbol = Symbol("syscall");

/** What a user program's generator yields. */
export type SyscallTrap = typeof SYSCALL;

/**
 * What a TypeScript user program sees of its CPU: user mode, through the MMU.
 *
 * Register values (arguments, the stack pointer, results) are the register file's signed
 * 64-bit values on both architectures, so an error code of -14 reads as -14n everywhere.
 */
export interface UserContext {
  /** The architecture the program runs on. */
  readonly arch: "riscv64" | "x86_64";
  /**
   * The six argument registers when the thread started (a0..a5, or rdi, rsi, rdx, rcx,
   * r8, r9), as the kernel set them up.
   */
  readonly args: readonly bigint[];
  /** The initial stack pointer the kernel gave the thread. */
  readonly stackPointer: bigint;
  /**
   * Makes a syscall: `const r = yield* ctx.syscall(nr, a, b)`. Returns the first result
   * register; the second is in {@link UserContext.result1}.
   */
  syscall(nr: bigint, ...args: bigint[]): Generator<SyscallTrap, bigint, void>;
  /** The second result register of the last syscall (a1, or rdx). */
  readonly result1: bigint;
  /** Loads `size` (1, 2, 4 or 8) bytes at `va`, zero-extended. */
  load(va: number, size: number): bigint;
  /** Stores the low `size` bytes of `value` at `va`. */
  store(va: number, size: number, value: bigint): void;
  /** Copies `length` bytes out of user memory at `va`. */
  read(va: number, length: number): Uint8Array;
  /** Copies `bytes` into user memory at `va`. */
  write(va: number, bytes: Uint8Array): void;
}

/** A TypeScript user program. It must end with its kernel's exit syscall. */
export type UserProgram = (ctx: UserContext) => Generator<SyscallTrap, void, void>;

/** Thrown out of a memory access when the kernel did not return to the faulting thread. */
export class UserThreadAbandoned extends Error {
  /** Builds the error for the thread with `handle`. */
  constructor(handle: number, why: string) {
    super(`TypeScript thread ${handle} was abandoned: ${why}`);
    this.name = "UserThreadAbandoned";
  }
}

/** The programs a machine can run as TypeScript user threads, by name. */
export class UserProgramRegistry {
  #programs = new Map<string, UserProgram>();

  /** Registers `program` under `name` (at most {@link STUB_NAME_MAX} - 1 ASCII bytes). */
  register(name: string, program: UserProgram): void {
    if (!/^[\x21-\x7e]{1,63}$/.test(name)) {
      throw new RangeError(
        `program name "${name}" must be 1 to 63 printable ASCII characters without spaces`,
      );
    }
    this.#programs.set(name, program);
  }

  /** The program registered under `name`, if any. */
  get(name: string): UserProgram | undefined {
    return this.#programs.get(name);
  }

  /** Every registered name. */
  names(): string[] {
    return [...this.#programs.keys()].sort();
  }
}

/** A live coroutine, as the CPU keeps it. */
export interface UserThreadSlot {
  /** The handle (also in s11 / r15). */
  readonly handle: number;
  /** The program's name, for messages. */
  readonly name: string;
  /** The running generator. */
  readonly generator: Generator<SyscallTrap, void, void>;
  /** The address space it is bound to (satp's root page number, or CR3's). */
  readonly addressSpace: number;
  /** Set when the coroutine can never run again, with the reason. */
  dead: string | undefined;
}

/** The coroutines of one machine. Handles start at 1 and are never reused. */
export class UserThreadTable {
  #slots = new Map<number, UserThreadSlot>();
  #dead = new Map<number, string>();
  #next = 1;

  /** Creates a slot for `generator`, bound to `addressSpace`. */
  create(
    name: string,
    generator: Generator<SyscallTrap, void, void>,
    addressSpace: number,
  ): UserThreadSlot {
    const slot: UserThreadSlot = {
      handle: this.#next++,
      name,
      generator,
      addressSpace,
      dead: undefined,
    };
    this.#slots.set(slot.handle, slot);
    return slot;
  }

  /** The slot for `handle`, or undefined. */
  get(handle: number): UserThreadSlot | undefined {
    return this.#slots.get(handle);
  }

  /** Marks a slot dead and frees the generator; the reason is kept for later messages. */
  kill(slot: UserThreadSlot, why: string): void {
    slot.dead = why;
    this.#slots.delete(slot.handle);
    this.#dead.set(slot.handle, why);
    // Keep the reasons of the most recent deaths only.
    if (this.#dead.size > 1024) this.#dead.delete(this.#dead.keys().next().value!);
  }

  /** Why the coroutine with `handle` died, if it did recently. */
  whyDead(handle: number): string | undefined {
    return this.#dead.get(handle);
  }

  /** How many coroutines are alive. */
  get size(): number {
    return this.#slots.size;
  }
}
