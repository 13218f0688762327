/**
 * The RISC-V `virt` board for the kernel's system tests (see board.ts): boot it with the
 * reference kernel (or broken components) and small RV64 programs, run it to the end, and
 * what its reports say in the hart's words (scause, stval, the Sv48 walk).
 *
 * Tests use a fast tick (`tick_hz`) and short programs, so each boots and runs in a fraction
 * of a second of wall time.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { StopReason } from "../../emulator/core/machine.ts";
import type { Trace } from "../../emulator/core/trace.ts";
import { CSR_SSCRATCH } from "../../emulator/riscv64/csr.ts";
import { SAVE_AREA_SIZE, saveX } from "../../arch/riscv64/context.ts";
import {
  bootSystem as boot,
  RISCV_REFERENCE_COMPONENTS,
  type RiscvSystem,
} from "../../arch/riscv64/boot.ts";
import { createSv48PageTables } from "../../arch/riscv64/sv48.ts";
import { HHDM_BASE } from "../../kernel/mm/phys.ts";
import type { Thread } from "../../kernel/proc/thread.ts";
import { E_NOSYS, MEMSTATS_SIZE } from "../../kernel/syscall/abi.ts";
import {
  type Run,
  type RunOptions,
  runStarted,
  type Started,
  text,
  type TlbFlushCounter,
  type UserException,
} from "./board.ts";

export { userLines } from "./board.ts";

/** The architecture. */
export const name = "riscv64";

// ---- booting and running -----------------------------------------------------------------

/** Boots the board with `options` (`cpus` harts), ready to run. */
export function start(options: RunOptions): Started<RiscvSystem> {
  const bytes: number[] = [];
  const { cpus, ...rest } = options;
  const sys = boot({ ...rest, harts: cpus, transmit: (b) => bytes.push(b) });
  return { sys, output: () => text(bytes) };
}

/** Boots, lets `prepare` change the system, runs until it stops or `untilNs`. */
export function run(
  options: RunOptions,
  untilNs = 2e9,
  prepare?: (sys: RiscvSystem) => void,
): Run<RiscvSystem> {
  return runStarted(start(options), untilNs, prepare);
}

/** Asserts-friendly summary of a stop reason: the SBI's reset reason is the exit status. */
export function stopped(r: { reason: StopReason }): string {
  const why = r.reason;
  return why.kind === "shutdown"
    ? `shutdown ${why.code}`
    : `${why.kind}: ${"message" in why ? why.message : ""}`;
}

/** SBI SRST with no reason: exit status 0. */
export const SUCCESS_CODE = 0;
/** SBI SRST with SYSTEM_FAILURE: exit status 1. */
export const FAILURE_CODE = 1;

/** The harts' states. */
export function cpuStates(sys: RiscvSystem): string[] {
  return sys.board.harts.map((h) => h.state);
}

/** Builds the board (to see what it refuses). */
export function bootSystem(options: RunOptions): void {
  const { cpus, ...rest } = options;
  boot({ ...rest, harts: cpus });
}

/** The board's own words for too little RAM. */
export const TOO_LITTLE_RAM = /virt RAM must be 4 MiB/;

/** The reference components with Sv48 page tables. */
export const REFERENCE_COMPONENTS = RISCV_REFERENCE_COMPONENTS;
/** Sv48. */
export const PAGE_TABLES = { format: "sv48", create: createSv48PageTables } as const;

// ---- addresses ---------------------------------------------------------------------------

/** The direct map's view of the kernel image (virt loads it at 0x8020_0000). */
export const KERNEL_ADDRESS = 0xffff_8000_8020_0000n;
/** UART0's registers. */
export const DEVICE_ADDRESS = 0x1000_0000;
/** `ts.resume` is the stub's third instruction: 0x10000 + 8. */
export const TS_RESUME_PC = "0x1_0008";

// ---- machine-code programs ---------------------------------------------------------------

/** Exits with the status in a0: the tail of every test program. */
export const EXIT = (status: string | number) => `
    li    a0, ${status}
    li    a7, 2
    ecall
`;

/** Writes the NUL-terminated string at `label` through debug_write (clobbers a0, a1, a7, t0, t1). */
export const PUTS = (label: string) => `
    la    a0, ${label}
    mv    t0, a0
91: lbu   t1, 0(t0)
    beqz  t1, 92f
    addi  t0, t0, 1
    j     91b
92: sub   a1, t0, a0
    li    a7, 1
    ecall
`;

