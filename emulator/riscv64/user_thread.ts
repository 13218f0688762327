/**
 * The CPU side of TypeScript user programs on RISC-V: the custom-0 instructions `ts.start`
 * and `ts.resume`, and the UserContext a program sees. The contract is in
 * `emulator/core/user_program.ts`, and what every CPU does the same way (the context's
 * bookkeeping, a step of the coroutine) in `emulator/core/user_thread.ts`; this file
 * implements the rest for this hart:
 *
 * - `ts.start` (opcode 0x0b, funct3 0) reads the program's name at pc + 16 through the
 *   MMU with U-mode permissions (a fault there is an ordinary load fault at `ts.start`,
 *   retried when the kernel returns), creates the coroutine bound to satp.PPN, puts its
 *   handle in s11 (x27) and runs it to its first syscall.
 * - `ts.resume` (funct3 1) checks the handle in s11, and that it belongs to the current
 *   address space, then runs the coroutine on to its next syscall.
 * - A step that ends in a syscall has put a7 and a0..a5 in the registers; the hart moves
 *   on to the stub's `ecall`, which traps as any ecall does. The results are read from a0
 *   and a1 when the coroutine is resumed.
 * - `ctx.load`/`store`/`read`/`write` go through the MMU with U-mode permissions. A fault
 *   is delivered at once: the hart traps with sepc at the stub instruction and runs the
 *   kernel until it leaves S-mode. If the kernel returned to that instruction in U-mode
 *   with the same handle in s11 and the same address space, the access is retried;
 *   otherwise the coroutine is abandoned and the access throws UserThreadAbandoned.
 * - A program that throws, returns (it never made its exit syscall), yields anything but
 *   a syscall, or whose handle is unknown, dead or from another address space raises an
 *   illegal-instruction exception at the stub instruction, and the machine reports why.
 *
 * Cost: each step is USER_STEP_COST instructions (and ns), each `ctx` memory call one
 * more.
 *
 * @module
 */

import { hex } from "../core/memory.ts";
import { STUB_NAME_MAX, STUB_NAME_OFFSET, type UserThreadSlot } from "../core/user_program.ts";
import { stepUserThread, threadName, thrownText, UserThreadContext } from "../core/user_thread.ts";
import { EXC_ILLEGAL_INST } from "./csr.ts";
import { PRIV_U } from "./hart_api.ts";
import type { RiscvHart } from "./hart.ts";
import { faultMessage, memLoad, memStore, translate } from "./access.ts";
import { ACCESS_READ, ACCESS_WRITE } from "./mmu.ts";
import { causeName, takeTrap } from "./trap.ts";

/** s11, the register that holds the coroutine's handle. */
export const HANDLE_REGISTER = 27;

const contexts = new WeakMap<UserThreadSlot, RiscvUserContext>();

/** The UserContext of one RISC-V TypeScript thread: a0..a7 and the Sv39/Sv48 MMU. */
class RiscvUserContext extends UserThreadContext<RiscvHart> {
  readonly arch = "riscv64" as const;
  protected readonly argumentRegisters = "a0..a5";

  constructor(hart: RiscvHart) {
    const x = hart.x;
    super(hart, hart.machine.userThreads, Array.from({ length: 6 }, (_, i) => x[10 + i]), x[2]);
  }

  protected putSyscall(nr: bigint, args: readonly bigint[]): void {
    const x = this.cpu.x;
    x[17] = nr;
    for (let i = 0; i < 6; i++) x[10 + i] = args[i] ?? 0n;
  }

  protected result(k: 0 | 1): bigint {
    return this.cpu.x[10 + k];
  }

  load(va: number, size: number): bigint {
    const h = this.#enter(va, size);
    const vaBig = BigInt.asUintN(64, BigInt(va));
    for (;;) {
      const v = memLoad(h, va, vaBig, size, PRIV_U);
      if (v !== undefined) return v;
      this.#deliver(ACCESS_READ);
    }
  }

  store(va: number, size: number, value: bigint): void {
    const h = this.#enter(va, size);
    const vaBig = BigInt.asUintN(64, BigInt(va));
    while (!memStore(h, va, vaBig, size, value, PRIV_U)) this.#deliver(ACCESS_WRITE);
  }

