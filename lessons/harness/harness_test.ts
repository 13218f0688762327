import assert from "node:assert/strict";
import { KernelHang } from "../../emulator/core/hosted.ts";
import { BOOTINFO_MAGIC } from "../../emulator/core/bootinfo.ts";
import { buildBoard } from "./boards.ts";
import { budgetedPhysMem, OpCounter } from "./budget.ts";
import { checks } from "./context.ts";
import { type Case, defineLesson, exercise } from "./define.ts";
import { CaseFailure, classify, StudentError } from "./failure.ts";
import { describeCall, instrumentFactory } from "./instrument.ts";
import { lessonSeconds } from "./bench.ts";

/** What `fn` throws (fails the test if it throws nothing). */
function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("nothing was thrown");
}

const aCase = (over: Partial<Case<unknown>> = {}): Case<unknown> => ({
  name: "a case",
  points: 1,
  anchor: "a-section",
  arch: "both",
  run() {},
  ...over,
});

function spec(cases: Case<unknown>[]) {
  return {
    number: 7,
    title: "A lesson",
    components: {
      thing: {
        interface: "Thing",
        exercise: exercise("exercise/thing.ts", "thing"),
        reference: () => 0,
      },
    },
    cases,
  };
}

Deno.test("define: a lesson's mistakes are refused at once, with what to fix", () => {
  const lesson = defineLesson(spec([aCase(), aCase({ name: "b", arch: "riscv64", points: 3 })]));
  assert.deepEqual(lesson.maxPoints, { x86_64: 1, riscv64: 4 });
  assert.throws(() => defineLesson(spec([])), /lesson 7 \(A lesson\): it has no graded case/);
  assert.throws(() => defineLesson(spec([aCase(), aCase()])), /two cases are named "a case"/);
  assert.throws(
    () => defineLesson(spec([aCase({ points: 0 })])),
    /points 0 is not a positive integer/,
  );
  assert.throws(() => defineLesson(spec([aCase({ anchor: "Step 1" })])), /is not a heading anchor/);
  const bad = spec([aCase()]);
  bad.components.thing.exercise = exercise("thing.ts", "thing");
  assert.throws(() => defineLesson(bad), /thing\.ts is not a \.ts file under exercise\//);
});

Deno.test("instrument: a failing call is named once, with its arguments", () => {
  const factory = instrumentFactory(
    (base: number) => ({
      size: 3,
      at(i: number) {
        if (i > 2) throw new RangeError(`index ${i}`);
        return base + i;
      },
    }),
    "createThing",
    "thing",
  );
  const thing = factory(0x8020_0000);
  assert.equal(thing.at(1), 0x8020_0001);
  assert.equal(thing.size, 3, "fields pass through");
  const e = caught(() => thing.at(7));
  assert.ok(e instanceof StudentError);
  assert.equal((e as StudentError).call, "thing.at(7)");
  assert.equal(classify(e).message, "thing.at(7) threw RangeError: index 7");
  assert.equal(
    describeCall("pmm.free", [0x8030_0000, 2, 115200, 1n, "x"]),
    'pmm.free(0x80300000, 2, 115200, 0x1, "x")',
  );
  const broken = instrumentFactory(
    () => {
      throw "a string";
    },
    "createBroken",
    "broken",
  );
  assert.match(
    classify(caught(() => broken())).message,
    /createBroken\(\) threw a non-Error value was thrown: a string/,
  );
});

Deno.test("budget: past its budget every operation hangs, deterministically", () => {
  const ops = new OpCounter(3);
  let reads = 0;
  const mem = budgetedPhysMem({
    read: () => (reads++, 0n),
    write: () => {},
    zero: () => {},
    readBytes: (_pa, n) => new Uint8Array(n),
    writeBytes: () => {},
  }, ops);
  mem.read(0, 8);
  mem.readBytes(0, 16); // two doublewords
  assert.throws(() => mem.read(0, 8), KernelHang);
  assert.throws(() => mem.read(0, 8), /more than 3 operations/, "and again");
  assert.equal(reads, 1, "the accesses past the budget never reach memory");
  assert.equal(classify(new StudentError("pmm.allocate()", new KernelHang("x"))).kind, "hang");
});

Deno.test("checks: failures carry what was expected and what was seen", () => {
  const f = caught(() => checks.equal([1, 2, 3], [1, 2, 4], "the list")) as CaseFailure;
  assert.equal(f.message, "the list: they differ first at [2]");
  assert.equal(f.details.expected, "[2] = 4 (3 entries)");
  assert.equal(f.details.saw, "[2] = 3 (3 entries)");
  const g = caught(() => checks.equal(0x8020_0000, 0x8030_0000, "the frame")) as CaseFailure;
  assert.deepEqual([g.details.expected, g.details.saw], ["0x80300000", "0x80200000"]);
  assert.equal(
    (caught(() => checks.throws(() => 5, "must refuse")) as CaseFailure).details.saw,
    "it returned 5",
  );
  const refused = new Error("no");
  assert.equal(
    checks.throws(() => {
      throw new StudentError("f()", refused);
    }, "must refuse"),
    refused,
  );
  assert.throws(
    () =>
      checks.throws(() => {
        throw new StudentError("f()", new KernelHang("spin"));
      }, "must refuse"),
    StudentError,
    "a hang is not a refusal",
  );
});

for (const arch of ["x86_64", "riscv64"] as const) {
  Deno.test(`boards: ${arch}: the case runs in a kernel entry, reaching RAM and the UART through the CPU`, () => {
    const board = buildBoard(arch, { memory: 8 * 2 ** 20 }, 1);
    assert.throws(
      () => board.cpuMem.read(board.bootInfoAddress, 8),
      /only inside the case's kernel entry/,
    );
    const { thrown, reason } = board.runEntry(() => {
      assert.equal(board.cpuMem.read(board.bootInfoAddress, 8), BOOTINFO_MAGIC);
      board.cpuUart.write(0, 0x41); // THR
      board.cpuUart.write(7, 0x5a); // SCR
      assert.equal(board.cpuUart.read(7), 0x5a);
    });
    assert.equal(thrown, undefined);
    assert.equal(reason.kind, "shutdown");
    assert.deepEqual(board.transmitted, [0x41]);
    assert.equal(board.ram.read(board.bootInfoAddress, 8), BOOTINFO_MAGIC);
    assert.equal(board.ram.isRam(arch === "x86_64" ? 0xb000_0000 : 0x1000_0000), false);
    assert.throws(() => board.runEntry(() => {}), /runs one kernel entry/);
    const tables = board.mmuTableFrames();
    assert.equal(tables.length > 0, arch === "x86_64", "page tables only where the MMU is on");
  });
}

Deno.test("boards: a throw inside the entry is returned, not lost; the machine still powers off", () => {
  const board = buildBoard("riscv64", {}, 1);
  const { thrown, reason } = board.runEntry(() => {
    throw new CaseFailure("no");
  });
  assert.ok(thrown instanceof CaseFailure);
  assert.equal(reason.kind, "shutdown");
});

Deno.test("bench: lessons.01.seconds is measured on the reference, both boards", async () => {
  const seconds = await lessonSeconds(1);
  assert.ok(seconds > 0 && Number.isFinite(seconds));
});
