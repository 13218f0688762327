/**
 * The scheduler: anos's prioritised round robin, one run queue per CPU, driven by that CPU's
 * timer.
 *
 * - **Ticks.** Each CPU ticks `tick_hz` times a second of virtual time (100 by default: a
 *   10 ms tick). A tick takes one from the running thread's slice (`slice_ticks`, default 1);
 *   at zero the thread is preempted: it goes to the back of its level and the best queued
 *   thread runs (itself again, if it is alone at the top).
 * - **Preemption by rank.** A thread made ready that outranks the running one preempts it at
 *   the next exit from the kernel, without waiting for a tick.
 * - **Sleep.** A sleeping thread waits on the sleep queue; the CPU's one-shot timer is armed
 *   for the earlier of its next tick and the first wake-up, so sleepers wake on time.
 * - **Idle.** With nothing queued, the CPU runs its idle thread: it waits for an interrupt
 *   (percpu.ts).
 *
 * Every kernel entry ends in {@link leaveKernel}, which runs the timer work that is due,
 * switches threads if needed, frees what died, re-arms the timer, and leaves for user mode or
 * the idle wait. A context switch saves the outgoing thread's user registers to the save area
 * at the top of its kernel stack and loads the incoming one's; a syscall that returns to the
 * same thread saves nothing.
 *
 * @module
 */

import type { Kernel } from "../kernel.ts";
import { activateSpace } from "../mm/address_space.ts";
import { KernelPanic } from "../panic.ts";
import type { PerCpu } from "../percpu.ts";
import { destroyProcess, type Process } from "../proc/process.ts";
import { destroyThread, type Thread } from "../proc/thread.ts";

/** Makes `t` ready on its CPU; it preempts the running thread there if it outranks it. */
export function makeReady(k: Kernel, t: Thread): void {
  const cpu = k.cpus[t.cpu];
  t.state = "ready";
  cpu.runQueue.enqueue(t);
  const current = cpu.current;
  if (current.idle || current.state !== "running" || cpu.runQueue.outranks(current)) {
    cpu.needResched = true;
  }
}

/** The running thread of `cpu` gives way: to the back of its level (yield). */
export function yieldCurrent(cpu: PerCpu): void {
  const t = cpu.current;
  t.state = "ready";
  cpu.runQueue.enqueue(t);
  cpu.needResched = true;
}

/** Puts the running thread of `cpu` to sleep until `wakeAt` (ns). */
export function sleepCurrent(k: Kernel, cpu: PerCpu, wakeAt: number): void {
  const t = cpu.current;
  t.state = "sleeping";
  t.wakeAt = wakeAt;
  k.sleepers.insert(t);
  cpu.needResched = true;
}

/**
 * Ends thread `t`. A thread that is not running anywhere is freed at once; the running one
 * becomes a zombie of its CPU, freed once that CPU has switched away from its stack. When
 * `t` was its process's last live thread, the process ends with `status`.
 */
export function killThread(k: Kernel, t: Thread, status: number): void {
  if (t.state === "dead") return;
  if (t.state === "ready") k.cpus[t.cpu].runQueue.remove(t);
  if (t.state === "sleeping") k.sleepers.remove(t);
  flushOutput(k, t);
  const running = t.state === "running";
  t.state = "dead";
  const p = t.process;
  if ([...p.threads].every((x) => x.state === "dead")) endProcess(k, p, status);
  if (running) {
    const cpu = k.cpus[t.cpu];
    if (cpu.current !== t) {
      throw new KernelPanic(`thread ${t.tid} is running, but not on its CPU ${t.cpu}`);
    }
    cpu.needResched = true;
    cpu.zombies.push(t);
  } else reap(k, t);
}

/** Ends every thread of `p` with `status`. */
export function killProcess(k: Kernel, p: Process, status: number): void {
  p.exitStatus ??= status;
  for (const t of [...p.threads]) killThread(k, t, status);
}

/** Records the end of a process whose threads have all died. */
function endProcess(k: Kernel, p: Process, status: number): void {
  p.exitStatus ??= status;
  k.processes.delete(p.pid);
  k.log.info(
    `process ${p.pid} (${p.name}) exited with status ${p.exitStatus} ` +
      `(preempted ${p.preemptions} time${p.preemptions === 1 ? "" : "s"})`,
  );
}

/** Frees a dead thread, and its process when it was the last. */
function reap(k: Kernel, t: Thread): void {
  destroyThread(k, t);
  if (t.process.threads.size === 0 && t.process.exitStatus !== undefined) {
    destroyProcess(k, t.process);
  }
}

