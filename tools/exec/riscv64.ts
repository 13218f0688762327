/**
 * The RISC-V port of the exec layer: a bare machine (RAM and one hart, no board devices)
 * and a tiny hosted kernel that runs one static Linux program in U-mode, as
 * `qemu-riscv64` does.
 *
 * What the kernel does, in the order a real one would (kernel.ts does what is the same on
 * x86-64: the machine, the initial stack, the syscalls, stack growth, the signals):
 *
 * 1. builds Sv48 page tables in RAM (privileged spec §10.5) mapping the ELF's PT_LOAD
 *    segments with their permissions and U set, and the pages of the initial stack below
 *    2^47;
 * 2. lays out the Linux initial stack (stack.ts);
 * 3. at its start entry: writes its trap entry into stvec and the tables into satp,
 *    sets sepc to the ELF entry and sstatus.SPP to U, and `sret`s into the program;
 * 4. at its trap entry: an `ecall` from U-mode is a syscall (a7 = number, a0..a5 =
 *    arguments, a0 = result, linux.ts), after which it steps sepc past the ecall and
 *    `sret`s. A page fault in the stack region maps a fresh page and retries (the stack
 *    grows on demand up to its limit, as on Linux); a misaligned load or store is
 *    performed by the kernel (riscv64_misaligned.ts). Any other exception kills the
 *    program with the signal Linux would send (arch/riscv/kernel/traps.c) and a message
 *    like QEMU's.
 *
 * @module
 */

import { type ElfImage, EM_RISCV } from "../../emulator/asm/elf.ts";
import type { Machine } from "../../emulator/core/machine.ts";
import { hex } from "../../emulator/core/memory.ts";
import {
  CSR_SATP,
  CSR_SCAUSE,
  CSR_SEPC,
  CSR_SSTATUS,
  CSR_STVAL,
  CSR_STVEC,
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
  makeSatp,
  PTE_A,
  PTE_D,
  PTE_PPN_SHIFT,
  PTE_R,
  PTE_U,
  PTE_V,
  PTE_W,
  PTE_X,
  SATP_MODE_SV48,
  SCAUSE_INTERRUPT,
  SSTATUS_SPIE,
  SSTATUS_SPP,
} from "../../emulator/riscv64/csr.ts";
import { type Access, type Hart, PRIV_U } from "../../emulator/riscv64/hart_api.ts";
import { RiscvHart } from "../../emulator/riscv64/hart.ts";
import type { AddressSpace, PagePerms } from "./address_space.ts";
import { type FrameAllocator, PAGE_SIZE } from "./frames.ts";
import { ExecKernel } from "./kernel.ts";
import { RISCV64_SYSCALLS, SIGBUS, SIGILL, SIGSEGV, SIGTRAP } from "./linux.ts";
import { emulateMisaligned } from "./riscv64_misaligned.ts";
import type { ExecOptions, ExecResult } from "./port.ts";

/** Where RAM is, as on QEMU's virt board. */
export const RAM_BASE = 0x8000_0000;
/** The kernel entry the hart starts at. */
export const START_ENTRY = 0xffff_ffff_8000_0000n;
/** The kernel's trap entry, written to stvec. */
export const TRAP_ENTRY = 0xffff_ffff_8000_1000n;
/** The top of the user stack: the top of the Sv48 user half (2^47), less a guard page. */
export const STACK_TOP = 2 ** 47 - PAGE_SIZE;

/** Sv48: four levels of 512 entries; a user virtual address is below 2^47 (§10.5). */
const LEVELS = 4;

/** AT_HWCAP on RISC-V: bit (letter - 'a') for each single-letter extension (I, M, A, C). */
const HWCAP_RV64IMAC = [..."imac"].reduce((v, l) => v | (1 << (l.charCodeAt(0) - 97)), 0);

