/**
 * The Arch interface: everything the architecture-independent kernel (kernel/) needs from an
 * architecture port (arch/riscv64/, arch/x86_64/). It is what a real kernel keeps in its
 * `arch/` directory in assembly and arch-specific C: trap entry and exit, the saved register
 * state, the timer, the MMU's switch, the firmware's tables.
 *
 * **Status: stable.** The RISC-V port implements it end to end (arch/riscv64/arch.ts); the
 * x86-64 port implements the same interface. Changes from here on are additive.
 *
 * ## The hosted model, from the port's side
 *
 * The kernel is entered only through the entries the port registers in the machine's kernel
 * text (the boot entry, the trap entry, the idle resume address) and written into the CPU
 * (stvec; the IDT, LSTAR and the start-up vector on x86-64). A port's entry
 *
 * 1. records which CPU is running (every method below acts on that CPU),
 * 2. decodes what happened into the CPU's {@link Trap} record (RISC-V: scause, stval,
 *    sepc; x86-64: the vector, the error code, CR2, the frame the CPU pushed), and
 * 3. calls the kernel's {@link TrapHandler}, which ends, always, by calling
 *    {@link Arch.returnToUser} or {@link Arch.idle} (or {@link Arch.powerOff}).
 *
 * While an entry runs, the interrupted thread's user registers are still in the CPU: the
 * kernel reads syscall arguments from them and writes results into them. Only a context
 * switch moves them to RAM ({@link Arch.saveUserState}) and back ({@link Arch.loadUserState}).
 *
 * ## What each port does for each method
 *
 * | method            | riscv64                                 | x86_64                             |
 * | ----------------- | --------------------------------------- | ---------------------------------- |
 * | `mem`             | loads/stores at HHDM_BASE + pa (Bare: pa) | loads/stores at HHDM_BASE + pa   |
 * | `tlb`             | sfence.vma vaddr, asid                  | invlpg, invpcid                    |
 * | `enablePaging`    | satp = Sv48 root, ASID 0                | CR3 = root (CR4.PCIDE set)         |
 * | `activate`        | satp = root with the ASID               | CR3 = root with the PCID           |
 * | `setTimer`        | stimecmp (Sstc) or SBI set_timer        | LAPIC timer (calibrated by HPET)   |
 * | `installTraps`    | stvec                                   | GDT, TSS, IDT, LSTAR/STAR/SFMASK   |
 * | `setKernelStack`  | sscratch                                | TSS.RSP0                           |
 * | `returnToUser`    | sret                                    | sysretq or iretq                   |
 * | `idle`            | sstatus.SIE = 1; wfi                    | sti; hlt                           |
 * | `powerOff`        | SBI SRST                                | the debug-exit port                |
 * | `panicWrite`      | SBI DBCN console_write_byte             | COM1 polled directly               |
 * | `discover`        | the devicetree at `boot.dtb`            | ACPI (MADT, HPET) at `boot.rsdp`   |
 *
 * ## Contracts the kernel relies on
 *
 * - A trap's `from` is `"user"` when the CPU was in user mode, `"idle"` when it was waiting in
 *   {@link Arch.idle} (sepc / the frame's RIP is the idle resume address), else `"kernel"`.
 * - For a syscall the port has stepped the pc past the trap instruction before the handler
 *   runs; for an exception it has not (the faulting instruction is the trap's `pc`).
 * - The port acknowledges what only it can (RISC-V: clears sip.SSIP for an IPI; x86-64: the
 *   LAPIC's EOI); the timer interrupt is cleared by the next {@link Arch.setTimer}.
 * - The kernel calls {@link Arch.setKernelStack} on every switch and checks
 *   {@link Arch.kernelStack} on every trap: a port must read back what the CPU will use.
 * - Kernel entries run with interrupts off; only {@link Arch.idle} waits with them on.
 * - Future SMP work (start-up of the other CPUs, IPIs, TLB shoot-down) adds methods here; it
 *   changes none of these.
 *
 * Physical addresses are numbers, virtual addresses unsigned 64-bit bigints, as in
 * components.ts. Times are nanoseconds of virtual time since the machine started.
 *
 * @module
 */

