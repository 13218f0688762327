/**
 * The RISC-V hart as everything outside it sees it: the board and firmware that wire it
 * up, the hosted kernel that runs in its S-mode, and graders that inspect it.
 *
 * The hart interprets machine code in U-mode. In S-mode it runs the hosted TypeScript
 * kernel: executing at `pc` means calling the kernel entry registered at that address
 * (see `emulator/core/hosted.ts`). The kernel operates the hart through this interface,
 * one method per instruction it would use: `csrr`/`csrw` for `csrr`/`csrw`, `sret()` for
 * `sret`, `load`/`store` for loads and stores through the MMU, and so on.
 *
 * A kernel entry ends by leaving the hart somewhere:
 *
 * - `sret()`: back to the privilege in sstatus.SPP at sepc (U-mode code, or another kernel
 *   entry when SPP = S);
 * - `wfi()`: the hart waits; when an interrupt in sip & sie is pending it continues at
 *   the address given (default: this entry again), taking the interrupt first if
 *   sstatus.SIE allows, with sepc = that address (so `wfi` behaves like `1: wfi; j 1b`);
 * - setting `pc` to another kernel entry (a jump);
 * - stopping through the firmware (SBI HSM hart_stop, SRST).
 *
 * An entry that returns without doing any of these is a kernel bug, reported by the
 * machine ("kernel entry X returned without sret, wfi or a jump").
 *
 * Every method that a kernel entry calls counts as one kernel operation; see
 * `KERNEL_OP_BUDGET` in `emulator/core/hosted.ts`.
 *
 * @module
 */

import type { Cpu, Machine } from "../core/machine.ts";

/** Privilege levels (§1.2). Machine mode belongs to the firmware, which is TypeScript. */
export type Privilege = 0 | 1;
/** User mode. */
export const PRIV_U: Privilege = 0;
/** Supervisor mode. */
export const PRIV_S: Privilege = 1;

/** The ABI names of x0..x31 (Volume I, ch. 25, "RISC-V Assembly Programmer's Handbook"). */
export const ABI_NAMES: readonly string[] = [
  "zero",
  "ra",
  "sp",
  "gp",
  "tp",
  "t0",
  "t1",
  "t2",
  "s0",
  "s1",
  "a0",
  "a1",
  "a2",
  "a3",
  "a4",
  "a5",
  "a6",
  "a7",
  "s2",
  "s3",
  "s4",
  "s5",
  "s6",
  "s7",
  "s8",
  "s9",
  "s10",
  "s11",
  "t3",
  "t4",
  "t5",
  "t6",
];

/** The kind of access a translation is for. */
export type Access = "read" | "write" | "execute";

/** One step of a page-table walk, as the MMU read it. */
export interface WalkStep {
  /** Level of the table, from `levels - 1` (the root) down to 0. */
  level: number;
  /** Physical address of the PTE that was read. */
  pteAddress: number;
  /** The PTE's value, or undefined when the read itself faulted (no RAM there). */
  pte: bigint | undefined;
}

/** The outcome of translating one virtual address. */
export interface Translation {
  /** The virtual address. */
  va: bigint;
  /** The access. */
  access: Access;
  /** Physical address, when the translation succeeded. */
  pa?: number;
  /** The exception code (EXC_*) when it failed. */
  fault?: number;
  /** The PTEs read, root first (empty for Bare mode or a TLB hit). */
  steps: WalkStep[];
  /** Whether a TLB entry supplied the answer. */
  tlbHit: boolean;
  /** Why, in words: "level-1 PTE at 0x... is a leaf with R=0 W=1 (reserved encoding)". */
  explanation: string;
}

/** A RISC-V hart. The class in `hart.ts` implements it. */
export interface Hart extends Cpu {
  /** The machine this hart belongs to. */
  readonly machine: Machine<Hart>;
  /** The hart ID (mhartid), as the devicetree and SBI name it. */
  readonly hartId: number;

  /** x0..x31. x0 always reads 0; a write to it is discarded. */
  readonly x: BigInt64Array;
  /** The program counter (an unsigned 64-bit value). */
  pc: bigint;
  /** Current privilege. */
  priv: Privilege;

  // ---- Zicsr, as S-mode code executes it ----

  /** `csrr`: reads a CSR. Throws CpuFault(illegal instruction) for a CSR S-mode lacks. */
  csrr(csr: number): bigint;
  /** `csrw`: writes a CSR; read-only fields keep their values (WARL). */
  csrw(csr: number, value: bigint): void;
  /** `csrs`: sets the bits of `mask`. */
  csrs(csr: number, mask: bigint): void;
  /** `csrc`: clears the bits of `mask`. */
  csrc(csr: number, mask: bigint): void;

  // ---- privileged instructions ----

  /** `sret` (§10.1.1): pc = sepc, priv = SPP, SIE = SPIE, SPIE = 1, SPP = U. */
  sret(): void;
  /**
   * `wfi`: the hart waits for an interrupt (see the module comment). `resumeAt` is the
   * kernel entry it continues at when woken (default: the current pc).
   */
  wfi(resumeAt?: bigint): void;
  /** `sfence.vma vaddr, asid` (§10.2.1); omit either for "all". */
  sfenceVma(vaddr?: bigint, asid?: number): void;
  /** `fence.i`. */
  fenceI(): void;
  /** `ecall` from S-mode: a call into the firmware (SBI), which reads a7, a6, a0-a5. */
  ecall(): void;

  // ---- memory, as S-mode loads and stores see it ----

  /**
   * Loads `size` (1, 2, 4 or 8) bytes at virtual address `va` through the MMU with
   * S-mode permissions (SUM and MXR honoured), zero-extended. Throws CpuFault on a page,
   * access or misalignment fault, with scause and stval as the hardware would set them.
   */
  load(va: bigint, size: number): bigint;
  /** Stores the low `size` bytes of `value` at `va`; faults as `load` does. */
  store(va: bigint, size: number, value: bigint): void;
  /**
   * Walks the page tables for `va` as `priv` would access it, without touching the TLB,
   * A/D bits or any other state: for graders, panics and fault reports.
   */
  translate(va: bigint, access: Access, priv: Privilege): Translation;

  // ---- wiring, for the board and firmware ----

  /**
   * Sets or clears a supervisor interrupt source: IRQ_S_EXT from the PLIC, IRQ_S_TIMER
   * from the firmware's timer (SBI set_timer), IRQ_S_SOFT from an IPI. The pending bit
   * the kernel sees in sip is the OR of the sources (and, for the timer, of Sstc).
   */
  setInterruptPending(irq: number, level: boolean): void;
  /** The firmware: called for every S-mode `ecall`. The board sets it. */
  firmware: ((hart: Hart) => void) | undefined;
  /**
   * Resets the hart into S-mode at `pc` with a0 = hartid and a1 = `opaque`, satp = 0,
   * sstatus.SIE = 0, and makes it runnable at the machine's current time (SBI HSM
   * hart_start, and the boot of hart 0).
   */
  start(pc: bigint, opaque: bigint): void;
  /** Stops the hart (SBI HSM hart_stop); it runs again only through `start`. */
  stop(): void;
}
