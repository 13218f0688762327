/**
 * The x86-64 CPU as everything outside it sees it: the PC platform that wires it up (local
 * APIC, I/O ports, firmware), the hosted kernel that runs in its ring 0, the assembler's
 * tests, and graders that inspect it. The class in `cpu.ts` implements it.
 *
 * The CPU interprets machine code in ring 3 (64-bit mode only). In ring 0 it runs the hosted
 * TypeScript kernel: executing at `rip` means calling the kernel entry registered at that
 * address (see `emulator/core/hosted.ts`). The kernel operates the CPU through this
 * interface, one method per instruction it would use: `rdmsr`/`wrmsr`, `readCr`/`writeCr`
 * for `mov crN`, `lgdt`, `lidt`, `ltr`, `invlpg`, `invpcid`, `iretq`, `sysretq`, `swapgs`,
 * `hlt`, `cli`/`sti`, `in`/`out`, `cpuid`, and `load`/`store` for its memory accesses
 * through the MMU. Its general registers are `regs`, `rip` and `rflags`.
 *
 * A kernel entry ends by leaving the CPU somewhere:
 *
 * - `iretq()`: pops the interrupt frame at RSP (RIP, CS, RFLAGS, RSP, SS) and continues
 *   there: ring-3 code, or another kernel entry when the frame's CS is a ring-0 selector;
 * - `sysretq()`: back to ring 3 at RCX with RFLAGS from R11;
 * - `hlt(resumeAt?)`: the CPU waits; when an interrupt is deliverable (RFLAGS.IF = 1 and
 *   the local APIC has one pending) or an NMI or INIT arrives, it continues at `resumeAt`
 *   (default: the current `rip`), taking the interrupt first with the frame's RIP =
 *   `resumeAt`, so `hlt` behaves like `1: hlt; jmp 1b`;
 * - setting `rip` to another kernel entry (a jump);
 * - stopping the machine (a debug-exit port write, `machine.powerOff`).
 *
 * An entry that returns without doing any of these is a kernel bug, which the machine
 * reports ("kernel entry X returned without iretq, sysretq, hlt or a jump").
 *
 * Every method that a kernel entry calls counts as one kernel operation and 1 ns of virtual
 * time; see `KERNEL_OP_BUDGET` in `emulator/core/hosted.ts`. Faults raised by kernel
 * operations (a page fault on `load`, #GP on a bad MSR) throw `CpuFault` with
 * `code` = the vector, `tval` = CR2 for #PF (else 0), and {@link CpuFaultDetail} fields.
 *
 * ## Start-up in the hosted model
 *
 * A real application processor starts in real mode at the SIPI vector page and runs a
 * trampoline that loads a GDT, CR3, CR4.PAE, EFER.LME and CR0.PG. Here `startup(v)` makes
 * the CPU call the kernel entry registered at `v * 0x1000` in ring 0, already in 64-bit
 * mode: CR0 = PE|MP|ET|NE|WP|PG, CR4 = PAE, EFER = LME|LMA, CR3 = 0, GDTR and IDTR with
 * base 0 and limit 0xFFFF, TR = 0 (no TSS), CS = SS = 0, RFLAGS = 0x2 (IF = 0), every
 * general register 0. The entry stands in for the trampoline: before it touches memory it
 * must load CR3 (`writeCr(3, ...)`), and before it enables interrupts or enters ring 3 it
 * must load its GDT (`lgdt`), code and stack selectors (`loadCs`, `loadSegment("ss")`), IDT
 * (`lidt`), TSS (`ltr`), a stack (RSP), EFER.NXE/SCE and the SYSCALL MSRs. Until then an
 * interrupt or exception has nowhere to go and ends in a triple fault, as on hardware.
 *
 * The boot CPU is started by the platform's firmware with `start(rip)` after the firmware
 * has laid out page tables and a GDT and loaded them through the same methods.
 *
 * ## What this CPU does not model
 *
 * 64-bit mode only (no real, protected or compatibility mode: an IRETQ to a 32-bit code
 * segment is #GP with a message); rings 0 and 3 only; no x87, MMX, SSE or AVX (#UD, and
 * the machine says which instruction); no VEX-encoded BMI instructions (TZCNT and LZCNT
 * are there); no SMEP, SMAP, protection keys, 5-level paging, LDT, call gates, task
 * switches or far transfers; RFLAGS.TF single-stepping and the one-instruction interrupt
 * shadow after STI or MOV SS are not modelled (interrupts are taken between kernel entries
 * and at the start of each slice of ring-3 execution); IRETQ to an outer ring leaves
 * DS, ES, FS and GS as they were. Unmapped physical memory is a machine check, not
 * all-ones reads.
 *
 * @module
 */

