/**
 * Physical memory as the x86-64 kernel reaches it: real loads and stores of the running CPU,
 * through its MMU, at the higher-half direct map. The firmware (Limine's protocol) enters
 * the kernel with paging on and every byte of RAM mapped at HHDM_BASE + pa, and the kernel's
 * own tables keep that map, so unlike RISC-V (which starts with satp = 0) there is no
 * "before paging" mode: every access is `HHDM_BASE + pa`, and a wrong direct map faults as
 * it would on hardware.
 *
 * @module
 */

import type { X86Cpu } from "../../emulator/x86_64/cpu_api.ts";
import { HHDM_BASE, type PhysMem } from "../../kernel/mm/phys.ts";

/** PhysMem through `cpu()` (the CPU running the current kernel entry). */
export class CpuPhysMem implements PhysMem {
  readonly #cpu: () => X86Cpu;

  /** PhysMem through the CPU `cpu()` returns. */
  constructor(cpu: () => X86Cpu) {
    this.#cpu = cpu;
  }

  /** Loads `size` bytes at `pa`. */
  read(pa: number, size: number): bigint {
    return this.#cpu().load(HHDM_BASE + BigInt(pa), size);
  }

  /** Stores the low `size` bytes of `value` at `pa`. */
  write(pa: number, size: number, value: bigint): void {
    this.#cpu().store(HHDM_BASE + BigInt(pa), size, value);
  }

  /** Zeroes `length` bytes at `pa`, a quadword at a time where aligned. */
  zero(pa: number, length: number): void {
    const cpu = this.#cpu();
    let at = pa;
    const end = pa + length;
    while (at < end && at % 8 !== 0) cpu.store(HHDM_BASE + BigInt(at++), 1, 0n);
    for (; at + 8 <= end; at += 8) cpu.store(HHDM_BASE + BigInt(at), 8, 0n);
    while (at < end) cpu.store(HHDM_BASE + BigInt(at++), 1, 0n);
  }

  /** Copies `length` bytes out, a quadword at a time where aligned. */
  readBytes(pa: number, length: number): Uint8Array {
    const cpu = this.#cpu();
    const out = new Uint8Array(length);
    const dv = new DataView(out.buffer);
    let i = 0;
    while (i < length && (pa + i) % 8 !== 0) {
      out[i] = Number(cpu.load(HHDM_BASE + BigInt(pa + i++), 1));
    }
    for (; i + 8 <= length; i += 8) {
      dv.setBigUint64(i, cpu.load(HHDM_BASE + BigInt(pa + i), 8), true);
    }
    while (i < length) out[i] = Number(cpu.load(HHDM_BASE + BigInt(pa + i++), 1));
    return out;
  }

  /** Copies `bytes` in, a quadword at a time where aligned. */
  writeBytes(pa: number, bytes: Uint8Array): void {
    const cpu = this.#cpu();
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = bytes.length;
    let i = 0;
    while (i < n && (pa + i) % 8 !== 0) {
      cpu.store(HHDM_BASE + BigInt(pa + i), 1, BigInt(bytes[i++]));
    }
    for (; i + 8 <= n; i += 8) {
      cpu.store(HHDM_BASE + BigInt(pa + i), 8, dv.getBigUint64(i, true));
    }
    while (i < n) cpu.store(HHDM_BASE + BigInt(pa + i), 1, BigInt(bytes[i++]));
  }
}
