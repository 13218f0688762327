/**
 * The 16550A UART: the serial console of both boards (RISC-V virt at 0x1000_0000, the PC's
 * COM1 at I/O port 0x3F8).
 *
 * Registers and bits follow the National Semiconductor PC16550D datasheet (June 1995),
 * Table II "Summary of Registers"; the names are those of Linux's `serial_reg.h`, which most
 * drivers use. Eight byte-wide registers, selected by address lines A0 to A2 (so the block
 * repeats every 8 bytes), some of them sharing an address:
 *
 * | offset | DLAB=0 read | DLAB=0 write | DLAB=1 |
 * | ------ | ----------- | ------------ | ------ |
 * | 0      | RBR         | THR          | DLL    |
 * | 1      | IER         | IER          | DLM    |
 * | 2      | IIR         | FCR          | (same) |
 * | 3      | LCR         | LCR          |        |
 * | 4      | MCR         | MCR          |        |
 * | 5      | LSR         | (ignored)    |        |
 * | 6      | MSR         | (ignored)    |        |
 * | 7      | SCR         | SCR          |        |
 *
 * ## What is modelled, and the simplifications
 *
 * - **Transmit is instantaneous**, as in QEMU: a byte written to THR goes to the host
 *   callback at once, so LSR.THRE and LSR.TEMT always read 1 and the THR-empty interrupt
 *   is raised again right after each write. (Timing transmission by the baud rate would
 *   make every polling driver spin for thousands of kernel operations per byte.)
 * - **Receive** bytes come from {@link Uart16550.receive}. They wait in a host-side queue
 *   and enter the receiver as soon as it has room (16 bytes with the FIFOs enabled, the
 *   one-byte holding register without), which is how QEMU's character back-ends behave:
 *   host input is never lost. Overrun (LSR.OE) therefore happens only in loopback mode,
 *   where the transmitter feeds the receiver and nothing waits.
 * - **Character timeout** (IIR = 0xC): with the FIFOs on and fewer bytes than the trigger
 *   level, the interrupt is raised after four character times without a new byte or a
 *   read of RBR (datasheet, "FIFO Interrupt Mode Operation"). A character time is computed
 *   from the divisor latch and LCR, at the input clock the board gives. Without a clock
 *   (a bare device in a test) the timeout counts as already expired.
 * - **Modem lines**: outside loopback no modem is attached; CTS, DSR and DCD read high
 *   and RI low (MSR = 0xB0), as QEMU reports. In loopback, they follow MCR.
 * - **Interrupt output**: the line is high while any enabled interrupt is pending. It is
 *   not gated by MCR.OUT2 (as in QEMU; on a PC that gate is board logic).
 * - **Wrong programming** behaves as the chip does: reading RBR with nothing received
 *   returns the last byte received again with LSR.DR = 0; writing THR with DLAB = 1 sets
 *   DLL; writing FCR with bit 0 clear disables the FIFOs and ignores the other bits;
 *   writes to LSR and MSR are ignored (their contents are reserved for factory test).
 * - **Wide accesses**: the chip has eight data lines. A 2-, 4- or 8-byte access reaches
 *   the single register at its address (as QEMU's memory-mapped 16550 with reg-shift 0
 *   does): a read returns it zero-extended, a write uses the low byte.
 *
 * @module
 */

import type { Device } from "../core/bus.ts";
import type { EventQueue, TimerEvent } from "../core/events.ts";
import { type IrqLine, UNCONNECTED } from "../core/irq.ts";

// ---- register offsets (PC16550D Table II) ------------------------------------------------

/** Receiver buffer register (read, DLAB = 0). */
export const UART_RBR = 0;
/** Transmitter holding register (write, DLAB = 0). */
export const UART_THR = 0;
/** Divisor latch, low byte (DLAB = 1). */
export const UART_DLL = 0;
/** Interrupt enable register (DLAB = 0). */
export const UART_IER = 1;
/** Divisor latch, high byte (DLAB = 1). */
export const UART_DLM = 1;
/** Interrupt identification register (read). */
export const UART_IIR = 2;
/** FIFO control register (write). */
export const UART_FCR = 2;
/** Line control register. */
export const UART_LCR = 3;
/** Modem control register. */
export const UART_MCR = 4;
/** Line status register. */
export const UART_LSR = 5;
/** Modem status register. */
export const UART_MSR = 6;
/** Scratch register. */
export const UART_SCR = 7;

// ---- IER ---------------------------------------------------------------------------------

