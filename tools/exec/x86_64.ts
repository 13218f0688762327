/**
 * The x86-64 port of the exec layer: a bare machine (RAM and one CPU, no board devices)
 * and a tiny hosted kernel that runs one static Linux program in ring 3, as
 * `qemu-x86_64` does.
 *
 * What the kernel does, in the order a real one would (kernel.ts does what is the same on
 * RISC-V: the machine, the initial stack, the syscalls, stack growth, the signals):
 *
 * 1. builds 4-level page tables in RAM (SDM Vol. 3A §4.5) mapping the ELF's PT_LOAD
 *    segments with their permissions (U set, XD set where a segment is not executable)
 *    and the pages of the initial stack below 2^47, and all of RAM at {@link DIRECT_MAP}
 *    for itself (supervisor-only, global, 2-MiB pages): there the CPU finds the GDT, the
 *    IDT, the TSS and the kernel stacks;
 * 2. lays out the GDT as Linux does (arch/x86/include/asm/segment.h: kernel code 0x10,
 *    kernel data 0x18, 32-bit user code 0x23, user data 0x2b, user code 0x33, TSS 0x40),
 *    a TSS whose RSP0 is the kernel stack and IST1 a stack for double faults, and an IDT
 *    whose 256 gates point at the kernel's trap entries (#BP and #OF callable from ring
 *    3, as Linux makes them);
 * 3. lays out the Linux initial stack (stack.ts);
 * 4. at its start entry: sets EFER.NXE and EFER.SCE, CR4.PGE, loads CR3, the GDT, CS and
 *    SS, the IDT and TR; writes STAR, LSTAR (its syscall entry) and SFMASK as Linux does
 *    (arch/x86/kernel/cpu/common.c `syscall_init`); then builds an interrupt frame on its
 *    stack and `iretq`s into the program with IF set and every register zero but RSP;
 * 5. at its syscall entry: RAX is the number, RDI, RSI, RDX, R10, R8, R9 the arguments,
 *    RAX the result (linux.ts); it returns with `sysretq`;
 * 6. at its trap entries: a page fault in the stack region maps a fresh page and retries
 *    (the stack grows on demand up to its limit, as on Linux); any other exception kills
 *    the program with the signal Linux sends (arch/x86/kernel/traps.c) and a message like
 *    QEMU's, after reading the frame the CPU pushed on the kernel stack.
 *
 * @module
 */

import { type ElfImage, EM_X86_64 } from "../../emulator/asm/elf.ts";
import type { Machine } from "../../emulator/core/machine.ts";
import { hex } from "../../emulator/core/memory.ts";
import type { X86Cpu } from "../../emulator/x86_64/cpu_api.ts";
import { X86Processor } from "../../emulator/x86_64/cpu.ts";
import { decode, MAX_INSN_LENGTH } from "../../emulator/x86_64/decode.ts";
import { Insn } from "../../emulator/x86_64/insn.ts";
import {
  gateDescriptor,
  segmentDescriptor,
  tssDescriptor,
} from "../../emulator/x86_64/descriptors.ts";
import {
  CR4_PAE,
  CR4_PGE,
  DESC_DB,
  DESC_L,
  EFER_LME,
  EFER_NXE,
  EFER_SCE,
  EXC_AC,
  EXC_BP,
  EXC_BR,
  EXC_DB,
  EXC_DE,
  EXC_GP,
  EXC_MF,
  EXC_NP,
  EXC_OF,
  EXC_PF,
  EXC_SS,
  EXC_TS,
  EXC_UD,
  EXC_XM,
  hasErrorCode,
  IA32_EFER,
  IA32_FMASK,
  IA32_LSTAR,
  IA32_STAR,
  PF_P,
  PF_U,
  PF_W,
  PTE_G,
  PTE_NX,
  PTE_P,
  PTE_PS,
  PTE_U,
  PTE_W,
  R10,
  R8,
  R9,
  RAX,
  RDI,
  RDX,
  RFLAGS_AC,
  RFLAGS_DF,
  RFLAGS_FIXED,
  RFLAGS_IF,
  RFLAGS_IOPL,
  RFLAGS_NT,
  RFLAGS_TF,
  RSI,
  RSP,
  TSS_IOMAP_BASE,
  TSS_IST1,
  TSS_RSP0,
  vectorName,
} from "../../emulator/x86_64/regs.ts";
import type { AddressSpace, PagePerms } from "./address_space.ts";
import { type FrameAllocator, PAGE_SIZE } from "./frames.ts";
import { ExecKernel } from "./kernel.ts";
import { SIGBUS, SIGFPE, SIGILL, SIGSEGV, SIGTRAP, X86_64_SYSCALLS } from "./linux.ts";
import type { ExecOptions, ExecResult } from "./port.ts";