/** Not an instruction. */
export const BAD_ASSEMBLY = "frobnicate a0";

/** Counts down from 300 000, then exits. */
export const SPIN_THEN_EXIT = "li t0, 300000\n1: addi t0, t0, -1\n bnez t0, 1b\n li a7, 2\n ecall";

/** Loops forever. */
export const SPIN = ".text\n1: j 1b";

/** Prints "step" three times with some work between, then "done", and exits 0. */
export const WORKER = `
    .text
    li    s1, 3
1:  li    t2, 20000
2:  addi  t2, t2, -1
    bnez  t2, 2b
    ${PUTS("step")}
    addi  s1, s1, -1
    bnez  s1, 1b
    ${PUTS("done")}
    ${EXIT(0)}
    .data
step: .asciz "step\\n"
done: .asciz "done\\n"
`;

/** Some work, then `body`, then exit 0. */
export const faulty = (body: string) => `
    .text
    li    t2, 5000
1:  addi  t2, t2, -1
    bnez  t2, 1b
${body}
    ${EXIT(0)}
`;

/** Computes for `iterations` loop turns (two instructions each). */
const work = (iterations: number) => `
    li    t2, ${iterations}
81: addi  t2, t2, -1
    bnez  t2, 81b
`;

/** Prints "step" three times with work between, kills process 1, says so, exits 0. */
export const KILLER = `
    .text
    li    s1, 3
1:  ${work(100_000)}
    ${PUTS("step")}
    addi  s1, s1, -1
    bnez  s1, 1b
    li    a0, 1                 # kill(1): the spinner
    li    a7, 10
    ecall
    bnez  a0, 2f
    ${PUTS("killed")}
2:  ${EXIT(0)}
    .data
step:   .asciz "step\\n"
killed: .asciz "killed the spinner\\n"
`;

/** Prints `start`, computes, prints `end`, exits 0. */
export const startEnd = (iterations: number) => `
    .text
    ${PUTS("start")}
    ${work(iterations)}
    ${PUTS("end")}
    ${EXIT(0)}
    .data
start: .asciz "start\\n"
end:   .asciz "end\\n"
`;

/** Prints `text` and a newline `rounds` times, each after `iterations` loop turns. */
export const repeat = (text: string, rounds: number, iterations: number) => `
    .text
    li    s1, ${rounds}
1:  ${work(iterations)}
    ${PUTS("msg")}
    addi  s1, s1, -1
    bnez  s1, 1b
    ${EXIT(0)}
    .data
msg: .asciz "${text}\\n"
`;

/** A program that writes a line now and then, so traps happen. */
export const CHATTY = `
    .text
    li    s1, 20
1:  li    t2, 20000
2:  addi  t2, t2, -1
    bnez  t2, 2b
    la    a0, msg
    li    a1, 3
    li    a7, 1
    ecall
    addi  s1, s1, -1
    bnez  s1, 1b
    li    a0, 0
    li    a7, 2
    ecall
    .data
msg: .ascii "hi\\n"
`;

/** `ecall` is the one channel: a check that fails exits with its own status n. */
export function syscallChecks(checks: readonly [number, number, string, string, number][]) {
  const check = (n: number, nr: number, a0: string, a1: string, expected: number) => `
    li    a7, ${nr}
    li    a0, ${a0}
    li    a1, ${a1}
    ecall
    li    t0, ${expected}
    li    s0, ${n}
    bne   a0, t0, fail
`;
  return `
    .text
    ${checks.map((c) => check(...c)).join("")}
    ${EXIT(0)}
fail:
    mv    a0, s0
    li    a7, 2
    ecall
    .data
msg: .ascii "ok\\n"
`;
}

/** One channel: `ecall`. */
export const SYSCALL_CHANNELS = 1;

/**
 * Sets every register but a0, a1 (the results), a7 (the call number) and sp to a known
 * value, makes an unknown system call (no switch) and a `yield` (a switch to the other
 * keeper and back), and checks each, a7 and sp too: any that changed ends the program with
 * 100 + its number, sp with 98.
 */
