/**
 * The decoded-instruction cache of one CPU, keyed by where the bytes are in RAM.
 *
 * Decoding an x86 instruction costs several times more than executing it, so each decoded
 * {@link Insn} is kept in a per-page array indexed by the offset of its first byte. The
 * key is physical (the RAM offset of the 4-KiB frame), so two virtual mappings of one page
 * share their decodings and a CR3 switch costs nothing here.
 *
 * Keeping it correct when memory changes:
 *
 * - Stores by this CPU: once a frame holds decoded code, TLB entries that map it lose
 *   TLB_NOCODE, so stores to it take the slow path, which calls `write` to forget the
 *   instructions the store may overlap. Self-modifying code therefore sees its own store
 *   at the next instruction, as the SDM requires (Vol. 3A §11.6).
 * - Everything else (other CPUs, DMA, the hosted kernel writing RAM directly): the CPU
 *   starts a new epoch at every quantum and after every kernel entry, and an instruction
 *   whose epoch is old has its bytes compared with memory before it is used again.
 *
 * Instructions that cross a page boundary are never cached.
 *
 * @module
 */

import type { Insn } from "./insn.ts";
import type { Tlb } from "./tlb.ts";

/** A page of decoded instructions, indexed by page offset. */
export type CodePage = (Insn | undefined)[];

/** The cache. */
export class ICache {
  #pages = new Map<number, CodePage>();
  /** Counts the stores that hit decoded code: compiled blocks revalidate when it moves. */
  gen = 0;
  readonly #tlb: Tlb;

  /** A cache whose new code pages are marked in `tlb` (so stores to them are seen). */
  constructor(tlb: Tlb) {
    this.#tlb = tlb;
  }

  /** Whether the frame at RAM offset `frameOff` holds decoded instructions. */
  has(frameOff: number): boolean {
    return this.#pages.has(frameOff);
  }

  /** The decoded-instruction page for the frame at RAM offset `frameOff` (created empty). */
  page(frameOff: number): CodePage {
    let p = this.#pages.get(frameOff);
    if (!p) {
      p = new Array(4096);
      this.#pages.set(frameOff, p);
      this.#tlb.markCode(frameOff);
    }
    return p;
  }

  /**
   * A store of at most 8 bytes at `offset` in the frame at `frameOff`: forgets every
   * instruction that may overlap it (an instruction is at most 15 bytes long).
   */
  write(frameOff: number, offset: number): void {
    const p = this.#pages.get(frameOff);
    if (!p) return;
    this.gen++;
    const end = Math.min(4096, offset + 8);
    for (let k = Math.max(0, offset - 14); k < end; k++) {
      const i = p[k];
      if (i !== undefined) {
        i.epoch = -1; // also breaks the fall-through links that lead to it
        p[k] = undefined;
      }
    }
  }

  /** How many pages hold decoded instructions. */
  get size(): number {
    return this.#pages.size;
  }

  /** Forgets everything. */
  clear(): void {
    this.#pages.clear();
  }
}
