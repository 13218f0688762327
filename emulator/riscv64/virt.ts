/**
 * The RISC-V `virt` board: QEMU's memory map, its CLINT, PLIC and 16550 UART, the SBI
 * firmware in OpenSBI's place, and the boot that hands the kernel a devicetree and the
 * boot-information block.
 *
 * ## Memory map (QEMU `hw/riscv/virt.c`, `virt_memmap`)
 *
 * | address        | size        | what                                             |
 * | -------------- | ----------- | ------------------------------------------------ |
 * | 0x0200_0000    | 0x1_0000    | CLINT (M-mode only, as under OpenSBI's PMP)      |
 * | 0x0c00_0000    | 0x60_0000   | PLIC, 95 sources, contexts 2h (M) and 2h+1 (S)   |
 * | 0x1000_0000    | 0x100       | UART0, 16550A, PLIC source 10                    |
 * | 0x8000_0000    | 0x20_0000   | firmware (OpenSBI's place): M-mode only          |
 * | 0x8020_0000    | ...         | the kernel image, then the modules, then RAM     |
 *
 * The constants for QEMU's other devices (the PCIe host bridge, virtio, the test
 * finisher) are exported for the boards' other devices; they are not mapped here.
 *
 * ## Boot (what OpenSBI and a boot loader would have done)
 *
 * 1. The firmware region 0x8000_0000..0x8020_0000 is reserved; S-mode accesses to it are
 *    access faults, as OpenSBI's PMP makes them.
 * 2. The kernel image region starts at {@link VIRT_KERNEL_BASE}; its size is the caller's
 *    (a hosted kernel's code is TypeScript, but its image may hold data). The image bytes,
 *    when given, are copied there.
 * 3. Modules (an initial RAM disk, server images) are copied after it, each at a 4 KiB
 *    boundary.
 * 4. At the top of RAM, in one 4 KiB-aligned block: the devicetree blob, then the
 *    boot-information block (`core/bootinfo.ts`), both "bootloader reclaimable".
 * 5. Hart 0 starts in S-mode at the kernel entry (registered by the caller in
 *    `machine.kernelText`) with a0 = hart id, a1 = DTB address, a2 = boot-information
 *    address and satp = 0. The other harts stay stopped until SBI HSM `hart_start`.
 *
 * @module
 */

import { type Device, readRam, writeRam } from "../core/bus.ts";
import {
  type BootInfo,
  bootInfoSize,
  CPU_FLAG_BOOT,
  MEMMAP_BOOTLOADER_RECLAIMABLE,
  MEMMAP_KERNEL_AND_MODULES,
  MEMMAP_RESERVED,
  MEMMAP_USABLE,
  type MemoryRegion,
  writeBootInfo,
} from "../core/bootinfo.ts";
import { UNCONNECTED } from "../core/irq.ts";
import { Machine } from "../core/machine.ts";
import { formatSize, hex, type Ram, RAM_DEFAULT, RAM_MAX } from "../core/memory.ts";
import type { Trace } from "../core/trace.ts";
import { Uart16550 } from "../devices/uart16550.ts";
import { Clint, VIRT_CLINT_SIZE } from "./clint.ts";
import { IRQ_S_EXT, TIMEBASE_HZ } from "./csr.ts";
import { type DtNode, type Fdt, node, u32, u64, writeFdt } from "./dtb.ts";
import type { Hart } from "./hart_api.ts";
import { RiscvHart } from "./hart.ts";
import { Plic, VIRT_PLIC_NDEV, VIRT_PLIC_SIZE } from "./plic.ts";
import { SbiFirmware } from "./sbi.ts";

export { VIRT_CLINT_SIZE, VIRT_PLIC_NDEV, VIRT_PLIC_SIZE };

// ---- the memory map ------------------------------------------------------------------------

