/**
 * A test bench for RISC-V hart tests: a machine with RAM at 0x8000_0000 and one or more
 * harts, a minimal hosted trap handler that records every trap, loading of assembly
 * source (through the course's assembler), and a page-table builder for Sv39 and Sv48.
 *
 * ```ts
 * const tb = new Testbench();
 * const code = tb.load(`
 *     li a0, 5
 *   1: addi a0, a0, -1
 *     bnez a0, 1b
 *     ebreak`);
 * tb.enterUser(0, code.entry);
 * tb.run();
 * assert.equal(tb.traps[0].code, EXC_BREAKPOINT);
 * ```
 *
 * By default the trap handler records the trap and powers the machine off, so `run()`
 * returns at the first trap; give `onTrap` to do something else (return to the program,
 * count interrupts). Other engineers' tests may reuse it.
 *
 * @module
 */

import { type AsmResult, assembleRiscv } from "../asm/riscv/assembler.ts";
import { registerNumber } from "../asm/riscv/encode.ts";
import { Machine, type StopReason } from "../core/machine.ts";
import type { Trace } from "../core/trace.ts";
import {
  makeSatp,
  PTE_A,
  PTE_D,
  PTE_R,
  PTE_U,
  PTE_V,
  PTE_W,
  PTE_X,
  SATP_MODE_SV39,
  SATP_MODE_SV48,
  SCAUSE_INTERRUPT,
} from "./csr.ts";
import { type Hart, PRIV_U } from "./hart_api.ts";
import { RiscvHart } from "./hart.ts";
import { SPIE_BIT, SPP_BIT } from "./csrs.ts";

/** Where the bench's RAM starts, as on QEMU's virt board. */
export const RAM_BASE = 0x8000_0000;
/** The kernel address the bench registers its trap handler at (written to stvec). */
export const TRAP_ENTRY = 0xffff_ffff_fff0_0000n;

/** A trap, as the bench's handler saw it on entry. */
export interface TrapRecord {
  /** The hart's index. */
  hart: number;
  /** Whether scause has the interrupt bit. */
  interrupt: boolean;
  /** scause without the interrupt bit. */
  code: number;
  /** scause. */
  scause: bigint;
  /** sepc. */
  sepc: bigint;
  /** stval. */
  stval: bigint;
  /** sstatus.SPP (0 = the trap came from U-mode). */
  spp: number;
  /** sstatus.SPIE. */
  spie: number;
  /** The hart's time at entry (ns). */
  timeNs: number;
  /** The hart's instret at entry. */
  instret: number;
}

/** How to build a {@link Testbench}. */
export interface TestbenchOptions {
  /** Number of harts (default 1). */
  harts?: number;
  /** RAM size (default 16 MiB). */
  memory?: number;
  /** The machine's seed. */
  seed?: number;
  /** Quantum bounds (default the machine's). */
  quantumMinNs?: number;
  /** See quantumMinNs. */
  quantumMaxNs?: number;
  /** A trace to record into. */
  trace?: Trace;
  /**
   * Called by the trap handler after recording the trap; it must leave the hart somewhere
   * (sret, wfi, stop). Default: power the machine off (exit code 0).
   */
  onTrap?: (trap: TrapRecord, hart: RiscvHart, bench: Testbench) => void;
}

/** A machine with harts, RAM at {@link RAM_BASE}, and a recording trap handler. */
export class Testbench {
  /** The machine. */
  readonly machine: Machine<Hart>;
  /** Its harts (stopped until `enterUser` or `start`). */
  readonly harts: RiscvHart[];
  /** Every trap taken, in order. */
  readonly traps: TrapRecord[] = [];
  /** What the trap handler does after recording. */
  onTrap: (trap: TrapRecord, hart: RiscvHart, bench: Testbench) => void;

