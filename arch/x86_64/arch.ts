/**
 * The x86-64 port of the kernel: the Arch interface (kernel/arch.ts) on the emulated PC, and
 * the entries the CPU reaches the kernel through (traps.ts lists them).
 *
 * ## Entering the kernel
 *
 * - **SYSCALL** (the fast channel) jumps to IA32_LSTAR in ring 0 with the user's RIP in RCX
 *   and RFLAGS in R11, IF cleared by IA32_FMASK, and pushes nothing: RSP is still the
 *   user's. The kernel is TypeScript and needs no stack, so the entry only records that the
 *   return state is in RCX, R11 and RSP.
 * - **Interrupts and exceptions**, and `int 0x69` (the slow channel), go through the IDT:
 *   from ring 3 the CPU switches to TSS.RSP0, the current thread's kernel stack top, and
 *   pushes SS, RSP, RFLAGS, CS, RIP (and an error code for some exceptions) there, that is
 *   into the top of the thread's save area (context.ts). The entry reads the vector's frame
 *   from memory: RIP, and CS to tell ring 3 from the idle wait.
 *
 * The user's general registers stay in the CPU while the kernel runs, as kernel/arch.ts
 * says; only a context switch moves them to the save area and back.
 *
 * ## Leaving it
 *
 * `returnToUser` uses SYSRETQ when the state allows, IRETQ otherwise:
 *
 * - after a SYSCALL with no switch, SYSRETQ (RIP from RCX, RFLAGS from R11), unless RCX is
 *   not canonical: then Intel's SYSRET raises #GP in ring 0 with the user's RSP already
 *   loaded (the SYSRET pitfall, CVE-2012-0217), so the port refuses and the thread takes
 *   the #GP as its own fault;
 * - with the state in a frame (an interrupt, `int 0x69`, or a thread switched in), SYSRETQ
 *   when that is exactly what the frame says (Linux's "opportunistic SYSRET": CS and SS are
 *   the user selectors, RCX = RIP, R11 = RFLAGS with nothing SYSRET cannot restore), which
 *   is the case for a thread switched out in a system call; IRETQ otherwise, which is the
 *   case for a thread preempted by an interrupt (its RCX is its own).
 *
 * ## Per-CPU data
 *
 * This port does not use SWAPGS. A real kernel needs GS-relative per-CPU data because its
 * entry code has nothing else to find its CPU with; a hosted entry is called with the CPU it
 * runs on, which is what that data would give. IA32_FS_BASE and IA32_GS_BASE are therefore
 * the user's alone, saved and restored with the rest of its state.
 *
 * ## Time
 *
 * The clock is the TSC (CPUID leaf 15H gives its rate); the timer is the local APIC's, its
 * frequency measured against the HPET at start-up (timer.ts). By default the timer runs in
 * TSC-deadline mode, the CPU's own timer (as Sstc is the hart's on RISC-V); `timer=platform`
 * on the command line selects the board's timer device instead, the local APIC in one-shot
 * mode counting its calibrated clock, so both are exercised.
 *
 * @module
 */

