import assert from "node:assert/strict";
import {
  type SyscallTrap,
  USER_STEP_COST,
  type UserContext,
  UserThreadAbandoned,
} from "../core/user_program.ts";
import {
  CSR_SATP,
  CSR_SEPC,
  EXC_ECALL_U,
  EXC_ILLEGAL_INST,
  EXC_LOAD_PAGE_FAULT,
  EXC_STORE_PAGE_FAULT,
} from "./csr.ts";
import type { RiscvHart } from "./hart.ts";
import { PageTables, RAM_BASE, RW_USER, RX_USER, Testbench, type TrapRecord } from "./testing.ts";

const SYS_ADD = 1n;
const SYS_EXIT = 93n;
const STUB_VA = 0x1_0000;
const STUB_PA = RAM_BASE;
const DATA_VA = 0x20_0000;
const DATA_PA = RAM_BASE + 0x10_0000;
const POOL = RAM_BASE + 0x80_0000;

/** The four-instruction stub of user_program.ts, with the program's name at +16. */
function stub(name: string): string {
  return `
    _start:
      ts.start
    1: ecall
      ts.resume
      j 1b
      .asciz "${name}"`;
}

/**
 * A tiny kernel around the bench's trap handler: syscall 1 returns a0 + a1 in a0 and
 * a0 - a1 in a1, syscall 93 exits (the hart stops). `onFault` sees every other trap.
 */
class World {
  readonly tb: Testbench;
  readonly pt: PageTables;
  readonly h: RiscvHart;
  readonly exits: bigint[] = [];
  onFault: (t: TrapRecord, h: RiscvHart) => void = (_t, h) => h.stop();

