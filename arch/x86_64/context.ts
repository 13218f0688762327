/**
 * A thread's saved user state on x86-64: what a context switch writes to the top of the
 * outgoing thread's kernel stack and reads back for the incoming one. It is laid out as
 * Linux's `struct pt_regs`, and for the same reason: its last five quadwords are exactly the
 * frame the CPU itself pushes at TSS.RSP0 when an interrupt or exception arrives from ring 3
 * (SDM Vol. 3A §6.14.2, Figure 6-9), and the error code sits where the CPU pushes one.
 *
 * ```
 * struct user_regs {        // SAVE_AREA_SIZE = 192 bytes, ending at the stack's top
 *   u64 pad;                //   0  (keeps the area a multiple of 16 bytes)
 *   u64 fs_base, gs_base;   //   8  IA32_FS_BASE, IA32_GS_BASE: thread-local storage
 *   u64 r15, r14, r13, r12; //  24
 *   u64 rbp, rbx;           //  56
 *   u64 r11, r10, r9, r8;   //  72
 *   u64 rax, rcx, rdx;      // 104
 *   u64 rsi, rdi;           // 128
 *   u64 error_code;         // 144  pushed by the CPU for some exceptions
 *   u64 rip, cs, rflags;    // 152  -- the frame the CPU pushes, and IRETQ pops
 *   u64 rsp, ss;            // 176  --
 * };
 * ```
 *
 * So an interrupt from ring 3 has already saved RIP, CS, RFLAGS, RSP and SS where they
 * belong; a system call through SYSCALL (which pushes nothing: RIP is in RCX and RFLAGS in
 * R11) has them written there by the switch. The user's R15 is saved with the rest: for a
 * TypeScript thread it holds the coroutine's handle, so the kernel cannot tell the kinds of
 * thread apart.
 *
 * @module
 */

import type { X86Cpu } from "../../emulator/x86_64/cpu_api.ts";
import {
  IA32_FS_BASE,
  IA32_GS_BASE,
  R10,
  R11,
  R12,
  R13,
  R14,
  R15,
  R8,
  R9,
  RAX,
  RBP,
  RBX,
  RCX,
  RDI,
  RDX,
  RFLAGS_FIXED,
  RFLAGS_IF,
  RSI,
} from "../../emulator/x86_64/regs.ts";
import type { PhysMem } from "../../kernel/mm/phys.ts";
import { USER_CS, USER_SS } from "./descriptors.ts";

/** Bytes of `struct user_regs`. */
export const SAVE_AREA_SIZE = 192;
/** Offset of `fs_base`. */
export const SAVE_FS_BASE = 8;
/** Offset of `gs_base`. */
export const SAVE_GS_BASE = 16;
/** Offset of `error_code`. */
export const SAVE_ERROR_CODE = 144;
/** Offset of `rip`: the start of the interrupt frame. */
export const SAVE_RIP = 152;
/** Offset of `cs`. */
export const SAVE_CS = 160;
/** Offset of `rflags`. */
export const SAVE_RFLAGS = 168;
/** Offset of `rsp`. */
export const SAVE_RSP = 176;
/** Offset of `ss`. */
export const SAVE_SS = 184;
/** Bytes of the interrupt frame (RIP, CS, RFLAGS, RSP, SS) at the top of the area. */
export const FRAME_SIZE = SAVE_AREA_SIZE - SAVE_RIP;

/** The general registers in the order `struct user_regs` keeps them (RSP is in the frame). */
export const SAVED_REGS: readonly number[] = [
  R15,
  R14,
  R13,
  R12,
  RBP,
  RBX,
  R11,
  R10,
  R9,
  R8,
  RAX,
  RCX,
  RDX,
  RSI,
  RDI,
];
/** Offset of the first general register (r15). */
const SAVE_GPRS = 24;

/** Offset of general register `reg` (RAX..R15, not RSP) in `struct user_regs`. */
export function saveOffset(reg: number): number {
  const i = SAVED_REGS.indexOf(reg);
  if (i < 0) {
    throw new RangeError(`register ${reg} is not kept with the others (RSP is in the frame)`);
  }
  return SAVE_GPRS + 8 * i;
}

/** Where a thread's user RIP, RFLAGS and RSP are while the kernel runs. */
export interface UserFrame {
  /** RIP. */
  rip: bigint;
  /** CS. */
  cs: bigint;
  /** RFLAGS. */
  rflags: bigint;
  /** RSP. */
  rsp: bigint;
  /** SS. */
  ss: bigint;
}

/**
 * Writes a new thread's state into the area at `area`: ring 3 at `entry` with RSP = `stack`,
 * RDI (the first argument) = `arg`, interrupts enabled, every other register 0.
 */
export function initUserRegs(
  mem: PhysMem,
  area: number,
  entry: bigint,
  stack: bigint,
  arg: bigint,
): void {
  mem.zero(area, SAVE_AREA_SIZE);
  mem.write(area + saveOffset(RDI), 8, arg);
  writeFrame(mem, area, {
    rip: entry,
    cs: BigInt(USER_CS),
    rflags: BigInt(RFLAGS_IF | RFLAGS_FIXED),
    rsp: stack,
    ss: BigInt(USER_SS),
  });
}

/** Writes the interrupt frame of the area at `area`. */
export function writeFrame(mem: PhysMem, area: number, f: UserFrame): void {
  mem.write(area + SAVE_RIP, 8, f.rip);
  mem.write(area + SAVE_CS, 8, f.cs);
  mem.write(area + SAVE_RFLAGS, 8, f.rflags);
  mem.write(area + SAVE_RSP, 8, f.rsp);
  mem.write(area + SAVE_SS, 8, f.ss);
}

/** Saves the CPU's general registers (not RSP) and FS/GS bases to the area at `area`. */
export function saveUserRegs(cpu: X86Cpu, mem: PhysMem, area: number): void {
  const regs = cpu.regs;
  for (let i = 0; i < SAVED_REGS.length; i++) {
    mem.write(area + SAVE_GPRS + 8 * i, 8, regs[SAVED_REGS[i]]);
  }
  mem.write(area + SAVE_FS_BASE, 8, cpu.rdmsr(IA32_FS_BASE));
  mem.write(area + SAVE_GS_BASE, 8, cpu.rdmsr(IA32_GS_BASE));
}

/**
 * Loads the general registers (not RSP: it is in the frame, for IRETQ or SYSRETQ to take)
 * and FS/GS bases saved at `area` into the CPU.
 */
export function loadUserRegs(cpu: X86Cpu, mem: PhysMem, area: number): void {
  const regs = cpu.regs;
  for (let i = 0; i < SAVED_REGS.length; i++) {
    regs[SAVED_REGS[i]] = BigInt.asIntN(64, mem.read(area + SAVE_GPRS + 8 * i, 8));
  }
  cpu.wrmsr(IA32_FS_BASE, mem.read(area + SAVE_FS_BASE, 8));
  cpu.wrmsr(IA32_GS_BASE, mem.read(area + SAVE_GS_BASE, 8));
}
