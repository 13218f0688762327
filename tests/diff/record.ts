/**
 * Records what QEMU's user-mode emulator makes of each differential test program: runs
 * every ELF in ARCH/ under qemu-ARCH with the arguments of src/RUNS and writes stdout and
 * exit status (128 + signal when the program was killed) to ARCH/expected.json.
 *
 * Run by build.sh: `deno run --allow-read --allow-write --allow-run record.ts ARCH CC`.
 *
 * @module
 */

import { loadRuns, type Run, runUnderQemu } from "./runs.ts";

const [arch, cc] = Deno.args;
if (!arch) throw new Error("usage: record.ts ARCH [COMPILER]");
const dir = new URL(`./${arch}/`, import.meta.url);
const runs: Run[] = [];
for (const run of await loadRuns(arch)) {
  const { stdout, status } = await runUnderQemu(arch, run);
  runs.push({ ...run, stdout, status });
}
const version = async (cmd: string) => {
  try {
    const out = await new Deno.Command(cmd, { args: ["--version"] }).output();
    return new TextDecoder().decode(out.stdout).split("\n")[0];
  } catch {
    return `${cmd} (unknown version)`;
  }
};
const expected = {
  generated: `by build.sh with ${await version(cc ?? "cc")} and ${await version(`qemu-${arch}`)}`,
  runs,
};
await Deno.writeTextFile(new URL("expected.json", dir), JSON.stringify(expected, null, 2) + "\n");
console.log(`recorded ${runs.length} runs in ${arch}/expected.json`);
