/**
 * The High Precision Event Timer (HPET): a 64-bit main counter at 100 MHz and three
 * comparators whose interrupts go to the I/O APIC.
 *
 * It follows the IA-PC HPET (High Precision Event Timers) Specification, revision 1.0a
 * (October 2004), cited "HPET §n". Register map (HPET §2.3.1, Table 2), every register
 * 64 bits wide, accessed as aligned 64-bit or 32-bit words:
 *
 * | offset          | register                                                  |
 * | --------------- | --------------------------------------------------------- |
 * | 0x000           | general capabilities and ID (read-only)                   |
 * | 0x010           | general configuration: ENABLE_CNF (0), LEG_RT_CNF (1)     |
 * | 0x020           | general interrupt status: Tn_INT_STS, write 1 to clear    |
 * | 0x0F0           | main counter value                                        |
 * | 0x100 + 0x20 n  | timer n configuration and capabilities                    |
 * | 0x108 + 0x20 n  | timer n comparator value                                  |
 * | 0x110 + 0x20 n  | timer n FSB interrupt route (FSB delivery not offered)    |
 *
 * ## This board's HPET
 *
 * - COUNTER_CLK_PERIOD = 10 ns (10 000 000 fs): the counter counts virtual time at 100 MHz,
 *   and only while ENABLE_CNF is set. The capabilities read 0x0098_9680_8086_A201: vendor
 *   0x8086, legacy replacement capable, 64-bit counter, three timers, revision 1.
 * - Timer 0 is periodic-capable and 64 bits wide; timers 1 and 2 are one-shot and 32 bits
 *   wide, as on Intel's ICH. A 32-bit comparator matches the counter's low 32 bits, so it
 *   matches again every 2^32 ticks (about 43 s).
 * - Every timer may route to I/O APIC inputs 20 to 23 (Tn_INT_ROUTE_CAP = 0x00F0_0000); a
 *   write of a route outside the capability leaves the field unchanged, so that reading it
 *   back shows the mistake (HPET §2.3.8). With LEG_RT_CNF, timer 0 goes to input 2 and
 *   timer 1 to input 8 (HPET §2.3.7). FSB (MSI-style) delivery is not offered.
 * - A match happens when the counter reaches the comparator (HPET §2.3.9). Edge-triggered
 *   timers pulse their line; level-triggered ones set Tn_INT_STS and hold the line until
 *   software writes 1 to that bit (HPET §2.3.6). Matches are machine events, not polling.
 * - Periodic mode (HPET §2.3.9.2.2): each match adds the last value written to the
 *   comparator. Writing with Tn_VAL_SET_CNF set also sets the comparator itself, and clears
 *   the bit, as drivers expect: set VAL_SET, write the first match time, write the period.
 *
 * Writes to read-only bits are ignored, as are accesses to offsets holding no register
 * (they read 0). Accesses of other widths or alignments are not answered.
 *
 * @module
 */

import type { Device } from "../core/bus.ts";
import type { EventQueue, TimerEvent } from "../core/events.ts";
import type { IrqLine } from "../core/irq.ts";
import type { Trace } from "../core/trace.ts";

/** The HPET's physical address on a PC. */
export const HPET_BASE = 0xfed0_0000;
/** The size of its register block. */
export const HPET_SIZE = 0x400;
/** The counter's period in femtoseconds: 10 ns, a 100 MHz counter. */
export const HPET_PERIOD_FS = 10_000_000;
/** The counter's period in nanoseconds. */
export const HPET_PERIOD_NS = HPET_PERIOD_FS / 1_000_000;
/** Number of comparators. */
export const HPET_TIMERS = 3;
/** The I/O APIC inputs a comparator may be routed to: 20 to 23. */
export const HPET_ROUTE_CAP = 0x00f0_0000;

/** General capabilities and ID register (HPET §2.3.4). */
export const HPET_GCAP_ID = 0x000;
/** General configuration register (HPET §2.3.5). */
export const HPET_GEN_CONF = 0x010;
/** General interrupt status register (HPET §2.3.6). */
export const HPET_GINTR_STA = 0x020;
/** Main counter value register (HPET §2.3.7). */
export const HPET_MAIN_COUNTER = 0x0f0;
/** Timer n's configuration and capability register (HPET §2.3.8). */
export function hpetTimerConf(n: number): number {
  return 0x100 + 0x20 * n;
}
/** Timer n's comparator value register (HPET §2.3.9). */
export function hpetTimerComparator(n: number): number {
  return 0x108 + 0x20 * n;
}

