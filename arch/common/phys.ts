/**
 * Physical memory as a port reaches it: real loads and stores of the CPU running the
 * current kernel entry, through its MMU, at `offset + pa`. Once the kernel's own tables are
 * on, the offset is HHDM_BASE (the direct map), and a wrong direct map faults as it would on
 * hardware. Each port's phys.ts says which offset applies when (arch/riscv64/phys.ts,
 * arch/x86_64/phys.ts).
 *
 * Copies and fills go a doubleword at a time where aligned, a byte at a time at the ends.
 *
 * @module
 */

import type { PhysMem } from "../../kernel/mm/phys.ts";

/** The two instructions PhysMem needs of a CPU: a load and a store through its MMU. */
export interface LoadStore {
  /** Loads `size` bytes at virtual address `va`, with supervisor permissions. */
  load(va: bigint, size: number): bigint;
  /** Stores the low `size` bytes of `value` at `va`. */
  store(va: bigint, size: number, value: bigint): void;
}

/** PhysMem through `cpu()` (the CPU running the current kernel entry) at `offset + pa`. */
export class MmuPhysMem implements PhysMem {
  /** The virtual address of physical address 0. */
  offset: bigint;
  readonly #cpu: () => LoadStore;

  /** PhysMem through the CPU `cpu()` returns, physical address `pa` at `offset + pa`. */
  constructor(cpu: () => LoadStore, offset: bigint) {
    this.#cpu = cpu;
    this.offset = offset;
  }

  /** Loads `size` bytes at `pa`. */
  read(pa: number, size: number): bigint {
    return this.#cpu().load(this.offset + BigInt(pa), size);
  }

  /** Stores the low `size` bytes of `value` at `pa`. */
  write(pa: number, size: number, value: bigint): void {
    this.#cpu().store(this.offset + BigInt(pa), size, value);
  }

  /** Zeroes `length` bytes at `pa`, a doubleword at a time where aligned. */
  zero(pa: number, length: number): void {
    const cpu = this.#cpu();
    let at = pa;
    const end = pa + length;
    while (at < end && at % 8 !== 0) cpu.store(this.offset + BigInt(at++), 1, 0n);
    for (; at + 8 <= end; at += 8) cpu.store(this.offset + BigInt(at), 8, 0n);
    while (at < end) cpu.store(this.offset + BigInt(at++), 1, 0n);
  }

  /** Copies `length` bytes out, a doubleword at a time where aligned. */
  readBytes(pa: number, length: number): Uint8Array {
    const cpu = this.#cpu();
    const out = new Uint8Array(length);
    const dv = new DataView(out.buffer);
    let i = 0;
    while (i < length && (pa + i) % 8 !== 0) {
      out[i] = Number(cpu.load(this.offset + BigInt(pa + i++), 1));
    }
    for (; i + 8 <= length; i += 8) {
      dv.setBigUint64(i, cpu.load(this.offset + BigInt(pa + i), 8), true);
    }
    while (i < length) out[i] = Number(cpu.load(this.offset + BigInt(pa + i++), 1));
    return out;
  }

  /** Copies `bytes` in, a doubleword at a time where aligned. */
  writeBytes(pa: number, bytes: Uint8Array): void {
    const cpu = this.#cpu();
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = bytes.length;
    let i = 0;
    while (i < n && (pa + i) % 8 !== 0) {
      cpu.store(this.offset + BigInt(pa + i), 1, BigInt(bytes[i++]));
    }
    for (; i + 8 <= n; i += 8) {
      cpu.store(this.offset + BigInt(pa + i), 8, dv.getBigUint64(i, true));
    }
    while (i < n) cpu.store(this.offset + BigInt(pa + i), 1, BigInt(bytes[i++]));
  }
}
