/**
 * `ts-clock`: the built-in TypeScript demo program. It says hello, then sleeps five times and
 * reports how long each sleep took in virtual time, while the machine-code programs compute:
 * its lines interleave with theirs. It makes its syscalls through the register ABI like any
 * user program (syscalls.ts), so the kernel cannot tell it from machine code.
 *
 * @module
 */

import { exit, print, SYS_GETPID, SYS_SLEEP, SYS_TIME, type SyscallContext } from "./syscalls.ts";

/** How long each sleep asks for: 7 ms. */
export const TS_CLOCK_SLEEP_NS = 7_000_000n;

/** The program. */
export function* tsClock<Y>(ctx: SyscallContext<Y>): Generator<Y, void, void> {
  const pid = yield* ctx.syscall(SYS_GETPID);
  yield* print(ctx, `hello from TypeScript (pid ${pid})\n`);
  for (let i = 1; i <= 5; i++) {
    const before = yield* ctx.syscall(SYS_TIME);
    yield* ctx.syscall(SYS_SLEEP, TS_CLOCK_SLEEP_NS);
    const after = yield* ctx.syscall(SYS_TIME);
    const ms = Number(after - before) / 1e6;
    yield* print(ctx, `sleep ${i}: asked for 7 ms, woke after ${ms.toFixed(3)} ms\n`);
  }
  yield* exit(ctx, 0);
}
