/**
 * The differential tests: every committed program of tests/diff/ARCH/ runs under the exec
 * layer, and what it writes and its exit status must be what QEMU's user-mode emulator
 * gave when build.sh recorded ARCH/expected.json. Needs only Deno.
 */
import assert from "node:assert/strict";
import { execElf } from "../../tools/exec/exec.ts";
import type { Run } from "./runs.ts";

/** Runs `run` of `arch` under the exec layer; stdout and stderr are kept apart. */
export function runUnderExec(
  arch: string,
  run: Run,
): { stdout: string; status: number; message?: string } {
  const bytes = Deno.readFileSync(new URL(`./${arch}/${run.elf}`, import.meta.url));
  const chunks: Uint8Array[] = [];
  const result = execElf(bytes, {
    args: [run.elf, ...run.args],
    output: (fd, data) => {
      if (fd === 1) chunks.push(data.slice());
    },
    limitNs: 2e9,
  });
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((at, c) => (all.set(c, at), at + c.length), 0);
  return { stdout: new TextDecoder().decode(all), status: result.status, message: result.message };
}

for (const arch of ["riscv64"]) {
  const file = new URL(`./${arch}/expected.json`, import.meta.url);
  const expected: { runs: Run[] } = JSON.parse(Deno.readTextFileSync(file));
  Deno.test(`diff ${arch}: every program behaves under exec as it did under QEMU`, async (t) => {
    assert.ok(expected.runs.length >= 16, "at least 8 programs at -O0 and -O2");
    for (const run of expected.runs) {
      await t.step(`${run.elf} ${run.args.join(" ")}`.trim(), () => {
        const got = runUnderExec(arch, run);
        assert.equal(got.stdout, run.stdout);
        assert.equal(got.status, run.status, got.message);
      });
    }
  });
}