import { CpuFault } from "../../emulator/core/hosted.ts";
import type { Machine } from "../../emulator/core/machine.ts";
import type { CpuFaultDetail, X86Cpu } from "../../emulator/x86_64/cpu_api.ts";
import {
  CR3_NOFLUSH,
  CR4_PCIDE,
  CR4_PGE,
  EFER_NXE,
  EFER_SCE,
  EXC_DF,
  EXC_GP,
  EXC_NMI,
  EXC_PF,
  hasErrorCode,
  IA32_EFER,
  IA32_FMASK,
  IA32_LSTAR,
  IA32_STAR,
  IA32_TSC_DEADLINE,
  R10,
  R11,
  R8,
  R9,
  RAX,
  RCX,
  RDI,
  RDX,
  REG_NAMES,
  RFLAGS_AC,
  RFLAGS_DF,
  RFLAGS_IF,
  RFLAGS_NT,
  RFLAGS_TF,
  RSI,
  RSP,
  TSS_RSP0,
  vectorName,
} from "../../emulator/x86_64/regs.ts";
import type { Access, Arch, Platform, TrapHandler } from "../../kernel/arch.ts";
import type { KernelBootInfo } from "../../kernel/bootinfo.ts";
import type { PageTablesFactory, TlbControl, UartRegisters } from "../../kernel/components.ts";
import { formatHz, hex } from "../../kernel/format.ts";
import { HHDM_BASE } from "../../kernel/mm/phys.ts";
import { readAcpi } from "./acpi.ts";
import {
  FRAME_SIZE,
  initUserRegs,
  loadUserRegs,
  SAVE_AREA_SIZE,
  SAVE_RIP,
  saveUserRegs,
  writeFrame,
} from "./context.ts";
import {
  GDT_KERNEL_CODE,
  GDT_KERNEL_DATA,
  GDT_SIZE,
  GDT_TSS,
  gdtEntries,
  interruptGate,
  IST_DOUBLE_FAULT,
  IST_NMI,
  STAR,
  tssBytes,
  USER_CS,
  USER_SS,
} from "./descriptors.ts";
import {
  CPU_DF_STACK_TOP,
  CPU_GDT,
  CPU_NMI_STACK_TOP,
  CPU_TSS,
  cpuArea,
  IDT_OFFSET,
  KERNEL_IMAGE_SIZE,
} from "./image.ts";
import { ioapicMaskAll, ioapicRoute } from "./ioapic.ts";
import {
  APIC_LVT_TIMER,
  APIC_TIMER_DIVIDE,
  APIC_TIMER_INITIAL,
  lapicEoi,
  lapicInit,
  LVT_TIMER_ONE_SHOT,
  LVT_TIMER_TSC_DEADLINE,
  TIMER_DIVIDE_BY_1,
  TIMER_MAX_COUNT,
} from "./lapic.ts";
import { deviceRegisters, type Mmio } from "./mmio.ts";
import { createX86PageTables, isCanonical48 } from "./paging.ts";
import { CpuPhysMem } from "./phys.ts";
import {
  acpiPlatform,
  COM1_PORT,
  directMapRanges,
  inRanges,
  type X86Platform,
} from "./platform.ts";
import { calibrateLapicTimer, TscClock } from "./timer.ts";
import {
  decodeVector,
  EXTERNAL_VECTOR_BASE,
  IDLE_ENTRY,
  IDT_VECTORS,
  SPURIOUS_VECTOR,
  SYSCALL_ENTRY,
  SYSCALL_INSTRUCTION_SIZE,
  SYSCALL_VECTOR,
  TIMER_VECTOR,
  vectorEntry,
  X86Trap,
} from "./traps.ts";

/** The debug-exit port (QEMU's isa-debug-exit at 0xF4): a write of v exits with (v << 1) | 1. */
export const DEBUG_EXIT_PORT = 0xf4;
/** What a clean power-off writes there: exit status 33, which the boot command maps to 0. */
export const DEBUG_EXIT_SUCCESS = 0x10;
/** What a panic writes: exit status 3. */
export const DEBUG_EXIT_FAILURE = 0x01;

/** PCIDs are 12 bits (CR3[11:0], SDM Vol. 3A §4.10.1). */
export const PCID_COUNT = 4096;

/**
 * RFLAGS bits SYSCALL clears (IA32_FMASK): IF (the kernel runs with interrupts off), TF, DF,
 * AC and NT, as Linux clears them.
 */
export const SYSCALL_RFLAGS_MASK = RFLAGS_IF | RFLAGS_TF | RFLAGS_DF | RFLAGS_AC | RFLAGS_NT;

/** The RFLAGS bits SYSRET restores from R11 (SDM Vol. 2, SYSRET: R11 & 3C7FD7H | 2). */
const SYSRET_RFLAGS = 0x3c_7fd7n | 2n;

/** The system-call argument registers, in order (kernel/README.md). */
const ARG_REGS = [RDI, RSI, RDX, R10, R8, R9];

