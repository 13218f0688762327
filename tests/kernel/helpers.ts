/**
 * Helpers for the kernel's system tests: boot the RISC-V board with the reference kernel (or
 * broken components) and a set of small programs, run it to the end, and return what the
 * console printed, why the machine stopped, and the kernel for inspection.
 *
 * Tests use a fast tick (`tick_hz`) and short programs, so each boots and runs in a fraction
 * of a second of wall time.
 *
 * @module
 */

import type { StopReason } from "../../emulator/core/machine.ts";
import { bootSystem, type BootSystemOptions, type RiscvSystem } from "../../arch/riscv64/boot.ts";
import type { Kernel } from "../../kernel/kernel.ts";

/** What a run produced. */
export interface Run {
  /** Why the machine stopped. */
  reason: StopReason;
  /** Everything the UART sent. */
  out: string;
  /** The machine's own diagnostics (machine checks, TypeScript thread deaths). */
  messages: string[];
  /** The kernel. */
  kernel: Kernel;
  /** The system, for the machine and harts. */
  sys: RiscvSystem;
}

/** Boots with `options` and runs until the machine stops or `untilNs` of virtual time. */
export function run(options: BootSystemOptions, untilNs = 2e9): Run {
  const bytes: number[] = [];
  const sys = bootSystem({ ...options, transmit: (b) => bytes.push(b) });
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

/** Asserts-friendly summary of a stop reason. */
export function stopped(r: Run): string {
  const why = r.reason;
  return why.kind === "shutdown"
    ? `shutdown ${why.code}`
    : `${why.kind}: ${"message" in why ? why.message : ""}`;
}

/** Exits with the status in a0: the tail of every test program. */
export const EXIT = (status: string | number) => `
    li    a0, ${status}
    li    a7, 2
    ecall
`;

/** Writes the NUL-terminated string at `label` through debug_write (clobbers a0, a1, a7, t0, t1). */
export const PUTS = (label: string) => `
    la    a0, ${label}
    mv    t0, a0
91: lbu   t1, 0(t0)
    beqz  t1, 92f
    addi  t0, t0, 1
    j     91b
92: sub   a1, t0, a0
    li    a7, 1
    ecall
`;
