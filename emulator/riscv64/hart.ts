/**
 * The RV64 hart: its architectural state, its run loop, and the kernel interface that
 * the hosted S-mode kernel operates it through (see hart_api.ts for the contract).
 *
 * ## What runs where
 *
 * - **U-mode** is machine code, interpreted by `runUser` (interp.ts): RV64IMAC with Zicsr,
 *   Zifencei and Zicntr, plus the two custom-0 instructions of TypeScript user programs
 *   (user_thread.ts). One instruction costs 1 ns of virtual time.
 * - **S-mode** is the hosted kernel: at `pc` the hart calls the kernel entry registered
 *   there (`callKernelEntry`), charging {@link KERNEL_ENTRY_COST_NS} plus 1 ns for each
 *   instruction-like method the entry calls (`csrr`, `csrw`, `csrs`, `csrc`, `sret`, `wfi`,
 *   `sfenceVma`, `fenceI`, `ecall`, `load`, `store`, `translate`; the wiring methods
 *   `setInterruptPending`, `start` and `stop` are free), and stopping the machine when an
 *   entry returns without leaving the hart somewhere (`sret`, `wfi`, a jump, a stop).
 *   `instret` counts U-mode instructions (and TypeScript program steps): kernel code is
 *   not instructions.
 * - **M-mode** belongs to the firmware, which is TypeScript too: an S-mode `ecall` calls
 *   `firmware(hart)`.
 *
 * Interrupts are taken at instruction boundaries in U-mode, and between kernel entries in
 * S-mode when sstatus.SIE = 1 (trap.ts). Loads, stores and fetches go through the TLB and
 * the Sv39/Sv48 walk (access.ts, tlb.ts, mmu.ts). CSR rules are in csrs.ts.
 *
 * ## Representation
 *
 * Registers live in a `BigInt64Array` whose buffer is also viewed as an `Int32Array`
 * (`xi`, the low word of x[n] at 2n and the high word at 2n+1): V8 compiles 64-bit
 * additions and logic on the first without allocating, and addresses and shifts are
 * cheaper on the second. The program counter and virtual addresses are JavaScript numbers
 * holding the signed 64-bit value (canonical addresses are exact in a float64); a pc that
 * is not (a jump to a wild address) is kept exactly in `pcExact` until it faults.
 *
 * The fields below are public for the interpreter modules of this folder; other code
 * should use the {@link Hart} interface.
 *
 * @module
 */

import {
  callKernelEntry,
  CpuFault,
  KERNEL_ENTRY_COST_NS,
  KERNEL_OP_BUDGET,
  KernelHang,
} from "../core/hosted.ts";
import type { TimerEvent } from "../core/events.ts";
import type { CpuState, Machine } from "../core/machine.ts";
import { hex } from "../core/memory.ts";
import {
  EXC_ECALL_S,
  IRQ_S_EXT,
  IRQ_S_SOFT,
  IRQ_S_TIMER,
  NS_PER_TICK,
  SATP_ASID_SHIFT,
  SATP_MODE_BARE,
  SATP_PPN_MASK,
  SCOUNTEREN_CY,
  SCOUNTEREN_IR,
  SCOUNTEREN_TM,
} from "./csr.ts";
import {
  type Access,
  type Hart,
  PRIV_S,
  PRIV_U,
  type Privilege,
  type Translation,
} from "./hart_api.ts";
import { newWalkOut, type WalkOut } from "./mmu.ts";
import { Tlb, TLB_BARE } from "./tlb.ts";
import { csrRead, csrWrite, SIE_BIT } from "./csrs.ts";
import { pendingInterrupt, sret, takeInterrupt } from "./trap.ts";
import {
  FaultSource,
  flushTlbs,
  kernelLoad,
  kernelStore,
  translateForGrader,
  TWO53,
} from "./access.ts";
import { type Reservations, reservationsOf } from "./atomics.ts";
import { runUser } from "./interp.ts";

/** The largest stimecmp (in ticks) that maps to a finite event time. */
const STIMECMP_FINITE_MAX = 2n ** 50n;

/** A RISC-V hart (see the module comment). */
export class RiscvHart implements Hart {
  /** The machine this hart belongs to. */
  readonly machine: Machine<Hart>;
  /** Position in machine.cpus. */
  readonly index: number;
  /** mhartid. */
  readonly hartId: number;
  /** Running, idle (wfi) or stopped. A hart starts stopped: the board calls `start`. */
  state: CpuState = "stopped";
  /** Local virtual time (ns). */
  timeNs = 0;
  /** Instructions retired (user instructions and TypeScript program steps). */
  instret = 0;
  /** x0..x31. */
  readonly x: BigInt64Array;
  /** The same registers as 32-bit halves: x[n] = xi[2n+1]:xi[2n]. */
  readonly xi: Int32Array;
  /** The pc as a signed number; NaN when it is only held exactly in `pcExact`. */
  vpc = 0;
  /** The pc, when it cannot be a number (|pc| >= 2^53 as a signed value). */
  pcExact: bigint | undefined;
  /** Current privilege. */
  priv: Privilege = PRIV_S;

