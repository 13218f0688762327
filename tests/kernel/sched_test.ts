import assert from "node:assert/strict";
import { testBoth } from "./boards.ts";
import { print, type SyscallContext } from "../../servers/demo/syscalls.ts";

testBoth("sched: an infinite loop does not stop the other threads (and kill ends it)", (b) => {
  const r = b.run({
    cmdline: "tick_hz=10000",
    programs: [{ name: "spin", assembly: b.SPIN }, { name: "worker", assembly: b.KILLER }],
  });
  assert.equal(b.stopped(r), "shutdown 0", r.out);
  assert.deepEqual(b.userLines(r.out, "worker"), ["step", "step", "step", "killed the spinner"]);
  assert.match(r.out, /process 1 \(spin\) killed by process 2/);
  assert.match(r.out, /process 1 \(spin\) exited with status -9 \(preempted [1-9]\d* times?\)/);
});

testBoth("sched: classes and levels order execution strictly", (b) => {
  const r = b.run({
    cmdline: "tick_hz=10000",
    programs: [
      { name: "low", assembly: b.startEnd(300_000), priority: 200 },
      { name: "idle", assembly: b.startEnd(300_000), schedClass: "idle", priority: 0 },
      { name: "mid", assembly: b.startEnd(300_000), priority: 100 },
      { name: "rt", assembly: b.startEnd(300_000), schedClass: "realtime", priority: 254 },
      { name: "high", assembly: b.startEnd(300_000), schedClass: "high", priority: 0 },
    ],
  });
  assert.equal(b.stopped(r), "shutdown 0", r.out);
  // Each runs about six ticks, and none is ever preempted by a lower one.
  assert.deepEqual(b.userLines(r.out), [
    "rt: start",
    "rt: end",
    "high: start",
    "high: end",
    "mid: start",
    "mid: end",
    "low: start",
    "low: end",
    "idle: start",
    "idle: end",
  ]);
});

testBoth("sched: threads of one level share the CPU, a slice each in turn", (b) => {
  const chunks = (name: string) => ({ name, assembly: b.repeat(name, 6, 80_000) });
  const r = b.run({ cmdline: "tick_hz=10000", programs: [chunks("a"), chunks("b")] });
  assert.equal(b.stopped(r), "shutdown 0", r.out);
  const order = b.userLines(r.out).map((l) => l[0]).join("");
  assert.equal(order.length, 12);
  // Each chunk is 1.6 slices: both make progress while the other is unfinished.
  assert.ok((order.match(/ab|ba/g) ?? []).length >= 6, order);
  assert.match(r.out, /\(a\) exited with status 0 \(preempted ([5-9]|\d\d+) times\)/);
});

/** Sleeps for each duration (ns) and prints how long it took, by the clock. */
function sleeper(durations: bigint[]) {
  return function* <Y>(ctx: SyscallContext<Y>): Generator<Y, void, void> {
    for (const d of durations) {
      const before = yield* ctx.syscall(6n);
      yield* ctx.syscall(5n, d);
      const after = yield* ctx.syscall(6n);
      yield* print(ctx, `${d} ${after - before}\n`);
    }
    yield* ctx.syscall(2n, 0n);
  };
}

const SLEEPS = [1_000n, 50_000n, 333_333n, 1_000_000n, 2_500_000n];

function sleeps(out: string, userLines: (out: string, name: string) => string[]) {
  return userLines(out, "sleeper").map((l) => l.split(" ").map(Number) as [number, number]);
}

testBoth("sched: sleep wakes on time, not at the next tick, while others compute", (b) => {
  const r = b.run({
    cmdline: "tick_hz=100", // a 10 ms tick: every sleep here is shorter
    programs: [
      { name: "sleeper", typescript: sleeper(SLEEPS), priority: 10 },
      { name: "busy", assembly: b.startEnd(2_500_000) },
    ],
  });
  assert.equal(b.stopped(r), "shutdown 0", r.out);
  assert.match(r.out, b.DEFAULT_TIMER);
  const got = sleeps(r.out, b.userLines);
  assert.equal(got.length, SLEEPS.length);
  for (const [asked, took] of got) {
    assert.ok(took >= asked, `${asked} ns asked, ${took} ns taken: not early`);
    assert.ok(took < asked + 5_000, `${asked} ns asked, ${took} ns taken: the one-shot timer`);
  }
});

