/**
 * The core-local interruptor (CLINT), laid out as on QEMU's virt board at 0x0200_0000.
 *
 * The virt board's CLINT is the pair of ACLINT devices that "RISC-V Advanced Core Local
 * Interruptor Specification" v1.0 describes (cited "ACLINT §n"), at the SiFive CLINT's
 * historical offsets:
 *
 * | offset            | register                       | ACLINT device                  |
 * | ----------------- | ------------------------------ | ------------------------------ |
 * | 0x0000 + 4 * h    | msip of hart h (32 bits)       | MSWI: machine software (§3)    |
 * | 0x4000 + 8 * h    | mtimecmp of hart h (64 bits)   | MTIMER: machine timer (§2)     |
 * | 0xBFF8            | mtime (64 bits)                | MTIMER                         |
 *
 * - `mtime` is the machine's virtual time at `TIMEBASE_HZ` (csr.ts: 10 MHz, one tick per
 *   100 ns), the same clock the harts' `time` CSR reads. Writes to it are ignored: moving
 *   it would make the CLINT and the `time` CSR disagree, and only M-mode could write it.
 * - A hart's MTIP is high while `mtime >= mtimecmp`. When `mtimecmp` is written, the
 *   moment it will match is scheduled as a machine event: nothing polls. The reset value
 *   of `mtimecmp` is all ones (ACLINT leaves it unspecified; OpenSBI writes all ones at
 *   boot).
 * - `msip` bit 0 drives the hart's MSIP; the other bits read 0.
 * - 64-bit registers accept aligned 8-byte accesses and aligned 4-byte accesses to either
 *   half (ACLINT §2.1); `msip` only 4-byte accesses. Other widths are access faults.
 *   Holes inside the block (harts that do not exist) read 0 and ignore writes, as QEMU.
 *
 * ## Who sees the CLINT
 *
 * There is no M-mode software here: the firmware is TypeScript (see `sbi.ts`). The MTIP
 * and MSIP outputs therefore go to the firmware's handlers, which do what OpenSBI does
 * when those M-mode interrupts arrive (turn the armed timer into the supervisor timer
 * interrupt, turn an IPI into the supervisor software interrupt).
 *
 * OpenSBI protects the CLINT with a PMP region that only M-mode may access, so an S-mode
 * kernel that touches it takes an access fault. This CLINT does the same: by default
 * every access made by a hart (`cpu >= 0`: only S- and U-mode code runs on harts) is an
 * access fault; the firmware and graders access it with `cpu = -1`.
 *
 * @module
 */

import type { Device } from "../core/bus.ts";
import type { EventQueue, TimerEvent } from "../core/events.ts";
import { type IrqLine, UNCONNECTED } from "../core/irq.ts";
import { NS_PER_TICK } from "./csr.ts";

/** Offset of hart 0's msip register (ACLINT §3.1, SETSSIP at the SiFive CLINT offset). */
export const CLINT_MSIP = 0x0000;
/** Offset of hart 0's mtimecmp register (ACLINT §2.2). */
export const CLINT_MTIMECMP = 0x4000;
/** Offset of mtime (ACLINT §2.1). */
export const CLINT_MTIME = 0xbff8;
/** Size of the CLINT block on QEMU virt. */
export const VIRT_CLINT_SIZE = 0x1_0000;
/** The largest number of harts a CLINT block addresses (4095, ACLINT §2). */
export const CLINT_MAX_HARTS = 4095;

/** mtimecmp's reset value: never match. */
const NEVER = 0xffff_ffff_ffff_ffffn;

/** Beyond this many ticks (about 104 days) a comparator is never scheduled. */
const MAX_SCHEDULED_TICK = Math.floor(Number.MAX_SAFE_INTEGER / NS_PER_TICK);

/** What the CLINT needs of the machine: virtual time and the event queue. */
export interface ClintClock {
  /** Virtual time now, in ns. */
  now(): number;
  /** Where comparator matches are scheduled. */
  readonly events: EventQueue;
}

/** How to build a CLINT. */
export interface ClintOptions {
  /** Number of harts (hart ids 0..harts-1). */
  harts: number;
  /** The machine (or anything with `now` and `events`). */
  clock: ClintClock;
  /** Each hart's MTIP output, by hart id (default: unconnected). */
  mtip?: IrqLine[];
  /** Each hart's MSIP output, by hart id (default: unconnected). */
  msip?: IrqLine[];
  /** Deny accesses from harts, as OpenSBI's PMP does (default true). */
  machineModeOnly?: boolean;
  /** A name for traces (default `clint`). */
  name?: string;
}

/** A CLINT. See the module comment. */
export class Clint implements Device {
  /** The name used in traces. */
  readonly name: string;
  /** Number of harts. */
  readonly harts: number;

  readonly #clock: ClintClock;
  readonly #mtipLines: IrqLine[];
  readonly #msipLines: IrqLine[];
  readonly #machineModeOnly: boolean;
  readonly #mtimecmp: bigint[];
  readonly #msip: Uint8Array;
  readonly #mtip: Uint8Array;
  readonly #events: (TimerEvent | undefined)[];

