/**
 * The x86-64 CPU: one logical processor in 64-bit mode, implementing {@link X86Cpu}.
 *
 * What lives where:
 *
 * - here: the architectural state, the memory paths (TLB fast path, page walk, device
 *   accesses, the decoded-instruction cache), the run loop that alternates ring-3
 *   interpretation with hosted-kernel entries, and the kernel's instruction methods;
 * - `exec.ts`: the interpreter of ring-3 instructions;
 * - `exceptions.ts`: interrupt and exception delivery through the IDT, IRETQ, SYSCALL and
 *   SYSRET, double and triple faults;
 * - `control.ts`: control registers, MSRs and CPUID;
 * - `ts_thread.ts`: the TypeScript user-program instructions.
 *
 * Faults inside the CPU travel as a thrown {@link FAULT} token (no allocation, no stack
 * trace) with the details in `fVector` and `fError`; the run loop delivers them, and the
 * kernel's methods turn them into `CpuFault`.
 *
 * Registers live in one 128-byte buffer seen as a BigInt64Array (`regs`, the kernel's
 * view), an Int32Array of low/high halves (`r32`, the executor's view), and byte and word
 * views for the narrow operand sizes. RIP is kept as a number (`ip`): a canonical
 * address as a signed 48-bit value, exact in a float64.
 *
 * @module
 */

import type { Bus } from "../core/bus.ts";
import { Bus as BusClass } from "../core/bus.ts";
import {
  callKernelEntry,
  CpuFault,
  KERNEL_ENTRY_COST_NS,
  KERNEL_OP_BUDGET,
  KernelHang,
} from "../core/hosted.ts";
import type { CpuState, Machine } from "../core/machine.ts";
import { hex } from "../core/memory.ts";
import type {
  Access,
  ApicLink,
  Cpl,
  MsrHook,
  SegmentName,
  TableRegister,
  Translation,
  X86Cpu,
} from "./cpu_api.ts";
import { cpuid, rdmsr, readCr, TSC_PER_NS, writeCr, wrmsr } from "./control.ts";
import { decode, DECODE_NEED_MORE, MAX_INSN_LENGTH } from "./decode.ts";
import {
  deliverEvent,
  EV_EXTERNAL,
  EV_NMI,
  iretq,
  loadCsSelector,
  loadDataSegment,
  loadTr,
  sysretq,
} from "./exceptions.ts";
import { runUser } from "./exec.ts";
import { JIT_THRESHOLD } from "./jit.ts";
import { LazyFlags } from "./flags.ts";
import { type CodePage, ICache } from "./icache.ts";
import { Insn } from "./insn.ts";
import { ACC_EXEC, ACC_READ, ACC_WRITE, ACCESS_NAMES, walk, WalkResult } from "./paging.ts";
import {
  CR0_ET,
  CR0_MP,
  CR0_NE,
  CR0_PE,
  CR0_PG,
  CR0_WP,
  CR4_PAE,
  EFER_LMA,
  EFER_LME,
  EFER_NXE,
  EXC_GP,
  EXC_MC,
  EXC_NMI,
  EXC_PF,
  EXC_SS,
  PF_I,
  PF_P,
  PF_U,
  PF_W,
  RFLAGS_AC,
  RFLAGS_DF,
  RFLAGS_FIXED,
  RFLAGS_ID,
  RFLAGS_IF,
  RFLAGS_IOPL,
  RFLAGS_NT,
  RFLAGS_RF,
  RFLAGS_STATUS,
  RFLAGS_TF,
  RFLAGS_VIF,
  RFLAGS_VIP,
  RSP,
  vectorName,
} from "./regs.ts";
import { pcidHash, Tlb, TLB_D, TLB_NOCODE, TLB_RAM, TLB_U, TLB_W, TLB_X } from "./tlb.ts";
import { TsThreads } from "./ts_thread.ts";

/** The token thrown when an instruction faults; details are in the CPU's `f*` fields. */
export const FAULT: Readonly<{ fault: true }> = Object.freeze({ fault: true });

/** The token thrown to abandon an instruction after the machine has been stopped. */
export const STOPPED: Readonly<{ stopped: true }> = Object.freeze({ stopped: true });

/**
 * RFLAGS bits software can hold (the rest read as 0; bit 1 reads as 1). VIF and VIP are
 * kept but mean nothing here (no virtual-8086 mode extensions).
 */
export const RFLAGS_WRITABLE = RFLAGS_STATUS | RFLAGS_TF | RFLAGS_IF | RFLAGS_DF |
  RFLAGS_IOPL | RFLAGS_NT | RFLAGS_RF | RFLAGS_AC | RFLAGS_VIF | RFLAGS_VIP | RFLAGS_ID;

/** 2^47: canonical addresses are the numbers in [-2^47, 2^47). */
export const CANON = 2 ** 47;

/** How the last kernel entry left the CPU. */
const EXIT_NONE = 0, EXIT_DONE = 1;

/** Options for building a CPU. */
export interface X86CpuOptions {
  /** Position in `machine.cpus`. Default: the next free index. */
  index?: number;
  /** Initial local APIC ID. Default: the index. */
  apicId?: number;
  /** The I/O port space to use (CPUs of one PC share one). Default: a new, empty one. */
  io?: Bus;
  /**
   * Compile hot blocks to JavaScript (jit.ts; default true). Turn it off where `new
   * Function` is not allowed, or to test the interpreter alone.
   */
  jit?: boolean;
  /** How many starts make a block hot enough to compile (default JIT_THRESHOLD). */
  jitThreshold?: number;
}

/** Converts a 64-bit value to a canonical linear address number, or undefined. */
export function canonicalNumber(v: bigint): number | undefined {
  const s = BigInt.asIntN(64, v);
  return s >= -(1n << 47n) && s < 1n << 47n ? Number(s) : undefined;
}

/** The unsigned 64-bit form of an address number, for messages. */
export function u64(n: number): bigint {
  return BigInt.asUintN(64, BigInt(n));
}

/** An x86-64 CPU. */
export class X86Processor implements X86Cpu {
  /** The machine. */
  readonly machine: Machine<X86Cpu>;
  /** Position in `machine.cpus`. */
  readonly index: number;
  /** Initial local APIC ID. */
  readonly apicId: number;
  /** Running, idle (hlt) or stopped (not started, or waiting for SIPI). */
  state: CpuState = "stopped";
  /** Local virtual time (ns). */
  timeNs = 0;
  /** Instructions retired (ring 3; kernel entries are not instructions). */
  instret = 0;

  // ---- registers -------------------------------------------------------------------------

