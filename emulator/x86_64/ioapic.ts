/**
 * The I/O APIC: 24 interrupt inputs, each turned into an interrupt message for the local
 * APICs by its redirection-table entry.
 *
 * It follows the Intel 82093AA I/O APIC datasheet (May 1996), cited "82093AA §n", with the
 * EOI register of the later version 0x20 parts (as QEMU's and the ICH's I/O APICs have).
 *
 * ## Registers
 *
 * Two 32-bit windows in a 4 KiB page at {@link IOAPIC_BASE} (82093AA §3.0):
 *
 * | offset | register                                                     |
 * | ------ | ------------------------------------------------------------ |
 * | 0x00   | IOREGSEL: selects the register IOWIN reaches (bits 7:0)      |
 * | 0x10   | IOWIN: the selected register                                 |
 * | 0x40   | EOI: writing a vector clears remote IRR for it (version 0x20) |
 *
 * and behind IOWIN (82093AA §3.2):
 *
 * | index     | register                                                   |
 * | --------- | ---------------------------------------------------------- |
 * | 0x00      | IOAPICID: the ID in bits 27:24                             |
 * | 0x01      | IOAPICVER: version 0x20 (7:0), maximum entry 23 (23:16)    |
 * | 0x02      | IOAPICARB: the arbitration ID (27:24), read-only           |
 * | 0x10+2n   | redirection entry n, bits 31:0                             |
 * | 0x11+2n   | redirection entry n, bits 63:32                            |
 *
 * A redirection entry (82093AA §3.2.4): vector (7:0), delivery mode (10:8), destination
 * mode (11: 0 physical, 1 logical), delivery status (12, read-only), polarity (13: 0 high
 * active, 1 low active), remote IRR (14, read-only), trigger mode (15: 0 edge, 1 level),
 * mask (16), destination (63:56). Every entry resets masked.
 *
 * ## Inputs and their wiring
 *
 * Devices drive {@link IrqLine}s: `true` means the device requests an interrupt. The pin
 * the I/O APIC sees is electrical, and the board decides its active level, as on a PC:
 * ISA interrupts (GSI 0-15) are active high, PCI-style ones (GSI 16-23, where the HPET's
 * comparators and later PCI devices go) active low. The entry's polarity bit must match
 * the wiring: a wrong polarity makes an idle line look asserted, which on hardware is an
 * interrupt storm, and here too.
 *
 * - **Edge-triggered** entries send one message when the pin becomes asserted while the
 *   entry is unmasked. An edge that arrives while masked is lost (82093AA §3.2.4).
 * - **Level-triggered** entries send a message while the pin is asserted, the entry is
 *   unmasked and remote IRR is clear, then set remote IRR. A local APIC's EOI broadcast (or
 *   a write to the EOI register) with the entry's vector clears remote IRR; if the pin is
 *   still asserted, the entry fires again.
 *
 * Bad programming never throws: a reserved delivery mode (3 or 6), ExtINT (no 8259 on this
 * board) or SMI delivers nothing and the machine reports it; a message no local APIC
 * accepts is reported by the APIC bus and, for a level entry, leaves remote IRR clear.
 *
 * @module
 */

import type { Device } from "../core/bus.ts";
import type { IrqLine } from "../core/irq.ts";
import { hex } from "../core/memory.ts";
import {
  type ApicBus,
  deliveryModeName,
  DM_EXTINT,
  DM_FIXED,
  DM_INIT,
  DM_LOWEST,
  DM_NMI,
  DM_STARTUP,
  type EoiListener,
} from "./lapic.ts";

/** The I/O APIC's physical address on a PC. */
export const IOAPIC_BASE = 0xfec0_0000;
/** The size of its register page. */
export const IOAPIC_SIZE = 0x1000;
/** Number of inputs (redirection entries), GSI 0 to 23. */
export const IOAPIC_PINS = 24;
/** The version this model reports: 0x20 (with the EOI register). */
export const IOAPIC_VERSION = 0x20;

/** IOREGSEL: the register index (82093AA §3.1.1). */
export const IOREGSEL = 0x00;
/** IOWIN: the data window (82093AA §3.1.2). */
export const IOWIN = 0x10;
/** EOI register (version 0x20 and later). */
export const IOAPIC_EOI = 0x40;

/** Register index: IOAPICID. */
export const IOAPICID = 0x00;
/** Register index: IOAPICVER. */
export const IOAPICVER = 0x01;
/** Register index: IOAPICARB. */
export const IOAPICARB = 0x02;
/** Register index of redirection entry 0's low half (entry n: 0x10 + 2n). */
export const IOREDTBL = 0x10;

