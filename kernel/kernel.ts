/**
 * The kernel: its state, `kmain` (the architecture-independent boot, which every port's boot
 * entry calls), and the panic path that every entry goes through when something is wrong.
 *
 * ## Boot, in order
 *
 * 1. Read the boot-information block (bootinfo.ts) and the command line (cmdline.ts).
 * 2. Ask the port for the firmware's view of the board (`arch.discover`: the devicetree or
 *    ACPI): RAM, CPUs, the console UART, the timer's frequency.
 * 3. Start the console driver on the UART; from here the log reaches the console.
 * 4. Build the PMM from the memory map.
 * 5. Build the kernel's page tables (a direct map of RAM, the devices, the kernel image) and
 *    switch to them (`arch.enablePaging`). From here physical memory is reached through the
 *    direct map.
 * 6. Give the bootloader-reclaimable memory (the devicetree and boot information, now read)
 *    to the PMM.
 * 7. Start the heap: slab caches for threads and processes, a fixed-block allocator for
 *    address-space records.
 * 8. Set up the boot CPU: its run queue, its idle thread, its traps, its timer.
 * 9. Start every boot module as a process (proc/loader.ts).
 * 10. Schedule: leave the kernel into the first thread.
 *
 * Until SMP (a later issue) only the boot CPU runs; everything per CPU is already per CPU.
 *
 * ## Panics
 *
 * Whatever is thrown out of kernel code (a KernelPanic, a ComponentFailure, a CPU fault on a
 * kernel access, a JavaScript error) ends in {@link panic}: a report naming the CPU, the
 * thread, the trap and the user state, on the console, and the machine powered off with a
 * failure status.
 *
 * @module
 */

import type { Arch, Platform, TrapHandler } from "./arch.ts";
import { type KernelBootInfo, parseBootInfo } from "./bootinfo.ts";
import { type KernelOptions, parseCmdline } from "./cmdline.ts";
import {
  type FixedBlockAllocator,
  KERNEL_ASID,
  type KernelComponents,
  type PageTables,
  type SerialConsole,
  type SlabAllocator,
  type SlabCache,
} from "./components.ts";
import { formatHz, formatSize, hex } from "./format.ts";
import {
  guardConsole,
  type GuardedPmm,
  guardFixedBlock,
  guardPageTables,
  guardPmm,
  guardRunQueue,
  guardSlab,
} from "./guard.ts";
import { KernelLog } from "./log.ts";
import { FrameAccounts } from "./mm/accounting.ts";
import { ADDRESS_SPACE_OBJECT_SIZE, type AddressSpace } from "./mm/address_space.ts";
import { AsidAllocator } from "./mm/asid.ts";
import { buildKernelSpace } from "./mm/kernel_space.ts";
import { HHDM_BASE, PAGE_SIZE } from "./mm/phys.ts";
import { usableRegions } from "./mm/pmm.ts";
import { describeError, KernelPanic } from "./panic.ts";
import type { PerCpu } from "./percpu.ts";
import { parseProgramSpec, startProgram } from "./proc/loader.ts";
import { type Process, PROCESS_OBJECT_SIZE } from "./proc/process.ts";
import { createThread, type Thread, THREAD_OBJECT_SIZE } from "./proc/thread.ts";
import { SleepQueue } from "./sched/sleep_queue.ts";
import { leaveKernel } from "./sched/scheduler.ts";
import { memStats } from "./stats.ts";
import { handleTrap, type Trap } from "./trap.ts";
import { MEMMAP_BOOTLOADER_RECLAIMABLE, MEMMAP_TYPE_NAMES } from "../emulator/core/bootinfo.ts";

/** The console's line speed. */
export const CONSOLE_BAUD = 115200;

/** The kernel's heap: the allocators kernel objects come from. */
export interface KernelHeap {
  /** The slab allocator. */
  slab: SlabAllocator;
  /** `struct thread`s. */
  threads: SlabCache;
  /** `struct process`es. */
  processes: SlabCache;
  /** Address-space records. */
  spaces: FixedBlockAllocator;
}

/**
 * The kernel's state. Fields are filled in as `kmain` brings each part up; after boot all
 * are set. Kernel bookkeeping is TypeScript; what the hardware reads is in RAM.
 */
