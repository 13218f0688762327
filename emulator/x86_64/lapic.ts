/**
 * The local APIC: one per CPU, and the interrupt messages that travel between APICs.
 *
 * Citations are to the Intel SDM Vol. 3A, chapter 11, "Advanced Programmable Interrupt
 * Controller (APIC)" (section titles are given because the numbering moves between
 * editions). Register offsets are those of Table 11-1, "Local APIC Register Address Map".
 *
 * ## Two ways in
 *
 * - **xAPIC**: the registers are 32-bit words at 16-byte strides in the page at
 *   {@link LAPIC_BASE} (0xFEE0_0000). Every CPU sees its own APIC there: the bus passes the
 *   index of the CPU making the access, and {@link LapicMmio} forwards it to that CPU's APIC.
 *   Accesses must be aligned 32-bit loads and stores (§11.4.1); anything else is not
 *   answered (the CPU reports the access). A write to the page by a bus master (`cpu` = -1)
 *   is a message-signalled interrupt (§11.11), as on a PC: that is how PCI devices interrupt.
 * - **x2APIC** (§11.12): once IA32_APIC_BASE.EXTD is set, the page goes dark and the same
 *   registers are MSRs 0x800 + (offset >> 4), 32 bits wide except the 64-bit ICR at 0x830.
 *   The SDM's stricter rules apply: reading a write-only register, writing a read-only one,
 *   or setting a reserved bit raises #GP(0).
 *
 * ## What is modelled
 *
 * - ID, version (6 LVT entries: max LVT = 5), TPR, APR, PPR, EOI, LDR, DFR (flat and
 *   cluster models), SVR with the software enable, ISR, TMR, IRR, ESR, ICR, the LVT entries
 *   for the timer, thermal sensor, performance counters, LINT0, LINT1 and errors, and the
 *   timer's initial count, current count and divide configuration.
 * - Priorities (§11.8.3): PPR = TPR when TPR's class is at least the class of the highest
 *   in-service vector, else that vector's class. The APIC offers the CPU the highest IRR
 *   vector whose class is above PPR's class; the CPU's acknowledge moves it from IRR to ISR;
 *   EOI clears the highest ISR bit and, when that vector was level-triggered (its TMR bit is
 *   set), broadcasts the EOI to the I/O APICs, which clears their remote IRR (§11.8.5).
 * - The timer (§11.5.4) in one-shot, periodic and TSC-deadline modes. It counts down at
 *   {@link LAPIC_TIMER_HZ} divided by the divide configuration. That frequency is a property
 *   of the board that nothing tells the kernel (not ACPI, not CPUID): the kernel measures it
 *   against the HPET. Expiries are machine events; nothing polls.
 * - IPIs through the ICR (§11.6.1): fixed, lowest priority, NMI, INIT (assert; de-assert is
 *   accepted and ignored, as on Pentium 4 and later) and start-up; physical and logical
 *   destinations and the shorthands self, all including self and all excluding self.
 * - Errors (§11.5.3): a fixed interrupt sent or received with a vector below 16 sets "send
 *   illegal vector" or "received illegal vector"; an access to an unimplemented register
 *   sets "illegal register address". ESR is latched by a write, as the SDM describes; each
 *   new error raises the LVT error interrupt when it is unmasked.
 *
 * ## Simplifications
 *
 * - Delivery is instantaneous: the delivery status bits always read 0 (idle), and the CPU
 *   accepts an interrupt in the same step it asks for it, so no spurious interrupt is ever
 *   needed (the spurious vector is kept for software that reads it back).
 * - An IPI or I/O APIC message addressed to an APIC ID that no APIC has is lost without an
 *   error, as on Pentium 4 and later processors (ESR's send-accept bit is P6-only); the
 *   machine reports it in words so the mistake is visible.
 * - SMI, ExtINT and the reserved delivery modes deliver nothing and are reported.
 * - The xAPIC ID register is read-only (writability is model-specific, §11.4.6).
 * - The APIC cannot be relocated: IA32_APIC_BASE keeps a written base address, but the
 *   registers stay at 0xFEE0_0000 only while the base is that value; elsewhere the page
 *   reads as all ones and the machine reports why.
 * - LINT0, LINT1, the thermal sensor and the performance counters are wired to nothing:
 *   their LVT entries are programmable and never fire.
 *
 * @module
 */

import type { Device } from "../core/bus.ts";
import type { EventQueue, TimerEvent } from "../core/events.ts";
import { hex } from "../core/memory.ts";
import type { Trace } from "../core/trace.ts";
import type { ApicLink, MsrHook, X86Cpu } from "./cpu_api.ts";
import {
  IA32_APIC_BASE,
  IA32_TSC_DEADLINE,
  IA32_X2APIC_FIRST,
  IA32_X2APIC_LAST,
  MAXPHYADDR,
  TSC_HZ,
} from "./regs.ts";

// ---- the board's constants -----------------------------------------------------------------

/** The physical address of the xAPIC register page (IA32_APIC_BASE's reset base). */
export const LAPIC_BASE = 0xfee0_0000;
/** The size of the register page. */
export const LAPIC_SIZE = 0x1000;
/**
 * The size of the region the board maps at {@link LAPIC_BASE}: the whole interrupt address
 * range 0xFEE0_0000-0xFEEF_FFFF, where MSI writes land (§11.11.1: address bits 19:12 hold
 * the destination). CPUs reach registers only in its first page.
 */
export const LAPIC_REGION_SIZE = 0x10_0000;

/**
 * The frequency of the clock the APIC timer divides, in Hz: 143.181818 MHz, ten times the
 * PC's historical 14.31818 MHz crystal. It is deliberately not a round number, and it is
 * told to the kernel nowhere (not in ACPI, not in CPUID leaves 15H or 16H): a kernel must
 * calibrate its timer against the HPET, whose period the HPET does report. Tests and
 * graders may import it; a kernel that does is cheating.
 */
export const LAPIC_TIMER_HZ = 143_181_818;

/** The APIC version this model reports: 0x14, an integrated xAPIC (§11.4.8). */
export const LAPIC_VERSION = 0x14;
/** Number of LVT entries: timer, thermal, performance, LINT0, LINT1, error. */
export const LAPIC_LVT_ENTRIES = 6;

// ---- register offsets (Table 11-1) ---------------------------------------------------------

