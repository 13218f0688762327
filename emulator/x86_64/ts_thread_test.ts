/**
 * TypeScript user programs on x86-64 (emulator/core/user_program.ts): the stub's
 * ts.start and ts.resume, syscalls through the real SYSCALL instruction with the Linux
 * register ABI, memory through the MMU with user permissions, faults delivered at once and
 * retried when the kernel returns, abandonment otherwise, and the #UD cases.
 */

import assert from "node:assert/strict";
import {
  SYSCALL,
  USER_STEP_COST,
  type UserContext,
  UserThreadAbandoned,
} from "../core/user_program.ts";
import { EXC_PF, EXC_UD, PF_P, PF_U, PF_W, R10, R15, R8, R9, RAX, RDI, RDX, RSI } from "./regs.ts";
import { bytes, X86TestBench } from "./testing.ts";

const START = 0x40_0000;
const DATA = 0x60_0000;

/** The stub: ts.start; 1: syscall; ts.resume; jmp 1b; then the name at +16. */
function stub(name: string): Uint8Array {
  const code = new Uint8Array(16 + name.length + 1);
  code.set(bytes("0f 0a 00 0f 05 0f 0a 01 eb f9"));
  code.set(new TextEncoder().encode(name), 16);
  return code;
}

/** A bench whose kernel serves: 1 = log(a), 2 = add(a, b) -> (a + b, a * b), 60 = exit. */
function bench(name: string, program: (ctx: UserContext) => Generator<typeof SYSCALL, void, void>) {
  const t = new X86TestBench();
  t.machine.programs.register(name, program);
  t.code(START, stub(name));
  t.mapUser(DATA, 4096, { exec: false });
  const log: bigint[] = [];
  let exit: bigint | undefined;
  t.onSyscall = (_trap, cpu) => {
    const r = cpu.regs;
    switch (Number(r[RAX])) {
      case 1:
        log.push(r[RDI]);
        r[RAX] = 0n;
        return "resume";
      case 2:
        r[RAX] = r[RDI] + r[RSI];
        r[RDX] = r[RDI] * r[RSI];
        return "resume";
      case 6:
        log.push(r[RDI], r[RSI], r[RDX], r[R10], r[R8], r[R9]);
        return "resume";
      case 60:
        exit = r[RDI];
        return "stop";
    }
    r[RAX] = -38n;
    return "resume";
  };
  return { t, log, exit: () => exit };
}

Deno.test("ts programs: syscalls go through SYSCALL with the Linux ABI; results come back", () => {
  const seen: { args: readonly bigint[]; sp: bigint; result1: bigint } = {
    args: [],
    sp: 0n,
    result1: 0n,
  };
  const { t, log, exit } = bench("adder", function* (ctx) {
    seen.args = ctx.args;
    seen.sp = ctx.stackPointer;
    const sum = yield* ctx.syscall(2n, 6n, 7n);
    seen.result1 = ctx.result1;
    yield* ctx.syscall(1n, sum);
    yield* ctx.syscall(6n, 1n, 2n, 3n, 4n, 5n, 6n);
    yield* ctx.syscall(60n, 42n);
  });
  t.cpu.regs[RDI] = 11n;
  t.cpu.regs[RSI] = 12n;
  const trap = t.runUser(START, { rsp: t.stack() });
  assert.equal(trap.vector, -1, "stopped in the exit syscall");
  assert.equal(trap.rip, BigInt(START + 5), "RCX: the syscall returns to ts.resume");
  assert.equal(exit(), 42n);
  assert.deepEqual(log, [13n, 1n, 2n, 3n, 4n, 5n, 6n]);
  assert.equal(seen.result1, 42n, "rdx");
  assert.equal(seen.args[0], 11n);
  assert.equal(seen.args[1], 12n);
  assert.equal(seen.sp, 0x7fff_f000n);
  assert.ok(t.cpu.regs[R15] > 0n, "the handle lives in R15");
  assert.equal(t.machine.userThreads.size, 1);
});

Deno.test("ts programs: results are the register file's signed values, as on RISC-V", () => {
  let result: bigint | undefined;
  const { t, exit } = bench("unknown-call", function* (ctx) {
    result = yield* ctx.syscall(99n); // the bench's kernel answers -38 (ENOSYS)
    yield* ctx.syscall(60n, 0n);
  });
  t.runUser(START, { rsp: t.stack() });
  assert.equal(result, -38n);
  assert.equal(exit(), 0n);
});

Deno.test("ts programs: memory goes through the MMU with user permissions", () => {
  const { t, exit } = bench("mem", function* (ctx) {
    ctx.store(DATA, 8, 0x1122_3344_5566_7788n);
    ctx.write(DATA + 8, new Uint8Array([1, 2, 3]));
    const v = ctx.load(DATA, 4) + BigInt(ctx.read(DATA + 8, 3).reduce((a, b) => a + b, 0));
    yield* ctx.syscall(60n, v);
  });
  t.runUser(START, { rsp: t.stack() });
  assert.equal(exit(), 0x5566_7788n + 6n);
  assert.equal(t.peek64(t.userPhys(DATA)), 0x1122_3344_5566_7788n);
});

Deno.test("ts programs: a fault is delivered at once and the access retried when the kernel returns", () => {
  const { t, exit } = bench("writer", function* (ctx) {
    yield* ctx.syscall(1n, 0n);
    ctx.store(0x70_0000, 8, 99n); // not mapped yet: the kernel maps it on the fault
    yield* ctx.syscall(60n, ctx.load(0x70_0000, 8));
  });
  const faults: number[] = [];
  t.onTrap = (trap) => {
    if (trap.vector !== EXC_PF) return "stop";
    faults.push(trap.errorCode!);
    assert.equal(trap.rip, BigInt(START + 5), "RIP is the stub instruction running (ts.resume)");
    assert.equal(trap.cr2, 0x70_0000n);
    t.mapUser(0x70_0000, 4096, { exec: false });
    return "resume";
  };
  t.runUser(START, { rsp: t.stack() });
  assert.deepEqual(faults, [PF_W | PF_U]);
  assert.equal(exit(), 99n);
});