  read(va: number, length: number): Uint8Array {
    const h = this.#enter(va, 1, length);
    const out = new Uint8Array(length);
    this.#copy(h, va, length, ACCESS_READ, (off, at, n) => {
      out.set(h.machine.ram.u8.subarray(off, off + n), at);
    }, (at) => {
      const v = memLoad(h, va + at, BigInt.asUintN(64, BigInt(va + at)), 1, PRIV_U);
      if (v !== undefined) out[at] = Number(v);
      return v !== undefined;
    });
    return out;
  }

  write(va: number, bytes: Uint8Array): void {
    const h = this.#enter(va, 1, bytes.length);
    this.#copy(h, va, bytes.length, ACCESS_WRITE, (off, at, n) => {
      h.machine.ram.u8.set(bytes.subarray(at, at + n), off);
      if (h.reservations.active !== 0) h.reservations.storeRangeHit(off, n, h.index);
    }, (at) => memStore(h, va + at, BigInt.asUintN(64, BigInt(va + at)), 1, BigInt(bytes[at]), 0));
  }

  /**
   * Copies `length` bytes page by page: `ram` for a run of RAM (buffer offset, position,
   * count), `slow` for one byte elsewhere (false when it faulted).
   */
  #copy(
    h: RiscvHart,
    va: number,
    length: number,
    kind: number,
    ram: (off: number, at: number, n: number) => void,
    slow: (at: number) => boolean,
  ): void {
    let at = 0;
    while (at < length) {
      const here = va + at;
      const n = Math.min(length - at, 4096 - (here - Math.floor(here / 4096) * 4096));
      const code = translate(h, here, kind, PRIV_U);
      if (code < 0 && h.xlatOff >= 0) {
        ram(h.xlatOff, at, n);
        at += n;
      } else if (code < 0 && slow(at)) {
        at += 1;
      } else {
        if (code >= 0) {
          h.faultCode = code;
          h.faultTval = BigInt.asUintN(64, BigInt(here));
        }
        this.#deliver(kind);
      }
    }
  }

  /** Checks that the context may be used now and charges one access. */
  #enter(va: number, size: number, length = size): RiscvHart {
    this.check();
    if (!Number.isSafeInteger(va)) throw new RangeError(`address ${va} is not an integer`);
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
      throw new RangeError(`access size ${size} is not 1, 2, 4 or 8 bytes`);
    }
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new RangeError(`length ${length} is not a byte count`);
    }
    this.charge(1);
    return this.cpu;
  }

  /** Delivers the last fault to the kernel now; returns to retry, or throws if abandoned. */
  #deliver(kind: number): void {
    const h = this.cpu;
    const slot = this.slot;
    const m = h.machine;
    const what = `${causeName(h.faultCode, false)} at ${hex(h.faultTval)}`;
    const why = faultMessage(h, kind, PRIV_U);
    if (m.trace.trap) m.trace.emit("trap", h.index, { why, thread: slot.handle });
    const pc = BigInt.asUintN(64, BigInt(this.stubPc));
    if (takeTrap(h, h.faultCode, false, h.faultTval, pc)) h.runKernelNested();
    if (
      !m.stopReason && h.state === "running" && h.priv === PRIV_U && h.vpc === this.stubPc &&
      h.x[HANDLE_REGISTER] === BigInt(slot.handle) && h.satpPpn === slot.addressSpace
    ) {
      return; // the kernel fixed it and returned to the stub instruction: retry
    }
    this.abandon(`the kernel did not return to it after a ${what} (${why})`);
  }
}

/** Raises an illegal-instruction exception at `pc` for `ins`, after reporting `why`. */
function illegal(h: RiscvHart, pc: number, ins: number, why: string): void {
  h.machine.report(
    h.index,
    `${why} (illegal instruction at ${hex(BigInt.asUintN(64, BigInt(pc)))})`,
  );
  h.instret--;
  takeTrap(h, EXC_ILLEGAL_INST, false, BigInt(ins >>> 0), BigInt.asUintN(64, BigInt(pc)));
}

