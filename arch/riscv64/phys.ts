/**
 * Physical memory as the RISC-V kernel reaches it: real loads and stores of the running
 * hart, through its MMU. The firmware enters the kernel with satp = 0 (Bare: a virtual
 * address is the physical one), so until the kernel turns Sv48 on, `pa` is used as it is;
 * afterwards every access goes to the direct map at HHDM_BASE + pa, and a wrong direct map
 * faults as it would on hardware.
 *
 * @module
 */

import type { Hart } from "../../emulator/riscv64/hart_api.ts";
import { HHDM_BASE, type PhysMem } from "../../kernel/mm/phys.ts";

/** PhysMem through `hart()` (the hart running the current kernel entry). */
export class HartPhysMem implements PhysMem {
  /** HHDM_BASE once paging is on, 0 before. */
  offset = 0n;
  readonly #hart: () => Hart;

  /** PhysMem through the hart `hart()` returns. */
  constructor(hart: () => Hart) {
    this.#hart = hart;
  }

  /** Switches to the direct map (call right after satp is written). */
  useDirectMap(): void {
    this.offset = HHDM_BASE;
  }

  /** Loads `size` bytes at `pa`. */
  read(pa: number, size: number): bigint {
    return this.#hart().load(this.offset + BigInt(pa), size);
  }

  /** Stores the low `size` bytes of `value` at `pa`. */
  write(pa: number, size: number, value: bigint): void {
    this.#hart().store(this.offset + BigInt(pa), size, value);
  }

  /** Zeroes `length` bytes at `pa`, a doubleword at a time where aligned. */
  zero(pa: number, length: number): void {
    const hart = this.#hart();
    let at = pa;
    const end = pa + length;
    while (at < end && at % 8 !== 0) hart.store(this.offset + BigInt(at++), 1, 0n);
    for (; at + 8 <= end; at += 8) hart.store(this.offset + BigInt(at), 8, 0n);
    while (at < end) hart.store(this.offset + BigInt(at++), 1, 0n);
  }

  /** Copies `length` bytes out, a doubleword at a time where aligned. */
  readBytes(pa: number, length: number): Uint8Array {
    const hart = this.#hart();
    const out = new Uint8Array(length);
    const dv = new DataView(out.buffer);
    let i = 0;
    while (i < length && (pa + i) % 8 !== 0) {
      out[i] = Number(hart.load(this.offset + BigInt(pa + i++), 1));
    }
    for (; i + 8 <= length; i += 8) {
      dv.setBigUint64(i, hart.load(this.offset + BigInt(pa + i), 8), true);
    }
    while (i < length) out[i] = Number(hart.load(this.offset + BigInt(pa + i++), 1));
    return out;
  }

  /** Copies `bytes` in, a doubleword at a time where aligned. */
  writeBytes(pa: number, bytes: Uint8Array): void {
    const hart = this.#hart();
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = bytes.length;
    let i = 0;
    while (i < n && (pa + i) % 8 !== 0) {
      hart.store(this.offset + BigInt(pa + i), 1, BigInt(bytes[i++]));
    }
    for (; i + 8 <= n; i += 8) {
      hart.store(this.offset + BigInt(pa + i), 8, dv.getBigUint64(i, true));
    }
    while (i < n) hart.store(this.offset + BigInt(pa + i), 1, BigInt(bytes[i++]));
  }
}