testBoth("sched: a sleeper of a busy level wakes within one tick of its time", (b) => {
  const tickNs = 100_000; // tick_hz=10000
  const r = b.run({
    cmdline: "tick_hz=10000",
    programs: [
      { name: "sleeper", typescript: sleeper(SLEEPS) },
      { name: "busy", assembly: b.startEnd(3_000_000) },
    ],
  });
  assert.equal(b.stopped(r), "shutdown 0", r.out);
  const got = sleeps(r.out, b.userLines);
  assert.equal(got.length, SLEEPS.length);
  for (const [asked, took] of got) {
    assert.ok(took >= asked && took <= asked + tickNs + 5_000, `${asked} asked, ${took} taken`);
  }
  assert.ok(got.some(([asked, took]) => took > asked + 5_000), "it waited for busy's slice");
});

// RISC-V: the SBI's TIME extension instead of Sstc; x86-64: the local APIC's one-shot count
// of its calibrated clock instead of TSC-deadline mode.
testBoth(
  "sched: the board's timer device (timer=platform) drives the same timer when asked to",
  (b) => {
    const r = b.run({
      cmdline: "tick_hz=10000 timer=platform",
      programs: [
        { name: "sleeper", typescript: sleeper(SLEEPS), priority: 10 },
        { name: "busy", assembly: b.startEnd(1_000_000) },
      ],
    });
    assert.equal(b.stopped(r), "shutdown 0", r.out);
    assert.match(r.out, b.PLATFORM_TIMER);
    for (const [asked, took] of sleeps(r.out, b.userLines)) {
      assert.ok(took >= asked && took < asked + 5_000, `${asked} asked, ${took} taken`);
    }
    assert.match(r.out, /\(busy\) exited with status 0 \(preempted \d+ times\)/);
  },
);

/** Prints "ts N" five times, sleeping between. */
function* ticker<Y>(ctx: SyscallContext<Y>): Generator<Y, void, void> {
  for (let i = 1; i <= 5; i++) {
    yield* print(ctx, `ts ${i}\n`);
    yield* ctx.syscall(5n, 150_000n);
  }
  yield* ctx.syscall(2n, 0n);
}

testBoth("sched: a TypeScript thread and machine-code threads interleave", (b) => {
  const asm = (name: string) => ({ name, assembly: b.repeat(name, 5, 60_000) });
  const r = b.run({
    cmdline: "tick_hz=10000",
    programs: [{ name: "ts", typescript: ticker }, asm("m1"), asm("m2")],
  });
  assert.equal(b.stopped(r), "shutdown 0", r.out);
  const order = b.userLines(r.out).map((l) => (l.startsWith("ts") ? "t" : "m")).join("");
  assert.equal(order.length, 15);
  assert.match(order, /t.*m.*t.*m.*t/, `interleaved: ${order}`);
  assert.doesNotMatch(order, /ttttt/);
});

testBoth("sched: two threads keep every register apart across a thousand preemptions", (b) => {
  const iterations = b.REGISTER_CHECK_ITERATIONS;
  const { sys, output } = b.start({
    cmdline: "tick_hz=100000", // a 10 µs tick: a preemption every 10 000 instructions
    programs: [
      { name: "regs-a", assembly: b.registerChecker(1, iterations) },
      { name: "regs-b", assembly: b.registerChecker(2, iterations) },
    ],
  });
  // Halfway: each thread has a kernel stack of its own, the trap's kernel-stack register
  // points at the running one's, and the other's registers wait in the save area at the
  // top of its stack.
  assert.equal(sys.machine.run(5_000_000).kind, "paused");
  const k = sys.kernel()!;
  const [t1, t2] = [...k.threads.values()].filter((t) => !t.idle);
  assert.notEqual(t1.kstack, t2.kstack);
  const running = t1.state === "running" ? t1 : t2, waiting = running === t1 ? t2 : t1;
  b.checkSwitchedOut(sys, running, waiting, waiting.process.name === "regs-a" ? 1 : 2);

  const reason = sys.machine.run(2e9);
  const out = output();
  assert.equal(b.stopped({ reason }), "shutdown 0", out);
  for (const name of ["regs-a", "regs-b"]) {
    const m = new RegExp(`\\(${name}\\) exited with status (-?\\d+) \\(preempted (\\d+) times\\)`)
      .exec(out);
    assert.ok(m, out);
    assert.equal(m[1], "0", `${name}: every register intact`);
    assert.ok(Number(m[2]) >= 1000, `${name} was preempted ${m[2]} times`);
  }
});

testBoth("sched: the register checker does catch a clobbered register", (b) => {
  // The same program with a system call at the end of each turn that changes a checked
  // register: the next turn's checks must notice.
  const source = b.clobbered(b.registerChecker(1, 1000));
  assert.notEqual(source, b.registerChecker(1, 1000));
  const r = b.run({ cmdline: "tick_hz=100000", programs: [{ name: "regs", assembly: source }] });
  assert.match(r.out, new RegExp(`\\(regs\\) exited with status ${b.CLOBBERED_STATUS} `), r.out);
});
