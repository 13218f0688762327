/**
 * Physical memory as the x86-64 kernel reaches it: real loads and stores of the running CPU,
 * through its MMU, at the higher-half direct map (arch/common/phys.ts). The firmware
 * (Limine's protocol) enters the kernel with paging on and every byte of RAM mapped at
 * HHDM_BASE + pa, and the kernel's own tables keep that map, so unlike RISC-V (which starts
 * with satp = 0) there is no "before paging" mode: every access is `HHDM_BASE + pa`, and a
 * wrong direct map faults as it would on hardware.
 *
 * @module
 */

import type { X86Cpu } from "../../emulator/x86_64/cpu_api.ts";
import { HHDM_BASE } from "../../kernel/mm/phys.ts";
import { MmuPhysMem } from "../common/phys.ts";

/** PhysMem through `cpu()` (the CPU running the current kernel entry). */
export class CpuPhysMem extends MmuPhysMem {
  /** PhysMem through the CPU `cpu()` returns, at the direct map. */
  constructor(cpu: () => X86Cpu) {
    super(cpu, HHDM_BASE);
  }
}
