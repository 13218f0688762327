/**
 * The differential tests against a live QEMU: when qemu-riscv64 is installed, every
 * committed program runs under it now, and its output and status must equal both the
 * recorded expectation (so the fixtures are not stale) and what the exec layer gives.
 * Without QEMU the test is skipped; diff_test.ts covers the recorded expectations.
 */
import assert from "node:assert/strict";
import { type Run, runUnderExec, runUnderQemu } from "./runs.ts";

function installed(command: string): boolean {
  try {
    return new Deno.Command(command, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

for (const arch of ["riscv64", "x86_64"]) {
  Deno.test({
    name: `diff ${arch}: QEMU today agrees with the recording and with exec (needs qemu-${arch})`,
    ignore: !installed(`qemu-${arch}`),
    async fn(t) {
      const file = new URL(`./${arch}/expected.json`, import.meta.url);
      const expected: { runs: Run[] } = JSON.parse(await Deno.readTextFile(file));
      for (const run of expected.runs) {
        await t.step(`${run.elf} ${run.args.join(" ")}`.trim(), async () => {
          const qemu = await runUnderQemu(arch, run);
          assert.deepEqual(qemu, { stdout: run.stdout, status: run.status }, "QEMU vs recording");
          const ours = runUnderExec(arch, run);
          assert.deepEqual({ stdout: ours.stdout, status: ours.status }, qemu, "exec vs QEMU");
        });
      }
    },
  });
}