  /** The 16 registers and one scratch pair (r32[32], r32[33]) for the executor's loads. */
  readonly #regBuf = new ArrayBuffer(17 * 8);
  /** RAX..R15 as 64-bit values (the kernel's view). */
  readonly regs: BigInt64Array = new BigInt64Array(this.#regBuf, 0, 16);
  /** The same registers as int32 halves: r32[2n] = bits 31:0, r32[2n+1] = bits 63:32. */
  readonly r32: Int32Array = new Int32Array(this.#regBuf);
  /** Byte view (AL = r8[0], AH = r8[1], CL = r8[8], ...). */
  readonly r8: Uint8Array = new Uint8Array(this.#regBuf);
  /** 16-bit view (AX = r16[0], CX = r16[4], ...). */
  readonly r16: Uint16Array = new Uint16Array(this.#regBuf);
  /** RIP as a canonical address number. */
  ip = 0;
  /** RFLAGS except the six status flags (bit 1 always set). */
  flagsCtl: number = RFLAGS_FIXED;
  /** The status flags, lazily. */
  readonly lf: LazyFlags = new LazyFlags();
  /** Current privilege level. */
  cplN: Cpl = 0;
  /** Whether data accesses are user-mode accesses now (CPL 3 and not an implicit access). */
  user = false;
  /** Segment selectors, indexed by SEG_ES..SEG_GS. */
  readonly sel: Uint16Array = new Uint16Array(6);
  /** FS and GS bases (canonical address numbers) and IA32_KERNEL_GS_BASE. */
  fsBase = 0;
  /** See {@link fsBase}. */
  gsBase = 0;
  /** See {@link fsBase}. */
  kernelGsBase = 0;

  // ---- system registers (see control.ts) ---------------------------------------------------

  /** CR0. */
  cr0: number = CR0_ET;
  /** CR2: the last page-fault address. */
  cr2 = 0;
  /** CR3 as written (without the no-flush bit). */
  cr3 = 0n;
  /** CR4. */
  cr4 = 0;
  /** CR8 when no APIC link handles it. */
  cr8 = 0;
  /** IA32_EFER. */
  efer = 0;
  /** The current PCID (CR3[11:0] when CR4.PCIDE = 1, else 0); change it with `setPcid`. */
  pcid = 0;
  /** The PCID's contribution to the TLB set index (see tlb.ts). */
  pcidSet = 0;
  /** Physical address of the PML4 (CR3[51:12]). */
  pml4 = 0;
  /** GDTR and IDTR (bases as address numbers). */
  gdtrBase = 0;
  /** See {@link gdtrBase}. */
  gdtrLimit = 0xffff;
  /** See {@link gdtrBase}. */
  idtrBase = 0;
  /** See {@link gdtrBase}. */
  idtrLimit = 0xffff;
  /** TR: selector, base and limit from the TSS descriptor (0 limit = no TSS). */
  trSel = 0;
  /** See {@link trSel}. */
  trBase = 0;
  /** See {@link trSel}. */
  trLimit = 0;
  /** LDTR selector (always 0: no LDT support). */
  ldtrSel = 0;
  /** IA32_STAR; write it with `setStar` so that its selector fields follow. */
  star = 0n;
  /** STAR[47:32] (SYSCALL's CS) and STAR[63:48] (SYSRET's selector base), as numbers. */
  starSyscall = 0;
  /** See {@link starSyscall}. */
  starSysret = 0;
  /** IA32_LSTAR (canonical). */
  lstar = 0;
  /** IA32_CSTAR. */
  cstar = 0;
  /** IA32_FMASK (bits 31:0). */
  fmask = 0;
  /** IA32_TSC_AUX. */
  tscAux = 0;
  /** TSC offset (IA32_TIME_STAMP_COUNTER writes). */
  tscOffset = 0n;
  /** IA32_PAT (its reset value). */
  pat = 0x0007_0406_0007_0406n;
  /** IA32_MISC_ENABLE. */
  miscEnable = 1n; // fast-strings enable

  // ---- memory ------------------------------------------------------------------------------

  /** This CPU's TLB. */
  readonly tlb: Tlb = new Tlb();
  /** This CPU's decoded-instruction cache. */
  readonly icache: ICache = new ICache(this.tlb);
  /** The physical address space. */
  readonly bus: Bus;
  /** RAM as bytes and as a DataView (the memory fast path). */
  readonly u8: Uint8Array;
  /** See {@link u8}. */
  readonly dv: DataView;
  /** The TLB arrays, cached for the fast path. */
  readonly tlbVpn: Float64Array;
  /** See {@link tlbVpn}. */
  readonly tlbTag: Int32Array;
  /** See {@link tlbVpn}. */
  readonly tlbPerm: Int32Array;
  /** See {@link tlbVpn}. */
  readonly tlbOff: Float64Array;
  /** TLB permission bits a read, write or fetch needs now (depends on CPL and CR0.WP). */
  needR: number = TLB_RAM;
  /** See {@link needR}. */
  needW: number = TLB_RAM | TLB_D | TLB_NOCODE;
  /** See {@link needR}. */
  needX: number = TLB_RAM | TLB_X;
  readonly #walk = new WalkResult();

  // ---- execution ---------------------------------------------------------------------------

  /** The cache epoch; see icache.ts. */
  epoch = 0;
  /** Instructions executed so far in the running user loop (for `nowNs`). */
  icount = 0;
  /** The user loop runs while its count is below this; set to 0 to make it return. */
  loopBudget = 0;
  /** The virtual address and RAM offset of the code page the user loop last entered. */
  codePageVa: number = -(2 ** 30);
  /** See {@link codePageVa}. */
  codeFrameOff = 0;
  /** The vector, error code (-1: none) of the fault being raised. */
  fVector = 0;
  /** See {@link fVector}. */
  fError: number = -1;
  /** Why the pending fault was raised, in words (for messages and traces). */
  faultWhy = "";
  /** How execution reached `ip` in ring 0, for "points at nothing" messages. */
  via = "the start-up address";
  /** Set while an NMI is being handled (until the next IRET). */
  nmiBlocked = false;
  /** The TypeScript user threads run by this CPU. */
  readonly ts: TsThreads;
  /** Whether hot blocks are compiled (see jit.ts). */
  jit: boolean;
  /** How many starts at an instruction make it compiled (see jit.ts). */
  jitThreshold: number;

  #nmiPending = false;
  #waitSipi = true;
  #haltRip: number | undefined = undefined;
  #inKernel = false;
  #kernelOps = 0;
  #exit = EXIT_NONE;
  #entryName = "";
  #entryIp = NaN;
  #entryAt = 0n;
  readonly #scratch = new Insn();
  readonly #fetchBuf = new Uint8Array(MAX_INSN_LENGTH);

  // ---- wiring ------------------------------------------------------------------------------

  /** The I/O port space. */
  readonly io: Bus;
  /** The local APIC. */
  apic: ApicLink | undefined = undefined;
  /** MSRs the platform implements. */
  msrHook: MsrHook | undefined = undefined;

  /** Builds a CPU of `machine` and appends it to `machine.cpus`. */
  constructor(machine: Machine<X86Cpu>, options: X86CpuOptions = {}) {
    this.machine = machine;
    this.index = options.index ?? machine.cpus.length;
    this.apicId = options.apicId ?? this.index;
    this.io = options.io ?? new BusClass(undefined, "I/O port space");
    this.bus = machine.bus;
    this.u8 = machine.ram.u8;
    this.dv = machine.ram.dv;
    this.tlbVpn = this.tlb.vpn;
    this.tlbTag = this.tlb.tag;
    this.tlbPerm = this.tlb.perm;
    this.tlbOff = this.tlb.off;
    this.ts = new TsThreads(this);
    this.jit = options.jit ?? true;
    this.jitThreshold = options.jitThreshold ?? JIT_THRESHOLD;
    machine.cpus[this.index] = this;
  }

  // ---- the Cpu interface ---------------------------------------------------------------------

  /** Exact local time, including the instructions of the running loop. */
  nowNs(): number {
    return this.timeNs + this.icount;
  }

  /** Whether a halted CPU has something that ends its wait. */
  wakeable(): boolean {
    if (this.#nmiPending) return true;
    return (this.flagsCtl & RFLAGS_IF) !== 0 && this.apic !== undefined &&
      this.apic.pendingVector() >= 0;
  }

  /** Runs until local time reaches `untilNs`, the CPU waits or stops, or the machine stops. */
  run(untilNs: number): void {
    this.epoch++;
    const m = this.machine;
    if (this.#haltRip !== undefined) {
      this.ip = this.#haltRip;
      this.#haltRip = undefined;
      this.via = "the address hlt resumes at";
    }
    while (this.state === "running" && m.stopReason === undefined && this.timeNs < untilNs) {
      if (this.#takeEvent()) continue;
      if (this.cplN === 0) {
        this.#runKernelEntry();
        continue;
      }
      this.loopBudget = Math.max(1, Math.ceil(untilNs - this.timeNs));
      const n = runUser(this);
      this.timeNs += n;
      this.instret += n;
      this.icount = 0;
    }
  }

  /** Delivers a pending NMI or maskable interrupt if one is allowed now. */
  #takeEvent(): boolean {
    if (this.#nmiPending && !this.nmiBlocked) {
      this.#nmiPending = false;
      this.nmiBlocked = true;
      this.#deliver(EXC_NMI, EV_NMI);
      return true;
    }
    if ((this.flagsCtl & RFLAGS_IF) === 0 || this.apic === undefined) return false;
    const v = this.apic.pendingVector();
    if (v < 0) return false;
    this.apic.acknowledge(v);
    if (this.machine.trace.interrupt) {
      this.machine.trace.emit("interrupt", this.index, {
        vector: v,
        rip: hex(u64(this.ip)),
        cpl: this.cplN,
      });
    }
    this.#deliver(v, EV_EXTERNAL);
    return true;
  }

  #deliver(vector: number, kind: number): void {
    try {
      deliverEvent(this, vector, kind, -1, this.ip);
    } catch (e) {
      if (e !== STOPPED) throw e;
    }
  }

  /** Calls the kernel entry at RIP and checks how it left the CPU. */
  #runKernelEntry(): void {
    // Kernel entries repeat (the syscall entry, the timer's): keep the last conversion.
    if (this.ip !== this.#entryIp) {
      this.#entryIp = this.ip;
      this.#entryAt = u64(this.ip);
      this.#entryName = this.machine.kernelText.lookup(this.#entryAt)?.name ??
        hex(this.#entryAt);
    }
    const at = this.#entryAt;
    this.timeNs += KERNEL_ENTRY_COST_NS;
    this.#kernelOps = 0;
    this.#exit = EXIT_NONE;
    this.#inKernel = true;
    let ok: boolean;
    try {
      ok = callKernelEntry(this.machine, this as X86Cpu, at, this.via);
    } finally {
      this.#inKernel = false;
      this.epoch++; // the kernel may have written code anywhere
    }
    if (!ok) {
      this.state = "stopped";
      return;
    }
    if (this.#exit === EXIT_NONE && this.state === "running" && !this.machine.stopReason) {
      this.machine.fail(
        this.index,
        `kernel entry ${this.#entryName} returned without iretq, sysretq, hlt or a jump ` +
          `(a kernel entry must leave the CPU somewhere)`,
      );
      this.state = "stopped";
    }
  }

  /** Marks the current kernel entry as finished (iretq, sysretq, hlt, a jump, a start-up). */
  leftKernel(): void {
    this.#exit = EXIT_DONE;
  }

  /** Counts one kernel operation: 1 ns, and the hang budget. */
  #op(): void {
    if (!this.#inKernel) return;
    this.timeNs += 1;
    if (++this.#kernelOps > KERNEL_OP_BUDGET) {
      throw new KernelHang(
        `more than ${KERNEL_OP_BUDGET} operations without leaving the entry (an endless loop?)`,
      );
    }
  }

  /** Whether a kernel entry is running on this CPU. */
  get inKernel(): boolean {
    return this.#inKernel;
  }

  /**
   * Runs kernel entries until the CPU is back in ring 3, waits, stops, or `limit` entries
   * have run: a fault taken inside a TypeScript thread's memory access needs the kernel's
   * answer before the access can be retried (see ts_thread.ts).
   */
  runKernelNested(limit: number): void {
    const saved = this.icount;
    for (let k = 0; k < limit; k++) {
      if (this.state !== "running" || this.machine.stopReason) break;
      if (this.#takeEvent()) continue;
      if (this.cplN !== 0) break;
      this.#runKernelEntry();
    }
    this.icount = saved;
  }

  // ---- architectural state, as the kernel sees it -------------------------------------------

  /** RIP (unsigned). Setting it from a kernel entry is a jump. */
  get rip(): bigint {
    return u64(this.ip);
  }
  set rip(v: bigint) {
    const n = canonicalNumber(v);
    if (n === undefined) {
      throw this.#cpuFault(EXC_GP, 0, `jump to non-canonical address ${hex(v)}: #GP(0)`);
    }
    this.ip = n;
    if (this.#inKernel) {
      this.#exit = EXIT_DONE;
      this.via = `a jump from ${this.#entryName}`;
    }
  }

  /** RFLAGS. */
  get rflags(): bigint {
    return BigInt(this.rflagsN() >>> 0);
  }
  set rflags(v: bigint) {
    this.setRflagsN(Number(v & 0xffff_ffffn));
  }

  /** RFLAGS as a number. */
  rflagsN(): number {
    return (this.flagsCtl | this.lf.status()) >>> 0;
  }

  /** Sets every writable RFLAGS bit from `v`. */
  setRflagsN(v: number): void {
    this.flagsCtl = (v & RFLAGS_WRITABLE & ~RFLAGS_STATUS) | RFLAGS_FIXED;
    this.lf.setBits(v);
  }

  /** Current privilege level. */
  get cpl(): Cpl {
    return this.cplN;
  }

  /** Sets IA32_STAR and its selector fields. */
  setStar(v: bigint): void {
    this.star = BigInt.asUintN(64, v);
    this.starSyscall = Number((this.star >> 32n) & 0xffffn);
    this.starSysret = Number((this.star >> 48n) & 0xffffn);
  }

  /** Makes `pcid` the current PCID. */
  setPcid(pcid: number): void {
    if (pcid !== this.pcid) this.tlb.gen++;
    this.pcid = pcid;
    this.pcidSet = pcidHash(pcid);
  }

  /** Changes CPL (and with it the kind of data access). */
  setCpl(cpl: Cpl): void {
    this.cplN = cpl;
    this.setUserAccess(cpl === 3);
  }

  /** Makes data accesses user-mode (true) or supervisor-mode (false) accesses. */
  setUserAccess(user: boolean): void {
    this.user = user;
    this.updateNeed();
  }

  /** Recomputes the TLB permission bits accesses need (after CPL or CR0.WP changes). */
  updateNeed(): void {
    const u = this.user;
    this.needR = TLB_RAM | (u ? TLB_U : 0);
    this.needW = TLB_RAM | TLB_D | TLB_NOCODE |
      (u ? TLB_U | TLB_W : (this.cr0 & CR0_WP ? TLB_W : 0));
    this.needX = TLB_RAM | TLB_X | (u ? TLB_U : 0);
  }

  /** A segment register's selector. */
  selector(seg: SegmentName): number {
    return this.sel[["es", "cs", "ss", "ds", "fs", "gs"].indexOf(seg)];
  }

  // ---- faults ------------------------------------------------------------------------------

  /** Raises exception `vector` with `error` (-1: none): records it and throws FAULT. */
  raise(vector: number, error = -1): never {
    this.fVector = vector;
    this.fError = error;
    throw FAULT;
  }

  /** Raises #PF for `va` with error code `ec`, setting CR2. */
  pageFault(va: number, ec: number): never {
    this.cr2 = va;
    this.raise(EXC_PF, ec);
  }

  /** Raises #GP(0), or #SS(0) for a stack reference, for a non-canonical address. */
  nonCanonical(stack: boolean): never {
    this.raise(stack ? EXC_SS : EXC_GP, 0);
  }

  /** Stops the machine with a machine check that says what and where, and unwinds. */
  machineCheck(what: string): never {
    this.machine.fail(this.index, `machine check: ${what} (rip ${hex(u64(this.ip))})`);
    this.state = "stopped";
    throw STOPPED;
  }

  /** Builds the CpuFault a kernel operation throws for the pending fault. */
  #cpuFault(vector: number, error: number, what: string): CpuFault {
    const tval = vector === EXC_PF ? u64(this.cr2) : 0n;
    const ec = error >= 0 ? ` (error code ${hex(error)})` : "";
    const f = new CpuFault(vector, tval, `${vectorName(vector)}${ec}: ${what}`);
    (f as CpuFault & { errorCode: number }).errorCode = Math.max(0, error);
    return f;
  }

  /**
   * Converts a thrown FAULT or STOPPED from a kernel operation into a CpuFault. `describe` may be
   * a function, so that hot operations (loads, stores, MSRs) format their description only
   * when they fault.
   */
  #asCpuFault(e: unknown, describe: string | (() => string)): unknown {
    if (e !== FAULT && e !== STOPPED) return e;
    const what = typeof describe === "string" ? describe : describe();
    if (e === FAULT) {
      const detail = this.fVector === EXC_PF
        ? ` at ${hex(u64(this.cr2))}: ${
          this.translate(u64(this.cr2), this.fError & 2 ? "write" : "read", 0).explanation
        }`
        : this.faultWhy
        ? `: ${this.faultWhy}`
        : "";
      return this.#cpuFault(this.fVector, this.fError, what + detail);
    }
    if (e === STOPPED) return this.#cpuFault(EXC_MC, 0, `${what}: the machine stopped`);
    return e;
  }

  /** Runs `fn` as a kernel operation: counts it and turns faults into CpuFault. */
  #kop<T>(what: string | (() => string), fn: () => T): T {
    this.#op();
    this.faultWhy = "";
    try {
      return fn();
    } catch (e) {
      throw this.#asCpuFault(e, what);
    }
  }

  // ---- linear memory -----------------------------------------------------------------------

  /**
   * Translates `va` for an access of kind `acc` with the current privilege: returns the RAM
   * buffer offset, or -(physical address) - 1 for a device. Throws FAULT on a page fault.
   */
  xlate(va: number, acc: number): number {
    const vpn = Math.floor(va / 4096);
    const s = (vpn ^ this.pcidSet) & 1023;
    const t = this.tlbTag[s];
    if (this.tlbVpn[s] === vpn && (t === this.pcid || t === -1)) {
      const need = acc === ACC_READ ? this.needR : acc === ACC_WRITE ? this.needW : this.needX;
      if ((this.tlbPerm[s] & need) === need) return this.tlbOff[s] + (va & 0xfff);
    }
    return this.xlateSlow(va, acc);
  }

  /** The TLB-miss, permission and device side of `xlate`. */
  xlateSlow(va: number, acc: number): number {
    if ((this.cr0 & CR0_PG) === 0) {
      // Paging off (only before the start-up code enables it): linear = physical.
      const ramOff = this.bus.ramOffset(va, 1);
      return ramOff >= 0 ? ramOff : -va - 1;
    }
    const tlb = this.tlb;
    const vpn = Math.floor(va / 4096);
    const need = acc === ACC_READ ? this.needR : acc === ACC_WRITE ? this.needW : this.needX;
    let s = tlb.find(vpn, this.pcid);
    if (s >= 0) {
      const missing = need & ~tlb.perm[s];
      if (missing & (TLB_U | TLB_W | TLB_X)) {
        // The cached translation denies the access: the CPU faults without walking again and
        // drops the entry (SDM Vol. 3A §4.10.4.1), so a permission the kernel granted
        // without flushing shows up as a spurious page fault, as on hardware.
        tlb.dropSlot(s);
        this.pageFault(va, this.#pfCode(acc) | PF_P);
      }
      if (missing & TLB_D) s = -1; // first write to a clean page: walk again to set D
    }
    if (s < 0) s = this.#fill(va, vpn, acc);
    const perm = tlb.perm[s];
    if (perm & TLB_RAM) {
      if (acc === ACC_WRITE && (perm & TLB_NOCODE) === 0) this.icache.write(tlb.off[s], va & 0xfff);
      return tlb.off[s] + (va & 0xfff);
    }
    return -(tlb.frame[s] + (va & 0xfff)) - 1;
  }

  #pfCode(acc: number): number {
    return (acc === ACC_WRITE ? PF_W : 0) | (this.user ? PF_U : 0) |
      (acc === ACC_EXEC && (this.efer & EFER_NXE) ? PF_I : 0);
  }

  /** Walks the page tables and fills the TLB; raises #PF or stops the machine. */
  #fill(va: number, vpn: number, acc: number): number {
    const trace = this.machine.trace;
    const w = walk(
      this.bus,
      {
        pml4: this.pml4,
        nxe: (this.efer & EFER_NXE) !== 0,
        wp: (this.cr0 & CR0_WP) !== 0,
        pge: (this.cr4 & 0x80) !== 0,
      },
      va,
      acc,
      this.user,
      true,
      this.#walk,
      trace.walk,
    );
    if (trace.walk) {
      for (const step of w.steps) {
        trace.emit("walk", this.index, {
          va: hex(u64(va)),
          entry: step.name,
          at: hex(step.pteAddress),
          value: step.pte === undefined ? "nothing there" : hex(step.pte),
        });
      }
      trace.emit("walk", this.index, { va: hex(u64(va)), result: w.explanation });
    }
    if (w.machineCheck) this.machineCheck(w.machineCheck);
    if (!w.ok) this.pageFault(va, w.errorCode);
    const ramOff = this.bus.ramOffset(w.frame, 4096);
    let perm = w.perm;
    if (ramOff >= 0) {
      perm |= TLB_RAM;
      if (!this.icache.has(ramOff)) perm |= TLB_NOCODE;
    }
    const s = this.tlb.fill(
      vpn,
      this.pcid,
      w.global,
      perm,
      ramOff >= 0 ? ramOff : w.frame,
      w.frame,
      w.pageBase,
      w.pageSize,
    );
    if (trace.tlb) {
      trace.emit("tlb", this.index, {
        op: "fill",
        va: hex(u64(vpn * 4096)),
        frame: hex(w.frame),
        pcid: this.pcid,
        global: w.global,
        access: ACCESS_NAMES[acc],
      });
    }
    return s;
  }

  /** Reads a device register at physical `pa`, or stops the machine when nothing answers. */
  mmioRead(pa: number, size: number): bigint {
    const v = this.bus.read(pa, size, this.index);
    if (v === undefined) {
      this.machineCheck(
        `read of ${size} bytes at physical ${hex(pa)}: ${this.bus.describe(pa)} answers there`,
      );
    }
    return v;
  }

  /** Writes a device register; stops the machine when nothing answers. */
  mmioWrite(pa: number, size: number, value: bigint): void {
    if (!this.bus.write(pa, size, value, this.index)) {
      this.machineCheck(
        `write of ${size} bytes at physical ${hex(pa)}: ${this.bus.describe(pa)} answers there`,
      );
    }
    // A device write may have raised an interrupt for this CPU: let the loop look.
    this.loopBudget = 0;
  }

  /** Loads 1 byte (zero-extended). */
  ld8(va: number, acc = ACC_READ): number {
    const o = this.xlate(va, acc);
    return o >= 0 ? this.u8[o] : Number(this.mmioRead(-o - 1, 1));
  }

  /** Loads 2 bytes (zero-extended). */
  ld16(va: number, acc = ACC_READ): number {
    if ((va & 0xfff) > 0xffe) return Number(this.ldSplit(va, 2, acc));
    const o = this.xlate(va, acc);
    return o >= 0 ? this.dv.getUint16(o, true) : Number(this.mmioRead(-o - 1, 2));
  }

  /** Whether the TLB holds `va`'s page for the current PCID with the `need` permissions. */
  #hit(va: number, need: number): number {
    const vpn = Math.floor(va / 4096);
    const s = (vpn ^ this.pcidSet) & 1023;
    const t = this.tlbTag[s];
    return this.tlbVpn[s] === vpn && (t === this.pcid || t === -1) &&
        (this.tlbPerm[s] & need) === need
      ? s
      : -1;
  }

