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
  const { status, out, err } = run([]);
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
  const { status, out } = run(["--mem", "4G", "--cpus", "4", "--seed", "9"]);
  assert.equal(status, 0);
  assert.match(out, /0x8021_3000\.\.0x1_7fff_f000 +4\.0 GiB +usable/);
});

Deno.test("boot: the same seed prints the same bytes", () => {
  assert.equal(run(["--seed", "5"]).out, run(["--seed", "5"]).out);
});

Deno.test("boot: --trace prints the records it is asked for", () => {
  const { err } = run(["--trace", "firmware,kernel"]);
  assert.match(err, /firmware/);
  assert.match(err, /kernel +entry=\w+/);
});

Deno.test("boot: bad options are refused with a message, not a stack trace", () => {
  assert.match(parseBootArgs(["--mem", "lots"]) as string, /give a size such as 256M/);
  assert.match(parseBootArgs(["--cpus", "40"]) as string, /1 to 16/);
  assert.match(parseBootArgs(["--arch", "arm64"]) as string, /choose riscv64 or x86_64/);
  assert.match(parseBootArgs(["--trace", "bogus"]) as string, /not a trace category/);
  assert.match(parseBootArgs(["--frobnicate"]) as string, /Unknown option/);
  const { status, err } = run(["--mem", "2M"]);
  assert.equal(status, 2);
  assert.match(err, /virt RAM must be 4 MiB/);
});

Deno.test("boot: the x86-64 demo runs ring 3 through its own GDT, IDT, paging and APIC timer", () => {
  const { status, out, err } = run(["--arch", "x86_64"]);
  assert.equal(status, 0, err);
  assert.match(err, /booting the x86-64 PC with the temporary demo kernel/);
  assert.match(out, /memory 0x31_9000\.\.0x1000_0000 usable/, "the memory map from boot info");
  assert.match(out, /XSDT lists APIC at 0x[0-9a-f_]+, HPET at 0x[0-9a-f_]+, MCFG at/);
  assert.match(out, /user: hello from ring 3/);
  assert.match(out, /demo: timer interrupt at \d\.\d{3} ms; user rip 0x40_00/);
  assert.match(out, /sum of 1\.\.3000000 = 0xbcfdab60/);
  assert.ok(out.indexOf("hello") < out.indexOf("timer interrupt"));
  assert.ok(out.indexOf("timer interrupt") < out.indexOf("sum of"));
  assert.match(err, /exit status 33/, "the debug-exit convention; the boot command reports 0");
});

Deno.test("boot: the x86-64 PC boots with 4 GiB and 4 CPUs, and a seed replays", () => {
  const a = run(["--arch", "x86_64", "--mem", "4G", "--cpus", "4", "--seed", "3"]);
  assert.equal(a.status, 0, a.err);
  assert.match(a.out, /memory 0x1_0000_0000\.\.0x1_5000_0000 usable/, "RAM above the 4 GiB hole");
  assert.equal(run(["--arch", "x86_64", "--mem", "4G", "--cpus", "4", "--seed", "3"]).out, a.out);
});