/** The CPUID bits the port relies on. */
const CPUID_1_ECX_PCID = 1 << 17;
const CPUID_1_ECX_TSC_DEADLINE = 1 << 24;
const CPUID_7_EBX_INVPCID = 1 << 10;
const CPUID_80000001_EDX_NX = 1 << 20;

/** LSR (line status register) and its THRE bit, for the panic path's polling write. */
const UART_LSR = 5, UART_LSR_THRE = 0x20, PANIC_POLL_LIMIT = 100_000;

/** How the timer runs. */
type TimerMode = "tsc-deadline" | "one-shot";

/** What the port keeps for each CPU (the rest is in the CPU and in RAM). */
class PerCpuPort {
  /** The trap being decoded (one record per CPU, reused). */
  readonly trap = new X86Trap();
  /** Whether the user's RIP, RFLAGS and RSP are in RCX, R11 and RSP (a SYSCALL). */
  viaSyscall = false;
  /** Otherwise: the kernel-virtual address of the interrupt frame (its RIP). */
  frameVa = 0n;
  /** The TSS's kernel-virtual address (in the direct map). */
  tssVa = 0n;
  /** The one-shot timer's deadline (ns), to re-arm an early interrupt. */
  deadline = Infinity;
  /** How deep returnToUser has refused returns (a guard against a loop). */
  refused = 0;
}

/** The x86-64 port. One object serves every CPU; `cpu` is the one in the current entry. */
export class X86Arch implements Arch {
  /** The architecture. */
  readonly name = "x86_64" as const;
  /** 4-level paging. */
  readonly pageTableFormat = "x86_64";
  /** The reference 4-level tables. */
  readonly referencePageTables: PageTablesFactory = createX86PageTables;
  /** PCIDs: 0 is the kernel's. */
  readonly asidCount: number = PCID_COUNT;
  /** One 4 KiB frame of kernel stack per thread: it holds only the save area here. */
  readonly kernelStackFrames = 1;
  /** `struct user_regs` (context.ts). */
  readonly saveAreaSize: number = SAVE_AREA_SIZE;
  /** Physical memory through the current CPU's direct map. */
  readonly mem: CpuPhysMem;
  /** TLB maintenance with INVLPG and INVPCID. */
  readonly tlb: TlbControl;
  /** The CPU running the current kernel entry. */
  cpu!: X86Cpu;

  #handler: TrapHandler | undefined;
  #platform: X86Platform | undefined;
  #imagePhys = 0;
  #tsc: TscClock | undefined;
  #lapicHz = 0;
  #timerMode: TimerMode = "tsc-deadline";
  #tscDeadline = false;
  readonly #cpus: PerCpuPort[] = [];
  /** The local APIC's registers (the same page on every CPU: each sees its own). */
  #lapic!: Mmio;

  /** The port for `machine`'s CPUs. */
  constructor(readonly machine: Machine<X86Cpu>) {
    this.mem = new CpuPhysMem(() => this.cpu);
    this.tlb = {
      // ASID 0 is the kernel's, whose mappings are global: INVLPG drops a page's global
      // entry (and the current PCID's). Another PCID's page needs INVPCID type 0.
      flushPage: (va, asid) => {
        if (asid === 0) this.cpu.invlpg(va);
        else this.cpu.invpcid(0, asid, va);
      },
      flushAsid: (asid) => this.cpu.invpcid(1, asid, 0n),
      flushAll: () => this.cpu.invpcid(2, 0, 0n),
    };
  }