/** GCAP: REV_ID (7:0). */
export const GCAP_REV_ID = 0x01;
/** GCAP: NUM_TIM_CAP (12:8), the number of the last timer. */
export const GCAP_NUM_TIM_SHIFT = 8;
/** GCAP: COUNT_SIZE_CAP (13), a 64-bit main counter. */
export const GCAP_COUNT_SIZE_CAP = 1 << 13;
/** GCAP: LEG_RT_CAP (15), legacy replacement routing. */
export const GCAP_LEG_RT_CAP = 1 << 15;
/** GCAP: VENDOR_ID (31:16). */
export const GCAP_VENDOR_SHIFT = 16;
/** The vendor ID this HPET reports (Intel). */
export const HPET_VENDOR_ID = 0x8086;

/** GEN_CONF: ENABLE_CNF, the counter runs and comparators may interrupt. */
export const ENABLE_CNF = 1 << 0;
/** GEN_CONF: LEG_RT_CNF, legacy replacement routing. */
export const LEG_RT_CNF = 1 << 1;

/** Tn_CONF: Tn_INT_TYPE_CNF, 1 = level-triggered. */
export const TN_INT_TYPE_CNF = 1 << 1;
/** Tn_CONF: Tn_INT_ENB_CNF, interrupts enabled. */
export const TN_INT_ENB_CNF = 1 << 2;
/** Tn_CONF: Tn_TYPE_CNF, 1 = periodic. */
export const TN_TYPE_CNF = 1 << 3;
/** Tn_CONF: Tn_PER_INT_CAP, periodic mode supported (read-only). */
export const TN_PER_INT_CAP = 1 << 4;
/** Tn_CONF: Tn_SIZE_CAP, a 64-bit comparator (read-only). */
export const TN_SIZE_CAP = 1 << 5;
/** Tn_CONF: Tn_VAL_SET_CNF, the next comparator write also sets the accumulator. */
export const TN_VAL_SET_CNF = 1 << 6;
/** Tn_CONF: Tn_32MODE_CNF, run a 64-bit timer as a 32-bit one. */
export const TN_32MODE_CNF = 1 << 8;
/** Tn_CONF: Tn_INT_ROUTE_CNF (13:9), the I/O APIC input. */
export const TN_INT_ROUTE_SHIFT = 9;
/** Tn_CONF: Tn_FSB_EN_CNF (not offered: reads 0). */
export const TN_FSB_EN_CNF = 1 << 14;

const MASK32 = 0xffff_ffffn;
const MASK64 = 0xffff_ffff_ffff_ffffn;

/** What the HPET needs of the machine: virtual time and events. */
export interface HpetClock {
  /** Virtual time now, in ns. */
  now(): number;
  /** Where matches are scheduled. */
  readonly events: EventQueue;
}

/** How to build an HPET. */
export interface HpetOptions {
  /** Virtual time (the machine). */
  clock: HpetClock;
  /** The interrupt line of I/O APIC input `pin`. */
  irq: (pin: number) => IrqLine;
  /** Trace for the `interrupt` category. */
  trace?: Trace;
  /** A name for traces (default `hpet`). */
  name?: string;
}

/** One comparator. */
interface Comparator {
  /** Read-only capability bits of the configuration register. */
  readonly caps: number;
  /** The writable configuration bits. */
  config: number;
  /** The comparator value. */
  comparator: bigint;
  /** The periodic increment (the last value written to the comparator). */
  period: bigint;
  /** The scheduled next match. */
  event: TimerEvent | undefined;
  /** The I/O APIC input it drives, and the level it holds there. */
  pin: number;
  high: boolean;
}

/** An HPET. See the module comment. */
export class Hpet implements Device {
  /** The name used in traces. */
  readonly name: string;

  readonly #clock: HpetClock;
  readonly #irq: (pin: number) => IrqLine;
  readonly #trace: Trace | undefined;
  #config = 0;
  #status = 0;
  /** The counter's value at `#baseNs` (while enabled) or its value (while halted). */
  #counterBase = 0n;
  #baseNs = 0;
  readonly #timers: Comparator[];