/** Local APIC ID register (xAPIC: ID in bits 31:24). */
export const APIC_ID = 0x020;
/** Local APIC version register: version (7:0), max LVT entry (23:16). */
export const APIC_VERSION = 0x030;
/** Task priority register (TPR). */
export const APIC_TPR = 0x080;
/** Arbitration priority register (APR; xAPIC only). */
export const APIC_APR = 0x090;
/** Processor priority register (PPR), read-only. */
export const APIC_PPR = 0x0a0;
/** EOI register, write-only. */
export const APIC_EOI = 0x0b0;
/** Remote read register (RRD; not supported on Pentium 4 and later: reads 0). */
export const APIC_RRD = 0x0c0;
/** Logical destination register (LDR). */
export const APIC_LDR = 0x0d0;
/** Destination format register (DFR; xAPIC only). */
export const APIC_DFR = 0x0e0;
/** Spurious interrupt vector register (SVR). */
export const APIC_SVR = 0x0f0;
/** In-service register, bits 31:0 (eight registers, 0x100-0x170). */
export const APIC_ISR = 0x100;
/** Trigger mode register, bits 31:0 (0x180-0x1F0). */
export const APIC_TMR = 0x180;
/** Interrupt request register, bits 31:0 (0x200-0x270). */
export const APIC_IRR = 0x200;
/** Error status register (ESR). */
export const APIC_ESR = 0x280;
/** LVT corrected machine-check interrupt register (not implemented here). */
export const APIC_LVT_CMCI = 0x2f0;
/** Interrupt command register, bits 31:0 (writing it sends the IPI). */
export const APIC_ICR_LOW = 0x300;
/** Interrupt command register, bits 63:32 (xAPIC: destination in 31:24). */
export const APIC_ICR_HIGH = 0x310;
/** LVT timer register. */
export const APIC_LVT_TIMER = 0x320;
/** LVT thermal sensor register. */
export const APIC_LVT_THERMAL = 0x330;
/** LVT performance monitoring counters register. */
export const APIC_LVT_PERF = 0x340;
/** LVT LINT0 register. */
export const APIC_LVT_LINT0 = 0x350;
/** LVT LINT1 register. */
export const APIC_LVT_LINT1 = 0x360;
/** LVT error register. */
export const APIC_LVT_ERROR = 0x370;
/** Initial count register (for the timer). */
export const APIC_TIMER_INITIAL = 0x380;
/** Current count register (for the timer), read-only. */
export const APIC_TIMER_CURRENT = 0x390;
/** Divide configuration register (for the timer). */
export const APIC_TIMER_DIVIDE = 0x3e0;
/** x2APIC SELF IPI register (MSR 0x83F only, write-only; §11.12.11). */
export const X2APIC_SELF_IPI = 0x3f0;

/** The x2APIC MSR of a register: 0x800 + offset / 16 (§11.12.1.2). */
export function x2apicMsr(offset: number): number {
  return IA32_X2APIC_FIRST + (offset >> 4);
}

// ---- register fields -----------------------------------------------------------------------

/** SVR bit 8: APIC software enable (§11.9). */
export const SVR_APIC_ENABLE = 1 << 8;
/** SVR bit 9: focus processor checking disabled. */
export const SVR_FOCUS_DISABLE = 1 << 9;

/** LVT and ICR bits 7:0: the vector. */
export const APIC_VECTOR_MASK = 0xff;
/** LVT and ICR bit 12: delivery status (always 0 here: idle). */
export const APIC_DELIVERY_STATUS = 1 << 12;
/** LVT bit 16: masked. */
export const LVT_MASKED = 1 << 16;
/** LVT timer bits 18:17: the timer mode (Table 11-2). */
export const LVT_TIMER_MODE_SHIFT = 17;
/** Timer mode: one-shot. */
export const TIMER_ONE_SHOT = 0;
/** Timer mode: periodic. */
export const TIMER_PERIODIC = 1;
/** Timer mode: TSC-deadline (§11.5.4.1). */
export const TIMER_TSC_DEADLINE = 2;

/** Delivery modes of the ICR, LVT, I/O APIC entries and MSIs (bits 10:8). */
export const DM_FIXED = 0;
/** Lowest priority: to the addressed processor with the lowest priority. */
export const DM_LOWEST = 1;
/** System management interrupt (not modelled). */
export const DM_SMI = 2;
/** Non-maskable interrupt: through IDT vector 2, vector field ignored. */
export const DM_NMI = 4;
/** INIT: the target resets into wait-for-SIPI. */
export const DM_INIT = 5;
/** Start-up: the target begins at page `vector`. */
export const DM_STARTUP = 6;
/** External interrupt (an 8259 supplies the vector; there is none on this board). */
export const DM_EXTINT = 7;

/** ICR bit 11: destination mode (0 physical, 1 logical). */
export const ICR_DEST_LOGICAL = 1 << 11;
/** ICR bit 14: level (0 de-assert, 1 assert). */
export const ICR_LEVEL_ASSERT = 1 << 14;
/** ICR bit 15: trigger mode (0 edge, 1 level). */
export const ICR_TRIGGER_LEVEL = 1 << 15;
/** ICR bits 19:18: the destination shorthand. */
export const ICR_SHORTHAND_SHIFT = 18;
/** Shorthand: no shorthand (use the destination field). */
export const SHORTHAND_NONE = 0;
/** Shorthand: self. */
export const SHORTHAND_SELF = 1;
/** Shorthand: all including self. */
export const SHORTHAND_ALL = 2;
/** Shorthand: all excluding self. */
export const SHORTHAND_OTHERS = 3;

/** ESR bit 2: send accept error (P6 and Pentium only; never set here). */
export const ESR_SEND_ACCEPT = 1 << 2;
/** ESR bit 5: send illegal vector. */
export const ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
/** ESR bit 6: received illegal vector. */
export const ESR_RECEIVE_ILLEGAL_VECTOR = 1 << 6;
/** ESR bit 7: illegal register address. */
export const ESR_ILLEGAL_REGISTER = 1 << 7;

/** IA32_APIC_BASE bit 8: this is the bootstrap processor (§11.4.4). */
export const APIC_BASE_BSP = 1 << 8;
/** IA32_APIC_BASE bit 10: x2APIC mode enable (EXTD). */
export const APIC_BASE_EXTD = 1 << 10;
/** IA32_APIC_BASE bit 11: APIC global enable (EN). */
export const APIC_BASE_EN = 1 << 11;

/** The number of the timer's divisor from the divide configuration register (§11.5.4). */
export function timerDivisor(dcr: number): number {
  const code = (dcr & 3) | ((dcr >> 1) & 4);
  return code === 7 ? 1 : 2 << code;
}

// ---- messages between APICs ----------------------------------------------------------------

