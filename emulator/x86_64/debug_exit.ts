/**
 * Power-off for tests and the course's harness: a debug-exit port in the style of QEMU's
 * `isa-debug-exit` device.
 *
 * The port block sits at I/O port {@link DEBUG_EXIT_PORT} (0xF4), 4 ports wide, the
 * configuration most hobby kernels use with QEMU (`-device isa-debug-exit,iobase=0xf4,
 * iosize=0x04`). A write of any width of value `v` powers the machine off with exit status
 * `(v << 1) | 1`, exactly as QEMU computes it, so the status is always odd: a harness that
 * wants "success" agrees with the kernel on some value (writing 0x10 exits with 33). A host
 * that turns the status into a process exit code keeps its low 8 bits, as an operating
 * system would. Reads return 0 (the device has no readable register).
 *
 * There is no ACPI power-off on this board: the tables have no FADT (see acpi.ts).
 *
 * @module
 */

import type { Device } from "../core/bus.ts";
import { hex } from "../core/memory.ts";

/** The first I/O port of the debug-exit device. */
export const DEBUG_EXIT_PORT = 0xf4;
/** How many ports it decodes. */
export const DEBUG_EXIT_SIZE = 4;

/** The exit status a write of `value` produces: (value << 1) | 1, as QEMU's. */
export function debugExitStatus(value: number): number {
  return value * 2 + 1;
}

/** What the device needs of the machine. */
export interface PowerControl {
  /** Powers the machine off with an exit status (Machine.powerOff). */
  powerOff(code: number, message?: string): void;
}

/** The debug-exit device, for the I/O port bus. */
export class DebugExit implements Device {
  /** The name used in traces. */
  readonly name = "debug-exit";
  readonly #machine: PowerControl;

  /** Powers `machine` off when written. */
  constructor(machine: PowerControl) {
    this.#machine = machine;
  }

  /** Reads return 0. */
  read(_offset: number, _size: number, _cpu: number): bigint {
    return 0n;
  }

  /** A write powers the machine off with status (value << 1) | 1. */
  write(offset: number, size: number, value: bigint, cpu: number): boolean {
    const v = Number(BigInt.asUintN(size * 8, value));
    const status = debugExitStatus(v);
    this.#machine.powerOff(
      status,
      `${cpu >= 0 ? `cpu${cpu}` : "a bus master"} wrote ${hex(v)} to the debug-exit port ` +
        `${hex(DEBUG_EXIT_PORT + offset)}: exit status ${status} ((value << 1) | 1)`,
    );
    return true;
  }
}
