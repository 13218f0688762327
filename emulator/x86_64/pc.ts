/**
 * The x86-64 PC board: RAM laid out as on QEMU's q35, N CPUs with their local APICs, an
 * I/O APIC, an HPET, the COM1 UART, a debug-exit port, ACPI tables, and the Limine-style
 * boot that hands the kernel its boot information.
 *
 * ## Physical memory map
 *
 * | address                  | size       | what                                         |
 * | ------------------------ | ---------- | -------------------------------------------- |
 * | 0x0000_0000              | to 2.75 GiB | RAM (low part; firmware areas reserved)     |
 * | 0xB000_0000              | 256 MiB    | PCIe ECAM, 256 buses (MCFG; the PCI device's) |
 * | 0xC000_0000              | to 0xFEBF_FFFF | the 32-bit PCI memory window (free)      |
 * | 0xFEC0_0000              | 4 KiB      | I/O APIC, GSIs 0-23                          |
 * | 0xFED0_0000              | 1 KiB      | HPET                                         |
 * | 0xFEE0_0000              | 1 MiB      | local APICs (first page) and the MSI window  |
 * | 0x1_0000_0000            | the rest   | RAM above 4 GiB, when there is more than 2.75 GiB |
 *
 * Inside low RAM the memory map reserves the first page (real-mode IVT, BIOS data area)
 * and 0xA_0000-0xF_FFFF (VGA window, option ROMs, BIOS), as a PC's firmware does.
 *
 * ## I/O ports
 *
 * | port    | what                                                         |
 * | ------- | ------------------------------------------------------------ |
 * | 0x3F8   | COM1: 16550A UART, ISA IRQ 4 = I/O APIC GSI 4, 1.8432 MHz    |
 * | 0xF4    | debug exit: write v to power off with status (v << 1) | 1     |
 *
 * Every other port reads as all ones and ignores writes (nothing answers), which is what a
 * kernel masking the absent 8259s at 0x21 and 0xA1 sees.
 *
 * ## Interrupts
 *
 * ISA IRQ n is I/O APIC GSI n, except IRQ 0, which arrives at GSI 2 (the MADT says so with an
 * interrupt source override, as on every PC; the HPET's legacy replacement mode uses it).
 * GSIs 0-15 are wired active high, 16-23 active low. The HPET's comparators may be routed
 * to GSIs 20-23. The LAPIC timer runs at {@link LAPIC_TIMER_HZ}, which the kernel must
 * measure against the HPET: no table says it.
 *
 * ## Boot
 *
 * See `firmware.ts`: the boot CPU (CPU 0, APIC ID 0) starts at the kernel entry, in 64-bit
 * mode with the firmware's page tables, RDI = the boot information's physical address. The
 * other CPUs wait for INIT and start-up IPIs.
 *
 * @module
 */

import type { BootCpu, BootInfo, MemoryRegion } from "../core/bootinfo.ts";
import { CPU_FLAG_BOOT, MEMMAP_RESERVED } from "../core/bootinfo.ts";
import { Bus } from "../core/bus.ts";
import { Machine } from "../core/machine.ts";
import { formatSize, RAM_DEFAULT, RAM_MAX } from "../core/memory.ts";
import type { Trace } from "../core/trace.ts";
import { Uart16550 } from "../devices/uart16550.ts";
import {
  type AcpiConfig,
  type AcpiLayout,
  MADT_CPU_ENABLED,
  MPS_INTI_ACTIVE_HIGH,
  MPS_INTI_EDGE,
} from "./acpi.ts";
import type { X86Cpu } from "./cpu_api.ts";
import { DEBUG_EXIT_PORT, DEBUG_EXIT_SIZE, DebugExit } from "./debug_exit.ts";
import {
  enterKernel,
  type FirmwareLayout,
  type FirmwareModule,
  KERNEL_VIRT_BASE,
  layOutFirmware,
  type RamRange,
} from "./firmware.ts";
import { Hpet, HPET_BASE, HPET_SIZE } from "./hpet.ts";
import { IoApic, IOAPIC_BASE, IOAPIC_SIZE } from "./ioapic.ts";
import {
  ApicBus,
  LAPIC_BASE,
  LAPIC_REGION_SIZE,
  LAPIC_TIMER_HZ,
  LapicMmio,
  lapicMsrHook,
  type LocalApic,
} from "./lapic.ts";