  /** Records the CPU an entry runs on. */
  enter(cpu: X86Cpu): PerCpuPort {
    this.cpu = cpu;
    return (this.#cpus[cpu.index] ??= new PerCpuPort());
  }

  cpuIndex(): number {
    return this.cpu.index;
  }

  // ---- memory -----------------------------------------------------------------------------

  discover(boot: KernelBootInfo): Platform {
    if (boot.hhdmOffset !== HHDM_BASE) {
      throw new Error(
        `the firmware's direct map is at ${hex(boot.hhdmOffset)}, not at ${hex(HHDM_BASE)}, ` +
          `where this kernel reaches physical memory`,
      );
    }
    if (boot.kernelSize < KERNEL_IMAGE_SIZE) {
      throw new Error(
        `the kernel image region is ${boot.kernelSize} bytes; the port keeps its IDT, GDTs, ` +
          `TSSs and IST stacks there and needs ${KERNEL_IMAGE_SIZE} (image.ts)`,
      );
    }
    if (!boot.rsdp) throw new Error("the boot information gives no ACPI RSDP (rsdp = 0)");
    this.#checkCpu();
    const [den, num, crystal] = this.cpu.cpuid(0x15);
    this.#tsc = new TscClock(crystal, num, den);
    const ram = directMapRanges(boot);
    const acpi = readAcpi(this.mem, boot.rsdp, (pa, n) => inRanges(ram, pa, n));
    const p = acpiPlatform(acpi, boot);
    this.#platform = p;
    this.#imagePhys = boot.kernelPhys;
    this.#lapic = deviceRegisters(() => this.cpu, p.lapicBase);
    p.notes.push(
      `CPU: TSC ${formatHz(this.#tsc!.hz)} (CPUID 15H), PCIDs, INVPCID, NX, ` +
        `TSC-deadline ${this.#tscDeadline ? "yes" : "no"}`,
    );
    return p;
  }

  /**
   * Checks for what the port needs: NX, PCIDs and INVPCID (without it, another address
   * space's page cannot be invalidated where it is: the kernel would have to flush that whole
   * PCID when it next loads it); notes TSC-deadline mode.
   */
  #checkCpu(): void {
    const cpu = this.cpu;
    const [, , ecx1] = cpu.cpuid(1);
    const [, ebx7] = cpu.cpuid(7, 0);
    const [, , , edx81] = cpu.cpuid(0x8000_0001);
    const need = (has: number, what: string) => {
      if (!has) throw new Error(`this CPU has no ${what}: the x86-64 port needs it`);
    };
    need(ecx1 & CPUID_1_ECX_PCID, "PCIDs (CPUID.01H:ECX[17])");
    need(ebx7 & CPUID_7_EBX_INVPCID, "INVPCID (CPUID.(EAX=07H,ECX=0):EBX[10])");
    need(edx81 & CPUID_80000001_EDX_NX, "execute-disable bit (CPUID.80000001H:EDX[20])");
    this.#tscDeadline = (ecx1 & CPUID_1_ECX_TSC_DEADLINE) !== 0;
  }

  enablePaging(root: number): void {
    const cpu = this.cpu;
    cpu.wrmsr(IA32_EFER, cpu.rdmsr(IA32_EFER) | BigInt(EFER_NXE));
    cpu.writeCr(3, BigInt(root)); // PCID 0, the kernel's
    // Toggling CR4.PGE flushes everything, the firmware's global entries included; PCIDE
    // may be set only now, with CR3[11:0] = 0 (SDM Vol. 3A §4.10.1).
    const cr4 = cpu.readCr(4) & ~BigInt(CR4_PGE);
    cpu.writeCr(4, cr4);
    cpu.writeCr(4, cr4 | BigInt(CR4_PGE | CR4_PCIDE));
  }

  activate(root: number, asid: number): void {
    this.cpu.writeCr(3, CR3_NOFLUSH | BigInt(root) | BigInt(asid));
  }

  explainTranslation(va: bigint, access: Access, user: boolean): string {
    return this.cpu.translate(va, access, user ? 3 : 0).explanation;
  }

  // ---- the console and power --------------------------------------------------------------

  consoleRegisters(_platform: Platform): UartRegisters {
    return {
      read: (reg) => this.cpu.inb(COM1_PORT + reg),
      write: (reg, value) => this.cpu.outb(COM1_PORT + reg, value & 0xff),
    };
  }

  powerOff(failure: boolean): void {
    this.cpu.outb(DEBUG_EXIT_PORT, failure ? DEBUG_EXIT_FAILURE : DEBUG_EXIT_SUCCESS);
  }

