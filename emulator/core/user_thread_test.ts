import assert from "node:assert/strict";
import type { Cpu } from "./machine.ts";
import {
  SYSCALL,
  type SyscallTrap,
  USER_STEP_COST,
  type UserContext,
  UserThreadAbandoned,
  UserThreadTable,
} from "./user_program.ts";
import { stepUserThread, threadName, thrownText, UserThreadContext } from "./user_thread.ts";

/** A CPU that only counts, with a register file of eight values. */
class FakeCpu implements Cpu {
  readonly index = 0;
  state: "running" | "idle" | "stopped" = "running";
  timeNs = 0;
  instret = 0;
  readonly regs: bigint[] = Array(8).fill(0n);
  run(): void {}
  nowNs(): number {
    return this.timeNs;
  }
  wakeable(): boolean {
    return false;
  }
}

/** Registers: 0 = number and first result, 1..6 = arguments, 7 = second result. */
class FakeContext extends UserThreadContext<FakeCpu> {
  readonly arch = "riscv64" as const;
  protected readonly argumentRegisters = "r1..r6";
  protected putSyscall(nr: bigint, args: readonly bigint[]): void {
    this.cpu.regs[0] = nr;
    for (let i = 0; i < 6; i++) this.cpu.regs[1 + i] = args[i] ?? 0n;
  }
  protected result(k: 0 | 1): bigint {
    return this.cpu.regs[k === 0 ? 0 : 7];
  }
  load(): bigint {
    this.check();
    this.charge(1);
    return 0n;
  }
  store(): void {
    this.load();
  }
  read(): Uint8Array {
    this.load();
    return new Uint8Array();
  }
  write(): void {
    this.load();
  }
}

/** A thread of `program` on a fresh fake CPU. */
function thread(program: (ctx: UserContext) => Generator<SyscallTrap, void, void>) {
  const cpu = new FakeCpu();
  const threads = new UserThreadTable();
  const ctx = new FakeContext(cpu, threads, [1n, 2n, 3n, 4n, 5n, 6n], 0x8000n);
  ctx.slot = threads.create("prog", program(ctx), 7);
  return { cpu, threads, ctx };
}

Deno.test("user threads: a step runs to the syscall with its registers set, and charges the step", () => {
  const { cpu, ctx } = thread(function* (ctx) {
    const r = yield* ctx.syscall(9n, 10n, 11n);
    yield* ctx.syscall(r + ctx.result1);
  });
  cpu.instret = 1; // the CPU counted the stub instruction
  assert.equal(stepUserThread(ctx, cpu, 0x1000), "syscall");
  assert.deepEqual(cpu.regs, [9n, 10n, 11n, 0n, 0n, 0n, 0n, 0n]);
  assert.equal(cpu.instret, USER_STEP_COST);
  assert.equal(cpu.timeNs, USER_STEP_COST - 1);
  assert.equal(ctx.stubPc, 0x1000);
  cpu.regs[0] = 100n;
  cpu.regs[7] = 23n;
  assert.equal(stepUserThread(ctx, cpu, 0x1008), "syscall");
  assert.equal(cpu.regs[0], 123n, "the results came back: a0 + result1");
  assert.equal(stepUserThread(ctx, cpu, 0x1008), "returned");
});

Deno.test("user threads: the context knows its start-up registers and arch", () => {
  const { ctx } = thread(function* () {});
  assert.deepEqual(ctx.args, [1n, 2n, 3n, 4n, 5n, 6n]);
  assert.equal(ctx.stackPointer, 0x8000n);
  assert.equal(ctx.arch, "riscv64");
});

Deno.test("user threads: how a step that is not a syscall ends", async (t) => {
  await t.step("yielding something else", () => {
    const { cpu, ctx } = thread(function* () {
      yield "nope" as unknown as SyscallTrap;
    });
    assert.equal(stepUserThread(ctx, cpu, 0), "yielded");
  });
  await t.step("throwing, with the error as thrown", () => {
    const boom = new TypeError("bad state");
    const { cpu, ctx } = thread(function* () {
      yield SYSCALL;
      throw boom;
    });
    assert.equal(stepUserThread(ctx, cpu, 0), "syscall");
    assert.deepEqual(stepUserThread(ctx, cpu, 0), { threw: boom });
    assert.equal(thrownText(boom), "TypeError: bad state");
    assert.equal(thrownText(42), "42");
  });
  await t.step("more than six arguments is a throw naming the registers", () => {
    const { cpu, ctx } = thread(function* (ctx) {
      yield* ctx.syscall(1n, 1n, 2n, 3n, 4n, 5n, 6n, 7n);
    });
    const end = stepUserThread(ctx, cpu, 0);
    assert.ok(typeof end === "object");
    assert.match(
      thrownText(end.threw),
      /^RangeError: a syscall takes at most 6 arguments \(r1\.\.r6\), got 7$/,
    );
  });
});

Deno.test("user threads: abandoning kills the slot, throws, and ends the step as abandoned", () => {
  let caught: unknown;
  const { cpu, ctx, threads } = thread(function* (ctx) {
    try {
      (ctx as FakeContext).abandon("the kernel went elsewhere");
    } catch (e) {
      caught = e;
    }
    ctx.load(0, 8); // every later use throws too
    yield SYSCALL;
  });
  assert.equal(stepUserThread(ctx, cpu, 0), "abandoned");
  assert.ok(caught instanceof UserThreadAbandoned);
  assert.equal(
    (caught as Error).message,
    "TypeScript thread 1 was abandoned: the kernel went elsewhere",
  );
  assert.equal(threads.get(1), undefined);
  assert.equal(threads.whyDead(1), "the kernel went elsewhere");
  assert.equal(threads.size, 0);
});

Deno.test("user threads: the context works only inside its own step, charging each access", () => {
  let saved: UserContext | undefined;
  const { cpu, ctx } = thread(function* (ctx) {
    saved = ctx;
    ctx.load(0, 8);
    ctx.load(0, 8);
    yield SYSCALL;
  });
  assert.equal(stepUserThread(ctx, cpu, 0), "syscall");
  assert.equal(cpu.instret, USER_STEP_COST - 1 + 2);
  assert.throws(
    () => saved!.load(0, 8),
    /^Error: TypeScript thread 1 \(prog\) used its context outside its own step/,
  );
  assert.equal(threadName(ctx.slot), 'TypeScript program "prog" (thread 1)');
});
