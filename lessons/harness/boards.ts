/**
 * The boards component cases run on: the real RISC-V `virt` board and the real PC, built
 * by their firmware exactly as `deno task boot` builds them, with a one-entry kernel whose
 * only code is the case.
 *
 * The case runs inside that kernel entry, on the boot CPU, as kernel code would: the code
 * under test reaches RAM through PhysMem (real loads and stores of the CPU: physical
 * addresses as they are on RISC-V, where the firmware enters with satp = 0; the
 * firmware's direct map at HHDM_BASE + pa on the PC, which enters with paging on) and the
 * UART through its registers (MMIO at 0x1000_0000 on RISC-V, I/O ports 0x3F8-0x3FF on the
 * PC). So an access to memory that is not there faults as on hardware, and every access
 * is counted (KERNEL_OP_BUDGET).
 *
 * The grader looks at the same hardware from outside, as a logic analyser would: RAM
 * through the bus with no CPU involved ({@link GraderRam}), the UART's registers through
 * `peek()`, and the bytes that reached the host side of the UART.
 *
 * Portable: no Deno or Node API.
 *
 * @module
 */

import type { BootInfo, MemoryRegion } from "../../emulator/core/bootinfo.ts";
import type { Cpu, Machine, StopReason } from "../../emulator/core/machine.ts";
import { hex } from "../../emulator/core/memory.ts";
import type { Uart16550 } from "../../emulator/devices/uart16550.ts";
import type { Hart } from "../../emulator/riscv64/hart_api.ts";
import {
  createVirt,
  VIRT_KERNEL_BASE,
  VIRT_RAM_BASE,
  VIRT_UART0_BASE,
  VIRT_UART0_CLOCK_HZ,
  VIRT_UART0_IRQ,
} from "../../emulator/riscv64/virt.ts";
import { X86Processor } from "../../emulator/x86_64/cpu.ts";
import type { X86Cpu } from "../../emulator/x86_64/cpu_api.ts";
import {
  createPc,
  KERNEL_VIRT_BASE,
  PC_COM1_CLOCK_HZ,
  PC_COM1_PORT,
} from "../../emulator/x86_64/pc.ts";
import { HartPhysMem } from "../../arch/riscv64/phys.ts";
import { CpuPhysMem } from "../../arch/x86_64/phys.ts";
import type { UartRegisters } from "../../kernel/components.ts";
import type { PhysMem } from "../../kernel/mm/phys.ts";
import { type ArchName, type BoardSpec, DEFAULT_CASE_MEMORY } from "./define.ts";

/** The size of the case kernel's image region: it holds no bytes, only the entry. */
export const CASE_KERNEL_SIZE = 64 * 1024;

/** The name the case's kernel entry is registered under (it appears in machine reports). */
export const CASE_ENTRY_NAME = "lesson_case";

/** RAM as the grader sees it: the bus, with no CPU, no MMU and no operation counting. */
export interface GraderRam {
  /** Whether [pa, pa + length) is all RAM. */
  isRam(pa: number, length?: number): boolean;
  /** Reads `size` bytes at `pa`, or undefined where there is no RAM. */
  read(pa: number, size: number): bigint | undefined;
  /** Copies bytes out, or undefined when the range is not all RAM. */
  readBytes(pa: number, length: number): Uint8Array | undefined;
  /** Copies bytes in; false when the range is not all RAM. */
  writeBytes(pa: number, bytes: Uint8Array): boolean;
}