export { LAPIC_TIMER_HZ };

// ---- the memory map ------------------------------------------------------------------------

/** Where low RAM ends at most: RAM beyond it continues at {@link PC_HIGH_RAM_BASE}. */
export const PC_LOW_RAM_TOP = 0xb000_0000;
/** The PCIe ECAM window (MCFG segment 0, buses 0-255). */
export const PC_ECAM_BASE = 0xb000_0000;
/** The size of the ECAM window: 256 buses of 1 MiB. */
export const PC_ECAM_SIZE = 0x1000_0000;
/** The 32-bit PCI memory window, free for BARs. */
export const PC_PCI_MMIO_BASE = 0xc000_0000;
/** The size of the 32-bit PCI memory window (up to the I/O APIC). */
export const PC_PCI_MMIO_SIZE = 0xfec0_0000 - 0xc000_0000;
/** The I/O APIC. */
export const PC_IOAPIC_BASE = IOAPIC_BASE;
/** The I/O APIC's ID (IOAPICID and the MADT). */
export const PC_IOAPIC_ID = 0;
/** The HPET. */
export const PC_HPET_BASE = HPET_BASE;
/** The local APICs' page (and the MSI window after it). */
export const PC_LAPIC_BASE = LAPIC_BASE;
/** Where RAM continues above the 32-bit holes. */
export const PC_HIGH_RAM_BASE = 0x1_0000_0000;
/** The MMIO holes the memory map reports as reserved (ECAM; the APICs, HPET and BIOS flash). */
export const PC_MMIO_RESERVED: readonly MemoryRegion[] = [
  { base: PC_ECAM_BASE, length: PC_ECAM_SIZE, type: MEMMAP_RESERVED },
  { base: IOAPIC_BASE, length: PC_HIGH_RAM_BASE - IOAPIC_BASE, type: MEMMAP_RESERVED },
];
/** The firmware areas inside low RAM (never usable). */
export const PC_FIRMWARE_RESERVED: readonly MemoryRegion[] = [
  { base: 0, length: 0x1000, type: MEMMAP_RESERVED },
  { base: 0xa_0000, length: 0x6_0000, type: MEMMAP_RESERVED },
];
/** The default physical address of the kernel image (2 MiB: a large-page boundary). */
export const PC_KERNEL_BASE = 0x20_0000;

/** COM1's first I/O port. */
export const PC_COM1_PORT = 0x3f8;
/** COM1's ISA IRQ, which is also its GSI. */
export const PC_COM1_IRQ = 4;
/** COM1's input clock: the PC's 1.8432 MHz UART crystal (divisor 1 = 115200 baud). */
export const PC_COM1_CLOCK_HZ = 1_843_200;
/** The debug-exit port. */
export const PC_DEBUG_EXIT_PORT = DEBUG_EXIT_PORT;
/** The most CPUs the board builds. */
export const PC_MAX_CPUS = 16;
/** The smallest RAM the board accepts. */
export const PC_MIN_MEMORY = 4 * 2 ** 20;

// ---- building the board ----------------------------------------------------------------------

/** The kernel the board boots. */
export interface PcKernel {
  /** The kernel entry (a virtual address): register code there in `machine.kernelText`. */
  entry: bigint;
  /** Size of the kernel image region in bytes (at least the image's length). */
  size: number;
  /** Its physical address (default {@link PC_KERNEL_BASE}, 4 KiB-aligned). */
  phys?: number;
  /** Its link address (default {@link KERNEL_VIRT_BASE}). */
  virtualBase?: bigint;
  /** Bytes to copy into the region, if any. */
  image?: Uint8Array;
}