/** The signal Linux sends for each exception a user program can cause (traps.c). */
const SIGNAL_OF: Readonly<Record<number, number>> = {
  [EXC_INST_MISALIGNED]: SIGBUS,
  [EXC_INST_ACCESS]: SIGSEGV,
  [EXC_ILLEGAL_INST]: SIGILL,
  [EXC_BREAKPOINT]: SIGTRAP,
  [EXC_LOAD_MISALIGNED]: SIGBUS,
  [EXC_LOAD_ACCESS]: SIGSEGV,
  [EXC_STORE_MISALIGNED]: SIGBUS,
  [EXC_STORE_ACCESS]: SIGSEGV,
  [EXC_INST_PAGE_FAULT]: SIGSEGV,
  [EXC_LOAD_PAGE_FAULT]: SIGSEGV,
  [EXC_STORE_PAGE_FAULT]: SIGSEGV,
};

/** Which access each memory exception was, for the fault explanation. */
const ACCESS_OF: Readonly<Record<number, Access>> = {
  [EXC_INST_ACCESS]: "execute",
  [EXC_INST_PAGE_FAULT]: "execute",
  [EXC_LOAD_ACCESS]: "read",
  [EXC_LOAD_PAGE_FAULT]: "read",
  [EXC_STORE_ACCESS]: "write",
  [EXC_STORE_PAGE_FAULT]: "write",
};

/** A user address space in Sv48 page tables, written into RAM as the MMU reads them. */
export class Sv48AddressSpace implements AddressSpace {
  /** Physical address of the root table. */
  readonly root: number;
  readonly #pages = new Map<number, { pa: number; perms: PagePerms }>();

  /** Allocates the root table from `frames`. */
  constructor(readonly machine: Machine<Hart>, readonly frames: FrameAllocator) {
    this.root = frames.allocate();
  }

  /** satp for this address space (ASID 0). */
  get satp(): bigint {
    return makeSatp(SATP_MODE_SV48, 0, this.root / PAGE_SIZE);
  }

  /** Maps the user page `va` to `pa` with a leaf PTE: V, U, A, the permissions, D if writable. */
  map(va: number, pa: number, perms: PagePerms): void {
    if (va < 0 || va >= 2 ** 47 || va % PAGE_SIZE) {
      throw new RangeError(`cannot map ${hex(va)}: user pages are page-aligned and below 2^47`);
    }
    // W without R is a reserved encoding (§10.3.1): a write-only segment is mapped R+W.
    let bits = PTE_V | PTE_U | PTE_A;
    if (perms.read || perms.write) bits |= PTE_R;
    if (perms.write) bits |= PTE_W | PTE_D;
    if (perms.execute) bits |= PTE_X;
    this.#write(this.#leafAddress(va), (BigInt(pa / PAGE_SIZE) << PTE_PPN_SHIFT) | BigInt(bits));
    this.#pages.set(va, { pa, perms });
  }

  /** Where `va`'s page is mapped (the kernel's own record of what it mapped). */
  lookup(va: number): { pa: number; perms: PagePerms } | undefined {
    return this.#pages.get(va - (va % PAGE_SIZE));
  }

  /** The address of the level-0 PTE for `va`, creating the tables above it. */
  #leafAddress(va: number): number {
    let table = this.root;
    for (let level = LEVELS - 1; level > 0; level--) {
      const at = table + vpn(va, level) * 8;
      const pte = this.machine.bus.read(at, 8)!;
      if ((pte & BigInt(PTE_V)) === 0n) {
        // A pointer to the next level: V set, R, W and X clear (§10.3.1).
        const next = this.frames.allocate();
        this.#write(at, (BigInt(next / PAGE_SIZE) << PTE_PPN_SHIFT) | BigInt(PTE_V));
        table = next;
      } else {
        table = Number(pte >> PTE_PPN_SHIFT) * PAGE_SIZE;
      }
    }
    return table + vpn(va, 0) * 8;
  }

  #write(pa: number, pte: bigint): void {
    if (!this.machine.bus.write(pa, 8, pte)) {
      throw new RangeError(`page table at ${hex(pa)} is not RAM`);
    }
  }
}

/** VPN[level] of `va` (Sv48: 9 bits per level above the 12-bit page offset). */
function vpn(va: number, level: number): number {
  return Math.floor(va / 2 ** (12 + 9 * level)) % 512;
}