export interface Kernel {
  /** The architecture port. */
  readonly arch: Arch;
  /** The components it was built from. */
  readonly components: KernelComponents;
  /** The kernel log. */
  readonly log: KernelLog;
  /** What boot is doing now, for a panic during boot. */
  stage: string;
  /** Set once the machine is being powered off (a panic, or the end). */
  halted: boolean;
  /** The command line's options. */
  options: KernelOptions;
  /** The boot information. */
  boot: KernelBootInfo;
  /** The firmware's view of the board. */
  platform: Platform;
  /** The console driver (guarded), once started. */
  console: SerialConsole | undefined;
  /** The PMM (guarded). */
  pmm: GuardedPmm;
  /** Frames held, by use. */
  frames: FrameAccounts;
  /** The page tables of the port's format (guarded). */
  pageTables: PageTables;
  /** The kernel's own address space (ASID 0). */
  kernelSpace: AddressSpace;
  /** The heap. */
  heap: KernelHeap;
  /** ASIDs. */
  asids: AsidAllocator;
  /** Per-CPU state, by CPU index (only the boot CPU's until SMP). */
  cpus: PerCpu[];
  /** The kernel's process: owns the idle threads and the kernel address space. */
  kernelProcess: Process;
  /** Live user processes, by pid. */
  processes: Map<number, Process>;
  /** Threads not yet reaped, by tid. */
  threads: Map<number, Thread>;
  /** Threads sleeping until a time. */
  sleepers: SleepQueue<Thread>;
  /** The next pid and tid to hand out. */
  nextPid: number;
  /** See {@link Kernel.nextPid}. */
  nextTid: number;
  /** The tick period in ns. */
  tickNs: number;
}

/**
 * The kernel's boot, called by the port's boot entry on the boot CPU with the physical
 * address of the boot-information block. Returns the kernel (for the port's trap entry and
 * for tests); the CPU has left for user mode or the idle wait, or the machine is off.
 */
export function kmain(arch: Arch, components: KernelComponents, bootInfo: number): Kernel {
  const k = {
    arch,
    components,
    log: new KernelLog(arch),
    stage: "reading the boot information",
    halted: false,
    console: undefined,
    cpus: [],
    processes: new Map(),
    threads: new Map(),
    sleepers: new SleepQueue<Thread>(),
    nextPid: 1,
    nextTid: 1,
  } as unknown as Kernel; // the rest is filled in as each part comes up
  guarded(k, () => boot(k, bootInfo));
  return k;
}

/** The trap handler the port calls: every trap, through the panic guard. */
export function trapHandler(k: Kernel): TrapHandler {
  return { trap: (trap: Trap) => guarded(k, () => handleTrap(k, trap)) };
}