/** How to build the board. */
export interface PcOptions {
  /** RAM in bytes (default 256 MiB; up to 64 GiB). */
  memory?: number;
  /** Number of CPUs, 1 to {@link PC_MAX_CPUS} (default 1). */
  cpus?: number;
  /** The seed for the interleaving (default 1). */
  seed?: number;
  /** Quantum bounds in ns (see MachineOptions). */
  quantumMinNs?: number;
  /** See `quantumMinNs`. */
  quantumMaxNs?: number;
  /** A trace to record into. */
  trace?: Trace;
  /** The kernel. */
  kernel: PcKernel;
  /** Modules to load after the kernel. */
  modules?: FirmwareModule[];
  /** The kernel command line. */
  cmdline?: string;
  /** Receives every byte COM1 transmits (default: discarded). */
  transmit?: (byte: number) => void;
  /**
   * Builds CPU `index` (APIC ID = index) on `machine`, with `io` as its port space, and
   * puts it in `machine.cpus[index]`. It must start waiting for SIPI.
   */
  cpu: (machine: Machine<X86Cpu>, index: number, io: Bus) => X86Cpu;
}

/** A built board: the machine and handles on its devices, for the host and graders. */
export interface PcBoard {
  /** The machine, ready to run. */
  machine: Machine<X86Cpu>;
  /** The CPUs, by index. */
  cpus: X86Cpu[];
  /** The I/O port space. */
  io: Bus;
  /** The APIC bus (IPIs, I/O APIC messages, MSIs). */
  apicBus: ApicBus;
  /** The local APICs, by CPU index. */
  lapics: LocalApic[];
  /** The I/O APIC. */
  ioapic: IoApic;
  /** The HPET. */
  hpet: Hpet;
  /** COM1: `receive` feeds it input. */
  uart: Uart16550;
  /** The debug-exit port. */
  debugExit: DebugExit;
  /** RAM windows. */
  ram: RamRange[];
  /** What the firmware laid out (page tables, GDT, stack, ACPI, boot information). */
  firmware: FirmwareLayout;
  /** The ACPI tables as written. */
  acpi: AcpiLayout;
  /** The boot information as written. */
  bootInfo: BootInfo;
  /** Its physical address (RDI at entry). */
  bootInfoAddress: number;
}

/** Where RAM of `memory` bytes lies on the PC: low RAM, then the rest above 4 GiB. */
export function pcRamLayout(memory: number): RamRange[] {
  const low = Math.min(memory, PC_LOW_RAM_TOP);
  const ram = [{ base: 0, size: low }];
  if (memory > low) ram.push({ base: PC_HIGH_RAM_BASE, size: memory - low });
  return ram;
}

/** What the board's ACPI tables describe for `cpus` CPUs. */
export function pcAcpiConfig(cpus: readonly { apicId: number }[]): AcpiConfig {
  return {
    localApicAddress: LAPIC_BASE,
    madtFlags: 0, // no 8259s on this board
    cpus: cpus.map((c, i) => ({ uid: i, apicId: c.apicId, flags: MADT_CPU_ENABLED })),
    ioapics: [{ id: PC_IOAPIC_ID, address: IOAPIC_BASE, gsiBase: 0 }],
    overrides: [
      // ISA IRQ 0 (the PIT's, and the HPET's in legacy mode) arrives at GSI 2.
      { bus: 0, source: 0, gsi: 2, flags: MPS_INTI_ACTIVE_HIGH | MPS_INTI_EDGE },
    ],
    hpet: {
      blockId: Number(Hpet.capabilities() & 0xffff_ffffn),
      address: HPET_BASE,
      number: 0,
      minTick: 128,
      protection: 0,
    },
    ecam: [{ base: PC_ECAM_BASE, segment: 0, startBus: 0, endBus: 255 }],
  };
}

/**
 * Builds the PC and boots it to the kernel entry. Throws a RangeError that says what does
 * not fit when the options are impossible (too many CPUs, RAM too small): those are host
 * mistakes, not guest behaviour.
 */
