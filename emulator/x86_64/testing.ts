/**
 * A test bench for the x86-64 CPU: a machine with RAM and one or more CPUs, a GDT, an IDT
 * and a TSS laid out in RAM, 4-level page tables built in RAM, a minimal hosted kernel that
 * records every exception and system call, and helpers to put ring-3 machine code in
 * memory and run it until it traps.
 *
 * Everything goes through the architectural path a real kernel would take: the bench's
 * start-up entry loads the GDT, IDT, TSS and MSRs with the CPU's own instructions and
 * enters ring 3 with `iretq`; a trap arrives through the IDT gate, on the TSS's RSP0
 * stack, with the frame in emulated memory, and the bench reads the frame from there.
 *
 * ```ts
 * const t = new X86TestBench();
 * t.code(0x40_0000, bytes("48 01 d8 cc"));       // add rax, rbx; int3
 * t.cpu.regs[RAX] = 2n; t.cpu.regs[RBX] = 3n;
 * const trap = t.runUser(0x40_0000);             // runs until the int3
 * assert.equal(trap.vector, 3);
 * assert.equal(t.cpu.regs[RAX], 5n);
 * ```
 *
 * Layout. Physical memory: the GDT at 0x10_0000, the IDT at 0x10_1000, the TSS (with an
 * I/O permission bitmap that denies every port) at 0x10_2000, then a bump allocator for page tables, stacks and user pages. Virtual memory:
 * all RAM is mapped at {@link DIRECT_MAP} (supervisor-only, global, 2-MiB pages), where the
 * kernel's tables and stacks are addressed; user pages go wherever a test maps them.
 * Kernel entries are registered at {@link KTEXT}: the IDT gate of vector v points at
 * KTEXT + 16 * v, LSTAR at KTEXT + 0x1000.
 *
 * @module
 */

import { Machine } from "../core/machine.ts";
import type { StopReason } from "../core/machine.ts";
import type { Trace } from "../core/trace.ts";
import type { X86Cpu } from "./cpu_api.ts";
import { X86Processor } from "./cpu.ts";
import { runUser } from "./exec.ts";
import { gateDescriptor, segmentDescriptor, tssDescriptor } from "./descriptors.ts";
import {
  CR0_ET,
  CR0_MP,
  CR0_NE,
  CR0_PE,
  CR0_PG,
  CR0_WP,
  CR4_PAE,
  CR4_PGE,
  EFER_LME,
  EFER_NXE,
  EFER_SCE,
  hasErrorCode,
  IA32_EFER,
  IA32_FMASK,
  IA32_LSTAR,
  IA32_STAR,
  PTE_G,
  PTE_NX,
  PTE_P,
  PTE_PS,
  PTE_U,
  PTE_W,
  RFLAGS_IF,
  RSP,
  SEG_CS,
  SEG_SS,
  TSS_IST1,
  TSS_RSP0,
} from "./regs.ts";

/** Where all RAM is mapped for the kernel (supervisor-only). */
export const DIRECT_MAP = 0xffff_8000_0000_0000n;
/** Where the bench's kernel entries are registered. */
export const KTEXT = 0xffff_ffff_8000_0000n;
/** Kernel code, kernel data, user data (RPL 3), user code (RPL 3) and TSS selectors. */
export const KERNEL_CS = 0x08;
/** See {@link KERNEL_CS}. */
export const KERNEL_SS = 0x10;
/** See {@link KERNEL_CS}. */
export const USER_SS = 0x1b;
/** See {@link KERNEL_CS}. */
export const USER_CS = 0x23;
/** See {@link KERNEL_CS}. */
export const TSS_SEL = 0x28;

const GDT_PA = 0x10_0000, IDT_PA = 0x10_1000, TSS_PA = 0x10_2000;
const POOL_START = 0x10_8000; // after the TSS and its 8-KiB I/O bitmap

/** Parses hex bytes such as "48 01 d8" (spaces and newlines ignored). */
export function bytes(hexText: string): Uint8Array {
  const clean = hexText.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) {
    throw new Error(`"${hexText}" is not a sequence of hex bytes`);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let k = 0; k < out.length; k++) out[k] = parseInt(clean.slice(2 * k, 2 * k + 2), 16);
  return out;
}

