import assert from "node:assert/strict";
import { EXIT, run, stopped, userLines } from "./helpers.ts";
import { print, type SyscallContext } from "../../servers/demo/syscalls.ts";
import type { UserProgram } from "../../emulator/core/user_program.ts";
import { decodeMemStats, MEMSTATS_FIELDS, MEMSTATS_SIZE } from "../../kernel/syscall/abi.ts";
import { memStats } from "../../kernel/stats.ts";
import { Trace } from "../../emulator/core/trace.ts";

/**
 * Creates `threads` threads one after another, each of which exits at once, and compares
 * memstats before and after (every field but free_runs, which may differ in how the free
 * memory is cut up). Exits 0 when equal, 100 + the offset of the first field that differs.
 */
const threadChurn = (threads: number) => `
    section .text
_start:
    lea   rdi, [rel before]
    mov   rsi, ${MEMSTATS_SIZE}
    mov   eax, 11               ; memstats(before)
    syscall
    mov   r12, ${threads}
.create:
    lea   rdi, [rel child]
    xor   esi, esi
    mov   rdx, r12
    mov   eax, 9                ; thread_create(child, 0, r12)
    syscall
    test  rax, rax
    js    cannot
    mov   eax, 4                ; yield: the child runs, exits, and is reaped
    syscall
    dec   r12
    jnz   .create
    lea   rdi, [rel after]
    mov   rsi, ${MEMSTATS_SIZE}
    mov   eax, 11               ; memstats(after)
    syscall
    xor   ecx, ecx
.compare:
    cmp   ecx, 24               ; free_runs: skipped
    je    .next
    lea   rax, [rel before]
    mov   rdx, [rax + rcx]
    lea   rax, [rel after]
    cmp   rdx, [rax + rcx]
    jne   differ
.next:
    add   ecx, 8
    cmp   ecx, ${MEMSTATS_SIZE}
    jne   .compare
    ${EXIT(0)}
differ:
    lea   rdi, [rcx + 100]
    mov   eax, 2
    syscall
cannot:
    ${EXIT(99)}
child:
    mov   eax, 3                ; thread_exit()
    syscall
    section .data
    align 8
before: times ${MEMSTATS_SIZE} db 0
after:  times ${MEMSTATS_SIZE} db 0
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
    if (BigInt.asIntN(64, tid) < 0n) throw new Error(`thread_create: ${tid}`);
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
    programs: [{ name: "ts-churn", typescript: tsChurn as UserProgram }],
  });
  assert.equal(stopped(r), "shutdown 0", r.out);
  assert.deepEqual(userLines(r.out, "ts-churn"), ["differ: []"]);
  assert.match(r.out, /\(ts-churn\) exited with status 0 /);
});

/**
 * Stores `key` in its data page, then yields and checks it `turns` times. Odd keepers keep
 * it in the image's first page, even ones two pages further: with four keepers on two PCIDs,
 * keeper 3 gets keeper 1's PCID after a rollover, and keeper 2 in between does not evict
 * keeper 1's TLB entry (another page, another set), so without the rollover's flush keeper 3
 * would read keeper 1's key through a stale entry.
 */
const keeper = (key: number, turns: number) => `
    section .text
_start:
    mov   qword [rel value], ${key}
    mov   r12, ${turns}
.again:
    mov   eax, 4                ; yield
    syscall
    cmp   qword [rel value], ${key}
    jne   .bad
    dec   r12
    jnz   .again
    ${EXIT(0)}
.bad:
    ${EXIT(1)}
    section .data
    align 8
    times ${key % 2 ? 0 : 8192} db 0
value: dq 0
`;

/**
 * Runs the four keepers with `cmdline`; counts the TLB flushes by kind: INVPCID type 2 (all,
 * globals included: what a rollover does) and CR3 loads without the no-flush bit.
 */
function keepers(cmdline: string, sabotage = false) {
  const trace = new Trace(0).enable("tlb");
  const flushes = { all: 0, cr3: 0 };
  trace.listen((e) => {
    if (e.data.op === "invpcid type 2") flushes.all++;
    if (e.data.op === "mov cr3") flushes.cr3++;
  });
  const r = run(
    {
      cmdline,
      trace,
      programs: [1, 2, 3, 4].map((k) => ({ name: `keeper${k}`, assembly: keeper(k, 50) })),
    },
    2e9,
    (sys) => {
      if (sabotage) sys.arch.tlb.flushAll = () => {}; // a kernel that forgets the rollover's flush
    },
  );
  return { r, flushes };
}

Deno.test("memory: when the PCIDs run out, the generation rolls over and the TLB is flushed", () => {
  const { r, flushes } = keepers("tick_hz=10000 asids=3"); // PCIDs 1 and 2 for four
  assert.equal(stopped(r), "shutdown 0", r.out);
  for (const k of [1, 2, 3, 4]) {
    assert.match(r.out, new RegExp(`\\(keeper${k}\\) exited with status 0 `), r.out);
  }
  assert.match(r.out, /address spaces: 2 ASIDs/);
  assert.ok(r.kernel.asids.rollovers > 50, `${r.kernel.asids.rollovers} rollovers`);
  assert.equal(flushes.all, r.kernel.asids.rollovers, "one INVPCID (all) per rollover");
  assert.equal(flushes.cr3, 2, "the firmware's CR3 load and the kernel's: switches keep the TLB");
});

Deno.test("memory: the keepers catch a rollover that forgets its flush", () => {
  const { r, flushes } = keepers("tick_hz=10000 asids=3", true);
  assert.equal(flushes.all, 0);
  assert.match(r.out, /\(keeper\d\) exited with status 1 /, "a stale translation was used");
});

Deno.test("memory: with enough PCIDs, switching address spaces flushes nothing", () => {
  const { r, flushes } = keepers("tick_hz=10000");
  assert.equal(stopped(r), "shutdown 0", r.out);
  assert.ok(r.kernel.cpus[0].switches > 200, `${r.kernel.cpus[0].switches} switches`);
  assert.equal(r.kernel.asids.rollovers, 0);
  assert.equal(flushes.all, 0);
  assert.equal(flushes.cr3, 2, "only the boot's");
});