import type { Bus } from "../core/bus.ts";
import type { Cpu, Machine } from "../core/machine.ts";

/** Privilege levels the CPU uses: ring 0 (the hosted kernel) and ring 3 (user code). */
export type Cpl = 0 | 3;

/** The kind of access a translation is for. */
export type Access = "read" | "write" | "execute";

/** The segment registers, in encoding order (ES=0, CS=1, SS=2, DS=3, FS=4, GS=5). */
export type SegmentName = "es" | "cs" | "ss" | "ds" | "fs" | "gs";

/** One step of a page-table walk, as the MMU read it. */
export interface WalkStep {
  /** 4 = PML4, 3 = page-directory-pointer table, 2 = page directory, 1 = page table. */
  level: number;
  /** The entry's name in the SDM: "PML4E", "PDPTE", "PDE" or "PTE". */
  name: string;
  /** Physical address of the entry that was read. */
  pteAddress: number;
  /** The entry's value, or undefined when nothing answers at that physical address. */
  pte: bigint | undefined;
}

/** The outcome of translating one linear address. */
export interface Translation {
  /** The linear address (unsigned 64-bit). */
  va: bigint;
  /** The access. */
  access: Access;
  /** The privilege the access was checked for (3 = user-mode access). */
  cpl: Cpl;
  /** Physical address, when the translation succeeded. */
  pa?: number;
  /** The size of the page that maps `va` (4 KiB, 2 MiB or 1 GiB), on success. */
  pageSize?: number;
  /** The vector when it failed: 14 (#PF), or 13 (#GP) for a non-canonical address. */
  fault?: number;
  /** The #PF error code (P, W/R, U/S, RSVD, I/D bits), when `fault` is 14. */
  errorCode?: number;
  /** The entries read, PML4E first (empty when paging is off or the address is bad). */
  steps: WalkStep[];
  /** Whether this CPU's TLB holds an entry for the page (for the current PCID). */
  tlbHit: boolean;
  /** Why, in words: "PDE at 0x... has P = 0 (not present)". */
  explanation: string;
}

/**
 * What a `CpuFault` thrown by a kernel operation carries beyond `code` and `tval`, as
 * properties of the error object.
 */
export interface CpuFaultDetail {
  /** The error code the exception would push (0 when it has none). */
  errorCode: number;
}

/** A descriptor-table register: GDTR or IDTR. */
export interface TableRegister {
  /** Linear base address (unsigned). */
  base: bigint;
  /** Limit: the offset of the table's last byte. */
  limit: number;
}

/**
 * The CPU's link to its local APIC, which belongs to the platform (`lapic.ts`): the LAPIC
 * owns IRR, ISR and TPR and decides what is deliverable.
 */
export interface ApicLink {
  /**
   * The vector of the highest-priority interrupt the LAPIC would deliver now (in IRR,
   * above the processor priority), or -1 when there is none. The CPU asks at instruction
   * boundaries when RFLAGS.IF = 1, between kernel entries in ring 0, and in `wakeable()`.
   * Must not change any state.
   */
  pendingVector(): number;
  /** The CPU accepted `vector` (INTA): the LAPIC moves it from IRR to ISR. */
  acknowledge(vector: number): void;
  /** CR8 reads: TPR[7:4] (optional; without it the CPU keeps CR8 itself). */
  readTpr?(): number;
  /** CR8 writes: TPR[7:4] = value (optional). */
  writeTpr?(value: number): void;
}

/**
 * MSRs the CPU does not implement itself (x2APIC registers 0x800-0x8FF, IA32_TSC_DEADLINE,
 * IA32_APIC_BASE, platform MSRs) go to this hook. Returning undefined (rdmsr) or false
 * (wrmsr) means "no such MSR", which raises #GP(0), as does an MSR nobody implements.
 */