/** ERBFI: enable the received-data-available (and character timeout) interrupt. */
export const UART_IER_RDI = 0x01;
/** ETBEI: enable the transmitter-holding-register-empty interrupt. */
export const UART_IER_THRI = 0x02;
/** ELSI: enable the receiver line status interrupt. */
export const UART_IER_RLSI = 0x04;
/** EDSSI: enable the modem status interrupt. */
export const UART_IER_MSI = 0x08;

// ---- IIR (Table IV, "Interrupt Control Functions") ------------------------------------------

/** Bit 0 set: no interrupt pending. */
export const UART_IIR_NO_INT = 0x01;
/** Priority 4: modem status (a delta bit in MSR). */
export const UART_IIR_MSI = 0x00;
/** Priority 3: transmitter holding register empty. */
export const UART_IIR_THRI = 0x02;
/** Priority 2: received data available (at or above the trigger level). */
export const UART_IIR_RDI = 0x04;
/** Priority 1 (highest): receiver line status (overrun, parity, framing error, break). */
export const UART_IIR_RLSI = 0x06;
/** Priority 2: character timeout (FIFO mode only). */
export const UART_IIR_CTI = 0x0c;
/** Bits 7:6, both set when the FIFOs are enabled. */
export const UART_IIR_FIFO_ENABLED = 0xc0;

// ---- FCR ---------------------------------------------------------------------------------

/** Enable both FIFOs. */
export const UART_FCR_ENABLE_FIFO = 0x01;
/** Clear the receiver FIFO (self-clearing). */
export const UART_FCR_CLEAR_RCVR = 0x02;
/** Clear the transmitter FIFO (self-clearing). */
export const UART_FCR_CLEAR_XMIT = 0x04;
/** Bits 7:6: the receiver trigger level, 1, 4, 8 or 14 bytes. */
export const UART_FCR_TRIGGER_SHIFT = 6;

// ---- LCR ---------------------------------------------------------------------------------

/** Divisor latch access bit. */
export const UART_LCR_DLAB = 0x80;
/** Word length 8 bits (WLS1:0 = 11). */
export const UART_LCR_WLEN8 = 0x03;
/** Two stop bits (1.5 with 5-bit words). */
export const UART_LCR_STOP = 0x04;
/** Parity enable. */
export const UART_LCR_PARITY = 0x08;

// ---- MCR ---------------------------------------------------------------------------------

/** Data terminal ready. */
export const UART_MCR_DTR = 0x01;
/** Request to send. */
export const UART_MCR_RTS = 0x02;
/** Output 1. */
export const UART_MCR_OUT1 = 0x04;
/** Output 2. */
export const UART_MCR_OUT2 = 0x08;
/** Local loopback: the transmitter feeds the receiver. */
export const UART_MCR_LOOP = 0x10;

// ---- LSR ---------------------------------------------------------------------------------

/** Data ready: at least one byte in RBR or the receiver FIFO. */
export const UART_LSR_DR = 0x01;
/** Overrun error. */
export const UART_LSR_OE = 0x02;
/** Parity error. */
export const UART_LSR_PE = 0x04;
/** Framing error. */
export const UART_LSR_FE = 0x08;
/** Break interrupt. */
export const UART_LSR_BI = 0x10;
/** Transmitter holding register (or FIFO) empty. */
export const UART_LSR_THRE = 0x20;
/** Transmitter empty: holding register and shift register both empty. */
export const UART_LSR_TEMT = 0x40;

// ---- MSR ---------------------------------------------------------------------------------

/** Delta clear-to-send. */
export const UART_MSR_DCTS = 0x01;
/** Delta data-set-ready. */
export const UART_MSR_DDSR = 0x02;
/** Trailing edge ring indicator. */
export const UART_MSR_TERI = 0x04;
/** Delta data-carrier-detect. */
export const UART_MSR_DDCD = 0x08;
/** Clear to send. */
export const UART_MSR_CTS = 0x10;
/** Data set ready. */
export const UART_MSR_DSR = 0x20;
/** Ring indicator. */
export const UART_MSR_RI = 0x40;
/** Data carrier detect. */
export const UART_MSR_DCD = 0x80;

/** Depth of each FIFO. */
export const UART_FIFO_DEPTH = 16;

/** The modem inputs when no modem is attached (CTS, DSR and DCD asserted, as QEMU). */
const MSR_NO_MODEM = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;

/** Receiver trigger levels selected by FCR bits 7:6. */
const TRIGGER_LEVELS = [1, 4, 8, 14];

/** What the UART needs to time the character timeout: the machine satisfies it. */
export interface UartClock {
  /** Virtual time now, in ns. */
  now(): number;
  /** Where to schedule the timeout. */
  readonly events: EventQueue;
}

