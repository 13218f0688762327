import assert from "node:assert/strict";
import { boot, parseBootArgs } from "../tools/boot.ts";

function run(args: string[]): { status: number; out: string; err: string } {
  const out: Uint8Array[] = [];
  let err = "";
  const status = boot(args, (b) => out.push(b.slice()), (s) => (err += s));
  const text = new TextDecoder().decode(new Uint8Array(out.flatMap((b) => [...b])));
  return { status, out: text, err };
}

Deno.test("boot: the demo kernel runs its user program through paging, a timer and SRST", () => {
  const { status, out, err } = run([]);
  assert.equal(status, 0, err);
  assert.match(err, /no kernel yet: booting the RISC-V virt board .* demo kernel/);
  assert.match(out, /demo: memory 0x8000_0000\.\.0x9000_0000 \(256 MiB\)/, "memory from the DTB");
  assert.match(out, /Sv48 paging on/);
  assert.match(out, /user: hello from U-mode/);
  assert.match(out, /demo: timer interrupt at 2\.0\d\d ms/);
  // 1 + 2 + ... + 3000000 = 4500001500000 = 0x417_bcfd_ab60
  assert.match(out, /sum of 1\.\.3000000 = 0xbcfdab60/);
  assert.match(out, /exited with status 0 after \d+ instructions and 1 timer interrupt/);
  assert.ok(
    out.indexOf("hello") < out.indexOf("timer interrupt") &&
      out.indexOf("timer interrupt") < out.indexOf("sum of"),
    "the interrupt arrives while the program computes",
  );
});

Deno.test("boot: the memory map follows --mem, and more harts still boot", () => {
  const { status, out } = run(["--mem", "4G", "--harts", "4", "--seed", "9"]);
  assert.equal(status, 0);
  assert.match(out, /demo: memory 0x8000_0000\.\.0x1_8000_0000 \(4 GiB\)/);
});

Deno.test("boot: the same seed prints the same bytes", () => {
  assert.equal(run(["--seed", "5"]).out, run(["--seed", "5"]).out);
});

Deno.test("boot: --trace prints the records it is asked for", () => {
  const { err } = run(["--trace", "firmware,kernel"]);
  assert.match(err, /firmware/);
  assert.match(err, /kernel +entry=demo_trap/);
});

Deno.test("boot: bad options are refused with a message, not a stack trace", () => {
  assert.match(parseBootArgs(["--mem", "lots"]) as string, /give a size such as 256M/);
  assert.match(parseBootArgs(["--harts", "40"]) as string, /1 to 16/);
  assert.match(parseBootArgs(["--trace", "bogus"]) as string, /not a trace category/);
  assert.match(parseBootArgs(["--frobnicate"]) as string, /Unknown option/);
  const { status, err } = run(["--mem", "2M"]);
  assert.equal(status, 2);
  assert.match(err, /virt RAM must be 4 MiB/);
});