function registerKeeper(): string {
  const kept = Array.from({ length: 31 }, (_, i) => i + 1)
    .filter((n) => ![2, 10, 11, 17].includes(n));
  const value = (n: number) => `0x${(0x1111_0000_0000 * n + 0x77).toString(16)}`;
  return `
    .text
    ${kept.map((n) => `li x${n}, ${value(n)}`).join("\n    ")}
    li    a7, 999               # no such call: E_NOSYS, and no switch
    ecall
    li    a1, ${E_NOSYS}
    bne   a0, a1, bad_a0
    li    a7, 4                 # yield: the other keeper runs in between
    ecall
    bnez  a0, bad_a0
    li    a0, 4
    bne   a7, a0, bad_x17
    ${kept.map((n) => `li a0, ${value(n)}\n    bne x${n}, a0, bad_x${n}`).join("\n    ")}
    li    a0, 0x7ffffffff000    # and sp, the stack top it started with
    bne   sp, a0, bad_sp
    ${EXIT(0)}
bad_a0: ${EXIT(99)}
bad_sp: ${EXIT(98)}
    ${[...kept, 17].map((n) => `bad_x${n}: ${EXIT(100 + n)}`).join("\n")}
`;
}

/** Two keepers, each the other's switch. */
export const REGISTER_KEEPERS = [
  { name: "keeper-a", assembly: registerKeeper() },
  { name: "keeper-b", assembly: registerKeeper() },
];

/**
 * A thread that fills x1..x30 with values derived from `key`, then, `iterations` times,
 * increments them all and checks every one against x1 (t6 is the scratch, checked by use).
 * Any register that another thread's state (or a bad save/restore) touched ends the loop
 * with exit status 100 + the register's number.
 */
export function registerChecker(key: number, iterations: number): string {
  const base = key * 0x1_0000_0000 + 0x1000;
  const stride = key * 3; // a different spacing for each thread
  const regs = Array.from({ length: 30 }, (_, i) => i + 1);
  return `
    .text
    ${regs.map((n) => `li x${n}, ${base + n * stride}`).join("\n    ")}
loop:
    ${regs.map((n) => `addi x${n}, x${n}, 1`).join("\n    ")}
    ${
    regs.slice(1).map((n) => `addi x31, x1, ${(n - 1) * stride}\n    bne x31, x${n}, fail${n}`)
      .join("\n    ")
  }
    li    x31, ${base + stride + iterations}
    bne   x1, x31, loop
    ${EXIT(0)}
    ${regs.slice(1).map((n) => `fail${n}: li a0, ${100 + n}\n    j die`).join("\n")}
die:
    li    a7, 2
    ecall
`;
}

/** At a 10 µs tick, more than a thousand preemptions of each of two checkers. */
export const REGISTER_CHECK_ITERATIONS = 150_000;

/** A getpid at the end of each turn: its result lands in a0 (x10). */
export function clobbered(source: string): string {
  return source.replace("    li    x31,", "    li    a7, 7\n    ecall\n    li    x31,");
}

/** a0 is x10: the checker exits with 100 + 10. */
export const CLOBBERED_STATUS = 110;

/** sscratch points at the running thread's stack; the waiting one's x4, x5 are saved. */
export function checkSwitchedOut(
  sys: RiscvSystem,
  running: Thread,
  waiting: Thread,
  key: number,
): void {
  assert.equal(sys.board.harts[0].csrr(CSR_SSCRATCH), HHDM_BASE + BigInt(running.kstackTop));
  const saved = (n: number) =>
    sys.machine.bus.read(waiting.kstackTop - SAVE_AREA_SIZE + saveX(n), 8)!;
  assert.equal(saved(5) - saved(4), BigInt(key * 3), "t0 - tp: its own stride");
}

/**
 * Creates `threads` threads one after another, each of which exits at once, and compares
 * memstats before and after (every field but free_runs, which may differ in how the free
 * memory is cut up). Exits 0 when equal, 100 + the offset of the first field that differs.
 */
