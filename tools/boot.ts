/**
 * `deno task boot`: boots the system on the emulator, with the UART on this terminal.
 *
 * Until the kernel exists (kernel/, arch/), it boots the RISC-V `virt` board with the
 * built-in demo kernel in demo/ and says so.
 *
 * ```
 * deno task boot [--arch riscv64] [--mem 256M] [--harts N] [--seed N] [--trace KINDS]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { formatSize, parseSize } from "../emulator/core/memory.ts";
import type { StopReason } from "../emulator/core/machine.ts";
import { formatEvent, TRACE_KINDS, type TraceKind } from "../emulator/core/trace.ts";
import { createVirt } from "../emulator/riscv64/virt.ts";
import { DEMO_ENTRY, DEMO_IMAGE_SIZE, installDemoKernel } from "../demo/riscv64.ts";

const USAGE = `usage: deno task boot [options]

  --arch ARCH     riscv64 (x86_64 arrives with the PC board)      [riscv64]
  --mem SIZE      RAM, e.g. 256M or 4G                             [256M]
  --harts N       number of CPUs, 1 to 16                          [1]
  --seed N        seed for the CPU interleaving                    [1]
  --trace KINDS   comma-separated trace categories to print to stderr
                  (${TRACE_KINDS.join(", ")}, or all)
  --help          this text`;

/** Parses the command line; returns an error message or the options. */
export function parseBootArgs(args: string[]): string | {
  arch: "riscv64";
  memory: number;
  harts: number;
  seed: number;
  trace: TraceKind[];
} {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        arch: { type: "string", default: "riscv64" },
        mem: { type: "string", default: "256M" },
        harts: { type: "string", default: "1" },
        seed: { type: "string", default: "1" },
        trace: { type: "string", default: "" },
        help: { type: "boolean", default: false },
      },
    }).values;
  } catch (e) {
    return `${(e as Error).message}\n\n${USAGE}`;
  }
  if (parsed.help) return USAGE;
  if (parsed.arch !== "riscv64") {
    return `--arch ${parsed.arch}: only riscv64 boots so far (the x86-64 PC is being built)`;
  }
  const memory = parseSize(parsed.mem);
  if (memory === undefined) return `--mem ${parsed.mem}: give a size such as 256M or 4G`;
  const harts = Number(parsed.harts), seed = Number(parsed.seed);
  if (!Number.isInteger(harts) || harts < 1 || harts > 16) return `--harts: 1 to 16`;
  if (!Number.isInteger(seed)) return `--seed ${parsed.seed}: give an integer`;
  const trace = parsed.trace ? parsed.trace.split(",").map((s) => s.trim()) : [];
  for (const k of trace) {
    if (k !== "all" && !TRACE_KINDS.includes(k as TraceKind)) {
      return `--trace ${k}: not a trace category (${TRACE_KINDS.join(", ")}, all)`;
    }
  }
  const kinds = trace.includes("all") ? [...TRACE_KINDS] : trace as TraceKind[];
  return { arch: "riscv64", memory, harts, seed, trace: kinds };
}

/** Boots; returns the process exit status. */
export function boot(
  args: string[],
  out: (bytes: Uint8Array) => void,
  err: (s: string) => void,
): number {
  const options = parseBootArgs(args);
  if (typeof options === "string") {
    err(options + "\n");
    return options === USAGE ? 0 : 2;
  }
  err(
    `boot: no kernel yet: booting the RISC-V virt board (${formatSize(options.memory)}, ` +
      `${options.harts} hart(s), seed ${options.seed}) with the built-in demo kernel (demo/riscv64.ts)\n`,
  );
  const pending: number[] = [];
  let board;
  try {
    board = createVirt({
      memory: options.memory,
      harts: options.harts,
      seed: options.seed,
      kernel: { size: DEMO_IMAGE_SIZE, entry: DEMO_ENTRY },
      cmdline: "console=ttyS0",
      transmit: (byte) => pending.push(byte),
    });
  } catch (e) {
    err(`boot: ${(e as Error).message}\n`);
    return 2;
  }
  const machine = board.machine;
  machine.trace.enable(...options.trace);
  machine.trace.listen((e) => err(formatEvent(e) + "\n"));
  machine.onMessage = (m) => err(`machine: ${m}\n`);
  installDemoKernel(machine);

  // Run in slices of virtual time so output appears as the guest produces it.
  let reason: StopReason;
  do {
    reason = machine.run(machine.now() + 10_000_000);
    if (pending.length) out(new Uint8Array(pending.splice(0)));
  } while (reason.kind === "paused");
  return report(reason, err);
}

function report(reason: StopReason, err: (s: string) => void): number {
  switch (reason.kind) {
    case "shutdown":
      err(`boot: ${reason.message} (status ${reason.code})\n`);
      return reason.code;
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

if (import.meta.main) {
  const status = boot(
    Deno.args,
    (bytes) => Deno.stdout.writeSync(bytes),
    (s) => Deno.stderr.writeSync(new TextEncoder().encode(s)),
  );
  Deno.exit(status);
}