/** An interrupt message on the system bus: from an ICR, an I/O APIC entry, or an MSI. */
export interface InterruptMessage {
  /** The vector (for start-up: the page number). */
  vector: number;
  /** One of the `DM_*` delivery modes. */
  deliveryMode: number;
  /** Destination mode: false physical, true logical. */
  logical: boolean;
  /** The destination: an APIC ID (physical) or a logical destination (logical). */
  destination: number;
  /** Level-triggered (the receiving APIC sets the vector's TMR bit). */
  level: boolean;
  /** Who sent it, for messages: "cpu1 ICR", "ioapic GSI 4", "MSI". */
  source: string;
}

/** What the APICs need of the machine: virtual time, events, and somewhere to report. */
export interface ApicClock {
  /** Virtual time now, in ns. */
  now(): number;
  /** Where timer expiries are scheduled. */
  readonly events: EventQueue;
}

/** The CPU an APIC drives: the part of {@link X86Cpu} that INIT, SIPI and NMI reach. */
export type ApicCpu = Pick<X86Cpu, "init" | "startup" | "nmi" | "waitingForSipi">;

/** Something that hears the EOI broadcast: an I/O APIC. */
export interface EoiListener {
  /** A local APIC completed a level-triggered `vector`. */
  eoi(vector: number): void;
}

/** How to build the APIC bus. */
export interface ApicBusOptions {
  /** Virtual time and events (the machine). */
  clock: ApicClock;
  /** Where the APICs report mistakes in words (the machine's `report`). */
  report?: (cpu: number, message: string) => void;
  /** Trace for the `interrupt` category. */
  trace?: Trace;
  /** The timer's input clock (default {@link LAPIC_TIMER_HZ}). */
  timerHz?: number;
}

/**
 * The system bus as the APICs see it: it carries IPIs, I/O APIC messages and MSIs to the
 * local APICs they address, and EOI broadcasts back to the I/O APICs.
 */
export class ApicBus {
  /** The local APICs, by CPU index. */
  readonly lapics: LocalApic[] = [];
  /** The I/O APICs that hear EOI broadcasts. */
  readonly eoiListeners: EoiListener[] = [];
  /** Virtual time and events. */
  readonly clock: ApicClock;
  /** The timer's input clock in Hz. */
  readonly timerHz: number;
  /** Trace sink. */
  readonly trace: Trace | undefined;
  readonly #report: (cpu: number, message: string) => void;

  /** Builds a bus with no APICs on it. */
  constructor(options: ApicBusOptions) {
    this.clock = options.clock;
    this.timerHz = options.timerHz ?? LAPIC_TIMER_HZ;
    this.trace = options.trace;
    this.#report = options.report ?? (() => {});
  }

  /** Adds the local APIC of the next CPU (index = number of APICs so far). */
  addLocalApic(options: { apicId: number; cpu?: ApicCpu; tsc?: () => bigint }): LocalApic {
    const lapic = new LocalApic(this, this.lapics.length, options.apicId, options.cpu, options.tsc);
    this.lapics.push(lapic);
    return lapic;
  }

  /** Reports a programming mistake in words (the machine keeps it and traces it). */
  report(cpu: number, message: string): void {
    this.#report(cpu, message);
  }

  /**
   * The local APICs a message addresses (§11.6.2): physical ID match or broadcast (0xFF,
   * or 0xFFFF_FFFF in x2APIC mode), or a logical match by each APIC's LDR and DFR.
   * Globally disabled APICs hear nothing.
   */
  destinations(logical: boolean, destination: number): LocalApic[] {
    const out: LocalApic[] = [];
    for (const l of this.lapics) {
      if (l.enabled && l.matches(logical, destination)) out.push(l);
    }
    return out;
  }

  /**
   * Delivers `message` to `targets` (already resolved): lowest priority picks one of them,
   * every other mode goes to each. Returns how many APICs accepted it.
   */
  deliver(message: InterruptMessage, targets: LocalApic[]): number {
    if (targets.length === 0) return 0;
    if (message.deliveryMode === DM_LOWEST) {
      // §11.6.2.4: the processor with the lowest priority (here: the lowest TPR class; ties
      // go to the first in CPU order, as focus processors are not modelled).
      let best = targets[0];
      for (const t of targets) if ((t.tpr >> 4) < (best.tpr >> 4)) best = t;
      best.receive(message);
      return 1;
    }
    for (const t of targets) t.receive(message);
    return targets.length;
  }

  /** Sends a message by its destination fields; reports it when nobody is addressed. */
  send(message: InterruptMessage): number {
    const targets = this.destinations(message.logical, message.destination);
    if (targets.length === 0) {
      this.report(
        -1,
        `${message.source}: ${deliveryModeName(message.deliveryMode)} interrupt (vector ${
          hex(message.vector)
        }) addressed to ${message.logical ? "logical destination" : "APIC ID"} ${
          hex(message.destination)
        }, which no enabled local APIC answers: it is lost (check the destination against ` +
          `the APIC IDs in the MADT)`,
      );
      return 0;
    }
    return this.deliver(message, targets);
  }

  /**
   * A message-signalled interrupt (§11.11): a bus master wrote `data` at `address` in the
   * 0xFEEx_xxxx window. Address bits 19:12 are the destination, bit 3 the redirection hint
   * (lowest priority), bit 2 the destination mode; data bits 7:0 are the vector, 10:8 the
   * delivery mode, 15 the trigger mode.
   */
  msi(address: number, data: number): number {
    const redirect = (address & 8) !== 0;
    const mode = (data >> 8) & 7;
    return this.send({
      vector: data & 0xff,
      deliveryMode: redirect && mode === DM_FIXED ? DM_LOWEST : mode,
      logical: (address & 4) !== 0,
      destination: ((address >>> 12) & 0xff) === 0xff ? 0xffff_ffff : (address >>> 12) & 0xff,
      level: (data & (1 << 15)) !== 0,
      source: `MSI (address ${hex(address)}, data ${hex(data)})`,
    });
  }

  /** A local APIC completed level-triggered `vector`: every I/O APIC hears it (§11.8.5). */
  broadcastEoi(vector: number): void {
    for (const l of this.eoiListeners) l.eoi(vector);
  }
}

// ---- the local APIC ------------------------------------------------------------------------

