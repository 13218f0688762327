import assert from "node:assert/strict";
import { testBoth } from "./boards.ts";

testBoth(
  "boot: the demo boots, logs each stage, runs its programs interleaved, powers off",
  (b) => {
    const r = b.run({}); // the demo programs, the default 100 Hz tick, 256 MiB
    assert.equal(b.stopped(r), "shutdown 0", r.out);
    assert.equal(r.reason.kind === "shutdown" && r.reason.code, b.SUCCESS_CODE);
    const out = r.out;
    // The boot log, stage by stage, in order.
    let at = 0;
    for (const s of b.DEMO_BOOT_LOG) {
      const m = s.exec(out.slice(at));
      assert.ok(m, `${s} after offset ${at}:\n${out}`);
      at += m.index + m[0].length;
    }
    // The programs' lines: the same numbers on both architectures.
    const a = b.userLines(out, "compute-a"), c = b.userLines(out, "compute-b");
    assert.equal(a.length, 7);
    assert.equal(c.length, 7);
    // 1^2 + ... + 1200000^2 = 1200000 * 1200001 * 2400001 / 6
    assert.equal(a[0], "round 1: sum of squares = 576000720000200000");
    assert.equal(a[5], "round 6: sum of squares = 13735561477743890304");
    assert.equal(c[0], "round 1: xorshift state = 7290476056423008982");
    assert.equal(a[6], "done");
    assert.equal(c[6], "done");
    const ts = b.userLines(out, "ts-clock");
    assert.equal(ts[0], "hello from TypeScript (pid 3)");
    assert.equal(ts.length, 6);
    for (const line of ts.slice(1)) assert.match(line, /asked for 7 ms, woke after 7\.00\d ms/);
    // Interleaved by preemption: b starts before a is done, and ts-clock runs in between.
    const order = b.userLines(out).map((l) => l[l.indexOf("-") + 1]).join("");
    assert.match(order, /a.*b.*a.*b/, order);
    assert.ok(order.indexOf("b") < order.lastIndexOf("a"), order);
    assert.match(out, /process 1 \(compute-a\) exited with status 0 \(preempted [1-9]\d* times?\)/);
  },
);

testBoth(
  "boot: the same seed and inputs give the same bytes; the log does not depend on the seed",
  (b) => {
    const small = {
      cmdline: "tick_hz=10000",
      programs: [{ name: "p", assembly: b.SPIN_THEN_EXIT }],
    };
    const one = b.run({ ...small, seed: 5 }).out, two = b.run({ ...small, seed: 5 }).out;
    assert.equal(one, two);
    assert.equal(
      b.run({ ...small, seed: 6 }).out,
      one,
      "one CPU: the interleaving does not matter",
    );
  },
);

testBoth("boot: more memory and more CPUs boot too; only the boot CPU runs", (b) => {
  const r = b.run({
    memory: 4 * 2 ** 30,
    cpus: 4,
    cmdline: "tick_hz=10000",
    programs: [{ name: "p", assembly: b.EXIT(0) }],
  });
  assert.equal(b.stopped(r), "shutdown 0", r.out);
  assert.match(r.out, new RegExp(`kernel: booting on ${b.name}, cpu0 of 4`));
  for (const line of b.FOUR_CPUS_LOG) assert.match(r.out, line);
  assert.deepEqual(b.cpuStates(r.sys), ["running", "stopped", "stopped", "stopped"]);
});

testBoth("boot: bootSystem refuses impossible options with a message", (b) => {
  assert.throws(() => b.bootSystem({ memory: 1 << 20 }), b.TOO_LITTLE_RAM);
  assert.throws(
    () => b.bootSystem({ programs: [{ name: "bad", assembly: b.BAD_ASSEMBLY }] }),
    /frobnicate/,
  );
  assert.throws(() => b.bootSystem({ programs: [{ name: "empty" }] }), /give assembly, an image/);
});

testBoth("boot: with no programs, the kernel boots and powers off at once", (b) => {
  const r = b.run({ programs: [] });
  assert.equal(b.stopped(r), "shutdown 0");
  assert.match(r.out, /sched: starting with 0 process\(es\)\n.*all processes have exited/);
});