/** QEMU's test finisher (`sifive,test1`); not mapped on this board. */
export const VIRT_TEST_BASE = 0x10_0000;
/** The CLINT. */
export const VIRT_CLINT_BASE = 0x0200_0000;
/** The PCIe host bridge's I/O port window; not mapped here (the PCI device's). */
export const VIRT_PCIE_PIO_BASE = 0x0300_0000;
/** The PLIC. */
export const VIRT_PLIC_BASE = 0x0c00_0000;
/** UART0. */
export const VIRT_UART0_BASE = 0x1000_0000;
/** UART0's register block. */
export const VIRT_UART0_SIZE = 0x100;
/** UART0's PLIC source. */
export const VIRT_UART0_IRQ = 10;
/** UART0's input clock, as QEMU's devicetree gives it (`clock-frequency`). */
export const VIRT_UART0_CLOCK_HZ = 3_686_400;
/** The first of QEMU's eight virtio-mmio slots (0x1000 apart, PLIC sources 1..8). */
export const VIRT_VIRTIO_BASE = 0x1000_1000;
/** The PCIe ECAM window (configuration space); not mapped here. */
export const VIRT_PCIE_ECAM_BASE = 0x3000_0000;
/** The size of the ECAM window: 256 buses. */
export const VIRT_PCIE_ECAM_SIZE = 0x1000_0000;
/** The 32-bit PCIe memory window. */
export const VIRT_PCIE_MMIO_BASE = 0x4000_0000;
/** The size of the 32-bit PCIe memory window. */
export const VIRT_PCIE_MMIO_SIZE = 0x4000_0000;
/** The PLIC sources of PCIe INTA..INTD: 32..35. */
export const VIRT_PCIE_IRQ_BASE = 32;
/** RAM. */
export const VIRT_RAM_BASE = 0x8000_0000;
/** The firmware's reserved region at the start of RAM. */
export const VIRT_FIRMWARE_SIZE = 0x20_0000;
/** Where the kernel image starts (OpenSBI's FW_JUMP_ADDR on rv64). */
export const VIRT_KERNEL_BASE: number = VIRT_RAM_BASE + VIRT_FIRMWARE_SIZE;
/** The most harts this board builds. */
export const VIRT_MAX_HARTS = 16;
/** The ISA string of every hart: Svade says that a clear A or D bit faults (the hart never writes a PTE). */
export const VIRT_ISA = "rv64imac_zicsr_zifencei_zicntr_sstc_svade";
/** The MMU every hart reports. */
export const VIRT_MMU_TYPE = "riscv,sv48";

/** The devicetree path of the console. */
const STDOUT_PATH = `/soc/serial@${VIRT_UART0_BASE.toString(16)}`;
const PAGE = 4096;

// ---- building the board ----------------------------------------------------------------------

/** The kernel the board boots. */
export interface VirtKernel {
  /** Size of the kernel image region in bytes (at least the image's length). */
  size: number;
  /** Physical entry address (default {@link VIRT_KERNEL_BASE}); register code there. */
  entry?: bigint | number;
  /** Bytes to copy to {@link VIRT_KERNEL_BASE}, if any. */
  image?: Uint8Array;
  /** The virtual address the kernel is linked at, for the boot information (default: physical). */
  virtualBase?: bigint;
}

/** A module to load after the kernel. */
export interface VirtModule {
  /** Its name, as the boot information reports it (a path). */
  name: string;
  /** Its contents. */
  data: Uint8Array;
}

/** How to build the board. */
export interface VirtOptions {
  /** RAM in bytes (default 256 MiB; up to 64 GiB). */
  memory?: number;
  /** Number of harts, 1 to {@link VIRT_MAX_HARTS} (default 1). */
  harts?: number;
  /** The seed for the interleaving (default 1). */
  seed?: number;
  /** Quantum bounds in ns (see MachineOptions). */
  quantumMinNs?: number;
  /** See `quantumMinNs`. */
  quantumMaxNs?: number;
  /** A trace to record into. */
  trace?: Trace;
  /** The kernel image region. */
  kernel: VirtKernel;
  /** Modules to load after the kernel. */
  modules?: VirtModule[];
  /** The kernel command line (`/chosen/bootargs` and the boot information). */
  cmdline?: string;
  /** Receives every byte UART0 transmits (default: discarded). */
  transmit?: (byte: number) => void;
  /** Builds hart `index` (hart id = index), stopped (default: a {@link RiscvHart}). */
  hart?: (machine: Machine<Hart>, index: number) => Hart;
}

/** A built board: the machine and handles on its devices, for the host and graders. */
export interface VirtBoard {
  /** The machine, ready to run. */
  machine: Machine<Hart>;
  /** The harts, by hart id. */
  harts: Hart[];
  /** UART0: `receive` feeds it input. */
  uart: Uart16550;
  /** The CLINT. */
  clint: Clint;
  /** The PLIC. */
  plic: Plic;
  /** The SBI firmware. */
  firmware: SbiFirmware;
  /** The devicetree as written to RAM. */
  dtb: Uint8Array;
  /** Its physical address (a1 at entry). */
  dtbAddress: number;
  /** The boot information as written to RAM. */
  bootInfo: BootInfo;
  /** Its physical address (a2 at entry). */
  bootInfoAddress: number;
}

