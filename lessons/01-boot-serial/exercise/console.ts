// deno-lint-ignore-file no-unused-vars -- the starter's parameters are yours to use
/**
 * Lesson 01, part 2: your driver for the 16550 UART, the console of both boards.
 *
 * The chapter (../README.md) walks you through it step by step. Grade it with
 * `deno task lesson 01`.
 *
 * @module
 */

import type { SerialConsole, UartRegisters } from "../../../kernel/components.ts";

/** Builds the console driver over the UART at `regs`, whose input clock is `clockHz`. */
export function createConsole(regs: UartRegisters, clockHz: number): SerialConsole {
  return {
    init(baud: number): void {
      throw new Error("not implemented yet: see README.md#step-3-programming-the-line");
    },

    putByte(byte: number): void {
      throw new Error("not implemented yet: see README.md#step-4-sending-a-byte");
    },

    getByte(): number | undefined {
      throw new Error("not implemented yet: see README.md#step-5-receiving-a-byte");
    },

    enableReceiveInterrupt(on: boolean): void {
      throw new Error("not implemented yet: see README.md#step-6-the-receive-interrupt");
    },
  };
}