/** Where the kernel sees all of physical memory (supervisor-only): Linux's direct map. */
export const DIRECT_MAP = 0xffff_8880_0000_0000n;
/** The kernel entry the CPU starts at. */
export const START_ENTRY = 0xffff_ffff_8100_0000n;
/** The kernel's syscall entry, written to IA32_LSTAR. */
export const SYSCALL_ENTRY = 0xffff_ffff_8100_1000n;
/** The trap entry of vector v is at TRAP_ENTRIES + 16 * v; the IDT gates point there. */
export const TRAP_ENTRIES = 0xffff_ffff_8100_2000n;
/** The top of the user stack: the top of the lower canonical half (2^47), less a guard page. */
export const STACK_TOP = 2 ** 47 - PAGE_SIZE;
/** Physical RAM starts at 0; the kernel's frames start above the first MiB, as on a PC. */
const FRAMES_BASE = 0x10_0000;

/** GDT selectors, as Linux numbers them (arch/x86/include/asm/segment.h, 64-bit). */
export const KERNEL_CS = 0x10;
/** See {@link KERNEL_CS}. */
export const KERNEL_DS = 0x18;
/** The 32-bit user code segment: SYSRET derives the user selectors from it. */
export const USER32_CS = 0x23;
/** See {@link KERNEL_CS}. */
export const USER_DS = 0x2b;
/** See {@link KERNEL_CS}. */
export const USER_CS = 0x33;
/** The TSS descriptor (16 bytes, GDT entries 8 and 9). */
export const TSS_SEL = 0x40;
/** The GDT's limit: entries 0 to 9. */
const GDT_LIMIT = 10 * 8 - 1;
/** The TSS: 104 bytes, no I/O permission bitmap (iomap base past the limit: every port denied). */
const TSS_LIMIT = 0x67;

/** RFLAGS bits SYSCALL clears (Linux's syscall_init: TF, DF, IF, IOPL, AC, NT). */
const SYSCALL_FMASK = RFLAGS_TF | RFLAGS_DF | RFLAGS_IF | RFLAGS_IOPL | RFLAGS_AC | RFLAGS_NT;

/** Kernel stack (RSP0) and double-fault stack (IST1) sizes. */
const KERNEL_STACK_PAGES = 4;
const IST_STACK_PAGES = 2;

/** The signal Linux sends for each exception a user program can cause (traps.c, fault.c). */
const SIGNAL_OF: Readonly<Record<number, number>> = {
  [EXC_DE]: SIGFPE,
  [EXC_DB]: SIGTRAP,
  [EXC_BP]: SIGTRAP,
  [EXC_OF]: SIGSEGV,
  [EXC_BR]: SIGSEGV,
  [EXC_UD]: SIGILL,
  [EXC_TS]: SIGSEGV,
  [EXC_NP]: SIGBUS,
  [EXC_SS]: SIGBUS,
  [EXC_GP]: SIGSEGV,
  [EXC_PF]: SIGSEGV,
  [EXC_MF]: SIGFPE,
  [EXC_AC]: SIGBUS,
  [EXC_XM]: SIGFPE,
};

const PTE_ADDR_MASK = 0x000f_ffff_ffff_f000n;

/** A user address space in 4-level page tables, written into RAM as the MMU reads them. */
export class X86AddressSpace implements AddressSpace {
  /** Physical address of the PML4. */
  readonly pml4: number;
  readonly #pages = new Map<number, { pa: number; perms: PagePerms }>();