export function createPc(options: PcOptions): PcBoard {
  const memory = options.memory ?? RAM_DEFAULT;
  const ncpus = options.cpus ?? 1;
  if (!Number.isInteger(ncpus) || ncpus < 1 || ncpus > PC_MAX_CPUS) {
    throw new RangeError(`the PC has 1 to ${PC_MAX_CPUS} CPUs, not ${ncpus}`);
  }
  if (!(memory >= PC_MIN_MEMORY && memory <= RAM_MAX)) {
    throw new RangeError(
      `PC RAM must be ${formatSize(PC_MIN_MEMORY)} to ${formatSize(RAM_MAX)}, not ${memory} bytes`,
    );
  }
  const machine = new Machine<X86Cpu>({
    memory,
    seed: options.seed,
    trace: options.trace,
    quantumMinNs: options.quantumMinNs,
    quantumMaxNs: options.quantumMaxNs,
  });
  const bus = machine.bus;
  const ram = pcRamLayout(memory);
  let offset = 0;
  for (const w of ram) {
    bus.addRam(w.base, w.size, offset);
    offset += w.size;
  }

  const io = new Bus(undefined, "I/O port space");
  io.trace = machine.trace;
  const cpus = Array.from({ length: ncpus }, (_, i) => {
    const cpu = options.cpu(machine, i, io);
    machine.cpus[i] = cpu;
    return cpu;
  });

  const apicBus = new ApicBus({
    clock: machine,
    report: (cpu, message) => machine.report(cpu, message),
    trace: machine.trace,
  });
  const lapics = cpus.map((cpu) =>
    apicBus.addLocalApic({ apicId: cpu.apicId, cpu, tsc: () => cpu.rdtsc() })
  );
  const msrHook = lapicMsrHook(apicBus);
  cpus.forEach((cpu, i) => {
    cpu.apic = lapics[i];
    cpu.msrHook = msrHook;
  });
  bus.map(LAPIC_BASE, LAPIC_REGION_SIZE, new LapicMmio(apicBus));

  const ioapic = new IoApic({ bus: apicBus, id: PC_IOAPIC_ID });
  bus.map(IOAPIC_BASE, IOAPIC_SIZE, ioapic);
  const hpet = new Hpet({ clock: machine, irq: (pin) => ioapic.input(pin), trace: machine.trace });
  bus.map(HPET_BASE, HPET_SIZE, hpet);

  const uart = new Uart16550({
    name: "com1",
    transmit: options.transmit,
    irq: ioapic.input(PC_COM1_IRQ),
    clock: machine,
    clockHz: PC_COM1_CLOCK_HZ,
  });
  io.map(PC_COM1_PORT, 8, uart);
  const debugExit = new DebugExit(machine);
  io.map(DEBUG_EXIT_PORT, DEBUG_EXIT_SIZE, debugExit);

  const bootCpus: BootCpu[] = cpus.map((c, i) => ({
    index: i,
    hwId: c.apicId,
    flags: i === 0 ? CPU_FLAG_BOOT : 0,
  }));
  const firmware = layOutFirmware({
    bus,
    ram,
    reserved: [...PC_FIRMWARE_RESERVED, ...PC_MMIO_RESERVED],
    kernel: {
      phys: options.kernel.phys ?? PC_KERNEL_BASE,
      size: options.kernel.size,
      virt: options.kernel.virtualBase,
      image: options.kernel.image,
    },
    modules: options.modules,
    cmdline: options.cmdline,
    acpi: pcAcpiConfig(cpus),
    cpus: bootCpus,
  });
  enterKernel(cpus[0], firmware, options.kernel.entry);
  return {
    machine,
    cpus,
    io,
    apicBus,
    lapics,
    ioapic,
    hpet,
    uart,
    debugExit,
    ram,
    firmware,
    acpi: firmware.acpi,
    bootInfo: firmware.bootInfo,
    bootInfoAddress: firmware.bootInfoAddress,
  };
}

export { KERNEL_VIRT_BASE };