import type { PageTablesFactory, TlbControl, UartRegisters } from "./components.ts";
import type { PhysMem } from "./mm/phys.ts";
import type { KernelBootInfo } from "./bootinfo.ts";
import type { Trap } from "./trap.ts";

/** The architectures the kernel runs on. */
export type ArchName = "riscv64" | "x86_64";

/** The kind of memory access, as fault reports name it. */
export type Access = "read" | "write" | "execute";

/** A range of physical addresses. */
export interface PhysRange {
  /** First byte. */
  base: number;
  /** Length in bytes. */
  length: number;
}

/** A device whose registers the kernel maps at `DEVICE_BASE + base`. */
export interface DeviceRegion extends PhysRange {
  /** A name for the boot log: "uart0", "plic", "lapic". */
  name: string;
}

/** The console UART, as the firmware tables describe it. */
export interface ConsoleInfo {
  /** A name for the log, e.g. "ns16550a at 0x1000_0000" or "COM1 at port 0x3f8". */
  name: string;
  /** The input clock of the UART (its divisor is clock / (16 × baud)). */
  clockHz: number;
  /** Its interrupt line at the interrupt controller (PLIC source, GSI). */
  irq: number;
}

/**
 * What the port learnt from the firmware's own tables (the devicetree on RISC-V, ACPI on
 * x86-64). The boot-information block (memory map, modules, command line) is parsed by the
 * kernel itself (bootinfo.ts); this is the rest.
 */
export interface Platform {
  /** Where it came from, for the boot log: "devicetree at 0x8ff0_0000 (2 KiB)". */
  source: string;
  /** RAM, as the firmware tables give it (DTB `/memory` nodes, or the memory map). */
  memory: PhysRange[];
  /** The CPUs: their index (from 0) and hardware id (hart id, local APIC id). */
  cpus: { index: number; hwId: number }[];
  /** The console UART. */
  console: ConsoleInfo;
  /** The timer's input frequency (RISC-V timebase-frequency, the calibrated LAPIC timer). */
  timerHz: number;
  /** Device register blocks the kernel maps at `DEVICE_BASE + pa` (none for port I/O). */
  devices: DeviceRegion[];
  /** More lines for the boot log: interrupt controllers, ISA extensions, ... */
  notes: string[];
}

/**
 * The kernel's side of trap delivery: the port calls it from its trap entry, with the
 * CPU's {@link Trap} record filled in. The handler ends by leaving the kernel through
 * {@link Arch.returnToUser}, {@link Arch.idle} or {@link Arch.powerOff}.
 */
export interface TrapHandler {
  /** Handles `trap` on the CPU running now. */
  trap(trap: Trap): void;
}

/** An architecture port. One object serves every CPU: its methods act on the running one. */
export interface Arch {
  /** Which architecture. */
  readonly name: ArchName;

  // ---- the CPU running the current kernel entry ----------------------------------------

  /** Index (from 0) of the CPU running the current kernel entry. */
  cpuIndex(): number;

  // ---- memory -------------------------------------------------------------------------

  /**
   * Physical memory, through the current CPU's MMU: the direct map at HHDM_BASE once
   * {@link enablePaging} ran (RISC-V starts with satp = 0, so it is the identity before).
   */
  readonly mem: PhysMem;
  /** TLB maintenance on the current CPU (see TlbControl for the ASID 0 rule). */
  readonly tlb: TlbControl;
  /** The page-table format the MMU walks: "sv48" or "x86_64" (PageTables.format). */
  readonly pageTableFormat: string;
  /** The port's reference page tables, used when the components name none for its format. */
  readonly referencePageTables: PageTablesFactory;
  /**
   * How many address-space identifiers the TLB tags entries with (ASIDs, PCIDs), 0
   * included: 0 is the kernel's own address space, user spaces get 1 to asidCount - 1.
   */
  readonly asidCount: number;
  /**
   * The firmware's tables, parsed (RISC-V: the devicetree at `boot.dtb`; x86-64: ACPI at
   * `boot.rsdp`). Throws an Error naming what is wrong when they are malformed.
   */
  discover(boot: KernelBootInfo): Platform;
  /**
   * Switches the current CPU to the kernel's page tables at `root` (ASID 0). Afterwards
   * {@link mem} goes through the direct map and device registers through `DEVICE_BASE`.
   */
  enablePaging(root: number): void;
  /** Makes (`root`, `asid`) the current CPU's address space (satp, CR3). Flushes nothing. */
  activate(root: number, asid: number): void;
  /**
   * How the current CPU's MMU translates `va` in the active address space, in words (the
   * CPU's own walk: RISC-V `translate()`), for fault reports.
   */
  explainTranslation(va: bigint, access: Access, user: boolean): string;

