/**
 * The PC's firmware and boot loader in one: what a BIOS or UEFI firmware and a Limine boot
 * loader would have done by the time the kernel's first instruction runs.
 *
 * It follows the Limine boot protocol's x86-64 entry state (its PROTOCOL.md, "Entry memory
 * layout" and "Entry machine state"), with the boot-information block both boards share
 * (`core/bootinfo.ts`) in place of Limine's request/response structures.
 *
 * ## What is in RAM at entry
 *
 * Laid out upward from the kernel image, every piece 4 KiB-aligned:
 *
 * | what                                              | memory-map type          |
 * | ------------------------------------------------- | ------------------------ |
 * | the kernel image region (given by the caller)     | kernel and modules       |
 * | the modules, each at a page boundary              | kernel and modules       |
 * | the ACPI tables, RSDP first (see acpi.ts)         | ACPI reclaimable         |
 * | the page tables, the GDT, the stack, boot info    | bootloader reclaimable   |
 *
 * and the memory map reports the rest of RAM as usable except the firmware areas a PC
 * has (the first page: the real-mode IVT and BIOS data area; 0xA_0000-0xF_FFFF: the VGA
 * window and BIOS ROMs), and lists the board's MMIO holes (ECAM, the APICs and HPET) as
 * reserved.
 *
 * ## The page tables
 *
 * Four-level tables, in bootloader-reclaimable RAM, that map exactly two things, supervisor
 * only (U = 0):
 *
 * - the higher-half direct map: every byte of RAM at {@link HHDM_OFFSET} + its physical
 *   address, read/write, no-execute, with 1 GiB pages where a whole aligned GiB is RAM,
 *   2 MiB pages where a whole aligned 2 MiB is, and 4 KiB pages for the rest. MMIO is not
 *   in it: the kernel maps the APIC, I/O APIC and HPET itself. Nothing is identity-mapped
 *   (as in Limine's base revision 3).
 * - the kernel image region at its link address (default {@link KERNEL_VIRT_BASE}),
 *   read/write/execute, with 4 KiB pages (2 MiB where aligned).
 *
 * ## The CPU at entry
 *
 * The boot CPU is in ring 0, 64-bit mode: CR0 = PE|MP|ET|NE|WP|PG, CR4 = PAE, EFER =
 * LME|LMA|NXE, CR3 = the tables above. GDTR points (through the direct map) at a GDT laid
 * out as Limine's: null, 16-bit code and data, 32-bit code and data, then the 64-bit code
 * segment at {@link GDT_KERNEL_CODE} (0x28) and data segment at {@link GDT_KERNEL_DATA}
 * (0x30), loaded into CS and into SS, DS, ES, FS, GS. The kernel must load its own GDT (with
 * user segments and a TSS) and its own IDT: IDTR is the reset value, so an exception before
 * `lidt` ends in a triple fault, as on hardware. RFLAGS = 0x2 (IF = 0). RSP points into a
 * 64 KiB stack in the direct map, with a zero return address pushed. RDI holds the boot-
 * information block's physical address (RISC-V's a2; this is the System V first argument).
 * Every other general register is 0. RIP is the kernel entry the caller registered.
 *
 * The other CPUs are parked in wait-for-SIPI: the kernel starts them with INIT and start-up
 * IPIs through its local APIC (see lapic.ts and the CPU's `startup`).
 *
 * @module
 */

import type { Bus } from "../core/bus.ts";
import {
  type BootCpu,
  type BootInfo,
  bootInfoSize,
  type BootModule,
  MEMMAP_ACPI_RECLAIMABLE,
  MEMMAP_BOOTLOADER_RECLAIMABLE,
  MEMMAP_KERNEL_AND_MODULES,
  MEMMAP_TYPE_NAMES,
  MEMMAP_USABLE,
  type MemoryRegion,
  writeBootInfo,
} from "../core/bootinfo.ts";
import { hex } from "../core/memory.ts";
import { type AcpiConfig, type AcpiLayout, buildAcpiTables } from "./acpi.ts";
import type { X86Cpu } from "./cpu_api.ts";
import {
  CR0_ET,
  CR0_MP,
  CR0_NE,
  CR0_PE,
  CR0_PG,
  CR0_WP,
  CR4_PAE,
  EFER_LME,
  EFER_NXE,
  IA32_EFER,
  PAGE_SIZE,
  PAGE_SIZE_1G,
  PAGE_SIZE_2M,
  PTE_NX,
  PTE_P,
  PTE_PS,
  PTE_W,
  RSP,
} from "./regs.ts";