  // ---- supervisor CSRs (csrs.ts gives their rules) ----

  /** The writable bits of sstatus: SIE, SPIE, SPP, SUM, MXR. */
  sstatus = 0;
  /** sie. */
  sie = 0;
  /** The software-writable pending bit sip.SSIP (bit 1), also set by IPIs. */
  sipSoft = 0;
  /** The STIP line from the firmware (SBI set_timer). */
  stipLine = false;
  /** The SEIP line from the PLIC. */
  seipLine = false;
  /** Latched by the Sstc event when time reached stimecmp. */
  stipSstc = false;
  /** stvec. */
  stvec = 0n;
  /** sscratch. */
  sscratch = 0n;
  /** sepc. */
  sepc = 0n;
  /** scause. */
  scause = 0n;
  /** stval. */
  stval = 0n;
  /** scounteren: CY, TM and IR set at reset, so U-mode may read all three counters. */
  scounteren = SCOUNTEREN_CY | SCOUNTEREN_TM | SCOUNTEREN_IR;
  /** senvcfg. */
  senvcfg = 0n;
  /** stimecmp (Sstc), unsigned; reset to the largest value (no interrupt). */
  stimecmp = 0xffff_ffff_ffff_ffffn;
  /** stimecmp as a virtual time in ns (Infinity when out of reach). */
  stimecmpNs = Infinity;
  /** The event that sets STIP at stimecmpNs. */
  stimecmpEvent: TimerEvent | undefined;
  /** satp. */
  satp = 0n;
  /** satp.MODE as page-table levels: 0 for Bare, 3 for Sv39, 4 for Sv48. */
  satpLevels = 0;
  /** satp.ASID. */
  satpAsid = 0;
  /** satp.PPN. */
  satpPpn = 0;

  // ---- the MMU ----

  /** Instruction-fetch TLB. */
  readonly itlb: Tlb = new Tlb();
  /** Load/store TLB. */
  readonly dtlb: Tlb = new Tlb();
  /** The ASID tag TLB lookups match: satp.ASID, or TLB_BARE in Bare mode. */
  tlbAsid = TLB_BARE;
  /** The last walk's outcome (reused). */
  readonly walkOut: WalkOut = newWalkOut();
  /** The fetch page: virtual address of the page the interpreter fetches from, or NaN. */
  fetchBase = NaN;
  /** RAM offset of `fetchBase`. */
  fetchOff = 0;
  /** Result of the last translation: RAM buffer offset, or -1 when not RAM. */
  xlatOff = -1;
  /** Result of the last translation: the physical address. */
  xlatPa = 0;
  /** The exception code of the last failed access. */
  faultCode = 0;
  /** Why the last access failed (with `walkOut`, for the message). */
  faultSource: FaultSource = FaultSource.Walk;
  /** stval of the last failed access. */
  faultTval = 0n;
  /** RAM viewed as signed bytes (for `lb`). */
  readonly ramI8: Int8Array;
  /** RAM viewed as signed halfwords (for `lh`). */
  readonly ramI16: Int16Array;

  // ---- LR/SC ----

  /** The LR/SC reservations of this machine's harts. */
  readonly reservations: Reservations;

  // ---- the hosted kernel ----

  /** The firmware, called for every S-mode ecall. */
  firmware: ((hart: Hart) => void) | undefined;
  /** True while a kernel entry runs (kernel operations are charged). */
  inEntry = false;
  /** Operations the current kernel entry has made. */
  entryOps = 0;
  /** Set when the current entry left the hart somewhere (sret, wfi, jump, stop). */
  left = false;
  /** How the pc got to its S-mode value, for the message when nothing is registered. */
  entryVia = "the start address";

  /** Builds hart `index` of `machine` with hart ID `hartId` (default: the index). */
  constructor(machine: Machine<Hart>, index: number, hartId = index) {
    this.machine = machine;
    this.index = index;
    this.hartId = hartId;
    this.x = new BigInt64Array(32);
    this.xi = new Int32Array(this.x.buffer);
    this.reservations = reservationsOf(machine);
    this.ramI8 = new Int8Array(machine.ram.buffer);
    this.ramI16 = new Int16Array(machine.ram.buffer);
  }

  // ---- the program counter ----

  /** The program counter, unsigned. Setting it from a kernel entry is a jump. */
  get pc(): bigint {
    return this.pcExact ?? BigInt.asUintN(64, BigInt(this.vpc));
  }

