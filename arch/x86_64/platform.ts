/**
 * What the PC's firmware says about the board, as the kernel needs it: RAM (from the memory
 * map in the boot information, since a PC has no other list of it), the CPUs and the
 * interrupt controllers (from the MADT), the HPET (from its ACPI table), and the console.
 *
 * The console is COM1, which no table describes: the PC's legacy serial port is at I/O port
 * 0x3F8 on ISA IRQ 4, clocked by a 1.8432 MHz crystal, on every PC since the IBM PC/AT, and
 * kernels (Linux's early serial console, anos) assume it. Its IRQ is translated to a GSI
 * through the MADT's interrupt source overrides, as every ISA IRQ must be.
 *
 * @module
 */

import {
  MEMMAP_ACPI_NVS,
  MEMMAP_ACPI_RECLAIMABLE,
  MEMMAP_BOOTLOADER_RECLAIMABLE,
  MEMMAP_KERNEL_AND_MODULES,
  MEMMAP_USABLE,
} from "../../emulator/core/bootinfo.ts";
import type { DeviceRegion, PhysRange, Platform } from "../../kernel/arch.ts";
import type { KernelBootInfo } from "../../kernel/bootinfo.ts";
import { hex } from "../../kernel/format.ts";
import { PAGE_SIZE } from "../../kernel/mm/phys.ts";
import { type AcpiInfo, isaIrq, type MadtIoApic } from "./acpi.ts";

/** COM1's first I/O port (the PC/AT's serial port 1). */
export const COM1_PORT = 0x3f8;
/** COM1's ISA IRQ. */
export const COM1_ISA_IRQ = 4;
/** The PC UART crystal: 1.8432 MHz (divisor 1 is 115200 baud). */
export const COM1_CLOCK_HZ = 1_843_200;
/** The size of the local APIC's register page, and of an I/O APIC's. */
export const APIC_PAGE_SIZE = 0x1000;
/** The size the kernel maps for the HPET's 1 KiB of registers: a page. */
export const HPET_MAP_SIZE = 0x1000;

/** The memory-map types that are RAM the kernel maps in its direct map. */
export const DIRECT_MAP_TYPES: readonly number[] = [
  MEMMAP_USABLE,
  MEMMAP_ACPI_RECLAIMABLE,
  MEMMAP_ACPI_NVS,
  MEMMAP_BOOTLOADER_RECLAIMABLE,
  MEMMAP_KERNEL_AND_MODULES,
];

/** The platform, plus what only the PC needs. */
export interface X86Platform extends Platform {
  /** The local APICs' physical address. */
  lapicBase: number;
  /** The I/O APICs. */
  ioapics: MadtIoApic[];
  /** The HPET's physical address. */
  hpetBase: number;
  /** COM1's interrupt: its GSI and how it is wired. */
  com1: { gsi: number; activeLow: boolean; level: boolean };
}

/**
 * The platform from the ACPI tables and the boot information. Throws an Error naming what
 * is missing (no enabled CPU, no I/O APIC, no HPET).
 */
export function acpiPlatform(acpi: AcpiInfo, boot: KernelBootInfo): X86Platform {
  const { madt } = acpi;
  const cpus = madt.cpus.filter((c) => c.enabled).map((c, index) => ({ index, hwId: c.apicId }));
  if (cpus.length === 0) throw new Error("ACPI: the MADT lists no enabled CPU");
  if (madt.ioapics.length === 0) throw new Error("ACPI: the MADT lists no I/O APIC");
  if (!acpi.hpet) {
    throw new Error(
      `ACPI: the ${acpi.root.signature} lists no HPET table: the kernel has nothing to ` +
        `calibrate the local APIC timer against`,
    );
  }
  const com1 = isaIrq(madt, COM1_ISA_IRQ);
  const devices: DeviceRegion[] = [
    { name: "lapic", base: madt.localApicAddress, length: APIC_PAGE_SIZE },
    ...madt.ioapics.map((io) => ({
      name: `ioapic${io.id}`,
      base: io.address,
      length: APIC_PAGE_SIZE,
    })),
    { name: "hpet", base: acpi.hpet.address, length: HPET_MAP_SIZE },
  ];
  const notes = [
    `${acpi.root.signature} at ${hex(acpi.root.address)} lists ` +
    acpi.tables.map((t) => t.signature).join(", "),
    `MADT: ${cpus.length} CPU(s) (local APIC ids ${cpus.map((c) => c.hwId).join(", ")}), ` +
    `local APIC at ${hex(madt.localApicAddress)}`,
    ...madt.ioapics.map((io) =>
      `MADT: I/O APIC ${io.id} at ${hex(io.address)}, GSIs from ${io.gsiBase}`
    ),
    ...madt.overrides.map((o) =>
      `MADT: ISA IRQ ${o.source} -> GSI ${o.gsi}` +
      `${(o.flags & 3) === 3 ? ", active low" : ""}${(o.flags & 12) === 12 ? ", level" : ""}`
    ),
    `HPET at ${hex(acpi.hpet.address)}`,
  ];
  return {
    source: `ACPI ${acpi.revision >= 2 ? "2.0+" : "1.0"} RSDP at ${hex(acpi.rsdp)} ` +
      `(OEM ${acpi.oemId})`,
    memory: directMapRanges(boot),
    cpus,
    console: {
      name: `COM1 (16550A) at port ${hex(COM1_PORT)}`,
      clockHz: COM1_CLOCK_HZ,
      irq: com1.gsi,
    },
    timerHz: 0, // measured against the HPET when the timer starts
    devices,
    notes,
    lapicBase: madt.localApicAddress,
    ioapics: madt.ioapics,
    hpetBase: acpi.hpet.address,
    com1,
  };
}

/**
 * RAM for the direct map: the memory map's entries of {@link DIRECT_MAP_TYPES}, whole pages,
 * adjacent ones merged. Reserved areas (the first page, the VGA window and BIOS, MMIO) are
 * left out, so a stray access there faults.
 */
export function directMapRanges(boot: KernelBootInfo): PhysRange[] {
  const out: PhysRange[] = [];
  for (const r of boot.memoryMap) {
    if (!DIRECT_MAP_TYPES.includes(r.type)) continue;
    const base = Math.floor(r.base / PAGE_SIZE) * PAGE_SIZE;
    const end = Math.ceil((r.base + r.length) / PAGE_SIZE) * PAGE_SIZE;
    const last = out.at(-1);
    if (last && last.base + last.length >= base) {
      last.length = Math.max(last.length, end - last.base);
    } else if (end > base) out.push({ base, length: end - base });
  }
  return out;
}

/** Whether [pa, pa + length) lies inside `ranges` (for the ACPI reader's pointers). */
export function inRanges(ranges: readonly PhysRange[], pa: number, length: number): boolean {
  return ranges.some((r) => pa >= r.base && pa + length <= r.base + r.length);
}