/** Where the direct map of physical memory starts (Limine's HHDM with 4-level paging). */
export const HHDM_OFFSET = 0xffff_8000_0000_0000n;
/** The default link address of the kernel image (the top 2 GiB, as Limine requires). */
export const KERNEL_VIRT_BASE = 0xffff_ffff_8000_0000n;
/** The selector of the firmware GDT's 64-bit code segment (Limine's). */
export const GDT_KERNEL_CODE = 0x28;
/** The selector of the firmware GDT's data segment. */
export const GDT_KERNEL_DATA = 0x30;
/** The boot stack's size. */
export const BOOT_STACK_SIZE = 64 * 1024;

/**
 * The firmware GDT's descriptors (SDM Vol. 3A §3.4.5), in Limine's order: null; 16-bit
 * code and data (base 0, limit 0xFFFF); 32-bit code and data (base 0, limit 4 GiB, G = 1,
 * D/B = 1); 64-bit code (L = 1) and data.
 */
export const FIRMWARE_GDT: readonly bigint[] = [
  0n,
  0x0000_9a00_0000_ffffn,
  0x0000_9200_0000_ffffn,
  0x00cf_9a00_0000_ffffn,
  0x00cf_9200_0000_ffffn,
  0x00af_9a00_0000_ffffn,
  0x00cf_9200_0000_ffffn,
];

/** A RAM window of the board. */
export interface RamRange {
  /** First physical address. */
  base: number;
  /** Length in bytes. */
  size: number;
}

/** The kernel image region. */
export interface KernelImage {
  /** Physical address (4 KiB-aligned, in RAM, above 1 MiB). */
  phys: number;
  /** Size in bytes (at least the image's length). */
  size: number;
  /** The link address it is mapped at (default {@link KERNEL_VIRT_BASE}). */
  virt?: bigint;
  /** Bytes to copy to `phys`, if any. */
  image?: Uint8Array;
}

/** A module to load. */
export interface FirmwareModule {
  /** Its name (a path), as the boot information reports it. */
  name: string;
  /** Its contents. */
  data: Uint8Array;
}

/** What the firmware needs to know about the board and the kernel. */
export interface FirmwareInput {
  /** Physical memory. */
  bus: Bus;
  /** Where RAM is. */
  ram: RamRange[];
  /** Areas to report as reserved: firmware areas in RAM and MMIO holes outside it. */
  reserved: MemoryRegion[];
  /** The kernel image region. */
  kernel: KernelImage;
  /** Modules to load after the kernel. */
  modules?: FirmwareModule[];
  /** The command line. */
  cmdline?: string;
  /** What the ACPI tables say. */
  acpi: AcpiConfig;
  /** The CPUs, boot CPU first. */
  cpus: BootCpu[];
}

/** What the firmware laid out, for the board, graders and tests. */
export interface FirmwareLayout {
  /** The boot information as written. */
  bootInfo: BootInfo;
  /** Its physical address (RDI at entry). */
  bootInfoAddress: number;
  /** The ACPI tables as written. */
  acpi: AcpiLayout;
  /** The PML4's physical address (CR3 at entry). */
  pml4: number;
  /** The GDT's physical address. */
  gdt: number;
  /** RSP at entry: in the direct map, a zero return address at the top of the stack. */
  stackPointer: bigint;
  /** The kernel's link address. */
  kernelVirt: bigint;
}

/**
 * Copies the kernel and modules, writes the ACPI tables, the page tables, the GDT, the stack
 * and the boot information. Throws a RangeError saying what does not fit when the input is
 * impossible (a host mistake, not guest behaviour).
 */
