import assert from "node:assert/strict";
import { EXIT, PUTS, run, stopped, userLines } from "./helpers.ts";
import { print, type SyscallContext } from "../../servers/demo/syscalls.ts";
import { bootSystem } from "../../arch/riscv64/boot.ts";
import { SAVE_AREA_SIZE, saveX } from "../../arch/riscv64/context.ts";
import { CSR_SSCRATCH } from "../../emulator/riscv64/csr.ts";
import { HHDM_BASE } from "../../kernel/mm/phys.ts";

/** Computes for `iterations` loop turns (two instructions each). */
const work = (iterations: number) => `
    li    t2, ${iterations}
81: addi  t2, t2, -1
    bnez  t2, 81b
`;

/** Prints `start`, computes, prints `end`, exits 0. */
const startEnd = (iterations: number) => `
    .text
    ${PUTS("start")}
    ${work(iterations)}
    ${PUTS("end")}
    ${EXIT(0)}
    .data
start: .asciz "start\\n"
end:   .asciz "end\\n"
`;

Deno.test("sched: an infinite loop does not stop the other threads (and kill ends it)", () => {
  const r = run({
    cmdline: "tick_hz=10000",
    programs: [
      { name: "spin", assembly: ".text\n1: j 1b" },
      {
        name: "worker",
        assembly: `
    .text
    li    s1, 3
1:  ${work(100_000)}
    ${PUTS("step")}
    addi  s1, s1, -1
    bnez  s1, 1b
    li    a0, 1                 # kill(1): the spinner
    li    a7, 10
    ecall
    bnez  a0, 2f
    ${PUTS("killed")}
2:  ${EXIT(0)}
    .data
step:   .asciz "step\\n"
killed: .asciz "killed the spinner\\n"
`,
      },
    ],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  assert.deepEqual(userLines(r.out, "worker"), ["step", "step", "step", "killed the spinner"]);
  assert.match(r.out, /process 1 \(spin\) killed by process 2/);
  assert.match(r.out, /process 1 \(spin\) exited with status -9 \(preempted [1-9]\d* times?\)/);
});

Deno.test("sched: classes and levels order execution strictly", () => {
  const r = run({
    cmdline: "tick_hz=10000",
    programs: [
      { name: "low", assembly: startEnd(300_000), priority: 200 },
      { name: "idle", assembly: startEnd(300_000), schedClass: "idle", priority: 0 },
      { name: "mid", assembly: startEnd(300_000), priority: 100 },
      { name: "rt", assembly: startEnd(300_000), schedClass: "realtime", priority: 254 },
      { name: "high", assembly: startEnd(300_000), schedClass: "high", priority: 0 },
    ],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  // Each runs about six ticks, and none is ever preempted by a lower one.
  assert.deepEqual(userLines(r.out), [
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

Deno.test("sched: threads of one level share the CPU, a slice each in turn", () => {
  const chunks = (name: string) => ({
    name,
    assembly: `
    .text
    li    s1, 6
1:  ${work(80_000)}
    ${PUTS("msg")}
    addi  s1, s1, -1
    bnez  s1, 1b
    ${EXIT(0)}
    .data
msg: .asciz "${name}\\n"
`,
  });
  const r = run({ cmdline: "tick_hz=10000", programs: [chunks("a"), chunks("b")] });
  assert.equal(stopped(r), "shutdown 0", r.out);
  const order = userLines(r.out).map((l) => l[0]).join("");
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

function sleeps(out: string): [number, number][] {
  return userLines(out, "sleeper").map((l) => l.split(" ").map(Number) as [number, number]);
}

Deno.test("sched: sleep wakes on time, not at the next tick, while others compute", () => {
  const r = run({
    cmdline: "tick_hz=100", // a 10 ms tick: every sleep here is shorter
    programs: [
      { name: "sleeper", typescript: sleeper(SLEEPS), priority: 10 },
      { name: "busy", assembly: startEnd(2_500_000) },
    ],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  const got = sleeps(r.out);
  assert.equal(got.length, SLEEPS.length);
  for (const [asked, took] of got) {
    assert.ok(took >= asked, `${asked} ns asked, ${took} ns taken: not early`);
    assert.ok(took < asked + 5_000, `${asked} ns asked, ${took} ns taken: the one-shot timer`);
  }
});

Deno.test("sched: a sleeper of a busy level wakes within one tick of its time", () => {
  const tickNs = 100_000; // tick_hz=10000
  const r = run({
    cmdline: "tick_hz=10000",
    programs: [
      { name: "sleeper", typescript: sleeper(SLEEPS) },
      { name: "busy", assembly: startEnd(3_000_000) },
    ],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  const got = sleeps(r.out);
  assert.equal(got.length, SLEEPS.length);
  for (const [asked, took] of got) {
    assert.ok(took >= asked && took <= asked + tickNs + 5_000, `${asked} asked, ${took} taken`);
  }
  assert.ok(got.some(([asked, took]) => took > asked + 5_000), "it waited for busy's slice");
});

Deno.test("sched: the TIME extension of the SBI drives the same timer when asked to", () => {
  const r = run({
    cmdline: "tick_hz=10000 timer=platform",
    programs: [
      { name: "sleeper", typescript: sleeper(SLEEPS), priority: 10 },
      { name: "busy", assembly: startEnd(1_000_000) },
    ],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  assert.match(r.out, /timer: SBI TIME extension \(set_timer\), 10 MHz; tick 10 kHz/);
  for (const [asked, took] of sleeps(r.out)) {
    assert.ok(took >= asked && took < asked + 5_000, `${asked} asked, ${took} taken`);
  }
  assert.match(r.out, /\(busy\) exited with status 0 \(preempted \d+ times\)/);
});

/** Prints "ts N" five times, sleeping between. */
function* ticker<Y>(ctx: SyscallContext<Y>): Generator<Y, void, void> {
  for (let i = 1; i <= 5; i++) {
    yield* print(ctx, `ts ${i}\n`);
    yield* ctx.syscall(5n, 150_000n);
  }
  yield* ctx.syscall(2n, 0n);
}

Deno.test("sched: a TypeScript thread and machine-code threads interleave", () => {
  const asm = (name: string) => ({
    name,
    assembly: `
    .text
    li    s1, 5
1:  ${work(60_000)}
    ${PUTS("msg")}
    addi  s1, s1, -1
    bnez  s1, 1b
    ${EXIT(0)}
    .data
msg: .asciz "${name}\\n"
`,
  });
  const r = run({
    cmdline: "tick_hz=10000",
    programs: [{ name: "ts", typescript: ticker }, asm("m1"), asm("m2")],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  const order = userLines(r.out).map((l) => (l.startsWith("ts") ? "t" : "m")).join("");
  assert.equal(order.length, 15);
  assert.match(order, /t.*m.*t.*m.*t/, `interleaved: ${order}`);
  assert.doesNotMatch(order, /ttttt/);
});

/**
 * A thread that fills x1..x30 with values derived from `key`, then, `iterations` times,
 * increments them all and checks every one against x1 (t6 is the scratch, checked by use).
 * Any register that another thread's state (or a bad save/restore) touched ends the loop
 * with exit status 100 + the register's number.
 */
function registerChecker(key: number, iterations: number): string {
  const base = key * 0x1_0000_0000 + 0x1000;
  const stride = key * 3; // a different spacing for each thread
  const regs = Array.from({ length: 30 }, (_, i) => i + 1);
  return `
    .text
    ${regs.map((n) => `li x${n}, ${base + n * stride}`).join("\n    ")}
loop:
    ${regs.map((n) => `addi x${n}, x${n}, 1`).join("\n    ")}
    ${
    regs.slice(1).map((n) => `addi x31, x1, ${(n - 1) * stride}\n    bne x31, x${n}, fail${n}`)
      .join("\n    ")
  }
    li    x31, ${base + stride + iterations}
    bne   x1, x31, loop
    ${EXIT(0)}
    ${regs.slice(1).map((n) => `fail${n}: li a0, ${100 + n}\n    j die`).join("\n")}
die:
    li    a7, 2
    ecall
`;
}

Deno.test("sched: two threads keep every register apart across a thousand preemptions", () => {
  const iterations = 150_000;
  const bytes: number[] = [];
  const sys = bootSystem({
    cmdline: "tick_hz=100000", // a 10 µs tick: a preemption every 10 000 instructions
    programs: [
      { name: "regs-a", assembly: registerChecker(1, iterations) },
      { name: "regs-b", assembly: registerChecker(2, iterations) },
    ],
    transmit: (b) => bytes.push(b),
  });
  // Halfway: each thread has a kernel stack of its own, sscratch points at the running
  // one's, and the other's registers wait in the save area at the top of its stack.
  assert.equal(sys.machine.run(5_000_000).kind, "paused");
  const k = sys.kernel()!;
  const [a, b] = [...k.threads.values()].filter((t) => !t.idle);
  assert.notEqual(a.kstack, b.kstack);
  const running = a.state === "running" ? a : b, waiting = running === a ? b : a;
  assert.equal(sys.board.harts[0].csrr(CSR_SSCRATCH), HHDM_BASE + BigInt(running.kstackTop));
  const saved = (n: number) =>
    sys.machine.bus.read(waiting.kstackTop - SAVE_AREA_SIZE + saveX(n), 8)!;
  const key = waiting.process.name === "regs-a" ? 1 : 2;
  assert.equal(saved(5) - saved(4), BigInt(key * 3), "t0 - tp: its own stride");

  assert.equal(sys.machine.run(2e9).kind, "shutdown");
  const out = new TextDecoder().decode(new Uint8Array(bytes));
  for (const name of ["regs-a", "regs-b"]) {
    const m = new RegExp(`\\(${name}\\) exited with status (-?\\d+) \\(preempted (\\d+) times\\)`)
      .exec(out);
    assert.ok(m, out);
    assert.equal(m[1], "0", `${name}: every register intact`);
    assert.ok(Number(m[2]) >= 1000, `${name} was preempted ${m[2]} times`);
  }
});

Deno.test("sched: the register checker does catch a clobbered register", () => {
  // The same program with a getpid at the end of each turn: its result lands in a0 (x10),
  // and the next turn's checks must notice.
  const source = registerChecker(1, 1000).replace(
    "    li    x31,",
    "    li    a7, 7\n    ecall\n    li    x31,",
  );
  const r = run({ cmdline: "tick_hz=100000", programs: [{ name: "regs", assembly: source }] });
  assert.match(r.out, /\(regs\) exited with status 110 /, r.out);
});