/**
 * Builds the virt board and boots it to the kernel entry. Throws a RangeError that says
 * what does not fit when the options are impossible (too many harts, RAM too small for
 * the kernel and modules): those are host mistakes, not guest behaviour.
 */
export function createVirt(options: VirtOptions): VirtBoard {
  const memory = options.memory ?? RAM_DEFAULT;
  const nharts = options.harts ?? 1;
  if (!Number.isInteger(nharts) || nharts < 1 || nharts > VIRT_MAX_HARTS) {
    throw new RangeError(`the virt board has 1 to ${VIRT_MAX_HARTS} harts, not ${nharts}`);
  }
  if (memory > RAM_MAX || memory < 4 * 2 ** 20) {
    throw new RangeError(`virt RAM must be 4 MiB to ${formatSize(RAM_MAX)}, not ${memory} bytes`);
  }
  const machine = new Machine<Hart>({
    memory,
    seed: options.seed,
    trace: options.trace,
    quantumMinNs: options.quantumMinNs,
    quantumMaxNs: options.quantumMaxNs,
  });
  const bus = machine.bus;

  const makeHart = options.hart ?? ((m: Machine<Hart>, i: number) => new RiscvHart(m, i));
  const harts = Array.from({ length: nharts }, (_, i) => makeHart(machine, i));
  machine.cpus.push(...harts);
  const firmware = new SbiFirmware({
    machine,
    clintBase: VIRT_CLINT_BASE,
    uartBase: VIRT_UART0_BASE,
  });
  for (const h of harts) h.firmware = firmware.call;

  const clint = new Clint({
    harts: nharts,
    clock: machine,
    mtip: harts.map((h) => firmware.mtipLine(h.hartId)),
    msip: harts.map((h) => firmware.msipLine(h.hartId)),
  });
  bus.map(VIRT_CLINT_BASE, VIRT_CLINT_SIZE, clint);

  // Context 2h is the hart's M-mode: its MEIP is never enabled by the firmware (OpenSBI
  // leaves mie.MEIE clear), so it goes nowhere. Context 2h+1 drives sip.SEIP.
  const targets = harts.flatMap((h) => [
    UNCONNECTED,
    { set: (level: boolean) => h.setInterruptPending(IRQ_S_EXT, level) },
  ]);
  const plic = new Plic({ contexts: 2 * nharts, targets });
  bus.map(VIRT_PLIC_BASE, VIRT_PLIC_SIZE, plic);

  const uart = new Uart16550({
    name: "uart0",
    transmit: options.transmit,
    irq: plic.input(VIRT_UART0_IRQ),
    clock: machine,
    clockHz: VIRT_UART0_CLOCK_HZ,
  });
  bus.map(VIRT_UART0_BASE, VIRT_UART0_SIZE, uart);

  // The RAM buffer covers all of RAM; S-mode sees it from the kernel base up.
  bus.map(VIRT_RAM_BASE, VIRT_FIRMWARE_SIZE, new FirmwareRegion(machine.ram));
  bus.addRam(VIRT_KERNEL_BASE, memory - VIRT_FIRMWARE_SIZE, VIRT_FIRMWARE_SIZE);

  const boot = layOut(machine, options, memory, nharts);
  for (const h of harts) h.stop();
  const entry = BigInt(options.kernel.entry ?? VIRT_KERNEL_BASE);
  harts[0].start(entry, BigInt(boot.dtbAddress));
  harts[0].x[12] = BigInt(boot.bootInfoAddress);
  return { machine, harts, uart, clint, plic, firmware, ...boot };
}