export const threadChurn = (threads: number) => `
    .text
    la    a0, before
    li    a1, ${MEMSTATS_SIZE}
    li    a7, 11                # memstats(before)
    ecall
    li    s1, ${threads}
1:  la    a0, child
    li    a1, 0
    mv    a2, s1
    li    a7, 9                 # thread_create(child, 0, s1)
    ecall
    bltz  a0, cannot
    li    a7, 4                 # yield: the child runs, exits, and is reaped
    ecall
    addi  s1, s1, -1
    bnez  s1, 1b
    la    a0, after
    li    a1, ${MEMSTATS_SIZE}
    li    a7, 11                # memstats(after)
    ecall
    la    t0, before
    la    t1, after
    li    t2, 0
2:  li    t3, 24                # free_runs: skipped
    beq   t2, t3, 3f
    add   t4, t0, t2
    ld    t5, 0(t4)
    add   t4, t1, t2
    ld    t6, 0(t4)
    bne   t5, t6, differ
3:  addi  t2, t2, 8
    li    t3, ${MEMSTATS_SIZE}
    bne   t2, t3, 2b
    ${EXIT(0)}
differ:
    addi  a0, t2, 100
    li    a7, 2
    ecall
cannot:
    ${EXIT(99)}
child:
    li    a7, 3                 # thread_exit()
    ecall
    .data
    .balign 8
before: .space ${MEMSTATS_SIZE}
after:  .space ${MEMSTATS_SIZE}
`;

/**
 * Stores `key` in its data page, then yields and checks it `turns` times. Odd keepers keep
 * it in the image's first page, even ones two pages further: with four keepers on two ASIDs,
 * keeper 3 gets keeper 1's ASID after a rollover, and keeper 2 in between does not evict
 * keeper 1's TLB entry (the TLB is direct-mapped by virtual page), so without the rollover's
 * flush keeper 3 would read keeper 1's key through a stale entry.
 */
export const keeper = (key: number, turns: number) => `
    .text
    li    t0, ${key}
    la    t1, value
    sd    t0, 0(t1)
    li    s1, ${turns}
1:  li    a7, 4                 # yield
    ecall
    la    t1, value
    ld    t2, 0(t1)
    li    t0, ${key}
    bne   t2, t0, bad
    addi  s1, s1, -1
    bnez  s1, 1b
    ${EXIT(0)}
bad:
    ${EXIT(1)}
    .data
    .balign 8
    .space ${key % 2 ? 0 : 8192}
value: .dword 0
`;

/** Creates sleeping threads until E_NOMEM, then exits with how many it made. */
export const GREEDY = `
    .text
    li    s1, 0
1:  la    a0, child
    li    a1, 0
    li    a2, 0
    li    a7, 9                 # thread_create(child, 0, 0), never yielding
    ecall
    bltz  a0, 2f
    addi  s1, s1, 1
    j     1b
2:  li    t0, -12               # E_NOMEM?
    bne   a0, t0, 3f
    mv    a0, s1
    li    a7, 2                 # exit(threads created): every thread dies with the process
    ecall
3:  ${EXIT(1)}
child:
    li    a0, 10000000000       # sleep(10 s): children wait until the process ends
    li    a7, 5
    ecall
    j     child
`;

// ---- the hardware's words ----------------------------------------------------------------

/** The demo's boot log on the virt board, stage by stage. */
export const DEMO_BOOT_LOG: readonly RegExp[] = [
  /cpu0 info {2}kernel: booting on riscv64, cpu0 of 1/,
  /console: ns16550a at 0x1000_0000, 256 bytes at 115200 baud/,
  /firmware: devicetree at 0x8fff_f000/,
  /firmware: 1 hart\(s\), timebase 10 MHz, Sstc present/,
  /memory map \(4 entries\):/,
  / 0x8020_0000\.\.0x8021_\w+ +\d+ KiB {2}kernel and modules/,
  / 0x8021_\w+\.\.0x8fff_f000 +253\.\d MiB {2}usable/,
  /pmm: 253\.\d MiB free of 253\.\d MiB in 1 run\(s\)/,
  /vmm: direct map: 0x8020_0000\.\.0x9000_0000 at 0xffff_8000_8020_0000: 127 × 2 MiB pages/,
  /vmm: paging on \(sv48\), direct map at 0xffff_8000_0000_0000, 262 page-table frames/,
  /pmm: reclaimed 4 KiB of bootloader memory/,
  /timer: Sstc stimecmp, 10 MHz; tick 100 Hz/,
  /proc: started process 1 \(compute-a\)/,
  /proc: started process 3 \(ts-clock\), \d+ bytes image, normal 100/,
  /sched: starting with 3 process\(es\)/,
  /all processes have exited; 264 frames still allocated \(262 page tables, 1 kernel stacks, 1 heap, 0 user\); powering off/,
];