/** A board built for one case. */
export interface CaseBoard {
  /** Its architecture. */
  readonly arch: ArchName;
  /** The machine. */
  readonly machine: Machine<Cpu>;
  /** The memory map the firmware wrote into the boot information. */
  readonly memoryMap: readonly MemoryRegion[];
  /** The boot information the firmware wrote. */
  readonly bootInfo: BootInfo;
  /** Its physical address (the kernel receives it in a2 / rdi). */
  readonly bootInfoAddress: number;
  /** RAM, the grader's way. */
  readonly ram: GraderRam;
  /** The console UART (the grader peeks at its registers and feeds it input). */
  readonly uart: Uart16550;
  /** The UART's input clock. */
  readonly uartClockHz: number;
  /** Where the UART is, in words: "MMIO 0x1000_0000" or "I/O ports 0x3f8-0x3ff". */
  readonly uartLocation: string;
  /** Every byte the UART has sent to the host side, in order. */
  readonly transmitted: number[];
  /** PhysMem through the boot CPU (only inside the case's entry). */
  readonly cpuMem: PhysMem;
  /** The UART's registers through the boot CPU (only inside the case's entry). */
  readonly cpuUart: UartRegisters;
  /** Whether the interrupt controller sees the UART's interrupt pending, where it can tell. */
  uartIrqPending(): boolean | undefined;
  /**
   * The frames of RAM the hardware itself writes while a case runs: the firmware's page
   * tables on the PC, where the MMU sets the accessed and dirty bits of the entries it walks
   * (Intel SDM vol. 3A §4.8). None on RISC-V: the case runs with satp = 0, and the hart
   * never writes a PTE (Svade).
   */
  mmuTableFrames(): number[];
  /**
   * Runs `fn` inside one kernel entry on the boot CPU, then powers the machine off. Returns
   * what `fn` threw (undefined if nothing) and why the machine stopped. Call it once.
   */
  runEntry(fn: () => void): { thrown: unknown; reason: StopReason };
}

/** Builds `arch`'s board for a case. */
export function buildBoard(arch: ArchName, spec: BoardSpec, seed: number): CaseBoard {
  return arch === "riscv64" ? virtBoard(spec, seed) : pcBoard(spec, seed);
}

/** RAM windows: (physical base, size, offset in the machine's RAM buffer). */
interface Window {
  base: number;
  size: number;
  offset: number;
}

function graderRam(machine: Machine<Cpu>, windows: readonly Window[]): GraderRam {
  const u8 = machine.ram.u8;
  const offset = (pa: number, length: number): number => {
    for (const w of windows) {
      if (pa >= w.base && pa + length <= w.base + w.size) return w.offset + pa - w.base;
    }
    return -1;
  };
  return {
    isRam: (pa, length = 1) => Number.isSafeInteger(pa) && offset(pa, length) >= 0,
    read(pa, size) {
      const off = offset(pa, size);
      if (off < 0) return undefined;
      let v = 0n;
      for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(u8[off + i]);
      return v;
    },
    readBytes(pa, length) {
      const off = offset(pa, length);
      return off < 0 ? undefined : u8.slice(off, off + length);
    },
    writeBytes(pa, bytes) {
      const off = offset(pa, bytes.length);
      if (off < 0) return false;
      u8.set(bytes, off);
      return true;
    },
  };
}

/** Registers `fn` as the kernel entry at `entry`, runs the machine, and reports. */
function runOnce(
  machine: Machine<Cpu>,
  entry: bigint,
  setCpu: (cpu: Cpu) => void,
): (fn: () => void) => { thrown: unknown; reason: StopReason } {
  let used = false;
  return (fn) => {
    if (used) throw new Error("runEntry: a case board runs one kernel entry");
    used = true;
    let thrown: unknown;
    machine.kernelText.register(entry, CASE_ENTRY_NAME, (cpu) => {
      setCpu(cpu);
      try {
        fn();
      } catch (e) {
        thrown = e;
      } finally {
        machine.powerOff(0, "the lesson case finished");
      }
    });
    const reason = machine.run();
    return { thrown, reason };
  };
}

/** The frames of 4-level page tables under the PML4 at `pml4`, as the grader walks them. */
function tableFrames(ram: GraderRam, pml4: number): number[] {
  const frames: number[] = [];
  const walk = (table: number, level: number) => {
    frames.push(table);
    if (level === 1) return;
    for (let i = 0; i < 512; i++) {
      const e = ram.read(table + 8 * i, 8) ?? 0n;
      const present = (e & 1n) !== 0n, large = (e & 0x80n) !== 0n;
      if (present && !(large && level < 4)) walk(Number(e & 0x000f_ffff_ffff_f000n), level - 1);
    }
  };
  walk(pml4, 4);
  return frames;
}