export function layOutFirmware(input: FirmwareInput): FirmwareLayout {
  const { bus, kernel } = input;
  const kernelVirt = kernel.virt ?? KERNEL_VIRT_BASE;
  const kernelSize = alignUp(Math.max(kernel.size, kernel.image?.length ?? 0, 1), PAGE_SIZE);
  if (kernel.phys % PAGE_SIZE !== 0) {
    throw new RangeError(`the kernel image at ${hex(kernel.phys)} is not 4 KiB-aligned`);
  }
  if (BigInt.asUintN(64, kernelVirt) % BigInt(PAGE_SIZE) !== 0n) {
    throw new RangeError(`the kernel's link address ${hex(kernelVirt)} is not 4 KiB-aligned`);
  }
  const window = input.ram.find((w) => kernel.phys >= w.base && kernel.phys < w.base + w.size);
  const checkFree = (base: number, end: number, what: string) => {
    if (!window || end > window.base + window.size) {
      throw new RangeError(
        `${what} (${hex(base)}..${hex(end)}) does not fit in RAM: give the board more ` +
          `memory or place the kernel elsewhere`,
      );
    }
    for (const r of input.reserved) {
      if (base < r.base + r.length && r.base < end) {
        throw new RangeError(
          `${what} (${hex(base)}..${hex(end)}) overlaps the reserved area at ${hex(r.base)}`,
        );
      }
    }
  };
  let cursor = kernel.phys + kernelSize;
  checkFree(kernel.phys, cursor, "the kernel image");
  if (kernel.image) bus.writeBytes(kernel.phys, kernel.image);

  const modules: BootModule[] = (input.modules ?? []).map((m) => {
    const base = cursor;
    cursor = alignUp(base + Math.max(m.data.length, 1), PAGE_SIZE);
    checkFree(base, cursor, `module ${m.name}`);
    bus.writeBytes(base, m.data);
    return { base, length: m.data.length, name: m.name };
  });
  const loadedEnd = cursor;

  const acpi = buildAcpiTables(input.acpi, cursor);
  cursor = alignUp(cursor + acpi.bytes.length, PAGE_SIZE);
  checkFree(acpi.rsdp, cursor, "the ACPI tables");
  bus.writeBytes(acpi.rsdp, acpi.bytes);
  const acpiEnd = cursor;

  // The page tables, then the GDT, the stack and the boot information.
  const tables = new PageTables();
  for (const w of input.ram) {
    tables.map(HHDM_OFFSET + BigInt(w.base), w.base, w.size, PTE_W, PTE_NX);
  }
  tables.map(kernelVirt, kernel.phys, kernelSize, PTE_W, 0n);
  const pml4 = cursor;
  cursor += tables.count * PAGE_SIZE;
  const gdt = cursor;
  cursor += PAGE_SIZE;
  const stackBase = cursor;
  cursor += BOOT_STACK_SIZE;
  const bootInfoAddress = cursor;

  const cmdline = input.cmdline ?? "";
  const bootInfo: BootInfo = {
    hhdmOffset: HHDM_OFFSET,
    rsdp: acpi.rsdp,
    dtb: 0,
    cmdline,
    memoryMap: [],
    modules,
    cpus: input.cpus,
    bootCpu: 0,
    kernelPhys: kernel.phys,
    kernelVirt,
    kernelSize,
  };
  const memoryMap = (bootloaderEnd: number) =>
    buildMemoryMap(input.ram, input.reserved, [
      { base: kernel.phys, length: loadedEnd - kernel.phys, type: MEMMAP_KERNEL_AND_MODULES },
      { base: loadedEnd, length: acpiEnd - loadedEnd, type: MEMMAP_ACPI_RECLAIMABLE },
      { base: acpiEnd, length: bootloaderEnd - acpiEnd, type: MEMMAP_BOOTLOADER_RECLAIMABLE },
    ]);
  bootInfo.memoryMap = memoryMap(bootInfoAddress + PAGE_SIZE); // the shape, for the size
  const end = alignUp(bootInfoAddress + bootInfoSize(bootInfo), PAGE_SIZE);
  checkFree(acpiEnd, end, "the page tables, GDT, stack and boot information");
  bootInfo.memoryMap = memoryMap(end);

  tables.write(bus, pml4);
  FIRMWARE_GDT.forEach((d, i) => bus.write(gdt + 8 * i, 8, d));
  const stackTop = stackBase + BOOT_STACK_SIZE;
  bus.write(stackTop - 8, 8, 0n); // the invalid return address Limine pushes
  writeBootInfo(bus, bootInfoAddress, bootInfo);
  return {
    bootInfo,
    bootInfoAddress,
    acpi,
    pml4,
    gdt,
    stackPointer: HHDM_OFFSET + BigInt(stackTop - 8),
    kernelVirt,
  };
}

/**
 * Puts the boot CPU in the entry state (see the module comment) through the instructions a
 * boot loader's last steps would execute, and starts it at `entry` with RDI = the boot
 * information's physical address.
 */
export function enterKernel(cpu: X86Cpu, layout: FirmwareLayout, entry: bigint): void {
  cpu.writeCr(4, BigInt(CR4_PAE));
  cpu.wrmsr(IA32_EFER, BigInt(EFER_LME | EFER_NXE));
  cpu.writeCr(3, BigInt(layout.pml4));
  // CR0.PG is bit 31: combine as bigints, as a 32-bit `|` would make it negative.
  cpu.writeCr(0, BigInt(CR0_PG) | BigInt(CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP));
  cpu.lgdt(HHDM_OFFSET + BigInt(layout.gdt), FIRMWARE_GDT.length * 8 - 1);
  cpu.loadCs(GDT_KERNEL_CODE);
  for (const s of ["ss", "ds", "es", "fs", "gs"] as const) cpu.loadSegment(s, GDT_KERNEL_DATA);
  cpu.regs.fill(0n);
  cpu.regs[RSP] = BigInt.asIntN(64, layout.stackPointer);
  cpu.rflags = 2n;
  cpu.start(entry, BigInt(layout.bootInfoAddress));
}

/**
 * The memory map: RAM as usable, minus `allocated` and the reserved areas inside RAM, plus
 * the reserved areas outside RAM; sorted, adjacent entries of one type merged.
 */
