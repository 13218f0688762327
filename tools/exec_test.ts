import assert from "node:assert/strict";
import { parseCommand } from "./exec.ts";

Deno.test("exec CLI: options before the program, the rest is argv", () => {
  assert.deepEqual(
    parseCommand(["--seed", "9", "--mem=64M", "--trace", "trap,kernel", "p.elf", "--seed", "x"]),
    {
      program: "p.elf",
      args: ["--seed", "x"],
      seed: 9,
      memory: 64 * 2 ** 20,
      trace: ["trap", "kernel"],
    },
  );
  assert.equal(parseCommand(["--trace", "all", "p"]).trace.length, 9);
  assert.deepEqual(parseCommand(["--", "--odd-name"]).program, "--odd-name");
  assert.throws(() => parseCommand([]), /usage: deno task exec/);
  assert.throws(() => parseCommand(["--mem", "lots", "p"]), /--mem lots: give a size such as 64M/);
  assert.throws(() => parseCommand(["--trace", "bogus", "p"]), /--trace bogus: choose from trap, /);
  assert.throws(
    () => parseCommand(["--seed", "-1", "p"]),
    /--seed -1: give a non-negative integer/,
  );
  assert.throws(() => parseCommand(["--frob", "p"]), /unknown option --frob/);
});

/** Runs the CLI as `deno task exec` does. */
async function cli(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", new URL("./exec.ts", import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const program = (name: string) =>
  new URL(`../tests/diff/riscv64/${name}`, import.meta.url).pathname;

Deno.test("exec CLI: prints the program's output and exits with its status", async () => {
  const r = await cli(program("args-O2.elf"), "x", "y");
  assert.equal(r.code, 43);
  assert.match(r.stdout, /^argc=3\nargv\[1\]=x\nargv\[2\]=y\n/);
  assert.equal(r.stderr, "");
});

Deno.test("exec CLI: a killed program's message goes to stderr, status 128 + signal", async () => {
  const r = await cli(program("fault-O0.elf"), "ill");
  assert.equal(r.code, 132);
  assert.equal(r.stdout, "about to fault: ill\n");
  assert.match(r.stderr, /^exec: uncaught signal 4 \(Illegal instruction\)/);
});

Deno.test("exec CLI: a bad ELF is refused with the ElfError's message and status 1", async () => {
  const r = await cli(new URL("./exec/stack.ts", import.meta.url).pathname);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^exec: .*stack\.ts: bad magic at offset 0: .*this is not an ELF file\n$/);
  const missing = await cli("/nonexistent.elf");
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /exec: cannot read \/nonexistent.elf/);
});

Deno.test("exec CLI: --trace prints records to stderr", async () => {
  const r = await cli("--trace", "kernel", program("printnum-O2.elf"));
  assert.equal(r.code, 0);
  assert.match(r.stderr, /kernel\s+entry=exec_start/);
  assert.match(r.stderr, /syscall=write result=\d+/);
  assert.match(r.stderr, /syscall=exit_group result=exit 0/);
});
