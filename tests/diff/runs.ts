/**
 * The runs of the differential tests: which ELF with which arguments, and what came out.
 * Shared by record.ts (which asks QEMU) and the tests (which ask our exec layer too).
 *
 * @module
 */

import { runElf } from "../../tools/exec/testing.ts";

/** One run of one program. */
export interface Run {
  /** The ELF file, relative to the architecture's directory. */
  elf: string;
  /** argv[1..]. */
  args: string[];
  /** What it wrote to stdout. */
  stdout?: string;
  /** Its exit status: the exit code, or 128 + the signal that killed it. */
  status?: number;
}

/** Every run for `arch`: each ELF in tests/diff/ARCH/ with the arguments src/RUNS gives it. */
export async function loadRuns(arch: string): Promise<Run[]> {
  const here = new URL("./", import.meta.url);
  const table = new Map<string, string[][]>();
  for (const line of (await Deno.readTextFile(new URL("src/RUNS", here))).split("\n")) {
    const words = line.replace(/#.*/, "").trim().split(/\s+/).filter(Boolean);
    if (!words.length) continue;
    const [program, ...args] = words;
    table.set(program, [...(table.get(program) ?? []), args]);
  }
  const elves: string[] = [];
  for await (const e of Deno.readDir(new URL(`${arch}/`, here))) {
    if (e.name.endsWith(".elf")) elves.push(e.name);
  }
  return elves.sort().flatMap((elf) => {
    const program = elf.replace(/-O\d\.elf$/, "");
    return (table.get(program) ?? [[]]).map((args) => ({ elf, args }));
  });
}

/** Runs `run` under qemu-ARCH; the status is 128 + signal when QEMU was killed by one. */
export async function runUnderQemu(
  arch: string,
  run: Run,
): Promise<{ stdout: string; status: number }> {
  const path = new URL(`./${arch}/${run.elf}`, import.meta.url).pathname;
  const out = await new Deno.Command(`qemu-${arch}`, {
    args: [path, ...run.args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  return { stdout, status: out.signal ? 128 + signalNumber(out.signal) : out.code };
}

const SIGNALS: Record<string, number> = {
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGSEGV: 11,
};

function signalNumber(name: string): number {
  return SIGNALS[name] ?? 0;
}

/** Runs `run` of `arch` under the exec layer; stdout and stderr are kept apart. */
export function runUnderExec(
  arch: string,
  run: Run,
): { stdout: string; status: number; message?: string } {
  const bytes = Deno.readFileSync(new URL(`./${arch}/${run.elf}`, import.meta.url));
  const { result, text } = runElf(bytes, { args: [run.elf, ...run.args], limitNs: 2e9 });
  return { stdout: text(1), status: result.status, message: result.message };
}