/** Writes what a thread wrote without a final newline, when it dies. */
function flushOutput(k: Kernel, t: Thread): void {
  if (t.output) k.log.user(`${t.process.name}[${t.tid}]: ${t.output}`);
  t.output = "";
}

// ---- time ----------------------------------------------------------------------------------

/** The tick and wake-up work that is due at `now` on `cpu`. */
function timerWork(k: Kernel, cpu: PerCpu, now: number): void {
  if (now >= cpu.nextTickNs) {
    cpu.ticks++;
    cpu.nextTickNs += k.tickNs;
    if (cpu.nextTickNs <= now) cpu.nextTickNs = now + k.tickNs; // ticks missed: do not replay
    const t = cpu.current;
    if (!t.idle && t.state === "running" && --t.sliceLeft <= 0) cpu.needResched = true;
  }
  for (const t of k.sleepers.takeDue(now)) makeReady(k, t);
}

/** Arms `cpu`'s timer for the earlier of its next tick and the first wake-up. */
function armTimer(k: Kernel, cpu: PerCpu): void {
  const deadline = Math.min(cpu.nextTickNs, k.sleepers.earliest());
  if (deadline !== cpu.timerDeadline) {
    k.arch.setTimer(deadline);
    cpu.timerDeadline = deadline;
  }
}

// ---- switching -----------------------------------------------------------------------------

/** Picks the thread `cpu` runs next and switches to it. */
function schedule(k: Kernel, cpu: PerCpu): void {
  cpu.needResched = false;
  const prev = cpu.current;
  let preempted = false;
  if (prev.state === "running" && !prev.idle) {
    // Its slice ran out, or a higher rank is waiting: to the back of its level.
    prev.state = "ready";
    cpu.runQueue.enqueue(prev);
    preempted = true;
  }
  const next = cpu.runQueue.next() ?? cpu.idle;
  if (!next.idle && (next.state !== "ready" || next.cpu !== cpu.index)) {
    throw new KernelPanic(
      `the run queue of cpu${cpu.index} gave thread ${next.tid}, which is ${next.state} ` +
        `on cpu${next.cpu}, not ready here`,
    );
  }
  if (next !== prev) {
    if (preempted) {
      prev.preemptions++;
      prev.process.preemptions++;
    }
    switchTo(k, cpu, prev, next);
  }
  next.state = "running";
  next.sliceLeft = k.options.sliceTicks;
}

/** The context switch: `prev`'s user state out to its save area, `next`'s in. */
function switchTo(k: Kernel, cpu: PerCpu, prev: Thread, next: Thread): void {
  const arch = k.arch;
  if (!prev.idle && prev.state !== "dead") arch.saveUserState(prev.kstackTop);
  if (next.idle) {
    activateSpace(k, cpu, k.kernelSpace);
  } else {
    arch.loadUserState(next.kstackTop);
    activateSpace(k, cpu, next.process.space);
  }
  arch.setKernelStack(next.kstackTop);
  cpu.current = next;
  cpu.switches++;
}

/**
 * The end of every kernel entry on `cpu`: timer work that is due, a switch if one is needed,
 * the dead freed, the timer armed, and out to user mode or the idle wait. When no user
 * process is left, the machine powers off.
 */
export function leaveKernel(k: Kernel, cpu: PerCpu): void {
  const now = k.arch.nowNs();
  if (now >= cpu.nextTickNs || now >= k.sleepers.earliest()) timerWork(k, cpu, now);
  if (cpu.needResched || cpu.current.state !== "running") schedule(k, cpu);
  while (cpu.zombies.length) reap(k, cpu.zombies.pop()!);
  cpu.trap = undefined;
  if (k.processes.size === 0) return shutdown(k);
  armTimer(k, cpu);
  if (cpu.current.idle) k.arch.idle();
  else k.arch.returnToUser();
}

/** Every user process has ended: say so and power off. */
function shutdown(k: Kernel): void {
  const s = k.pmm.stats();
  k.log.info(
    `all processes have exited; ${s.allocatedFrames} frames still allocated ` +
      `(${k.frames.held.pageTables} page tables, ${k.frames.held.kernelStacks} kernel stacks, ` +
      `${k.frames.held.heap} heap, ${k.frames.held.user} user); powering off`,
  );
  k.halted = true;
  k.arch.powerOff(false);
}
