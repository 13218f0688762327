/**
 * Processes: an address space and the threads that run in it. A process ends when its last
 * thread does (exit, thread_exit, kill, or a fault); its memory goes back when the last of
 * its threads has been reaped, that is once no CPU runs on any of their stacks.
 *
 * ```
 * struct process {           // PROCESS_OBJECT_SIZE bytes, in the "process" slab cache
 *   u64 pid;                 //  0
 *   u64 root;                //  8  its root page table
 *   char name[48];           // 16  NUL-terminated
 * };
 * ```
 *
 * @module
 */

import { OutOfMemory } from "../components.ts";
import type { Kernel } from "../kernel.ts";
import { type AddressSpace, createAddressSpace, destroyAddressSpace } from "../mm/address_space.ts";
import type { Thread } from "./thread.ts";

/** Bytes of `struct process`. */
export const PROCESS_OBJECT_SIZE = 64;
/** The longest name kept in `struct process` (the record keeps it all). */
const NAME_BYTES = 47;

/** A process. */
export interface Process {
  /** Its id (0 is the kernel's, which owns the idle threads). */
  readonly pid: number;
  /** Its name, for the log: the boot module's. */
  readonly name: string;
  /** Its address space. */
  readonly space: AddressSpace;
  /** Its threads not yet reaped, dead ones included. */
  readonly threads: Set<Thread>;
  /** Its `struct process` (-1 for the kernel's). */
  readonly object: number;
  /** Set when it ended: the status it exited with. */
  exitStatus: number | undefined;
  /** How many times its threads were preempted (for the log and tests). */
  preemptions: number;
}

/** Creates a process with an empty address space. Throws OutOfMemory (having cleaned up). */
export function createProcess(k: Kernel, name: string): Process {
  const object = k.heap.processes.allocate();
  if (object === undefined) throw new OutOfMemory("a process object");
  let space: AddressSpace;
  try {
    space = createAddressSpace(k);
  } catch (e) {
    k.heap.processes.free(object);
    throw e;
  }
  const pid = k.nextPid++;
  const mem = k.arch.mem;
  mem.write(object, 8, BigInt(pid));
  mem.write(object + 8, 8, BigInt(space.root));
  mem.writeBytes(object + 16, new TextEncoder().encode(name).slice(0, NAME_BYTES));
  const p: Process = {
    pid,
    name,
    space,
    threads: new Set(),
    object,
    exitStatus: undefined,
    preemptions: 0,
  };
  k.processes.set(pid, p);
  return p;
}

/** Frees a process whose threads have all been reaped: its address space and object. */
export function destroyProcess(k: Kernel, p: Process): void {
  destroyAddressSpace(k, p.space);
  k.heap.processes.free(p.object);
}

/** The threads of `p` that have not died. */
export function liveThreads(p: Process): Thread[] {
  return [...p.threads].filter((t) => t.state !== "dead");
}