/** Entry bit 11: logical destination mode. */
export const IOREDTBL_DEST_LOGICAL = 1 << 11;
/** Entry bit 12: delivery status (read-only; 0 idle here, delivery is instantaneous). */
export const IOREDTBL_DELIVERY_STATUS = 1 << 12;
/** Entry bit 13: polarity, 1 = active low. */
export const IOREDTBL_ACTIVE_LOW = 1 << 13;
/** Entry bit 14: remote IRR (read-only; level-triggered entries). */
export const IOREDTBL_REMOTE_IRR = 1 << 14;
/** Entry bit 15: trigger mode, 1 = level. */
export const IOREDTBL_LEVEL = 1 << 15;
/** Entry bit 16: masked. */
export const IOREDTBL_MASKED = 1 << 16;
/** Writable bits of an entry's low half (everything but delivery status and remote IRR). */
const LOW_WRITABLE = 0x1_afff;

/** How to build an I/O APIC. */
export interface IoApicOptions {
  /** The APIC bus its messages go out on. */
  bus: ApicBus;
  /** Its ID (IOAPICID bits 27:24), as the MADT reports it (default 0). */
  id?: number;
  /** The first GSI of its inputs (default 0). */
  gsiBase?: number;
  /** Whether input `pin` is wired active low (default: pins 16 and up, as on a PC). */
  activeLow?: (pin: number) => boolean;
  /** A name for traces (default `ioapic`). */
  name?: string;
}

/** An I/O APIC. See the module comment. */
export class IoApic implements Device, EoiListener {
  /** The name used in traces and messages. */
  readonly name: string;
  /** The first GSI. */
  readonly gsiBase: number;

  readonly #bus: ApicBus;
  #id: number;
  #select = 0;
  /** Entry low and high halves, two words per pin. */
  readonly #entries = new Uint32Array(IOAPIC_PINS * 2);
  /** Whether each pin's line is requested by its device (true) or idle. */
  readonly #requested = new Uint8Array(IOAPIC_PINS);
  /** Whether each pin was asserted at the last evaluation (edge detection). */
  readonly #wasAsserted = new Uint8Array(IOAPIC_PINS);
  readonly #activeLow: Uint8Array;
  readonly #lines: IrqLine[];

