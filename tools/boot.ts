/**
 * `deno task boot`: boots the system on the emulator, with the UART on this terminal.
 *
 * It boots the reference kernel (kernel/ with arch/x86_64/ or arch/riscv64/) on the
 * emulated PC (the default) or RISC-V `virt` board, with the built-in user programs of
 * servers/demo/, and exits with the kernel's status when the machine powers off.
 *
 * ```
 * deno task boot [--arch riscv64|x86_64] [--mem 256M] [--cpus N] [--seed N] [--trace KINDS]
 *                [--mine]
 * ```
 *
 * `--mine` boots with the student's component from every lesson they passed (lessons/;
 * see lessons/harness/mine.ts) and the reference for the rest, and says which are whose.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { formatSize, parseSize } from "../emulator/core/memory.ts";
import type { Cpu, Machine, StopReason } from "../emulator/core/machine.ts";
import { formatEvent, TRACE_KINDS, type TraceKind } from "../emulator/core/trace.ts";
import { bootSystem as bootRiscv, RISCV_REFERENCE_COMPONENTS } from "../arch/riscv64/boot.ts";
import {
  bootSystem as bootX86,
  exitStatus,
  X86_REFERENCE_COMPONENTS,
} from "../arch/x86_64/boot.ts";
import type { KernelComponents } from "../kernel/components.ts";
import { DEFAULT_CACHE_DIR } from "../lessons/harness/cache.ts";
import { LESSONS_ROOT } from "../lessons/harness/catalog.ts";
import { mineComponents } from "../lessons/harness/mine.ts";

const USAGE = `usage: deno task boot [options]

  --arch ARCH     x86_64 or riscv64                                [x86_64]
  --mem SIZE      RAM, e.g. 256M or 4G                             [256M]
  --cpus N        number of CPUs (harts), 1 to 16                  [1]
  --seed N        seed for the CPU interleaving                    [1]
  --trace KINDS   comma-separated trace categories to print to stderr
                  (${TRACE_KINDS.join(", ")}, or all)
  --mine          boot with your components from every lesson you passed
  --help          this text`;

/** Parses the command line; returns an error message or the options. */
export function parseBootArgs(args: string[]): string | BootOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        arch: { type: "string", default: "x86_64" },
        mem: { type: "string", default: "256M" },
        cpus: { type: "string", default: "1" },
        seed: { type: "string", default: "1" },
        trace: { type: "string", default: "" },
        mine: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    }).values;
  } catch (e) {
    return `${(e as Error).message}\n\n${USAGE}`;
  }
  if (parsed.help) return USAGE;
  if (parsed.arch !== "riscv64" && parsed.arch !== "x86_64") {
    return `--arch ${parsed.arch}: choose x86_64 or riscv64`;
  }
  const memory = parseSize(parsed.mem);
  if (memory === undefined) return `--mem ${parsed.mem}: give a size such as 256M or 4G`;
  const cpus = Number(parsed.cpus), seed = Number(parsed.seed);
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 16) return `--cpus ${parsed.cpus}: 1 to 16`;
  if (!Number.isInteger(seed)) return `--seed ${parsed.seed}: give an integer`;
  const trace = parsed.trace ? parsed.trace.split(",").map((s) => s.trim()) : [];
  for (const k of trace) {
    if (k !== "all" && !TRACE_KINDS.includes(k as TraceKind)) {
      return `--trace ${k}: not a trace category (${TRACE_KINDS.join(", ")}, all)`;
    }
  }
  const kinds = trace.includes("all") ? [...TRACE_KINDS] : trace as TraceKind[];
  return { arch: parsed.arch, memory, cpus, seed, trace: kinds, mine: parsed.mine };
}

/** What `deno task boot` was asked for. */
export interface BootOptions {
  /** The board. */
  arch: "riscv64" | "x86_64";
  /** RAM in bytes. */
  memory: number;
  /** CPUs (harts). */
  cpus: number;
  /** Interleaving seed. */
  seed: number;
  /** Trace categories to print. */
  trace: TraceKind[];
  /** Boot with the student's passed components (`--mine`). */
  mine?: boolean;
}

