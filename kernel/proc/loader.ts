/**
 * Starting the built-in programs. Until SYSTEM exists (it will load ELF images from a RAM
 * file system), the kernel starts each boot module as a process itself, as anos's kernel
 * starts its first user program: the module is a flat image, copied to a fixed address.
 * The kernel knows no file format.
 *
 * ```
 * 0x0000_0000_0001_0000   the image (USER_IMAGE_BASE): read, write, execute
 * ...
 * 0x0000_7fff_ffff_b000   the stack, USER_STACK_FRAMES pages, growing down
 * 0x0000_7fff_ffff_f000   USER_STACK_TOP (a guard page above it, up to 2^47)
 * ```
 *
 * A flat image has no headers saying which part is code and which data, so the whole image
 * is mapped read-write-execute; ELF loading (lesson 13) maps each segment with its own
 * permissions.
 *
 * A module's name may carry scheduling parameters after a `?`, as a URL's query does:
 * `compute-a?class=high&priority=10&arg=3`.
 *
 * @module
 */

import type { SchedClass } from "../components.ts";
import type { Kernel } from "../kernel.ts";
import { mapUserPages } from "../mm/address_space.ts";
import { PAGE_SIZE } from "../mm/phys.ts";
import { SCHED_CLASSES, SCHED_LEVELS } from "../sched/run_queue.ts";
import { makeReady } from "../sched/scheduler.ts";
import { createProcess, destroyProcess, type Process } from "./process.ts";
import { createThread } from "./thread.ts";

/** Where a flat image is loaded, and where its first thread starts. */
export const USER_IMAGE_BASE = 0x1_0000n;
/** The initial stack pointer of a program's first thread. */
export const USER_STACK_TOP = 0x0000_7fff_ffff_f000n;
/** Pages of stack a program's first thread gets. */
export const USER_STACK_FRAMES = 4;
/** The default scheduling class and level of a program. */
export const DEFAULT_PRIORITY = { schedClass: "normal" as SchedClass, priority: 128 };

/** A boot module's name, split into the program's name and its parameters. */
export interface ProgramSpec {
  /** The program's name (the part before `?`). */
  name: string;
  /** Its scheduling class. */
  schedClass: SchedClass;
  /** Its level in the class. */
  priority: number;
  /** Its first thread's argument. */
  arg: bigint;
}

/** Parses `name?class=..&priority=..&arg=..`; throws an Error naming a bad parameter. */
export function parseProgramSpec(moduleName: string): ProgramSpec {
  const [name, query = ""] = moduleName.split("?", 2);
  const spec: ProgramSpec = { name, ...DEFAULT_PRIORITY, arg: 0n };
  for (const part of query.split("&").filter((p) => p)) {
    const [key, value = ""] = part.split("=", 2);
    if (key === "class" && (SCHED_CLASSES as string[]).includes(value)) {
      spec.schedClass = value as SchedClass;
    } else if (key === "priority" && /^\d+$/.test(value) && Number(value) < SCHED_LEVELS) {
      spec.priority = Number(value);
    } else if (key === "arg" && /^-?\d+$/.test(value)) {
      spec.arg = BigInt(value);
    } else {
      throw new Error(`module "${moduleName}": bad parameter "${part}"`);
    }
  }
  return spec;
}

/**
 * Creates a process for the flat image `image` (the module's bytes) and makes its first
 * thread ready on `cpu`. Throws OutOfMemory (having freed what it took).
 */
export function startProgram(
  k: Kernel,
  spec: ProgramSpec,
  image: Uint8Array,
  cpu: number,
): Process {
  const p = createProcess(k, spec.name);
  try {
    const frames = Math.max(1, Math.ceil(image.length / PAGE_SIZE));
    const rwx = { write: true, execute: true, user: true, global: false, device: false };
    mapUserPages(k, p.space, USER_IMAGE_BASE, frames, rwx, image);
    const stackBase = USER_STACK_TOP - BigInt(USER_STACK_FRAMES * PAGE_SIZE);
    mapUserPages(k, p.space, stackBase, USER_STACK_FRAMES, { ...rwx, execute: false });
    const start = { entry: USER_IMAGE_BASE, stack: USER_STACK_TOP, arg: spec.arg };
    const t = createThread(k, p, start, spec.schedClass, spec.priority, cpu);
    makeReady(k, t);
  } catch (e) {
    k.processes.delete(p.pid);
    destroyProcess(k, p);
    throw e;
  }
  return p;
}
