import assert from "node:assert/strict";
import { testBoth } from "./boards.ts";
import type { SyscallContext } from "../../servers/demo/syscalls.ts";
import { hex } from "../../kernel/format.ts";

const FAST = "tick_hz=10000";

testBoth("faults: a program that writes to kernel memory is killed, and the others finish", (b) => {
  const r = b.run({
    cmdline: FAST,
    programs: [
      { name: "writer", assembly: b.faulty(b.KERNEL_WRITE.body) },
      { name: "worker", assembly: b.WORKER },
    ],
  });
  assert.equal(b.stopped(r), "shutdown 0", r.out);
  assert.deepEqual(b.userLines(r.out, "worker"), ["step", "step", "step", "done"]);
  assert.match(
    r.out,
    /warn {2}thread 2 of process 1 \(writer\) killed: page fault at pc 0x1_00\w\w/,
  );
  // The cause, the walk and the registers, in the hardware's own words.
  for (const line of b.KERNEL_WRITE.report) assert.match(r.out, line);
  assert.match(r.out, /process 1 \(writer\) exited with status -11/);
  assert.match(r.out, /process 2 \(worker\) exited with status 0/);
});

testBoth("faults: every kind of user exception kills only its thread", (b) => {
  const cases = Object.entries(b.USER_EXCEPTIONS);
  const r = b.run({
    cmdline: FAST,
    programs: [
      ...cases.map(([name, c]) => ({ name, assembly: b.faulty(c.body) })),
      { name: "worker", assembly: b.WORKER },
    ],
  });
  assert.equal(b.stopped(r), "shutdown 0", r.out);
  const lines = r.out.split("\n");
  for (const [name, c] of cases) {
    const report = lines.findIndex((l) => l.includes(`(${name}) killed`));
    assert.ok(report >= 0, `${name} was killed:\n${r.out}`);
    if (c.killed) assert.match(lines[report], c.killed, name);
    assert.match(lines[report + 1], c.cause, name);
    if (c.walk === null) {
      assert.match(
        lines[report + 2],
        /warn +registers: /,
        `${name}: no walk line between the cause and the registers`,
      );
    } else if (c.walk) assert.match(lines[report + 2], c.walk, name);
    assert.match(r.out, new RegExp(`\\(${name}\\) exited with status -11`));
  }
  assert.deepEqual(b.userLines(r.out, "worker"), ["step", "step", "step", "done"]);
});

/** Writes to kernel memory at `address` after a first syscall: killed there. */
function poker(address: bigint) {
  return function* <Y>(ctx: SyscallContext<Y>): Generator<Y, void, void> {
    yield* ctx.syscall(6n); // time(): a first syscall, so the fault comes from a running thread
    // A user context takes addresses as signed 64-bit numbers.
    ctx.write(Number(BigInt.asIntN(64, address)), new Uint8Array([1, 2, 3]));
    yield* ctx.syscall(2n, 7n); // never reached
  };
}

testBoth("faults: a TypeScript thread's bad access kills it the same way", (b) => {
  const r = b.run({
    cmdline: FAST,
    programs: [
      { name: "ts-poker", typescript: poker(b.KERNEL_ADDRESS) },
      { name: "worker", assembly: b.WORKER },
    ],
  });
  assert.equal(b.stopped(r), "shutdown 0", r.out);
  assert.match(
    r.out,
    new RegExp(`\\(ts-poker\\) killed: page fault at pc ${b.TS_RESUME_PC}`),
    "in the ts.resume step",
  );
  assert.match(r.out, new RegExp(`write of ${hex(b.KERNEL_ADDRESS)}`));
  assert.match(r.out, /process 1 \(ts-poker\) exited with status -11/);
  assert.deepEqual(b.userLines(r.out, "worker"), ["step", "step", "step", "done"]);
  assert.ok(r.messages.length === 0, r.messages.join("\n"));
});

function* thrower<Y>(ctx: SyscallContext<Y>): Generator<Y, void, void> {
  yield* ctx.syscall(6n);
  throw new Error("this program is broken");
}

testBoth("faults: a TypeScript program that throws dies by an illegal instruction, alone", (b) => {
  const r = b.run({
    cmdline: FAST,
    programs: [
      { name: "thrower", typescript: thrower },
      { name: "worker", assembly: b.WORKER },
    ],
  });
  assert.equal(b.stopped(r), "shutdown 0", r.out);
  assert.match(
    r.out,
    new RegExp(`\\(thrower\\) killed: illegal instruction at pc ${b.TS_RESUME_PC}`),
    "at ts.resume",
  );
  assert.match(r.messages.join("\n"), /"thrower" \(thread 1\) threw Error: this program is broken/);
  assert.deepEqual(b.userLines(r.out, "worker"), ["step", "step", "step", "done"]);
});