  set pc(value: bigint) {
    this.setPc(value);
    if (this.inEntry) {
      this.left = true;
      this.entryVia = "a jump (pc written by a kernel entry)";
    }
  }

  /** Sets the pc without counting it as a kernel jump. */
  setPc(value: bigint): void {
    const s = BigInt.asIntN(64, value);
    if (s >= -TWO53 && s < TWO53) {
      this.vpc = Number(s);
      this.pcExact = undefined;
    } else {
      this.vpc = NaN;
      this.pcExact = BigInt.asUintN(64, value);
    }
    this.fetchBase = NaN;
  }

  // ---- the Cpu interface ----

  /** Exact local time: U-mode code keeps timeNs current before anything can read it. */
  nowNs(): number {
    return this.timeNs;
  }

  /** Whether an interrupt is pending and enabled in sie (wfi wakes regardless of SIE). */
  wakeable(): boolean {
    return (this.sipValue() & this.sie) !== 0;
  }

  /** Runs until local time reaches `untilNs`, the hart waits or stops, or the machine stops. */
  run(untilNs: number): void {
    const m = this.machine;
    while (this.timeNs < untilNs && !m.stopReason) {
      if (this.state === "idle") {
        if (!this.wakeable()) return;
        this.state = "running";
      }
      if (this.state !== "running") return;
      const irq = pendingInterrupt(this);
      if (irq >= 0) {
        takeInterrupt(this, irq);
        continue;
      }
      if (this.priv === PRIV_U) runUser(this, untilNs);
      else this.runKernelEntry();
    }
  }

  /** Calls the kernel entry at pc once, with its cost and the check that it left. */
  runKernelEntry(): void {
    const m = this.machine;
    const at = this.pc;
    this.timeNs += KERNEL_ENTRY_COST_NS;
    this.inEntry = true;
    this.entryOps = 0;
    this.left = false;
    let ok: boolean;
    try {
      ok = callKernelEntry(m, this as Hart, at, this.entryVia);
    } finally {
      this.inEntry = false;
    }
    if (!ok || this.left || m.stopReason || this.state !== "running") return;
    m.fail(
      this.index,
      `kernel entry ${
        m.kernelText.describe(at)
      } returned without sret, wfi or a jump: the hart would run on into whatever follows it`,
    );
  }

  /**
   * Runs kernel entries until the hart leaves S-mode, waits, stops, or the machine stops:
   * the kernel's handling of a fault raised inside a TypeScript thread's access.
   */
  runKernelNested(): void {
    const m = this.machine;
    while (this.priv === PRIV_S && this.state === "running" && !m.stopReason) {
      const irq = pendingInterrupt(this);
      if (irq >= 0) takeInterrupt(this, irq);
      else this.runKernelEntry();
    }
  }