/**
 * Executes a custom-0 instruction (opcode 0x0b) at `pc` from U-mode: `ts.start`,
 * `ts.resume`, or an illegal instruction. The caller has counted one instruction and
 * synchronised the hart's time; afterwards the hart's pc and privilege are current.
 */
export function execCustom0(h: RiscvHart, pc: number, ins: number): void {
  const f3 = (ins >>> 12) & 7;
  if (f3 === 0) tsStart(h, pc, ins);
  else if (f3 === 1) tsResume(h, pc, ins);
  else {
    h.instret--;
    takeTrap(h, EXC_ILLEGAL_INST, false, BigInt(ins >>> 0), BigInt.asUintN(64, BigInt(pc)));
  }
}

function tsStart(h: RiscvHart, pc: number, ins: number): void {
  const m = h.machine;
  const at = pc + STUB_NAME_OFFSET;
  const bytes: number[] = [];
  for (let i = 0; i < STUB_NAME_MAX; i++) {
    const va = BigInt.asUintN(64, BigInt(at + i));
    const v = memLoad(h, at + i, va, 1, PRIV_U);
    if (v === undefined) {
      h.instret--;
      takeTrap(h, h.faultCode, false, h.faultTval, BigInt.asUintN(64, BigInt(pc)));
      return;
    }
    if (v === 0n) break;
    bytes.push(Number(v));
  }
  const where = () => `ts.start at ${hex(BigInt.asUintN(64, BigInt(pc)))}`;
  if (bytes.length === STUB_NAME_MAX) {
    return illegal(
      h,
      pc,
      ins,
      `${where()}: no NUL-terminated program name within ` +
        `${STUB_NAME_MAX} bytes at ${hex(BigInt.asUintN(64, BigInt(at)))}`,
    );
  }
  const name = String.fromCharCode(...bytes);
  const program = m.programs.get(name);
  if (!program) {
    return illegal(
      h,
      pc,
      ins,
      `${where()}: no TypeScript program named "${name}" is registered ` +
        `(registered: ${m.programs.names().join(", ") || "none"})`,
    );
  }
  const ctx = new RiscvUserContext(h);
  const slot = m.userThreads.create(name, program(ctx), h.satpPpn);
  ctx.slot = slot;
  contexts.set(slot, ctx);
  h.x[HANDLE_REGISTER] = BigInt(slot.handle);
  step(h, pc, ins, ctx);
}

function tsResume(h: RiscvHart, pc: number, ins: number): void {
  const m = h.machine;
  const where = () => `ts.resume at ${hex(BigInt.asUintN(64, BigInt(pc)))}`;
  const hv = h.x[HANDLE_REGISTER];
  const handle = hv > 0n && hv < 0x8000_0000n ? Number(hv) : -1;
  const slot = m.userThreads.get(handle);
  if (!slot) {
    const dead = m.userThreads.whyDead(handle);
    return illegal(
      h,
      pc,
      ins,
      `${where()}: s11 = ${hv} is not a live TypeScript thread` +
        (dead ? ` (thread ${handle} died: ${dead})` : ""),
    );
  }
  if (slot.addressSpace !== h.satpPpn) {
    return illegal(
      h,
      pc,
      ins,
      `${where()}: thread ${handle} (${slot.name}) belongs to the ` +
        `address space with root PPN ${hex(slot.addressSpace)}, but satp.PPN is ${hex(h.satpPpn)}`,
    );
  }
  step(h, pc, ins, contexts.get(slot)!);
}

/** Runs the coroutine to its next syscall and moves the hart on, or raises the error. */
function step(h: RiscvHart, pc: number, ins: number, ctx: RiscvUserContext): void {
  const end = stepUserThread(ctx, h, pc);
  if (end === "syscall") {
    h.vpc = pc + 4;
    return;
  }
  if (end === "abandoned") return; // the hart is wherever the kernel left it
  const who = threadName(ctx.slot);
  const why = end === "returned"
    ? `${who} returned without making its exit syscall`
    : end === "yielded"
    ? `${who} yielded something other than a syscall (use yield* ctx.syscall(...))`
    : `${who} threw ${thrownText(end.threw)}`;
  h.machine.userThreads.kill(ctx.slot, why);
  illegal(h, pc, ins, why);
}
