/**
 * Address-space identifiers: each user address space gets an ASID (a PCID on x86-64) that
 * tags its TLB entries, so switching address spaces needs no TLB flush.
 *
 * The scheme is Linux's (arch/riscv/mm/context.c), simplified: ASIDs are handed out in
 * order within a *generation*. A space remembers the generation its ASID belongs to; when
 * it is activated with an ASID from an older generation, it gets a fresh one. When the
 * ASIDs run out, the generation rolls over: every ASID is free again, and since TLB entries
 * tagged with an old ASID may still be cached, every CPU flushes its whole TLB before it
 * next activates a space (each CPU remembers the generation it last flushed for).
 *
 * ASIDs are never reused within a generation, even when a space dies: its stale entries can
 * only be reached with its ASID, which nobody gets again before the rollover's flush.
 *
 * ASID 0 is the kernel's (KERNEL_ASID) and never handed out.
 *
 * SMP note: a space running on another CPU at the rollover keeps its old ASID there until it
 * is switched out; the SMP issue adds Linux's per-CPU reserved ASIDs for that case.
 *
 * @module
 */

/** What the allocator needs to know of an address space. */
export interface AsidHolder {
  /** Its ASID (meaningful only in `asidGeneration`). */
  asid: number;
  /** The generation the ASID was handed out in (0: never). */
  asidGeneration: number;
}

/** The ASID allocator. */
export class AsidAllocator {
  /** The current generation, from 1. */
  generation = 1;
  /** How many rollovers happened (for the log and tests). */
  rollovers = 0;
  #next = 1;

  /** An allocator of ASIDs 1 to `count` - 1. */
  constructor(readonly count: number) {
    if (!Number.isInteger(count) || count < 2) {
      throw new RangeError(`ASID count ${count}: need at least 2 (0 is the kernel's)`);
    }
  }

  /**
   * Makes sure `space` has an ASID of the current generation. Returns true when this rolled
   * the generation over (the caller's CPU must then flush its TLB).
   */
  assign(space: AsidHolder): boolean {
    if (space.asidGeneration === this.generation) return false;
    let rolled = false;
    if (this.#next >= this.count) {
      this.generation++;
      this.rollovers++;
      this.#next = 1;
      rolled = true;
    }
    space.asid = this.#next++;
    space.asidGeneration = this.generation;
    return rolled;
  }
}