/** How to build a UART. */
export interface Uart16550Options {
  /** A name for traces and messages (default `uart0`). */
  name?: string;
  /** Receives every byte transmitted (the host prints it or captures it). */
  transmit?: (byte: number) => void;
  /** The interrupt output (default: unconnected). */
  irq?: IrqLine;
  /** Virtual time, for the character timeout (default: none; see the module comment). */
  clock?: UartClock;
  /** The input clock in Hz that the divisor divides (default 3 686 400, as on QEMU virt). */
  clockHz?: number;
}

/** The registers as they are, read without side effects (for graders and traces). */
export interface UartRegisters {
  /** Interrupt enable. */
  ier: number;
  /** What a read of IIR would return now. */
  iir: number;
  /** Last value written to FCR that took effect. */
  fcr: number;
  /** Line control. */
  lcr: number;
  /** Modem control. */
  mcr: number;
  /** What a read of LSR would return now. */
  lsr: number;
  /** What a read of MSR would return now. */
  msr: number;
  /** Scratch. */
  scr: number;
  /** The divisor latch (DLM:DLL). */
  divisor: number;
  /** Bytes in the receiver (FIFO or holding register). */
  rxCount: number;
}

/** A 16550A UART. See the module comment for what it models. */
export class Uart16550 implements Device {
  /** The name used in traces and messages. */
  readonly name: string;
  /** The interrupt output. */
  irq: IrqLine;
  /** Called with every byte transmitted. */
  transmit: (byte: number) => void;

  readonly #clock: UartClock | undefined;
  readonly #clockHz: number;

  #ier = 0;
  #fcr = 0;
  #lcr = 0;
  #mcr = 0;
  #scr = 0;
  #divisor = 0;
  /** LSR error bits (OE, PE, FE, BI); cleared by reading LSR. */
  #lsrErrors = 0;
  /** MSR: the four input lines (bits 7:4) and the four delta bits (3:0). */
  #msr = MSR_NO_MODEM;
  /** The receiver: the FIFO, or the holding register when the FIFOs are off (capacity 1). */
  #rx: number[] = [];
  /** What RBR returns when the receiver is empty: the last byte received. */
  #lastRbr = 0;
  /** The THR-empty interrupt is pending (until IIR reports it or THR is written). */
  #thrPending = false;
  /** The character timeout has expired. */
  #timeoutPending = false;
  #timeoutEvent: TimerEvent | undefined;
  /** Host input not yet accepted by the receiver. */
  #input: number[] = [];
  #inputHead = 0;
  #irqLevel = false;

  /** Builds a UART in its reset state. */
  constructor(options: Uart16550Options = {}) {
    this.name = options.name ?? "uart0";
    this.transmit = options.transmit ?? (() => {});
    this.irq = options.irq ?? UNCONNECTED;
    this.#clock = options.clock;
    this.#clockHz = options.clockHz ?? 3_686_400;
  }

  /** Master reset (the MR pin): every register to its reset value; host input is kept. */
  reset(): void {
    this.#ier =
      this.#fcr =
      this.#lcr =
      this.#mcr =
      this.#lsrErrors =
        0;
    this.#msr = MSR_NO_MODEM;
    this.#rx = [];
    this.#thrPending = false;
    this.#cancelTimeout();
    this.#pump();
    this.#update();
  }

  /** Queues bytes from the host (stdin, a script); they enter the receiver as it has room. */
  receive(bytes: Uint8Array | readonly number[] | string): void {
    const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
    for (const b of data) this.#input.push(b & 0xff);
    this.#pump();
    this.#update();
  }

  /** How many host bytes wait for room in the receiver. */
  get pendingInput(): number {
    return this.#input.length - this.#inputHead;
  }

  /** The registers, read without side effects. */
  peek(): UartRegisters {
    return {
      ier: this.#ier,
      iir: this.#iir(),
      fcr: this.#fcr,
      lcr: this.#lcr,
      mcr: this.#mcr,
      lsr: this.#lsr(),
      msr: this.#msr,
      scr: this.#scr,
      divisor: this.#divisor,
      rxCount: this.#rx.length,
    };
  }

