/**
 * The boot-information block both boards hand to the kernel, in the style of Limine's
 * responses: binary structures that the firmware lays in RAM, whose physical address the
 * kernel receives in a register (RISC-V a2, x86-64 rdi). It holds what a kernel cannot
 * find by itself: the memory map, where its image and modules were loaded, the higher-half
 * direct-map offset, the firmware tables (RSDP or DTB), the command line and the CPUs.
 *
 * Layout, little-endian, every pointer a physical address:
 *
 * ```
 * struct boot_info {                 // BOOTINFO_HEADER_SIZE = 112 bytes
 *   u64 magic;          //  0  BOOTINFO_MAGIC ("BOOTINFO" in ASCII)
 *   u32 version;        //  8  BOOTINFO_VERSION
 *   u32 size;           // 12  bytes of the whole block, strings included
 *   u64 hhdm_offset;    // 16  virtual = physical + hhdm_offset in the direct map (0: none)
 *   u64 rsdp;           // 24  ACPI RSDP (x86-64), else 0
 *   u64 dtb;            // 32  flattened devicetree (RISC-V), else 0
 *   u64 cmdline;        // 40  NUL-terminated command line
 *   u64 memmap;         // 48  -> struct memmap_entry[memmap_count]
 *   u32 memmap_count;   // 56
 *   u32 module_count;   // 60
 *   u64 modules;        // 64  -> struct module[module_count]
 *   u32 cpu_count;      // 72
 *   u32 boot_cpu;       // 76  index in cpus[] of the CPU running the kernel
 *   u64 cpus;           // 80  -> struct cpu[cpu_count]
 *   u64 kernel_phys;    // 88  where the kernel image is in RAM
 *   u64 kernel_virt;    // 96  the virtual address it is linked at
 *   u64 kernel_size;    // 104
 * };
 * struct memmap_entry { u64 base, length; u32 type, reserved; };      // 24 bytes, sorted
 * struct module       { u64 base, length; u64 name; };                // 24 bytes
 * struct cpu          { u32 index, hw_id, flags, reserved; };         // 16 bytes
 * ```
 *
 * @module
 */

import type { Bus } from "./bus.ts";
import { hex } from "./memory.ts";

/** "BOOTINFO" read as a little-endian u64. */
export const BOOTINFO_MAGIC = 0x4f46_4e49_544f_4f42n;
/** The layout version this file describes. */
export const BOOTINFO_VERSION = 1;
/** Size of `struct boot_info`. */
export const BOOTINFO_HEADER_SIZE = 112;
/** Size of `struct memmap_entry`. */
export const MEMMAP_ENTRY_SIZE = 24;
/** Size of `struct module`. */
export const MODULE_SIZE = 24;
/** Size of `struct cpu`. */
export const CPU_ENTRY_SIZE = 16;

/** Memory map entry types; the numbering is Limine's. */
export const MEMMAP_USABLE = 0;
/** Reserved by the board or firmware (e.g. OpenSBI's region): never use. */
export const MEMMAP_RESERVED = 1;
/** ACPI tables: usable once the kernel has read them. */
export const MEMMAP_ACPI_RECLAIMABLE = 2;
/** ACPI non-volatile storage: never use. */
export const MEMMAP_ACPI_NVS = 3;
/** Faulty RAM. */
export const MEMMAP_BAD_MEMORY = 4;
/** The boot-information block, the boot page tables, the DTB copy: usable once consumed. */
export const MEMMAP_BOOTLOADER_RECLAIMABLE = 5;
/** The kernel image and its modules. */
export const MEMMAP_KERNEL_AND_MODULES = 6;
/** A framebuffer. */
export const MEMMAP_FRAMEBUFFER = 7;

/** Names of the memory types, for boot logs. */
export const MEMMAP_TYPE_NAMES: readonly string[] = [
  "usable",
  "reserved",
  "ACPI reclaimable",
  "ACPI NVS",
  "bad memory",
  "bootloader reclaimable",
  "kernel and modules",
  "framebuffer",
];

/** One memory map entry. */
export interface MemoryRegion {
  /** First byte. */
  base: number;
  /** Length in bytes. */
  length: number;
  /** One of the `MEMMAP_*` types. */
  type: number;
}

/** A module the boot loader placed in RAM (an initial RAM disk, a server image). */
export interface BootModule {
  /** Physical address. */
  base: number;
  /** Length in bytes. */
  length: number;
  /** Its name (a path, as Limine gives). */
  name: string;
}

/** A CPU the kernel may start. */
export interface BootCpu {
  /** Index in the CPU list, from 0. */
  index: number;
  /** The hardware identifier: hart id (RISC-V) or local APIC id (x86-64). */
  hwId: number;
  /** `CPU_FLAG_*` bits. */
  flags: number;
}

/** The CPU that runs the kernel at entry. */
export const CPU_FLAG_BOOT = 1;

/** Everything in the block, as the firmware builds it and a reader decodes it. */
export interface BootInfo {
  /** Direct-map offset, unsigned (0 when the firmware made none). */
  hhdmOffset: bigint;
  /** ACPI RSDP, or 0. */
  rsdp: number;
  /** Devicetree, or 0. */
  dtb: number;
  /** The kernel command line. */
  cmdline: string;
  /** The memory map, sorted by base, not overlapping. */
  memoryMap: MemoryRegion[];
  /** Loaded modules. */
  modules: BootModule[];
  /** The CPUs. */
  cpus: BootCpu[];
  /** Index in `cpus` of the CPU that entered the kernel. */
  bootCpu: number;
  /** Where the kernel image is. */
  kernelPhys: number;
  /** Where it is linked, unsigned. */
  kernelVirt: bigint;
  /** Its size in bytes. */
  kernelSize: number;
}