  /** Builds a CLINT with every msip clear and every mtimecmp at all ones. */
  constructor(options: ClintOptions) {
    this.name = options.name ?? "clint";
    this.harts = options.harts;
    if (!(this.harts >= 1 && this.harts <= CLINT_MAX_HARTS)) {
      throw new RangeError(`a CLINT serves 1 to ${CLINT_MAX_HARTS} harts, not ${this.harts}`);
    }
    this.#clock = options.clock;
    this.#machineModeOnly = options.machineModeOnly ?? true;
    const lines = (given: IrqLine[] | undefined) =>
      Array.from({ length: this.harts }, (_, h) => given?.[h] ?? UNCONNECTED);
    this.#mtipLines = lines(options.mtip);
    this.#msipLines = lines(options.msip);
    this.#mtimecmp = new Array(this.harts).fill(NEVER);
    this.#msip = new Uint8Array(this.harts);
    this.#mtip = new Uint8Array(this.harts);
    this.#events = new Array(this.harts).fill(undefined);
  }

  /** mtime: virtual time in ticks of `TIMEBASE_HZ` (100 ns). */
  mtime(): bigint {
    return BigInt(Math.floor(this.#clock.now() / NS_PER_TICK));
  }

  /** Hart `h`'s mtimecmp (for graders and the firmware's traces). */
  mtimecmp(h: number): bigint {
    return this.#mtimecmp[h];
  }

  /** Whether hart `h`'s MTIP output is high. */
  mtip(h: number): boolean {
    return this.#mtip[h] === 1;
  }

  /** Whether hart `h`'s msip bit is set. */
  msip(h: number): boolean {
    return this.#msip[h] === 1;
  }

  /** Device read. */
  read(offset: number, size: number, cpu: number): bigint | undefined {
    if (this.#machineModeOnly && cpu >= 0) return undefined;
    if (offset < CLINT_MTIMECMP) {
      if (size !== 4 || offset & 3) return undefined;
      const h = offset >> 2;
      return h < this.harts ? BigInt(this.#msip[h]) : 0n;
    }
    const value = this.#wide(offset, size);
    if (value === undefined) return undefined;
    const [reg, half] = value;
    const v = reg === -1 ? this.mtime() : reg < this.harts ? this.#mtimecmp[reg] : 0n;
    if (half < 0) return v;
    return (v >> BigInt(32 * half)) & 0xffff_ffffn;
  }

  /** Device write. */
  write(offset: number, size: number, value: bigint, cpu: number): boolean {
    if (this.#machineModeOnly && cpu >= 0) return false;
    if (offset < CLINT_MTIMECMP) {
      if (size !== 4 || offset & 3) return false;
      const h = offset >> 2;
      if (h < this.harts) this.#setMsip(h, (value & 1n) === 1n);
      return true;
    }
    const decoded = this.#wide(offset, size);
    if (decoded === undefined) return false;
    const [reg, half] = decoded;
    if (reg === -1 || reg >= this.harts) return true; // mtime writes and holes are ignored
    let v = value;
    if (half >= 0) {
      const shift = BigInt(32 * half);
      v = (this.#mtimecmp[reg] & ~(0xffff_ffffn << shift)) | ((value & 0xffff_ffffn) << shift);
    }
    this.#setMtimecmp(reg, BigInt.asUintN(64, v));
    return true;
  }

  /**
   * Decodes an access to a 64-bit register: [hart, half] for mtimecmp, [-1, half] for
   * mtime, where half is -1 for a whole 8-byte access, 0 or 1 for a 4-byte one.
   */
  #wide(offset: number, size: number): [number, number] | undefined {
    if (!((size === 8 && (offset & 7) === 0) || (size === 4 && (offset & 3) === 0))) {
      return undefined;
    }
    const half = size === 8 ? -1 : (offset >> 2) & 1;
    const base = offset & ~7;
    if (base === CLINT_MTIME) return [-1, half];
    if (base >= CLINT_MTIMECMP && base < CLINT_MTIME) return [(base - CLINT_MTIMECMP) >> 3, half];
    return [Number.MAX_SAFE_INTEGER, half]; // a hole
  }

  #setMsip(h: number, on: boolean): void {
    const level = on ? 1 : 0;
    if (this.#msip[h] === level) return;
    this.#msip[h] = level;
    this.#msipLines[h].set(on);
  }

  #setMtimecmp(h: number, value: bigint): void {
    this.#mtimecmp[h] = value;
    this.#clock.events.cancel(this.#events[h]);
    this.#events[h] = undefined;
    if (this.mtime() >= value) {
      this.#setMtip(h, true);
      return;
    }
    this.#setMtip(h, false);
    if (value > BigInt(MAX_SCHEDULED_TICK)) return; // further away than any run
    // The comparator matches when virtual time reaches value ticks: schedule that moment.
    this.#events[h] = this.#clock.events.schedule(Number(value) * NS_PER_TICK, () => {
      this.#events[h] = undefined;
      this.#setMtip(h, true);
    });
  }

  #setMtip(h: number, on: boolean): void {
    const level = on ? 1 : 0;
    if (this.#mtip[h] === level) return;
    this.#mtip[h] = level;
    this.#mtipLines[h].set(on);
  }
}