  /** Nanoseconds one character takes on the line with the current divisor and LCR. */
  characterTimeNs(): number {
    const divisor = this.#divisor || 1; // a zero divisor is not a baud rate: count it as 1
    const baud = this.#clockHz / (16 * divisor);
    const dataBits = 5 + (this.#lcr & 3);
    const stopBits = this.#lcr & UART_LCR_STOP ? (dataBits === 5 ? 1.5 : 2) : 1;
    const parity = this.#lcr & UART_LCR_PARITY ? 1 : 0;
    return ((1 + dataBits + parity + stopBits) * 1e9) / baud;
  }

  /** Device read: one register, zero-extended whatever the access size. */
  read(offset: number, _size: number, _cpu: number): bigint {
    return BigInt(this.#readRegister(offset & 7));
  }

  /** Device write: the low byte goes to one register whatever the access size. */
  write(offset: number, _size: number, value: bigint, _cpu: number): boolean {
    this.#writeRegister(offset & 7, Number(value & 0xffn));
    return true;
  }

  #dlab(): boolean {
    return (this.#lcr & UART_LCR_DLAB) !== 0;
  }

  #fifoEnabled(): boolean {
    return (this.#fcr & UART_FCR_ENABLE_FIFO) !== 0;
  }

  #loopback(): boolean {
    return (this.#mcr & UART_MCR_LOOP) !== 0;
  }

  #readRegister(reg: number): number {
    switch (reg) {
      case UART_RBR:
        return this.#dlab() ? this.#divisor & 0xff : this.#readRbr();
      case UART_IER:
        return this.#dlab() ? this.#divisor >> 8 : this.#ier;
      case UART_IIR:
        return this.#readIir();
      case UART_LCR:
        return this.#lcr;
      case UART_MCR:
        return this.#mcr;
      case UART_LSR: {
        const lsr = this.#lsr();
        this.#lsrErrors = 0; // reading LSR clears OE, PE, FE and BI
        this.#update();
        return lsr;
      }
      case UART_MSR: {
        const msr = this.#msr;
        this.#msr &= 0xf0; // reading MSR clears the delta bits
        this.#update();
        return msr;
      }
      default:
        return this.#scr;
    }
  }

  #writeRegister(reg: number, v: number): void {
    switch (reg) {
      case UART_THR:
        if (this.#dlab()) this.#divisor = (this.#divisor & 0xff00) | v;
        else this.#writeThr(v);
        break;
      case UART_IER:
        if (this.#dlab()) this.#divisor = (this.#divisor & 0xff) | (v << 8);
        else this.#writeIer(v);
        break;
      case UART_FCR:
        this.#writeFcr(v);
        break;
      case UART_LCR:
        this.#lcr = v;
        break;
      case UART_MCR:
        this.#writeMcr(v & 0x1f);
        break;
      case UART_SCR:
        this.#scr = v;
        break;
      default:
        break; // LSR and MSR: writes are for factory test only
    }
    this.#update();
  }

  #readRbr(): number {
    if (this.#rx.length > 0) this.#lastRbr = this.#rx.shift()!;
    // Reading the FIFO clears an expired timeout and restarts the timer.
    this.#timeoutPending = false;
    this.#pump();
    this.#armTimeout();
    this.#update();
    return this.#lastRbr;
  }

  #readIir(): number {
    const iir = this.#iir();
    // Reading IIR while it reports THR empty clears that interrupt (Table IV).
    if ((iir & 0x0f) === UART_IIR_THRI) {
      this.#thrPending = false;
      this.#update();
    }
    return iir;
  }

  #writeThr(byte: number): void {
    this.#thrPending = false;
    if (this.#loopback()) this.#deliver(byte);
    else this.transmit(byte);
    // The byte left at once, so the holding register is empty again.
    this.#thrPending = true;
  }

  #writeIer(v: number): void {
    const enablingThri = (v & UART_IER_THRI) !== 0 && (this.#ier & UART_IER_THRI) === 0;
    this.#ier = v & 0x0f;
    // Enabling ETBEI while THR is empty raises the interrupt at once.
    if (enablingThri) this.#thrPending = true;
  }

  #writeFcr(v: number): void {
    const enable = (v & UART_FCR_ENABLE_FIFO) !== 0;
    if (enable !== this.#fifoEnabled()) this.#clearRx(); // toggling FCR0 empties both FIFOs
    if (!enable) {
      this.#fcr = 0; // with FCR0 clear, the other bits are not programmed
    } else {
      if (v & UART_FCR_CLEAR_RCVR) this.#clearRx();
      this.#fcr = v & 0xc9; // bits 1 and 2 clear themselves; 5:4 are reserved
    }
    this.#pump();
    this.#armTimeout();
  }

  #writeMcr(v: number): void {
    const wasLoop = this.#loopback();
    this.#mcr = v;
    let inputs = MSR_NO_MODEM;
    if (this.#loopback()) {
      // Loopback wires RTS to CTS, DTR to DSR, OUT1 to RI and OUT2 to DCD.
      inputs = (v & UART_MCR_RTS ? UART_MSR_CTS : 0) | (v & UART_MCR_DTR ? UART_MSR_DSR : 0) |
        (v & UART_MCR_OUT1 ? UART_MSR_RI : 0) | (v & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
    }
    this.#setModemInputs(inputs);
    if (wasLoop && !this.#loopback()) this.#pump();
  }

  #setModemInputs(inputs: number): void {
    const old = this.#msr & 0xf0;
    const changed = old ^ inputs;
    let deltas = this.#msr & 0x0f;
    if (changed & UART_MSR_CTS) deltas |= UART_MSR_DCTS;
    if (changed & UART_MSR_DSR) deltas |= UART_MSR_DDSR;
    if (changed & UART_MSR_DCD) deltas |= UART_MSR_DDCD;
    if (old & UART_MSR_RI && !(inputs & UART_MSR_RI)) deltas |= UART_MSR_TERI; // trailing edge
    this.#msr = inputs | deltas;
  }

  /** The receiver's capacity: the FIFO, or the single holding register. */
  #rxCapacity(): number {
    return this.#fifoEnabled() ? UART_FIFO_DEPTH : 1;
  }

