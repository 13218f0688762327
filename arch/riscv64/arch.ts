/**
 * The RISC-V port of the kernel: the Arch interface (kernel/arch.ts) on an RV64 hart with
 * Sv48 and the SBI, and the kernel's three entry points.
 *
 * ## Entries (the kernel's "text")
 *
 * | address                    | name         | reached by                                 |
 * | -------------------------- | ------------ | ------------------------------------------ |
 * | {@link BOOT_ENTRY}         | `kmain`      | the firmware's jump, satp = 0, a0..a2 set  |
 * | {@link TRAP_ENTRY}         | `trap_entry` | stvec, on every trap                       |
 * | {@link IDLE_ENTRY}         | `idle`       | the resume address of the idle `wfi`       |
 *
 * The trap entry does what a real one does in assembly: it finds the current thread's
 * kernel stack (sscratch), reads scause, stval, sepc and sstatus, steps sepc past an
 * `ecall`, acknowledges a software interrupt, and hands the kernel one architecture-neutral
 * `Trap` (kernel/trap.ts). The user registers stay in the hart until the kernel switches
 * threads.
 *
 * ## Timer
 *
 * With Sstc (the devicetree lists it), the kernel writes stimecmp itself; without it (or
 * with `timer=platform` on the command line), it asks the firmware (SBI TIME set_timer). Either
 * way the timer is one-shot, re-armed on every exit from the kernel that needs it.
 *
 * @module
 */

import { CpuFault } from "../../emulator/core/hosted.ts";
import type { Machine } from "../../emulator/core/machine.ts";
import {
  CSR_SATP,
  CSR_SCAUSE,
  CSR_SEPC,
  CSR_SIE,
  CSR_SIP,
  CSR_SSCRATCH,
  CSR_SSTATUS,
  CSR_STIMECMP,
  CSR_STVAL,
  CSR_STVEC,
  CSR_TIME,
  EXC_BREAKPOINT,
  EXC_ECALL_U,
  EXC_ILLEGAL_INST,
  EXC_INST_ACCESS,
  EXC_INST_MISALIGNED,
  EXC_INST_PAGE_FAULT,
  EXC_LOAD_ACCESS,
  EXC_LOAD_MISALIGNED,
  EXC_LOAD_PAGE_FAULT,
  EXC_STORE_ACCESS,
  EXC_STORE_MISALIGNED,
  EXC_STORE_PAGE_FAULT,
  EXCEPTION_NAMES,
  INTERRUPT_NAMES,
  IRQ_S_EXT,
  IRQ_S_SOFT,
  IRQ_S_TIMER,
  makeSatp,
  SATP_MODE_SV48,
  SBI_EXT_BASE,
  SBI_EXT_DBCN,
  SBI_EXT_SRST,
  SBI_EXT_TIME,
  SCAUSE_INTERRUPT,
  SIP_SSIP,
  SIP_STIP,
  SSTATUS_SIE,
  SSTATUS_SPP,
  STVEC_MODE_DIRECT,
  TIMEBASE_HZ,
} from "../../emulator/riscv64/csr.ts";
import { ABI_NAMES, type Hart, PRIV_S, PRIV_U } from "../../emulator/riscv64/hart_api.ts";
import type { Access, Arch, Platform, TrapHandler } from "../../kernel/arch.ts";
import type { KernelBootInfo } from "../../kernel/bootinfo.ts";
import type { PageTablesFactory, TlbControl, UartRegisters } from "../../kernel/components.ts";
import { hex } from "../../kernel/format.ts";
import { DEVICE_BASE, HHDM_BASE, PAGE_SIZE } from "../../kernel/mm/phys.ts";
import { type TrapKind, TrapRecord } from "../../kernel/trap.ts";
import { initUserRegs, loadUserRegs, SAVE_AREA_SIZE, saveUserRegs } from "./context.ts";
import { readFdt } from "./fdt.ts";
import { HartPhysMem } from "./phys.ts";
import { devicetreePlatform, type RiscvPlatform } from "./platform.ts";
import {
  SBI_BASE_PROBE_EXTENSION,
  SBI_DBCN_CONSOLE_WRITE_BYTE,
  SBI_SRST_REASON_NONE,
  SBI_SRST_REASON_SYSTEM_FAILURE,
  SBI_SRST_SYSTEM_RESET,
  SBI_SRST_TYPE_SHUTDOWN,
  SBI_TIME_SET_TIMER,
  sbiCall,
} from "./sbi.ts";
import { createSv48PageTables } from "./sv48.ts";