/** Four harts and 4 GiB: the devicetree's harts, and a direct map with gigapages. */
export const FOUR_CPUS_LOG: readonly RegExp[] = [
  /direct map: 0x8020_0000\.\.0x1_8000_0000 at 0xffff_8000_8020_0000: 511 × 2 MiB pages, 3 × 1 GiB pages/,
  /firmware: 4 hart\(s\)/,
];

/** A store to the direct map's kernel image. */
export const KERNEL_WRITE = {
  body: "li t0, 0xffff800080200000\n sd zero, 0(t0)",
  report: [
    /scause 0xf \(store\/AMO page fault\), stval 0xffff_8000_8020_0000/,
    // The walk, in the hart's own words: the direct map's leaf is a supervisor page.
    /write of 0xffff_8000_8020_0000: .*U=0/,
    /registers: pc=0x1_00\w\w ra=0x0 sp=0x7fff_ffff_f000/,
  ],
};

/** Every kind of user exception, with scause's name for it. */
export const USER_EXCEPTIONS: Readonly<Record<string, UserException>> = {
  "load-unmapped": {
    body: "li t0, 0x40000000\n ld t1, 0(t0)",
    cause: /load page fault.*stval 0x4000_0000/,
    walk: /warn +read of 0x4000_0000: /,
  },
  "jump-kernel": { body: "li t0, 0xffffffff80001000\n jr t0", cause: /instruction page fault/ },
  illegal: {
    body: ".word 0",
    cause: /illegal instruction/,
    killed: /killed: illegal instruction/,
    walk: null,
  },
  breakpoint: { body: "ebreak", cause: /breakpoint/ },
  misaligned: { body: "li t0, 0x10001\n ld t1, 0(t0)", cause: /load address misaligned/ },
  "device-access": {
    body: "li t0, 0x10000000\n lb t1, 0(t0)",
    cause: /load page fault.*stval 0x1000_0000/,
  },
};

/** Sstc: the hart's own timer. */
export const DEFAULT_TIMER = /timer: Sstc stimecmp/;
/** The firmware's timer. */
export const PLATFORM_TIMER = /timer: SBI TIME extension \(set_timer\), 10 MHz; tick 10 kHz/;

/**
 * Counts `sfence.vma` with no address: `full` (every ASID, as at boot and on a rollover)
 * and `asid` (one address space's, as when its tables are freed).
 */
export function countTlbFlushes(trace: Trace): TlbFlushCounter {
  const counts = { full: 0, asid: 0 };
  trace.listen((e) => {
    if (e.data.op !== "sfence.vma" || e.data.va !== "all") return;
    if (e.data.asid === "all") counts.full++;
    else counts.asid++;
  });
  return {
    counts,
    afterRollovers(rollovers) {
      assert.equal(counts.full, 1 + rollovers, "one at boot, one per rollover");
    },
    withoutRollover() {
      assert.equal(counts.full, 1, "only the one when paging was turned on");
      assert.equal(counts.asid, 4, "one per address space destroyed, for its freed tables");
    },
    sabotaged() {
      assert.equal(counts.full, 1, "only the boot's");
    },
  };
}

/** The trap line of an `ecall` from U-mode. */
export const SYSCALL_TRAP =
  /trap: syscall from user at pc 0x1_00\w\w: scause 0x8 \(environment call from U-mode\)/;
/** CHATTY's registers at its debug_write. */
export const SYSCALL_USER_STATE = /user state: pc=0x1_00\w\w ra=0x0 sp=0x7fff_ffff_f000 .* a7=0x1 /;

/** The PMM's first access through the (missing) direct map faults; the walk says why. */
export const MISSING_DIRECT_MAP: readonly RegExp[] = [
  /KERNEL PANIC on cpu0: component pmm: free\([^)]+\) of reclaimed memory threw CpuFault: Sv48 walk for S-mode load at 0xffff_8000_8\S+: level-2 PTE at 0x\S+ = 0x0 is not valid/,
  /kernel fault: scause 13 \(load page fault\), stval 0xffff_8000_8\S+/,
];

/** sscratch = 0: what a buggy switch would leave behind. */
export function corruptKernelStackPointer(sys: RiscvSystem): void {
  sys.board.harts[0].csrw(CSR_SSCRATCH, 0n);
}