export function buildMemoryMap(
  ram: RamRange[],
  reserved: MemoryRegion[],
  allocated: MemoryRegion[],
): MemoryRegion[] {
  let map: MemoryRegion[] = ram.map((w) => ({
    base: w.base,
    length: w.size,
    type: MEMMAP_USABLE,
  }));
  const carve = (r: MemoryRegion) => {
    if (r.length <= 0) return;
    const out: MemoryRegion[] = [];
    for (const m of map) {
      const end = m.base + m.length, rEnd = r.base + r.length;
      if (rEnd <= m.base || r.base >= end) {
        out.push(m);
        continue;
      }
      if (m.base < r.base) out.push({ base: m.base, length: r.base - m.base, type: m.type });
      if (rEnd < end) out.push({ base: rEnd, length: end - rEnd, type: m.type });
    }
    out.push(r);
    map = out;
  };
  for (const r of [...reserved, ...allocated]) carve({ ...r });
  map.sort((a, b) => a.base - b.base);
  const merged: MemoryRegion[] = [];
  for (const m of map) {
    const last = merged.at(-1);
    if (last && last.type === m.type && last.base + last.length === m.base) {
      last.length += m.length;
    } else {
      merged.push({ ...m });
    }
  }
  return merged;
}

/** Formats a memory map as a boot log does, one entry a line. */
export function formatMemoryMap(map: MemoryRegion[]): string {
  return map.map((m) =>
    `${hex(m.base, 12)}-${hex(m.base + m.length - 1, 12)} ${MEMMAP_TYPE_NAMES[m.type] ?? m.type}`
  ).join("\n");
}

/**
 * Four-level page tables built in host memory, then written to RAM in one block: table 0
 * is the PML4, the others follow in creation order.
 */
export class PageTables {
  readonly #tables: BigUint64Array[] = [new BigUint64Array(512)];
  /** Child table index of each non-leaf entry, keyed by table * 512 + entry. */
  readonly #children = new Map<number, number>();

  /** The number of 4 KiB tables so far. */
  get count(): number {
    return this.#tables.length;
  }

  /**
   * Maps [va, va + size) to [pa, pa + size) with `flags` (besides P and PS) and `nx`,
   * choosing 1 GiB, 2 MiB or 4 KiB pages by alignment and the length left.
   */
  map(va: bigint, pa: number, size: number, flags: number, nx: bigint): void {
    let v = BigInt.asUintN(64, va);
    let p = pa;
    let left = alignUp(size, PAGE_SIZE);
    while (left > 0) {
      let level = 1; // 1: 4 KiB page (PTE), 2: 2 MiB (PDE), 3: 1 GiB (PDPTE)
      for (const [lvl, span] of [[3, PAGE_SIZE_1G], [2, PAGE_SIZE_2M]]) {
        if (left >= span && p % span === 0 && v % BigInt(span) === 0n) {
          level = lvl;
          break;
        }
      }
      let table = 0;
      for (let l = 4; l > level; l--) table = this.#child(table, index(v, l));
      const span = level === 3 ? PAGE_SIZE_1G : level === 2 ? PAGE_SIZE_2M : PAGE_SIZE;
      const leaf = BigInt(p) | BigInt(flags | PTE_P | (level > 1 ? PTE_PS : 0)) | nx;
      this.#tables[table][index(v, level)] = leaf;
      v += BigInt(span);
      p += span;
      left -= span;
    }
  }

  /** Writes the tables at `base` (the PML4 first), turning child indices into addresses. */
  write(bus: Bus, base: number): void {
    const bytes = new Uint8Array(this.#tables.length * PAGE_SIZE);
    const dv = new DataView(bytes.buffer);
    this.#tables.forEach((t, i) => {
      for (let e = 0; e < 512; e++) {
        const child = this.#children.get(i * 512 + e);
        const value = child === undefined
          ? t[e]
          : BigInt(base + child * PAGE_SIZE) | BigInt(PTE_P | PTE_W);
        dv.setBigUint64(i * PAGE_SIZE + e * 8, value, true);
      }
    });
    if (!bus.writeBytes(base, bytes)) {
      throw new RangeError(`the page tables at ${hex(base)} do not fit in RAM`);
    }
  }

  #child(table: number, entry: number): number {
    const key = table * 512 + entry;
    let child = this.#children.get(key);
    if (child === undefined) {
      if (this.#tables[table][entry] !== 0n) {
        throw new RangeError("a mapping overlaps a larger page already mapped there");
      }
      child = this.#tables.length;
      this.#tables.push(new BigUint64Array(512));
      this.#children.set(key, child);
    }
    return child;
  }
}

/** The index into a level-`level` table of virtual address `va` (4 = PML4). */
function index(va: bigint, level: number): number {
  return Number((va >> BigInt(12 + 9 * (level - 1))) & 511n);
}

function alignUp(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}
