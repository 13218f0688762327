/**
 * Kernel text: where the hosted TypeScript kernel's entry points live.
 *
 * The kernel is TypeScript (DESIGN.md principle 2), yet the CPU must find it the way
 * hardware does: through the addresses in stvec, the IDT, LSTAR or a start-up vector.
 * So the kernel registers each entry function at a kernel virtual address, and when a CPU
 * starts executing privileged code at an address it looks that address up here. An
 * address with no entry is the architectural equivalent of jumping into garbage, and the
 * CPU reports it in words instead ("stvec points at 0x..., where no kernel code is
 * registered").
 *
 * Kernel text is not fetched through the MMU: the functions are not bytes in RAM.
 *
 * @module
 */

import { hex } from "./memory.ts";

/** A kernel entry: runs to completion on `cpu`, then the CPU continues as the entry left it. */
export type KernelEntry<C> = (cpu: C) => void;

/** A registered entry point. */
export interface KernelSymbol<C> {
  /** The address, as an unsigned 64-bit value. */
  readonly address: bigint;
  /** A name for messages and traces, e.g. `trap_entry`. */
  readonly name: string;
  /** The code. */
  readonly entry: KernelEntry<C>;
}

/** The table of kernel entry points, keyed by address. */
export class KernelText<C> {
  #symbols = new Map<bigint, KernelSymbol<C>>();

  /** Registers `entry` at `address` (any 64-bit value; negative numbers mean the high half). */
  register(address: bigint | number, name: string, entry: KernelEntry<C>): bigint {
    const a = BigInt.asUintN(64, BigInt(address));
    this.#symbols.set(a, { address: a, name, entry });
    return a;
  }

  /** Removes the entry at `address`, if any. */
  unregister(address: bigint | number): void {
    this.#symbols.delete(BigInt.asUintN(64, BigInt(address)));
  }

  /** The entry at exactly `address`, or undefined. */
  lookup(address: bigint | number): KernelSymbol<C> | undefined {
    return this.#symbols.get(BigInt.asUintN(64, BigInt(address)));
  }

  /** Names an address for a message: `trap_entry (0x...)`, or the bare address. */
  describe(address: bigint | number): string {
    const s = this.lookup(address);
    return s ? `${s.name} (${hex(s.address)})` : hex(BigInt.asUintN(64, BigInt(address)));
  }

  /** Every registered entry, in address order. */
  symbols(): KernelSymbol<C>[] {
    return [...this.#symbols.values()].sort((a, b) => (a.address < b.address ? -1 : 1));
  }

  /** Forgets every entry (a reset). */
  clear(): void {
    this.#symbols.clear();
  }
}