/** Copies the kernel and modules, writes the DTB and boot information; returns where. */
function layOut(
  machine: Machine<Hart>,
  options: VirtOptions,
  memory: number,
  nharts: number,
): Pick<VirtBoard, "dtb" | "dtbAddress" | "bootInfo" | "bootInfoAddress"> {
  const bus = machine.bus;
  const ramEnd = VIRT_RAM_BASE + memory;
  const kernel = options.kernel;
  const kernelSize = Math.max(kernel.size, kernel.image?.length ?? 0);
  let cursor = alignUp(VIRT_KERNEL_BASE + kernelSize, PAGE);
  const fits = (end: number, what: string) => {
    if (end > ramEnd) {
      throw new RangeError(
        `${what} ends at ${hex(end)}, past the end of ${formatSize(memory)} of RAM at ${
          hex(ramEnd)
        }: give the board more memory`,
      );
    }
  };
  fits(cursor, "the kernel image");
  if (kernel.image) bus.writeBytes(VIRT_KERNEL_BASE, kernel.image);

  const modules = (options.modules ?? []).map((m) => {
    const base = cursor;
    fits(base + m.data.length, `module ${m.name}`);
    bus.writeBytes(base, m.data);
    cursor = alignUp(base + m.data.length, PAGE);
    return { base, length: m.data.length, name: m.name };
  });
  const loadedEnd = cursor;

  const cmdline = options.cmdline ?? "";
  const fdt = virtDeviceTree({ memory, harts: nharts, cmdline });
  const dtb = writeFdt(fdt);
  const memoryMap = (top: number): MemoryRegion[] =>
    [
      { base: VIRT_RAM_BASE, length: VIRT_FIRMWARE_SIZE, type: MEMMAP_RESERVED },
      {
        base: VIRT_KERNEL_BASE,
        length: loadedEnd - VIRT_KERNEL_BASE,
        type: MEMMAP_KERNEL_AND_MODULES,
      },
      { base: loadedEnd, length: top - loadedEnd, type: MEMMAP_USABLE },
      { base: top, length: ramEnd - top, type: MEMMAP_BOOTLOADER_RECLAIMABLE },
    ].filter((r) => r.length > 0);

  const bootInfo: BootInfo = {
    hhdmOffset: 0n,
    rsdp: 0,
    dtb: 0,
    cmdline,
    memoryMap: memoryMap(ramEnd - PAGE), // a placeholder of the right shape, for the size
    modules,
    cpus: Array.from({ length: nharts }, (_, i) => ({
      index: i,
      hwId: i,
      flags: i === 0 ? CPU_FLAG_BOOT : 0,
    })),
    bootCpu: 0,
    kernelPhys: VIRT_KERNEL_BASE,
    kernelVirt: kernel.virtualBase ?? BigInt(VIRT_KERNEL_BASE),
    kernelSize,
  };
  const dtbSpace = alignUp(dtb.length, 8);
  const top = alignDown(ramEnd - dtbSpace - bootInfoSize(bootInfo), PAGE);
  if (top < loadedEnd) {
    throw new RangeError(
      `the devicetree and boot information (${ramEnd - top} bytes) do not fit between the ` +
        `modules' end at ${hex(loadedEnd)} and the end of RAM: give the board more memory`,
    );
  }
  bootInfo.memoryMap = memoryMap(top);
  bootInfo.dtb = top;
  const bootInfoAddress = top + dtbSpace;
  bus.writeBytes(top, dtb);
  writeBootInfo(bus, bootInfoAddress, bootInfo);
  return { dtb, dtbAddress: top, bootInfo, bootInfoAddress };
}

/**
 * The firmware's region: RAM that only M-mode may touch. Accesses from a hart (S- or
 * U-mode) are access faults, as under OpenSBI's PMP; the firmware and graders (cpu -1)
 * reach the RAM behind it.
 */
class FirmwareRegion implements Device {
  readonly name = "firmware (M-mode only)";
  readonly #ram: Ram;

  constructor(ram: Ram) {
    this.#ram = ram;
  }

