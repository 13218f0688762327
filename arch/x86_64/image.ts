/**
 * What the x86-64 port keeps in the kernel image region: the data a real kernel would have
 * in its `.data` and `.bss` sections, that the CPU reads on its own. A hosted kernel's code is
 * TypeScript, so its image holds no instructions; its first 64 KiB are the text addresses
 * the entries are registered at (traps.ts), and the rest is this:
 *
 * | offset in the image          | size     | what                                     |
 * | ---------------------------- | -------- | ---------------------------------------- |
 * | {@link IDT_OFFSET}           | 4 KiB    | the IDT, 256 gates, shared by every CPU  |
 * | {@link cpuArea}(n)           | 12 KiB   | CPU n's:                                 |
 * | + {@link CPU_GDT}            | 56 bytes | its GDT (descriptors.ts)                 |
 * | + {@link CPU_TSS}            | 104 bytes | its TSS: RSP0 and the IST stacks        |
 * | + {@link CPU_DF_STACK_TOP}   | 4 KiB    | its double-fault stack (IST1), below     |
 * | + {@link CPU_NMI_STACK_TOP}  | 4 KiB    | its NMI stack (IST2), below              |
 *
 * for up to {@link IMAGE_MAX_CPUS} CPUs. The kernel maps the image read-only at its link
 * address; the port reaches this data, as the CPU does, through the direct map (read-write,
 * at HHDM_BASE + its physical address), where the CPU may push frames and set the TSS busy.
 *
 * @module
 */

import { PAGE_SIZE } from "../../kernel/mm/phys.ts";

/** The text: where the entries are registered (no bytes). */
export const IMAGE_TEXT_SIZE = 0x1_0000;
/** The IDT. */
export const IDT_OFFSET: number = IMAGE_TEXT_SIZE;
/** The first CPU's area. */
export const CPU_AREAS_OFFSET: number = IDT_OFFSET + PAGE_SIZE;
/** Bytes of one CPU's area. */
export const CPU_AREA_SIZE = 3 * PAGE_SIZE;
/** The GDT, in a CPU's area. */
export const CPU_GDT = 0;
/** The TSS, in a CPU's area. */
export const CPU_TSS = 0x80;
/** The top of the double-fault stack (IST1), in a CPU's area. */
export const CPU_DF_STACK_TOP = 2 * PAGE_SIZE;
/** The top of the NMI stack (IST2), in a CPU's area. */
export const CPU_NMI_STACK_TOP = 3 * PAGE_SIZE;
/** The most CPUs the image has room for (the PC has up to 16). */
export const IMAGE_MAX_CPUS = 16;
/** The size the kernel image region must have. */
export const KERNEL_IMAGE_SIZE: number = CPU_AREAS_OFFSET + IMAGE_MAX_CPUS * CPU_AREA_SIZE;

/** The offset in the image of CPU `index`'s area. */
export function cpuArea(index: number): number {
  if (!(Number.isInteger(index) && index >= 0 && index < IMAGE_MAX_CPUS)) {
    throw new RangeError(`CPU ${index}: the kernel image has areas for CPUs 0 to 15`);
  }
  return CPU_AREAS_OFFSET + index * CPU_AREA_SIZE;
}
