/**
 * The platform-level interrupt controller (PLIC), laid out as on QEMU's virt board.
 *
 * It follows "RISC-V Platform-Level Interrupt Controller Specification" v1.0.0 (cited as
 * "PLIC §n" below). Devices drive level-triggered input lines (sources 1 to
 * {@link VIRT_PLIC_NDEV}); the PLIC forwards the highest-priority request to each target
 * context whose enables and threshold allow it, as that context's external interrupt
 * pending bit.
 *
 * Register map (PLIC §3, every register 32 bits wide, accessed as 32 bits):
 *
 * | offset                          | register                                      |
 * | ------------------------------- | --------------------------------------------- |
 * | 0x00_0000 + 4 * id              | priority of source id (id 0 does not exist)   |
 * | 0x00_1000 + 4 * (id / 32)       | pending bits, read-only                       |
 * | 0x00_2000 + 0x80 * ctx + 4 * w  | enable bits of context ctx, sources 32w..     |
 * | 0x20_0000 + 0x1000 * ctx        | priority threshold of context ctx             |
 * | 0x20_0004 + 0x1000 * ctx        | claim (read) / complete (write)               |
 *
 * Contexts on virt: hart h has context 2h for M-mode and 2h + 1 for S-mode. The M-mode
 * contexts exist and can be programmed, but their interrupt goes to mip.MEIP, which the
 * firmware never enables (as OpenSBI): a kernel that programs context 2h instead of
 * 2h + 1 sees nothing, exactly as on QEMU.
 *
 * Semantics (PLIC §5 to §8):
 *
 * - **Gateways** are level-triggered: a high line makes its source pending unless a
 *   request from it is already pending or claimed. A line that drops before the claim
 *   leaves the request pending (PLIC §5: the handler then finds the device idle).
 * - **Claim** returns the pending source enabled for the context with the highest
 *   priority above the context's threshold (ties: the lowest id), clears its pending bit
 *   and holds its gateway closed; it returns 0 when there is none, whenever it is read.
 * - **Complete** with the id of a source enabled for the context reopens that source's
 *   gateway (a still-high line is pending again at once). A completion for a source not
 *   enabled for the context, or not claimed, is ignored.
 * - Priorities are 3 bits (0 to 7, as QEMU virt's `VIRT_IRQCHIP_NUM_PRIO_BITS`); priority 0
 *   means "never interrupt". Priority and threshold keep their low 3 bits (WARL).
 * - Accesses that are not 32 bits wide and aligned are access faults (QEMU's PLIC accepts
 *   only 4-byte accesses). Addresses inside the block that hold no register read as 0 and
 *   ignore writes, as in QEMU.
 *
 * @module
 */

import type { Device } from "../core/bus.ts";
import { type IrqLine, UNCONNECTED } from "../core/irq.ts";

/** Sources on QEMU virt: ids 1..95 (`riscv,ndev` = 95; QEMU's VIRT_IRQCHIP_NUM_SOURCES - 1). */
export const VIRT_PLIC_NDEV = 95;
/** Priority bits implemented (priorities 0..7). */
export const PLIC_PRIORITY_BITS = 3;
/** Offset of the source priority registers (PLIC §4). */
export const PLIC_PRIORITY_BASE = 0x0;
/** Offset of the pending bits (PLIC §5). */
export const PLIC_PENDING_BASE = 0x1000;
/** Offset of context 0's enable bits (PLIC §6). */
export const PLIC_ENABLE_BASE = 0x2000;
/** Distance between two contexts' enable bits. */
export const PLIC_ENABLE_STRIDE = 0x80;
/** Offset of context 0's threshold register (PLIC §7); its claim/complete is at +4. */
export const PLIC_CONTEXT_BASE = 0x20_0000;
/** Distance between two contexts' threshold registers. */
export const PLIC_CONTEXT_STRIDE = 0x1000;
/** Offset of claim/complete within a context's block (PLIC §8). */
export const PLIC_CLAIM_OFFSET = 4;
/** Size of the register block on QEMU virt (`VIRT_PLIC_SIZE`). */
export const VIRT_PLIC_SIZE = 0x60_0000;

/** The virt board's context number for a hart's M-mode or S-mode. */
export function plicContext(hartId: number, mode: "M" | "S"): number {
  return 2 * hartId + (mode === "S" ? 1 : 0);
}

