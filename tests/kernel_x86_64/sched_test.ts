import assert from "node:assert/strict";
import { EXIT, PUTS, run, stopped, userLines } from "./helpers.ts";
import { print, type SyscallContext } from "../../servers/demo/syscalls.ts";
import type { UserProgram } from "../../emulator/core/user_program.ts";

let loops = 0;

/** Computes for `iterations` loop turns (two instructions each); uses RCX. */
const work = (iterations: number) => {
  const n = loops++;
  return `
    mov   ecx, ${iterations}
.work${n}:
    dec   ecx
    jnz   .work${n}
`;
};

/** Prints `start`, computes, prints `end`, exits 0. */
const startEnd = (iterations: number) => `
    section .text
_start:
    ${PUTS("start")}
    ${work(iterations)}
    ${PUTS("end")}
    ${EXIT(0)}
    section .data
start: db "start", 10, 0
end:   db "end", 10, 0
`;

Deno.test("sched: an infinite loop does not stop the other threads (and kill ends it)", () => {
  const r = run({
    cmdline: "tick_hz=10000",
    programs: [
      { name: "spin", assembly: "_start: jmp _start" },
      {
        name: "worker",
        assembly: `
    section .text
_start:
    mov   r12, 3
.again:
    ${work(100_000)}
    ${PUTS("step")}
    dec   r12
    jnz   .again
    mov   edi, 1                ; kill(1): the spinner
    mov   eax, 10
    syscall
    test  rax, rax
    jnz   .out
    ${PUTS("killed")}
.out:
    ${EXIT(0)}
    section .data
step:   db "step", 10, 0
killed: db "killed the spinner", 10, 0
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
    section .text
_start:
    mov   r12, 6
.again:
    ${work(80_000)}
    ${PUTS("msg")}
    dec   r12
    jnz   .again
    ${EXIT(0)}
    section .data
msg: db "${name}", 10, 0
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
      { name: "sleeper", typescript: sleeper(SLEEPS) as UserProgram, priority: 10 },
      { name: "busy", assembly: startEnd(2_500_000) },
    ],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  assert.match(r.out, /timer: local APIC timer in TSC-deadline mode/);
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
      { name: "sleeper", typescript: sleeper(SLEEPS) as UserProgram },
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

Deno.test("sched: the calibrated one-shot count drives the same timer when asked to", () => {
  const r = run({
    cmdline: "tick_hz=10000 timer=platform",
    programs: [
      { name: "sleeper", typescript: sleeper(SLEEPS) as UserProgram, priority: 10 },
      { name: "busy", assembly: startEnd(1_000_000) },
    ],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  assert.match(r.out, /timer: local APIC timer in one-shot mode; .*, 143\.1\d MHz; tick 10 kHz/);
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
    section .text
_start:
    mov   r12, 5
.again:
    ${work(60_000)}
    ${PUTS("msg")}
    dec   r12
    jnz   .again
    ${EXIT(0)}
    section .data
msg: db "${name}", 10, 0
`,
  });
  const r = run({
    cmdline: "tick_hz=10000",
    programs: [{ name: "ts", typescript: ticker as UserProgram }, asm("m1"), asm("m2")],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  const order = userLines(r.out).map((l) => (l.startsWith("ts") ? "t" : "m")).join("");
  assert.equal(order.length, 15);
  assert.match(order, /t.*m.*t.*m.*t/, `interleaved: ${order}`);
  assert.doesNotMatch(order, /ttttt/);
});

/** The fifteen general registers a checker fills (RSP is checked on its own). */
const CHECKED = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11"]
  .concat(["r12", "r13", "r14", "r15"]);

/**
 * A thread that fills the fifteen registers with values derived from `key`, sets DF when
 * `key` is odd, then, `iterations` times, increments them all and checks every one against
 * RAX, checks RSP against the stack top it started with and DF against its own. Anything
 * another thread's state (or a bad save/restore) touched ends the loop with exit status
 * 100 + the register's index in CHECKED, 98 for RSP, 99 for RFLAGS.DF. The checks use the
 * stack (push/pop) as their only scratch, so every register is live all the time.
 */
function registerChecker(key: number, iterations: number): string {
  const base = key * 0x1_0000_0000 + 0x1000;
  const stride = key * 3; // a different spacing for each thread
  const value = (i: number) => base + i * stride;
  const df = key % 2 === 1;
  return `
    section .text
_start:
    ${df ? "std" : "cld"}
    ${CHECKED.map((r, i) => `mov ${r}, ${value(i)}`).join("\n    ")}
.loop:
    ${CHECKED.map((r) => `inc ${r}`).join("\n    ")}
    ${
    CHECKED.slice(1).map((r, i) =>
      `push rax\n    add rax, ${(i + 1) * stride}\n    cmp rax, ${r}\n    pop rax\n    jne fail${
        i + 1
      }`
    ).join("\n    ")
  }
    cmp   rsp, [rel stack_top]
    jne   bad_rsp
    pushfq
    test  qword [rsp], 0x400    ; RFLAGS.DF
    ${df ? "jz" : "jnz"}    bad_df
    add   rsp, 8
    cmp   rax, [rel last]
    jne   .loop
    ${EXIT(0)}
    ${CHECKED.slice(1).map((_, i) => `fail${i + 1}: ${EXIT(100 + i + 1)}`).join("\n")}
bad_rsp: ${EXIT(98)}
bad_df: ${EXIT(99)}
    section .data
stack_top: dq 0x7ffffffff000
last:      dq ${value(0) + iterations}
`;
}

Deno.test("sched: two threads keep every register apart across a thousand preemptions", () => {
  const iterations = 110_000;
  const r = run({
    cmdline: "tick_hz=100000", // a 10 µs tick: a preemption every 10 000 instructions
    programs: [
      { name: "regs-a", assembly: registerChecker(1, iterations) },
      { name: "regs-b", assembly: registerChecker(2, iterations) },
    ],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  for (const name of ["regs-a", "regs-b"]) {
    const m = new RegExp(`\\(${name}\\) exited with status (-?\\d+) \\(preempted (\\d+) times\\)`)
      .exec(r.out);
    assert.ok(m, r.out);
    assert.equal(m[1], "0", `${name}: every register intact`);
    assert.ok(Number(m[2]) >= 1000, `${name} was preempted ${m[2]} times`);
  }
});

Deno.test("sched: the register checker does catch a clobbered register", () => {
  // The same program with a syscall at the end of each turn: SYSCALL puts the return
  // address in RCX (index 2), and the next turn's checks must notice.
  const source = registerChecker(1, 1000).replace(
    "    cmp   rax, [rel last]",
    "    push rax\n    mov eax, 999\n    syscall\n    pop rax\n    cmp   rax, [rel last]",
  );
  assert.notEqual(source, registerChecker(1, 1000));
  const r = run({ cmdline: "tick_hz=100000", programs: [{ name: "regs", assembly: source }] });
  assert.match(r.out, /\(regs\) exited with status 102 /, r.out);
});
