/**
 * `deno task exec PROGRAM.elf [ARGS...]`: runs a static Linux program, RISC-V or x86-64 as
 * its ELF header says, on the emulator, as `qemu-riscv64` or `qemu-x86_64` would. The host
 * adapter of tools/exec/: it reads the file, passes what the program writes to stdout and
 * stderr, prints traces and messages to stderr, and exits with the program's status.
 *
 * Options (before the program): `--seed N`, `--mem SIZE` (256M, 1G, ...), `--trace KINDS`
 * (comma-separated: trap, kernel, walk, tlb, ... or all).
 *
 * @module
 */

import { parseSize } from "../emulator/core/memory.ts";
import { formatEvent, Trace, TRACE_KINDS, type TraceKind } from "../emulator/core/trace.ts";
import { execElf, ExecError } from "./exec/exec.ts";

const USAGE = "usage: deno task exec [--seed N] [--mem SIZE] [--trace KINDS] PROGRAM.elf [ARGS...]";

/** The parsed command line. */
export interface ExecCommand {
  /** The ELF file. */
  program: string;
  /** argv[1..]. */
  args: string[];
  /** --seed. */
  seed: number;
  /** --mem, in bytes. */
  memory: number | undefined;
  /** --trace categories. */
  trace: TraceKind[];
}

/** Parses the command line; throws an Error with a message for the user. */
export function parseCommand(argv: readonly string[]): ExecCommand {
  const cmd: ExecCommand = { program: "", args: [], seed: 1, memory: undefined, trace: [] };
  let i = 0;
  const value = (flag: string) => {
    const v = argv[++i];
    if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
    return v;
  };
  for (; i < argv.length && argv[i].startsWith("--"); i++) {
    const [flag, inline] = argv[i].split("=", 2);
    const get = () => inline ?? value(flag);
    if (flag === "--seed") {
      const s = get();
      if (!/^\d+$/.test(s)) throw new Error(`--seed ${s}: give a non-negative integer`);
      cmd.seed = Number(s);
    } else if (flag === "--mem") {
      const s = get();
      const n = parseSize(s);
      if (n === undefined || n < 2 ** 20 || n % 4096) {
        throw new Error(`--mem ${s}: give a size such as 64M or 1G (at least 1M)`);
      }
      cmd.memory = n;
    } else if (flag === "--trace") {
      for (const k of get().split(",").filter(Boolean)) {
        if (k === "all") cmd.trace.push(...TRACE_KINDS);
        else if ((TRACE_KINDS as readonly string[]).includes(k)) cmd.trace.push(k as TraceKind);
        else throw new Error(`--trace ${k}: choose from ${TRACE_KINDS.join(", ")} or all`);
      }
    } else if (flag === "--") {
      i++;
      break;
    } else {
      throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  if (i >= argv.length) throw new Error(USAGE);
  cmd.program = argv[i];
  cmd.args = argv.slice(i + 1);
  return cmd;
}

function main(argv: string[]): number {
  const encoder = new TextEncoder();
  const say = (text: string) => Deno.stderr.writeSync(encoder.encode(text + "\n"));
  let cmd: ExecCommand;
  try {
    cmd = parseCommand(argv);
  } catch (e) {
    say((e as Error).message);
    return 2;
  }
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(cmd.program);
  } catch (e) {
    say(`exec: cannot read ${cmd.program}: ${(e as Error).message}`);
    return 1;
  }
  const trace = new Trace(0);
  if (cmd.trace.length) {
    trace.enable(...cmd.trace);
    trace.listen((event) => say(formatEvent(event)));
  }
  try {
    const result = execElf(bytes, {
      args: [cmd.program, ...cmd.args],
      seed: cmd.seed,
      memory: cmd.memory,
      trace,
      output(fd, data) {
        const sink = fd === 2 ? Deno.stderr : Deno.stdout;
        for (let done = 0; done < data.length;) done += sink.writeSync(data.subarray(done));
      },
    });
    if (result.message) say(result.message);
    return result.status;
  } catch (e) {
    if (e instanceof ExecError) {
      say(`exec: ${cmd.program}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (import.meta.main) Deno.exit(main(Deno.args));