/** An exception, interrupt or system call the bench's kernel saw. */
export interface TrapRecord {
  /** The vector, or -1 for a SYSCALL. */
  vector: number;
  /** The error code pushed, or undefined for vectors without one. */
  errorCode: number | undefined;
  /** The frame as pushed (or, for SYSCALL, RCX and R11 and the user RSP). */
  rip: bigint;
  /** See {@link rip}. */
  cs: number;
  /** See {@link rip}. */
  rflags: bigint;
  /** See {@link rip}. */
  rsp: bigint;
  /** See {@link rip}. */
  ss: number;
  /** CR2 when the trap was taken. */
  cr2: bigint;
  /** Where the frame was (the kernel RSP at entry). */
  frameAt: bigint;
  /** The CPU. */
  cpu: number;
}

/** What the bench's kernel does after recording a trap. */
export type TrapAction =
  /** Halt the CPU (with IF = 0); `resume()` continues with iretq (or sysretq). */
  | "stop"
  /** Return to the interrupted code at once (after the hook fixed what needed fixing). */
  | "resume";

/** Options for a bench. */
export interface BenchOptions {
  /** RAM size (default 16 MiB). */
  memory?: number;
  /** Number of CPUs (default 1). CPU 0 is started; the others wait for SIPI. */
  cpus?: number;
  /** Seed. */
  seed?: number;
  /** A trace. */
  trace?: Trace;
  /** Set EFER.NXE (default true). */
  nxe?: boolean;
  /** Set CR4.PGE (default true). */
  pge?: boolean;
  /** Compile hot blocks (default true; see jit.ts). */
  jit?: boolean;
  /** Starts before a block is compiled (default: jit.ts's JIT_THRESHOLD). */
  jitThreshold?: number;
}

/** Page-mapping options. */
export interface MapOptions {
  /** User-accessible (default true). */
  user?: boolean;
  /** Writable (default true). */
  write?: boolean;
  /** Executable (default true: XD = 0). */
  exec?: boolean;
  /** Global (default false). */
  global?: boolean;
  /** 4096, 2 MiB or 1 GiB (default 4096). */
  pageSize?: number;
}

/** The bench. */
export class X86TestBench {
  /** The machine. */
  readonly machine: Machine<X86Cpu>;
  /** The CPUs. */
  readonly cpus: X86Processor[] = [];
  /** Every trap the kernel saw, oldest first. */
  readonly traps: TrapRecord[] = [];
  /** Physical address of the PML4. */
  readonly pml4: number;
  /** Decides what to do after each trap (default: stop). */
  onTrap: (trap: TrapRecord, cpu: X86Processor) => TrapAction = () => "stop";
  /** Decides what to do after each SYSCALL (default: stop). */
  onSyscall: (trap: TrapRecord, cpu: X86Processor) => TrapAction = () => "stop";
  /** The top of the bench kernel's own stack (a direct-map address). */
  readonly kernelStackTop: bigint;
  #next = POOL_START;
  readonly #pages = new Map<number, number>(); // user virtual page -> physical page
  /** Where each CPU enters ring 3 next (set by enterUser). */
  readonly #enter = new Map<
    number,
    { rip: bigint; rsp: bigint; flags: bigint; regs: BigInt64Array }
  >();

  /** Builds the machine, the tables and the kernel, and boots CPU 0 into the kernel. */
  constructor(options: BenchOptions = {}) {
    const memory = options.memory ?? 16 * 2 ** 20;
    this.machine = new Machine<X86Cpu>({ memory, seed: options.seed, trace: options.trace });
    this.machine.bus.addRam(0, memory);
    // A far-away event keeps an all-halted machine "paused" rather than deadlocked, so a
    // test can look at a stopped CPU and resume it.
    this.machine.events.schedule(Number.MAX_SAFE_INTEGER, () => {});
    for (let k = 0; k < (options.cpus ?? 1); k++) {
      this.cpus.push(
        new X86Processor(this.machine, {
          index: k,
          jit: options.jit,
          jitThreshold: options.jitThreshold,
        }),
      );
    }
    this.pml4 = this.alloc(1);
    this.kernelStackTop = this.kva(this.alloc(4) + 4 * 4096);
    for (let pa = 0; pa < memory; pa += 2 ** 21) {
      this.mapPhys(DIRECT_MAP + BigInt(pa), pa, 2 ** 21, {
        user: false,
        global: true,
        pageSize: 2 ** 21,
      });
    }
    this.#writeGdt();
    this.#registerKernel();
    const cpu = this.cpus[0];
    this.#bootCpu(cpu, options);
  }

