/**
 * The reference console driver: a polled 16550 UART (lesson 01). It programs the line the
 * way Linux's 8250 driver and anos's serial driver do, then sends bytes by polling the
 * transmitter-empty bit, as an early console must (interrupts are not set up yet).
 *
 * Register and bit names are the PC16550D datasheet's (Table II), spelt as in Linux's
 * `serial_reg.h`. The driver defines its own constants, as a real driver's header does.
 *
 * @module
 */

import type { SerialConsole, UartRegisters } from "../components.ts";

/** Receiver buffer (read) and transmitter holding register (write); DLL with DLAB = 1. */
export const UART_RBR = 0;
/** Transmitter holding register. */
export const UART_THR = 0;
/** Divisor latch, low byte (DLAB = 1). */
export const UART_DLL = 0;
/** Interrupt enable register; DLM with DLAB = 1. */
export const UART_IER = 1;
/** Divisor latch, high byte (DLAB = 1). */
export const UART_DLM = 1;
/** FIFO control register (write). */
export const UART_FCR = 2;
/** Line control register. */
export const UART_LCR = 3;
/** Modem control register. */
export const UART_MCR = 4;
/** Line status register. */
export const UART_LSR = 5;

/** IER: received data available interrupt. */
export const UART_IER_RDI = 0x01;
/** FCR: enable the FIFOs; clear the receive FIFO; clear the transmit FIFO. */
export const UART_FCR_ENABLE_FIFO = 0x01;
/** See {@link UART_FCR_ENABLE_FIFO}. */
export const UART_FCR_CLEAR_RCVR = 0x02;
/** See {@link UART_FCR_ENABLE_FIFO}. */
export const UART_FCR_CLEAR_XMIT = 0x04;
/** LCR: divisor latch access bit. */
export const UART_LCR_DLAB = 0x80;
/** LCR: 8 data bits (WLS = 11), 1 stop bit, no parity. */
export const UART_LCR_WLEN8 = 0x03;
/** MCR: DTR, RTS, and OUT2 (which gates the interrupt line on a PC). */
export const UART_MCR_DTR = 0x01;
/** See {@link UART_MCR_DTR}. */
export const UART_MCR_RTS = 0x02;
/** See {@link UART_MCR_DTR}. */
export const UART_MCR_OUT2 = 0x08;
/** LSR: data ready. */
export const UART_LSR_DR = 0x01;
/** LSR: transmitter holding register empty. */
export const UART_LSR_THRE = 0x20;

/**
 * How many times `putByte` polls LSR before it gives up: a UART that never becomes ready is
 * broken (or absent), and a kernel that waits forever for it hangs without a word.
 */
export const UART_POLL_LIMIT = 100_000;

/** Builds the driver for the UART at `regs`, clocked at `clockHz`. */
export function createUartConsole(regs: UartRegisters, clockHz: number): SerialConsole {
  return {
    init(baud: number): void {
      const divisor = Math.round(clockHz / (16 * baud));
      if (!(divisor >= 1 && divisor <= 0xffff)) {
        throw new RangeError(
          `${baud} baud cannot be reached from a ${clockHz} Hz UART clock (divisor ${divisor})`,
        );
      }
      regs.write(UART_IER, 0); // no interrupts while we program it
      regs.write(UART_LCR, UART_LCR_DLAB);
      regs.write(UART_DLL, divisor & 0xff);
      regs.write(UART_DLM, divisor >> 8);
      regs.write(UART_LCR, UART_LCR_WLEN8); // 8N1, DLAB off
      regs.write(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
      regs.write(UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
    },

    putByte(byte: number): void {
      for (let i = 0; i < UART_POLL_LIMIT; i++) {
        if (regs.read(UART_LSR) & UART_LSR_THRE) {
          regs.write(UART_THR, byte & 0xff);
          return;
        }
      }
      throw new Error(
        `the UART's transmitter never became ready: LSR.THRE stayed 0 for ${UART_POLL_LIMIT} ` +
          `polls (LSR = 0x${regs.read(UART_LSR).toString(16)})`,
      );
    },

    getByte(): number | undefined {
      return regs.read(UART_LSR) & UART_LSR_DR ? regs.read(UART_RBR) : undefined;
    },

    enableReceiveInterrupt(on: boolean): void {
      const ier = regs.read(UART_IER);
      regs.write(UART_IER, on ? ier | UART_IER_RDI : ier & ~UART_IER_RDI);
    },
  };
}