  /** Allocates the PML4 from `frames`. */
  constructor(readonly machine: Machine<X86Cpu>, readonly frames: FrameAllocator) {
    this.pml4 = frames.allocate();
  }

  /**
   * Maps the user page `va` to `pa` with a PTE: P, U, W if writable, XD unless executable.
   * x86-64 pages are always readable (SDM Vol. 3A §4.6).
   */
  map(va: number, pa: number, perms: PagePerms): void {
    if (va < 0 || va >= 2 ** 47 || va % PAGE_SIZE) {
      throw new RangeError(`cannot map ${hex(va)}: user pages are page-aligned and below 2^47`);
    }
    let pte = BigInt(pa) | BigInt(PTE_P | PTE_U);
    if (perms.write) pte |= BigInt(PTE_W);
    if (!perms.execute) pte |= PTE_NX;
    this.#write(this.#entryAddress(BigInt(va), 1), pte);
    this.#pages.set(va, { pa, perms });
  }

  /** Where `va`'s page is mapped (the kernel's own record of what it mapped). */
  lookup(va: number): { pa: number; perms: PagePerms } | undefined {
    return this.#pages.get(va - (va % PAGE_SIZE));
  }

  /**
   * Maps all of RAM at {@link DIRECT_MAP} with 2-MiB pages (PDEs with PS): present,
   * writable, supervisor-only, global, not executable.
   */
  mapDirect(size: number): void {
    const leaf = BigInt(PTE_P | PTE_W | PTE_PS | PTE_G) | PTE_NX;
    for (let pa = 0; pa < size; pa += 2 ** 21) {
      this.#write(this.#entryAddress(DIRECT_MAP + BigInt(pa), 2), BigInt(pa) | leaf);
    }
  }

  /**
   * The address of the entry at `level` (1 = PTE, 2 = PDE) for `va`, creating the tables
   * above it. A table pointer is P, W and U: the leaf decides the page's permissions.
   */
  #entryAddress(va: bigint, level: number): number {
    let table = this.pml4;
    for (let l = 4; l > level; l--) {
      const at = table + index(va, l) * 8;
      const e = this.machine.bus.read(at, 8)!;
      if ((e & BigInt(PTE_P)) === 0n) {
        const next = this.frames.allocate();
        this.#write(at, BigInt(next) | BigInt(PTE_P | PTE_W | PTE_U));
        table = next;
      } else {
        table = Number(e & PTE_ADDR_MASK);
      }
    }
    return table + index(va, level) * 8;
  }

  #write(pa: number, value: bigint): void {
    if (!this.machine.bus.write(pa, 8, value)) {
      throw new RangeError(`page table at ${hex(pa)} is not RAM`);
    }
  }
}

/** The index of `va` in the table at `level` (4 = PML4 ... 1 = page table): 9 bits each. */
function index(va: bigint, level: number): number {
  return Number((BigInt.asUintN(64, va) >> BigInt(12 + 9 * (level - 1))) & 511n);
}

/** The descriptor of the 32-bit user code segment (L = 0, D = 1), which SYSRET's selectors derive from. */
function code32Descriptor(dpl: number): bigint {
  return (segmentDescriptor(true, dpl) & ~DESC_L) | DESC_DB;
}

/** Physical frames for the kernel's tables and stacks, and their direct-map addresses. */
interface KernelLayout {
  gdt: number;
  idt: number;
  tss: number;
  stackTop: number;
  istTop: number;
}

