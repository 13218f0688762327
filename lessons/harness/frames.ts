/**
 * Frames for a component that is built on the PMM (page tables, the kernel heap): a PMM over
 * a window of the board's RAM that keeps the grader's own books. It records every frame it
 * hands out and every frame that comes back, so a grader can check, without asking the code
 * under test, which frames it holds, whether what it reports adds up, and whether it leaked.
 *
 * It behaves as a PMM should, and as a real one does in ways that expose mistakes:
 *
 * - what it hands out is not zeroed: every frame is painted with junk first (as xv6's
 *   `kalloc` fills pages with 5s), so a table or an object that was never cleared shows;
 * - it can be made to run dry ({@link FrameLedger.limit}), so that running out of memory
 *   happens where the grader wants it;
 * - freeing a frame it did not hand out, or one already free, throws an Error that says so.
 *
 * Its own books are TypeScript, outside the emulated RAM: it stands in for the PMM of
 * lesson 02, which is not under test here.
 *
 * Portable: no Deno or Node API.
 *
 * @module
 */

import { MEMMAP_USABLE } from "../../emulator/core/bootinfo.ts";
import { hex } from "../../emulator/core/memory.ts";
import type { PhysicalMemoryManager, PmmStats } from "../../kernel/components.ts";
import type { CaseBoard } from "./boards.ts";

const F = 4096;

/** The junk new frames are painted with, unless told otherwise. */
export const DEFAULT_PAINT = 0xa5;

/** One call the code under test made to the PMM, as the ledger saw it. */
export interface LedgerEntry {
  /** Which. */
  op: "allocate" | "free";
  /** The frames' address (undefined: an allocation that was refused). */
  pa: number | undefined;
  /** How many frames. */
  frames: number;
}

/** The grader's PMM and its books. */
export interface FrameLedger {
  /** The PMM to give the code under test. */
  readonly pmm: PhysicalMemoryManager;
  /** The window's first frame. */
  readonly base: number;
  /** How many frames the window has. */
  readonly frames: number;
  /** Every call, in order. */
  readonly log: LedgerEntry[];
  /** Allocations succeed only while no more than this many frames are out (default: all). */
  limit: number;
  /** Frames handed out and not returned. */
  outstanding(): number;
  /** Whether the frame at `pa` is out. */
  isHeld(pa: number): boolean;
  /**
   * The allocation [pa, pa + length) lies in: the address `allocate` returned for it, if
   * every byte of the range is in frames that one allocation handed out and that are still
   * out; otherwise undefined.
   */
  allocationOf(pa: number, length: number): number | undefined;
  /** The addresses of the frames out now, lowest first. */
  heldFrames(): number[];
}

/** Where to put the window. */
export interface LedgerOptions {
  /** Frames in the window. */
  frames: number;
  /** The window's base is a multiple of this (default 4 KiB). */
  align?: number;
  /** The byte new frames are painted with (default {@link DEFAULT_PAINT}). */
  paint?: number;
}

/** A ledger over a window of `board`'s usable RAM. */
export function frameLedger(board: CaseBoard, options: LedgerOptions): FrameLedger {
  const align = options.align ?? F;
  const size = options.frames * F;
  let base = -1;
  for (const r of board.memoryMap) {
    if (r.type !== MEMMAP_USABLE) continue;
    const start = Math.ceil(r.base / align) * align;
    if (start + size <= r.base + r.length) {
      base = start;
      break;
    }
  }
  if (base < 0) {
    throw new Error(
      `frameLedger: no usable region holds ${options.frames} frames aligned to ${hex(align)}`,
    );
  }
  return new Ledger(board, base, options.frames, options.paint ?? DEFAULT_PAINT);
}

class Ledger implements FrameLedger {
  readonly log: LedgerEntry[] = [];
  limit: number;
  /** Per frame of the window: 0 when free, else the allocation's number. */
  readonly #owner: Int32Array;
  /** Allocation numbers to the address allocate returned. */
  readonly #starts = new Map<number, number>();
  #next = 1;
  #out = 0;
  readonly pmm: PhysicalMemoryManager;

  constructor(
    readonly board: CaseBoard,
    readonly base: number,
    readonly frames: number,
    readonly paint: number,
  ) {
    this.limit = frames;
    this.#owner = new Int32Array(frames);
    this.pmm = {
      allocate: (n = 1) => this.#allocate(n),
      free: (pa, n = 1) => this.#free(pa, n),
      stats: () => this.#stats(),
    };
  }

  outstanding(): number {
    return this.#out;
  }

  isHeld(pa: number): boolean {
    const i = this.#index(pa);
    return i >= 0 && this.#owner[i] !== 0;
  }

  allocationOf(pa: number, length: number): number | undefined {
    if (!Number.isSafeInteger(pa) || length < 1) return undefined;
    const first = this.#index(pa), last = this.#index(pa + length - 1);
    if (first < 0 || last < 0) return undefined;
    const id = this.#owner[first];
    if (id === 0) return undefined;
    for (let i = first; i <= last; i++) if (this.#owner[i] !== id) return undefined;
    return this.#starts.get(id);
  }

  heldFrames(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.frames; i++) if (this.#owner[i]) out.push(this.base + i * F);
    return out;
  }

  #index(pa: number): number {
    const i = Math.floor((pa - this.base) / F);
    return i >= 0 && i < this.frames ? i : -1;
  }

  #allocate(n: number): number | undefined {
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new RangeError(`pmm.allocate(${n}): the frame count must be a positive integer`);
    }
    let at = -1;
    if (this.#out + n <= this.limit) {
      // First fit from the bottom of the window: the same frames on every run.
      for (let i = 0, run = 0; i < this.frames; i++) {
        run = this.#owner[i] === 0 ? run + 1 : 0;
        if (run === n) {
          at = i - n + 1;
          break;
        }
      }
    }
    if (at < 0) {
      this.log.push({ op: "allocate", pa: undefined, frames: n });
      return undefined;
    }
    const id = this.#next++;
    this.#owner.fill(id, at, at + n);
    this.#out += n;
    const pa = this.base + at * F;
    this.#starts.set(id, pa);
    this.board.ram.writeBytes(pa, new Uint8Array(n * F).fill(this.paint));
    this.log.push({ op: "allocate", pa, frames: n });
    return pa;
  }

  #free(pa: number, n: number): void {
    const what = `pmm.free(${typeof pa === "number" ? hex(pa) : String(pa)}, ${n})`;
    if (!Number.isSafeInteger(pa) || pa % F !== 0 || !Number.isSafeInteger(n) || n < 1) {
      throw new RangeError(`${what}: not the address of a frame and a positive frame count`);
    }
    for (let k = 0; k < n; k++) {
      const i = this.#index(pa + k * F);
      if (i < 0) {
        throw new Error(`${what}: the PMM never handed out the frame at ${hex(pa + k * F)}`);
      }
      if (this.#owner[i] === 0) {
        throw new Error(`${what}: the frame at ${hex(pa + k * F)} is already free (freed twice?)`);
      }
    }
    this.#owner.fill(0, this.#index(pa), this.#index(pa) + n);
    this.#out -= n;
    this.log.push({ op: "free", pa, frames: n });
  }

  #stats(): PmmStats {
    let runs = 0;
    for (let i = 0; i < this.frames; i++) {
      if (this.#owner[i] === 0 && (i === 0 || this.#owner[i - 1] !== 0)) runs++;
    }
    return {
      total: this.frames * F,
      free: (this.frames - this.#out) * F,
      allocatedFrames: this.#out,
      runs,
    };
  }
}
