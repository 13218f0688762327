/**
 * Booting the whole kernel with some of the student's components in place of the reference
 * ones: what a system case runs, and what `deno task boot --mine` boots. Everything the
 * student has not written is the reference.
 *
 * Both ports boot the whole kernel: arch/x86_64/boot.ts on the PC, arch/riscv64/boot.ts on
 * the virt board.
 *
 * Portable: no Deno or Node API.
 *
 * @module
 */

import type { StopReason } from "../../emulator/core/machine.ts";
import {
  bootSystem as bootRiscv,
  type BuiltinProgram,
  RISCV_REFERENCE_COMPONENTS,
} from "../../arch/riscv64/boot.ts";
import {
  bootSystem as bootX86,
  exitStatus as x86ExitStatus,
  X86_REFERENCE_COMPONENTS,
} from "../../arch/x86_64/boot.ts";
import type { KernelComponents } from "../../kernel/components.ts";
import type { Kernel } from "../../kernel/kernel.ts";
import type { ArchName } from "./define.ts";
import type { FailureDetails } from "./failure.ts";

/** The architectures whose port can boot the whole kernel now. */
export const SYSTEM_ARCHES: readonly ArchName[] = ["x86_64", "riscv64"];

/** How a system case boots. */
export interface SystemBootOptions {
  /** RAM in bytes (default 64 MiB). */
  memory?: number;
  /** The kernel command line (default `console=ttyS0 tick_hz=10000`). */
  cmdline?: string;
  /**
   * The programs to start, their assembly in the architecture's own syntax (GNU as for
   * RISC-V, NASM for x86-64); default: one that exits at once ({@link exitAtOnce}).
   */
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
  /** Whether the kernel powered the machine off reporting success (every program exited). */
  succeeded: boolean;
}

/** A program that exits with status 0 at once: exit(0), system call 2. */
export function exitAtOnce(arch: ArchName): BuiltinProgram {
  return {
    name: "exit",
    assembly: arch === "riscv64"
      ? "li a0, 0\nli a7, 2\necall\n"
      : "mov eax, 2\nxor edi, edi\nsyscall\n",
  };
}

/** The reference components of `arch`'s port. */
export function referenceComponents(arch: ArchName): KernelComponents {
  return arch === "riscv64" ? RISCV_REFERENCE_COMPONENTS : X86_REFERENCE_COMPONENTS;
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
  const boot = {
    memory: options.memory ?? 64 * 2 ** 20,
    seed,
    components: all,
    programs: options.programs ?? [exitAtOnce(arch)],
    cmdline: options.cmdline ?? "console=ttyS0 tick_hz=10000",
    transmit: (b: number) => void bytes.push(b),
  };
  const sys = arch === "riscv64" ? bootRiscv(boot) : bootX86(boot);
  const reason = sys.machine.run(options.untilNs ?? 2e9);
  const out = new TextDecoder().decode(new Uint8Array(bytes));
  return {
    reason,
    out,
    panic: /KERNEL PANIC on cpu\d+: .*/.exec(out)?.[0],
    succeeded: reason.kind === "shutdown" &&
      (arch === "riscv64" ? reason.code === 0 : x86ExitStatus(reason.code) === 0),
    messages: [...sys.machine.messages],
    kernel: sys.kernel(),
  };
}

/** The checks {@link checkCleanRun} needs of a case's context. */
export interface RunChecks {
  /** Fails the case. */
  fail(message: string, details?: FailureDetails): never;
  /** Fails the case unless `condition` holds. */
  check(condition: boolean, message: string, details?: FailureDetails): void;
}

/**
 * What every lesson's system case asks of a boot: the kernel did not panic, each pattern of
 * `expect` matches the console output, and the kernel powered the machine off as it does
 * when every program exited. A failure shows the console's last lines and the machine's
 * own reports.
 */
export function checkCleanRun(t: RunChecks, run: SystemRun, expect: readonly RegExp[] = []): void {
  const tail = ["the last lines on the console:", ...run.out.split("\n").slice(-12)];
  if (run.panic) t.fail(`the kernel panicked: ${run.panic}`, { hardware: tail });
  for (const re of expect) {
    t.check(re.test(run.out), `the console output has no line matching ${re.source}`, {
      hardware: [...tail, ...run.messages],
    });
  }
  t.check(run.succeeded, "the kernel did not run to its normal power-off", {
    saw: `the machine stopped: ${"message" in run.reason ? run.reason.message : run.reason.kind}`,
    hardware: [...tail, ...run.messages],
  });
}