/** Writes the GDT, the TSS and the IDT into the frames of `k` (through the bus: physical). */
function writeTables(machine: Machine<X86Cpu>, k: KernelLayout): void {
  const bus = machine.bus;
  const put = (pa: number, v: bigint) => bus.write(pa, 8, BigInt.asUintN(64, v));
  // GDT: null, (unused), kernel code, kernel data, user32 code, user data, user code,
  // (unused), TSS low, TSS high.
  put(k.gdt + KERNEL_CS, segmentDescriptor(true, 0));
  put(k.gdt + KERNEL_DS, segmentDescriptor(false, 0));
  put(k.gdt + (USER32_CS & ~3), code32Descriptor(3));
  put(k.gdt + (USER_DS & ~3), segmentDescriptor(false, 3));
  put(k.gdt + (USER_CS & ~3), segmentDescriptor(true, 3));
  const [lo, hi] = tssDescriptor(DIRECT_MAP + BigInt(k.tss), TSS_LIMIT);
  put(k.gdt + TSS_SEL, lo);
  put(k.gdt + TSS_SEL + 8, hi);
  // TSS: RSP0 and IST1, and an I/O map base past the limit (no bitmap: ring 3 gets #GP).
  put(k.tss + TSS_RSP0, DIRECT_MAP + BigInt(k.stackTop));
  put(k.tss + TSS_IST1, DIRECT_MAP + BigInt(k.istTop));
  bus.write(k.tss + TSS_IOMAP_BASE, 2, BigInt(TSS_LIMIT + 1));
  // IDT: an interrupt gate per vector; #BP and #OF may be raised from ring 3 (int3, into).
  for (let v = 0; v < 256; v++) {
    const [g0, g1] = gateDescriptor(TRAP_ENTRIES + BigInt(16 * v), KERNEL_CS, {
      dpl: v === EXC_BP || v === EXC_OF ? 3 : 0,
      ist: v === 8 ? 1 : 0,
    });
    put(k.idt + 16 * v, g0);
    put(k.idt + 16 * v + 8, g1);
  }
}