/** Writable bits of each LVT register (the vector, mode, polarity, trigger and mask). */
const LVT_WRITABLE: Readonly<Record<number, number>> = {
  [APIC_LVT_TIMER]: 0x7_00ff,
  [APIC_LVT_THERMAL]: 0x1_07ff,
  [APIC_LVT_PERF]: 0x1_07ff,
  [APIC_LVT_LINT0]: 0x1_a7ff,
  [APIC_LVT_LINT1]: 0x1_a7ff,
  [APIC_LVT_ERROR]: 0x1_00ff,
};
/** Writable bits of ICR[31:0]: vector, modes, level, trigger mode and shorthand. */
const ICR_LOW_WRITABLE = 0x000c_cfff;
/** Nanoseconds per second, for the timer's tick arithmetic. */
const NS_PER_S = 1_000_000_000n;

/** The LVT registers, in offset order. */
const LVT_OFFSETS = [
  APIC_LVT_TIMER,
  APIC_LVT_THERMAL,
  APIC_LVT_PERF,
  APIC_LVT_LINT0,
  APIC_LVT_LINT1,
  APIC_LVT_ERROR,
];

/** One CPU's local APIC. The CPU reaches it through {@link ApicLink}. */
export class LocalApic implements ApicLink {
  /** The CPU index (position in `machine.cpus`). */
  readonly index: number;
  /** The initial APIC ID (CPUID's), which the ID register reports. */
  readonly apicId: number;
  /** The CPU this APIC drives (INIT, SIPI, NMI); absent in some tests. */
  cpu: ApicCpu | undefined;

  readonly #bus: ApicBus;
  readonly #tsc: () => bigint;
  /** IA32_APIC_BASE. */
  #apicBase: number;
  #tpr = 0;
  #ldr = 0;
  #dfr = 0xffff_ffff;
  #svr = 0xff;
  #icrLow = 0;
  #icrHigh = 0;
  readonly #irr = new Uint32Array(8);
  readonly #isr = new Uint32Array(8);
  readonly #tmr = new Uint32Array(8);
  /** ESR as software reads it (latched by the last write). */
  #esr = 0;
  /** Errors detected since the last write to ESR. */
  #esrPending = 0;
  readonly #lvt = new Map<number, number>();
  /** The vector offered to the CPU, or -1 (kept current: the CPU asks on every boundary). */
  #pending = -1;
  #relocationReported = false;

  // The timer (§11.5.4). While `#counting`, the current count was `#baseCount` at virtual
  // time `#baseNs` and has counted down since at timerHz / divisor.
  #initialCount = 0;
  #divide = 0;
  #counting = false;
  #baseNs = 0;
  #baseCount = 0;
  #timerEvent: TimerEvent | undefined;
  /** IA32_TSC_DEADLINE while armed, else 0n. */
  #deadline = 0n;

  /** Use {@link ApicBus.addLocalApic}. */
  constructor(
    bus: ApicBus,
    index: number,
    apicId: number,
    cpu: ApicCpu | undefined,
    tsc: (() => bigint) | undefined,
  ) {
    this.#bus = bus;
    this.index = index;
    this.apicId = apicId;
    this.cpu = cpu;
    this.#tsc = tsc ??
      (() => (BigInt(Math.floor(bus.clock.now())) * BigInt(TSC_HZ)) / NS_PER_S);
    this.#apicBase = LAPIC_BASE + APIC_BASE_EN + (index === 0 ? APIC_BASE_BSP : 0);
    this.#resetRegisters();
  }

  // ---- state, for the platform, graders and tests ----------------------------------------

  /** IA32_APIC_BASE as rdmsr returns it. */
  get apicBase(): number {
    return this.#apicBase;
  }

