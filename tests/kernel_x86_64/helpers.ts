/**
 * Helpers for the kernel's system tests on the PC: boot with the reference kernel (or broken
 * components) and a set of small programs, run it to the end, and return what COM1 printed,
 * why the machine stopped, and the kernel for inspection. They mirror tests/kernel/helpers.ts
 * name for name, so a suite can be written once over both (see README.md here).
 *
 * Tests use a fast tick (`tick_hz`) and short programs, so each boots and runs in a fraction
 * of a second of wall time.
 *
 * @module
 */

import type { StopReason } from "../../emulator/core/machine.ts";
import {
  bootSystem,
  type BootSystemOptions,
  exitStatus,
  type X86System,
} from "../../arch/x86_64/boot.ts";
import type { Kernel } from "../../kernel/kernel.ts";

/** What a run produced. */
export interface Run {
  /** Why the machine stopped. */
  reason: StopReason;
  /** Everything COM1 sent. */
  out: string;
  /** The machine's own diagnostics (machine checks, TypeScript thread deaths). */
  messages: string[];
  /** The kernel. */
  kernel: Kernel;
  /** The system, for the machine and CPUs. */
  sys: X86System;
}

/** Boots with `options` and runs until the machine stops or `untilNs` of virtual time. */
export function run(
  options: BootSystemOptions,
  untilNs = 2e9,
  prepare?: (s: X86System) => void,
): Run {
  const bytes: number[] = [];
  const sys = bootSystem({ ...options, transmit: (b) => bytes.push(b) });
  prepare?.(sys);
  const reason = sys.machine.run(untilNs);
  return {
    reason,
    out: new TextDecoder().decode(new Uint8Array(bytes)),
    messages: sys.machine.messages,
    kernel: sys.kernel()!,
    sys,
  };
}

/** The lines a program printed (debug_write), without the log prefix: `name[tid]: text`. */
export function userLines(out: string, name?: string): string[] {
  return out.split("\n")
    .map((l) => /^\[ *[\d.]+\] cpu\d+ info {2}(\S+?)\[(\d+)\]: (.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && (name === undefined || m[1] === name))
    .map((m) => (name === undefined ? `${m[1]}: ${m[3]}` : m[3]));
}

/**
 * Asserts-friendly summary of a stop reason, with the debug-exit statuses turned into the
 * RISC-V board's: "shutdown 0" for a clean power-off, "shutdown 1" for a panic.
 */
export function stopped(r: Run): string {
  const why = r.reason;
  return why.kind === "shutdown"
    ? `shutdown ${exitStatus(why.code)}`
    : `${why.kind}: ${"message" in why ? why.message : ""}`;
}

/** Exits with `status` (a number or a register): the tail of every test program. */
export const EXIT = (status: string | number) => `
    mov   rdi, ${status}
    mov   eax, 2
    syscall
`;

let label = 0;

/**
 * Writes the NUL-terminated string at `name` through debug_write (clobbers RAX, RDI, RSI,
 * RCX and R11). Its labels are local ones, unique per use.
 */
export const PUTS = (name: string) => {
  const n = label++;
  return `
    lea   rdi, [rel ${name}]
    mov   rsi, rdi
.puts${n}_scan:
    cmp   byte [rsi], 0
    je    .puts${n}_end
    inc   rsi
    jmp   .puts${n}_scan
.puts${n}_end:
    sub   rsi, rdi
    mov   eax, 1
    syscall
`;
};
