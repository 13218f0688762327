/**
 * The system calls: one table, indexed by the numbers of abi.ts. The port has already
 * stepped the pc past the trap instruction; a handler reads its arguments from the caller's
 * registers (`arg(k, i)`), and its result is written back into them before the kernel
 * decides whether the caller runs on. A handler that blocks or ends the caller still
 * returns a result: it is what the caller sees when (if) it runs again.
 *
 * Pointers go through copyIn/copyOut (mm/usercopy.ts); anything else a caller passes is
 * checked before use. No argument can make the kernel fault: the worst is an error code.
 *
 * @module
 */

import { OutOfMemory } from "../components.ts";
import type { Kernel } from "../kernel.ts";
import { memStats } from "../stats.ts";
import { copyIn, copyOut, USER_TOP } from "../mm/usercopy.ts";
import type { PerCpu } from "../percpu.ts";
import {
  killProcess,
  killThread,
  makeReady,
  sleepCurrent,
  yieldCurrent,
} from "../sched/scheduler.ts";
import { createThread, type Thread } from "../proc/thread.ts";
import {
  DEBUG_WRITE_MAX,
  E_FAULT,
  E_INVAL,
  E_NOMEM,
  E_NOSYS,
  E_SRCH,
  encodeMemStats,
  EXIT_KILLED,
  MEMSTATS_SIZE,
  SCHED_CLASS_NUMBERS,
  SYS_DEBUG_WRITE,
  SYS_EXIT,
  SYS_GETPID,
  SYS_GETTID,
  SYS_KILL,
  SYS_LOG_READ,
  SYS_MEMSTATS,
  SYS_SET_PRIORITY,
  SYS_SLEEP,
  SYS_THREAD_CREATE,
  SYS_THREAD_EXIT,
  SYS_TIME,
  SYS_YIELD,
} from "./abi.ts";

/** A syscall handler: the caller is `cpu.current`; returns the result for a0/rax. */
type Handler = (k: Kernel, cpu: PerCpu, t: Thread) => bigint;

/** Argument `i` of the current syscall, as an unsigned 64-bit value. */
function arg(k: Kernel, i: number): bigint {
  return BigInt.asUintN(64, k.arch.syscallArg(i));
}

/** Argument `i` as a length: a non-negative number, or -1 when it is absurdly large. */
function lengthArg(k: Kernel, i: number): number {
  const v = arg(k, i);
  return v > 0x7fff_ffffn ? -1 : Number(v);
}

const debugWrite: Handler = (k, _cpu, t) => {
  const len = lengthArg(k, 1);
  if (len < 0) return BigInt(E_INVAL);
  const n = Math.min(len, DEBUG_WRITE_MAX);
  const bytes = copyIn(k, t.process.space, arg(k, 0), n);
  if (!bytes) return BigInt(E_FAULT);
  // Whole lines go to the log as they end; the rest waits for its newline.
  const text = t.output + new TextDecoder().decode(bytes);
  const lines = text.split("\n");
  t.output = lines.pop()!;
  for (const line of lines) k.log.user(`${t.process.name}[${t.tid}]: ${line}`);
  if (t.output.length >= DEBUG_WRITE_MAX) {
    k.log.user(`${t.process.name}[${t.tid}]: ${t.output}`);
    t.output = "";
  }
  return BigInt(n);
};

const exit: Handler = (k, _cpu, t) => {
  killProcess(k, t.process, Number(BigInt.asIntN(32, arg(k, 0))));
  return 0n;
};

const threadExit: Handler = (k, _cpu, t) => {
  killThread(k, t, 0);
  return 0n;
};

const yieldCall: Handler = (_k, cpu) => {
  yieldCurrent(cpu);
  return 0n;
};

const sleep: Handler = (k, cpu) => {
  const ns = arg(k, 0);
  if (ns === 0n) return 0n;
  const wake = Math.min(k.arch.nowNs() + Number(ns), Number.MAX_SAFE_INTEGER);
  sleepCurrent(k, cpu, wake);
  return 0n;
};

const time: Handler = (k) => BigInt(k.arch.nowNs());