  constructor(name = "prog") {
    this.tb = new Testbench({ onTrap: (t, h) => this.#trap(t, h) });
    this.pt = new PageTables(this.tb, 3, POOL);
    this.pt.map(STUB_VA, STUB_PA, RX_USER);
    this.pt.map(DATA_VA, DATA_PA, RW_USER);
    this.tb.load(stub(name), STUB_VA, STUB_PA);
    this.h = this.tb.harts[0];
  }

  #trap(t: TrapRecord, h: RiscvHart): void {
    if (t.code !== EXC_ECALL_U || t.interrupt) return this.onFault(t, h);
    const x = h.x;
    if (x[17] === SYS_EXIT) {
      this.exits.push(x[10]);
      h.stop();
      return;
    }
    if (x[17] === SYS_ADD) {
      const [a, b] = [x[10], x[11]];
      x[10] = a + b;
      x[11] = a - b;
    } else x[10] = -38n; // ENOSYS
    h.csrw(CSR_SEPC, t.sepc + 4n);
    h.sret();
  }

  /** Starts the stub in U-mode with `args` in a0.. and sp = `sp`. */
  run(args: bigint[] = [], sp = 0x7fff_f000n, asid = 1) {
    const h = this.tb.enterUser(0, STUB_VA, this.pt.satp(asid));
    args.forEach((v, i) => (h.x[10 + i] = v));
    h.x[2] = sp;
    return this.tb.run(1_000_000);
  }

  register(name: string, program: (ctx: UserContext) => Generator<SyscallTrap, void, void>) {
    this.tb.machine.programs.register(name, program);
  }
}

Deno.test("TS programs: ts.start runs the program to its first syscall, which traps as an ecall", () => {
  const w = new World();
  let seen: { args: readonly bigint[]; sp: bigint; arch: string } | undefined;
  w.register("prog", function* (ctx) {
    seen = { args: ctx.args, sp: ctx.stackPointer, arch: ctx.arch };
    yield* ctx.syscall(SYS_EXIT, 3n);
  });
  w.run([11n, 22n, 33n]);
  assert.deepEqual(seen, { args: [11n, 22n, 33n, 0n, 0n, 0n], sp: 0x7fff_f000n, arch: "riscv64" });
  assert.deepEqual(w.exits, [3n]);
  const t = w.tb.traps[0];
  assert.equal(t.code, EXC_ECALL_U);
  assert.equal(t.sepc, BigInt(STUB_VA + 4), "the stub's ecall");
  assert.equal(w.h.x[17], SYS_EXIT, "a7 = the number");
  assert.equal(w.h.x[27], 1n, "s11 = the handle");
});

Deno.test("TS programs: a syscall round trip returns a0, and a1 as result1", () => {
  const w = new World();
  const results: bigint[] = [];
  w.register("prog", function* (ctx) {
    results.push(yield* ctx.syscall(SYS_ADD, 40n, 2n));
    results.push(ctx.result1);
    results.push(yield* ctx.syscall(SYS_ADD, 1n, 10n));
    results.push(ctx.result1);
    results.push(yield* ctx.syscall(777n));
    yield* ctx.syscall(SYS_EXIT, 0n);
  });
  w.run();
  assert.deepEqual(results, [42n, 38n, 11n, -9n, -38n]);
  assert.deepEqual(w.exits, [0n]);
  // Every syscall trapped at the stub's ecall; resumes came back through ts.resume.
  assert.deepEqual(w.tb.traps.map((t) => t.sepc), Array(4).fill(BigInt(STUB_VA + 4)));
});

Deno.test("TS programs: memory goes through the MMU with U permissions", () => {
  const w = new World();
  w.tb.writeU64(DATA_PA, 0x1122_3344_5566_7788n);
  w.register("prog", function* (ctx) {
    const v = ctx.load(DATA_VA, 8);
    ctx.store(DATA_VA + 8, 4, v >> 32n);
    ctx.write(DATA_VA + 0xffe, new TextEncoder().encode("hello")); // crosses into the next page
    const back = new TextDecoder().decode(ctx.read(DATA_VA + 0xffe, 5));
    yield* ctx.syscall(SYS_EXIT, back === "hello" ? 1n : 0n);
  });
  w.pt.map(DATA_VA + 0x1000, DATA_PA + 0x1000, RW_USER);
  w.run();
  assert.deepEqual(w.exits, [1n]);
  assert.equal(w.tb.read(DATA_PA + 8, 4), 0x1122_3344n);
  assert.equal(w.tb.read(DATA_PA + 0xffe, 2), 0x6568n); // "he" at the end of the first page
});

Deno.test("TS programs: time is USER_STEP_COST per step and 1 per access", () => {
  const w = new World();
  w.register("prog", function* (ctx) {
    ctx.load(DATA_VA, 8);
    ctx.load(DATA_VA, 8);
    yield* ctx.syscall(SYS_ADD, 1n, 1n);
    yield* ctx.syscall(SYS_EXIT, 0n);
  });
  w.run();
  // Retired: ts.start (20 + 2 accesses); the ecall traps, so it does not retire; then
  // ts.resume (20) and j (1) before the next ecall.
  const [first, second] = w.tb.traps;
  assert.equal(first.instret, USER_STEP_COST + 2);
  assert.equal(second.instret, 2 * USER_STEP_COST + 2 + 1);
});

Deno.test("TS programs: a fault in an access is delivered at once, then retried", () => {
  const w = new World();
  const faults: TrapRecord[] = [];
  w.onFault = (t, h) => {
    faults.push(t);
    // Demand paging: map the page and return to the faulting stub instruction.
    w.pt.map(Number(t.stval) & ~0xfff, DATA_PA + 0x4000, RW_USER);
    h.sret();
  };
  w.tb.writeU64(DATA_PA + 0x4010, 99n);
  w.register("prog", function* (ctx) {
    const a = ctx.load(0x30_0010, 8); // unmapped: faults at ts.start
    yield* ctx.syscall(SYS_ADD, 0n, 0n);
    ctx.store(0x30_1008, 8, a + 1n); // unmapped: faults at ts.resume
    yield* ctx.syscall(SYS_EXIT, a);
  });
  w.run();
  assert.deepEqual(w.exits, [99n], "the program never noticed");
  assert.equal(faults.length, 2);
  assert.equal(faults[0].code, EXC_LOAD_PAGE_FAULT);
  assert.equal(faults[0].stval, 0x30_0010n);
  assert.equal(faults[0].sepc, BigInt(STUB_VA), "sepc = ts.start");
  assert.equal(faults[1].code, EXC_STORE_PAGE_FAULT);
  assert.equal(faults[1].sepc, BigInt(STUB_VA + 8), "sepc = ts.resume");
  assert.equal(w.tb.read(DATA_PA + 0x4008, 8), 100n);
});

Deno.test("TS programs: a fault the kernel does not return from abandons the thread", () => {
  const w = new World();
  let caught: unknown;
  w.onFault = (_t, h) => {
    // Kill the thread: return to the stub's ts.resume with a dead handle.
    h.csrw(CSR_SEPC, BigInt(STUB_VA + 8));
    h.sret();
  };
  w.register("prog", function* (ctx) {
    try {
      ctx.load(0x30_0000, 8);
    } catch (e) {
      caught = e;
      throw e;
    }
    yield* ctx.syscall(SYS_EXIT, 0n);
  });
  w.tb.onTrap = (t, h) => {
    if (t.code === EXC_ILLEGAL_INST) {
      w.tb.traps.push(t);
      return h.stop();
    }
    w.onFault(t, h);
  };
  w.run();
  assert.ok(caught instanceof UserThreadAbandoned);
  assert.match(
    (caught as Error).message,
    /thread 1 was abandoned: the kernel did not return to it after a load page fault at 0x30_0000/,
  );
  // The later ts.resume with that handle is an illegal instruction, and the machine says why.
  const ill = w.tb.traps.find((t) => t.code === EXC_ILLEGAL_INST)!;
  assert.equal(ill.sepc, BigInt(STUB_VA + 8));
  assert.equal(ill.stval, 0x100bn, "ts.resume's bits");
  assert.match(
    w.tb.machine.messages.join("\n"),
    /s11 = 1 is not a live TypeScript thread \(thread 1 died: the kernel did not return/,
  );
});

Deno.test("TS programs: throwing, or returning without exit, is an illegal instruction with a report", async (t) => {
  const cases: [
    string,
    (ctx: UserContext) => Generator<SyscallTrap, void, void>,
    RegExp,
    number,
  ][] = [
    [
      "throws at start",
      // deno-lint-ignore require-yield
      function* () {
        throw new Error("boom");
      },
      /TypeScript program "prog" \(thread 1\) threw Error: boom/,
      STUB_VA,
    ],
    [
      "returns after a syscall",
      function* (ctx) {
        yield* ctx.syscall(SYS_ADD, 1n, 2n);
      },
      /returned without making its exit syscall/,
      STUB_VA + 8,
    ],
    [
      "yields something else",
      function* () {
        yield "nope" as unknown as SyscallTrap;
      },
      /yielded something other than a syscall/,
      STUB_VA,
    ],
    [
      "too many arguments",
      function* (ctx) {
        yield* ctx.syscall(1n, 1n, 2n, 3n, 4n, 5n, 6n, 7n);
      },
      /threw RangeError: a syscall takes at most 6 arguments/,
      STUB_VA,
    ],
  ];
  for (const [name, program, message, at] of cases) {
    await t.step(name, () => {
      const w = new World();
      w.register("prog", program);
      w.run();
      const ill = w.tb.traps.find((tr) => tr.code === EXC_ILLEGAL_INST);
      assert.ok(ill, "an illegal-instruction trap");
      assert.equal(ill.sepc, BigInt(at));
      assert.match(w.tb.machine.messages.join("\n"), message);
    });
  }
});

Deno.test("TS programs: unknown names, bad handles and foreign handles are illegal", async (t) => {
  await t.step("no program by that name", () => {
    const w = new World("nosuch");
    w.register("prog", function* () {});
    w.run();
    assert.equal(w.tb.traps[0].code, EXC_ILLEGAL_INST);
    assert.equal(w.tb.traps[0].stval, 0x0bn, "ts.start's bits");
    assert.match(
      w.tb.machine.messages.join("\n"),
      /no TypeScript program named "nosuch" is registered \(registered: prog\)/,
    );
  });
  await t.step("a handle nobody created", () => {
    const w = new World();
    w.register("prog", function* (ctx) {
      yield* ctx.syscall(SYS_ADD, 0n, 0n);
    });
    w.onFault = (_t, h) => h.stop();
    w.tb.onTrap = (tr, h) => {
      if (tr.code === EXC_ECALL_U) {
        h.x[27] = 12345n; // the kernel corrupts s11
        h.csrw(CSR_SEPC, tr.sepc + 4n);
        return h.sret();
      }
      h.stop();
    };
    w.run();
    assert.equal(w.tb.traps[1].code, EXC_ILLEGAL_INST);
    assert.match(w.tb.machine.messages.join("\n"), /s11 = 12345 is not a live TypeScript thread/);
  });
  await t.step("a handle from another address space", () => {
    const w = new World();
    w.register("prog", function* (ctx) {
      yield* ctx.syscall(SYS_ADD, 0n, 0n);
    });
    const other = new PageTables(w.tb, 3, POOL + 0x10_0000);
    other.map(STUB_VA, STUB_PA, RX_USER);
    w.tb.onTrap = (tr, h) => {
      if (tr.code === EXC_ECALL_U) {
        h.csrw(CSR_SATP, other.satp(1)); // switch address spaces, keep s11
        h.sfenceVma();
        h.csrw(CSR_SEPC, tr.sepc + 4n);
        return h.sret();
      }
      h.stop();
    };
    w.run();
    assert.equal(w.tb.traps[1].code, EXC_ILLEGAL_INST);
    assert.match(
      w.tb.machine.messages.join("\n"),
      /thread 1 \(prog\) belongs to the address space with root PPN 0x8_0800, but satp.PPN is 0x8_0900/,
    );
  });
  await t.step("the context used outside the program's step", () => {
    const w = new World();
    let saved: UserContext | undefined;
    w.register("prog", function* (ctx) {
      saved = ctx;
      yield* ctx.syscall(SYS_EXIT, 0n);
    });
    w.run();
    assert.throws(() => saved!.load(DATA_VA, 8), /used its context outside its own step/);
  });
});