  /** A byte finishes arriving at the receiver (from the line, or the loopback). */
  #deliver(byte: number): void {
    if (this.#rx.length < this.#rxCapacity()) {
      this.#rx.push(byte);
    } else {
      // Overrun: the FIFO keeps its bytes and the new one is lost; without FIFOs the new
      // byte overwrites the unread one.
      this.#lsrErrors |= UART_LSR_OE;
      if (!this.#fifoEnabled()) this.#rx[0] = byte;
    }
    this.#timeoutPending = false;
    this.#armTimeout();
  }

  /** Moves waiting host input into the receiver while it has room. */
  #pump(): void {
    if (this.#loopback()) return; // the serial input is disconnected in loopback
    while (this.#inputHead < this.#input.length && this.#rx.length < this.#rxCapacity()) {
      this.#deliver(this.#input[this.#inputHead++]);
    }
    if (this.#inputHead === this.#input.length) {
      this.#input = [];
      this.#inputHead = 0;
    }
  }

  #clearRx(): void {
    this.#rx = [];
    this.#timeoutPending = false;
    this.#cancelTimeout();
  }

  /** (Re)starts the four-character timeout when the FIFO holds data below the trigger. */
  #armTimeout(): void {
    this.#cancelTimeout();
    if (!this.#fifoEnabled() || this.#rx.length === 0) return;
    if (!this.#clock) {
      this.#timeoutPending = true;
      return;
    }
    const at = this.#clock.now() + 4 * this.characterTimeNs();
    this.#timeoutEvent = this.#clock.events.schedule(at, () => {
      this.#timeoutEvent = undefined;
      if (this.#fifoEnabled() && this.#rx.length > 0) {
        this.#timeoutPending = true;
        this.#update();
      }
    });
  }

  #cancelTimeout(): void {
    this.#clock?.events.cancel(this.#timeoutEvent);
    this.#timeoutEvent = undefined;
  }

  #lsr(): number {
    return (this.#rx.length > 0 ? UART_LSR_DR : 0) | this.#lsrErrors | UART_LSR_THRE |
      UART_LSR_TEMT;
  }

  /** The highest-priority pending enabled interrupt, as IIR encodes it (Table IV). */
  #iir(): number {
    const fifoBits = this.#fifoEnabled() ? UART_IIR_FIFO_ENABLED : 0;
    const ier = this.#ier;
    let id = UART_IIR_NO_INT;
    if (ier & UART_IER_RLSI && this.#lsrErrors) id = UART_IIR_RLSI;
    else if (ier & UART_IER_RDI && this.#rx.length >= this.#rxTrigger()) id = UART_IIR_RDI;
    else if (ier & UART_IER_RDI && this.#timeoutPending && this.#rx.length > 0) {
      id = UART_IIR_CTI;
    } else if (ier & UART_IER_THRI && this.#thrPending) id = UART_IIR_THRI;
    else if (ier & UART_IER_MSI && this.#msr & 0x0f) id = UART_IIR_MSI;
    return fifoBits | id;
  }

  #rxTrigger(): number {
    return this.#fifoEnabled() ? TRIGGER_LEVELS[this.#fcr >> UART_FCR_TRIGGER_SHIFT] : 1;
  }

  /** Drives the interrupt output from the pending interrupts. */
  #update(): void {
    const level = (this.#iir() & UART_IIR_NO_INT) === 0;
    if (level !== this.#irqLevel) {
      this.#irqLevel = level;
      this.irq.set(level);
    }
  }
}