  /** Builds the machine (see {@link TestbenchOptions}). */
  constructor(options: TestbenchOptions = {}) {
    const memory = options.memory ?? 16 * 2 ** 20;
    this.machine = new Machine<Hart>({
      memory,
      seed: options.seed,
      trace: options.trace,
      quantumMinNs: options.quantumMinNs,
      quantumMaxNs: options.quantumMaxNs,
    });
    this.machine.bus.addRam(RAM_BASE, memory);
    this.harts = [];
    for (let i = 0; i < (options.harts ?? 1); i++) {
      const h = new RiscvHart(this.machine, i);
      h.stvec = TRAP_ENTRY;
      this.machine.cpus.push(h);
      this.harts.push(h);
    }
    this.onTrap = options.onTrap ?? ((_t, _h, tb) => tb.machine.powerOff(0, "test trap"));
    this.machine.kernelText.register(TRAP_ENTRY, "testbench_trap", (cpu) => {
      const h = cpu as RiscvHart;
      const record: TrapRecord = {
        hart: h.index,
        interrupt: (h.scause & SCAUSE_INTERRUPT) !== 0n,
        code: Number(h.scause & ~SCAUSE_INTERRUPT),
        scause: h.scause,
        sepc: h.sepc,
        stval: h.stval,
        spp: h.sstatus & SPP_BIT ? 1 : 0,
        spie: h.sstatus & SPIE_BIT ? 1 : 0,
        timeNs: h.timeNs,
        instret: h.instret,
      };
      this.traps.push(record);
      this.onTrap(record, h, this);
    });
  }

  /** Copies `bytes` into RAM at physical address `pa`. */
  write(pa: number, bytes: Uint8Array | readonly number[]): void {
    if (!this.machine.bus.writeBytes(pa, Uint8Array.from(bytes))) {
      throw new RangeError(`testbench: ${pa.toString(16)} is not RAM`);
    }
  }

  /** Writes a little-endian 64-bit value to RAM. */
  writeU64(pa: number, value: bigint): void {
    this.machine.bus.write(pa, 8, value);
  }

  /** Reads `size` bytes of RAM at `pa`, zero-extended. */
  read(pa: number, size: number): bigint {
    const v = this.machine.bus.read(pa, size);
    if (v === undefined) throw new RangeError(`testbench: ${pa.toString(16)} is not RAM`);
    return v;
  }

  /**
   * Assembles `source` (GNU as syntax, see emulator/asm/riscv/assembler.ts) for virtual
   * address `origin` and loads the image into RAM at physical address `loadAt` (default:
   * the origin, for Bare mode). `compressed` starts with `.option rvc`.
   */
  load(source: string, origin = RAM_BASE, loadAt = origin, compressed = false): AsmResult {
    const out = assembleRiscv(source, { origin, compressed });
    this.write(loadAt, out.bytes);
    return out;
  }

  /**
   * Puts hart `index` in U-mode at `pc`, running, with stvec at the bench's handler. `satp`
   * selects an address space (default Bare).
   */
  enterUser(index: number, pc: number | bigint, satp = 0n): RiscvHart {
    const h = this.harts[index];
    h.csrw(0x180, satp);
    h.priv = PRIV_U;
    h.setPc(BigInt(pc));
    h.state = "running";
    return h;
  }

  /** Runs the machine until it stops or `untilNs`. */
  run(untilNs = 10_000_000): StopReason {
    return this.machine.run(untilNs);
  }
}

/** Leaf permission sets for {@link PageTables.map}. */
export const RWX_USER = PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D;
/** A user read-only data page. */
export const R_USER = PTE_V | PTE_R | PTE_U | PTE_A;
/** A user read-write data page. */
export const RW_USER = PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D;
/** A user code page. */
export const RX_USER = PTE_V | PTE_R | PTE_X | PTE_U | PTE_A;
/** A supervisor read-write page. */
export const RW_KERNEL = PTE_V | PTE_R | PTE_W | PTE_A | PTE_D;

/**
 * Builds Sv39 or Sv48 page tables in a bench's RAM, allocating table pages upward from
 * `pool`. Entries are written as the hardware reads them; `pte()` and `setPte()` reach
 * any entry for tests that corrupt them on purpose.
 */
export class PageTables {
  /** 3 (Sv39) or 4 (Sv48). */
  readonly levels: number;
  /** Physical address of the root table. */
  readonly root: number;
  #next: number;
  #bench: Testbench;

  /** Creates an empty root table at `pool` (4 KiB aligned). */
  constructor(bench: Testbench, levels: 3 | 4, pool: number) {
    this.#bench = bench;
    this.levels = levels;
    this.root = pool;
    this.#next = pool + 4096;
    bench.write(pool, new Uint8Array(4096));
  }