function boot(k: Kernel, bootInfo: number): void {
  const { arch, log } = k;
  k.boot = parseBootInfo(arch.mem, bootInfo);
  const { options, warnings } = parseCmdline(k.boot.cmdline);
  k.options = options;
  log.consoleLevel = options.logLevel;

  k.stage = "reading the firmware's tables";
  k.platform = arch.discover(k.boot);
  const platform = k.platform;

  k.stage = "starting the console";
  const console = guardConsole(
    k.components.console(arch.consoleRegisters(platform), platform.console.clockHz),
  );
  console.init(CONSOLE_BAUD);
  k.console = console;
  log.attach((text) => {
    for (const b of new TextEncoder().encode(text)) console.putByte(b);
  });
  log.info(`kernel: booting on ${arch.name}, cpu${arch.cpuIndex()} of ${platform.cpus.length}`);
  log.info(`console: ${platform.console.name} at ${CONSOLE_BAUD} baud`);
  if (k.boot.cmdline) log.info(`command line: ${k.boot.cmdline}`);
  for (const w of warnings) log.warn(`command line: ${w}`);
  log.info(`firmware: ${platform.source}`);
  for (const n of platform.notes) log.info(`firmware: ${n}`);
  logMemoryMap(k);

  k.stage = "starting the physical memory manager";
  const usable = usableRegions(k.boot.memoryMap);
  k.pmm = guardPmm(k.components.pmm(arch.mem, k.boot.memoryMap), usable);
  k.frames = new FrameAccounts(k.pmm);
  const s = k.pmm.stats();
  log.info(`pmm: ${formatSize(s.free)} free of ${formatSize(s.total)} in ${s.runs} run(s)`);

  k.stage = "building the kernel's page tables";
  const format = arch.pageTableFormat as keyof KernelComponents["pageTables"];
  const factory = k.components.pageTables[format] ?? arch.referencePageTables;
  k.pageTables = guardPageTables(
    factory({ mem: arch.mem, pmm: k.frames.for("pageTables"), tlb: arch.tlb }),
  );
  const space = buildKernelSpace(k.pageTables, platform, k.boot);
  for (const line of space.lines) log.info(`vmm: ${line}`);
  arch.enablePaging(space.root);
  k.kernelSpace = {
    root: space.root,
    object: -1,
    regions: [],
    asid: KERNEL_ASID,
    asidGeneration: 0,
  };
  log.info(
    `vmm: paging on (${k.pageTables.format}), direct map at ${hex(HHDM_BASE)}, ` +
      `${k.frames.held.pageTables} page-table frames`,
  );

  k.stage = "reclaiming bootloader memory";
  reclaim(k);

  k.stage = "starting the kernel heap";
  const slab = guardSlab(k.components.slab(arch.mem, k.frames.for("heap")), k.pmm);
  k.heap = {
    slab,
    threads: slab.createCache("thread", THREAD_OBJECT_SIZE),
    processes: slab.createCache("process", PROCESS_OBJECT_SIZE),
    spaces: guardFixedBlock(
      k.components.fixedBlock(arch.mem, k.frames.for("heap"), ADDRESS_SPACE_OBJECT_SIZE),
      k.pmm,
    ),
  };
  const asidCount = Math.min(arch.asidCount, options.asids ?? arch.asidCount);
  k.asids = new AsidAllocator(asidCount);
  log.info(`heap: slab caches thread, process; address spaces: ${asidCount - 1} ASIDs`);

  k.stage = "setting up the boot CPU";
  k.kernelProcess = {
    pid: 0,
    name: "kernel",
    space: k.kernelSpace,
    threads: new Set(),
    object: -1,
    exitStatus: undefined,
    preemptions: 0,
  };
  const cpu = startCpu(k, arch.cpuIndex());
  arch.installTraps(trapHandler(k));
  const timer = arch.startTimer(platform, options.timer === "platform");
  k.tickNs = Math.round(1e9 / options.tickHz);
  cpu.nextTickNs = arch.nowNs() + k.tickNs;
  log.info(`timer: ${timer}, ${formatHz(platform.timerHz)}; tick ${formatHz(options.tickHz)}`);

  k.stage = "starting the boot modules";
  for (const m of k.boot.modules) {
    const spec = parseProgramSpec(m.name);
    const image = arch.mem.readBytes(m.base, m.length);
    const p = startProgram(k, spec, image, cpu.index);
    log.info(
      `proc: started process ${p.pid} (${spec.name}), ${formatSize(m.length)} image, ` +
        `${spec.schedClass} ${spec.priority}`,
    );
  }
  const m = memStats(k);
  log.info(
    `mem: ${formatSize(m.freeBytes)} free; frames: ${m.pageTableFrames} page tables, ` +
      `${m.kernelStackFrames} kernel stacks, ${m.heapFrames} heap, ${m.userFrames} user`,
  );

  k.stage = "running";
  log.info(`sched: starting with ${k.processes.size} process(es)`);
  leaveKernel(k, cpu);
}

/** The boot CPU's per-CPU state and idle thread. */
function startCpu(k: Kernel, index: number): PerCpu {
  const idle = createThread(k, k.kernelProcess, undefined, "idle", 254, index);
  const cpu: PerCpu = {
    index,
    current: idle,
    idle,
    runQueue: guardRunQueue(k.components.runQueue<Thread>()),
    needResched: true,
    nextTickNs: Infinity,
    ticks: 0,
    timerDeadline: NaN,
    zombies: [],
    trap: undefined,
    asidGeneration: k.asids.generation,
    switches: 0,
  };
  idle.state = "running";
  k.cpus[index] = cpu;
  k.arch.setKernelStack(idle.kstackTop);
  return cpu;
}

