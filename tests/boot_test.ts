import assert from "node:assert/strict";
import { boot, parseBootArgs } from "../tools/boot.ts";

function run(args: string[]): { status: number; out: string; err: string } {
  const out: Uint8Array[] = [];
  let err = "";
  const status = boot(args, (b) => out.push(b.slice()), (s) => (err += s));
  const text = new TextDecoder().decode(new Uint8Array(out.flatMap((b) => [...b])));
  return { status, out: text, err };
}

Deno.test("boot: RISC-V boots the reference kernel, runs the demo programs and powers off", () => {
  const { status, out, err } = run(["--arch", "riscv64"]);
  assert.equal(status, 0, err);
  assert.match(err, /booting the reference kernel on the RISC-V virt board/);
  assert.match(out, /kernel: booting on riscv64/);
  assert.match(out, /0x8021_3000\.\.0x8fff_f000 +253\.9 MiB +usable/, "the memory map");
  assert.match(out, /paging on \(sv48\)/);
  assert.match(out, /timer: .*10 MHz; tick 100 Hz/);
  assert.match(out, /sched: starting with 3 process\(es\)/);
  assert.match(out, /hello from TypeScript/);
  assert.match(out, /all processes have exited; .* powering off/);
  assert.match(err, /shutdown .*\(status 0\)/);
});

Deno.test("boot: the memory map follows --mem, and more CPUs still boot", () => {
  const { status, out } = run(["--arch", "riscv64", "--mem", "4G", "--cpus", "4", "--seed", "9"]);
  assert.equal(status, 0);
  assert.match(out, /0x8021_3000\.\.0x1_7fff_f000 +4\.0 GiB +usable/);
});

Deno.test("boot: the same seed prints the same bytes", () => {
  const args = ["--arch", "riscv64", "--seed", "5"];
  assert.equal(run(args).out, run(args).out);
});

Deno.test("boot: --trace prints the records it is asked for", () => {
  const { err } = run(["--arch", "riscv64", "--trace", "firmware,kernel"]);
  assert.match(err, /firmware/);
  assert.match(err, /kernel +entry=\w+/);
});

Deno.test("boot: bad options are refused with a message, not a stack trace", () => {
  assert.match(parseBootArgs(["--mem", "lots"]) as string, /give a size such as 256M/);
  assert.match(parseBootArgs(["--cpus", "40"]) as string, /1 to 16/);
  assert.match(parseBootArgs(["--arch", "arm64"]) as string, /choose x86_64 or riscv64/);
  assert.match(parseBootArgs(["--trace", "bogus"]) as string, /not a trace category/);
  assert.match(parseBootArgs(["--frobnicate"]) as string, /Unknown option/);
  const { status, err } = run(["--mem", "2M"]);
  assert.equal(status, 2);
  assert.match(err, /PC RAM must be 4 MiB/);
});

Deno.test("boot: x86-64 is the default and boots the reference kernel on the PC", () => {
  const { status, out, err } = run([]);
  assert.equal(status, 0, err);
  assert.match(err, /booting the reference kernel on the x86-64 PC/);
  assert.match(out, /kernel: booting on x86_64/);
  assert.match(out, /XSDT at 0x[0-9a-f_]+ lists APIC, HPET, MCFG/);
  assert.match(out, /0x25_d000\.\.0x1000_0000 +253\.6 MiB +usable/, "the memory map");
  assert.match(out, /timer: local APIC timer .* measured against the HPET .* 143\.\d\d MHz/);
  assert.match(out, /hello from TypeScript/);
  assert.match(out, /all processes have exited; .* powering off/);
  assert.match(
    err,
    /exit status 33/,
    "the debug-exit success value, which the command reports as 0",
  );
});