  /** Whether the APIC is globally enabled (IA32_APIC_BASE.EN). */
  get enabled(): boolean {
    return (this.#apicBase & APIC_BASE_EN) !== 0;
  }

  /** Whether the APIC is in x2APIC mode (IA32_APIC_BASE.EXTD). */
  get x2apic(): boolean {
    return (this.#apicBase & APIC_BASE_EXTD) !== 0;
  }

  /** Whether the APIC is software-enabled (SVR bit 8). */
  get softwareEnabled(): boolean {
    return (this.#svr & SVR_APIC_ENABLE) !== 0;
  }

  /** The task-priority register. */
  get tpr(): number {
    return this.#tpr;
  }

  /** The processor-priority register (§11.8.3.1). */
  get ppr(): number {
    const isrv = Math.max(highestBit(this.#isr), 0);
    return this.#tpr >> 4 >= isrv >> 4 ? this.#tpr : isrv & 0xf0;
  }

  /** Whether `vector` is set in IRR. */
  irrBit(vector: number): boolean {
    return testBit(this.#irr, vector);
  }

  /** Whether `vector` is set in ISR. */
  isrBit(vector: number): boolean {
    return testBit(this.#isr, vector);
  }

  /** Whether `vector` is set in TMR (it was accepted level-triggered). */
  tmrBit(vector: number): boolean {
    return testBit(this.#tmr, vector);
  }

  /** Errors detected since ESR was last written (what the next write will latch). */
  get pendingErrors(): number {
    return this.#esrPending;
  }

  /** The timer's current count, as the current-count register reads now. */
  currentCount(): number {
    if (!this.#counting) return 0;
    const elapsed = this.#ticksSince(this.#baseNs);
    if (elapsed < this.#baseCount) return this.#baseCount - elapsed;
    if (this.#timerMode() !== TIMER_PERIODIC || this.#initialCount === 0) return 0;
    return this.#initialCount - ((elapsed - this.#baseCount) % this.#initialCount);
  }

  // ---- ApicLink: what the CPU asks --------------------------------------------------------

  /** The vector the APIC would deliver now, or -1 (§11.8.4). */
  pendingVector(): number {
    return this.#pending;
  }

  /** The CPU took `vector`: it moves from IRR to ISR. */
  acknowledge(vector: number): void {
    if (!testBit(this.#irr, vector)) return;
    clearBit(this.#irr, vector);
    setBit(this.#isr, vector);
    this.#update();
    if (this.#bus.trace?.interrupt) {
      this.#bus.trace.emit("interrupt", this.index, { device: "lapic", op: "accept", vector });
    }
  }

  /** CR8 reads TPR[7:4]. */
  readTpr(): number {
    return this.#tpr >> 4;
  }

  /** CR8 writes TPR[7:4] and clears TPR[3:0] (§11.8.6, "Task Priority in IA-32e Mode"). */
  writeTpr(value: number): void {
    this.#tpr = (value & 0xf) << 4;
    this.#update();
  }

  // ---- receiving -------------------------------------------------------------------------

  /** Whether a message's destination names this APIC (§11.6.2). */
  matches(logical: boolean, destination: number): boolean {
    if (this.x2apic) {
      if (destination === 0xffff_ffff) return true;
      if (!logical) return destination === this.apicId;
      const ldr = this.#x2apicLdr();
      return destination >>> 16 === ldr >>> 16 && (destination & ldr & 0xffff) !== 0;
    }
    const d = destination & 0xff;
    if (d === 0xff) return true;
    if (!logical) return d === this.apicId;
    const id = this.#ldr >>> 24;
    if (this.#dfr >>> 28 === 0xf) return (id & d) !== 0; // flat model: a bit mask
    return id >>> 4 === d >>> 4 && (id & d & 0xf) !== 0; // cluster model
  }

  /** Receives a message addressed to this APIC. */
  receive(m: InterruptMessage): void {
    if (!this.enabled) return;
    switch (m.deliveryMode) {
      case DM_FIXED:
      case DM_LOWEST:
        this.accept(m.vector, m.level);
        break;
      case DM_NMI:
        this.cpu?.nmi();
        break;
      case DM_INIT:
        this.initReset();
        this.cpu?.init();
        break;
      case DM_STARTUP:
        if (this.cpu?.waitingForSipi) this.cpu.startup(m.vector & 0xff);
        break;
      default:
        this.#bus.report(
          this.index,
          `${m.source}: delivery mode ${m.deliveryMode} (${
            deliveryModeName(m.deliveryMode)
          }) is not modelled on this board: nothing was delivered`,
        );
    }
  }

  /**
   * A fixed interrupt arrives (§11.8.4): vectors 0-15 are illegal and only set ESR; others
   * set IRR, and TMR when level-triggered.
   */
  accept(vector: number, level: boolean): void {
    if (vector < 16) {
      this.#error(ESR_RECEIVE_ILLEGAL_VECTOR);
      return;
    }
    setBit(this.#irr, vector);
    if (level) setBit(this.#tmr, vector);
    else clearBit(this.#tmr, vector);
    this.#update();
    if (this.#bus.trace?.interrupt) {
      this.#bus.trace.emit("interrupt", this.index, { device: "lapic", op: "irr", vector, level });
    }
  }

  /** INIT (§11.4.7.3): every register to its reset value except the ID and IA32_APIC_BASE. */
  initReset(): void {
    this.#resetRegisters();
  }

  // ---- xAPIC register access ---------------------------------------------------------------

  /** Reads the register at `offset` (a multiple of 16) as xAPIC software sees it. */
  readRegister(offset: number): number {
    switch (offset) {
      case APIC_ID:
        return (this.apicId & 0xff) << 24;
      case APIC_APR:
        return this.#apr();
      case APIC_RRD:
        return 0;
      case APIC_EOI:
        return 0;
      case APIC_LDR:
        return this.#ldr;
      case APIC_DFR:
        return this.#dfr;
      case APIC_ICR_HIGH:
        return this.#icrHigh;
      default: {
        const v = this.#readCommon(offset);
        if (v !== undefined) return v;
        this.#error(ESR_ILLEGAL_REGISTER);
        return 0;
      }
    }
  }

  /** Writes the register at `offset` (a multiple of 16) as xAPIC software does. */
  writeRegister(offset: number, value: number): void {
    switch (offset) {
      case APIC_ID:
      case APIC_VERSION:
      case APIC_APR:
      case APIC_PPR:
      case APIC_RRD:
      case APIC_TIMER_CURRENT:
        return; // read-only: the write is ignored
      case APIC_EOI:
        return this.eoi();
      case APIC_LDR:
        this.#ldr = value & 0xff00_0000;
        return;
      case APIC_DFR:
        this.#dfr = (value | 0x0fff_ffff) >>> 0;
        return;
      case APIC_ICR_HIGH:
        this.#icrHigh = value & 0xff00_0000;
        return;
      case APIC_ICR_LOW:
        this.#icrLow = value & ICR_LOW_WRITABLE;
        return this.#sendIpi(this.#icrLow, this.#icrHigh >>> 24);
      case APIC_ESR:
        return this.#latchErrors();
      default:
        if (offset >= APIC_ISR && offset < APIC_IRR + 0x80) return; // ISR, TMR, IRR: read-only
        if (!this.#writeCommon(offset, value)) this.#error(ESR_ILLEGAL_REGISTER);
    }
  }

  /** EOI (§11.8.5): clears the highest ISR bit; a level-triggered one is broadcast. */
  eoi(): void {
    const v = highestBit(this.#isr);
    if (v < 0) return;
    clearBit(this.#isr, v);
    this.#update();
    if (this.#bus.trace?.interrupt) {
      this.#bus.trace.emit("interrupt", this.index, { device: "lapic", op: "eoi", vector: v });
    }
    if (testBit(this.#tmr, v)) this.#bus.broadcastEoi(v);
  }

  // ---- x2APIC MSRs (§11.12.1.2, Table 11-6) -----------------------------------------------

  /** rdmsr of an x2APIC MSR; undefined raises #GP(0). */
  readX2apic(msr: number): bigint | undefined {
    if (!this.x2apic) return undefined;
    const offset = (msr - IA32_X2APIC_FIRST) << 4;
    switch (offset) {
      case APIC_ID:
        return BigInt(this.apicId >>> 0);
      case APIC_LDR:
        return BigInt(this.#x2apicLdr());
      case APIC_ICR_LOW:
        return (BigInt(this.#icrHigh >>> 0) << 32n) | BigInt(this.#icrLow >>> 0);
      default: {
        const v = this.#readCommon(offset);
        return v === undefined ? undefined : BigInt(v >>> 0);
      }
    }
  }

  /** wrmsr of an x2APIC MSR; false raises #GP(0). */
  writeX2apic(msr: number, value: bigint): boolean {
    if (!this.x2apic) return false;
    const offset = (msr - IA32_X2APIC_FIRST) << 4;
    if (offset === APIC_ICR_LOW) {
      const low = Number(value & 0xffff_ffffn);
      if (low & ~(ICR_LOW_WRITABLE | APIC_DELIVERY_STATUS)) return false;
      this.#icrLow = low & ICR_LOW_WRITABLE;
      this.#icrHigh = Number(value >> 32n);
      this.#sendIpi(this.#icrLow, this.#icrHigh);
      return true;
    }
    if (value >> 32n !== 0n) return false; // every other register is 32 bits wide
    const v = Number(value);
    switch (offset) {
      case APIC_EOI:
        if (v !== 0) return false;
        this.eoi();
        return true;
      case APIC_ESR:
        if (v !== 0) return false;
        this.#latchErrors();
        return true;
      case X2APIC_SELF_IPI:
        if (v & ~0xff) return false;
        this.#sendIpi(v | (SHORTHAND_SELF << ICR_SHORTHAND_SHIFT), 0);
        return true;
      case APIC_TPR:
        if (v & ~0xff) return false;
        break;
      case APIC_SVR:
        if (v & ~0x3ff) return false;
        break;
      case APIC_TIMER_DIVIDE:
        if (v & ~0xb) return false;
        break;
      case APIC_TIMER_INITIAL:
        break;
      default: {
        const writable = LVT_WRITABLE[offset];
        if (writable === undefined) return false; // read-only or no such register
        if (v & ~(writable | APIC_DELIVERY_STATUS)) return false;
        if (offset === APIC_LVT_TIMER && (v >> LVT_TIMER_MODE_SHIFT & 3) === 3) return false;
      }
    }
    return this.#writeCommon(offset, v);
  }

  // ---- IA32_APIC_BASE and IA32_TSC_DEADLINE -----------------------------------------------

  /**
   * wrmsr IA32_APIC_BASE (§11.4.4, §11.12.5): false (#GP) for reserved bits and for the
   * invalid transitions of Figure 11-27 (x2APIC to xAPIC, disabled to x2APIC, EXTD without EN).
   */
  writeApicBase(value: bigint): boolean {
    const reserved = ~((((1n << BigInt(MAXPHYADDR)) - 1n) & ~0xfffn) |
      BigInt(APIC_BASE_BSP | APIC_BASE_EXTD | APIC_BASE_EN));
    if (value & reserved) return false;
    const v = Number(value);
    const en = (v & APIC_BASE_EN) !== 0, extd = (v & APIC_BASE_EXTD) !== 0;
    if (extd && !en) return false;
    if (this.x2apic && en && !extd) return false;
    if (!this.enabled && extd) return false;
    const wasEnabled = this.enabled;
    const base = v - (v % 0x1000);
    this.#apicBase = base + (v & (APIC_BASE_EN | APIC_BASE_EXTD)) +
      (this.#apicBase & APIC_BASE_BSP);
    if (wasEnabled && !en) this.#resetRegisters(); // globally disabled: state is lost
    if (base !== LAPIC_BASE && !this.#relocationReported) {
      this.#relocationReported = true;
      this.#bus.report(
        this.index,
        `IA32_APIC_BASE moved the local APIC to ${hex(base)}: relocation is not modelled, ` +
          `so its registers are no longer reachable by MMIO (keep the base at ${hex(LAPIC_BASE)})`,
      );
    }
    this.#update();
    return true;
  }

  /** rdmsr IA32_TSC_DEADLINE: the armed deadline in TSC-deadline mode, else 0 (§11.5.4.1). */
  readTscDeadline(): bigint {
    return this.#timerMode() === TIMER_TSC_DEADLINE ? this.#deadline : 0n;
  }

  /** wrmsr IA32_TSC_DEADLINE: arms (or with 0 disarms) the timer; ignored in other modes. */
  writeTscDeadline(value: bigint): void {
    if (this.#timerMode() !== TIMER_TSC_DEADLINE) return;
    this.#cancelTimer();
    this.#deadline = BigInt.asUintN(64, value);
    if (this.#deadline === 0n) return;
    const now = this.#bus.clock.now();
    const tsc = this.#tsc();
    if (tsc >= this.#deadline) {
      this.#deadlineExpired();
      return;
    }
    const delta = ((this.#deadline - tsc) * NS_PER_S + BigInt(TSC_HZ) - 1n) / BigInt(TSC_HZ);
    const at = Math.ceil(now) + Number(delta);
    if (!Number.isSafeInteger(at)) return; // further away than any run
    this.#timerEvent = this.#bus.clock.events.schedule(at, () => {
      this.#timerEvent = undefined;
      this.#deadlineExpired();
    });
  }

  // ---- internals ---------------------------------------------------------------------------

  /** Registers both APIC modes read the same way; undefined when there is no such register. */
  #readCommon(offset: number): number | undefined {
    switch (offset) {
      case APIC_VERSION:
        return LAPIC_VERSION | ((LAPIC_LVT_ENTRIES - 1) << 16);
      case APIC_TPR:
        return this.#tpr;
      case APIC_PPR:
        return this.ppr;
      case APIC_SVR:
        return this.#svr;
      case APIC_ESR:
        return this.#esr;
      case APIC_ICR_LOW:
        return this.#icrLow;
      case APIC_TIMER_INITIAL:
        return this.#initialCount;
      case APIC_TIMER_CURRENT:
        return this.currentCount();
      case APIC_TIMER_DIVIDE:
        return this.#divide;
    }
    if (offset >= APIC_ISR && offset < APIC_IRR + 0x80) {
      const word = (offset - APIC_ISR) >> 4;
      const bank = word >> 3 === 0 ? this.#isr : word >> 3 === 1 ? this.#tmr : this.#irr;
      return bank[word & 7];
    }
    return this.#lvt.get(offset);
  }

  /** Writes registers both modes write the same way; false when there is no such register. */
  #writeCommon(offset: number, value: number): boolean {
    switch (offset) {
      case APIC_TPR:
        this.#tpr = value & 0xff;
        this.#update();
        return true;
      case APIC_SVR:
        this.#writeSvr(value & 0x3ff);
        return true;
      case APIC_TIMER_INITIAL:
        this.#writeInitialCount(value >>> 0);
        return true;
      case APIC_TIMER_DIVIDE:
        this.#writeDivide(value & 0xb);
        return true;
    }
    const writable = LVT_WRITABLE[offset];
    if (writable === undefined) return false;
    let v = value & writable;
    if (!this.softwareEnabled) v |= LVT_MASKED; // §11.4.7.2: masks cannot be cleared
    if (offset === APIC_LVT_TIMER) this.#writeLvtTimer(v);
    else this.#lvt.set(offset, v);
    return true;
  }

  #resetRegisters(): void {
    this.#cancelTimer();
    this.#tpr = 0;
    this.#ldr = 0;
    this.#dfr = 0xffff_ffff;
    this.#svr = 0xff;
    this.#icrLow = this.#icrHigh = 0;
    this.#irr.fill(0);
    this.#isr.fill(0);
    this.#tmr.fill(0);
    this.#esr = this.#esrPending = 0;
    for (const o of LVT_OFFSETS) this.#lvt.set(o, LVT_MASKED);
    this.#initialCount = 0;
    this.#divide = 0;
    this.#counting = false;
    this.#deadline = 0n;
    this.#update();
  }

  /** Recomputes the vector offered to the CPU (§11.8.4). */
  #update(): void {
    this.#pending = -1;
    if (!this.enabled || !this.softwareEnabled) return;
    const irrv = highestBit(this.#irr);
    if (irrv >= 0 && irrv >> 4 > this.ppr >> 4) this.#pending = irrv;
  }

  /** APR (§11.8.3.1, Figure 11-15's arbitration priority). */
  #apr(): number {
    const isrv = Math.max(highestBit(this.#isr), 0), irrv = Math.max(highestBit(this.#irr), 0);
    if (this.#tpr >> 4 >= irrv >> 4 && this.#tpr >> 4 > isrv >> 4) return this.#tpr;
    return Math.max(this.#tpr & 0xf0, isrv & 0xf0, irrv & 0xf0);
  }

  /** x2APIC's logical ID, derived from the APIC ID (§11.12.10.2). */
  #x2apicLdr(): number {
    return (((this.apicId >>> 4) << 16) | (1 << (this.apicId & 0xf))) >>> 0;
  }

  #writeSvr(value: number): void {
    this.#svr = value;
    if (!this.softwareEnabled) {
      for (const o of LVT_OFFSETS) this.#lvt.set(o, this.#lvt.get(o)! | LVT_MASKED);
    }
    this.#update();
  }

  /** Records an error (§11.5.3) and raises the LVT error interrupt when it is unmasked. */
  #error(bit: number): void {
    this.#esrPending |= bit;
    const lvt = this.#lvt.get(APIC_LVT_ERROR)!;
    if (lvt & LVT_MASKED) return;
    const vector = lvt & APIC_VECTOR_MASK;
    // An illegal error vector is itself an error, which must not recurse.
    if (vector < 16) this.#esrPending |= ESR_RECEIVE_ILLEGAL_VECTOR;
    else this.accept(vector, false);
  }

  /** A write to ESR latches the errors detected since the previous write (§11.5.3). */
  #latchErrors(): void {
    this.#esr = this.#esrPending;
    this.#esrPending = 0;
  }

  /** Sends the IPI described by ICR bits 31:0 to `destination` (§11.6.1). */
  #sendIpi(low: number, destination: number): void {
    const mode = (low >> 8) & 7;
    const vector = low & APIC_VECTOR_MASK;
    const shorthand = (low >> ICR_SHORTHAND_SHIFT) & 3;
    const source = `cpu${this.index} ICR`;
    if (mode === DM_INIT && !(low & ICR_LEVEL_ASSERT)) return; // INIT level de-assert: no-op
    if ((mode === DM_FIXED || mode === DM_LOWEST) && vector < 16) {
      this.#error(ESR_SEND_ILLEGAL_VECTOR);
      return;
    }
    if (mode === 3 || mode === DM_EXTINT) {
      this.#bus.report(
        this.index,
        `${source}: delivery mode ${mode} (${deliveryModeName(mode)}) is not valid in the ` +
          `ICR: no IPI was sent (check bits 10:8 of ${hex(low)})`,
      );
      return;
    }
    const message: InterruptMessage = {
      vector,
      deliveryMode: mode,
      logical: (low & ICR_DEST_LOGICAL) !== 0,
      destination: this.x2apic ? destination >>> 0 : destination & 0xff,
      level: false, // IPIs are edge-triggered (the trigger bit only matters for INIT de-assert)
      source,
    };
    if (this.#bus.trace?.interrupt) {
      this.#bus.trace.emit("interrupt", this.index, {
        device: "lapic",
        op: "ipi",
        mode: deliveryModeName(mode),
        vector,
        shorthand,
        destination: hex(message.destination),
      });
    }
    const all = this.#bus.lapics.filter((l) => l.enabled);
    switch (shorthand) {
      case SHORTHAND_SELF:
        this.#bus.deliver(message, [this]);
        return;
      case SHORTHAND_ALL:
        this.#bus.deliver(message, all);
        return;
      case SHORTHAND_OTHERS:
        this.#bus.deliver(message, all.filter((l) => l !== this));
        return;
      default:
        this.#bus.send(message);
    }
  }

  // ---- the timer (§11.5.4) -----------------------------------------------------------------

  #timerMode(): number {
    return (this.#lvt.get(APIC_LVT_TIMER)! >> LVT_TIMER_MODE_SHIFT) & 3;
  }

  #writeLvtTimer(v: number): void {
    const old = this.#lvt.get(APIC_LVT_TIMER)!;
    let mode = (v >> LVT_TIMER_MODE_SHIFT) & 3;
    if (mode === 3) {
      // Reserved mode: the mode field keeps its value.
      mode = (old >> LVT_TIMER_MODE_SHIFT) & 3;
      v = (v & ~(3 << LVT_TIMER_MODE_SHIFT)) | (mode << LVT_TIMER_MODE_SHIFT);
    }
    this.#lvt.set(APIC_LVT_TIMER, v);
    if (mode !== ((old >> LVT_TIMER_MODE_SHIFT) & 3)) {
      // §11.5.4.1: a write that changes the timer mode disarms the timer.
      this.#cancelTimer();
      this.#counting = false;
      this.#initialCount = 0;
      this.#deadline = 0n;
      return;
    }
    // Unmasking a periodic timer schedules its next expiry (masked, it is not scheduled).
    if (mode === TIMER_PERIODIC && this.#counting && !(v & LVT_MASKED) && !this.#timerEvent) {
      this.#scheduleExpiry();
    }
  }

  #writeInitialCount(v: number): void {
    if (this.#timerMode() === TIMER_TSC_DEADLINE) return; // ignored in TSC-deadline mode
    this.#cancelTimer();
    this.#initialCount = v;
    this.#counting = v !== 0;
    this.#baseNs = this.#bus.clock.now();
    this.#baseCount = v;
    if (this.#counting) this.#scheduleExpiry();
  }

  #writeDivide(v: number): void {
    if (this.#counting) {
      // The count goes on from where it is, at the new rate.
      const current = this.currentCount();
      this.#cancelTimer();
      this.#counting = current !== 0;
      this.#baseNs = this.#bus.clock.now();
      this.#baseCount = current;
      this.#divide = v;
      if (this.#counting) this.#scheduleExpiry();
    } else {
      this.#divide = v;
    }
  }

  /** Whole timer ticks from `ns` to now. */
  #ticksSince(ns: number): number {
    const elapsed = BigInt(Math.max(0, Math.floor(this.#bus.clock.now() - ns)));
    const per = NS_PER_S * BigInt(timerDivisor(this.#divide));
    return Number((elapsed * BigInt(this.#bus.timerHz)) / per);
  }

  /** The virtual time at which `ticks` ticks after the base have elapsed. */
  #tickTime(ticks: number): number {
    const per = NS_PER_S * BigInt(timerDivisor(this.#divide));
    const hz = BigInt(this.#bus.timerHz);
    return this.#baseNs + Number((BigInt(ticks) * per + hz - 1n) / hz);
  }

  /** Schedules the next time the count reaches zero. */
  #scheduleExpiry(): void {
    const elapsed = this.#ticksSince(this.#baseNs);
    let k = this.#baseCount;
    if (elapsed >= k) {
      if (this.#timerMode() !== TIMER_PERIODIC) return;
      k += (Math.floor((elapsed - k) / this.#initialCount) + 1) * this.#initialCount;
    }
    const at = this.#tickTime(k);
    if (!Number.isSafeInteger(at)) return;
    this.#timerEvent = this.#bus.clock.events.schedule(at, () => {
      this.#timerEvent = undefined;
      this.#timerExpired();
    });
  }

  #timerExpired(): void {
    const lvt = this.#lvt.get(APIC_LVT_TIMER)!;
    if (this.#timerMode() === TIMER_ONE_SHOT) {
      this.#counting = false; // the count stays at zero
    } else if (!(lvt & LVT_MASKED)) {
      this.#scheduleExpiry(); // periodic: the count reloads from the initial count
    }
    this.#localInterrupt(lvt);
  }

  #deadlineExpired(): void {
    this.#deadline = 0n; // each write to IA32_TSC_DEADLINE gives at most one interrupt
    this.#localInterrupt(this.#lvt.get(APIC_LVT_TIMER)!);
  }

  #cancelTimer(): void {
    this.#bus.clock.events.cancel(this.#timerEvent);
    this.#timerEvent = undefined;
  }

  /** A local interrupt source fired through its LVT entry (fixed delivery). */
  #localInterrupt(lvt: number): void {
    if (lvt & LVT_MASKED || !this.enabled) return;
    this.accept(lvt & APIC_VECTOR_MASK, false);
  }
}

// ---- wiring: the MMIO page and the MSRs ------------------------------------------------------

/**
 * The xAPIC page at 0xFEE0_0000: each CPU reaches its own APIC. A write by a bus master
 * (`cpu` = -1) anywhere in the 1 MiB interrupt address range is a message-signalled
 * interrupt instead (§11.11). Map it with {@link LAPIC_REGION_SIZE}.
 */
export class LapicMmio implements Device {
  /** The name used in traces. */
  readonly name = "lapic";
  readonly #bus: ApicBus;

  /** Serves the APICs on `bus`. */
  constructor(bus: ApicBus) {
    this.#bus = bus;
  }

  /** Device read: aligned 32-bit loads of the accessing CPU's APIC. */
  read(offset: number, size: number, cpu: number): bigint | undefined {
    const lapic = this.#bus.lapics[cpu];
    if (offset >= LAPIC_SIZE) return undefined;
    if (!lapic || !this.#decoded(lapic)) return allOnes(size);
    if (size !== 4 || offset & 0xf) return undefined;
    return BigInt(lapic.readRegister(offset) >>> 0);
  }

  /** Device write: aligned 32-bit stores to the accessing CPU's APIC, or an MSI. */
  write(offset: number, size: number, value: bigint, cpu: number): boolean {
    if (cpu < 0) {
      if (size !== 4 || offset & 3) return false;
      this.#bus.msi(LAPIC_BASE + offset, Number(value & 0xffff_ffffn));
      return true;
    }
    const lapic = this.#bus.lapics[cpu];
    if (offset >= LAPIC_SIZE) return false;
    if (!lapic || !this.#decoded(lapic)) return true; // nothing listens: the write is dropped
    if (size !== 4 || offset & 0xf) return false;
    lapic.writeRegister(offset, Number(value & 0xffff_ffffn));
    return true;
  }

  /** Whether the page is the APIC for this CPU (xAPIC mode, enabled, not relocated). */
  #decoded(lapic: LocalApic): boolean {
    return lapic.enabled && !lapic.x2apic && lapic.apicBase - (lapic.apicBase % 0x1000) ===
        LAPIC_BASE;
  }
}

/**
 * The MSRs the local APIC owns, for the CPU's `msrHook`: IA32_APIC_BASE, IA32_TSC_DEADLINE
 * and the x2APIC range. Other MSRs are not the platform's (undefined/false: #GP).
 */
export function lapicMsrHook(bus: ApicBus): MsrHook {
  return {
    rdmsr(cpu, msr) {
      const lapic = bus.lapics[cpu.index];
      if (!lapic) return undefined;
      if (msr === IA32_APIC_BASE) return BigInt(lapic.apicBase);
      if (msr === IA32_TSC_DEADLINE) return lapic.readTscDeadline();
      if (msr >= IA32_X2APIC_FIRST && msr <= IA32_X2APIC_LAST) return lapic.readX2apic(msr);
      return undefined;
    },
    wrmsr(cpu, msr, value) {
      const lapic = bus.lapics[cpu.index];
      if (!lapic) return false;
      if (msr === IA32_APIC_BASE) return lapic.writeApicBase(value);
      if (msr === IA32_TSC_DEADLINE) {
        lapic.writeTscDeadline(value);
        return true;
      }
      if (msr >= IA32_X2APIC_FIRST && msr <= IA32_X2APIC_LAST) {
        return lapic.writeX2apic(msr, value);
      }
      return false;
    },
  };
}

/** Names of the delivery modes, for messages. */
export function deliveryModeName(mode: number): string {
  return ["fixed", "lowest priority", "SMI", "reserved", "NMI", "INIT", "start-up", "ExtINT"][
    mode & 7
  ];
}

// ---- 256-bit registers (IRR, ISR, TMR) as eight 32-bit words ---------------------------------

function setBit(bank: Uint32Array, v: number): void {
  bank[v >> 5] |= 1 << (v & 31);
}

function clearBit(bank: Uint32Array, v: number): void {
  bank[v >> 5] &= ~(1 << (v & 31));
}

function testBit(bank: Uint32Array, v: number): boolean {
  return (bank[v >> 5] & (1 << (v & 31))) !== 0;
}

/** The highest set bit of a 256-bit register, or -1. */
function highestBit(bank: Uint32Array): number {
  for (let w = 7; w >= 0; w--) {
    if (bank[w] !== 0) return w * 32 + 31 - Math.clz32(bank[w]);
  }
  return -1;
}

function allOnes(size: number): bigint {
  return (1n << BigInt(size * 8)) - 1n;
}
