/**
 * The kernel's reader of the boot-information block the firmware leaves in RAM (its layout
 * is in emulator/core/bootinfo.ts, whose constants and types this file uses): the memory
 * map, the modules, the command line, the CPUs and where the kernel image is.
 *
 * A kernel cannot trust what it is handed, so every field is checked before it is used,
 * and a malformed block is an Error that says which field, where, and what was wrong; the
 * kernel turns it into a panic at boot.
 *
 * @module
 */

import {
  type BootInfo,
  BOOTINFO_HEADER_SIZE,
  BOOTINFO_MAGIC,
  BOOTINFO_VERSION,
  CPU_ENTRY_SIZE,
  MEMMAP_ENTRY_SIZE,
  MODULE_SIZE,
} from "../emulator/core/bootinfo.ts";
import type { PhysMem } from "./mm/phys.ts";
import { hex } from "./format.ts";

/** The boot information, as the kernel parsed it (the same shape the firmware wrote). */
export type KernelBootInfo = BootInfo;

/** At most this many memory map entries, modules or CPUs: more is a corrupt block. */
const MAX_ENTRIES = 4096;
/** The longest string (command line, module name) the reader accepts. */
const MAX_STRING = 4096;

/** Reads and checks the block at physical address `pa`. Throws an Error naming the fault. */
export function parseBootInfo(mem: PhysMem, pa: number): KernelBootInfo {
  const where = `boot information at ${hex(pa)}`;
  const fail = (why: string): never => {
    throw new Error(`${where}: ${why}`);
  };
  const u64 = (a: number): bigint => mem.read(a, 8);
  const u32 = (a: number): number => Number(mem.read(a, 4));
  const address = (a: number, field: string): number => {
    const v = u64(a);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${field} = ${hex(v)} is not a physical address`);
    return Number(v);
  };
  const count = (a: number, field: string): number => {
    const n = u32(a);
    if (n > MAX_ENTRIES) fail(`${field} = ${n} is more than ${MAX_ENTRIES}: the block is corrupt`);
    return n;
  };
  const string = (a: number, field: string): string => {
    const bytes: number[] = [];
    for (let i = 0; i < MAX_STRING; i++) {
      const b = Number(mem.read(a + i, 1));
      if (b === 0) return new TextDecoder().decode(new Uint8Array(bytes));
      bytes.push(b);
    }
    return fail(`${field} at ${hex(a)} has no NUL within ${MAX_STRING} bytes`);
  };

  if (u64(pa) !== BOOTINFO_MAGIC) fail(`no "BOOTINFO" magic (found ${hex(u64(pa))})`);
  const version = u32(pa + 8);
  if (version !== BOOTINFO_VERSION) {
    fail(`version ${version}, this kernel reads ${BOOTINFO_VERSION}`);
  }
  const size = u32(pa + 12);
  if (size < BOOTINFO_HEADER_SIZE) fail(`size ${size} is smaller than the header`);

  const memmapAt = address(pa + 48, "memmap");
  const memmapCount = count(pa + 56, "memmap_count");
  const moduleCount = count(pa + 60, "module_count");
  const modulesAt = address(pa + 64, "modules");
  const cpuCount = count(pa + 72, "cpu_count");
  const bootCpu = u32(pa + 76);
  const cpusAt = address(pa + 80, "cpus");

  const memoryMap = Array.from({ length: memmapCount }, (_, i) => {
    const e = memmapAt + i * MEMMAP_ENTRY_SIZE;
    return {
      base: address(e, `memmap[${i}].base`),
      length: address(e + 8, `memmap[${i}].length`),
      type: u32(e + 16),
    };
  });
  for (let i = 1; i < memoryMap.length; i++) {
    const prev = memoryMap[i - 1], r = memoryMap[i];
    if (r.base < prev.base + prev.length) {
      fail(
        `memmap[${i}] at ${hex(r.base)} overlaps or precedes memmap[${i - 1}] ` +
          `(${hex(prev.base)}+${hex(prev.length)}): the map must be sorted and disjoint`,
      );
    }
  }
  const modules = Array.from({ length: moduleCount }, (_, i) => {
    const e = modulesAt + i * MODULE_SIZE;
    return {
      base: address(e, `modules[${i}].base`),
      length: address(e + 8, `modules[${i}].length`),
      name: string(address(e + 16, `modules[${i}].name`), `modules[${i}].name`),
    };
  });
  const cpus = Array.from({ length: cpuCount }, (_, i) => {
    const e = cpusAt + i * CPU_ENTRY_SIZE;
    return { index: u32(e), hwId: u32(e + 4), flags: u32(e + 8) };
  });
  if (cpuCount > 0 && bootCpu >= cpuCount) {
    fail(`boot_cpu ${bootCpu} is not below cpu_count ${cpuCount}`);
  }

  return {
    hhdmOffset: u64(pa + 16),
    rsdp: address(pa + 24, "rsdp"),
    dtb: address(pa + 32, "dtb"),
    cmdline: string(address(pa + 40, "cmdline"), "cmdline"),
    memoryMap,
    modules,
    cpus,
    bootCpu,
    kernelPhys: address(pa + 88, "kernel_phys"),
    kernelVirt: u64(pa + 96),
    kernelSize: address(pa + 104, "kernel_size"),
  };
}
