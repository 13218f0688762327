/**
 * PhysMem over a plain buffer: physical memory for unit tests and lesson graders that build
 * one component alone, without a machine. The kernel itself reaches RAM through the arch
 * port's PhysMem (real loads and stores through the MMU).
 *
 * An access outside [base, base + size) throws a RangeError that names the address, as a
 * bus error would stop a real kernel.
 *
 * @module
 */

import type { PhysMem } from "./phys.ts";

/** `size` bytes of zeroed memory at physical address `base`. */
export class BufferPhysMem implements PhysMem {
  /** The bytes. */
  readonly bytes: Uint8Array;
  readonly #dv: DataView;
  /** Accesses made (reads and writes of any size), for tests that count them. */
  accesses = 0;

  /** Allocates the buffer. */
  constructor(readonly base: number, readonly size: number) {
    this.bytes = new Uint8Array(size);
    this.#dv = new DataView(this.bytes.buffer);
  }

  #offset(pa: number, length: number): number {
    const off = pa - this.base;
    if (!(off >= 0 && off + length <= this.size && Number.isInteger(off))) {
      throw new RangeError(
        `physical access at 0x${pa.toString(16)} (${length} bytes) is outside RAM ` +
          `0x${this.base.toString(16)}..0x${(this.base + this.size).toString(16)}`,
      );
    }
    this.accesses++;
    return off;
  }

  /** Loads `size` bytes at `pa`, zero-extended. */
  read(pa: number, size: number): bigint {
    const off = this.#offset(pa, size);
    switch (size) {
      case 1:
        return BigInt(this.bytes[off]);
      case 2:
        return BigInt(this.#dv.getUint16(off, true));
      case 4:
        return BigInt(this.#dv.getUint32(off, true));
      case 8:
        return this.#dv.getBigUint64(off, true);
    }
    throw new RangeError(`access size ${size} is not 1, 2, 4 or 8`);
  }

  /** Stores the low `size` bytes of `value` at `pa`. */
  write(pa: number, size: number, value: bigint): void {
    const off = this.#offset(pa, size);
    switch (size) {
      case 1:
        this.bytes[off] = Number(value & 0xffn);
        return;
      case 2:
        this.#dv.setUint16(off, Number(value & 0xffffn), true);
        return;
      case 4:
        this.#dv.setUint32(off, Number(value & 0xffff_ffffn), true);
        return;
      case 8:
        this.#dv.setBigUint64(off, BigInt.asUintN(64, value), true);
        return;
    }
    throw new RangeError(`access size ${size} is not 1, 2, 4 or 8`);
  }

  /** Zeroes `length` bytes at `pa`. */
  zero(pa: number, length: number): void {
    const off = this.#offset(pa, length);
    this.bytes.fill(0, off, off + length);
  }

  /** Copies `length` bytes out. */
  readBytes(pa: number, length: number): Uint8Array {
    const off = this.#offset(pa, length);
    return this.bytes.slice(off, off + length);
  }

  /** Copies `bytes` in. */
  writeBytes(pa: number, bytes: Uint8Array): void {
    const off = this.#offset(pa, bytes.length);
    this.bytes.set(bytes, off);
  }
}