/** Where the kernel image is linked (the top 2 GiB, as Linux and anos link theirs). */
export const KERNEL_VIRT_BASE = 0xffff_ffff_8000_0000n;
/** The trap entry, written to stvec. */
export const TRAP_ENTRY: bigint = KERNEL_VIRT_BASE + 0x1000n;
/** Where an idle hart resumes (and traps from: sepc of an interrupt taken in the idle wait). */
export const IDLE_ENTRY: bigint = KERNEL_VIRT_BASE + 0x2000n;

/** The all-ones "never" of stimecmp and SBI set_timer. */
const NEVER = 0xffff_ffff_ffff_ffffn;

/** The RISC-V port. One object serves every hart; `hart` is the one in the current entry. */
export class RiscvArch implements Arch {
  /** The architecture. */
  readonly name = "riscv64" as const;
  /** Sv48. */
  readonly pageTableFormat = "sv48";
  /** The reference Sv48 tables. */
  readonly referencePageTables: PageTablesFactory = createSv48PageTables;
  /** One 4 KiB frame of kernel stack per thread: it holds only the save area here. */
  readonly kernelStackFrames = 1;
  /** `struct user_regs` (context.ts). */
  readonly saveAreaSize: number = SAVE_AREA_SIZE;
  /** Physical memory through the current hart. */
  readonly mem: HartPhysMem;
  /** TLB maintenance with sfence.vma. */
  readonly tlb: TlbControl;
  /** The hart running the current kernel entry. */
  hart!: Hart;

  #asidCount = 1;
  #nsPerTick = 1e9 / TIMEBASE_HZ;
  #sstc = false;
  #paging = false;
  #handler: TrapHandler | undefined;
  readonly #traps: RiscvTrap[] = [];

  /** The port for `machine`'s harts. */
  constructor(readonly machine: Machine<Hart>) {
    this.mem = new HartPhysMem(() => this.hart);
    this.tlb = {
      // ASID 0 is the kernel's, whose mappings are global: flush them from every ASID.
      flushPage: (va, asid) => this.hart.sfenceVma(va, asid === 0 ? undefined : asid),
      flushAsid: (asid) => this.hart.sfenceVma(undefined, asid),
      flushAll: () => this.hart.sfenceVma(),
    };
  }

  /** ASIDs the hart implements (probed when paging is turned on, §10.1.11). */
  get asidCount(): number {
    return this.#asidCount;
  }

  /** Records the hart an entry runs on. */
  enter(hart: Hart): void {
    this.hart = hart;
  }

  cpuIndex(): number {
    return this.hart.index;
  }

  // ---- memory -----------------------------------------------------------------------------

  discover(boot: KernelBootInfo): Platform {
    if (!boot.dtb) throw new Error("the boot information gives no devicetree (dtb = 0)");
    const { root, size } = readFdt(this.mem, boot.dtb);
    const p = devicetreePlatform(root, `devicetree at ${hex(boot.dtb)} (${size} bytes)`);
    this.#nsPerTick = 1e9 / p.timerHz;
    this.#sstc = p.sstc;
    return p;
  }

  enablePaging(root: number): void {
    const hart = this.hart;
    // How many ASID bits are there? Write all ones and read back (§10.1.11).
    hart.csrw(CSR_SATP, makeSatp(SATP_MODE_SV48, 0xffff, root / PAGE_SIZE));
    const satp = hart.csrr(CSR_SATP);
    if (satp >> 60n !== BigInt(SATP_MODE_SV48)) {
      throw new Error(`this hart does not implement Sv48 (satp reads ${hex(satp)})`);
    }
    this.#asidCount = Number((satp >> 44n) & 0xffffn) + 1;
    hart.csrw(CSR_SATP, makeSatp(SATP_MODE_SV48, 0, root / PAGE_SIZE));
    hart.sfenceVma();
    this.mem.useDirectMap();
    this.#paging = true;
  }

  activate(root: number, asid: number): void {
    this.hart.csrw(CSR_SATP, makeSatp(SATP_MODE_SV48, asid, root / PAGE_SIZE));
  }

  explainTranslation(va: bigint, access: Access, user: boolean): string {
    return this.hart.translate(va, access, user ? PRIV_U : PRIV_S).explanation;
  }

  // ---- the console and power --------------------------------------------------------------