  // ---- the console and power ------------------------------------------------------------

  /** The console UART's registers (MMIO through the device map, or I/O ports). */
  consoleRegisters(platform: Platform): UartRegisters;
  /** Powers the machine off; `failure` reports a failure (a panic) instead of success. */
  powerOff(failure: boolean): void;
  /**
   * Writes `text` by the most basic means the platform has, bypassing the console driver
   * (RISC-V: SBI DBCN; x86-64: polling COM1 directly): for a panic whose console failed.
   */
  panicWrite(text: string): void;
  /**
   * When `error` is a CPU fault raised by one of the kernel's own accesses (a page fault on
   * a bad direct-map address), describes it with the MMU's walk; otherwise undefined.
   */
  describeKernelFault(error: unknown): string | undefined;

  // ---- time ---------------------------------------------------------------------------

  /** The current CPU's clock: ns of virtual time (the `time` CSR, the TSC). */
  nowNs(): number;
  /**
   * Sets up the current CPU's timer and enables its interrupt; returns what it chose, for
   * the log ("Sstc stimecmp", "SBI TIME extension", "LAPIC timer, 1 GHz by the HPET").
   * `preferFirmware` asks for the firmware's timer where the CPU has its own (RISC-V: the
   * SBI rather than Sstc), so both paths can be exercised.
   */
  startTimer(platform: Platform, preferFirmware: boolean): string;
  /** Arms the current CPU's one-shot timer for `deadlineNs` (Infinity: disarm). */
  setTimer(deadlineNs: number): void;

  // ---- traps --------------------------------------------------------------------------

  /**
   * Points the current CPU's trap delivery at the port's trap entry (stvec; the IDT,
   * SYSCALL MSRs and TSS), which hands every trap to `handler`.
   */
  installTraps(handler: TrapHandler): void;

  // ---- threads ------------------------------------------------------------------------

  /** Frames of kernel stack each thread gets (its save area is at the top). */
  readonly kernelStackFrames: number;
  /** Bytes of the save area at the top of a kernel stack. */
  readonly saveAreaSize: number;
  /**
   * Writes a new thread's initial user state into the save area below `kstackTop`: it
   * starts in user mode at `entry`, with stack pointer `stack`, `arg` in the first argument
   * register, every other register 0, interrupts enabled.
   */
  initUserState(kstackTop: number, entry: bigint, stack: bigint, arg: bigint): void;
  /** Saves the current CPU's user state (every register, pc, status) below `kstackTop`. */
  saveUserState(kstackTop: number): void;
  /** Loads the user state saved below `kstackTop` into the current CPU. */
  loadUserState(kstackTop: number): void;
  /**
   * Tells the current CPU where the next trap finds its kernel stack: sscratch on RISC-V,
   * TSS.RSP0 on x86-64. `kstackTop` is physical; the port uses its direct-map address.
   */
  setKernelStack(kstackTop: number): void;
  /** The kernel stack top the current CPU would use now (for the kernel's check), physical. */
  kernelStack(): number;
  /** The syscall number of the current trap (a7, rax). */
  syscallNumber(): bigint;
  /** Syscall argument `i` (0 to 5) of the current trap. */
  syscallArg(i: number): bigint;
  /** Writes a syscall's two results (a0/a1, rax/rdx) into the current CPU's registers. */
  setSyscallResult(r0: bigint, r1: bigint): void;
  /** The current CPU's user registers in words, for panic and fault reports. */
  describeUserState(): string;
  /** Leaves the kernel for user mode on the current CPU (sret, sysretq or iretq). */
  returnToUser(): void;
  /**
   * Leaves the kernel to wait, interrupts enabled (wfi, hlt). The next interrupt arrives
   * as a trap with `from = "idle"`.
   */
  idle(): void;
}