  /** CPU 0. */
  get cpu(): X86Processor {
    return this.cpus[0];
  }

  /** The direct-map virtual address of physical `pa`. */
  kva(pa: number): bigint {
    return DIRECT_MAP + BigInt(pa);
  }

  /** Allocates `n` zeroed 4-KiB pages of physical memory; returns the first address. */
  alloc(n: number): number {
    const pa = this.#next;
    this.#next += n * 4096;
    if (this.#next > this.machine.ram.size) throw new Error("the test bench ran out of RAM");
    this.machine.ram.u8.fill(0, pa, pa + n * 4096);
    return pa;
  }

  /** Writes bytes at a physical address. */
  poke(pa: number, data: Uint8Array): void {
    this.machine.ram.u8.set(data, pa);
  }

  /** Reads a 64-bit value at a physical address. */
  peek64(pa: number): bigint {
    return this.machine.ram.dv.getBigUint64(pa, true);
  }

  /** Writes a 64-bit value at a physical address. */
  poke64(pa: number, v: bigint): void {
    this.machine.ram.dv.setBigUint64(pa, BigInt.asUintN(64, v), true);
  }

  /**
   * Maps [va, va + size) to physical [pa, pa + size) with pages of `options.pageSize`,
   * creating the intermediate tables (present, writable, user) as needed. Returns the
   * physical address of the last entry written (the leaf of the last page).
   */
  mapPhys(va: bigint, pa: number, size: number, options: MapOptions = {}): number {
    const pageSize = options.pageSize ?? 4096;
    let leafAt = 0;
    for (let off = 0; off < size; off += pageSize) {
      leafAt = this.#mapOne(BigInt.asUintN(64, va + BigInt(off)), pa + off, pageSize, options);
    }
    return leafAt;
  }

  /** The physical address of the entry at `level` (4 = PML4E ... 1 = PTE) for `va`. */
  entryAddress(va: bigint, level: number): number {
    let table = this.pml4;
    for (let l = 4; l > level; l--) {
      const e = this.peek64(table + index(va, l) * 8);
      table = Number(e & 0x000f_ffff_ffff_f000n);
    }
    return table + index(va, level) * 8;
  }

  #mapOne(va: bigint, pa: number, pageSize: number, o: MapOptions): number {
    const leafLevel = pageSize === 4096 ? 1 : pageSize === 2 ** 21 ? 2 : 3;
    let table = this.pml4;
    for (let level = 4; level > leafLevel; level--) {
      const at = table + index(va, level) * 8;
      let e = this.peek64(at);
      if ((e & 1n) === 0n) {
        e = BigInt(this.alloc(1)) | BigInt(PTE_P | PTE_W | PTE_U);
        this.poke64(at, e);
      }
      table = Number(e & 0x000f_ffff_ffff_f000n);
    }
    let leaf = BigInt(pa) | BigInt(PTE_P);
    if (o.write ?? true) leaf |= BigInt(PTE_W);
    if (o.user ?? true) leaf |= BigInt(PTE_U);
    if (o.global) leaf |= BigInt(PTE_G);
    if (leafLevel > 1) leaf |= BigInt(PTE_PS);
    if (o.exec === false) leaf |= PTE_NX;
    const at = table + index(va, leafLevel) * 8;
    this.poke64(at, leaf);
    return at;
  }

  /**
   * Maps `size` bytes of fresh user memory at `va` (4-KiB pages; pages already mapped by
   * the bench are reused). Returns the physical address of the first page.
   */
  mapUser(va: number, size: number, options: MapOptions = {}): number {
    let first = -1;
    for (let p = Math.floor(va / 4096) * 4096; p < va + size; p += 4096) {
      let pa = this.#pages.get(p);
      if (pa === undefined) {
        pa = this.alloc(1);
        this.#pages.set(p, pa);
      }
      this.#mapOne(BigInt.asUintN(64, BigInt(p)), pa, 4096, options);
      if (first < 0) first = pa;
    }
    return first;
  }

