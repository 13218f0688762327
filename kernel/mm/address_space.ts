/**
 * Address spaces: a root page table whose lower half is one process's and whose higher half
 * is the kernel's (shared, see PageTables.createRoot), an ASID, and the user pages the kernel
 * mapped there, which it frees when the space is destroyed.
 *
 * The kernel's own address space (ASID 0, the boot root) is what a CPU runs in when it has no
 * user thread: the idle thread, and the boot.
 *
 * Each user space's record takes a block of the fixed-block allocator, so live address
 * spaces show in the heap statistics.
 *
 * @module
 */

import { OutOfMemory, type PageFlags } from "../components.ts";
import type { Kernel } from "../kernel.ts";
import type { PerCpu } from "../percpu.ts";
import type { AsidHolder } from "./asid.ts";
import { PAGE_SIZE } from "./phys.ts";

/** Bytes of an address space's record in the fixed-block allocator. */
export const ADDRESS_SPACE_OBJECT_SIZE = 64;

/** User pages the kernel allocated and mapped: freed with the space. */
export interface UserRegion {
  /** Where they are mapped. */
  va: bigint;
  /** The first frame (the frames are contiguous). */
  pa: number;
  /** How many frames. */
  frames: number;
}

/** An address space. */
export interface AddressSpace extends AsidHolder {
  /** Physical address of its root page table. */
  readonly root: number;
  /** Its record in the fixed-block allocator (-1 for the kernel's). */
  readonly object: number;
  /** The user pages it owns. */
  readonly regions: UserRegion[];
}

/** Creates an empty user address space sharing the kernel's higher half. */
export function createAddressSpace(k: Kernel): AddressSpace {
  const object = k.heap.spaces.allocate();
  if (object === undefined) throw new OutOfMemory("an address space record");
  let root: number;
  try {
    root = k.pageTables.createRoot(k.kernelSpace.root);
  } catch (e) {
    k.heap.spaces.free(object);
    throw e;
  }
  k.arch.mem.write(object, 8, BigInt(root));
  return { root, object, regions: [], asid: 0, asidGeneration: 0 };
}

/**
 * Maps `frames` fresh frames at user address `va` with `flags`, zeroed and then filled with
 * `contents` (if given). Throws OutOfMemory when the frames or a page table cannot be had
 * (what it took is given back).
 */
export function mapUserPages(
  k: Kernel,
  space: AddressSpace,
  va: bigint,
  frames: number,
  flags: PageFlags,
  contents?: Uint8Array,
): void {
  const user = k.frames.for("user");
  const pa = user.allocate(frames);
  if (pa === undefined) throw new OutOfMemory(`${frames} user page(s) at 0x${va.toString(16)}`);
  k.arch.mem.zero(pa, frames * PAGE_SIZE);
  if (contents) k.arch.mem.writeBytes(pa, contents);
  try {
    k.pageTables.map(space.root, space.asid, va, pa, frames * PAGE_SIZE, flags);
  } catch (e) {
    user.free(pa, frames);
    throw e;
  }
  space.regions.push({ va, pa, frames });
}

/**
 * Frees a user space that no CPU runs in any more: its page tables, then its pages, then its
 * record.
 *
 * Between the two, the TLB: a hart may cache non-leaf entries of the tables just freed, and
 * only an `sfence.vma` without an address drops those (§10.2.1), so the space's ASID is
 * flushed whole. (An ASID of an older generation was flushed at the rollover, and may now
 * be someone else's: it is left alone.)
 */
export function destroyAddressSpace(k: Kernel, space: AddressSpace): void {
  k.pageTables.destroyRoot(space.root);
  if (space.asidGeneration === k.asids.generation) k.arch.tlb.flushAsid(space.asid);
  const user = k.frames.for("user");
  for (const r of space.regions) user.free(r.pa, r.frames);
  space.regions.length = 0;
  k.heap.spaces.free(space.object);
}

/**
 * Makes `space` the address space of `cpu` (which must be the CPU running now), giving it
 * an ASID of the current generation first and flushing this CPU's TLB if the generation
 * moved on since it last flushed (see asid.ts).
 */
export function activateSpace(k: Kernel, cpu: PerCpu, space: AddressSpace): void {
  if (space !== k.kernelSpace && k.asids.assign(space)) {
    k.log.debug(`asid: generation ${k.asids.generation} (ASIDs ran out): flushing the TLB`);
  }
  if (cpu.asidGeneration !== k.asids.generation) {
    k.arch.tlb.flushAll();
    cpu.asidGeneration = k.asids.generation;
  }
  k.arch.activate(space.root, space.asid);
}