  /** Builds an I/O APIC with every entry masked. */
  constructor(options: IoApicOptions) {
    this.#bus = options.bus;
    this.#id = (options.id ?? 0) & 0xf;
    this.gsiBase = options.gsiBase ?? 0;
    this.name = options.name ?? "ioapic";
    const activeLow = options.activeLow ?? ((pin: number) => pin >= 16);
    this.#activeLow = Uint8Array.from({ length: IOAPIC_PINS }, (_, p) => activeLow(p) ? 1 : 0);
    for (let p = 0; p < IOAPIC_PINS; p++) this.#entries[2 * p] = IOREDTBL_MASKED;
    this.#lines = Array.from({ length: IOAPIC_PINS }, (_, p) => ({
      set: (level: boolean) => this.#setLine(p, level),
    }));
    for (let p = 0; p < IOAPIC_PINS; p++) this.#wasAsserted[p] = this.#asserted(p) ? 1 : 0;
    options.bus.eoiListeners.push(this);
  }

  /** The interrupt line of input `pin` (GSI `gsiBase + pin`), for a device to drive. */
  input(pin: number): IrqLine {
    const line = this.#lines[pin];
    if (!line) throw new RangeError(`the I/O APIC has inputs 0 to ${IOAPIC_PINS - 1}, not ${pin}`);
    return line;
  }

  /** Redirection entry `pin` as a 64-bit value (for graders and tests). */
  entry(pin: number): bigint {
    return (BigInt(this.#entries[2 * pin + 1]) << 32n) | BigInt(this.#low(pin));
  }

  /** Device read: IOREGSEL and IOWIN, 32 bits (IOREGSEL also as a byte). */
  read(offset: number, size: number, _cpu: number): bigint | undefined {
    if (offset === IOREGSEL && (size === 4 || size === 1)) return BigInt(this.#select);
    if (offset === IOWIN && size === 4) return BigInt(this.#readRegister(this.#select) >>> 0);
    if (offset === IOAPIC_EOI && size === 4) return 0n;
    if (size !== 4 || offset & 3) return undefined;
    return 0n; // the rest of the page holds no register
  }

  /** Device write: IOREGSEL, IOWIN and EOI. */
  write(offset: number, size: number, value: bigint, _cpu: number): boolean {
    const v = Number(value & 0xffff_ffffn);
    if (offset === IOREGSEL && (size === 4 || size === 1)) {
      this.#select = v & 0xff;
      return true;
    }
    if (size !== 4 || offset & 3) return false;
    if (offset === IOWIN) this.#writeRegister(this.#select, v);
    else if (offset === IOAPIC_EOI) this.eoi(v & 0xff);
    return true;
  }

  /** An EOI for `vector` (broadcast by a local APIC, or written to the EOI register). */
  eoi(vector: number): void {
    for (let p = 0; p < IOAPIC_PINS; p++) {
      const low = this.#entries[2 * p];
      if ((low & 0xff) === vector && low & IOREDTBL_REMOTE_IRR) {
        this.#entries[2 * p] = low & ~IOREDTBL_REMOTE_IRR;
        this.#evaluate(p);
      }
    }
  }

  #readRegister(index: number): number {
    if (index === IOAPICID || index === IOAPICARB) return this.#id << 24;
    if (index === IOAPICVER) return IOAPIC_VERSION | ((IOAPIC_PINS - 1) << 16);
    const pin = (index - IOREDTBL) >> 1;
    if (index < IOREDTBL || pin >= IOAPIC_PINS) return 0; // no register there
    return index & 1 ? this.#entries[2 * pin + 1] : this.#low(pin);
  }

  #writeRegister(index: number, v: number): void {
    if (index === IOAPICID) {
      this.#id = (v >>> 24) & 0xf;
      return;
    }
    const pin = (index - IOREDTBL) >> 1;
    if (index < IOREDTBL || pin >= IOAPIC_PINS) return; // read-only or no register
    if (index & 1) {
      this.#entries[2 * pin + 1] = v & 0xff00_0000;
      return;
    }
    const old = this.#entries[2 * pin];
    let low = (v & LOW_WRITABLE) | (old & IOREDTBL_REMOTE_IRR);
    if (!(low & IOREDTBL_LEVEL)) low &= ~IOREDTBL_REMOTE_IRR; // only level entries hold it
    this.#entries[2 * pin] = low;
    this.#evaluate(pin, true);
  }

  /** The low half as software reads it (delivery status always idle). */
  #low(pin: number): number {
    return this.#entries[2 * pin];
  }

  #setLine(pin: number, requested: boolean): void {
    const r = requested ? 1 : 0;
    if (this.#requested[pin] === r) return;
    this.#requested[pin] = r;
    this.#evaluate(pin);
  }

  /** Whether the pin is asserted as the entry's polarity reads it. */
  #asserted(pin: number): boolean {
    const high = (this.#requested[pin] === 1) !== (this.#activeLow[pin] === 1);
    const activeLowEntry = (this.#entries[2 * pin] & IOREDTBL_ACTIVE_LOW) !== 0;
    return high !== activeLowEntry;
  }

  /**
   * Looks at a pin after its line or entry changed, or an EOI. `reprogrammed` is set for
   * entry writes, which are not edges: an edge entry fires only when the pin changes.
   */
  #evaluate(pin: number, reprogrammed = false): void {
    const asserted = this.#asserted(pin);
    const rising = asserted && !this.#wasAsserted[pin] && !reprogrammed;
    this.#wasAsserted[pin] = asserted ? 1 : 0;
    const low = this.#entries[2 * pin];
    if (low & IOREDTBL_MASKED || !asserted) return;
    if (low & IOREDTBL_LEVEL) {
      if (low & IOREDTBL_REMOTE_IRR) return;
      if (this.#send(pin, low) > 0) this.#entries[2 * pin] |= IOREDTBL_REMOTE_IRR;
    } else if (rising) {
      this.#send(pin, low);
    }
  }

  /** Sends the entry's message; returns how many local APICs accepted it. */
  #send(pin: number, low: number): number {
    const mode = (low >> 8) & 7;
    const gsi = this.gsiBase + pin;
    if (mode !== DM_FIXED && mode !== DM_LOWEST && mode !== DM_NMI && mode !== DM_INIT) {
      this.#bus.report(
        -1,
        `${this.name}: GSI ${gsi} fired but its redirection entry (${hex(this.entry(pin))}) ` +
          `has delivery mode ${mode} (${deliveryModeName(mode)}), which ${why(mode)}: ` +
          `nothing was delivered`,
      );
      return 0;
    }
    if (this.#bus.trace?.interrupt) {
      this.#bus.trace.emit("interrupt", -1, {
        device: this.name,
        op: "send",
        gsi,
        vector: low & 0xff,
        level: (low & IOREDTBL_LEVEL) !== 0,
      });
    }
    return this.#bus.send({
      vector: low & 0xff,
      deliveryMode: mode,
      logical: (low & IOREDTBL_DEST_LOGICAL) !== 0,
      destination: broadcast8(this.#entries[2 * pin + 1] >>> 24),
      level: (low & IOREDTBL_LEVEL) !== 0,
      source: `${this.name} GSI ${gsi}`,
    });
  }
}

/** Why an I/O APIC delivery mode delivers nothing (82093AA §3.2.4). */
function why(mode: number): string {
  if (mode === DM_EXTINT) return "needs an 8259 this board does not have";
  if (mode === 3 || mode === DM_STARTUP) return "is reserved in an I/O APIC entry";
  return "is not modelled on this board";
}

/**
 * An 8-bit destination as the APIC bus carries it: 0xFF is the broadcast, which x2APIC-mode
 * local APICs know as 0xFFFF_FFFF.
 */
export function broadcast8(destination: number): number {
  return destination === 0xff ? 0xffff_ffff : destination;
}
