/**
 * Threads: what the scheduler runs. A thread belongs to one process (whose address space it
 * runs in), has a kernel stack of its own, allocated from the PMM, whose top holds the save
 * area where a context switch keeps its user registers (the layout is the port's), and is
 * described by an object from the "thread" slab cache.
 *
 * ```
 * struct thread {            // THREAD_OBJECT_SIZE bytes, in the "thread" slab cache
 *   u64 tid;                 //  0
 *   u64 pid;                 //  8
 *   u64 kstack_top;          // 16  physical address of the top of its kernel stack
 * };
 * ```
 *
 * The TypeScript record below is the kernel's bookkeeping; the slab object is the thread's
 * share of kernel memory, so the statistics see every thread, and a debugger reading RAM can
 * find its stack.
 *
 * @module
 */

import { OutOfMemory, type SchedClass, type Schedulable } from "../components.ts";
import type { Kernel } from "../kernel.ts";
import { PAGE_SIZE } from "../mm/phys.ts";
import type { Process } from "./process.ts";

/** Bytes of `struct thread`. */
export const THREAD_OBJECT_SIZE = 64;

/** Where a thread is in its life. */
export type ThreadState =
  /** In its CPU's run queue. */
  | "ready"
  /** Running on its CPU (its CPU's `current`). */
  | "running"
  /** On the sleep queue until `wakeAt`. */
  | "sleeping"
  /** Exited or killed; its memory is freed once no CPU runs on it. */
  | "dead";

/** A thread. */
export interface Thread extends Schedulable {
  /** Its id, unique for the machine's lifetime. */
  readonly tid: number;
  /** Its process. */
  readonly process: Process;
  /** Its scheduling class. */
  schedClass: SchedClass;
  /** Its level within the class (0 highest). */
  priority: number;
  /** Where it is in its life. */
  state: ThreadState;
  /** The CPU whose run queue it belongs to. */
  readonly cpu: number;
  /** Physical address of the bottom of its kernel stack. */
  readonly kstack: number;
  /** Physical address just past the top of its kernel stack (the save area is below). */
  readonly kstackTop: number;
  /** Its `struct thread` in the slab. */
  readonly object: number;
  /** Whether it is a CPU's idle thread (no user state, never queued). */
  readonly idle: boolean;
  /** When a sleeping thread wakes (ns). */
  wakeAt: number;
  /** Ticks left of its time slice. */
  sliceLeft: number;
  /** How many times it was preempted (its slice ran out, or a higher rank arrived). */
  preemptions: number;
  /** Debug output not yet ended by a newline. */
  output: string;
}

/** Where a new thread starts in user mode. */
export interface ThreadStart {
  /** Its first instruction. */
  entry: bigint;
  /** Its stack pointer. */
  stack: bigint;
  /** The value of its first argument register. */
  arg: bigint;
}

/**
 * Creates a thread of `process` on CPU `cpu`: its slab object, its kernel stack, and (unless
 * it is an idle thread, `start` undefined) its initial user state in the save area. It is
 * not queued yet. Throws OutOfMemory, having freed what it took, when memory runs out.
 */
export function createThread(
  k: Kernel,
  process: Process,
  start: ThreadStart | undefined,
  schedClass: SchedClass,
  priority: number,
  cpu: number,
): Thread {
  const object = k.heap.threads.allocate();
  if (object === undefined) throw new OutOfMemory("a thread object");
  const frames = k.arch.kernelStackFrames;
  const kstack = k.frames.for("kernelStacks").allocate(frames);
  if (kstack === undefined) {
    k.heap.threads.free(object);
    throw new OutOfMemory("a kernel stack");
  }
  const tid = k.nextTid++;
  const kstackTop = kstack + frames * PAGE_SIZE;
  k.arch.mem.write(object, 8, BigInt(tid));
  k.arch.mem.write(object + 8, 8, BigInt(process.pid));
  k.arch.mem.write(object + 16, 8, BigInt(kstackTop));
  if (start) k.arch.initUserState(kstackTop, start.entry, start.stack, start.arg);
  const thread: Thread = {
    tid,
    process,
    schedClass,
    priority,
    state: "ready",
    cpu,
    kstack,
    kstackTop,
    object,
    idle: start === undefined,
    wakeAt: 0,
    sliceLeft: 0,
    preemptions: 0,
    output: "",
  };
  process.threads.add(thread);
  k.threads.set(tid, thread);
  return thread;
}

/** Frees a dead thread's kernel stack and object, and forgets it. */
export function destroyThread(k: Kernel, t: Thread): void {
  k.frames.for("kernelStacks").free(t.kstack, k.arch.kernelStackFrames);
  k.heap.threads.free(t.object);
  t.process.threads.delete(t);
  k.threads.delete(t.tid);
}