/** Runs the x86-64 ELF `image` (see the module comment). */
export function runX86_64(image: ElfImage, options: ExecOptions): ExecResult {
  if (image.machine !== EM_X86_64) throw new RangeError("runX86_64 needs an EM_X86_64 image");
  const kernel = new ExecKernel<X86Cpu, X86Processor>(options, {
    ramBase: 0,
    framesBase: FRAMES_BASE,
    stackTop: STACK_TOP,
    syscalls: X86_64_SYSCALLS,
    cpu: (machine) => new X86Processor(machine, { index: 0 }),
    userRead: (cpu, va) => cpu.translate(va, "read", 3).pa,
  });
  const { machine, frames, cpu } = kernel;
  let sp: number;
  let space: X86AddressSpace;
  let tables: KernelLayout;
  try {
    space = new X86AddressSpace(machine, frames);
    space.mapDirect(machine.ram.size);
    const stacks = frames.allocate();
    for (let k = 1; k < KERNEL_STACK_PAGES + IST_STACK_PAGES; k++) frames.allocate();
    tables = {
      gdt: frames.allocate(),
      idt: frames.allocate(),
      tss: frames.allocate(),
      stackTop: stacks + KERNEL_STACK_PAGES * PAGE_SIZE,
      istTop: stacks + (KERNEL_STACK_PAGES + IST_STACK_PAGES) * PAGE_SIZE,
    };
    writeTables(machine, tables);
    // x86: AT_HWCAP is CPUID.01H:EDX (arch/x86/include/asm/elf.h, ELF_HWCAP).
    sp = kernel.load(image, space, cpu.cpuid(1)[3]);
  } catch (e) {
    return kernel.refuse(e);
  }

  const kva = (pa: number) => DIRECT_MAP + BigInt(pa);

  machine.kernelText.register(START_ENTRY, "exec_start", (c) => {
    // What a kernel's early code and the exec of a program do, with the CPU's instructions.
    c.wrmsr(IA32_EFER, BigInt(EFER_LME | EFER_SCE | EFER_NXE));
    c.writeCr(4, BigInt(CR4_PAE | CR4_PGE));
    c.writeCr(3, BigInt(space.pml4));
    c.lgdt(kva(tables.gdt), GDT_LIMIT);
    c.loadCs(KERNEL_CS);
    c.loadSegment("ss", KERNEL_DS);
    c.lidt(kva(tables.idt), 256 * 16 - 1);
    c.ltr(TSS_SEL);
    c.wrmsr(IA32_STAR, (BigInt(USER32_CS) << 48n) | (BigInt(KERNEL_CS) << 32n));
    c.wrmsr(IA32_LSTAR, SYSCALL_ENTRY);
    c.wrmsr(IA32_FMASK, BigInt(SYSCALL_FMASK));
    // Enter ring 3 through an interrupt frame on the kernel stack: RIP, CS, RFLAGS, RSP, SS.
    const frame = [
      BigInt(image.entry),
      BigInt(USER_CS),
      BigInt(RFLAGS_IF | RFLAGS_FIXED),
      BigInt(sp),
      BigInt(USER_DS),
    ];
    const at = kva(tables.stackTop) - 40n;
    frame.forEach((v, k) => c.store(at + BigInt(8 * k), 8, v));
    c.regs.fill(0n);
    c.regs[RSP] = at;
    c.iretq();
  });

  machine.kernelText.register(SYSCALL_ENTRY, "exec_syscall", (c) => {
    const r = c.regs;
    const result = kernel.syscall(r[RAX], [r[RDI], r[RSI], r[RDX], r[R10], r[R8], r[R9]]);
    if (result === undefined) return; // the program exited
    r[RAX] = result;
    c.sysretq();
  });

  for (let v = 0; v < 256; v++) {
    machine.kernelText.register(
      TRAP_ENTRIES + BigInt(16 * v),
      `exec_trap_${v}`,
      (c) => trap(c, v),
    );
  }

  /** A trap entry: reads the frame the CPU pushed, then grows the stack or kills. */
  function trap(c: X86Cpu, vector: number): void {
    if (vector >= 32) {
      machine.fail(
        c.index,
        `unexpected interrupt (vector ${vector}): the exec kernel enables none`,
      );
      return;
    }
    const rsp = BigInt.asUintN(64, c.regs[RSP]);
    const withError = hasErrorCode(vector);
    const errorCode = withError ? Number(c.load(rsp, 8)) : -1;
    const frame = rsp + (withError ? 8n : 0n);
    const rip = c.load(frame, 8);
    const cs = Number(c.load(frame + 8n, 8));
    if ((cs & 3) !== 3) {
      machine.fail(
        c.index,
        `${vectorName(vector)} in the kernel at ${
          hex(rip)
        } (error code ${errorCode}): a kernel bug`,
      );
      return;
    }
    const cr2 = c.readCr(2);
    // Demand paging of the stack: a user access to a not-present page (a not-present
    // translation is never cached in a TLB, so no invlpg is needed; SDM Vol. 3A §4.10.2.3).
    if (vector === EXC_PF && !(errorCode & PF_P) && (errorCode & PF_U)) {
      const grown = kernel.growStack(Number(cr2));
      if (grown === "killed") return;
      if (grown === "grown") {
        c.regs[RSP] = BigInt.asIntN(64, frame); // drop the error code
        c.iretq();
        return;
      }
    }
    const signal = SIGNAL_OF[vector] ?? SIGILL;
    let detail = `${vectorName(vector)} at rip ${hex(rip)}`;
    if (vector === EXC_PF) {
      const access = errorCode & PF_W ? "write" : (errorCode & 0x10) ? "execute" : "read";
      detail += `, ${access} of ${hex(cr2)}: ${c.translate(cr2, access, 3).explanation}`;
    } else {
      if (withError && errorCode) detail += ` (error code ${hex(errorCode)})`;
      detail += `; instruction bytes ${instructionBytes(c, rip)}`;
    }
    kernel.kill(signal, detail);
  }

  /** The bytes of the instruction at `rip`, as the CPU's decoder delimits them, for a message. */
  function instructionBytes(c: X86Cpu, rip: bigint): string {
    const bytes: number[] = [];
    for (let k = 0n; k < BigInt(MAX_INSN_LENGTH); k++) {
      const t = c.translate(rip + k, "execute", 3);
      const b = t.pa === undefined ? undefined : machine.bus.read(t.pa, 1);
      if (b === undefined) break;
      bytes.push(Number(b));
    }
    if (!bytes.length) return "(not mapped)";
    const insn = new Insn();
    const n = decode(new Uint8Array(bytes), 0, bytes.length, insn);
    const shown = bytes.slice(0, n > 0 ? n : bytes.length);
    return shown.map((b) => b.toString(16).padStart(2, "0")).join(" ") +
      (insn.name ? ` (${insn.name})` : "");
  }

  cpu.resetToStartup();
  cpu.start(START_ENTRY);
  return kernel.run(() => `rip ${hex(cpu.rip)}`);
}
