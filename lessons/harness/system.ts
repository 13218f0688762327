/**
 * Booting the whole kernel with some of the student's components in place of the reference
 * ones: what a system case runs, and what `deno task boot --mine` boots. Everything the
 * student has not written is the reference.
 *
 * The RISC-V port boots today (arch/riscv64/boot.ts). The x86-64 port's `bootSystem` is
 * being written (arch/x86_64/); until it lands, {@link SYSTEM_ARCHES} lists RISC-V only
 * and a system case runs there.
 *
 * Portable: no Deno or Node API.
 *
 * @module
 */

import type { StopReason } from "../../emulator/core/machine.ts";
import {
  bootSystem,
  type BuiltinProgram,
  RISCV_REFERENCE_COMPONENTS,
} from "../../arch/riscv64/boot.ts";
import type { KernelComponents } from "../../kernel/components.ts";
import type { Kernel } from "../../kernel/kernel.ts";
import type { ArchName } from "./define.ts";

/** The architectures whose port can boot the whole kernel now. */
export const SYSTEM_ARCHES: readonly ArchName[] = ["riscv64"];

/** How a system case boots. */
export interface SystemBootOptions {
  /** RAM in bytes (default 64 MiB). */
  memory?: number;
  /** The kernel command line (default `console=ttyS0 tick_hz=10000`). */
  cmdline?: string;
  /** The programs to start (default: one that exits at once). */
  programs?: readonly BuiltinProgram[];
  /** Virtual time to run for at most, in ns (default 2 s). */
  untilNs?: number;
}

/** What a boot produced. */
export interface SystemRun {
  /** Why the machine stopped (`paused` if it was still running at `untilNs`). */
  reason: StopReason;
  /** Everything the console UART sent, as text. */
  out: string;
  /** The machine's own reports (machine checks). */
  messages: string[];
  /** The kernel, once its boot entry ran. */
  kernel: Kernel | undefined;
  /** The first line of the kernel's panic report, if it panicked ("KERNEL PANIC on cpu0: ..."). */
  panic: string | undefined;
}

/** A program that exits with status 0 at once (RISC-V). */
export const EXIT_AT_ONCE: BuiltinProgram = {
  name: "exit",
  assembly: "li a0, 0\nli a7, 2\necall\n",
};

/** The reference components of `arch`'s port. */
export function referenceComponents(arch: ArchName): KernelComponents {
  if (arch === "riscv64") return RISCV_REFERENCE_COMPONENTS;
  throw new Error(
    "the x86-64 port cannot boot the whole kernel yet (arch/x86_64/boot.ts has not landed)",
  );
}

/** Boots `arch`'s board with `components` over the reference ones and runs it. */
export function bootWith(
  arch: ArchName,
  components: Partial<KernelComponents>,
  options: SystemBootOptions,
  seed: number,
): SystemRun {
  const all = { ...referenceComponents(arch), ...components };
  const bytes: number[] = [];
  const sys = bootSystem({
    memory: options.memory ?? 64 * 2 ** 20,
    seed,
    components: all,
    programs: options.programs ?? [EXIT_AT_ONCE],
    cmdline: options.cmdline ?? "console=ttyS0 tick_hz=10000",
    transmit: (b) => bytes.push(b),
  });
  const reason = sys.machine.run(options.untilNs ?? 2e9);
  const out = new TextDecoder().decode(new Uint8Array(bytes));
  return {
    reason,
    out,
    panic: /KERNEL PANIC on cpu\d+: .*/.exec(out)?.[0],
    messages: [...sys.machine.messages],
    kernel: sys.kernel(),
  };
}
