/**
 * The kernel's replaceable components: the pieces a lesson asks the student to write,
 * each behind an interface that the reference implementation and the student's exercise
 * both implement (DESIGN.md principle 6). The lesson harness builds the kernel with the
 * student's implementation in place of the reference one; `deno check` proves an exercise
 * fits its interface.
 *
 * Every component gets what it depends on through its factory's arguments (no globals),
 * so a grader can build one alone over a plain buffer, and the kernel can build it over
 * real emulated RAM.
 *
 * Addresses: physical addresses are numbers (exact below 2^53); virtual addresses are
 * unsigned 64-bit bigints, as the CPU interfaces use.
 *
 * @module
 */

import type { MemoryRegion } from "../emulator/core/bootinfo.ts";
import type { PhysMem } from "./mm/phys.ts";
import { createUartConsole } from "./drivers/uart16550.ts";
import { createFixedBlockAllocator } from "./mm/fixed_block.ts";
import { createStackPmm } from "./mm/pmm.ts";
import { createSlabAllocator } from "./mm/slab.ts";
import { createRunQueue } from "./sched/run_queue.ts";

// ---- lesson 01: the serial console ------------------------------------------------------

/** A 16550's eight byte-wide registers, wherever the board puts them (MMIO or I/O ports). */
export interface UartRegisters {
  /** Reads register `reg` (0 to 7: RBR/THR/DLL, IER/DLM, IIR/FCR, LCR, MCR, LSR, MSR, SCR). */
  read(reg: number): number;
  /** Writes register `reg`. */
  write(reg: number, value: number): void;
}

/** A driver for a 16550 UART. */
export interface SerialConsole {
  /**
   * Programs the UART: `baud` from its `clockHz` input (divisor = clock / (16 * baud)),
   * 8 data bits, no parity, one stop bit, FIFOs enabled and cleared.
   */
  init(baud: number): void;
  /** Sends one byte, waiting (polling LSR.THRE) until the transmitter can take it. */
  putByte(byte: number): void;
  /** Takes one received byte, or undefined when none is waiting (LSR.DR = 0). */
  getByte(): number | undefined;
  /** Enables (true) or disables the received-data-available interrupt (IER.ERBFI). */
  enableReceiveInterrupt(on: boolean): void;
}

/** Builds a console driver over `regs`, for a UART fed by a `clockHz` clock. */
export type SerialConsoleFactory = (regs: UartRegisters, clockHz: number) => SerialConsole;

// ---- lesson 02: physical memory -------------------------------------------------------

/** What the physical memory manager reports, for the boot log and tests. */
export interface PmmStats {
  /** Bytes of usable RAM it was given (after what it keeps for itself). */
  total: number;
  /** Bytes free now. */
  free: number;
  /** Frames handed out by `allocate` and not yet freed. */
  allocatedFrames: number;
  /** How many free runs it holds. */
  runs: number;
}

/**
 * The physical memory manager: hands out runs of 4 KiB frames. The reference keeps, as
 * anos does, a stack of free runs (base, length) in RAM, so freeing or allocating a frame
 * is cheap and a long free region costs one entry.
 */
export interface PhysicalMemoryManager {
  /** Allocates `frames` contiguous frames (default 1); their physical address, or undefined. */
  allocate(frames?: number): number | undefined;
  /** Returns `frames` frames at `pa` (which `allocate` handed out). */
  free(pa: number, frames?: number): void;
  /** Current statistics. */
  stats(): PmmStats;
}

/**
 * Builds the PMM from the boot memory map: only `MEMMAP_USABLE` regions are handed out;
 * the kernel image, modules, firmware tables and anything reserved never are. `mem`
 * reaches RAM (the reference keeps its free-run stack there).
 *
 * Bootloader-reclaimable memory is not handed out either, until the kernel has consumed
 * what is there: then it gives those whole frames to the PMM with `free`, which must accept
 * them as new free memory.
 */
export type PmmFactory = (
  mem: PhysMem,
  memoryMap: readonly MemoryRegion[],
) => PhysicalMemoryManager;

// ---- lesson 03: paging ------------------------------------------------------------------

/** Architecture-neutral permissions of a mapping; each format turns them into PTE bits. */
export interface PageFlags {
  /** Writable (PTE_W / R/W). */
  write: boolean;
  /** Executable (PTE_X / NX clear). */
  execute: boolean;
  /** Accessible to user mode (PTE_U / U/S). */
  user: boolean;
  /** Global: present in every address space, not flushed on a switch (PTE_G / G). */
  global: boolean;
  /** Device memory: uncached (x86 PCD; RISC-V has no PBMT here, so it is ignored). */
  device: boolean;
}

