/**
 * Physical memory as the RISC-V kernel reaches it: real loads and stores of the running
 * hart, through its MMU (arch/common/phys.ts). The firmware enters the kernel with satp = 0
 * (Bare: a virtual address is the physical one), so until the kernel turns Sv48 on, `pa` is
 * used as it is; afterwards every access goes to the direct map at HHDM_BASE + pa, and a
 * wrong direct map faults as it would on hardware.
 *
 * @module
 */

import type { Hart } from "../../emulator/riscv64/hart_api.ts";
import { HHDM_BASE } from "../../kernel/mm/phys.ts";
import { MmuPhysMem } from "../common/phys.ts";

/** PhysMem through `hart()` (the hart running the current kernel entry). */
export class HartPhysMem extends MmuPhysMem {
  /** PhysMem through the hart `hart()` returns: physical addresses as they are (Bare). */
  constructor(hart: () => Hart) {
    super(hart, 0n);
  }

  /** Switches to the direct map (call right after satp is written). */
  useDirectMap(): void {
    this.offset = HHDM_BASE;
  }
}