function logMemoryMap(k: Kernel): void {
  k.log.info(`memory map (${k.boot.memoryMap.length} entries):`);
  for (const r of k.boot.memoryMap) {
    const name = MEMMAP_TYPE_NAMES[r.type] ?? `type ${r.type}`;
    k.log.info(
      `  ${hex(r.base).padStart(14)}..${hex(r.base + r.length).padEnd(14)} ` +
        `${formatSize(r.length).padStart(9)}  ${name}`,
    );
  }
}

/**
 * Gives bootloader-reclaimable memory to the PMM. The kernel has copied out everything it
 * needs from there (the boot information into `k.boot`, the devicetree into `k.platform`),
 * so those frames are free memory now.
 */
function reclaim(k: Kernel): void {
  let bytes = 0;
  for (const r of k.boot.memoryMap) {
    if (r.type !== MEMMAP_BOOTLOADER_RECLAIMABLE) continue;
    const base = Math.ceil(r.base / PAGE_SIZE) * PAGE_SIZE;
    const end = Math.floor((r.base + r.length) / PAGE_SIZE) * PAGE_SIZE;
    if (end > base) {
      k.pmm.reclaim(base, (end - base) / PAGE_SIZE);
      bytes += end - base;
    }
  }
  if (bytes) k.log.info(`pmm: reclaimed ${formatSize(bytes)} of bootloader memory`);
}

// ---- panics --------------------------------------------------------------------------------

/** Runs kernel code, turning whatever it throws into a panic. */
function guarded(k: Kernel, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    panic(k, e);
  }
}

/**
 * The kernel found itself wrong: report everything that helps, then power off with a
 * failure status. If even the report cannot be written (the console is what failed), it
 * goes out through the port's most basic channel; if the machine cannot be powered off, the
 * error is rethrown for the emulator to report.
 */
export function panic(k: Kernel, error: unknown): void {
  if (k.halted) throw error; // a panic while panicking: let the machine report it
  k.halted = true;
  const report = panicReport(k, error);
  try {
    if (!k.console) throw new Error("no console yet");
    k.log.error(report);
  } catch {
    try {
      k.arch.panicWrite(report + "\n");
    } catch { /* nothing more basic exists */ }
  }
  try {
    k.arch.powerOff(true);
  } catch {
    throw error;
  }
}

/** The panic report: what, on which CPU, in which thread, handling which trap, in which state. */
export function panicReport(k: Kernel, error: unknown): string {
  const index = safe(() => k.arch.cpuIndex(), -1);
  const cpu = k.cpus?.[index];
  const lines = [`KERNEL PANIC on cpu${index}: ${describeError(error)}`];
  const cause = error instanceof KernelPanic && error.cause !== undefined ? error.cause : error;
  const fault = safe(() => k.arch.describeKernelFault(cause), undefined);
  if (fault) lines.push(`  kernel fault: ${fault}`);
  if (!cpu) {
    lines.push(`  thread: none (during boot: ${k.stage})`);
  } else {
    const t = cpu.current;
    lines.push(
      t.idle
        ? `  thread: the idle thread of cpu${index} (tid ${t.tid})`
        : `  thread: ${t.tid} of process ${t.process.pid} (${t.process.name}), ${t.schedClass} ${t.priority}`,
    );
    const trap = cpu.trap;
    lines.push(
      trap
        ? `  trap: ${trap.kind} from ${trap.from} at pc ${hex(trap.pc)}: ${trap.cause}`
        : `  trap: none (${k.stage})`,
    );
    if (!t.idle) {
      lines.push(`  user state: ${safe(() => k.arch.describeUserState(), "unreadable")}`);
    }
  }
  if (!(error instanceof KernelPanic) && error instanceof Error && error.stack) {
    const frames = error.stack.split("\n").filter((l) => l.trim().startsWith("at ")).slice(0, 4);
    for (const f of frames) lines.push(`  ${f.trim()}`);
  }
  return lines.join("\n");
}

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
