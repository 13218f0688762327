/**
 * The differential tests: every committed program of tests/diff/ARCH/ runs under the exec
 * layer, and what it writes and its exit status must be what QEMU's user-mode emulator
 * gave when build.sh recorded ARCH/expected.json. Needs only Deno.
 */
import assert from "node:assert/strict";
import { type Run, runUnderExec } from "./runs.ts";

for (const arch of ["riscv64", "x86_64"]) {
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
