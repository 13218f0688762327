/**
 * The kernel's address space, built once at boot (kernel/README.md, "Memory, by physical
 * address"):
 *
 * | virtual                                  | what                                        |
 * | ---------------------------------------- | ------------------------------------------- |
 * | `HHDM_BASE + pa` (0xffff_8000_0000_0000) | every range of RAM, read-write, no execute  |
 * | `DEVICE_BASE + pa` (0xffff_c000_...)     | device registers, read-write, uncached      |
 * | the kernel's link address                | the kernel image, read and execute          |
 *
 * All of it is global (in every address space: user roots share these tables) and supervisor
 * only. Each range is mapped with the largest pages its alignment allows: 1 GiB where both
 * addresses are 1 GiB-aligned and a whole gigabyte remains, else 2 MiB, else 4 KiB.
 *
 * @module
 */

import type { PageFlags, PageTables } from "../components.ts";
import type { Platform } from "../arch.ts";
import type { KernelBootInfo } from "../bootinfo.ts";
import { formatSize, hex } from "../format.ts";
import { DEVICE_BASE, HHDM_BASE, PAGE_SIZE } from "./phys.ts";

const RAM_FLAGS: PageFlags = {
  write: true,
  execute: false,
  user: false,
  global: true,
  device: false,
};
const DEVICE_FLAGS: PageFlags = { ...RAM_FLAGS, device: true };
const TEXT_FLAGS: PageFlags = {
  write: false,
  execute: true,
  user: false,
  global: true,
  device: false,
};

/**
 * Maps [pa, pa + length) at `va` in `root` with the largest pages that fit; returns how
 * many pages of each size it used (for the boot log).
 */
export function mapLarge(
  pt: PageTables,
  root: number,
  va: bigint,
  pa: number,
  length: number,
  flags: PageFlags,
): Map<number, number> {
  const used = new Map<number, number>();
  const sizes = [...pt.pageSizes].sort((a, b) => b - a);
  for (let off = 0; off < length;) {
    const size = sizes.find((s) =>
      (pa + off) % s === 0 && (va + BigInt(off)) % BigInt(s) === 0n && off + s <= length
    ) ?? PAGE_SIZE;
    pt.map(root, 0, va + BigInt(off), pa + off, size, flags, size);
    used.set(size, (used.get(size) ?? 0) + 1);
    off += size;
  }
  return used;
}

/** What `buildKernelSpace` mapped, for the boot log. */
export interface KernelSpaceReport {
  /** The root table. */
  root: number;
  /** Lines describing each mapping. */
  lines: string[];
}

/** Builds the kernel's page tables from the platform's RAM and devices and the boot info. */
export function buildKernelSpace(
  pt: PageTables,
  platform: Platform,
  boot: KernelBootInfo,
): KernelSpaceReport {
  const root = pt.createRoot();
  const lines: string[] = [];
  const sizes = (m: Map<number, number>) =>
    [...m].map(([size, n]) => `${n} × ${formatSize(size)} page${n === 1 ? "" : "s"}`).join(", ");
  for (const r of platform.memory) {
    const used = mapLarge(pt, root, HHDM_BASE + BigInt(r.base), r.base, r.length, RAM_FLAGS);
    lines.push(
      `direct map: ${hex(r.base)}..${hex(r.base + r.length)} at ${
        hex(HHDM_BASE + BigInt(r.base))
      }: ${sizes(used)}`,
    );
  }
  for (const d of platform.devices) {
    const used = mapLarge(pt, root, DEVICE_BASE + BigInt(d.base), d.base, d.length, DEVICE_FLAGS);
    lines.push(
      `device ${d.name}: ${hex(d.base)} at ${hex(DEVICE_BASE + BigInt(d.base))}: ${sizes(used)}`,
    );
  }
  if (boot.kernelSize > 0) {
    const length = Math.ceil(boot.kernelSize / PAGE_SIZE) * PAGE_SIZE;
    const virt = BigInt.asUintN(64, boot.kernelVirt);
    const used = mapLarge(pt, root, virt, boot.kernelPhys, length, TEXT_FLAGS);
    lines.push(`kernel image: ${hex(boot.kernelPhys)} at ${hex(virt)}: ${sizes(used)}`);
  }
  return { root, lines };
}
