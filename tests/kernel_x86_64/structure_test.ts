import assert from "node:assert/strict";
import { assembleX86 } from "../../emulator/asm/x86/assembler.ts";
import { DEMO_PROGRAMS } from "../../servers/demo/programs.ts";
import { X86_64_SOURCES } from "../../servers/demo/x86_64.ts";

/** Every non-test TypeScript file under `dir`, with its text. */
function sources(dir: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...sources(path));
    else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
      out.push({ path, text: Deno.readTextFileSync(path) });
    }
  }
  return out;
}

/** The module specifiers a file imports, resolved against the repository root. */
function imports(file: { path: string; text: string }): string[] {
  const specs = [...file.text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+"([^"]+)"/gm)]
    .map((m) => m[1]);
  return specs.map((s) => new URL(s, `file:///repo/${file.path}`).pathname.slice("/repo/".length));
}

const root = new URL("../../", import.meta.url).pathname;

Deno.test("structure: arch/x86_64 uses the CPU's interface, never the PC's internals", () => {
  Deno.chdir(root);
  // The port sees the CPU through cpu_api.ts and the SDM's names in regs.ts; building the
  // board (pc.ts, the CPU class, the debug-exit status, the assembler) is the boot's job.
  const port =
    /^emulator\/(x86_64\/(cpu_api|regs)|core\/(hosted|machine|trace|user_program|bootinfo))\.ts$/;
  const bootOnly =
    /^emulator\/(x86_64\/(pc|cpu|debug_exit)|asm\/x86\/assembler|asm\/user_program_elf)\.ts$/;
  const files = sources("arch/x86_64");
  assert.ok(files.length >= 15, "the port's files were found");
  for (const f of files) {
    for (const i of imports(f)) {
      if (!i.startsWith("emulator/")) continue;
      if (bootOnly.test(i)) assert.match(f.path, /\/boot\.ts$/, `${f.path} imports ${i}`);
      else assert.match(i, port, `${f.path} imports ${i}`);
    }
  }
});

Deno.test("structure: arch/x86_64 imports nothing from arch/riscv64, and servers/ nothing of it", () => {
  Deno.chdir(root);
  for (const f of sources("arch/x86_64")) {
    for (const i of imports(f)) assert.ok(!i.startsWith("arch/riscv64/"), `${f.path} imports ${i}`);
  }
  for (const f of sources("servers")) {
    for (const i of imports(f)) assert.ok(!i.startsWith("arch/"), `${f.path} imports ${i}`);
  }
});

Deno.test("structure: every machine-code demo program has an x86-64 version that assembles", () => {
  for (const p of DEMO_PROGRAMS) {
    if (p.typescript) continue;
    const source = X86_64_SOURCES[p.name];
    assert.ok(source, `${p.name} has no x86-64 source in servers/demo/x86_64.ts`);
    const { bytes } = assembleX86(source, { origin: 0x10000 });
    assert.ok(bytes.length > 100, `${p.name} assembles`);
  }
});
