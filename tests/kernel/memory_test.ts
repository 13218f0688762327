import assert from "node:assert/strict";
import { EXIT, run, stopped, userLines } from "./helpers.ts";
import { print, type SyscallContext } from "../../servers/demo/syscalls.ts";
import { decodeMemStats, MEMSTATS_FIELDS, MEMSTATS_SIZE } from "../../kernel/syscall/abi.ts";
import { memStats } from "../../kernel/stats.ts";
import { Trace } from "../../emulator/core/trace.ts";

/**
 * Creates `threads` threads one after another, each of which exits at once, and compares
 * memstats before and after (every field but free_runs, which may differ in how the free
 * memory is cut up). Exits 0 when equal, 100 + the offset of the first field that differs.
 */
const threadChurn = (threads: number) => `
    .text
    la    a0, before
    li    a1, ${MEMSTATS_SIZE}
    li    a7, 11                # memstats(before)
    ecall
    li    s1, ${threads}
1:  la    a0, child
    li    a1, 0
    mv    a2, s1
    li    a7, 9                 # thread_create(child, 0, s1)
    ecall
    bltz  a0, cannot
    li    a7, 4                 # yield: the child runs, exits, and is reaped
    ecall
    addi  s1, s1, -1
    bnez  s1, 1b
    la    a0, after
    li    a1, ${MEMSTATS_SIZE}
    li    a7, 11                # memstats(after)
    ecall
    la    t0, before
    la    t1, after
    li    t2, 0
2:  li    t3, 24                # free_runs: skipped
    beq   t2, t3, 3f
    add   t4, t0, t2
    ld    t5, 0(t4)
    add   t4, t1, t2
    ld    t6, 0(t4)
    bne   t5, t6, differ
3:  addi  t2, t2, 8
    li    t3, ${MEMSTATS_SIZE}
    bne   t2, t3, 2b
    ${EXIT(0)}
differ:
    addi  a0, t2, 100
    li    a7, 2
    ecall
cannot:
    ${EXIT(99)}
child:
    li    a7, 3                 # thread_exit()
    ecall
    .data
    .balign 8
before: .space ${MEMSTATS_SIZE}
after:  .space ${MEMSTATS_SIZE}
`;

Deno.test("memory: a thousand threads created and destroyed leave every counter where it was", () => {
  const r = run({
    cmdline: "tick_hz=10000",
    programs: [{ name: "churn", assembly: threadChurn(1000) }],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
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
});

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
    if (tid < 0n) throw new Error(`thread_create: ${tid}`);
    yield* ctx.syscall(4n);
  }
  yield* ctx.syscall(11n, BigInt(buf), BigInt(MEMSTATS_SIZE));
  const after = decodeMemStats(ctx.read(buf, MEMSTATS_SIZE));
  const differ = MEMSTATS_FIELDS.filter((f) => f !== "freeRuns" && before[f] !== after[f]);
  yield* print(ctx, `differ: [${differ.join(", ")}]\n`);
  yield* ctx.syscall(2n, BigInt(differ.length));
}

Deno.test("memory: the same holds for a thousand TypeScript threads", () => {
  const r = run({
    cmdline: "tick_hz=10000",
    programs: [{ name: "ts-churn", typescript: tsChurn }],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  assert.deepEqual(userLines(r.out, "ts-churn"), ["differ: []"]);
  assert.match(r.out, /\(ts-churn\) exited with status 0 /);
});

/**
 * Stores `key` in its data page, then yields and checks it `turns` times. Odd keepers keep
 * it in the image's first page, even ones two pages further: with four keepers on two ASIDs,
 * keeper 3 gets keeper 1's ASID after a rollover, and keeper 2 in between does not evict
 * keeper 1's TLB entry (the TLB is direct-mapped by virtual page), so without the rollover's
 * flush keeper 3 would read keeper 1's key through a stale entry.
 */
const keeper = (key: number, turns: number) => `
    .text
    li    t0, ${key}
    la    t1, value
    sd    t0, 0(t1)
    li    s1, ${turns}
1:  li    a7, 4                 # yield
    ecall
    la    t1, value
    ld    t2, 0(t1)
    li    t0, ${key}
    bne   t2, t0, bad
    addi  s1, s1, -1
    bnez  s1, 1b
    ${EXIT(0)}
bad:
    ${EXIT(1)}
    .data
    .balign 8
    .space ${key % 2 ? 0 : 8192}
value: .dword 0
`;

/** Runs the four keepers with `cmdline`; counts the full TLB flushes (no address, no ASID). */
function keepers(cmdline: string) {
  const trace = new Trace(0).enable("tlb");
  let fullFlushes = 0, asidFlushes = 0;
  trace.listen((e) => {
    if (e.data.op !== "sfence.vma" || e.data.va !== "all") return;
    if (e.data.asid === "all") fullFlushes++;
    else asidFlushes++;
  });
  const r = run({
    cmdline,
    trace,
    programs: [1, 2, 3, 4].map((k) => ({ name: `keeper${k}`, assembly: keeper(k, 50) })),
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  for (const k of [1, 2, 3, 4]) {
    assert.match(r.out, new RegExp(`\\(keeper${k}\\) exited with status 0 `), r.out);
  }
  return { r, fullFlushes, asidFlushes };
}

Deno.test("memory: when the ASIDs run out, the generation rolls over and the TLB is flushed", () => {
  const { r, fullFlushes } = keepers("tick_hz=10000 asids=3"); // ASIDs 1 and 2 for four
  assert.match(r.out, /address spaces: 2 ASIDs/);
  assert.ok(r.kernel.asids.rollovers > 50, `${r.kernel.asids.rollovers} rollovers`);
  assert.equal(fullFlushes, 1 + r.kernel.asids.rollovers, "one at boot, one per rollover");
});

Deno.test("memory: with enough ASIDs, switching address spaces flushes nothing", () => {
  const { r, fullFlushes, asidFlushes } = keepers("tick_hz=10000");
  assert.ok(r.kernel.cpus[0].switches > 200, `${r.kernel.cpus[0].switches} switches`);
  assert.equal(r.kernel.asids.rollovers, 0);
  assert.equal(fullFlushes, 1, "only the one when paging was turned on");
  assert.equal(asidFlushes, 4, "one per address space destroyed, for its freed tables");
});

Deno.test("memory: creating threads until memory runs out is E_NOMEM, and exit cleans up", () => {
  const r = run({
    memory: 8 << 20,
    cmdline: "tick_hz=10000",
    programs: [{
      name: "greedy",
      assembly: `
    .text
    li    s1, 0
1:  la    a0, child
    li    a1, 0
    li    a2, 0
    li    a7, 9                 # thread_create(child, 0, 0), never yielding
    ecall
    bltz  a0, 2f
    addi  s1, s1, 1
    j     1b
2:  li    t0, -12               # E_NOMEM?
    bne   a0, t0, 3f
    mv    a0, s1
    li    a7, 2                 # exit(threads created): every thread dies with the process
    ecall
3:  ${EXIT(1)}
child:
    li    a0, 10000000000       # sleep(10 s): children wait until the process ends
    li    a7, 5
    ecall
    j     child
`,
    }],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  const m = /process 1 \(greedy\) exited with status (\d+)/.exec(r.out);
  assert.ok(m && Number(m[1]) > 500, r.out);
  const s = memStats(r.kernel);
  assert.equal(s.kernelStackFrames, 1, "only the idle thread's stack is left");
  assert.equal(s.userFrames, 0);
});