export interface MsrHook {
  /** Reads `msr` on `cpu`; undefined when the platform does not implement it. */
  rdmsr(cpu: X86Cpu, msr: number): bigint | undefined;
  /** Writes `msr` on `cpu`; false when the platform does not implement it or refuses. */
  wrmsr(cpu: X86Cpu, msr: number, value: bigint): boolean;
}

/** An x86-64 CPU (one logical processor). */
export interface X86Cpu extends Cpu {
  /** The machine this CPU belongs to. */
  readonly machine: Machine<X86Cpu>;
  /** The initial local APIC ID (CPUID.1:EBX[31:24], CPUID.0BH:EDX). */
  readonly apicId: number;

  // ---- architectural state --------------------------------------------------------------

  /**
   * The 16 general-purpose registers in encoding order: RAX, RCX, RDX, RBX, RSP, RBP, RSI,
   * RDI, R8-R15 (indices RAX..R15 in `regs.ts`).
   */
  readonly regs: BigInt64Array;
  /** The instruction pointer (unsigned 64-bit). Setting it in a kernel entry is a jump. */
  rip: bigint;
  /** RFLAGS, with the arithmetic flags folded in. Bit 1 always reads 1. */
  rflags: bigint;
  /** Current privilege level (CS.RPL). */
  readonly cpl: Cpl;
  /** A segment register's visible selector. */
  selector(seg: SegmentName): number;

  // ---- the hosted kernel's instructions (ring 0) ----------------------------------------

  /** `mov rax, crN` for N = 0, 2, 3, 4, 8. Other numbers raise #UD. */
  readCr(n: number): bigint;
  /**
   * `mov crN, rax` with the SDM's checks (#GP(0) on reserved bits or invalid combinations)
   * and TLB effects: CR3 flushes the non-global entries of the new PCID unless bit 63 is
   * set (CR4.PCIDE = 1); CR4.PGE or PCIDE changes flush everything; CR0.PG off flushes.
   */
  writeCr(n: number, value: bigint): void;
  /** `rdmsr`: #GP(0) for an MSR neither the CPU nor the platform implements. */
  rdmsr(msr: number): bigint;
  /** `wrmsr`: #GP(0) for unknown MSRs, reserved bits, or non-canonical base addresses. */
  wrmsr(msr: number, value: bigint): void;
  /** `lgdt`: GDTR = (base, limit). Descriptors are read from there when needed. */
  lgdt(base: bigint, limit: number): void;
  /** `lidt`: IDTR = (base, limit). Gates are read from there on each interrupt. */
  lidt(base: bigint, limit: number): void;
  /** `sgdt`. */
  sgdt(): TableRegister;
  /** `sidt`. */
  sidt(): TableRegister;
  /**
   * `ltr`: loads TR from the GDT entry `selector`, which must be an available 64-bit TSS
   * descriptor (type 9, present); marks it busy (type 11) in memory. #GP(selector) or
   * #NP(selector) otherwise.
   */
  ltr(selector: number): void;
  /** `str`: the TR selector. */
  str(): number;
  /**
   * `mov ss/ds/es/fs/gs, r16`: loads a data-segment selector after checking its GDT
   * descriptor (#GP(selector), #NP, #SS as the SDM says). Loading FS or GS sets its base
   * from the descriptor (bits 31:0), as on hardware; use IA32_FS_BASE/GS_BASE for 64 bits.
   */
  loadSegment(seg: "ss" | "ds" | "es" | "fs" | "gs", selector: number): void;
  /**
   * Loads CS (what a far jump or `lretq` does in a real kernel): the GDT entry must be a
   * present 64-bit code segment (L = 1, D = 0) with DPL = CPL; #GP(selector) otherwise.
   */
  loadCs(selector: number): void;
  /** `invlpg`: drops the TLB entries for the page of `va` (current PCID, and global ones). */
  invlpg(va: bigint): void;
  /**
   * `invpcid type, desc` (types 0 individual address, 1 single context, 2 all contexts
   * including globals, 3 all contexts except globals). #GP(0) on a bad type, PCID > 0xFFF
   * or a non-canonical address for type 0.
   */
  invpcid(type: number, pcid: number, va: bigint): void;
  /** `iretq` (see the module comment). Faults raise #GP/#NP/#SS as the SDM says. */
  iretq(): void;
  /**
   * `sysretq`: RIP = RCX, RFLAGS = (R11 & 0x3C7FD7) | 2, CS = STAR[63:48] + 16 | 3, SS =
   * STAR[63:48] + 8 | 3, CPL = 3. A non-canonical RCX raises #GP(0) in ring 0 (Intel's
   * behaviour: the famous pitfall), thrown as CpuFault.
   */
  sysretq(): void;
  /** `swapgs`: exchanges IA32_GS_BASE and IA32_KERNEL_GS_BASE. */
  swapgs(): void;
  /** `hlt`: waits for an interrupt, then continues at `resumeAt` (default: `rip`). */
  hlt(resumeAt?: bigint): void;
  /** `cli`: RFLAGS.IF = 0. */
  cli(): void;
  /** `sti`: RFLAGS.IF = 1. */
  sti(): void;
  /** `in`: reads `size` (1, 2 or 4) bytes from an I/O port; all ones when nothing answers. */
  in(port: number, size: number): number;
  /** `out`: writes `size` bytes to an I/O port; ignored when nothing answers. */
  out(port: number, size: number, value: number): void;
  /** `in al, dx`. */
  inb(port: number): number;
  /** `in ax, dx`. */
  inw(port: number): number;
  /** `in eax, dx`. */
  ind(port: number): number;
  /** `out dx, al`. */
  outb(port: number, value: number): void;
  /** `out dx, ax`. */
  outw(port: number, value: number): void;
  /** `out dx, eax`. */
  outd(port: number, value: number): void;
  /** `cpuid`: [EAX, EBX, ECX, EDX] for `leaf` and `subleaf` (unsigned 32-bit numbers). */
  cpuid(leaf: number, subleaf?: number): [number, number, number, number];
  /** `rdtsc`: the time-stamp counter (runs at `TSC_HZ` from virtual time). */
  rdtsc(): bigint;

