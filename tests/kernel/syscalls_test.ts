import assert from "node:assert/strict";
import { EXIT, run, stopped, userLines } from "./helpers.ts";
import { print, type SyscallContext } from "../../servers/demo/syscalls.ts";
import {
  decodeMemStats,
  E_FAULT,
  E_INVAL,
  E_NOSYS,
  E_SRCH,
  MEMSTATS_SIZE,
} from "../../kernel/syscall/abi.ts";

const KERNEL = 0xffff_8000_8020_0000n;

/** Makes every call worth checking and prints the results as one JSON line. */
function* probe<Y>(ctx: SyscallContext<Y>): Generator<Y, void, void> {
  const sp = Number(ctx.stackPointer);
  const buf = sp - 1024;
  const r: Record<string, string> = {};
  const call = function* (name: string, nr: bigint, ...args: bigint[]) {
    r[name] = String(yield* ctx.syscall(nr, ...args));
  };
  yield* call("write_kernel_ptr", 1n, KERNEL, 10n);
  yield* call("write_unmapped", 1n, 0x4000_0000n, 10n);
  yield* call("write_noncanonical", 1n, 0x0000_8000_0000_0000n, 10n);
  yield* call("write_all_ones", 1n, 0xffff_ffff_ffff_ffffn, 1n);
  yield* call("write_past_stack_top", 1n, BigInt(sp - 4), 8n);
  yield* call("write_huge_length", 1n, BigInt(buf), 1n << 40n);
  yield* call("write_empty", 1n, BigInt(buf), 0n);
  yield* call("memstats_unmapped", 11n, 0x4000_0000n, BigInt(MEMSTATS_SIZE));
  yield* call("memstats_kernel", 11n, KERNEL, 8n);
  yield* call("memstats_short", 11n, BigInt(buf), 8n);
  yield* call("memstats", 11n, BigInt(buf), 1000n);
  const stats = decodeMemStats(ctx.read(buf, MEMSTATS_SIZE));
  r.stats_processes = String(stats.processes);
  r.stats_threads = String(stats.threads);
  r.stats_user_frames = String(stats.userFrames);
  for (const nr of [0n, 14n, 999n, 1n << 63n]) yield* call(`nosys_${nr}`, nr);
  yield* call("getpid", 7n);
  yield* call("gettid", 8n);
  yield* call("kill_nobody", 10n, 12345n);
  yield* call("set_priority_bad_class", 13n, 2n, 9n, 0n);
  yield* call("set_priority_nobody", 13n, 999n, 0n, 0n);
  yield* call("thread_create_kernel_entry", 9n, KERNEL, BigInt(sp), 0n);
  yield* call("sleep_zero", 5n, 0n);
  const t1 = yield* ctx.syscall(6n);
  const t2 = yield* ctx.syscall(6n);
  r.time_advances = String(t2 > t1 && t1 > 0n);
  yield* call("log_read", 12n, BigInt(buf), 64n);
  r.log_tail = new TextDecoder().decode(ctx.read(buf, 64));
  yield* print(ctx, JSON.stringify(r) + "\n");
  yield* ctx.syscall(2n, 0n);
}

Deno.test("syscalls: bad pointers are E_FAULT, unknown numbers E_NOSYS, never a kernel fault", () => {
  const res = run({
    cmdline: "tick_hz=10000",
    programs: [{ name: "probe", typescript: probe }],
  });
  assert.equal(stopped(res), "shutdown 0", res.out);
  const [line] = userLines(res.out, "probe");
  const r = JSON.parse(line);
  const expect = (name: string, v: number | string) => assert.equal(r[name], String(v), name);
  for (const n of ["write_kernel_ptr", "write_unmapped", "write_noncanonical", "write_all_ones"]) {
    expect(n, E_FAULT);
  }
  expect("write_past_stack_top", E_FAULT);
  expect("write_huge_length", E_INVAL);
  expect("write_empty", 0);
  expect("memstats_unmapped", E_FAULT);
  expect("memstats_kernel", E_FAULT);
  expect("memstats_short", 8);
  expect("memstats", MEMSTATS_SIZE);
  expect("stats_processes", 1);
  expect("stats_threads", 1);
  expect("stats_user_frames", 5); // one page of image, four of stack
  for (const nr of [0n, 14n, 999n, 1n << 63n]) expect(`nosys_${nr}`, E_NOSYS);
  expect("getpid", 1);
  expect("gettid", 2); // tid 1 is the idle thread
  expect("kill_nobody", E_SRCH);
  expect("set_priority_bad_class", E_INVAL);
  expect("set_priority_nobody", E_SRCH);
  expect("thread_create_kernel_entry", E_INVAL);
  expect("sleep_zero", 0);
  expect("time_advances", "true");
  expect("log_read", 64);
  assert.ok(res.out.includes(r.log_tail), "log_read returns the newest bytes of the log");
  assert.doesNotMatch(res.out, /PANIC|killed/);
});

Deno.test("syscalls: the same errors reach machine code through a0", () => {
  // Each check that fails exits with its own status; 0 means all passed.
  const check = (n: number, nr: number, a0: string, a1: string, expected: number) => `
    li    a7, ${nr}
    li    a0, ${a0}
    li    a1, ${a1}
    ecall
    li    t0, ${expected}
    li    s0, ${n}
    bne   a0, t0, fail
`;
  const source = `
    .text
    ${check(1, 0, "0", "0", E_NOSYS)}
    ${check(2, 4242, "0", "0", E_NOSYS)}
    ${check(3, 1, "0xffff800080200000", "16", E_FAULT)}
    ${check(4, 11, "0x10000000", "96", E_FAULT)}
    ${check(5, 1, "msg", "3", 3)}
    ${EXIT(0)}
fail:
    mv    a0, s0
    li    a7, 2
    ecall
    .data
msg: .ascii "ok\\n"
`;
  const res = run({ cmdline: "tick_hz=10000", programs: [{ name: "asm", assembly: source }] });
  assert.match(res.out, /process 1 \(asm\) exited with status 0/, res.out);
  assert.deepEqual(userLines(res.out, "asm"), ["ok"]);
});