  panicWrite(text: string): void {
    for (const b of new TextEncoder().encode(text)) {
      for (let i = 0; i < PANIC_POLL_LIMIT; i++) {
        if (this.cpu.inb(COM1_PORT + UART_LSR) & UART_LSR_THRE) break;
      }
      this.cpu.outb(COM1_PORT, b);
    }
  }

  describeKernelFault(error: unknown): string | undefined {
    if (!(error instanceof CpuFault)) return undefined;
    const code = (error as CpuFault & Partial<CpuFaultDetail>).errorCode ?? 0;
    const cr2 = error.code === EXC_PF ? `, CR2 ${hex(error.tval)}` : "";
    return `vector ${error.code} (${vectorName(error.code)}), error code ${hex(code)}${cr2}`;
  }

  // ---- time -------------------------------------------------------------------------------

  /** Nanoseconds from the TSC; 0 until discover() has read its rate (the first log lines). */
  nowNs(): number {
    return this.#tsc ? this.#tsc.ns(this.cpu.rdtsc()) : 0;
  }

  startTimer(platform: Platform, preferFirmware: boolean): string {
    const p = platform as X86Platform;
    const hpet = deviceRegisters(() => this.cpu, p.hpetBase);
    const c = calibrateLapicTimer(this.#lapic, hpet);
    this.#lapicHz = c.lapicHz;
    platform.timerHz = Math.round(c.lapicHz / 1000) * 1000;
    this.#timerMode = this.#tscDeadline && !preferFirmware ? "tsc-deadline" : "one-shot";
    const mode = this.#timerMode === "tsc-deadline" ? LVT_TIMER_TSC_DEADLINE : LVT_TIMER_ONE_SHOT;
    this.#lapic.write32(APIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_1);
    this.#lapic.write32(APIC_LVT_TIMER, TIMER_VECTOR | mode);
    const how = this.#timerMode === "tsc-deadline"
      ? `TSC-deadline mode (TSC ${formatHz(this.#tsc!.hz)})`
      : `one-shot mode`;
    return `local APIC timer in ${how}; its clock measured against the HPET ` +
      `(${c.lapicTicks} counts in ${c.hpetTicks} HPET periods of ${c.hpetPeriodFs / 1e6} ns)`;
  }

  setTimer(deadlineNs: number): void {
    const s = this.#cpus[this.cpu.index];
    s.deadline = deadlineNs;
    if (this.#timerMode === "tsc-deadline") {
      const at = deadlineNs === Infinity ? 0n : this.#tsc!.tsc(deadlineNs);
      this.cpu.wrmsr(IA32_TSC_DEADLINE, at === 0n && deadlineNs !== Infinity ? 1n : at);
      return;
    }
    if (deadlineNs === Infinity) return this.#lapic.write32(APIC_TIMER_INITIAL, 0);
    const ns = Math.max(0, deadlineNs - this.nowNs());
    const count = Math.min(TIMER_MAX_COUNT, Math.max(1, Math.ceil((ns * this.#lapicHz) / 1e9)));
    this.#lapic.write32(APIC_TIMER_INITIAL, count);
  }

  // ---- traps ------------------------------------------------------------------------------

  installTraps(handler: TrapHandler): void {
    this.#handler = handler;
    const cpu = this.cpu;
    const s = this.#cpus[cpu.index];
    const image = this.#imagePhys;
    const area = image + cpuArea(cpu.index);
    const idt = image + IDT_OFFSET, gdt = area + CPU_GDT, tss = area + CPU_TSS;
    const va = (pa: number) => HHDM_BASE + BigInt(pa);

    // The IDT: every vector has a gate to its entry (traps.ts lists what each means).
    for (let v = 0; v < IDT_VECTORS; v++) {
      const gate = interruptGate(vectorEntry(v), {
        dpl: v === 3 || v === SYSCALL_VECTOR ? 3 : 0,
        ist: v === EXC_DF ? IST_DOUBLE_FAULT : v === EXC_NMI ? IST_NMI : 0,
      });
      this.mem.write(idt + 16 * v, 8, gate[0]);
      this.mem.write(idt + 16 * v + 8, 8, gate[1]);
    }
    // The TSS keeps the RSP0 already set for the idle thread; the GDT points at it.
    s.tssVa = va(tss);
    const rsp0 = this.mem.read(tss + TSS_RSP0, 8);
    const ist = [va(area + CPU_DF_STACK_TOP), va(area + CPU_NMI_STACK_TOP)];
    this.mem.writeBytes(tss, tssBytes({ rsp0, ist }));
    gdtEntries(va(tss)).forEach((d, i) => this.mem.write(gdt + 8 * i, 8, d));

    cpu.lgdt(va(gdt), GDT_SIZE - 1);
    cpu.loadCs(GDT_KERNEL_CODE);
    cpu.loadSegment("ss", GDT_KERNEL_DATA);
    for (const seg of ["ds", "es", "fs", "gs"] as const) cpu.loadSegment(seg, 0);
    cpu.ltr(GDT_TSS);
    cpu.lidt(va(idt), IDT_VECTORS * 16 - 1);

    // SYSCALL: enabled, its selectors, its entry, and IF (among others) cleared on entry.
    cpu.wrmsr(IA32_EFER, cpu.rdmsr(IA32_EFER) | BigInt(EFER_SCE));
    cpu.wrmsr(IA32_STAR, STAR);
    cpu.wrmsr(IA32_LSTAR, SYSCALL_ENTRY);
    cpu.wrmsr(IA32_FMASK, BigInt(SYSCALL_RFLAGS_MASK));

    this.#startInterruptControllers();
  }

  /** The local APIC on, and every I/O APIC input masked but COM1's programmed. */
  #startInterruptControllers(): void {
    const p = this.#platform!;
    lapicInit(this.#lapic, SPURIOUS_VECTOR);
    for (const io of p.ioapics) {
      const regs = deviceRegisters(() => this.cpu, io.address);
      const inputs = ioapicMaskAll(regs);
      const pin = p.com1.gsi - io.gsiBase;
      if (pin >= 0 && pin < inputs) {
        // Ready for console input, masked until the kernel reads the console (it does not).
        ioapicRoute(regs, pin, {
          vector: EXTERNAL_VECTOR_BASE + p.com1.gsi,
          apicId: this.#bootApicId(),
          activeLow: p.com1.activeLow,
          level: p.com1.level,
          masked: true,
        });
      }
    }
  }

  #bootApicId(): number {
    return this.#platform!.cpus[this.cpu.index]?.hwId ?? 0;
  }

  /** The SYSCALL entry (IA32_LSTAR): the return state is in RCX, R11 and RSP. */
  syscallEntry(cpu: X86Cpu): void {
    const s = this.enter(cpu);
    s.viaSyscall = true;
    const t = s.trap;
    t.kind = "syscall";
    t.from = "user";
    t.vector = -1;
    t.errorCode = -1;
    t.rax = BigInt.asUintN(64, cpu.regs[RAX]);
    t.pc = BigInt.asUintN(64, cpu.regs[RCX]) - SYSCALL_INSTRUCTION_SIZE;
    t.address = 0n;
    t.access = "read";
    t.detail = "";
    this.#deliver(t);
  }

  /** The entry of IDT vector `vector`: read the frame the CPU pushed, decode, deliver. */
  vectorEntry(cpu: X86Cpu, vector: number): void {
    const s = this.enter(cpu);
    const rsp = BigInt.asUintN(64, cpu.regs[RSP]);
    const error = hasErrorCode(vector) ? Number(cpu.load(rsp, 8) & 0xffff_ffffn) : -1;
    const frame = error >= 0 ? rsp + 8n : rsp;
    const rip = cpu.load(frame, 8), cs = Number(cpu.load(frame + 8n, 8));
    const from = (cs & 3) === 3 ? "user" : rip === IDLE_ENTRY ? "idle" : "kernel";
    s.viaSyscall = false;
    s.frameVa = frame;
    if (vector === SPURIOUS_VECTOR) return this.#resume(from); // no EOI for a spurious one
    const t = s.trap;
    decodeVector(t, vector, error, vector === EXC_PF ? cpu.readCr(2) : 0n, rip);
    // A double fault means the kernel's own delivery failed (a bad TSS or stack).
    t.from = vector === EXC_DF ? "kernel" : from;
    if (vector >= 0x20 && vector !== SYSCALL_VECTOR) {
      lapicEoi(this.#lapic); // every other vector from 0x20 came through the local APIC
      if (vector === TIMER_VECTOR) this.#earlyTimer(s);
    }
    this.#deliver(t);
  }

  /** An early one-shot interrupt (the calibration is not exact): arm for the rest. */
  #earlyTimer(s: PerCpuPort): void {
    if (this.#timerMode === "one-shot" && this.nowNs() < s.deadline) this.setTimer(s.deadline);
  }

  /** Resumes what a spurious interrupt interrupted, without telling the kernel. */
  #resume(from: string): void {
    if (from === "idle") return this.idle();
    this.cpu.regs[RSP] = BigInt.asIntN(64, this.#cpus[this.cpu.index].frameVa);
    this.cpu.iretq();
  }

  #deliver(t: X86Trap): void {
    if (!this.#handler) throw new Error(`${t.cause} before the kernel installed its traps`);
    this.#handler.trap(t);
  }

  /** The idle resume address: reached only if the CPU woke without taking an interrupt. */
  idleEntry(cpu: X86Cpu): void {
    this.enter(cpu);
    this.idle();
  }

  // ---- threads ----------------------------------------------------------------------------

  initUserState(kstackTop: number, entry: bigint, stack: bigint, arg: bigint): void {
    initUserRegs(this.mem, kstackTop - SAVE_AREA_SIZE, entry, stack, arg);
  }

  saveUserState(kstackTop: number): void {
    const cpu = this.cpu, s = this.#cpus[cpu.index];
    const area = kstackTop - SAVE_AREA_SIZE;
    saveUserRegs(cpu, this.mem, area);
    if (s.viaSyscall) {
      writeFrame(this.mem, area, {
        rip: BigInt.asUintN(64, cpu.regs[RCX]),
        cs: BigInt(USER_CS),
        rflags: BigInt.asUintN(64, cpu.regs[R11]),
        rsp: BigInt.asUintN(64, cpu.regs[RSP]),
        ss: BigInt(USER_SS),
      });
    } else if (s.frameVa !== HHDM_BASE + BigInt(area + SAVE_RIP)) {
      // The CPU pushed the frame elsewhere (an IST stack): copy it into the save area.
      for (let i = 0; i < FRAME_SIZE / 8; i++) {
        this.mem.write(area + SAVE_RIP + 8 * i, 8, cpu.load(s.frameVa + BigInt(8 * i), 8));
      }
    }
  }

  loadUserState(kstackTop: number): void {
    const s = this.#cpus[this.cpu.index];
    loadUserRegs(this.cpu, this.mem, kstackTop - SAVE_AREA_SIZE);
    s.viaSyscall = false;
    s.frameVa = HHDM_BASE + BigInt(kstackTop - FRAME_SIZE);
  }

  setKernelStack(kstackTop: number): void {
    this.cpu.store(this.#tssVa(), 8, HHDM_BASE + BigInt(kstackTop));
  }

  kernelStack(): number {
    return Number(BigInt.asUintN(64, this.cpu.load(this.#tssVa(), 8) - HHDM_BASE));
  }

  /** TSS.RSP0's address for the current CPU (known before the TSS is loaded). */
  #tssVa(): bigint {
    const s = this.#cpus[this.cpu.index];
    if (s.tssVa === 0n) {
      s.tssVa = HHDM_BASE + BigInt(this.#imagePhys + cpuArea(this.cpu.index) + CPU_TSS);
    }
    return s.tssVa + BigInt(TSS_RSP0);
  }

  syscallNumber(): bigint {
    return this.cpu.regs[RAX];
  }

  syscallArg(i: number): bigint {
    return this.cpu.regs[ARG_REGS[i]];
  }

  setSyscallResult(r0: bigint, r1: bigint): void {
    this.cpu.regs[RAX] = BigInt.asIntN(64, r0);
    this.cpu.regs[RDX] = BigInt.asIntN(64, r1);
  }

  describeUserState(): string {
    const f = this.#userFrame();
    const regs = REG_NAMES.map((n, i) =>
      i === RSP ? `rsp=${hex(f.rsp)}` : `${n}=${hex(this.cpu.regs[i])}`
    );
    return `rip=${hex(f.rip)} rflags=${hex(f.rflags)} ${regs.join(" ")}`;
  }

  /** The user's RIP, RFLAGS and RSP, wherever they are now. */
  #userFrame(): { rip: bigint; rflags: bigint; rsp: bigint } {
    const cpu = this.cpu, s = this.#cpus[cpu.index];
    if (s.viaSyscall) {
      return { rip: cpu.regs[RCX], rflags: cpu.regs[R11], rsp: cpu.regs[RSP] };
    }
    return {
      rip: cpu.load(s.frameVa, 8),
      rflags: cpu.load(s.frameVa + 16n, 8),
      rsp: cpu.load(s.frameVa + 24n, 8),
    };
  }

  returnToUser(): void {
    const cpu = this.cpu, s = this.#cpus[cpu.index];
    const rcx = BigInt.asUintN(64, cpu.regs[RCX]);
    if (s.viaSyscall) {
      if (!isCanonical48(rcx)) return this.#refuse(rcx, "SYSRET to it would raise #GP in ring 0");
      s.refused = 0;
      return cpu.sysretq();
    }
    const f = s.frameVa;
    const rip = cpu.load(f, 8), cs = cpu.load(f + 8n, 8), rflags = cpu.load(f + 16n, 8);
    const ss = cpu.load(f + 32n, 8);
    if (!isCanonical48(rip)) return this.#refuse(rip, "IRETQ to it would raise #GP in ring 0");
    s.refused = 0;
    const sysretFits = cs === BigInt(USER_CS) && ss === BigInt(USER_SS) && rcx === rip &&
      BigInt.asUintN(64, cpu.regs[R11]) === rflags && (rflags & ~SYSRET_RFLAGS) === 0n &&
      (rflags & BigInt(RFLAGS_TF)) === 0n;
    if (sysretFits) {
      cpu.regs[RSP] = BigInt.asIntN(64, cpu.load(f + 24n, 8));
      return cpu.sysretq();
    }
    cpu.regs[RSP] = BigInt.asIntN(64, f);
    cpu.iretq();
  }

  /**
   * The thread would return to a non-canonical RIP: what the CPU does then is fault in ring
   * 0 (SYSRET, with the user's RSP already loaded) or in its IRETQ. The port takes the #GP as
   * the thread's own, as Linux does (it never SYSRETs there, and fixes up a faulting IRET),
   * so the kernel kills the thread and runs the others.
   */
  #refuse(rip: bigint, why: string): void {
    const s = this.#cpus[this.cpu.index];
    if (++s.refused > 2) {
      throw new Error(`the kernel keeps returning to non-canonical RIP ${hex(rip)}`);
    }
    const t = s.trap;
    decodeVector(t, EXC_GP, 0, 0n, rip);
    t.from = "user";
    t.address = rip; // what the report's walk should explain: the address it cannot return to
    t.access = "execute";
    t.detail = `the return address ${hex(rip)} is not canonical: ${why}`;
    this.#deliver(t);
  }

  idle(): void {
    const cpu = this.cpu;
    // An interrupt in ring 0 pushes its frame on the current stack: the idle thread's.
    cpu.regs[RSP] = BigInt.asIntN(64, HHDM_BASE + BigInt(this.kernelStack()));
    cpu.sti();
    cpu.hlt(IDLE_ENTRY);
  }
}