  // ---- memory, as ring-0 loads and stores see it ----------------------------------------

  /**
   * Loads `size` (1, 2, 4 or 8) bytes at linear address `va` through the MMU as a
   * supervisor access (CR0.WP honoured), zero-extended. Throws CpuFault on a fault
   * (#PF with CR2 set, #GP(0) for a non-canonical address).
   */
  load(va: bigint, size: number): bigint;
  /** Stores the low `size` bytes of `value` at `va`; faults as `load` does. */
  store(va: bigint, size: number, value: bigint): void;
  /**
   * Walks the page tables for `va` as `cpl` would access it, without touching the TLB, the
   * A/D bits, CR2 or any other state: for graders, panics and fault reports.
   */
  translate(va: bigint, access: Access, cpl: Cpl): Translation;

  // ---- wiring, for the platform ---------------------------------------------------------

  /** The I/O port space (`in`/`out`); the platform maps the UART and debug ports on it. */
  readonly io: Bus;
  /** The local APIC, connected by the platform (interrupts are never pending without it). */
  apic: ApicLink | undefined;
  /** MSRs the CPU does not implement itself. */
  msrHook: MsrHook | undefined;
  /**
   * Starts the CPU in ring 0 at the kernel entry `rip` (the boot CPU, from the firmware),
   * with the rest of its state as the firmware left it; `rdi` is the first argument.
   */
  start(rip: bigint, rdi?: bigint): void;
  /** INIT IPI: resets the CPU into wait-for-SIPI (it stops until `startup`). */
  init(): void;
  /**
   * Start-up IPI: a CPU waiting for SIPI begins at `vectorPage * 0x1000` in the hosted
   * start-up state described in the module comment. Ignored unless the CPU waits for SIPI.
   */
  startup(vectorPage: number): void;
  /** Non-maskable interrupt: delivered through IDT vector 2 at the next boundary. */
  nmi(): void;
  /** Whether the CPU waits for a start-up IPI (after `init`, or from power-on for an AP). */
  readonly waitingForSipi: boolean;
}
