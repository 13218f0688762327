import assert from "node:assert/strict";
import { EXIT, PUTS, run, stopped, userLines } from "./helpers.ts";
import type { SyscallContext } from "../../servers/demo/syscalls.ts";

const FAST = "tick_hz=10000";

/** Prints "step" three times with some work between, then "done", and exits 0. */
const WORKER = `
    .text
    li    s1, 3
1:  li    t2, 20000
2:  addi  t2, t2, -1
    bnez  t2, 2b
    ${PUTS("step")}
    addi  s1, s1, -1
    bnez  s1, 1b
    ${PUTS("done")}
    ${EXIT(0)}
    .data
step: .asciz "step\\n"
done: .asciz "done\\n"
`;

const faulty = (body: string) => `
    .text
    li    t2, 5000
1:  addi  t2, t2, -1
    bnez  t2, 1b
${body}
    ${EXIT(0)}
`;

Deno.test("faults: a program that writes to kernel memory is killed, and the others finish", () => {
  const r = run({
    cmdline: FAST,
    programs: [
      { name: "writer", assembly: faulty("li t0, 0xffff800080200000\n sd zero, 0(t0)") },
      { name: "worker", assembly: WORKER },
    ],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  assert.deepEqual(userLines(r.out, "worker"), ["step", "step", "step", "done"]);
  assert.match(
    r.out,
    /warn {2}thread 2 of process 1 \(writer\) killed: page fault at pc 0x1_00\w\w/,
  );
  assert.match(r.out, /scause 0xf \(store\/AMO page fault\), stval 0xffff_8000_8020_0000/);
  // The walk, in the hart's own words: the direct map's leaf is a supervisor page.
  assert.match(r.out, /write of 0xffff_8000_8020_0000: .*U=0/);
  assert.match(r.out, /registers: pc=0x1_00\w\w ra=0x0 sp=0x7fff_ffff_f000/);
  assert.match(r.out, /process 1 \(writer\) exited with status -11/);
  assert.match(r.out, /process 2 \(worker\) exited with status 0/);
});

Deno.test("faults: every kind of user exception kills only its thread", () => {
  const cases: Record<string, [string, RegExp]> = {
    "load-unmapped": ["li t0, 0x40000000\n ld t1, 0(t0)", /load page fault.*stval 0x4000_0000/],
    "jump-kernel": ["li t0, 0xffffffff80001000\n jr t0", /instruction page fault/],
    illegal: [".word 0", /illegal instruction/],
    breakpoint: ["ebreak", /breakpoint/],
    misaligned: ["li t0, 0x10001\n ld t1, 0(t0)", /load address misaligned/],
    "device-access": ["li t0, 0x10000000\n lb t1, 0(t0)", /load page fault.*stval 0x1000_0000/],
  };
  const r = run({
    cmdline: FAST,
    programs: [
      ...Object.entries(cases).map(([name, [body]]) => ({ name, assembly: faulty(body) })),
      { name: "worker", assembly: WORKER },
    ],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  for (const [name, [, cause]] of Object.entries(cases)) {
    const report = r.out.split("\n").findIndex((l) => l.includes(`(${name}) killed`));
    assert.ok(report >= 0, `${name} was killed`);
    assert.match(r.out.split("\n")[report + 1], cause, name);
    assert.match(r.out, new RegExp(`\\(${name}\\) exited with status -11`));
  }
  assert.deepEqual(userLines(r.out, "worker"), ["step", "step", "step", "done"]);
});

function* poker<Y>(ctx: SyscallContext<Y>): Generator<Y, void, void> {
  yield* ctx.syscall(6n); // time(): a first syscall, so the fault comes from a running thread
  // Kernel memory (a user context takes addresses as signed 64-bit numbers): killed here.
  ctx.write(-0x7fff_7fe0_0000, new Uint8Array([1, 2, 3]));
  yield* ctx.syscall(2n, 7n); // never reached
}

Deno.test("faults: a TypeScript thread's bad access kills it the same way", () => {
  const r = run({
    cmdline: FAST,
    programs: [
      { name: "ts-poker", typescript: poker },
      { name: "worker", assembly: WORKER },
    ],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  assert.match(r.out, /\(ts-poker\) killed: page fault at pc 0x1_0008/, "in the ts.resume step");
  assert.match(r.out, /write of 0xffff_8000_8020_0000/);
  assert.match(r.out, /process 1 \(ts-poker\) exited with status -11/);
  assert.deepEqual(userLines(r.out, "worker"), ["step", "step", "step", "done"]);
  assert.ok(r.messages.length === 0, r.messages.join("\n"));
});

function* thrower<Y>(ctx: SyscallContext<Y>): Generator<Y, void, void> {
  yield* ctx.syscall(6n);
  throw new Error("this program is broken");
}

Deno.test("faults: a TypeScript program that throws dies by an illegal instruction, alone", () => {
  const r = run({
    cmdline: FAST,
    programs: [
      { name: "thrower", typescript: thrower },
      { name: "worker", assembly: WORKER },
    ],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  assert.match(r.out, /\(thrower\) killed: illegal instruction at pc 0x1_0008/, "at ts.resume");
  assert.match(r.messages.join("\n"), /"thrower" \(thread 1\) threw Error: this program is broken/);
  assert.deepEqual(userLines(r.out, "worker"), ["step", "step", "step", "done"]);
});
