import assert from "node:assert/strict";
import { testBoth } from "./boards.ts";
import { print, type SyscallContext } from "../../servers/demo/syscalls.ts";
import {
  decodeMemStats,
  E_FAULT,
  E_INVAL,
  E_NOSYS,
  E_SRCH,
  MEMSTATS_SIZE,
} from "../../kernel/syscall/abi.ts";

/** Makes every call worth checking (`kernel`: a kernel address) and prints one JSON line. */
function probe(kernel: bigint) {
  return function* <Y>(ctx: SyscallContext<Y>): Generator<Y, void, void> {
    const sp = Number(ctx.stackPointer);
    const buf = sp - 1024;
    const r: Record<string, string> = {};
    const call = function* (name: string, nr: bigint, ...args: bigint[]) {
      // Results are signed (errors are negative).
      r[name] = String(BigInt.asIntN(64, yield* ctx.syscall(nr, ...args)));
    };
    yield* call("write_kernel_ptr", 1n, kernel, 10n);
    yield* call("write_unmapped", 1n, 0x4000_0000n, 10n);
    yield* call("write_noncanonical", 1n, 0x0000_8000_0000_0000n, 10n);
    yield* call("write_all_ones", 1n, 0xffff_ffff_ffff_ffffn, 1n);
    yield* call("write_past_stack_top", 1n, BigInt(sp - 4), 8n);
    yield* call("write_huge_length", 1n, BigInt(buf), 1n << 40n);
    yield* call("write_empty", 1n, BigInt(buf), 0n);
    yield* call("memstats_unmapped", 11n, 0x4000_0000n, BigInt(MEMSTATS_SIZE));
    yield* call("memstats_kernel", 11n, kernel, 8n);
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
    yield* call("thread_create_kernel_entry", 9n, kernel, BigInt(sp), 0n);
    yield* call("sleep_zero", 5n, 0n);
    const t1 = yield* ctx.syscall(6n);
    const t2 = yield* ctx.syscall(6n);
    r.time_advances = String(t2 > t1 && t1 > 0n);
    yield* call("log_read", 12n, BigInt(buf), 64n);
    r.log_tail = new TextDecoder().decode(ctx.read(buf, 64));
    yield* print(ctx, JSON.stringify(r) + "\n");
    yield* ctx.syscall(2n, 0n);
  };
}

testBoth(
  "syscalls: bad pointers are E_FAULT, unknown numbers E_NOSYS, never a kernel fault",
  (b) => {
    const res = b.run({
      cmdline: "tick_hz=10000",
      programs: [{ name: "probe", typescript: probe(b.KERNEL_ADDRESS) }],
    });
    assert.equal(b.stopped(res), "shutdown 0", res.out);
    const [line] = b.userLines(res.out, "probe");
    const r = JSON.parse(line);
    const expect = (name: string, v: number | string) => assert.equal(r[name], String(v), name);
    for (
      const n of ["write_kernel_ptr", "write_unmapped", "write_noncanonical", "write_all_ones"]
    ) {
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
  },
);

testBoth(
  "syscalls: the same errors reach machine code in the result register, through every channel",
  (b) => {
    const res = b.run({
      cmdline: "tick_hz=10000",
      programs: [{
        name: "asm",
        assembly: b.syscallChecks([
          [1, 0, "0", "0", E_NOSYS],
          [2, 4242, "0", "0", E_NOSYS],
          [3, 1, `0x${b.KERNEL_ADDRESS.toString(16)}`, "16", E_FAULT],
          [4, 11, `0x${b.DEVICE_ADDRESS.toString(16)}`, "96", E_FAULT],
          [5, 1, "msg", "3", 3],
        ]),
      }],
    });
    assert.match(res.out, /process 1 \(asm\) exited with status 0/, res.out);
    assert.deepEqual(b.userLines(res.out, "asm"), Array(b.SYSCALL_CHANNELS).fill("ok"));
  },
);

testBoth("syscalls: a call keeps every register but its results (and the channel's own)", (b) => {
  const res = b.run({ cmdline: "tick_hz=10000", programs: b.REGISTER_KEEPERS });
  assert.equal(b.stopped(res), "shutdown 0", res.out);
  for (const p of b.REGISTER_KEEPERS) {
    assert.match(res.out, new RegExp(`\\(${p.name}\\) exited with status 0 `), res.out);
  }
});
