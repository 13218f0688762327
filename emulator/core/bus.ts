/**
 * The physical address space: RAM windows and device regions.
 *
 * Every physical access a CPU or a DMA engine makes lands here. An address that hits
 * neither RAM nor a device is not a JavaScript exception: `read` returns `undefined` and
 * `write` returns `false`, and the CPU turns that into its architecture's access fault
 * (RISC-V load/store access fault, x86 #GP or machine-check as the board decides).
 *
 * The same class serves x86 port I/O: a second `Bus` whose "addresses" are port numbers.
 *
 * @module
 */

import { hex, Ram } from "./memory.ts";
import type { Trace } from "./trace.ts";

/**
 * A device register block. Offsets are relative to the start of the region the device
 * was mapped at; `size` is 1, 2, 4 or 8 bytes; `cpu` is the index of the CPU making the
 * access (-1 for DMA and firmware), which per-CPU devices such as the local APIC need.
 */
export interface Device {
  /** A short name for traces and error messages, e.g. `uart0`. */
  readonly name: string;
  /** Returns the register's value (zero-extended), or undefined to signal an access fault. */
  read(offset: number, size: number, cpu: number): bigint | undefined;
  /** Writes the low `size` bytes of `value`; returns false to signal an access fault. */
  write(offset: number, size: number, value: bigint, cpu: number): boolean;
}

/** A contiguous piece of RAM visible at a physical address. */
export interface RamWindow {
  /** First physical address. */
  readonly base: number;
  /** Length in bytes. */
  readonly size: number;
  /** Offset of the window's first byte in the RAM buffer. */
  readonly offset: number;
}

/** A device mapped into the address space. */
export interface Region {
  /** First address. */
  readonly base: number;
  /** Length in bytes. */
  readonly size: number;
  /** The device that answers. */
  readonly device: Device;
}

/** A physical address space (or an I/O port space). */
export class Bus {
  /** The machine's RAM, or undefined for a space without RAM (port I/O). */
  readonly ram: Ram | undefined;
  /** Where RAM is visible. The first window is the CPUs' fast path. */
  readonly windows: RamWindow[] = [];
  /** Device regions, sorted by base address. */
  readonly regions: Region[] = [];
  /** Trace sink for device accesses (the `mmio` category). */
  trace: Trace | undefined;
  /** A name for messages: "physical memory" or "I/O port space". */
  readonly spaceName: string;

  /** Creates an address space over `ram` (omit it for a port space). */
  constructor(ram?: Ram, spaceName = "physical memory") {
    this.ram = ram;
    this.spaceName = spaceName;
  }

  /** Makes `size` bytes of RAM, starting at buffer offset `offset`, visible at `base`. */
  addRam(base: number, size: number, offset = 0): void {
    if (!this.ram || offset + size > this.ram.size) {
      throw new RangeError(`RAM window ${hex(base)}+${hex(size)} lies outside the RAM buffer`);
    }
    this.#checkFree(base, size, "RAM");
    this.windows.push({ base, size, offset });
    this.windows.sort((a, b) => a.base - b.base);
  }

  /** Maps `device` at [base, base + size). Overlapping another region is a board bug. */
  map(base: number, size: number, device: Device): void {
    this.#checkFree(base, size, device.name);
    this.regions.push({ base, size, device });
    this.regions.sort((a, b) => a.base - b.base);
  }

