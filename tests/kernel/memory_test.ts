import assert from "node:assert/strict";
import { testBoth } from "./boards.ts";
import type { Board } from "./board.ts";
import { print, type SyscallContext } from "../../servers/demo/syscalls.ts";
import { decodeMemStats, MEMSTATS_FIELDS, MEMSTATS_SIZE } from "../../kernel/syscall/abi.ts";
import { memStats } from "../../kernel/stats.ts";
import { Trace } from "../../emulator/core/trace.ts";

testBoth(
  "memory: a thousand threads created and destroyed leave every counter where it was",
  (b) => {
    const r = b.run({
      cmdline: "tick_hz=10000",
      programs: [{ name: "churn", assembly: b.threadChurn(1000) }],
    });
    assert.equal(b.stopped(r), "shutdown 0", r.out);
    assert.match(r.out, /process 1 \(churn\) exited with status 0 /, r.out);
    assert.ok(r.kernel.nextTid >= 1003, "a thousand threads were made");
    // After everything exited, the kernel holds what it held before the programs started:
    // its page tables, the idle thread's stack and object.
    const s = memStats(r.kernel);
    assert.equal(s.userFrames, 0);
    assert.equal(s.kernelStackFrames, 1);
    assert.equal(s.heapObjects, 1);
    assert.equal(s.threads, 0);
    assert.equal(s.processes, 0);
    assert.equal(s.addressSpaces, 0);
  },
);

/** The same with TypeScript threads: a child is the same program, started with arg != 0. */
function* tsChurn<Y>(ctx: SyscallContext<Y>): Generator<Y, void, void> {
  if (ctx.args[0] !== 0n) {
    yield* ctx.syscall(3n); // a child: thread_exit
    return;
  }
  const buf = Number(ctx.stackPointer) - 1024;
  yield* ctx.syscall(11n, BigInt(buf), BigInt(MEMSTATS_SIZE));
  const before = decodeMemStats(ctx.read(buf, MEMSTATS_SIZE));
  for (let i = 1; i <= 1000; i++) {
    // The child starts at the stub (0x10000) with a stack of its own far below ours.
    const tid = yield* ctx.syscall(9n, 0x10000n, ctx.stackPointer - 8192n, BigInt(i));
    if (BigInt.asIntN(64, tid) < 0n) throw new Error(`thread_create: ${tid}`);
    yield* ctx.syscall(4n);
  }
  yield* ctx.syscall(11n, BigInt(buf), BigInt(MEMSTATS_SIZE));
  const after = decodeMemStats(ctx.read(buf, MEMSTATS_SIZE));
  const differ = MEMSTATS_FIELDS.filter((f) => f !== "freeRuns" && before[f] !== after[f]);
  yield* print(ctx, `differ: [${differ.join(", ")}]\n`);
  yield* ctx.syscall(2n, BigInt(differ.length));
}

testBoth("memory: the same holds for a thousand TypeScript threads", (b) => {
  const r = b.run({
    cmdline: "tick_hz=10000",
    programs: [{ name: "ts-churn", typescript: tsChurn }],
  });
  assert.equal(b.stopped(r), "shutdown 0", r.out);
  assert.deepEqual(b.userLines(r.out, "ts-churn"), ["differ: []"]);
  assert.match(r.out, /\(ts-churn\) exited with status 0 /);
});

/**
 * Runs four keepers (see Board.keeper) with `cmdline`, counting the TLB flushes; `sabotage`
 * makes the kernel forget the rollover's flush.
 */
function keepers(b: Board, cmdline: string, sabotage = false) {
  const trace = new Trace(0).enable("tlb");
  const flushes = b.countTlbFlushes(trace);
  const r = b.run(
    {
      cmdline,
      trace,
      programs: [1, 2, 3, 4].map((k) => ({ name: `keeper${k}`, assembly: b.keeper(k, 50) })),
    },
    2e9,
    (sys) => {
      if (sabotage) sys.arch.tlb.flushAll = () => {}; // a kernel that forgets the rollover's flush
    },
  );
  if (!sabotage) {
    assert.equal(b.stopped(r), "shutdown 0", r.out);
    for (const k of [1, 2, 3, 4]) {
      assert.match(r.out, new RegExp(`\\(keeper${k}\\) exited with status 0 `), r.out);
    }
  }
  return { r, flushes };
}

testBoth(
  "memory: when the ASIDs run out, the generation rolls over and the TLB is flushed",
  (b) => {
    const { r, flushes } = keepers(b, "tick_hz=10000 asids=3"); // ASIDs 1 and 2 for four
    assert.match(r.out, /address spaces: 2 ASIDs/);
    assert.ok(r.kernel.asids.rollovers > 50, `${r.kernel.asids.rollovers} rollovers`);
    flushes.afterRollovers(r.kernel.asids.rollovers);
  },
);

testBoth("memory: the keepers catch a rollover that forgets its flush", (b) => {
  const { r, flushes } = keepers(b, "tick_hz=10000 asids=3", true);
  flushes.sabotaged();
  assert.match(r.out, /\(keeper\d\) exited with status 1 /, "a stale translation was used");
});

testBoth("memory: with enough ASIDs, switching address spaces flushes nothing", (b) => {
  const { r, flushes } = keepers(b, "tick_hz=10000");
  assert.ok(r.kernel.cpus[0].switches > 200, `${r.kernel.cpus[0].switches} switches`);
  assert.equal(r.kernel.asids.rollovers, 0);
  flushes.withoutRollover();
});

testBoth("memory: creating threads until memory runs out is E_NOMEM, and exit cleans up", (b) => {
  const r = b.run({
    memory: 8 << 20,
    cmdline: "tick_hz=10000",
    programs: [{ name: "greedy", assembly: b.GREEDY }],
  });
  assert.equal(b.stopped(r), "shutdown 0", r.out);
  const m = /process 1 \(greedy\) exited with status (\d+)/.exec(r.out);
  assert.ok(m && Number(m[1]) > 500, r.out);
  const s = memStats(r.kernel);
  assert.equal(s.kernelStackFrames, 1, "only the idle thread's stack is left");
  assert.equal(s.userFrames, 0);
});