Deno.test("ts programs: when the kernel does not return, the thread is abandoned", () => {
  let thrown: unknown;
  const { t } = bench("victim", function* (ctx) {
    yield* ctx.syscall(1n, 1n);
    try {
      ctx.load(0x70_0000, 8);
    } catch (e) {
      thrown = e;
      throw e;
    }
    yield* ctx.syscall(60n, 0n);
  });
  const trap = t.runUser(START, { rsp: t.stack() }); // the bench kernel halts on the #PF
  assert.equal(trap.vector, EXC_PF);
  assert.equal(trap.rip, BigInt(START + 5), "faulted inside ts.resume");
  assert.ok(thrown instanceof UserThreadAbandoned);
  assert.equal(t.machine.userThreads.size, 0);
  // Returning to the stub now finds a dead handle: #UD, and the machine says why.
  const ud = t.resume();
  assert.equal(ud.vector, EXC_UD);
  assert.match(
    t.machine.messages.join("\n"),
    /ts\.resume: R15 = \d+ is not a live TypeScript thread \(the kernel did not return/,
  );
});

Deno.test("ts programs: the #UD cases, each reported", async (s) => {
  await s.step("no program of that name", () => {
    const t = new X86TestBench();
    t.code(START, stub("nobody"));
    assert.equal(t.runUser(START, { rsp: t.stack() }).vector, EXC_UD);
    assert.match(t.machine.messages.join("\n"), /no TypeScript program is registered as "nobody"/);
  });
  await s.step("returning without an exit syscall", () => {
    const { t } = bench("quitter", function* (ctx) {
      yield* ctx.syscall(1n, 1n);
    });
    const trap = t.runUser(START, { rsp: t.stack() });
    assert.equal(trap.vector, EXC_UD);
    assert.equal(trap.rip, BigInt(START + 5));
    assert.match(
      t.machine.messages.join("\n"),
      /"quitter" \(thread \d+\) returned without an exit syscall/,
    );
  });
  await s.step("throwing", () => {
    const { t } = bench("thrower", function* (ctx) {
      yield* ctx.syscall(1n, 1n);
      throw new TypeError("bad state");
    });
    assert.equal(t.runUser(START, { rsp: t.stack() }).vector, EXC_UD);
    assert.match(t.machine.messages.join("\n"), /"thrower" .* threw TypeError: bad state/);
  });
  await s.step("resuming in another address space", () => {
    const { t } = bench("moved", function* (ctx) {
      yield* ctx.syscall(1n, 1n);
      yield* ctx.syscall(60n, 0n);
    });
    t.onSyscall = (_trap, cpu) => {
      // A kernel bug: return to the thread with another CR3.
      const other = t.alloc(1);
      t.machine.ram.u8.copyWithin(other, t.pml4, t.pml4 + 4096);
      cpu.writeCr(3, BigInt(other));
      return "resume";
    };
    assert.equal(t.runUser(START, { rsp: t.stack() }).vector, EXC_UD);
    assert.match(t.machine.messages.join("\n"), /belongs to another address space/);
  });
});

Deno.test("ts programs: the rules every CPU shares (core/user_thread.ts)", async (s) => {
  await s.step("yielding something other than a syscall is #UD, reported", () => {
    const { t } = bench("stray", function* () {
      yield "nope" as unknown as typeof SYSCALL;
    });
    const trap = t.runUser(START, { rsp: t.stack() });
    assert.equal(trap.vector, EXC_UD);
    assert.equal(trap.rip, BigInt(START));
    assert.match(t.machine.messages.join("\n"), /"stray" \(thread 1\) yielded something other/);
    assert.equal(t.machine.userThreads.size, 0);
  });
  await s.step("the context works only inside the program's own step", () => {
    let saved: UserContext | undefined;
    const { t } = bench("keeper", function* (ctx) {
      saved = ctx;
      yield* ctx.syscall(60n, 0n);
    });
    t.runUser(START, { rsp: t.stack() });
    assert.throws(() => saved!.load(DATA, 8), /used its context outside its own step/);
  });
  await s.step("a step retires USER_STEP_COST instructions, an access one more", () => {
    const { t } = bench("counter", function* (ctx) {
      ctx.load(DATA, 8);
      yield* ctx.syscall(60n, 0n);
    });
    const before = t.cpu.instret;
    t.runUser(START, { rsp: t.stack() });
    // ts.start with its access, then SYSCALL, which retires (RISC-V's ecall does not).
    assert.equal(t.cpu.instret - before, USER_STEP_COST + 1 + 1);
  });
});

Deno.test("ts programs: the name is read with user permissions (a #PF at ts.start)", () => {
  const t = new X86TestBench();
  t.machine.programs.register("far", function* (ctx) {
    yield* ctx.syscall(60n, 0n);
  });
  // The stub at the end of its page: the name falls on the next, unmapped page.
  t.code(START + 0x1000 - 16, stub("far").subarray(0, 16));
  const trap = t.runUser(START + 0x1000 - 16, { rsp: t.stack() });
  assert.equal(trap.vector, EXC_PF);
  assert.equal(trap.errorCode, PF_U);
  assert.equal(trap.cr2, BigInt(START + 0x1000));
  assert.equal(trap.rip, BigInt(START + 0x1000 - 16));
  void PF_P;
});