/** One mapping, as `translate` finds it. */
export interface Mapping {
  /** The physical address `va` translates to. */
  pa: number;
  /** The size of the page that maps it: 4 KiB, 2 MiB or 1 GiB. */
  pageSize: number;
  /** Its permissions. */
  flags: PageFlags;
}

/**
 * Invalidating TLB entries on the CPU running now (sfence.vma, INVLPG, INVPCID).
 *
 * ASID 0 ({@link KERNEL_ASID}) is the kernel's own address space, whose mappings are global
 * (in every address space): flushing a page of ASID 0 drops it from every address space.
 */
export interface TlbControl {
  /**
   * Drops entries for the page of `va` in address space `asid`; for `asid` 0, the kernel's,
   * in every address space (global entries included).
   */
  flushPage(va: bigint, asid: number): void;
  /** Drops every non-global entry of `asid`. */
  flushAsid(asid: number): void;
  /** Drops everything. */
  flushAll(): void;
}

/**
 * Page tables in one hardware format (x86-64 4-level, or Sv48): the tables are frames in
 * RAM that the MMU walks. `root` is the physical address of the top-level table. Changing
 * or removing a present entry invalidates the TLB through `tlb`; adding one need not.
 */
export interface PageTables {
  /** The format's name, "x86_64" or "sv48". */
  readonly format: string;
  /** The page sizes it can map, smallest first. */
  readonly pageSizes: readonly number[];
  /**
   * A new top-level table. Without `kernelFrom` it is the kernel's root: its lower half is
   * empty and each entry of its higher half points at a fresh, empty next-level table, made
   * once, so that mappings added to the higher half later are seen by every root that
   * shares them. With `kernelFrom`, a user root: an empty lower half and the higher-half
   * entries of `kernelFrom` copied (shared, not duplicated). Throws {@link OutOfMemory}
   * when the PMM has no frame for it.
   */
  createRoot(kernelFrom?: number): number;
  /**
   * Maps `size` bytes at `va` to `pa` with `flags` in address space (`root`, `asid`),
   * using pages of `pageSize` (both addresses aligned to it). Throws a RangeError naming
   * the address when something is already mapped there or an address is misaligned, and
   * {@link OutOfMemory} when the PMM has no frame for a table (what was mapped before
   * stays mapped).
   */
  map(
    root: number,
    asid: number,
    va: bigint,
    pa: number,
    size: number,
    flags: PageFlags,
    pageSize?: number,
  ): void;
  /** Removes the mappings of [va, va + size); returns how many pages were unmapped. */
  unmap(root: number, asid: number, va: bigint, size: number): number;
  /** Changes the permissions of the pages of [va, va + size); returns how many changed. */
  protect(root: number, asid: number, va: bigint, size: number, flags: PageFlags): number;
  /** Walks the tables for `va` as the MMU would; undefined when nothing is mapped there. */
  translate(root: number, va: bigint): Mapping | undefined;
  /** Frees every table of the user half under `root`, and `root` itself (not the pages). */
  destroyRoot(root: number): void;
}

/** The kernel's address-space identifier: its mappings are global (see TlbControl). */
export const KERNEL_ASID = 0;

/**
 * Thrown by a component when the PMM has no frame for it: the kernel answers the request
 * that needed the memory with E_NOMEM. Anything else a component throws is a kernel panic.
 */
export class OutOfMemory extends Error {
  /** Builds the error; `what` says what could not be allocated. */
  constructor(what: string) {
    super(`out of memory: no frame for ${what}`);
    this.name = "OutOfMemory";
  }
}

/** What a page-table implementation needs: RAM, frames for tables, the TLB. */
export interface PageTablesDeps {
  /** RAM, through the direct map. */
  mem: PhysMem;
  /** Where table frames come from (zeroed by the implementation before use). */
  pmm: PhysicalMemoryManager;
  /** TLB invalidation on the current CPU. */
  tlb: TlbControl;
}

/** Builds page tables of one format. */
export type PageTablesFactory = (deps: PageTablesDeps) => PageTables;

// ---- lesson 04: the kernel heap ---------------------------------------------------------

/** Counters every allocator keeps, so a leak is visible. */
export interface AllocatorStats {
  /** Objects handed out and not freed. */
  inUse: number;
  /** Frames taken from the PMM and still held. */
  frames: number;
}