function virtBoard(spec: BoardSpec, seed: number): CaseBoard {
  const transmitted: number[] = [];
  const memory = spec.memory ?? DEFAULT_CASE_MEMORY;
  const board = createVirt({
    memory,
    seed,
    kernel: { size: CASE_KERNEL_SIZE, entry: VIRT_KERNEL_BASE },
    cmdline: spec.cmdline ?? "console=ttyS0",
    transmit: (b) => transmitted.push(b),
  });
  let hart: Hart | undefined;
  const current = (): Hart => {
    if (!hart) throw new Error("the board's CPU is reached only inside the case's kernel entry");
    return hart;
  };
  // satp = 0 at entry (Bare): a physical address is used as it is.
  const cpuMem = new HartPhysMem(current);
  const machine = board.machine as unknown as Machine<Cpu>;
  return {
    arch: "riscv64",
    machine,
    memoryMap: board.bootInfo.memoryMap,
    bootInfo: board.bootInfo,
    bootInfoAddress: board.bootInfoAddress,
    ram: graderRam(machine, [{ base: VIRT_RAM_BASE, size: memory, offset: 0 }]),
    uart: board.uart,
    uartClockHz: VIRT_UART0_CLOCK_HZ,
    uartLocation: `MMIO ${hex(VIRT_UART0_BASE)}`,
    transmitted,
    cpuMem,
    cpuUart: {
      read: (reg) => Number(current().load(BigInt(VIRT_UART0_BASE + reg), 1)),
      write: (reg, value) => current().store(BigInt(VIRT_UART0_BASE + reg), 1, BigInt(value)),
    },
    uartIrqPending: () => board.plic.isPending(VIRT_UART0_IRQ),
    mmuTableFrames: () => [],
    runEntry: runOnce(machine, BigInt(VIRT_KERNEL_BASE), (c) => (hart = c as Hart)),
  };
}

function pcBoard(spec: BoardSpec, seed: number): CaseBoard {
  const transmitted: number[] = [];
  const board = createPc({
    memory: spec.memory ?? DEFAULT_CASE_MEMORY,
    seed,
    kernel: { size: CASE_KERNEL_SIZE, entry: KERNEL_VIRT_BASE },
    cmdline: spec.cmdline ?? "console=ttyS0",
    transmit: (b) => transmitted.push(b),
    cpu: (m, index, io) => new X86Processor(m, { index, io }),
  });
  let cpu: X86Cpu | undefined;
  const current = (): X86Cpu => {
    if (!cpu) throw new Error("the board's CPU is reached only inside the case's kernel entry");
    return cpu;
  };
  const machine = board.machine as unknown as Machine<Cpu>;
  let offset = 0;
  const windows = board.ram.map((r) => {
    const w = { base: r.base, size: r.size, offset };
    offset += r.size;
    return w;
  });
  return {
    arch: "x86_64",
    machine,
    memoryMap: board.bootInfo.memoryMap,
    bootInfo: board.bootInfo,
    bootInfoAddress: board.bootInfoAddress,
    ram: graderRam(machine, windows),
    uart: board.uart,
    uartClockHz: PC_COM1_CLOCK_HZ,
    uartLocation: `I/O ports ${hex(PC_COM1_PORT)}-${hex(PC_COM1_PORT + 7)}`,
    transmitted,
    // The firmware's direct map: every byte of RAM at HHDM_BASE + pa.
    cpuMem: new CpuPhysMem(current),
    // Port I/O: register r of COM1 is port 0x3F8 + r, reached with in and out.
    cpuUart: {
      read: (reg) => current().inb(PC_COM1_PORT + reg),
      write: (reg, value) => current().outb(PC_COM1_PORT + reg, value & 0xff),
    },
    uartIrqPending: () => undefined,
    mmuTableFrames: () => tableFrames(graderRam(machine, windows), board.firmware.pml4),
    runEntry: runOnce(machine, KERNEL_VIRT_BASE, (c) => (cpu = c as X86Cpu)),
  };
}
