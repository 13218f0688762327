/**
 * Operation budgets: the code under test reaches the machine only through the PhysMem and
 * UartRegisters a case hands it, and every operation through them is counted. Past the
 * budget each further operation throws {@link KernelHang}, so an endless loop that touches
 * memory or a device stops at the same operation on every run, whatever the host's speed.
 *
 * This sits in front of the CPU's own count (KERNEL_OP_BUDGET in emulator/core/hosted.ts,
 * 20 million operations per kernel entry), so a case can give a smaller budget and fail
 * in a fraction of a second.
 *
 * Portable: no Deno or Node API.
 *
 * @module
 */

import { KernelHang } from "../../emulator/core/hosted.ts";
import type { UartRegisters } from "../../kernel/components.ts";
import type { PhysMem } from "../../kernel/mm/phys.ts";

/** Counts operations against a budget. */
export class OpCounter {
  /** Operations so far. */
  count = 0;

  /** A counter that allows `budget` operations. */
  constructor(readonly budget: number) {}

  /** Counts `n` operations; throws KernelHang past the budget. */
  charge(n = 1): void {
    this.count += n;
    if (this.count > this.budget) {
      throw new KernelHang(
        `more than ${this.budget} operations (memory and device accesses) in this case: ` +
          `an endless loop polling something that never changes, or a loop that never ends?`,
      );
    }
  }
}

/** A bulk access costs one operation per 8 bytes, as a doubleword copy loop would. */
function words(length: number): number {
  return Math.max(1, Math.ceil(length / 8));
}

/** `mem`, with every access charged to `ops`. */
export function budgetedPhysMem(mem: PhysMem, ops: OpCounter): PhysMem {
  return {
    read(pa, size) {
      ops.charge();
      return mem.read(pa, size);
    },
    write(pa, size, value) {
      ops.charge();
      mem.write(pa, size, value);
    },
    zero(pa, length) {
      ops.charge(words(length));
      mem.zero(pa, length);
    },
    readBytes(pa, length) {
      ops.charge(words(length));
      return mem.readBytes(pa, length);
    },
    writeBytes(pa, bytes) {
      ops.charge(words(bytes.length));
      mem.writeBytes(pa, bytes);
    },
  };
}

/** `regs`, with every register access charged to `ops`. */
export function budgetedUartRegisters(regs: UartRegisters, ops: OpCounter): UartRegisters {
  return {
    read(reg) {
      ops.charge();
      return regs.read(reg);
    },
    write(reg, value) {
      ops.charge();
      regs.write(reg, value);
    },
  };
}