  /** satp for these tables with `asid`. */
  satp(asid = 0): bigint {
    return makeSatp(this.levels === 3 ? SATP_MODE_SV39 : SATP_MODE_SV48, asid, this.root / 4096);
  }

  /** Index of `va` at `level`. */
  #index(va: number, level: number): number {
    return Math.floor(va / 2 ** (12 + 9 * level)) & 0x1ff;
  }

  /**
   * Physical address of the PTE for `va` at `level`, creating tables on the way when
   * `create` (pointer PTEs have V only, as the specification wants).
   */
  pteAddress(va: number, level: number, create = true): number {
    let table = this.root;
    for (let i = this.levels - 1; i > level; i--) {
      const at = table + this.#index(va, i) * 8;
      const pte = this.#bench.read(at, 8);
      if ((pte & BigInt(PTE_V)) === 0n) {
        if (!create) throw new Error(`no table for ${va.toString(16)} at level ${i}`);
        const page = this.#next;
        this.#next += 4096;
        this.#bench.write(page, new Uint8Array(4096));
        this.#bench.writeU64(at, (BigInt(page / 4096) << 10n) | BigInt(PTE_V));
        table = page;
      } else {
        table = Number(pte >> 10n) * 4096;
      }
    }
    return table + this.#index(va, level) * 8;
  }

  /** Maps `va` to `pa` with PTE bits `flags` as a leaf at `level` (0: 4 KiB page). */
  map(va: number, pa: number, flags: number, level = 0): this {
    this.setPte(va, level, (BigInt(Math.floor(pa / 4096)) << 10n) | BigInt(flags));
    return this;
  }

  /** Writes the raw PTE for `va` at `level`. */
  setPte(va: number, level: number, pte: bigint): this {
    this.#bench.writeU64(this.pteAddress(va, level), pte);
    return this;
  }

  /** Reads the raw PTE for `va` at `level`. */
  pte(va: number, level: number): bigint {
    return this.#bench.read(this.pteAddress(va, level, false), 8);
  }
}

/** Register values by ABI name (`a0`, `sp`) or `x5`-style name. */
export type Registers = Record<string, bigint>;

/** The number of a register named `a0`, `x5`, `fp`... (throws for anything else). */
export function reg(name: string): number {
  const n = registerNumber(name);
  if (n === undefined) throw new Error(`no register named ${name}`);
  return n;
}

/** What {@link runUserCode} returns. */
export interface UserRun {
  /** The bench (for memory and the machine). */
  tb: Testbench;
  /** Hart 0. */
  hart: RiscvHart;
  /** The image that was loaded. */
  image: AsmResult;
  /** The first trap, if the program trapped. */
  trap: TrapRecord | undefined;
  /** Why the machine stopped. */
  stop: StopReason;
}

/** Options of {@link runUserCode}. */
export interface UserRunOptions extends TestbenchOptions {
  /** Registers to set before running. */
  regs?: Registers;
  /** Assemble with `.option rvc` in force. */
  compressed?: boolean;
  /** Where to load and run (default RAM_BASE, Bare mode). */
  origin?: number;
  /** Called after loading, before running (to set up memory, CSRs or page tables). */
  setup?: (tb: Testbench, hart: RiscvHart) => void;
  /** Virtual time limit (default 1 ms). */
  untilNs?: number;
}

/**
 * Assembles `source`, runs it in U-mode on hart 0 of a fresh bench (Bare mode unless
 * `setup` changes satp) until its first trap, and returns what happened. The usual test
 * ends the code with `ebreak`.
 */
export function runUserCode(source: string, options: UserRunOptions = {}): UserRun {
  const tb = new Testbench({ memory: 1 << 20, ...options });
  const origin = options.origin ?? RAM_BASE;
  const image = tb.load(source, origin, origin, options.compressed);
  const hart = tb.harts[0];
  for (const [name, value] of Object.entries(options.regs ?? {})) hart.x[reg(name)] = value;
  tb.enterUser(0, image.entry);
  options.setup?.(tb, hart);
  const stop = tb.run(options.untilNs ?? 1_000_000);
  return { tb, hart, image, trap: tb.traps[0], stop };
}