  /** The physical address behind a user virtual address the bench mapped. */
  userPhys(va: number): number {
    const pa = this.#pages.get(Math.floor(va / 4096) * 4096);
    if (pa === undefined) throw new Error(`user address ${va.toString(16)} is not mapped`);
    return pa + (va & 0xfff);
  }

  /** Writes bytes into user memory the bench mapped. */
  writeUser(va: number, data: Uint8Array): void {
    for (let k = 0; k < data.length; k++) {
      this.machine.ram.u8[this.userPhys(va + k)] = data[k];
    }
  }

  /** Reads bytes of user memory the bench mapped. */
  readUser(va: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let k = 0; k < length; k++) out[k] = this.machine.ram.u8[this.userPhys(va + k)];
    return out;
  }

  /** Maps `code` (user, read-only, executable) at `va` and writes it there. */
  code(va: number, code: Uint8Array, options: MapOptions = {}): void {
    this.mapUser(va, code.length, { write: false, ...options });
    this.writeUser(va, code);
  }

  /**
   * Loads the PT_LOAD segments of a static ELF64 x86-64 executable as user pages (writable
   * and executable as the segment flags say; bytes past the file size zeroed) and returns
   * the entry point. Throws with the reason when the file is not such an executable.
   */
  loadElf(file: Uint8Array): number {
    const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
    const bad = (why: string): never => {
      throw new Error(`not a static ELF64 x86-64 executable: ${why}`);
    };
    if (file.length < 64 || dv.getUint32(0) !== 0x7f45_4c46) bad("no ELF magic");
    if (file[4] !== 2 || file[5] !== 1) bad("not 64-bit little-endian");
    if (dv.getUint16(18, true) !== 62) bad("e_machine is not x86-64 (62)");
    const phoff = Number(dv.getBigUint64(0x20, true));
    const phentsize = dv.getUint16(0x36, true), phnum = dv.getUint16(0x38, true);
    for (let k = 0; k < phnum; k++) {
      const ph = phoff + k * phentsize;
      if (ph + 56 > file.length) bad("program header outside the file");
      if (dv.getUint32(ph, true) !== 1) continue; // PT_LOAD
      const flags = dv.getUint32(ph + 4, true);
      const offset = Number(dv.getBigUint64(ph + 8, true));
      const vaddr = Number(dv.getBigUint64(ph + 0x10, true));
      const filesz = Number(dv.getBigUint64(ph + 0x20, true));
      const memsz = Number(dv.getBigUint64(ph + 0x28, true));
      if (offset + filesz > file.length) bad("segment outside the file");
      this.mapUser(vaddr, memsz, { write: (flags & 2) !== 0, exec: (flags & 1) !== 0 });
      this.writeUser(vaddr, file.subarray(offset, offset + filesz));
      this.writeUser(vaddr + filesz, new Uint8Array(memsz - filesz));
    }
    return Number(dv.getBigUint64(0x18, true));
  }

  /** Maps a user stack of `size` bytes ending at `top`; returns `top`. */
  stack(top = 0x7fff_f000, size = 0x4000): number {
    this.mapUser(top - size, size, { exec: false });
    return top;
  }

  /**
   * Enters ring 3 at `rip` (through the bench kernel's start-up entry and `iretq`) and
   * runs until the next trap or SYSCALL the hooks answer with "stop", or `limitNs`. The
   * registers other than RIP, RSP and RFLAGS are what the test left in `cpu.regs`.
   * Returns the last trap, or throws if none came or the machine stopped.
   */
  runUser(
    rip: number | bigint,
    options: { rsp?: number | bigint; rflags?: number; limitNs?: number; cpu?: number } = {},
  ): TrapRecord {
    this.enterUser(rip, options);
    return this.runUntilTrap(options.limitNs);
  }

  /**
   * Makes a CPU enter ring 3 at `rip` when the machine next runs it (through the bench
   * kernel's "enter user" entry and `iretq`), without running anything yet: for tests
   * that start several CPUs. A CPU waiting for SIPI is started by the bench kernel's
   * start-up entry (registered at 0x8000), which sets it up as an AP's trampoline would.
   * The registers the test left in `cpu.regs` are what ring 3 gets (RSP aside).
   */
  enterUser(
    rip: number | bigint,
    options: { rsp?: number | bigint; rflags?: number; cpu?: number } = {},
  ): void {
    const cpu = this.cpus[options.cpu ?? 0];
    if (options.rsp === undefined && cpu.regs[RSP] === 0n) options.rsp = this.stack();
    this.#enter.set(cpu.index, {
      rip: BigInt(rip),
      rsp: options.rsp === undefined ? cpu.regs[RSP] : BigInt(options.rsp),
      flags: BigInt(options.rflags ?? (RFLAGS_IF | 2)),
      regs: cpu.regs.slice(), // the kernel restores them (a SIPI clears them)
    });
    if (cpu.waitingForSipi) {
      cpu.startup(8);
      return;
    }
    cpu.hlt(KTEXT + 0x2000n); // continue at the "enter user" entry
    cpu.state = "running";
  }

  /**
   * Executes at most `count` ring-3 instructions at `rip` directly, without the bench's
   * kernel: for instruction-level tests that run thousands of cases. The CPU is put in
   * ring 3 (user CS and SS) with `rflags`; the registers are whatever the test left. An
   * exception is delivered through the IDT as usual, leaving the CPU in ring 0 at the
   * handler's address (not yet called). Returns the number of instructions executed.
   */
  step(rip: number, options: { count?: number; rflags?: number; cpu?: number } = {}): number {
    const cpu = this.cpus[options.cpu ?? 0];
    cpu.sel[SEG_CS] = USER_CS;
    cpu.sel[SEG_SS] = USER_SS;
    cpu.setCpl(3);
    cpu.setRflagsN(options.rflags ?? (RFLAGS_IF | 2));
    cpu.ip = rip;
    cpu.loopBudget = options.count ?? 1;
    const n = runUser(cpu);
    cpu.timeNs += n;
    cpu.instret += n;
    cpu.icount = 0;
    return n;
  }

  /** Resumes a CPU stopped by a trap (iretq, or sysretq after a SYSCALL); runs to the next. */
  resume(options: { limitNs?: number; cpu?: number } = {}): TrapRecord {
    const cpu = this.cpus[options.cpu ?? 0];
    cpu.state = "running";
    return this.runUntilTrap(options.limitNs);
  }

  /** Runs the machine until a new trap stops a CPU, or `limitNs` of virtual time pass. */
  runUntilTrap(limitNs = 10_000_000): TrapRecord {
    const before = this.traps.length;
    const r = this.run(limitNs);
    if (r.kind !== "paused") {
      throw new Error(
        `the machine stopped: ${JSON.stringify(r)}\n${this.machine.messages.join("\n")}`,
      );
    }
    if (this.traps.length === before) throw new Error(`no trap within ${limitNs} ns`);
    return this.traps[this.traps.length - 1];
  }

  /** Runs the machine for up to `limitNs` (stops earlier when every CPU is halted). */
  run(limitNs = 10_000_000): StopReason {
    const until = this.machine.now() + limitNs;
    for (;;) {
      const r = this.machine.run(until);
      if (r.kind !== "paused") return r;
      if (this.cpus.every((c) => c.state !== "running" || c.timeNs >= until)) return r;
    }
  }

  // ---- the bench kernel --------------------------------------------------------------------

  #writeGdt(): void {
    const put = (at: number, v: bigint) => this.poke64(GDT_PA + at, v);
    put(0x08, segmentDescriptor(true, 0));
    put(0x10, segmentDescriptor(false, 0));
    put(0x18, segmentDescriptor(false, 3));
    put(0x20, segmentDescriptor(true, 3));
    const [lo, hi] = tssDescriptor(this.kva(TSS_PA), 0x68 + 0x2000); // TSS, bitmap, 0xFF byte
    put(0x28, lo);
    put(0x30, hi);
    for (let v = 0; v < 256; v++) {
      const [g0, g1] = gateDescriptor(KTEXT + BigInt(16 * v), KERNEL_CS, {
        ist: v === 8 ? 1 : 0,
        dpl: v === 3 || v === 4 ? 3 : 0,
      });
      this.poke64(IDT_PA + 16 * v, g0);
      this.poke64(IDT_PA + 16 * v + 8, g1);
    }
    const rsp0 = this.alloc(4) + 4 * 4096;
    const ist1 = this.alloc(2) + 2 * 4096;
    this.poke64(TSS_PA + TSS_RSP0, this.kva(rsp0));
    this.poke64(TSS_PA + TSS_IST1, this.kva(ist1));
    // I/O bitmap right after the TSS, all ports denied (bits set), plus the 0xFF end byte.
    this.machine.ram.dv.setUint16(TSS_PA + 102, 0x68, true);
    this.machine.ram.u8.fill(0xff, TSS_PA + 0x68, TSS_PA + 0x68 + 0x2000 + 1);
  }

  /** Writes the IDT gate of `vector` (for tests of malformed gates). */
  setGate(vector: number, lo: bigint, hi: bigint): void {
    this.poke64(IDT_PA + 16 * vector, lo);
    this.poke64(IDT_PA + 16 * vector + 8, hi);
  }

  /** Physical addresses of the GDT, IDT and TSS. */
  get tables(): { gdt: number; idt: number; tss: number } {
    return { gdt: GDT_PA, idt: IDT_PA, tss: TSS_PA };
  }

  #registerKernel(): void {
    const kt = this.machine.kernelText;
    for (let v = 0; v < 256; v++) {
      kt.register(KTEXT + BigInt(16 * v), `trap_${v}`, (c) => this.#trap(c as X86Processor, v));
    }
    kt.register(KTEXT + 0x1000n, "syscall_entry", (c) => this.#syscall(c as X86Processor));
    kt.register(KTEXT + 0x2000n, "enter_user", (c) => this.#enterUser(c as X86Processor));
    kt.register(KTEXT + 0x3000n, "resume_iret", (c) => this.#resumeIret(c as X86Processor));
    kt.register(KTEXT + 0x4000n, "resume_sysret", (c) => c.sysretq());
    kt.register(0x8000n, "ap_start", (c) => this.#startAp(c as X86Processor));
  }

  #bootCpu(cpu: X86Processor, o: BenchOptions): void {
    // What a boot loader and the kernel's early code do, with the CPU's own instructions.
    cpu.resetToStartup();
    cpu.wrmsr(IA32_EFER, BigInt(EFER_LME | EFER_SCE | (o.nxe ?? true ? EFER_NXE : 0)));
    cpu.writeCr(4, BigInt(CR4_PAE | (o.pge ?? true ? CR4_PGE : 0)));
    cpu.writeCr(3, BigInt(this.pml4));
    cpu.writeCr(0, BigInt((CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG) >>> 0));
    cpu.lgdt(this.kva(GDT_PA), 0x37 + 16 * ((o.cpus ?? 1) - 1)); // room for the APs' TSSs
    cpu.lidt(this.kva(IDT_PA), 256 * 16 - 1);
    cpu.loadCs(KERNEL_CS);
    cpu.loadSegment("ss", KERNEL_SS);
    cpu.ltr(TSS_SEL);
    cpu.wrmsr(IA32_STAR, (0x10n << 48n) | (0x08n << 32n));
    cpu.wrmsr(IA32_LSTAR, KTEXT + 0x1000n);
    cpu.wrmsr(IA32_FMASK, BigInt(RFLAGS_IF | (1 << 10) | (1 << 8)));
    cpu.regs[RSP] = 0n;
    cpu.start(KTEXT + 0x2000n);
    cpu.state = "idle"; // nothing to run until a test calls runUser
    cpu.hlt(KTEXT + 0x2000n);
  }

  #enterUser(cpu: X86Processor): void {
    // Build an iretq frame on the bench kernel's own stack and return to ring 3 through
    // it (its own stack, not RSP0, so that tests may break the TSS).
    const e = this.#enter.get(cpu.index);
    if (!e) throw new Error(`cpu${cpu.index}: enterUser was not called`);
    cpu.regs.set(e.regs);
    const frame = [e.rip, BigInt(USER_CS), e.flags, e.rsp, BigInt(USER_SS)];
    const at = this.kernelStackTop - 40n - BigInt(cpu.index * 64);
    frame.forEach((v, k) => cpu.store(at + BigInt(8 * k), 8, v));
    cpu.regs[RSP] = at;
    cpu.iretq();
  }

  /**
   * The start-up entry of the bench's other CPUs (SIPI vector 8): what an AP trampoline
   * does, with the CPU's own instructions, copying CPU 0's settings; each CPU gets its own
   * TSS (a copy of CPU 0's with its own RSP0) in the GDT after CPU 0's.
   */
  #startAp(cpu: X86Processor): void {
    const bsp = this.cpus[0];
    cpu.wrmsr(IA32_EFER, bsp.rdmsr(IA32_EFER) & ~(1n << 10n));
    cpu.writeCr(4, bsp.readCr(4));
    cpu.writeCr(3, bsp.readCr(3));
    cpu.writeCr(0, bsp.readCr(0));
    const gdt = bsp.sgdt(), idt = bsp.sidt();
    cpu.lgdt(gdt.base, gdt.limit);
    cpu.lidt(idt.base, idt.limit);
    cpu.loadCs(KERNEL_CS);
    cpu.loadSegment("ss", KERNEL_SS);
    for (const msr of [IA32_STAR, IA32_LSTAR, IA32_FMASK]) cpu.wrmsr(msr, bsp.rdmsr(msr));
    const tss = this.alloc(3);
    this.machine.ram.u8.copyWithin(tss, TSS_PA, TSS_PA + 0x68 + 0x2001);
    this.poke64(tss + TSS_RSP0, this.kva(this.alloc(4) + 4 * 4096));
    this.poke64(tss + TSS_IST1, this.kva(this.alloc(2) + 2 * 4096));
    const sel = 0x38 + 16 * (cpu.index - 1);
    const [lo, hi] = tssDescriptor(this.kva(tss), 0x68 + 0x2000);
    this.poke64(GDT_PA + sel, lo);
    this.poke64(GDT_PA + sel + 8, hi);
    cpu.lgdt(gdt.base, Math.max(gdt.limit, sel + 15));
    cpu.ltr(sel);
    cpu.rip = KTEXT + 0x2000n; // on to "enter user"
  }

  #trap(cpu: X86Processor, vector: number): void {
    const rsp = BigInt.asUintN(64, cpu.regs[RSP]);
    const withError = vector < 32 && hasErrorCode(vector);
    const at = (k: number) => cpu.load(rsp + BigInt(8 * (k + (withError ? 1 : 0))), 8);
    const t: TrapRecord = {
      vector,
      errorCode: withError ? Number(cpu.load(rsp, 8)) : undefined,
      rip: at(0),
      cs: Number(at(1)),
      rflags: at(2),
      rsp: at(3),
      ss: Number(at(4)),
      cr2: cpu.readCr(2),
      frameAt: rsp,
      cpu: cpu.index,
    };
    this.traps.push(t);
    const action = this.onTrap(t, cpu);
    if (action === "resume") return this.#resumeIret(cpu);
    cpu.hlt(KTEXT + 0x3000n);
  }

  #resumeIret(cpu: X86Processor): void {
    const t = [...this.traps].reverse().find((x) => x.cpu === cpu.index && x.vector >= 0);
    if (t && t.errorCode !== undefined && BigInt.asUintN(64, cpu.regs[RSP]) === t.frameAt) {
      cpu.regs[RSP] += 8n; // drop the error code
    }
    cpu.iretq();
  }

  #syscall(cpu: X86Processor): void {
    const t: TrapRecord = {
      vector: -1,
      errorCode: undefined,
      rip: BigInt.asUintN(64, cpu.regs[1]),
      cs: cpu.selector("cs"),
      rflags: BigInt.asUintN(64, cpu.regs[11]),
      rsp: BigInt.asUintN(64, cpu.regs[RSP]),
      ss: cpu.selector("ss"),
      cr2: 0n,
      frameAt: 0n,
      cpu: cpu.index,
    };
    this.traps.push(t);
    const action = this.onSyscall(t, cpu);
    if (action === "resume") return cpu.sysretq();
    cpu.hlt(KTEXT + 0x4000n);
  }
}

function index(va: bigint, level: number): number {
  return Number((BigInt.asUintN(64, va) >> BigInt(12 + 9 * (level - 1))) & 511n);
}