/** A bootable system: a board with a kernel installed, and how to read its exit status. */
interface BootTarget {
  /** What is being booted, for the first line ("kernel on the x86-64 PC"). */
  describe: string;
  /** The machine, ready to run. */
  machine: Machine<Cpu>;
  /** The process exit status for a power-off with `code`. */
  status(code: number): number;
}

/**
 * Builds the board of `options.arch` with the kernel installed, UART output to `transmit`;
 * `mine` replaces reference components (`--mine`).
 */
function buildTarget(
  options: BootOptions,
  transmit: (byte: number) => void,
  mine?: Partial<KernelComponents>,
): BootTarget {
  const common = { memory: options.memory, seed: options.seed, cmdline: "console=ttyS0", transmit };
  if (options.arch === "riscv64") {
    const components = mine ? { ...RISCV_REFERENCE_COMPONENTS, ...mine } : undefined;
    const system = bootRiscv({ ...common, harts: options.cpus, components });
    return {
      describe: "kernel on the RISC-V virt board",
      machine: system.machine as unknown as Machine<Cpu>,
      status: (code) => code,
    };
  }
  const components = mine ? { ...X86_REFERENCE_COMPONENTS, ...mine } : undefined;
  const system = bootX86({ ...common, cpus: options.cpus, components });
  return {
    describe: "kernel on the x86-64 PC",
    machine: system.machine as unknown as Machine<Cpu>,
    // The debug-exit port reports only odd statuses: the kernel's success value maps to 0.
    status: exitStatus,
  };
}

/** Boots (with `mine` in place of reference components, for `--mine`); returns the exit status. */
export function boot(
  args: string[],
  out: (bytes: Uint8Array) => void,
  err: (s: string) => void,
  mine?: Partial<KernelComponents>,
): number {
  const options = parseBootArgs(args);
  if (typeof options === "string") {
    err(options + "\n");
    return options === USAGE ? 0 : 2;
  }
  const pending: number[] = [];
  let target;
  try {
    target = buildTarget(options, (byte) => pending.push(byte), mine);
  } catch (e) {
    err(`boot: ${(e as Error).message}\n`);
    return 2;
  }
  const yours = Object.keys(mine ?? {});
  err(
    `boot: booting the ${yours.length ? "" : "reference "}${target.describe}${
      yours.length ? ` with your ${yours.join(", ")} and the reference for the rest` : ""
    } ` +
      `(${formatSize(options.memory)}, ${options.cpus} CPU(s), seed ${options.seed})\n`,
  );
  const machine = target.machine;
  machine.trace.enable(...options.trace);
  machine.trace.listen((e) => err(formatEvent(e) + "\n"));
  machine.onMessage = (m) => err(`machine: ${m}\n`);

  // Run in slices of virtual time so output appears as the guest produces it.
  let reason: StopReason;
  do {
    reason = machine.run(machine.now() + 10_000_000);
    if (pending.length) out(new Uint8Array(pending.splice(0)));
  } while (reason.kind === "paused");
  return report(reason, target, err);
}

function report(reason: StopReason, target: BootTarget, err: (s: string) => void): number {
  switch (reason.kind) {
    case "shutdown":
      err(`boot: ${reason.message} (status ${reason.code})\n`);
      return target.status(reason.code);
    case "reset":
      err(`boot: ${reason.message}\n`);
      return 0;
    case "paused":
      return 0;
    default:
      err(`boot: the machine stopped: ${reason.message}\n`);
      return 1;
  }
}

/**
 * For `--mine`: the student's passed components, re-grading stale lessons first; tells `err`
 * which component is whose.
 */
export async function mineForBoot(
  err: (s: string) => void,
  root = LESSONS_ROOT,
  cacheDir = DEFAULT_CACHE_DIR,
): Promise<Partial<KernelComponents>> {
  const choice = await mineComponents(root, cacheDir);
  for (const line of choice.lines) err(`boot: --mine: ${line}\n`);
  return choice.components;
}

if (import.meta.main) {
  const err = (s: string) => void Deno.stderr.writeSync(new TextEncoder().encode(s));
  const options = parseBootArgs(Deno.args);
  const mine = typeof options !== "string" && options.mine ? await mineForBoot(err) : undefined;
  const status = boot(Deno.args, (bytes) => Deno.stdout.writeSync(bytes), err, mine);
  Deno.exit(status);
}
