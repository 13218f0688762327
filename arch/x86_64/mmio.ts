/**
 * Device registers as the kernel reaches them: uncached loads and stores of the running CPU
 * at `DEVICE_BASE + pa`, where the kernel maps every device it drives (kernel/README.md).
 * The local APIC, I/O APIC and HPET drivers take one of these, so a test can also give them
 * a plain object.
 *
 * @module
 */

import type { X86Cpu } from "../../emulator/x86_64/cpu_api.ts";
import { DEVICE_BASE } from "../../kernel/mm/phys.ts";

/** A block of memory-mapped registers, addressed by offset. */
export interface Mmio {
  /** Loads the 32-bit register at `offset`. */
  read32(offset: number): number;
  /** Stores the 32-bit register at `offset`. */
  write32(offset: number, value: number): void;
  /** Loads the 64-bit register at `offset`. */
  read64(offset: number): bigint;
  /** Stores the 64-bit register at `offset`. */
  write64(offset: number, value: bigint): void;
}

/** The registers of the device at physical `base`, through the CPU `cpu()` returns. */
export function deviceRegisters(cpu: () => X86Cpu, base: number): Mmio {
  const va = DEVICE_BASE + BigInt(base);
  return {
    read32: (offset) => Number(cpu().load(va + BigInt(offset), 4)),
    write32: (offset, value) => cpu().store(va + BigInt(offset), 4, BigInt(value >>> 0)),
    read64: (offset) => cpu().load(va + BigInt(offset), 8),
    write64: (offset, value) => cpu().store(va + BigInt(offset), 8, value),
  };
}
