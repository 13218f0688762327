import assert from "node:assert/strict";
import { run, stopped, userLines } from "./helpers.ts";
import { bootSystem } from "../../arch/riscv64/boot.ts";

Deno.test("boot: the demo boots, logs each stage, runs its programs interleaved, powers off", () => {
  const r = run({}); // the demo programs, the default 100 Hz tick, 256 MiB
  assert.equal(stopped(r), "shutdown 0", r.out);
  const out = r.out;
  // The boot log, stage by stage, in order.
  const stages = [
    /cpu0 info {2}kernel: booting on riscv64, cpu0 of 1/,
    /console: ns16550a at 0x1000_0000, 256 bytes at 115200 baud/,
    /firmware: devicetree at 0x8fff_f000/,
    /firmware: 1 hart\(s\), timebase 10 MHz, Sstc present/,
    /memory map \(4 entries\):/,
    / 0x8020_0000\.\.0x8021_\w+ +\d+ KiB {2}kernel and modules/,
    / 0x8021_\w+\.\.0x8fff_f000 +253\.\d MiB {2}usable/,
    /pmm: 253\.\d MiB free of 253\.\d MiB in 1 run\(s\)/,
    /vmm: direct map: 0x8020_0000\.\.0x9000_0000 at 0xffff_8000_8020_0000: 127 × 2 MiB pages/,
    /vmm: paging on \(sv48\), direct map at 0xffff_8000_0000_0000, 262 page-table frames/,
    /pmm: reclaimed 4 KiB of bootloader memory/,
    /timer: Sstc stimecmp, 10 MHz; tick 100 Hz/,
    /proc: started process 1 \(compute-a\)/,
    /proc: started process 3 \(ts-clock\), \d+ bytes image, normal 100/,
    /sched: starting with 3 process\(es\)/,
    /all processes have exited; 263 frames still allocated .* 0 user\); powering off/,
  ];
  let at = 0;
  for (const s of stages) {
    const m = s.exec(out.slice(at));
    assert.ok(m, `${s} after offset ${at}:\n${out}`);
    at += m.index + m[0].length;
  }
  // The programs' lines.
  const a = userLines(out, "compute-a"), b = userLines(out, "compute-b");
  assert.equal(a.length, 7);
  assert.equal(b.length, 7);
  // 1^2 + ... + 1200000^2 = 1200000 * 1200001 * 2400001 / 6
  assert.equal(a[0], "round 1: sum of squares = 576000720000200000");
  assert.equal(a[6], "done");
  assert.equal(b[6], "done");
  const ts = userLines(out, "ts-clock");
  assert.equal(ts[0], "hello from TypeScript (pid 3)");
  assert.equal(ts.length, 6);
  for (const line of ts.slice(1)) assert.match(line, /asked for 7 ms, woke after 7\.00\d ms/);
  // Interleaved by preemption: b starts before a is done, and ts-clock runs in between.
  const order = userLines(out).map((l) => l[l.indexOf("-") + 1]).join("");
  assert.match(order, /a.*b.*a.*b/, order);
  assert.ok(order.indexOf("b") < order.lastIndexOf("a"), order);
  assert.match(out, /process 1 \(compute-a\) exited with status 0 \(preempted [1-9]\d* times?\)/);
});

Deno.test("boot: the same seed and inputs give the same bytes; the log does not depend on the seed", () => {
  const small = {
    cmdline: "tick_hz=10000",
    programs: [{
      name: "p",
      assembly: "li t0, 300000\n1: addi t0, t0, -1\n bnez t0, 1b\n li a7, 2\n ecall",
    }],
  };
  const one = run({ ...small, seed: 5 }).out, two = run({ ...small, seed: 5 }).out;
  assert.equal(one, two);
  assert.equal(run({ ...small, seed: 6 }).out, one, "one CPU: the interleaving does not matter");
});

Deno.test("boot: more memory and more harts boot too; only the boot hart runs", () => {
  const r = run({
    memory: 4 * 2 ** 30,
    harts: 4,
    cmdline: "tick_hz=10000",
    programs: [{ name: "p", assembly: "li a0, 0\n li a7, 2\n ecall" }],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  assert.match(r.out, /kernel: booting on riscv64, cpu0 of 4/);
  assert.match(
    r.out,
    /direct map: 0x8020_0000\.\.0x1_8000_0000 at 0xffff_8000_8020_0000: 511 × 2 MiB pages, 3 × 1 GiB pages/,
  );
  assert.match(r.out, /firmware: 4 hart\(s\)/);
  assert.deepEqual(r.sys.board.harts.map((h) => h.state), [
    "running",
    "stopped",
    "stopped",
    "stopped",
  ]);
});

Deno.test("boot: bootSystem refuses impossible options with a message", () => {
  assert.throws(() => bootSystem({ memory: 1 << 20 }), /virt RAM must be 4 MiB/);
  assert.throws(
    () => bootSystem({ programs: [{ name: "bad", assembly: "frobnicate a0" }] }),
    /frobnicate/,
  );
  assert.throws(() => bootSystem({ programs: [{ name: "empty" }] }), /give assembly, an image/);
});

Deno.test("boot: with no programs, the kernel boots and powers off at once", () => {
  const r = run({ programs: [] });
  assert.equal(stopped(r), "shutdown 0");
  assert.match(r.out, /sched: starting with 0 process\(es\)\n.*all processes have exited/);
});