  read(offset: number, size: number, cpu: number): bigint | undefined {
    return cpu >= 0 ? undefined : readRam(this.#ram, offset, size);
  }

  write(offset: number, size: number, value: bigint, cpu: number): boolean {
    if (cpu >= 0) return false;
    writeRam(this.#ram, offset, size, value);
    return true;
  }
}

// ---- the devicetree ---------------------------------------------------------------------------

/** What the board's devicetree depends on. */
export interface VirtTreeConfig {
  /** RAM in bytes. */
  memory: number;
  /** Number of harts. */
  harts: number;
  /** `/chosen/bootargs`. */
  cmdline: string;
}

/**
 * The board's devicetree, shaped as QEMU's virt writes it (plus OpenSBI's reserved-memory
 * node for its region): /cpus with each hart and its interrupt controller, /memory, /soc
 * with the CLINT, the PLIC and the UART, /chosen, and phandles linking interrupts to
 * their controllers.
 */
export function virtDeviceTree(config: VirtTreeConfig): Fdt {
  const ids = Array.from({ length: config.harts }, (_, i) => i);
  // Phandles: hart h is 2h+1, its interrupt controller 2h+2, the PLIC after them.
  const cpuPhandle = (h: number) => 2 * h + 1;
  const intcPhandle = (h: number) => 2 * h + 2;
  const plicPhandle = 2 * config.harts + 1;
  // Interrupt numbers of a hart's local controller: the mip/mie bit numbers.
  const [M_SOFT, M_TIMER, S_EXT, M_EXT] = [3, 7, 9, 11];
  const extensions = ["i", "m", "a", "c", "zicsr", "zifencei", "zicntr", "sstc", "svade"];

  const cpu = (h: number): DtNode =>
    node(`cpu@${h}`, {
      device_type: "cpu",
      reg: h,
      status: "okay",
      compatible: "riscv",
      "riscv,isa": VIRT_ISA,
      "riscv,isa-base": "rv64i",
      "riscv,isa-extensions": extensions,
      "mmu-type": VIRT_MMU_TYPE,
      phandle: cpuPhandle(h),
    }, [
      node("interrupt-controller", {
        "#interrupt-cells": 1,
        "interrupt-controller": true,
        compatible: "riscv,cpu-intc",
        phandle: intcPhandle(h),
      }),
    ]);

  const cpuMap = node("cpu-map", {}, [
    node("cluster0", {}, ids.map((h) => node(`core${h}`, { cpu: cpuPhandle(h) }))),
  ]);

  const soc = node("soc", {
    "#address-cells": 2,
    "#size-cells": 2,
    compatible: "simple-bus",
    ranges: true,
  }, [
    node(`clint@${VIRT_CLINT_BASE.toString(16)}`, {
      compatible: ["sifive,clint0", "riscv,clint0"],
      reg: u64(VIRT_CLINT_BASE, VIRT_CLINT_SIZE),
      "interrupts-extended": ids.flatMap((h) => [intcPhandle(h), M_SOFT, intcPhandle(h), M_TIMER]),
    }),
    node(`plic@${VIRT_PLIC_BASE.toString(16)}`, {
      compatible: ["sifive,plic-1.0.0", "riscv,plic0"],
      reg: u64(VIRT_PLIC_BASE, VIRT_PLIC_SIZE),
      "#address-cells": 0,
      "#interrupt-cells": 1,
      "interrupt-controller": true,
      "riscv,ndev": VIRT_PLIC_NDEV,
      // One pair per hart, in context order: 2h is M-mode (external 11), 2h+1 S-mode (9).
      "interrupts-extended": ids.flatMap((h) => [intcPhandle(h), M_EXT, intcPhandle(h), S_EXT]),
      phandle: plicPhandle,
    }),
    node(`serial@${VIRT_UART0_BASE.toString(16)}`, {
      compatible: "ns16550a",
      reg: u64(VIRT_UART0_BASE, VIRT_UART0_SIZE),
      "clock-frequency": VIRT_UART0_CLOCK_HZ,
      interrupts: VIRT_UART0_IRQ,
      "interrupt-parent": plicPhandle,
    }),
  ]);

  const root = node("", {
    "#address-cells": 2,
    "#size-cells": 2,
    compatible: "riscv-virtio",
    model: "riscv-virtio,deno-emulator",
  }, [
    node("chosen", { bootargs: config.cmdline, "stdout-path": STDOUT_PATH }),
    node(`memory@${VIRT_RAM_BASE.toString(16)}`, {
      device_type: "memory",
      reg: u64(VIRT_RAM_BASE, config.memory),
    }),
    node("reserved-memory", { "#address-cells": 2, "#size-cells": 2, ranges: true }, [
      node(`mmode_resv0@${VIRT_RAM_BASE.toString(16)}`, {
        reg: u64(VIRT_RAM_BASE, VIRT_FIRMWARE_SIZE),
        "no-map": true,
      }),
    ]),
    node("cpus", {
      "#address-cells": 1,
      "#size-cells": 0,
      "timebase-frequency": u32(TIMEBASE_HZ),
    }, [...ids.map(cpu), cpuMap]),
    soc,
  ]);
  return {
    root,
    reservations: [{ address: BigInt(VIRT_RAM_BASE), size: BigInt(VIRT_FIRMWARE_SIZE) }],
    bootCpuId: 0,
  };
}

function alignUp(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}

function alignDown(v: number, a: number): number {
  return Math.floor(v / a) * a;
}
