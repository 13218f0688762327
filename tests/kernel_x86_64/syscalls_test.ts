import assert from "node:assert/strict";
import { EXIT, run, stopped, userLines } from "./helpers.ts";
import { print, type SyscallContext } from "../../servers/demo/syscalls.ts";
import type { UserProgram } from "../../emulator/core/user_program.ts";
import {
  decodeMemStats,
  E_FAULT,
  E_INVAL,
  E_NOSYS,
  E_SRCH,
  MEMSTATS_SIZE,
} from "../../kernel/syscall/abi.ts";

/** The direct map's view of the kernel image (the PC loads it at 2 MiB). */
const KERNEL = 0xffff_8000_0020_0000n;

/** Makes every call worth checking and prints the results as one JSON line. */
function* probe<Y>(ctx: SyscallContext<Y>): Generator<Y, void, void> {
  const sp = Number(ctx.stackPointer);
  const buf = sp - 1024;
  const r: Record<string, string> = {};
  const call = function* (name: string, nr: bigint, ...args: bigint[]) {
    // Results are signed (errors are negative); the x86-64 context hands RAX back unsigned.
    r[name] = String(BigInt.asIntN(64, yield* ctx.syscall(nr, ...args)));
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
    programs: [{ name: "probe", typescript: probe as UserProgram }],
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

/**
 * Machine code checking results through both channels: each check that fails exits with its
 * own status (100 + n through SYSCALL, 200 + n through int 0x69); 0 means all passed.
 */
function errorChecks(): string {
  const checks: [number, number, string, string, number][] = [
    [1, 0, "0", "0", E_NOSYS],
    [2, 4242, "0", "0", E_NOSYS],
    [3, 1, "0xffff800000200000", "16", E_FAULT],
    [4, 11, "0xfee00000", "96", E_FAULT],
    [5, 1, "msg", "3", 3],
  ];
  const one = (base: number, insn: string) =>
    checks.map(([n, nr, a0, a1, expected]) => `
    mov   rax, ${nr}
    ${a0 === "msg" ? "lea rdi, [rel msg]" : `mov rdi, ${a0}`}
    mov   rsi, ${a1}
    ${insn}
    mov   r12, ${base + n}
    cmp   rax, ${expected}
    jne   fail
`).join("");
  return `
    section .text
_start:
    ${one(100, "syscall")}
    ${one(200, "int 0x69")}
    ${EXIT(0)}
fail:
    ${EXIT("r12")}
    section .data
msg: db "ok", 10
`;
}

Deno.test("syscalls: the same errors reach machine code in rax, through syscall and int 0x69", () => {
  const res = run({
    cmdline: "tick_hz=10000",
    programs: [{ name: "asm", assembly: errorChecks() }],
  });
  assert.match(res.out, /process 1 \(asm\) exited with status 0/, res.out);
  assert.deepEqual(userLines(res.out, "asm"), ["ok", "ok"]);
});

/**
 * Sets every register to a known value, makes an unknown system call (no switch) and a
 * `yield` (a switch to the other program and back) through `insn`, and checks each register
 * the channel must keep: any that changed ends the program with 100 + its index.
 * `clobbered` are the registers the channel may change besides RAX (the result).
 */
function registerKeeper(insn: string, clobbered: string[]): string {
  const regs = ["rbx", "rcx", "rdx", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12"]
    .concat(["r13", "r14", "r15"]);
  const value = (i: number) => `0x${(0x1111_0000_0000 * (i + 1) + 0x77).toString(16)}`;
  const kept = regs.filter((r) => !clobbered.includes(r));
  return `
    section .text
_start:
    ${regs.map((r, i) => `mov ${r}, ${value(i)}`).join("\n    ")}
    mov   rax, 999              ; no such call: E_NOSYS, and no switch
    ${insn}
    cmp   rax, ${E_NOSYS}
    jne   bad_rax
    mov   rax, 4                ; yield: the other program runs in between
    ${insn}
    test  rax, rax
    jne   bad_rax
    ${
    kept.map((r) => `mov rax, ${value(regs.indexOf(r))}\n    cmp ${r}, rax\n    jne bad_${r}`)
      .join("\n    ")
  }
    mov   rax, 0x7ffffffff000   ; and rsp, the stack top it started with
    cmp   rsp, rax
    jne   bad_rsp
    ${EXIT(0)}
bad_rax: ${EXIT(99)}
bad_rsp: ${EXIT(98)}
    ${kept.map((r, i) => `bad_${r}: ${EXIT(100 + i)}`).join("\n")}
`;
}

Deno.test("syscalls: int 0x69 keeps every register but rax and rdx; syscall also uses rcx and r11", () => {
  const res = run({
    cmdline: "tick_hz=10000",
    programs: [
      // rdx is the second result register (0 here); rcx and r11 are SYSCALL's own.
      { name: "slow", assembly: registerKeeper("int 0x69", ["rdx"]) },
      { name: "fast", assembly: registerKeeper("syscall", ["rdx", "rcx", "r11"]) },
    ],
  });
  assert.equal(stopped(res), "shutdown 0", res.out);
  assert.match(res.out, /\(slow\) exited with status 0 /, res.out);
  assert.match(res.out, /\(fast\) exited with status 0 /, res.out);
});