  /** Loads 4 bytes (as an int32). */
  ld32(va: number, acc = ACC_READ): number {
    if ((va & 0xfff) <= 0xffc) {
      const s = this.#hit(va, acc === ACC_READ ? this.needR : this.needW);
      if (s >= 0) return this.dv.getInt32(this.tlbOff[s] + (va & 0xfff), true);
    }
    return this.#ld32Slow(va, acc);
  }

  #ld32Slow(va: number, acc: number): number {
    if ((va & 0xfff) > 0xffc) return Number(this.ldSplit(va, 4, acc)) | 0;
    const o = this.xlateSlow(va, acc);
    return o >= 0 ? this.dv.getInt32(o, true) : Number(this.mmioRead(-o - 1, 4)) | 0;
  }

  /** Loads 8 bytes into r32[k], r32[k+1] (k even: a register's halves, or a scratch slot). */
  ld64(va: number, k: number, acc = ACC_READ): void {
    if ((va & 0xfff) <= 0xff8) {
      const s = this.#hit(va, acc === ACC_READ ? this.needR : this.needW);
      if (s >= 0) {
        const o = this.tlbOff[s] + (va & 0xfff);
        this.r32[k] = this.dv.getInt32(o, true);
        this.r32[k + 1] = this.dv.getInt32(o + 4, true);
        return;
      }
    }
    this.#ld64Slow(va, k, acc);
  }

  #ld64Slow(va: number, k: number, acc: number): void {
    let v: bigint;
    if ((va & 0xfff) > 0xff8) v = this.ldSplit(va, 8, acc);
    else {
      const o = this.xlateSlow(va, acc);
      v = o >= 0 ? this.dv.getBigUint64(o, true) : this.mmioRead(-o - 1, 8);
    }
    this.r32[k] = Number(v & 0xffff_ffffn) | 0;
    this.r32[k + 1] = Number(v >> 32n) | 0;
  }

  /** Stores 1 byte. */
  st8(va: number, v: number): void {
    const o = this.xlate(va, ACC_WRITE);
    if (o >= 0) this.u8[o] = v;
    else this.mmioWrite(-o - 1, 1, BigInt(v & 0xff));
  }

  /** Stores 2 bytes. */
  st16(va: number, v: number): void {
    if ((va & 0xfff) > 0xffe) return this.stSplit(va, 2, BigInt(v & 0xffff));
    const o = this.xlate(va, ACC_WRITE);
    if (o >= 0) this.dv.setUint16(o, v, true);
    else this.mmioWrite(-o - 1, 2, BigInt(v & 0xffff));
  }

  /** Stores 4 bytes. */
  st32(va: number, v: number): void {
    if ((va & 0xfff) <= 0xffc) {
      const s = this.#hit(va, this.needW);
      if (s >= 0) {
        this.dv.setInt32(this.tlbOff[s] + (va & 0xfff), v, true);
        return;
      }
    }
    this.#st64Slow(va, 4, BigInt(v >>> 0));
  }

  /** Stores 8 bytes given as int32 halves. */
  st64(va: number, lo: number, hi: number): void {
    if ((va & 0xfff) <= 0xff8) {
      const s = this.#hit(va, this.needW);
      if (s >= 0) {
        const o = this.tlbOff[s] + (va & 0xfff);
        this.dv.setInt32(o, lo, true);
        this.dv.setInt32(o + 4, hi, true);
        return;
      }
    }
    this.#st64Slow(va, 8, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
  }

  /** The miss, page-crossing and device side of st32 and st64. */
  #st64Slow(va: number, size: number, v: bigint): void {
    if ((va & 0xfff) > 4096 - size) return this.stSplit(va, size, v);
    const o = this.xlateSlow(va, ACC_WRITE);
    if (o < 0) return this.mmioWrite(-o - 1, size, v);
    if (size === 4) this.dv.setUint32(o, Number(v), true);
    else this.dv.setBigUint64(o, v, true);
  }

  /** Loads `size` bytes as an unsigned bigint (any size, any alignment). */
  ldB(va: number, size: number, acc = ACC_READ): bigint {
    switch (size) {
      case 1:
        return BigInt(this.ld8(va, acc));
      case 2:
        return BigInt(this.ld16(va, acc));
      case 4:
        return BigInt(this.ld32(va, acc) >>> 0);
    }
    if ((va & 0xfff) > 0xff8) return this.ldSplit(va, 8, acc);
    const o = this.xlate(va, acc);
    return o >= 0 ? this.dv.getBigUint64(o, true) : this.mmioRead(-o - 1, 8);
  }

  /** Stores the low `size` bytes of `v`. */
  stB(va: number, size: number, v: bigint): void {
    switch (size) {
      case 1:
        return this.st8(va, Number(v & 0xffn));
      case 2:
        return this.st16(va, Number(v & 0xffffn));
      case 4:
        return this.st32(va, Number(v & 0xffff_ffffn) | 0);
    }
    if ((va & 0xfff) > 0xff8) return this.stSplit(va, 8, v);
    const o = this.xlate(va, ACC_WRITE);
    if (o >= 0) this.dv.setBigUint64(o, BigInt.asUintN(64, v), true);
    else this.mmioWrite(-o - 1, 8, BigInt.asUintN(64, v));
  }

  /** An access that crosses a page boundary: both pages are translated before any byte moves. */
  #splitOffsets(va: number, acc: number): [number, number, number] {
    const first = 4096 - (va & 0xfff);
    const next = va + first;
    if (next >= CANON && va < CANON) this.nonCanonical(false);
    const o1 = this.xlate(va, acc);
    const o2 = this.xlate(next, acc);
    return [o1, o2, first];
  }

  #byteAt(o: number, k: number): number {
    return o >= 0 ? this.u8[o + k] : Number(this.mmioRead(-o - 1 + k, 1));
  }

  /** Reads `size` bytes that cross a page boundary. */
  ldSplit(va: number, size: number, acc: number): bigint {
    const [o1, o2, first] = this.#splitOffsets(va, acc);
    let v = 0n;
    for (let k = size - 1; k >= 0; k--) {
      const b = k < first ? this.#byteAt(o1, k) : this.#byteAt(o2, k - first);
      v = (v << 8n) | BigInt(b);
    }
    return v;
  }

  /** Writes `size` bytes that cross a page boundary. */
  stSplit(va: number, size: number, v: bigint): void {
    const [o1, o2, first] = this.#splitOffsets(va, ACC_WRITE);
    for (let k = 0; k < size; k++) {
      const b = Number((v >> BigInt(8 * k)) & 0xffn);
      const o = k < first ? o1 : o2;
      const at = k < first ? k : k - first;
      if (o >= 0) this.u8[o + at] = b;
      else this.mmioWrite(-o - 1 + at, 1, BigInt(b));
    }
  }

  /** Runs `fn` with supervisor-mode data accesses (IDT, GDT, TSS reads, frame pushes). */
  asSupervisor<T>(fn: () => T): T {
    const was = this.user;
    if (was) this.setUserAccess(false);
    try {
      return fn();
    } finally {
      if (was) this.setUserAccess(true);
    }
  }

  // ---- instruction fetch -------------------------------------------------------------------

  /** The decoded-instruction page the interpreter loop is in (see `lookup`). */
  codePageArr: CodePage = [];
  /** The TLB flush count when `codePageArr` was entered. */
  codePageGen = -1;

  /**
   * The interpreter loop's miss path: the decoded instruction at `ip`, entering its code
   * page if it is not the current one (`codePageArr`, `codePageVa`), checking a cached
   * decoding made in an earlier epoch against memory, and decoding when there is none.
   * One function on purpose: the loop's hot path stays small.
   */
  lookup(ip: number): Insn {
    let off = ip - this.codePageVa;
    if (off < 0 || off >= 4096 || this.codePageArr.length === 0) {
      // Enter the page: translate for execution (a #PF here has I/D set).
      const o = this.xlate(ip, ACC_EXEC);
      if (o < 0) {
        this.machineCheck(
          `instruction fetch from physical ${hex(-o - 1)} (${this.bus.describe(-o - 1)}): ` +
            `code can only run from RAM`,
        );
      }
      off = ip & 0xfff;
      this.codePageVa = ip - off;
      this.codeFrameOff = o - off;
      this.codePageArr = this.icache.page(this.codeFrameOff);
    }
    const page = this.codePageArr;
    const at = this.codeFrameOff + off;
    let i = page[off];
    if (i !== undefined) {
      // Decoded in an earlier epoch: still the same bytes?
      const n = i.len, u8 = this.u8;
      let same = true;
      for (let k = 0; k < n && same; k++) {
        const w = k < 4 ? i.b0 : k < 8 ? i.b1 : k < 12 ? i.b2 : i.b3;
        same = ((w >>> (8 * (k & 3))) & 0xff) === u8[at + k];
      }
      if (same) {
        i.epoch = this.epoch;
        return i;
      }
    }
    i = new Insn();
    const n = decode(this.u8, at, this.codeFrameOff + 4096, i);
    if (n === DECODE_NEED_MORE) return this.#fetchAcross(ip, off);
    i.b0 = this.#word(at, 0, n);
    i.b1 = this.#word(at, 4, n);
    i.b2 = this.#word(at, 8, n);
    i.b3 = this.#word(at, 12, n);
    i.epoch = this.epoch;
    page[off] = i;
    return i;
  }

  /** Bytes [k, k+4) of the instruction at RAM offset `at` (only its first `len`) as an int. */
  #word(at: number, k: number, len: number): number {
    let w = 0;
    for (let j = 3; j >= 0; j--) w = (w << 8) | (k + j < len ? this.u8[at + k + j] : 0);
    return w;
  }

  /** Decodes an instruction that continues on the next page (never cached). */
  #fetchAcross(ip: number, off: number): Insn {
    const avail = 4096 - off;
    const buf = this.#fetchBuf;
    for (let k = 0; k < avail; k++) buf[k] = this.u8[this.codeFrameOff + off + k];
    const next = ip + avail;
    if (next >= CANON) this.nonCanonical(false);
    const o2 = this.xlate(next, ACC_EXEC);
    if (o2 < 0) this.machineCheck(`instruction fetch from device memory at ${hex(u64(next))}`);
    for (let k = avail; k < MAX_INSN_LENGTH; k++) buf[k] = this.u8[o2 + k - avail];
    const i = this.#scratch;
    decode(buf, 0, MAX_INSN_LENGTH, i);
    i.epoch = -1;
    return i;
  }

  // ---- the kernel's instructions -----------------------------------------------------------

  /** `mov rax, crN`. */
  readCr(n: number): bigint {
    return this.#kop(`mov from cr${n}`, () => readCr(this, n));
  }

  /** `mov crN, rax`. */
  writeCr(n: number, value: bigint): void {
    this.#kop(`mov to cr${n}`, () => writeCr(this, n, value));
  }

  /** `rdmsr`. */
  rdmsr(msr: number): bigint {
    return this.#kop(() => `rdmsr ${hex(msr)}`, () => rdmsr(this, msr));
  }

  /** `wrmsr`. */
  wrmsr(msr: number, value: bigint): void {
    this.#kop(() => `wrmsr ${hex(msr)}, ${hex(value)}`, () => wrmsr(this, msr, value));
  }

  /** `lgdt`. */
  lgdt(base: bigint, limit: number): void {
    this.#kop("lgdt", () => {
      this.gdtrBase = this.#canonicalOrGp(base, "lgdt base");
      this.gdtrLimit = limit & 0xffff;
    });
  }

  /** `lidt`. */
  lidt(base: bigint, limit: number): void {
    this.#kop("lidt", () => {
      this.idtrBase = this.#canonicalOrGp(base, "lidt base");
      this.idtrLimit = limit & 0xffff;
    });
  }

  /** `sgdt`. */
  sgdt(): TableRegister {
    this.#op();
    return { base: u64(this.gdtrBase), limit: this.gdtrLimit };
  }

  /** `sidt`. */
  sidt(): TableRegister {
    this.#op();
    return { base: u64(this.idtrBase), limit: this.idtrLimit };
  }

  /** `ltr`. */
  ltr(selector: number): void {
    this.#kop(`ltr ${hex(selector)}`, () => loadTr(this, selector));
  }

  /** `str`. */
  str(): number {
    this.#op();
    return this.trSel;
  }

  /** `mov sreg, r16`. */
  loadSegment(seg: "ss" | "ds" | "es" | "fs" | "gs", selector: number): void {
    this.#kop(`mov ${seg}, ${hex(selector)}`, () => loadDataSegment(this, seg, selector));
  }

  /** Loads CS (a far jump or lretq in a real kernel). */
  loadCs(selector: number): void {
    this.#kop(`load cs ${hex(selector)}`, () => loadCsSelector(this, selector));
  }

  /** `invlpg`. */
  invlpg(va: bigint): void {
    this.#op();
    const n = canonicalNumber(va);
    if (n === undefined) return; // INVLPG of a non-canonical address is a no-op (Vol. 2)
    const dropped = this.tlb.flushPage(n, this.pcid, true);
    this.traceFlush("invlpg", dropped, `page ${hex(va)}, pcid ${this.pcid}`);
  }

  /** `invpcid type, [desc]`. */
  invpcid(type: number, pcid: number, va: bigint): void {
    this.#kop(`invpcid ${type}`, () => {
      if (type < 0 || type > 3 || pcid < 0 || pcid > 0xfff) this.raise(EXC_GP, 0);
      if ((this.cr4 & 0x20000) === 0 && (type === 0 || type === 1) && pcid !== 0) {
        this.raise(EXC_GP, 0); // CR4.PCIDE = 0 allows only PCID 0 for types 0 and 1
      }
      let dropped: number;
      switch (type) {
        case 0: {
          const n = canonicalNumber(va);
          if (n === undefined) this.raise(EXC_GP, 0);
          dropped = this.tlb.flushPage(n, pcid, false);
          break;
        }
        case 1:
          dropped = this.tlb.flushNonGlobal(pcid);
          break;
        case 2:
          dropped = this.tlb.flushAll();
          break;
        default:
          dropped = this.tlb.flushNonGlobal(-1);
      }
      this.traceFlush(`invpcid type ${type}`, dropped, `pcid ${pcid}`);
    });
  }

  /** Records a TLB flush in the trace. */
  traceFlush(op: string, dropped: number, what: string): void {
    if (this.machine.trace.tlb) {
      this.machine.trace.emit("tlb", this.index, { op, dropped, what });
    }
  }

  /** `iretq`. */
  iretq(): void {
    this.#kop("iretq", () => iretq(this, 8));
    this.#exit = EXIT_DONE;
    this.via = "the RIP in the iretq frame";
  }

  /** `sysretq`. */
  sysretq(): void {
    this.#kop("sysretq", () => sysretq(this));
    this.#exit = EXIT_DONE;
  }

  /** `swapgs`. */
  swapgs(): void {
    this.#op();
    const g = this.gsBase;
    this.gsBase = this.kernelGsBase;
    this.kernelGsBase = g;
  }

  /** `hlt`: waits; continues at `resumeAt` (default: the current RIP). */
  hlt(resumeAt?: bigint): void {
    this.#op();
    let at = this.ip;
    if (resumeAt !== undefined) {
      const n = canonicalNumber(resumeAt);
      if (n === undefined) {
        throw this.#cpuFault(EXC_GP, 0, `hlt resumes at non-canonical ${hex(resumeAt)}`);
      }
      at = n;
    }
    this.#haltRip = at;
    this.state = "idle";
    this.#exit = EXIT_DONE;
  }

  /** `cli`. */
  cli(): void {
    this.#op();
    this.flagsCtl &= ~RFLAGS_IF;
  }

  /** `sti`. */
  sti(): void {
    this.#op();
    this.flagsCtl |= RFLAGS_IF;
  }

  /** `in`: all ones when no device answers (a real bus floats high). */
  in(port: number, size: number): number {
    this.#op();
    return this.portIn(port, size);
  }

  /** `out`: ignored when no device answers. */
  out(port: number, size: number, value: number): void {
    this.#op();
    this.portOut(port, size, value);
  }

  /** Port read shared by the kernel and ring 3 (after its permission check). */
  portIn(port: number, size: number): number {
    const v = this.io.read(port & 0xffff, size, this.index);
    const ones = size === 4 ? 0xffff_ffff : size === 2 ? 0xffff : 0xff;
    return v === undefined ? ones : Number(v) >>> 0;
  }

  /** Port write shared by the kernel and ring 3. */
  portOut(port: number, size: number, value: number): void {
    this.io.write(port & 0xffff, size, BigInt(value >>> 0), this.index);
    this.loopBudget = 0;
  }

  /** `in al, dx`. */
  inb(port: number): number {
    return this.in(port, 1);
  }
  /** `in ax, dx`. */
  inw(port: number): number {
    return this.in(port, 2);
  }
  /** `in eax, dx`. */
  ind(port: number): number {
    return this.in(port, 4);
  }
  /** `out dx, al`. */
  outb(port: number, value: number): void {
    this.out(port, 1, value);
  }
  /** `out dx, ax`. */
  outw(port: number, value: number): void {
    this.out(port, 2, value);
  }
  /** `out dx, eax`. */
  outd(port: number, value: number): void {
    this.out(port, 4, value);
  }

  /** `cpuid`. */
  cpuid(leaf: number, subleaf = 0): [number, number, number, number] {
    this.#op();
    return cpuid(this, leaf >>> 0, subleaf >>> 0);
  }

  /** `rdtsc`. */
  rdtsc(): bigint {
    this.#op();
    return this.tsc();
  }

  /** The time-stamp counter now. */
  tsc(): bigint {
    return BigInt.asUintN(64, BigInt(Math.floor(this.nowNs() * TSC_PER_NS)) + this.tscOffset);
  }

  /** Supervisor load through the MMU. */
  load(va: bigint, size: number): bigint {
    return this.#kop(() => `load of ${size} bytes at ${hex(va)}`, () => {
      this.#checkSize(size);
      return this.ldB(this.#canonicalOrGp(va, "load"), size, ACC_READ);
    });
  }

  /** Supervisor store through the MMU. */
  store(va: bigint, size: number, value: bigint): void {
    this.#kop(() => `store of ${size} bytes at ${hex(va)}`, () => {
      this.#checkSize(size);
      this.stB(this.#canonicalOrGp(va, "store"), size, value);
    });
  }

  #checkSize(size: number): void {
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
      throw new RangeError(`access size ${size} is not 1, 2, 4 or 8`);
    }
  }

  #canonicalOrGp(v: bigint, _what: string): number {
    const n = canonicalNumber(v);
    if (n === undefined) this.raise(EXC_GP, 0);
    return n;
  }

  /** Explains the translation of `va` without changing anything. */
  translate(va: bigint, access: Access, cpl: Cpl): Translation {
    const acc = ACCESS_NAMES.indexOf(access);
    const n = canonicalNumber(va);
    const base: Translation = {
      va: BigInt.asUintN(64, va),
      access,
      cpl,
      steps: [],
      tlbHit: false,
      explanation: "",
    };
    if (n === undefined) {
      return {
        ...base,
        fault: EXC_GP,
        explanation: `${hex(va)} is not canonical (bits 63:47 must all equal bit 47): #GP(0)`,
      };
    }
    if ((this.cr0 & CR0_PG) === 0) {
      return { ...base, pa: n, pageSize: 4096, explanation: "paging is off: physical = linear" };
    }
    base.tlbHit = this.tlb.holds(Math.floor(n / 4096), this.pcid);
    const w = walk(
      this.bus,
      {
        pml4: this.pml4,
        nxe: (this.efer & EFER_NXE) !== 0,
        wp: (this.cr0 & CR0_WP) !== 0,
        pge: (this.cr4 & 0x80) !== 0,
      },
      n,
      acc,
      cpl === 3,
      false,
      new WalkResult(),
      true,
    );
    const out: Translation = { ...base, steps: w.steps, explanation: w.explanation };
    if (w.ok) {
      out.pa = w.frame + (n & 0xfff);
      out.pageSize = w.pageSize;
    } else if (!w.machineCheck) {
      out.fault = EXC_PF;
      out.errorCode = w.errorCode;
    }
    return out;
  }

  // ---- the platform's controls -------------------------------------------------------------

  /** Whether the CPU waits for a start-up IPI. */
  get waitingForSipi(): boolean {
    return this.#waitSipi;
  }

  /** Starts the CPU in ring 0 at kernel entry `rip` (the boot CPU). */
  start(rip: bigint, rdi?: bigint): void {
    const n = canonicalNumber(rip);
    if (n === undefined) throw new RangeError(`start address ${hex(rip)} is not canonical`);
    this.#waitSipi = false;
    this.#haltRip = undefined;
    this.setCpl(0);
    this.ip = n;
    if (rdi !== undefined) this.regs[7] = rdi;
    this.via = "the firmware's start address";
    this.timeNs = Math.max(this.timeNs, this.machine.now());
    this.state = "running";
    if (this.#inKernel) this.#exit = EXIT_DONE;
  }

  /** INIT: back to wait-for-SIPI. */
  init(): void {
    this.state = "stopped";
    this.#waitSipi = true;
    this.#haltRip = undefined;
    this.#nmiPending = false;
    this.nmiBlocked = false;
    if (this.#inKernel) this.#exit = EXIT_DONE;
  }

  /** SIPI: a CPU that waits for it starts at `vectorPage * 0x1000` (see cpu_api.ts). */
  startup(vectorPage: number): void {
    if (!this.#waitSipi) return;
    this.resetToStartup();
    this.ip = (vectorPage & 0xff) * 0x1000;
    this.via = `the start-up IPI (vector ${hex(vectorPage & 0xff)})`;
    this.#waitSipi = false;
    this.timeNs = Math.max(this.timeNs, this.machine.now());
    this.state = "running";
  }

  /** Puts every register in the hosted start-up state documented in cpu_api.ts. */
  resetToStartup(): void {
    this.regs.fill(0n);
    this.flagsCtl = RFLAGS_FIXED;
    this.lf.setBits(0);
    this.sel.fill(0);
    this.fsBase = this.gsBase = this.kernelGsBase = 0;
    this.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
    this.cr2 = 0;
    this.cr3 = 0n;
    this.cr4 = CR4_PAE;
    this.cr8 = 0;
    this.efer = EFER_LME | EFER_LMA;
    this.setPcid(0);
    this.pml4 = 0;
    this.gdtrBase = this.idtrBase = 0;
    this.gdtrLimit = this.idtrLimit = 0xffff;
    this.trSel = this.trBase = this.trLimit = 0;
    this.setStar(0n);
    this.lstar = this.cstar = this.fmask = 0;
    this.tlb.flushAll();
    this.icache.clear();
    this.nmiBlocked = false;
    this.setCpl(0);
  }

  /** NMI: delivered through vector 2 at the next boundary (and wakes a halted CPU). */
  nmi(): void {
    this.#nmiPending = true;
    this.loopBudget = 0;
  }

  /** Whether the ring-3 state is that of a flat 64-bit user (for messages). */
  describeState(): string {
    const r = (k: number) => hex(BigInt.asUintN(64, this.regs[k]));
    return `rip ${hex(u64(this.ip))} rsp ${r(RSP)} rflags ${hex(this.rflagsN())} cpl ${this.cplN}`;
  }
}