  /** Counts one kernel operation: 1 ns, and the hang check. */
  #op(): void {
    if (!this.inEntry) return;
    this.timeNs += 1;
    if (++this.entryOps > KERNEL_OP_BUDGET) {
      throw new KernelHang(
        `more than ${KERNEL_OP_BUDGET} operations in one entry (an endless loop polling ` +
          `something that never changes?)`,
      );
    }
  }

  // ---- interrupts ----

  /** sip as the kernel reads it: SSIP, STIP (firmware line or Sstc) and SEIP. */
  sipValue(): number {
    let v = this.sipSoft;
    if (this.stipLine || this.stipSstc || this.timeNs >= this.stimecmpNs) v |= 1 << IRQ_S_TIMER;
    if (this.seipLine) v |= 1 << IRQ_S_EXT;
    return v;
  }

  /** Sets or clears an interrupt source (see hart_api.ts). */
  setInterruptPending(irq: number, level: boolean): void {
    if (irq === IRQ_S_SOFT) this.sipSoft = level ? 1 << IRQ_S_SOFT : 0;
    else if (irq === IRQ_S_TIMER) this.stipLine = level;
    else if (irq === IRQ_S_EXT) this.seipLine = level;
    else {
      throw new RangeError(`interrupt ${irq} is not a supervisor interrupt (use 1, 5 or 9)`);
    }
    if (this.machine.trace.interrupt) {
      this.machine.trace.emit("interrupt", this.index, { irq, level, sip: hex(this.sipValue()) });
    }
  }

  /** Sets stimecmp (Sstc) and schedules the event that raises STIP when time reaches it. */
  setStimecmp(value: bigint): void {
    const events = this.machine.events;
    this.stimecmp = BigInt.asUintN(64, value);
    this.stipSstc = false;
    events.cancel(this.stimecmpEvent);
    this.stimecmpEvent = undefined;
    this.stimecmpNs = this.stimecmp < STIMECMP_FINITE_MAX
      ? Number(this.stimecmp) * NS_PER_TICK
      : Infinity;
    if (this.stimecmpNs !== Infinity) {
      this.stimecmpEvent = events.schedule(this.stimecmpNs, () => {
        this.stipSstc = true;
        this.stimecmpEvent = undefined;
      });
    }
  }

  /** Applies a new satp: the fields the MMU uses, and the TLB tags (no flush). */
  setSatp(value: bigint, levels: number): void {
    this.satp = value;
    this.satpLevels = levels;
    this.satpAsid = Number((value >> SATP_ASID_SHIFT) & 0xffffn);
    this.satpPpn = Number(value & SATP_PPN_MASK);
    this.tlbAsid = levels === 0 ? TLB_BARE : this.satpAsid;
    this.fetchBase = NaN;
  }

  // ---- Zicsr, as S-mode executes it ----

  /** `csrr`. */
  csrr(csr: number): bigint {
    this.#op();
    const v = csrRead(this, csr, PRIV_S);
    if (v === undefined) throw this.#illegalCsr(csr, "read");
    return v;
  }

  /** `csrw`. */
  csrw(csr: number, value: bigint): void {
    this.#op();
    if (!csrWrite(this, csr, value, PRIV_S)) throw this.#illegalCsr(csr, "write");
  }

  /** `csrs`. */
  csrs(csr: number, mask: bigint): void {
    this.#op();
    const v = csrRead(this, csr, PRIV_S);
    if (v === undefined || !csrWrite(this, csr, v | mask, PRIV_S)) {
      throw this.#illegalCsr(csr, "set bits in");
    }
  }

  /** `csrc`. */
  csrc(csr: number, mask: bigint): void {
    this.#op();
    const v = csrRead(this, csr, PRIV_S);
    if (v === undefined || !csrWrite(this, csr, v & ~mask, PRIV_S)) {
      throw this.#illegalCsr(csr, "clear bits in");
    }
  }

  #illegalCsr(csr: number, what: string): CpuFault {
    return new CpuFault(
      2,
      0n,
      `illegal instruction: S-mode cannot ${what} CSR ${hex(csr)} ` +
        `(it does not exist on this hart, belongs to M-mode, or is read-only)`,
    );
  }

  // ---- privileged instructions ----

  /** `sret`. */
  sret(): void {
    this.#op();
    sret(this);
  }

  /** `wfi`: wait for an interrupt, then continue at `resumeAt` (default: this entry). */
  wfi(resumeAt?: bigint): void {
    this.#op();
    if (resumeAt !== undefined) this.setPc(resumeAt);
    this.state = "idle";
    this.left = true;
    this.entryVia = "the wfi resume address";
  }

  /** `sfence.vma vaddr, asid`. */
  sfenceVma(vaddr?: bigint, asid?: number): void {
    this.#op();
    flushTlbs(this, vaddr, asid);
  }

  /** `fence.i`: nothing is cached by physical address yet (an interpreter fetches RAM). */
  fenceI(): void {
    this.#op();
    this.fetchBase = NaN;
  }

  /** `ecall` from S-mode: the firmware handles it (SBI). */
  ecall(): void {
    this.#op();
    if (!this.firmware) {
      throw new CpuFault(
        EXC_ECALL_S,
        0n,
        "ecall from S-mode, but this board has no firmware installed to answer it",
      );
    }
    this.firmware(this);
  }

  // ---- memory ----

  /** S-mode load through the MMU (see hart_api.ts). */
  load(va: bigint, size: number): bigint {
    this.#op();
    return kernelLoad(this, va, size);
  }

  /** S-mode store through the MMU. */
  store(va: bigint, size: number, value: bigint): void {
    this.#op();
    kernelStore(this, va, size, value);
  }

  /** Walks the page tables for `va` without touching the TLB or any state. */
  translate(va: bigint, access: Access, priv: Privilege): Translation {
    this.#op();
    return translateForGrader(this, va, access, priv);
  }

  // ---- HSM ----

  /** Resets into S-mode at `pc` with a0 = hartid, a1 = `opaque` (SBI hart_start, boot). */
  start(pc: bigint, opaque: bigint): void {
    this.priv = PRIV_S;
    this.setPc(pc);
    this.x[10] = BigInt(this.hartId);
    this.x[11] = opaque;
    this.setSatp(0n, SATP_MODE_BARE);
    this.sstatus &= ~SIE_BIT;
    this.reservations.release(this.index);
    this.timeNs = Math.max(this.timeNs, this.machine.now());
    this.state = "running";
    this.entryVia = "the start address (SBI hart_start)";
    this.left = true;
  }

  /** Stops the hart (SBI hart_stop). */
  stop(): void {
    this.state = "stopped";
    this.reservations.release(this.index);
    this.left = true;
  }
}