/** The number of bytes `writeBootInfo` will need for `info`. */
export function bootInfoSize(info: BootInfo): number {
  const enc = new TextEncoder();
  let size = BOOTINFO_HEADER_SIZE + info.memoryMap.length * MEMMAP_ENTRY_SIZE +
    info.modules.length * MODULE_SIZE + info.cpus.length * CPU_ENTRY_SIZE;
  size += enc.encode(info.cmdline).length + 1;
  for (const m of info.modules) size += enc.encode(m.name).length + 1;
  return (size + 7) & ~7;
}

/** Lays `info` out at physical address `pa` (which must be RAM); returns the size used. */
export function writeBootInfo(bus: Bus, pa: number, info: BootInfo): number {
  const size = bootInfoSize(info);
  const bytes = new Uint8Array(size);
  const dv = new DataView(bytes.buffer);
  const enc = new TextEncoder();
  let cursor = BOOTINFO_HEADER_SIZE;
  const u64 = (off: number, v: number | bigint) => dv.setBigUint64(off, BigInt(v), true);
  const u32 = (off: number, v: number) => dv.setUint32(off, v, true);
  const string = (s: string): number => {
    const b = enc.encode(s);
    bytes.set(b, cursor);
    const at = pa + cursor;
    cursor += b.length + 1;
    return at;
  };

  u64(0, BOOTINFO_MAGIC);
  u32(8, BOOTINFO_VERSION);
  u32(12, size);
  u64(16, BigInt.asUintN(64, info.hhdmOffset));
  u64(24, info.rsdp);
  u64(32, info.dtb);
  const memmapAt = cursor;
  cursor += info.memoryMap.length * MEMMAP_ENTRY_SIZE;
  const modulesAt = cursor;
  cursor += info.modules.length * MODULE_SIZE;
  const cpusAt = cursor;
  cursor += info.cpus.length * CPU_ENTRY_SIZE;
  u64(40, string(info.cmdline));
  u64(48, pa + memmapAt);
  u32(56, info.memoryMap.length);
  u32(60, info.modules.length);
  u64(64, pa + modulesAt);
  u32(72, info.cpus.length);
  u32(76, info.bootCpu);
  u64(80, pa + cpusAt);
  u64(88, info.kernelPhys);
  u64(96, BigInt.asUintN(64, info.kernelVirt));
  u64(104, info.kernelSize);
  info.memoryMap.forEach((r, i) => {
    const o = memmapAt + i * MEMMAP_ENTRY_SIZE;
    u64(o, r.base);
    u64(o + 8, r.length);
    u32(o + 16, r.type);
  });
  info.modules.forEach((m, i) => {
    const o = modulesAt + i * MODULE_SIZE;
    u64(o, m.base);
    u64(o + 8, m.length);
    u64(o + 16, string(m.name));
  });
  info.cpus.forEach((c, i) => {
    const o = cpusAt + i * CPU_ENTRY_SIZE;
    u32(o, c.index);
    u32(o + 4, c.hwId);
    u32(o + 8, c.flags);
  });
  if (!bus.writeBytes(pa, bytes)) {
    throw new RangeError(`boot information at ${hex(pa)}+${hex(size)} does not fit in RAM`);
  }
  return size;
}

/**
 * Decodes the block at `pa`. Throws a message that names the field when the block is not
 * a valid boot-information block (for tests and tools; the kernel has its own parser).
 */
export function readBootInfo(bus: Bus, pa: number): BootInfo {
  const u64 = (a: number): bigint => {
    const v = bus.read(a, 8);
    if (v === undefined) throw new RangeError(`boot information: ${hex(a)} is not RAM`);
    return v;
  };
  const n64 = (a: number) => Number(u64(a));
  const u32 = (a: number) => Number(u64(a) & 0xffff_ffffn);
  const string = (a: number): string => {
    const out: number[] = [];
    for (let i = 0; i < 4096; i++) {
      const b = Number(bus.read(a + i, 1) ?? 0n);
      if (b === 0) return new TextDecoder().decode(new Uint8Array(out));
      out.push(b);
    }
    throw new RangeError(`boot information: string at ${hex(a)} has no NUL in 4 KiB`);
  };
  if (u64(pa) !== BOOTINFO_MAGIC) {
    throw new RangeError(`boot information: no magic "BOOTINFO" at ${hex(pa)}`);
  }
  if (u32(pa + 8) !== BOOTINFO_VERSION) {
    throw new RangeError(`boot information: version ${u32(pa + 8)}, expected ${BOOTINFO_VERSION}`);
  }
  const memmap = n64(pa + 48), modules = n64(pa + 64), cpus = n64(pa + 80);
  return {
    hhdmOffset: u64(pa + 16),
    rsdp: n64(pa + 24),
    dtb: n64(pa + 32),
    cmdline: string(n64(pa + 40)),
    memoryMap: Array.from({ length: u32(pa + 56) }, (_, i) => {
      const o = memmap + i * MEMMAP_ENTRY_SIZE;
      return { base: n64(o), length: n64(o + 8), type: u32(o + 16) };
    }),
    modules: Array.from({ length: u32(pa + 60) }, (_, i) => {
      const o = modules + i * MODULE_SIZE;
      return { base: n64(o), length: n64(o + 8), name: string(n64(o + 16)) };
    }),
    cpus: Array.from({ length: u32(pa + 72) }, (_, i) => {
      const o = cpus + i * CPU_ENTRY_SIZE;
      return { index: u32(o), hwId: u32(o + 4), flags: u32(o + 8) };
    }),
    bootCpu: u32(pa + 76),
    kernelPhys: n64(pa + 88),
    kernelVirt: u64(pa + 96),
    kernelSize: n64(pa + 104),
  };
}