/** Hands out blocks of one fixed size carved from frames of the PMM. */
export interface FixedBlockAllocator {
  /** The block size in bytes. */
  readonly blockSize: number;
  /**
   * A block's physical address (8-byte aligned: blocks hold u64 fields), or undefined when
   * the PMM is exhausted.
   */
  allocate(): number | undefined;
  /** Returns a block. Freeing an address it did not hand out throws a RangeError. */
  free(pa: number): void;
  /** Counters. */
  stats(): AllocatorStats;
}

/**
 * Builds a fixed-block allocator for blocks of `blockSize` bytes (a multiple of 8, at most a
 * page; the reference throws a RangeError for any other size).
 */
export type FixedBlockFactory = (
  mem: PhysMem,
  pmm: PhysicalMemoryManager,
  blockSize: number,
) => FixedBlockAllocator;

/** A slab cache: objects of one size and kind, with per-slab free lists. */
export interface SlabCache {
  /** Its name, for statistics ("thread", "process", ...). */
  readonly name: string;
  /** The object size in bytes. */
  readonly objectSize: number;
  /**
   * An object's physical address (zeroed, 8-byte aligned), or undefined when the PMM is
   * exhausted.
   */
  allocate(): number | undefined;
  /** Returns an object. Freeing an address it did not hand out throws a RangeError. */
  free(pa: number): void;
  /** Counters; empty slabs go back to the PMM. */
  stats(): AllocatorStats & { slabs: number };
}

/** Builds slab caches. */
export interface SlabAllocator {
  /** Creates a cache for objects of `objectSize` bytes. */
  createCache(name: string, objectSize: number): SlabCache;
  /** Every cache created, for statistics. */
  caches(): readonly SlabCache[];
}

/** Builds the slab allocator. */
export type SlabFactory = (mem: PhysMem, pmm: PhysicalMemoryManager) => SlabAllocator;

// ---- lesson 09: the scheduler -----------------------------------------------------------

/** anos's four scheduling classes, highest first. */
export type SchedClass = "realtime" | "high" | "normal" | "idle";

/** The scheduler's view of a thread. */
export interface Schedulable {
  /** The thread id, for messages. */
  readonly tid: number;
  /** Its class. */
  schedClass: SchedClass;
  /** Its priority within the class: 0 (highest) to 254. */
  priority: number;
}

/**
 * One CPU's run queue: prioritised round robin over four classes of 255 levels. The
 * highest non-empty (class, level) runs first; threads of equal rank take turns.
 */
export interface RunQueue<T extends Schedulable = Schedulable> {
  /** Adds a runnable thread at the back of its (class, level). */
  enqueue(thread: T): void;
  /** Removes a thread wherever it is (it blocked, or was killed); false if absent. */
  remove(thread: T): boolean;
  /** Takes the thread that should run next, or undefined when none is runnable. */
  next(): T | undefined;
  /** Whether a runnable thread outranks `current` (so `current` should be preempted). */
  outranks(current: T): boolean;
  /** How many threads are queued. */
  readonly size: number;
}

/** Builds a run queue. */
export type RunQueueFactory = <T extends Schedulable>() => RunQueue<T>;

// ---- the kernel, built from a choice of components -------------------------------------

/** The page-table formats, by the name `PageTables.format` gives. */
export type PageTableFormat = "sv48" | "x86_64";

/**
 * The components a kernel is built from: the reference ones, or a student's in the lesson
 * harness (`{ ...REFERENCE_COMPONENTS, pmm: myPmm }`).
 */
export interface KernelComponents {
  /** Lesson 01: the console driver. */
  console: SerialConsoleFactory;
  /** Lesson 02: the physical memory manager. */
  pmm: PmmFactory;
  /**
   * Lesson 03: page tables, by format. A format left out uses the architecture port's
   * reference (arch/riscv64/sv48.ts, arch/x86_64/), which kernel/ cannot import.
   */
  pageTables: Readonly<Partial<Record<PageTableFormat, PageTablesFactory>>>;
  /** Lesson 04: the fixed-block allocator. */
  fixedBlock: FixedBlockFactory;
  /** Lesson 04: the slab allocator. */
  slab: SlabFactory;
  /** Lesson 09: the run queue (one per CPU). */
  runQueue: RunQueueFactory;
}

/** The reference components: the course's answer key. */
export const REFERENCE_COMPONENTS: KernelComponents = {
  console: createUartConsole,
  pmm: createStackPmm,
  pageTables: {},
  fixedBlock: createFixedBlockAllocator,
  slab: createSlabAllocator,
  runQueue: createRunQueue,
};
