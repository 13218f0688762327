/**
 * Measuring a benchmark program, for `deno task bench`: under our exec layer, and under
 * a QEMU user-mode emulator so the two speeds are compared on the same binary. A program
 * is a function from an iteration count to a static Linux executable whose loop retires a
 * known number of instructions an iteration (see riscv64_bench.ts and x86_64_bench.ts).
 *
 * Uses `performance.now()` and Deno.Command: this is a host tool, not emulator code.
 *
 * @module
 */

import { execElf } from "./exec.ts";

/**
 * Runs `program(iterations)` under the exec layer and returns millions of guest
 * instructions per second of host time (after a warm-up run of a tenth as many).
 */
export function measureExecMips(
  program: (iterations: number) => Uint8Array,
  perIteration: number,
  iterations = 20_000_000,
): number {
  const run = (n: number) => {
    const result = execElf(program(n), {
      args: ["bench"],
      output: () => {},
      limitNs: n * perIteration * 4 + 1_000_000,
    });
    if (result.how !== "exit" || result.status !== 0) {
      throw new Error(`the benchmark program failed: ${result.message ?? result.status}`);
    }
    return result.instret;
  };
  run(Math.max(1000, Math.floor(iterations / 10)));
  const t0 = performance.now();
  const instret = run(iterations);
  return instret / (performance.now() - t0) / 1000;
}

/**
 * MIPS of a QEMU user-mode emulator (`qemu`, e.g. "qemu-riscv64") on `program`, measured as the difference between a short and a
 * long run (so process start-up cancels out), best of three. Undefined when QEMU is not
 * installed.
 */
export async function measureQemuMips(
  program: (iterations: number) => Uint8Array,
  perIteration: number,
  qemu: string,
): Promise<number | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "qemu-bench-" });
  try {
    const short = 1_000_000, long = 201_000_000;
    const time = async (iterations: number) => {
      const path = `${dir}/loop-${iterations}.elf`;
      await Deno.writeFile(path, program(iterations), { mode: 0o755 });
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const out = await new Deno.Command(qemu, { args: [path], stdout: "null", stderr: "null" })
          .output();
        const t = performance.now() - t0;
        if (!out.success) throw new Error(`${qemu} ${path} failed with status ${out.code}`);
        best = Math.min(best, t);
      }
      return best;
    };
    const dt = (await time(long)) - (await time(short));
    return ((long - short) * perIteration) / (dt * 1000);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