  #checkFree(base: number, size: number, what: string): void {
    for (const w of [...this.windows, ...this.regions]) {
      if (base < w.base + w.size && w.base < base + size) {
        throw new RangeError(
          `${what} at ${hex(base)}+${hex(size)} overlaps something already mapped at ${
            hex(w.base)
          }`,
        );
      }
    }
  }

  /** The RAM buffer offset of physical address `pa` when [pa, pa+len) is RAM, else -1. */
  ramOffset(pa: number, len = 1): number {
    for (const w of this.windows) {
      if (pa >= w.base && pa + len <= w.base + w.size) return pa - w.base + w.offset;
    }
    return -1;
  }

  /** The device region containing `pa`, if any. */
  regionAt(pa: number): Region | undefined {
    // Few regions per board: a linear scan is simpler than a tree and fast enough.
    for (const r of this.regions) {
      if (pa >= r.base && pa < r.base + r.size) return r;
    }
    return undefined;
  }

  /** Reads `size` bytes at `pa`, zero-extended; undefined when nothing answers there. */
  read(pa: number, size: number, cpu = -1): bigint | undefined {
    const off = this.ramOffset(pa, size);
    if (off >= 0) return readRam(this.ram!, off, size);
    const r = this.regionAt(pa);
    if (!r || pa + size > r.base + r.size) return undefined;
    const v = r.device.read(pa - r.base, size, cpu);
    if (this.trace?.mmio) {
      this.trace.emit("mmio", cpu, {
        op: "read",
        device: r.device.name,
        addr: hex(pa),
        size,
        value: v === undefined ? "fault" : hex(v),
      });
    }
    return v;
  }

  /** Writes the low `size` bytes of `value` at `pa`; false when nothing answers there. */
  write(pa: number, size: number, value: bigint, cpu = -1): boolean {
    const off = this.ramOffset(pa, size);
    if (off >= 0) {
      writeRam(this.ram!, off, size, value);
      return true;
    }
    const r = this.regionAt(pa);
    if (!r || pa + size > r.base + r.size) return false;
    const ok = r.device.write(pa - r.base, size, BigInt.asUintN(size * 8, value), cpu);
    if (this.trace?.mmio) {
      this.trace.emit("mmio", cpu, {
        op: "write",
        device: r.device.name,
        addr: hex(pa),
        size,
        value: ok ? hex(BigInt.asUintN(size * 8, value)) : "fault",
      });
    }
    return ok;
  }

  /** Copies `len` bytes of RAM at `pa` out; undefined when the range is not all RAM (DMA). */
  readBytes(pa: number, len: number): Uint8Array | undefined {
    const off = this.ramOffset(pa, len);
    return off < 0 ? undefined : this.ram!.u8.slice(off, off + len);
  }

  /** Copies `bytes` into RAM at `pa`; false when the range is not all RAM (DMA). */
  writeBytes(pa: number, bytes: Uint8Array): boolean {
    const off = this.ramOffset(pa, bytes.length);
    if (off < 0) return false;
    this.ram!.u8.set(bytes, off);
    return true;
  }

  /** Describes what lives at `pa`, for error messages: "RAM", "uart0+0x5" or "nothing". */
  describe(pa: number): string {
    if (this.ramOffset(pa) >= 0) return "RAM";
    const r = this.regionAt(pa);
    return r
      ? `${r.device.name}+${hex(pa - r.base)}`
      : `nothing (no RAM or device in ${this.spaceName})`;
  }
}

/** Reads `size` bytes of RAM at buffer offset `off`, zero-extended. */
export function readRam(ram: Ram, off: number, size: number): bigint {
  switch (size) {
    case 1:
      return BigInt(ram.u8[off]);
    case 2:
      return BigInt(ram.dv.getUint16(off, true));
    case 4:
      return BigInt(ram.dv.getUint32(off, true));
    default:
      return ram.dv.getBigUint64(off, true);
  }
}

/** Writes the low `size` bytes of `value` to RAM at buffer offset `off`. */
export function writeRam(ram: Ram, off: number, size: number, value: bigint): void {
  switch (size) {
    case 1:
      ram.u8[off] = Number(value & 0xffn);
      break;
    case 2:
      ram.dv.setUint16(off, Number(value & 0xffffn), true);
      break;
    case 4:
      ram.dv.setUint32(off, Number(value & 0xffff_ffffn), true);
      break;
    default:
      ram.dv.setBigUint64(off, BigInt.asUintN(64, value), true);
  }
}