const getpid: Handler = (_k, _cpu, t) => BigInt(t.process.pid);

const gettid: Handler = (_k, _cpu, t) => BigInt(t.tid);

const threadCreate: Handler = (k, _cpu, t) => {
  const [entry, stack, a] = [arg(k, 0), arg(k, 1), arg(k, 2)];
  if (entry >= USER_TOP || stack > USER_TOP) return BigInt(E_INVAL);
  try {
    const child = createThread(
      k,
      t.process,
      { entry, stack, arg: a },
      t.schedClass,
      t.priority,
      t.cpu,
    );
    makeReady(k, child);
    return BigInt(child.tid);
  } catch (e) {
    if (e instanceof OutOfMemory) return BigInt(E_NOMEM);
    throw e;
  }
};

const kill: Handler = (k, _cpu, t) => {
  const pid = arg(k, 0);
  const p = pid < 0x8000_0000n ? k.processes.get(Number(pid)) : undefined;
  if (!p) return BigInt(E_SRCH);
  k.log.info(`process ${p.pid} (${p.name}) killed by process ${t.process.pid}`);
  killProcess(k, p, EXIT_KILLED);
  return 0n;
};

const memstats: Handler = (k, _cpu, t) => {
  const len = lengthArg(k, 1);
  if (len < 0) return BigInt(E_INVAL);
  const bytes = encodeMemStats(memStats(k)).subarray(0, Math.min(len, MEMSTATS_SIZE));
  return copyOut(k, t.process.space, arg(k, 0), bytes) ? BigInt(bytes.length) : BigInt(E_FAULT);
};

const logRead: Handler = (k, _cpu, t) => {
  const len = lengthArg(k, 1);
  if (len < 0) return BigInt(E_INVAL);
  const bytes = k.log.tail(len);
  return copyOut(k, t.process.space, arg(k, 0), bytes) ? BigInt(bytes.length) : BigInt(E_FAULT);
};

const setPriority: Handler = (k, cpu, t) => {
  const [tid, cls, level] = [arg(k, 0), arg(k, 1), arg(k, 2)];
  const target = tid < 0x8000_0000n ? k.threads.get(Number(tid)) : undefined;
  if (!target || target.process !== t.process || target.state === "dead") return BigInt(E_SRCH);
  if (cls >= BigInt(SCHED_CLASS_NUMBERS.length) || level > 254n) return BigInt(E_INVAL);
  const queued = target.state === "ready" && k.cpus[target.cpu].runQueue.remove(target);
  target.schedClass = SCHED_CLASS_NUMBERS[Number(cls)];
  target.priority = Number(level);
  if (queued) makeReady(k, target);
  if (cpu.runQueue.outranks(cpu.current)) cpu.needResched = true;
  return 0n;
};

/** The table. */
const SYSCALLS: readonly (Handler | undefined)[] = (() => {
  const table: (Handler | undefined)[] = [];
  table[SYS_DEBUG_WRITE] = debugWrite;
  table[SYS_EXIT] = exit;
  table[SYS_THREAD_EXIT] = threadExit;
  table[SYS_YIELD] = yieldCall;
  table[SYS_SLEEP] = sleep;
  table[SYS_TIME] = time;
  table[SYS_GETPID] = getpid;
  table[SYS_GETTID] = gettid;
  table[SYS_THREAD_CREATE] = threadCreate;
  table[SYS_KILL] = kill;
  table[SYS_MEMSTATS] = memstats;
  table[SYS_LOG_READ] = logRead;
  table[SYS_SET_PRIORITY] = setPriority;
  return table;
})();

/** Handles the syscall the current thread of `cpu` made, and writes its result. */
export function dispatchSyscall(k: Kernel, cpu: PerCpu): void {
  const nr = k.arch.syscallNumber();
  const handler = nr >= 0n && nr < BigInt(SYSCALLS.length) ? SYSCALLS[Number(nr)] : undefined;
  const result = handler ? handler(k, cpu, cpu.current) : BigInt(E_NOSYS);
  k.arch.setSyscallResult(result, 0n);
}