/** Runs the RISC-V ELF `image` (see the module comment). */
export function runRiscv64(image: ElfImage, options: ExecOptions): ExecResult {
  if (image.machine !== EM_RISCV) throw new RangeError("runRiscv64 needs an EM_RISCV image");
  const kernel = new ExecKernel<Hart>(options, {
    ramBase: RAM_BASE,
    framesBase: RAM_BASE,
    stackTop: STACK_TOP,
    syscalls: RISCV64_SYSCALLS,
    cpu(machine) {
      const hart = new RiscvHart(machine, 0);
      machine.cpus.push(hart);
      return hart;
    },
    userRead: (hart, va) => hart.translate(va, "read", PRIV_U).pa,
  });
  const { machine, cpu: hart } = kernel;
  let sp: number;
  let space: Sv48AddressSpace;
  try {
    space = new Sv48AddressSpace(machine, kernel.frames);
    sp = kernel.load(image, space, HWCAP_RV64IMAC);
  } catch (e) {
    return kernel.refuse(e);
  }

  machine.kernelText.register(START_ENTRY, "exec_start", (cpu) => {
    const h = cpu as Hart;
    h.csrw(CSR_STVEC, TRAP_ENTRY);
    h.csrw(CSR_SATP, space.satp);
    h.sfenceVma();
    h.csrw(CSR_SEPC, BigInt(image.entry));
    // Return to U-mode with interrupts as they are (none are enabled: sie = 0).
    h.csrc(CSR_SSTATUS, SSTATUS_SPP);
    h.csrs(CSR_SSTATUS, SSTATUS_SPIE);
    h.x.fill(0n);
    h.x[2] = BigInt(sp);
    h.sret();
  });

  machine.kernelText.register(TRAP_ENTRY, "exec_trap", (cpu) => {
    const h = cpu as Hart;
    const scause = h.csrr(CSR_SCAUSE);
    const sepc = h.csrr(CSR_SEPC);
    if (scause === BigInt(EXC_ECALL_U)) {
      const x = h.x;
      const result = kernel.syscall(x[17], [x[10], x[11], x[12], x[13], x[14], x[15]]);
      if (result === undefined) return; // the program exited
      x[10] = result;
      h.csrw(CSR_SEPC, sepc + 4n);
      h.sret();
      return;
    }
    if (scause & SCAUSE_INTERRUPT) {
      machine.fail(
        h.index,
        `unexpected interrupt (scause ${hex(scause)}): the exec kernel enables none`,
      );
      return;
    }
    const code = Number(scause);
    let signal = SIGNAL_OF[code] ?? SIGILL;
    const stval = h.csrr(CSR_STVAL);
    if (code === EXC_LOAD_PAGE_FAULT || code === EXC_STORE_PAGE_FAULT) {
      const grown = kernel.growStack(Number(stval));
      if (grown === "killed") return;
      if (grown === "grown") {
        // The faulting translation may be cached as invalid: flush it, then retry the access.
        h.sfenceVma(stval & ~BigInt(PAGE_SIZE - 1));
        h.sret();
        return;
      }
    }
    let detail = `${EXCEPTION_NAMES[code] ?? `exception ${code}`} at pc ${hex(sepc)}`;
    const access = ACCESS_OF[code];
    if (code === EXC_LOAD_MISALIGNED || code === EXC_STORE_MISALIGNED) {
      // Misaligned accesses work for user programs: the kernel performs them (Linux does).
      const failure = emulateMisaligned(h, sepc, stval);
      if (!failure) {
        h.sret();
        return;
      }
      // An emulated access that faults is the page fault it is (QEMU, whose accesses are
      // never misaligned, reports SIGSEGV there too).
      if (failure.kind === "fault") signal = SIGSEGV;
      detail += `, address ${hex(stval)}; emulating it ${
        failure.kind === "fault" ? "faulted" : "failed"
      }: ${failure.message}`;
    } else if (access) {
      detail += `, address ${hex(stval)}: ${h.translate(stval, access, PRIV_U).explanation}`;
    } else if (code === EXC_ILLEGAL_INST) {
      detail += ` (instruction bits ${hex(stval)})`;
    }
    kernel.kill(signal, detail);
  });

  hart.start(START_ENTRY, 0n);
  return kernel.run(() => `pc ${hex(hart.pc)}`);
}