/** How to build a PLIC. */
export interface PlicOptions {
  /** Number of sources, ids 1..sources (default {@link VIRT_PLIC_NDEV}). */
  sources?: number;
  /** Number of contexts (2 per hart on virt). */
  contexts: number;
  /** Each context's interrupt output, by context number (missing ones are unconnected). */
  targets?: IrqLine[];
  /** A name for traces (default `plic`). */
  name?: string;
}

/** A PLIC. See the module comment. */
export class Plic implements Device {
  /** The name used in traces. */
  readonly name: string;
  /** Number of sources (ids 1..sources). */
  readonly sources: number;
  /** Number of contexts. */
  readonly contexts: number;

  readonly #targets: IrqLine[];
  readonly #words: number;
  readonly #priority: Uint8Array;
  /** Input line levels, by source id. */
  readonly #level: Uint8Array;
  /** Pending bits, 32 sources a word. */
  readonly #pending: Uint32Array;
  /** Claimed (gateway closed until completion), by source id. */
  readonly #claimed: Uint8Array;
  /** Enable bits, `#words` words per context. */
  readonly #enable: Uint32Array;
  readonly #threshold: Uint8Array;
  readonly #eip: Uint8Array;
  readonly #inputs: IrqLine[];

  /** Builds a PLIC with every register zero and every line low. */
  constructor(options: PlicOptions) {
    this.name = options.name ?? "plic";
    this.sources = options.sources ?? VIRT_PLIC_NDEV;
    this.contexts = options.contexts;
    if (!(this.sources >= 1 && this.sources <= 1023)) {
      throw new RangeError(`a PLIC has 1 to 1023 sources, not ${this.sources}`);
    }
    if (!(this.contexts >= 1 && this.contexts <= 15872)) {
      throw new RangeError(`a PLIC has 1 to 15872 contexts, not ${this.contexts}`);
    }
    this.#targets = Array.from(
      { length: this.contexts },
      (_, i) => options.targets?.[i] ?? UNCONNECTED,
    );
    this.#words = (this.sources + 1 + 31) >> 5;
    this.#priority = new Uint8Array(this.sources + 1);
    this.#level = new Uint8Array(this.sources + 1);
    this.#claimed = new Uint8Array(this.sources + 1);
    this.#pending = new Uint32Array(this.#words);
    this.#enable = new Uint32Array(this.#words * this.contexts);
    this.#threshold = new Uint8Array(this.contexts);
    this.#eip = new Uint8Array(this.contexts);
    this.#inputs = Array.from({ length: this.sources + 1 }, (_, id) => ({
      set: (level: boolean) => this.#setLevel(id, level),
    }));
  }

  /** The input line of source `id` (1..sources), for a device's interrupt output. */
  input(id: number): IrqLine {
    if (!(id >= 1 && id <= this.sources)) {
      throw new RangeError(`PLIC source ${id} does not exist (1..${this.sources})`);
    }
    return this.#inputs[id];
  }

  /** Whether source `id` is pending (for graders; no side effect). */
  isPending(id: number): boolean {
    return id >= 1 && id <= this.sources && this.#bit(this.#pending, 0, id);
  }

  /** Whether source `id` has been claimed and not yet completed. */
  isClaimed(id: number): boolean {
    return this.#claimed[id] === 1;
  }

  /** Whether context `ctx`'s interrupt output is high. */
  eip(ctx: number): boolean {
    return this.#eip[ctx] === 1;
  }

  /** Device read: 32-bit aligned registers only. */
  read(offset: number, size: number, _cpu: number): bigint | undefined {
    if (size !== 4 || offset & 3) return undefined;
    return BigInt(this.#read(offset) >>> 0);
  }

  /** Device write: 32-bit aligned registers only. */
  write(offset: number, size: number, value: bigint, _cpu: number): boolean {
    if (size !== 4 || offset & 3) return false;
    this.#write(offset, Number(value & 0xffff_ffffn));
    return true;
  }

  #read(offset: number): number {
    if (offset < PLIC_PENDING_BASE) {
      const id = offset >> 2;
      return id <= this.sources ? this.#priority[id] : 0;
    }
    if (offset < PLIC_ENABLE_BASE) {
      const w = (offset - PLIC_PENDING_BASE) >> 2;
      return w < this.#words ? this.#pending[w] : 0;
    }
    if (offset < PLIC_CONTEXT_BASE) {
      const ctx = Math.floor((offset - PLIC_ENABLE_BASE) / PLIC_ENABLE_STRIDE);
      const w = ((offset - PLIC_ENABLE_BASE) % PLIC_ENABLE_STRIDE) >> 2;
      return ctx < this.contexts && w < this.#words ? this.#enable[ctx * this.#words + w] : 0;
    }
    const ctx = Math.floor((offset - PLIC_CONTEXT_BASE) / PLIC_CONTEXT_STRIDE);
    const reg = (offset - PLIC_CONTEXT_BASE) % PLIC_CONTEXT_STRIDE;
    if (ctx >= this.contexts) return 0;
    if (reg === 0) return this.#threshold[ctx];
    if (reg === PLIC_CLAIM_OFFSET) return this.#claim(ctx);
    return 0;
  }

  #write(offset: number, v: number): void {
    const mask = (1 << PLIC_PRIORITY_BITS) - 1;
    if (offset < PLIC_PENDING_BASE) {
      const id = offset >> 2;
      if (id >= 1 && id <= this.sources) this.#priority[id] = v & mask;
    } else if (offset < PLIC_ENABLE_BASE) {
      return; // pending bits are read-only
    } else if (offset < PLIC_CONTEXT_BASE) {
      const ctx = Math.floor((offset - PLIC_ENABLE_BASE) / PLIC_ENABLE_STRIDE);
      const w = ((offset - PLIC_ENABLE_BASE) % PLIC_ENABLE_STRIDE) >> 2;
      if (ctx >= this.contexts || w >= this.#words) return;
      // Source 0 does not exist, nor do ids beyond `sources`: their bits are hardwired 0.
      this.#enable[ctx * this.#words + w] = v & this.#implementedMask(w);
    } else {
      const ctx = Math.floor((offset - PLIC_CONTEXT_BASE) / PLIC_CONTEXT_STRIDE);
      const reg = (offset - PLIC_CONTEXT_BASE) % PLIC_CONTEXT_STRIDE;
      if (ctx >= this.contexts) return;
      if (reg === 0) this.#threshold[ctx] = v & mask;
      else if (reg === PLIC_CLAIM_OFFSET) this.#complete(ctx, v);
      else return;
    }
    this.#update();
  }

  /** The bits of enable word `w` that name existing sources. */
  #implementedMask(w: number): number {
    let m = 0;
    for (let b = 0; b < 32; b++) {
      const id = w * 32 + b;
      if (id >= 1 && id <= this.sources) m |= 1 << b;
    }
    return m;
  }

  #bit(words: Uint32Array, base: number, id: number): boolean {
    return ((words[base + (id >> 5)] >>> (id & 31)) & 1) === 1;
  }

  #setPending(id: number, on: boolean): void {
    if (on) this.#pending[id >> 5] |= 1 << (id & 31);
    else this.#pending[id >> 5] &= ~(1 << (id & 31));
  }

  /** A device drives source `id`'s line (PLIC §5, level-triggered gateway). */
  #setLevel(id: number, level: boolean): void {
    this.#level[id] = level ? 1 : 0;
    if (level && !this.#claimed[id] && !this.#bit(this.#pending, 0, id)) {
      this.#setPending(id, true);
      this.#update();
    }
  }

  /** The source a claim by `ctx` would return now, or 0. */
  #best(ctx: number): number {
    let best = 0;
    let bestPriority = this.#threshold[ctx];
    const base = ctx * this.#words;
    for (let w = 0; w < this.#words; w++) {
      let bits = this.#pending[w] & this.#enable[base + w];
      while (bits) {
        const b = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        const id = w * 32 + b;
        // Strictly greater: ties keep the lower id, found first.
        if (this.#priority[id] > bestPriority) {
          best = id;
          bestPriority = this.#priority[id];
        }
      }
    }
    return best;
  }

  #claim(ctx: number): number {
    const id = this.#best(ctx);
    if (id) {
      this.#setPending(id, false);
      this.#claimed[id] = 1;
      this.#update();
    }
    return id;
  }

  #complete(ctx: number, id: number): void {
    if (!(id >= 1 && id <= this.sources)) return;
    if (!this.#bit(this.#enable, ctx * this.#words, id) || !this.#claimed[id]) return;
    this.#claimed[id] = 0;
    if (this.#level[id]) this.#setPending(id, true); // the gateway forwards the level again
  }

  /** Recomputes every context's interrupt output. */
  #update(): void {
    for (let ctx = 0; ctx < this.contexts; ctx++) {
      const level = this.#best(ctx) !== 0 ? 1 : 0;
      if (level !== this.#eip[ctx]) {
        this.#eip[ctx] = level;
        this.#targets[ctx].set(level === 1);
      }
    }
  }
}