  /** Builds an HPET: counter halted at 0, every comparator at all ones, interrupts off. */
  constructor(options: HpetOptions) {
    this.name = options.name ?? "hpet";
    this.#clock = options.clock;
    this.#irq = options.irq;
    this.#trace = options.trace;
    this.#timers = Array.from({ length: HPET_TIMERS }, (_, n) => {
      const caps = n === 0 ? TN_PER_INT_CAP | TN_SIZE_CAP : 0;
      return {
        caps,
        config: 0,
        comparator: caps & TN_SIZE_CAP ? MASK64 : MASK32,
        period: 0n,
        event: undefined,
        pin: 0,
        high: false,
      };
    });
  }

  /** The capabilities register (HPET §2.3.4). */
  static capabilities(): bigint {
    const low = GCAP_LEG_RT_CAP | GCAP_COUNT_SIZE_CAP |
      ((HPET_TIMERS - 1) << GCAP_NUM_TIM_SHIFT) | GCAP_REV_ID;
    return (BigInt(HPET_PERIOD_FS) << 32n) |
      (BigInt(HPET_VENDOR_ID) << BigInt(GCAP_VENDOR_SHIFT)) | BigInt(low);
  }

  /** The main counter now. */
  counter(): bigint {
    if (!(this.#config & ENABLE_CNF)) return this.#counterBase;
    const ticks = Math.floor((this.#clock.now() - this.#baseNs) / HPET_PERIOD_NS);
    return (this.#counterBase + BigInt(Math.max(0, ticks))) & MASK64;
  }

  /** Device read: aligned 64-bit registers, or either 32-bit half. */
  read(offset: number, size: number, _cpu: number): bigint | undefined {
    if (!((size === 8 && (offset & 7) === 0) || (size === 4 && (offset & 3) === 0))) {
      return undefined;
    }
    const value = this.#readRegister(offset & ~7);
    if (size === 8) return value;
    return offset & 4 ? value >> 32n : value & MASK32;
  }

  /** Device write: aligned 64-bit registers, or either 32-bit half. */
  write(offset: number, size: number, value: bigint, _cpu: number): boolean {
    if (!((size === 8 && (offset & 7) === 0) || (size === 4 && (offset & 3) === 0))) {
      return false;
    }
    const reg = offset & ~7;
    if (size === 8) {
      this.#writeRegister(reg, value, MASK64);
    } else {
      const shift = offset & 4 ? 32n : 0n;
      this.#writeRegister(reg, (value & MASK32) << shift, MASK32 << shift);
    }
    return true;
  }

  #readRegister(reg: number): bigint {
    switch (reg) {
      case HPET_GCAP_ID:
        return Hpet.capabilities();
      case HPET_GEN_CONF:
        return BigInt(this.#config);
      case HPET_GINTR_STA:
        return BigInt(this.#status);
      case HPET_MAIN_COUNTER:
        return this.counter();
    }
    const t = this.#timerAt(reg);
    if (!t) return 0n;
    const [timer, which] = t;
    if (which === 0) {
      return (BigInt(HPET_ROUTE_CAP) << 32n) | BigInt(timer.config | timer.caps);
    }
    if (which === 8) return timer.comparator;
    return 0n; // the FSB route register: FSB delivery is not offered
  }

  /** Writes the bits of `mask` (a whole register or one half) with `value`. */
  #writeRegister(reg: number, value: bigint, mask: bigint): void {
    const merge = (old: bigint) => (old & ~mask) | (value & mask);
    switch (reg) {
      case HPET_GCAP_ID:
        return; // read-only
      case HPET_GEN_CONF:
        return this.#writeConfig(Number(merge(BigInt(this.#config)) & 3n));
      case HPET_GINTR_STA: {
        // Writing 1 clears a level-triggered timer's status and releases its line.
        const clear = Number(value & mask & 0x7n);
        this.#status &= ~clear;
        for (let n = 0; n < HPET_TIMERS; n++) if (clear & (1 << n)) this.#drive(n);
        return;
      }
      case HPET_MAIN_COUNTER: {
        this.#counterBase = merge(this.counter());
        this.#baseNs = this.#clock.now();
        for (let n = 0; n < HPET_TIMERS; n++) this.#schedule(n);
        return;
      }
    }
    const t = this.#timerAt(reg);
    if (!t) return;
    const [timer, which] = t;
    const n = this.#timers.indexOf(timer);
    if (which === 0) this.#writeTimerConfig(n, Number(merge(BigInt(timer.config)) & MASK32));
    else if (which === 8) this.#writeComparator(n, value, mask);
  }

  /** The comparator a register offset belongs to, and the register's offset in its block. */
  #timerAt(reg: number): [Comparator, number] | undefined {
    if (reg < 0x100) return undefined;
    const n = (reg - 0x100) >> 5;
    const which = (reg - 0x100) & 0x1f;
    const timer = this.#timers[n];
    return timer && which <= 0x10 ? [timer, which] : undefined;
  }

  #writeConfig(v: number): void {
    const was = this.#config;
    if ((v & ENABLE_CNF) !== (was & ENABLE_CNF)) {
      // Keep the count across the switch: it halts at its value, or runs on from it.
      this.#counterBase = this.counter();
      this.#baseNs = this.#clock.now();
    }
    this.#config = v;
    for (let n = 0; n < HPET_TIMERS; n++) {
      this.#schedule(n);
      this.#drive(n);
    }
  }

  #writeTimerConfig(n: number, v: number): void {
    const timer = this.#timers[n];
    let writable = TN_INT_TYPE_CNF | TN_INT_ENB_CNF | TN_VAL_SET_CNF;
    if (timer.caps & TN_PER_INT_CAP) writable |= TN_TYPE_CNF;
    if (timer.caps & TN_SIZE_CAP) writable |= TN_32MODE_CNF;
    let config = v & writable;
    const route = (v >> TN_INT_ROUTE_SHIFT) & 0x1f;
    const oldRoute = timer.config & (0x1f << TN_INT_ROUTE_SHIFT);
    // A route outside Tn_INT_ROUTE_CAP is not taken: the field keeps its value.
    config |= (HPET_ROUTE_CAP >>> route) & 1 ? route << TN_INT_ROUTE_SHIFT : oldRoute;
    timer.config = config;
    if (this.#is32(timer)) timer.comparator &= MASK32;
    // Switching to edge mode ends a level-triggered request.
    if (!(config & TN_INT_TYPE_CNF)) this.#status &= ~(1 << n);
    this.#schedule(n);
    this.#drive(n);
  }

  #writeComparator(n: number, value: bigint, mask: bigint): void {
    const timer = this.#timers[n];
    const width = this.#is32(timer) ? MASK32 : MASK64;
    const periodic = this.#periodic(timer);
    if (!periodic || timer.config & TN_VAL_SET_CNF) {
      timer.comparator = ((timer.comparator & ~mask) | (value & mask)) & width;
    }
    if (periodic) timer.period = ((timer.period & ~mask) | (value & mask)) & width;
    timer.config &= ~TN_VAL_SET_CNF;
    this.#schedule(n);
  }

  #is32(timer: Comparator): boolean {
    return !(timer.caps & TN_SIZE_CAP) || (timer.config & TN_32MODE_CNF) !== 0;
  }

  #periodic(timer: Comparator): boolean {
    return (timer.caps & TN_PER_INT_CAP) !== 0 && (timer.config & TN_TYPE_CNF) !== 0;
  }

  /** Schedules timer n's next match at or after counter value `from` (default: now). */
  #schedule(n: number, from = this.counter()): void {
    const timer = this.#timers[n];
    this.#clock.events.cancel(timer.event);
    timer.event = undefined;
    if (!(this.#config & ENABLE_CNF)) return;
    let match: bigint;
    if (this.#is32(timer)) {
      match = (from & ~MASK32) | timer.comparator;
      if (match < from) match += 1n << 32n;
    } else {
      if (timer.comparator < from) return; // the 64-bit counter will not wrap in any run
      match = timer.comparator;
    }
    const at = this.#baseNs + Number(match - this.#counterBase) * HPET_PERIOD_NS;
    if (!Number.isSafeInteger(at)) return;
    timer.event = this.#clock.events.schedule(at, () => {
      timer.event = undefined;
      this.#match(n, match);
    });
  }

  /** The counter reached timer n's comparator (HPET §2.3.9.2). */
  #match(n: number, value: bigint): void {
    const timer = this.#timers[n];
    if (this.#periodic(timer)) {
      timer.comparator = (timer.comparator + timer.period) & (this.#is32(timer) ? MASK32 : MASK64);
    }
    if (this.#trace?.interrupt) {
      this.#trace.emit("interrupt", -1, { device: this.name, op: "match", timer: n });
    }
    if (timer.config & TN_INT_TYPE_CNF) {
      this.#status |= 1 << n;
      this.#drive(n);
    } else if (timer.config & TN_INT_ENB_CNF) {
      const line = this.#irq(this.#pinOf(n));
      line.set(true);
      line.set(false);
    }
    this.#schedule(n, value + 1n);
  }

  /** The I/O APIC input timer n drives: the legacy pins, or Tn_INT_ROUTE_CNF. */
  #pinOf(n: number): number {
    if (this.#config & LEG_RT_CNF && n < 2) return n === 0 ? 2 : 8;
    return (this.#timers[n].config >> TN_INT_ROUTE_SHIFT) & 0x1f;
  }

  /** Holds timer n's line at its level-triggered state (status set and enabled). */
  #drive(n: number): void {
    const timer = this.#timers[n];
    const pin = this.#pinOf(n);
    const high = (this.#status & (1 << n)) !== 0 && (timer.config & TN_INT_ENB_CNF) !== 0 &&
      (timer.config & TN_INT_TYPE_CNF) !== 0;
    if (timer.pin !== pin && timer.high) this.#irq(timer.pin).set(false);
    if (timer.pin !== pin || timer.high !== high) this.#irq(pin).set(high);
    timer.pin = pin;
    timer.high = high;
  }
}
