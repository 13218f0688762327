import assert from "node:assert/strict";
import * as abi from "../../kernel/syscall/abi.ts";
import * as stubs from "../../servers/demo/syscalls.ts";
import { assembleX86 } from "../../emulator/asm/x86/assembler.ts";
import { assembleRiscv } from "../../emulator/asm/riscv/assembler.ts";
import { DEMO_PROGRAMS } from "../../servers/demo/programs.ts";
import { testBoth } from "./boards.ts";

/** The repository's root directory. */
const root = new URL("../../", import.meta.url).pathname;

/** Every non-test TypeScript file under `dir` (relative to the root), with its text. */
function sources(dir: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  for (const e of Deno.readDirSync(root + dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...sources(path));
    else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
      out.push({ path, text: Deno.readTextFileSync(root + path) });
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

Deno.test("structure: servers/ import nothing from kernel/, arch/ or emulator/", () => {
  for (const f of sources("servers")) {
    for (const i of imports(f)) {
      assert.ok(!/^(kernel|arch|emulator)\//.test(i), `${f.path} imports ${i}`);
    }
  }
});

Deno.test("structure: kernel/ imports nothing from arch/, and from the emulator only boot-info types", () => {
  for (const f of sources("kernel")) {
    for (const i of imports(f)) {
      assert.ok(!i.startsWith("arch/"), `${f.path} imports ${i}`);
      if (i.startsWith("emulator/")) {
        assert.equal(i, "emulator/core/bootinfo.ts", `${f.path} imports ${i}`);
      }
    }
  }
});

Deno.test("riscv64: structure: arch/riscv64 uses the hart's interface, never a board's internals", () => {
  const allowed =
    /^emulator\/(riscv64\/(hart_api|csr|dtb|virt)|core\/(hosted|machine|trace|user_program|bootinfo)|asm\/.*)\.ts$/;
  for (const f of sources("arch/riscv64")) {
    for (const i of imports(f)) {
      if (!i.startsWith("emulator/")) continue;
      // Building the board is the boot's job; the kernel port proper sees only the hart.
      if (/riscv64\/(virt|dtb)\.ts$|asm\//.test(i)) {
        assert.match(f.path, /\/boot\.ts$/, `${f.path} imports ${i}`);
      }
      assert.match(i, allowed, `${f.path} imports ${i}`);
    }
  }
});

Deno.test("x86_64: structure: arch/x86_64 uses the CPU's interface, never the PC's internals", () => {
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

Deno.test("x86_64: structure: arch/x86_64 imports nothing from arch/riscv64, and servers/ nothing of it", () => {
  for (const f of sources("arch/x86_64")) {
    for (const i of imports(f)) assert.ok(!i.startsWith("arch/riscv64/"), `${f.path} imports ${i}`);
  }
  for (const f of sources("servers")) {
    for (const i of imports(f)) assert.ok(!i.startsWith("arch/"), `${f.path} imports ${i}`);
  }
});

testBoth(
  "structure: every machine-code demo program has a version for the board that assembles",
  (b) => {
    for (const p of DEMO_PROGRAMS) {
      if (p.typescript) continue;
      const source = p[b.name];
      assert.ok(source, `${p.name} has no ${b.name} source in servers/demo/programs.ts`);
      const bytes = b.name === "riscv64"
        ? assembleRiscv(source, { origin: 0x10000 }).bytes
        : assembleX86(source, { origin: 0x10000 }).bytes;
      assert.ok(bytes.length > 100, `${p.name} assembles`);
    }
  },
);

Deno.test("structure: arch/common imports neither port, and from the emulator no board", () => {
  const files = sources("arch/common");
  assert.ok(files.length >= 2, "the shared files were found");
  for (const f of files) {
    for (const i of imports(f)) {
      assert.ok(!/^arch\/(riscv64|x86_64)\//.test(i), `${f.path} imports ${i}`);
      if (i.startsWith("emulator/")) {
        assert.match(i, /^emulator\/(core|asm)\//, `${f.path} imports ${i}`);
      }
    }
  }
});

Deno.test("structure: kernel/, arch/ and servers/ use no host API, wall clock or Math.random", () => {
  for (const dir of ["kernel", "arch", "servers"]) {
    for (const f of sources(dir)) {
      const code = f.text.replace(/\/\*\*[\s\S]*?\*\/|\/\/.*$/gm, ""); // comments may name them
      assert.doesNotMatch(code, /\bDeno\.|\bMath\.random\b|\bDate\b/, f.path);
      // Benchmarks take the host clock as a parameter; nothing else reads it.
      if (!f.path.endsWith("/bench.ts")) assert.doesNotMatch(code, /\bperformance\./, f.path);
    }
  }
});

Deno.test("structure: the demo's syscall stubs use the kernel's numbers", () => {
  const names = Object.keys(abi).filter((k) => k.startsWith("SYS_") && k !== "SYSCALL_NAMES");
  assert.ok(names.length >= 13);
  for (const name of names) {
    const mine = (stubs as Record<string, unknown>)[name];
    assert.equal(mine, BigInt((abi as Record<string, unknown>)[name] as number), name);
  }
});