  consoleRegisters(platform: Platform): UartRegisters {
    const uart = platform.devices.find((d) => d.name === "uart0")!;
    const at = (reg: number) => (this.#paging ? DEVICE_BASE : 0n) + BigInt(uart.base + reg);
    return {
      read: (reg) => Number(this.hart.load(at(reg), 1)),
      write: (reg, value) => this.hart.store(at(reg), 1, BigInt(value & 0xff)),
    };
  }

  powerOff(failure: boolean): void {
    const reason = failure ? SBI_SRST_REASON_SYSTEM_FAILURE : SBI_SRST_REASON_NONE;
    sbiCall(
      this.hart,
      SBI_EXT_SRST,
      SBI_SRST_SYSTEM_RESET,
      BigInt(SBI_SRST_TYPE_SHUTDOWN),
      BigInt(reason),
    );
  }

  panicWrite(text: string): void {
    for (const b of new TextEncoder().encode(text)) {
      sbiCall(this.hart, SBI_EXT_DBCN, SBI_DBCN_CONSOLE_WRITE_BYTE, BigInt(b));
    }
  }

  describeKernelFault(error: unknown): string | undefined {
    if (!(error instanceof CpuFault)) return undefined;
    return `scause ${error.code} (${EXCEPTION_NAMES[error.code] ?? "?"}), stval ${hex(error.tval)}`;
  }

  // ---- time -------------------------------------------------------------------------------

  nowNs(): number {
    return Number(this.hart.csrr(CSR_TIME)) * this.#nsPerTick;
  }

  startTimer(platform: Platform, preferFirmware: boolean): string {
    this.#sstc = (platform as RiscvPlatform).sstc === true && !preferFirmware;
    let what = "Sstc stimecmp";
    if (!this.#sstc) {
      const probe = sbiCall(
        this.hart,
        SBI_EXT_BASE,
        SBI_BASE_PROBE_EXTENSION,
        BigInt(SBI_EXT_TIME),
      );
      if (probe.error !== 0 || probe.value === 0n) {
        throw new Error("no timer: the hart has no Sstc and the SBI has no TIME extension");
      }
      what = "SBI TIME extension (set_timer)";
    }
    this.hart.csrs(CSR_SIE, SIP_STIP);
    return what;
  }

  setTimer(deadlineNs: number): void {
    const ticks = deadlineNs === Infinity ? NEVER : BigInt(Math.ceil(deadlineNs / this.#nsPerTick));
    if (this.#sstc) this.hart.csrw(CSR_STIMECMP, ticks);
    else sbiCall(this.hart, SBI_EXT_TIME, SBI_TIME_SET_TIMER, ticks);
  }

  // ---- traps ------------------------------------------------------------------------------

  installTraps(handler: TrapHandler): void {
    this.#handler = handler;
    this.hart.csrw(CSR_STVEC, TRAP_ENTRY | BigInt(STVEC_MODE_DIRECT));
    this.hart.csrs(CSR_SIE, SIP_SSIP); // IPIs
  }

  /** The trap entry (stvec): decode, then hand the trap to the kernel. */
  trapEntry(hart: Hart): void {
    this.hart = hart;
    const trap = (this.#traps[hart.index] ??= new RiscvTrap());
    const scause = hart.csrr(CSR_SCAUSE);
    const stval = hart.csrr(CSR_STVAL);
    const sepc = hart.csrr(CSR_SEPC);
    const spp = (hart.csrr(CSR_SSTATUS) & SSTATUS_SPP) !== 0n;
    decodeTrap(trap, scause, stval, sepc);
    trap.from = !spp ? "user" : sepc === IDLE_ENTRY ? "idle" : "kernel";
    if (trap.kind === "syscall") hart.csrw(CSR_SEPC, sepc + 4n); // past the ecall
    if (trap.kind === "ipi") hart.csrc(CSR_SIP, SIP_SSIP);
    if (!this.#handler) throw new Error(`${trap.cause} before the kernel installed its traps`);
    this.#handler.trap(trap);
  }

  /** The idle resume address: reached only if the hart woke without taking the interrupt. */
  idleEntry(hart: Hart): void {
    this.hart = hart;
    this.idle();
  }

  // ---- threads ----------------------------------------------------------------------------

  initUserState(kstackTop: number, entry: bigint, stack: bigint, arg: bigint): void {
    initUserRegs(this.mem, kstackTop - SAVE_AREA_SIZE, entry, stack, arg);
  }

  saveUserState(kstackTop: number): void {
    saveUserRegs(this.hart, this.mem, kstackTop - SAVE_AREA_SIZE);
  }

  loadUserState(kstackTop: number): void {
    loadUserRegs(this.hart, this.mem, kstackTop - SAVE_AREA_SIZE);
  }

  setKernelStack(kstackTop: number): void {
    this.hart.csrw(CSR_SSCRATCH, HHDM_BASE + BigInt(kstackTop));
  }

  kernelStack(): number {
    return Number(BigInt.asUintN(64, this.hart.csrr(CSR_SSCRATCH) - HHDM_BASE));
  }

  syscallNumber(): bigint {
    return this.hart.x[17];
  }

  syscallArg(i: number): bigint {
    return this.hart.x[10 + i];
  }

  setSyscallResult(r0: bigint, r1: bigint): void {
    this.hart.x[10] = BigInt.asIntN(64, r0);
    this.hart.x[11] = BigInt.asIntN(64, r1);
  }

  describeUserState(): string {
    const x = this.hart.x;
    // x1..x31: x0 is always zero.
    const regs = ABI_NAMES.slice(1).map((n, i) => `${n}=${hex(x[i + 1])}`);
    return `pc=${hex(this.hart.csrr(CSR_SEPC))} ${regs.join(" ")}`;
  }

  returnToUser(): void {
    this.hart.sret();
  }

  idle(): void {
    this.hart.csrs(CSR_SSTATUS, SSTATUS_SIE);
    this.hart.wfi(IDLE_ENTRY);
  }
}

/**
 * A trap as the RISC-V port decodes it: the registers, and the kernel's view of them. `pc`
 * is sepc; `address` is stval, which holds the address for every memory exception.
 */
export class RiscvTrap extends TrapRecord {
  /** scause. */
  scause = 0n;
  /** stval. */
  stval = 0n;

  /** "scause 0xd (load page fault), stval 0x...", formatted when a report asks. */
  get cause(): string {
    const interrupt = (this.scause & SCAUSE_INTERRUPT) !== 0n;
    const code = Number(this.scause & ~SCAUSE_INTERRUPT);
    const name = (interrupt ? INTERRUPT_NAMES : EXCEPTION_NAMES)[code] ?? `cause ${code}`;
    return `scause ${hex(this.scause)} (${name}), stval ${hex(this.stval)}`;
  }
}

/** Fills `trap` from scause, stval and sepc (§10.1.8, Table 10.2: the causes). */
export function decodeTrap(trap: RiscvTrap, scause: bigint, stval: bigint, sepc: bigint): void {
  const interrupt = (scause & SCAUSE_INTERRUPT) !== 0n;
  const code = Number(scause & ~SCAUSE_INTERRUPT);
  trap.scause = scause;
  trap.stval = stval;
  trap.clear(sepc);
  if (interrupt) {
    trap.kind = code === IRQ_S_TIMER
      ? "timer"
      : code === IRQ_S_SOFT
      ? "ipi"
      : code === IRQ_S_EXT
      ? "external"
      : "other";
    return;
  }
  const memory = MEMORY_EXCEPTIONS[code];
  if (memory) {
    trap.kind = memory[0];
    trap.access = memory[1];
    trap.address = stval;
    trap.hasAddress = true; // stval holds the address for every memory exception
    return;
  }
  trap.kind = code === EXC_ECALL_U
    ? "syscall"
    : code === EXC_ILLEGAL_INST
    ? "illegal_instruction"
    : code === EXC_BREAKPOINT
    ? "breakpoint"
    : "other";
}

/** The memory exceptions: what the kernel calls them and which access they were. */
const MEMORY_EXCEPTIONS: Readonly<Record<number, [TrapKind, Access]>> = {
  [EXC_INST_MISALIGNED]: ["misaligned", "execute"],
  [EXC_INST_ACCESS]: ["access_fault", "execute"],
  [EXC_LOAD_MISALIGNED]: ["misaligned", "read"],
  [EXC_LOAD_ACCESS]: ["access_fault", "read"],
  [EXC_STORE_MISALIGNED]: ["misaligned", "write"],
  [EXC_STORE_ACCESS]: ["access_fault", "write"],
  [EXC_INST_PAGE_FAULT]: ["page_fault", "execute"],
  [EXC_LOAD_PAGE_FAULT]: ["page_fault", "read"],
  [EXC_STORE_PAGE_FAULT]: ["page_fault", "write"],
};
