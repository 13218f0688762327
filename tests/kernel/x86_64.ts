/**
 * The PC for the kernel's system tests (see board.ts): boot it with the reference kernel (or
 * broken components) and small x86-64 programs in NASM syntax, run it to the end, and what
 * its reports say in the CPU's words (vectors, error codes, CR2, the 4-level walk).
 *
 * The debug-exit port reports only odd statuses; {@link stopped} gives them as the RISC-V
 * board's ("shutdown 0" for a clean power-off, "shutdown 1" for a panic), so assertions read
 * the same on both boards.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { StopReason } from "../../emulator/core/machine.ts";
import type { Trace } from "../../emulator/core/trace.ts";
import { R14, R15 } from "../../emulator/x86_64/regs.ts";
import {
  bootSystem as boot,
  exitStatus,
  X86_FAILURE_STATUS,
  X86_REFERENCE_COMPONENTS,
  X86_SUCCESS_STATUS,
  type X86System,
} from "../../arch/x86_64/boot.ts";
import { SAVE_AREA_SIZE, saveOffset } from "../../arch/x86_64/context.ts";
import { createX86PageTables } from "../../arch/x86_64/paging.ts";
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
export const name = "x86_64";

// ---- booting and running -----------------------------------------------------------------

/** Boots the PC with `options`, ready to run. */
export function start(options: RunOptions): Started<X86System> {
  const bytes: number[] = [];
  const sys = boot({ ...options, transmit: (b) => bytes.push(b) });
  return { sys, output: () => text(bytes) };
}

/** Boots, lets `prepare` change the system, runs until it stops or `untilNs`. */
export function run(
  options: RunOptions,
  untilNs = 2e9,
  prepare?: (sys: X86System) => void,
): Run<X86System> {
  return runStarted(start(options), untilNs, prepare);
}

/**
 * Asserts-friendly summary of a stop reason, with the debug-exit statuses turned into the
 * RISC-V board's: "shutdown 0" for a clean power-off, "shutdown 1" for a panic.
 */
export function stopped(r: { reason: StopReason }): string {
  const why = r.reason;
  return why.kind === "shutdown"
    ? `shutdown ${exitStatus(why.code)}`
    : `${why.kind}: ${"message" in why ? why.message : ""}`;
}

/** The debug-exit status of a clean power-off (33). */
export const SUCCESS_CODE = X86_SUCCESS_STATUS;
/** The debug-exit status of a panic (3). */
export const FAILURE_CODE = X86_FAILURE_STATUS;

/** The CPUs' states. */
export function cpuStates(sys: X86System): string[] {
  return sys.board.cpus.map((c) => c.state);
}

/** Builds the PC (to see what it refuses). */
export function bootSystem(options: RunOptions): void {
  boot(options);
}

/** The board's own words for too little RAM. */
export const TOO_LITTLE_RAM = /PC RAM must be 4 MiB/;

/** The reference components with 4-level page tables. */
export const REFERENCE_COMPONENTS = X86_REFERENCE_COMPONENTS;
/** 4-level paging. */
export const PAGE_TABLES = { format: "x86_64", create: createX86PageTables } as const;

// ---- addresses ---------------------------------------------------------------------------

/** The direct map's view of the kernel image (the PC loads it at 2 MiB). */
export const KERNEL_ADDRESS = 0xffff_8000_0020_0000n;
/** The local APIC's registers. */
export const DEVICE_ADDRESS = 0xfee0_0000;
/** `ts.resume` follows the stub's `ts.start` (3 bytes) and `syscall` (2): 0x10000 + 5. */
export const TS_RESUME_PC = "0x1_0005";

// ---- machine-code programs ---------------------------------------------------------------

/** Exits with `status` (a number or a register): the tail of every test program. */
export const EXIT = (status: string | number) => `
    mov   rdi, ${status}
    mov   eax, 2
    syscall
`;

let label = 0;

/**
 * Writes the NUL-terminated string at `name` through debug_write (clobbers RAX, RDI, RSI,
 * RCX and R11). Its labels are local ones, unique per use.
 */
export const PUTS = (name: string) => {
  const n = label++;
  return `
    lea   rdi, [rel ${name}]
    mov   rsi, rdi
.puts${n}_scan:
    cmp   byte [rsi], 0
    je    .puts${n}_end
    inc   rsi
    jmp   .puts${n}_scan
.puts${n}_end:
    sub   rsi, rdi
    mov   eax, 1
    syscall
`;
};

/** Not an instruction. */
export const BAD_ASSEMBLY = "frobnicate rax";

/** Counts down from 100 000, then exits. */
export const SPIN_THEN_EXIT =
  "_start: mov ecx, 100000\n.l: dec ecx\n jnz .l\n mov eax, 2\n xor edi, edi\n syscall";

/** Loops forever. */
export const SPIN = "_start: jmp _start";

/** Prints "step" three times with some work between, then "done", and exits 0. */
export const WORKER = `
    section .text
_start:
    mov   r12, 3
.again:
    mov   ecx, 20000
.work:
    dec   ecx
    jnz   .work
    ${PUTS("step")}
    dec   r12
    jnz   .again
    ${PUTS("done")}
    ${EXIT(0)}
    section .data
step: db "step", 10, 0
done: db "done", 10, 0
`;

/** Some work, then `body`, then exit 0. */
export const faulty = (body: string) => `
    section .text
_start:
    mov   ecx, 5000
.spin:
    dec   ecx
    jnz   .spin
${body}
    ${EXIT(0)}
`;

let loops = 0;

/** Computes for `iterations` loop turns (two instructions each); uses RCX. */
const work = (iterations: number) => {
  const n = loops++;
  return `
    mov   ecx, ${iterations}
.work${n}:
    dec   ecx
    jnz   .work${n}
`;
};

/** Prints "step" three times with work between, kills process 1, says so, exits 0. */
export const KILLER = `
    section .text
_start:
    mov   r12, 3
.again:
    ${work(100_000)}
    ${PUTS("step")}
    dec   r12
    jnz   .again
    mov   edi, 1                ; kill(1): the spinner
    mov   eax, 10
    syscall
    test  rax, rax
    jnz   .out
    ${PUTS("killed")}
.out:
    ${EXIT(0)}
    section .data
step:   db "step", 10, 0
killed: db "killed the spinner", 10, 0
`;

/** Prints `start`, computes, prints `end`, exits 0. */
export const startEnd = (iterations: number) => `
    section .text
_start:
    ${PUTS("start")}
    ${work(iterations)}
    ${PUTS("end")}
    ${EXIT(0)}
    section .data
start: db "start", 10, 0
end:   db "end", 10, 0
`;

/** Prints `text` and a newline `rounds` times, each after `iterations` loop turns. */
export const repeat = (text: string, rounds: number, iterations: number) => `
    section .text
_start:
    mov   r12, ${rounds}
.again:
    ${work(iterations)}
    ${PUTS("msg")}
    dec   r12
    jnz   .again
    ${EXIT(0)}
    section .data
msg: db "${text}", 10, 0
`;

/** A program that writes a line now and then, so traps happen. */
export const CHATTY = `
    section .text
_start:
    mov   r12, 20
.again:
    mov   ecx, 20000
.work:
    dec   ecx
    jnz   .work
    lea   rdi, [rel msg]
    mov   esi, 3
    mov   eax, 1
    syscall
    dec   r12
    jnz   .again
    xor   edi, edi
    mov   eax, 2
    syscall
    section .data
msg: db "hi", 10
`;

/**
 * The checks through both channels: each that fails exits with its own status (100 + n
 * through SYSCALL, 200 + n through int 0x69); 0 means all passed.
 */
export function syscallChecks(checks: readonly [number, number, string, string, number][]) {
  const one = (base: number, insn: string) =>
    checks.map(([n, nr, a0, a1, expected]) => `
    mov   rax, ${nr}
    ${a0 === "msg" ? "lea rdi, [rel msg]" : `mov rdi, ${a0}`}
    mov   rsi, ${a1}
    ${insn}
    mov   r12, ${base + n}
    cmp   rax, ${expected}
    jne   fail
`).join("");
  return `
    section .text
_start:
    ${one(100, "syscall")}
    ${one(200, "int 0x69")}
    ${EXIT(0)}
fail:
    ${EXIT("r12")}
    section .data
msg: db "ok", 10
`;
}

/** Two channels: `syscall` and `int 0x69`. */
export const SYSCALL_CHANNELS = 2;

/**
 * Sets every register to a known value, makes an unknown system call (no switch) and a
 * `yield` (a switch to the other program and back) through `insn`, and checks each register
 * the channel must keep: any that changed ends the program with 100 + its index.
 * `clobbered` are the registers the channel may change besides RAX (the result).
 */
function registerKeeper(insn: string, clobbered: string[]): string {
  const regs = ["rbx", "rcx", "rdx", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12"]
    .concat(["r13", "r14", "r15"]);
  const value = (i: number) => `0x${(0x1111_0000_0000 * (i + 1) + 0x77).toString(16)}`;
  const kept = regs.filter((r) => !clobbered.includes(r));
  return `
    section .text
_start:
    ${regs.map((r, i) => `mov ${r}, ${value(i)}`).join("\n    ")}
    mov   rax, 999              ; no such call: E_NOSYS, and no switch
    ${insn}
    cmp   rax, ${E_NOSYS}
    jne   bad_rax
    mov   rax, 4                ; yield: the other program runs in between
    ${insn}
    test  rax, rax
    jne   bad_rax
    ${
    kept.map((r) => `mov rax, ${value(regs.indexOf(r))}\n    cmp ${r}, rax\n    jne bad_${r}`)
      .join("\n    ")
  }
    mov   rax, 0x7ffffffff000   ; and rsp, the stack top it started with
    cmp   rsp, rax
    jne   bad_rsp
    ${EXIT(0)}
bad_rax: ${EXIT(99)}
bad_rsp: ${EXIT(98)}
    ${kept.map((r, i) => `bad_${r}: ${EXIT(100 + i)}`).join("\n")}
`;
}

/**
 * int 0x69 keeps every register but RAX and RDX (the results); SYSCALL also uses RCX and
 * R11 (the return RIP and RFLAGS).
 */
export const REGISTER_KEEPERS = [
  // rdx is the second result register (0 here); rcx and r11 are SYSCALL's own.
  { name: "slow", assembly: registerKeeper("int 0x69", ["rdx"]) },
  { name: "fast", assembly: registerKeeper("syscall", ["rdx", "rcx", "r11"]) },
];

/** The fifteen general registers a checker fills (RSP is checked on its own). */
const CHECKED = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11"]
  .concat(["r12", "r13", "r14", "r15"]);

/**
 * A thread that fills the fifteen registers with values derived from `key`, sets DF when
 * `key` is odd, then, `iterations` times, increments them all and checks every one against
 * RAX, checks RSP against the stack top it started with and DF against its own. Anything
 * another thread's state (or a bad save/restore) touched ends the loop with exit status
 * 100 + the register's index in CHECKED, 98 for RSP, 99 for RFLAGS.DF. The checks use the
 * stack (push/pop) as their only scratch, so every register is live all the time.
 */
export function registerChecker(key: number, iterations: number): string {
  const base = key * 0x1_0000_0000 + 0x1000;
  const stride = key * 3; // a different spacing for each thread
  const value = (i: number) => base + i * stride;
  const df = key % 2 === 1;
  return `
    section .text
_start:
    ${df ? "std" : "cld"}
    ${CHECKED.map((r, i) => `mov ${r}, ${value(i)}`).join("\n    ")}
.loop:
    ${CHECKED.map((r) => `inc ${r}`).join("\n    ")}
    ${
    CHECKED.slice(1).map((r, i) =>
      `push rax\n    add rax, ${(i + 1) * stride}\n    cmp rax, ${r}\n    pop rax\n    jne fail${
        i + 1
      }`
    ).join("\n    ")
  }
    cmp   rsp, [rel stack_top]
    jne   bad_rsp
    pushfq
    test  qword [rsp], 0x400    ; RFLAGS.DF
    ${df ? "jz" : "jnz"}    bad_df
    add   rsp, 8
    cmp   rax, [rel last]
    jne   .loop
    ${EXIT(0)}
    ${CHECKED.slice(1).map((_, i) => `fail${i + 1}: ${EXIT(100 + i + 1)}`).join("\n")}
bad_rsp: ${EXIT(98)}
bad_df: ${EXIT(99)}
    section .data
stack_top: dq 0x7ffffffff000
last:      dq ${value(0) + iterations}
`;
}

/** At a 10 µs tick, more than a thousand preemptions of each of two checkers. */
export const REGISTER_CHECK_ITERATIONS = 110_000;

/** A syscall at the end of each turn: SYSCALL puts the return address in RCX. */
export function clobbered(source: string): string {
  return source.replace(
    "    cmp   rax, [rel last]",
    "    push rax\n    mov eax, 999\n    syscall\n    pop rax\n    cmp   rax, [rel last]",
  );
}

/** RCX is CHECKED[2]: the checker exits with 100 + 2. */
export const CLOBBERED_STATUS = 102;

/**
 * The physical address of CPU 0's TSS.RSP0, as the GDT's TSS descriptor gives it (read the
 * way the CPU reads it: GDTR, then the descriptor's base).
 */
export function rsp0Address(sys: X86System): number {
  const cpu = sys.board.cpus[0];
  const gdt = Number(cpu.sgdt().base - HHDM_BASE);
  const bus = sys.machine.bus;
  const low = bus.read(gdt + 0x28, 8)!, high = bus.read(gdt + 0x30, 8)!;
  const base = ((low >> 16n) & 0xff_ffffn) | (((low >> 56n) & 0xffn) << 24n) | (high << 32n);
  return Number(base - HHDM_BASE) + 4;
}

/** TSS.RSP0 points at the running thread's stack; the waiting one's R14, R15 are saved. */
export function checkSwitchedOut(
  sys: X86System,
  running: Thread,
  waiting: Thread,
  key: number,
): void {
  assert.equal(sys.machine.bus.read(rsp0Address(sys), 8), HHDM_BASE + BigInt(running.kstackTop));
  const saved = (reg: number) =>
    sys.machine.bus.read(waiting.kstackTop - SAVE_AREA_SIZE + saveOffset(reg), 8)!;
  assert.equal(saved(R15) - saved(R14), BigInt(key * 3), "r15 - r14: its own stride");
}

/**
 * Creates `threads` threads one after another, each of which exits at once, and compares
 * memstats before and after (every field but free_runs, which may differ in how the free
 * memory is cut up). Exits 0 when equal, 100 + the offset of the first field that differs.
 */
export const threadChurn = (threads: number) => `
    section .text
_start:
    lea   rdi, [rel before]
    mov   rsi, ${MEMSTATS_SIZE}
    mov   eax, 11               ; memstats(before)
    syscall
    mov   r12, ${threads}
.create:
    lea   rdi, [rel child]
    xor   esi, esi
    mov   rdx, r12
    mov   eax, 9                ; thread_create(child, 0, r12)
    syscall
    test  rax, rax
    js    cannot
    mov   eax, 4                ; yield: the child runs, exits, and is reaped
    syscall
    dec   r12
    jnz   .create
    lea   rdi, [rel after]
    mov   rsi, ${MEMSTATS_SIZE}
    mov   eax, 11               ; memstats(after)
    syscall
    xor   ecx, ecx
.compare:
    cmp   ecx, 24               ; free_runs: skipped
    je    .next
    lea   rax, [rel before]
    mov   rdx, [rax + rcx]
    lea   rax, [rel after]
    cmp   rdx, [rax + rcx]
    jne   differ
.next:
    add   ecx, 8
    cmp   ecx, ${MEMSTATS_SIZE}
    jne   .compare
    ${EXIT(0)}
differ:
    lea   rdi, [rcx + 100]
    mov   eax, 2
    syscall
cannot:
    ${EXIT(99)}
child:
    mov   eax, 3                ; thread_exit()
    syscall
    section .data
    align 8
before: times ${MEMSTATS_SIZE} db 0
after:  times ${MEMSTATS_SIZE} db 0
`;

/**
 * Stores `key` in its data page, then yields and checks it `turns` times. Odd keepers keep
 * it in the image's first page, even ones two pages further: with four keepers on two PCIDs,
 * keeper 3 gets keeper 1's PCID after a rollover, and keeper 2 in between does not evict
 * keeper 1's TLB entry (another page, another set), so without the rollover's flush keeper 3
 * would read keeper 1's key through a stale entry.
 */
export const keeper = (key: number, turns: number) => `
    section .text
_start:
    mov   qword [rel value], ${key}
    mov   r12, ${turns}
.again:
    mov   eax, 4                ; yield
    syscall
    cmp   qword [rel value], ${key}
    jne   .bad
    dec   r12
    jnz   .again
    ${EXIT(0)}
.bad:
    ${EXIT(1)}
    section .data
    align 8
    times ${key % 2 ? 0 : 8192} db 0
value: dq 0
`;

/** Creates sleeping threads until E_NOMEM, then exits with how many it made. */
export const GREEDY = `
    section .text
_start:
    xor   r12d, r12d
.create:
    lea   rdi, [rel child]
    xor   esi, esi
    xor   edx, edx
    mov   eax, 9                ; thread_create(child, 0, 0), never yielding
    syscall
    test  rax, rax
    js    .full
    inc   r12
    jmp   .create
.full:
    cmp   rax, -12              ; E_NOMEM?
    jne   .other
    mov   rdi, r12
    mov   eax, 2                ; exit(threads created): every thread dies with the process
    syscall
.other:
    ${EXIT(1)}
child:
    mov   rdi, 10000000000      ; sleep(10 s): children wait until the process ends
    mov   eax, 5
    syscall
    jmp   child
`;

// ---- the hardware's words ----------------------------------------------------------------

/** The demo's boot log on the PC, stage by stage. */
export const DEMO_BOOT_LOG: readonly RegExp[] = [
  /cpu0 info {2}kernel: booting on x86_64, cpu0 of 1/,
  /console: COM1 \(16550A\) at port 0x3f8 at 115200 baud/,
  /firmware: ACPI 2\.0\+ RSDP at 0x\w+ \(OEM DENOPC\)/,
  /firmware: XSDT at 0x\w+ lists APIC, HPET, MCFG/,
  /firmware: MADT: 1 CPU\(s\) \(local APIC ids 0\), local APIC at 0xfee0_0000/,
  /firmware: MADT: I\/O APIC 0 at 0xfec0_0000, GSIs from 0/,
  /firmware: MADT: ISA IRQ 0 -> GSI 2/,
  /firmware: HPET at 0xfed0_0000/,
  /memory map \(10 entries\):/,
  / 0x20_0000\.\.0x24_\w+ +\d+ KiB {2}kernel and modules/,
  / 0x\w+\.\.0x1000_0000 +253\.\d MiB {2}usable/,
  /pmm: 254\.\d MiB free of 254\.\d MiB in 3 run\(s\)/,
  /vmm: direct map: 0x10_0000\.\.0x1000_0000 at 0xffff_8000_0010_0000: 256 × 4 KiB pages, 127 × 2 MiB pages/,
  /vmm: device lapic: 0xfee0_0000 at 0xffff_c000_fee0_0000: 1 × 4 KiB page/,
  /vmm: device hpet: 0xfed0_0000 at 0xffff_c000_fed0_0000/,
  /vmm: paging on \(x86_64\), direct map at 0xffff_8000_0000_0000, 264 page-table frames/,
  /pmm: reclaimed 96 KiB of bootloader memory/,
  /heap: .* address spaces: 4095 ASIDs/,
  /timer: local APIC timer in TSC-deadline mode .* measured against the HPET .*, 143\.1\d MHz; tick 100 Hz/,
  /proc: started process 1 \(compute-a\)/,
  /proc: started process 3 \(ts-clock\), \d+ bytes image, normal 100/,
  /sched: starting with 3 process\(es\)/,
  /all processes have exited; 266 frames still allocated \(264 page tables, 1 kernel stacks, 1 heap, 0 user\); powering off/,
];

/** Four CPUs and 4 GiB: the MADT's processors, and RAM above 4 GiB in the direct map. */
export const FOUR_CPUS_LOG: readonly RegExp[] = [
  /MADT: 4 CPU\(s\) \(local APIC ids 0, 1, 2, 3\)/,
  /direct map: 0x1_0000_0000\.\.0x1_5000_0000 at 0xffff_8001_0000_0000: 1 × 1 GiB page, 128 × 2 MiB pages/,
];

/** A store to the direct map's kernel image. */
export const KERNEL_WRITE = {
  body: "mov rax, 0xffff800000200000\n mov qword [rax], 0",
  report: [
    /vector 14 \(#PF page fault\), error code 0x7 \(protection violation, write, user\), CR2 0xffff_8000_0020_0000/,
    // The walk, in the CPU's own words: the direct map's leaf is a supervisor page.
    /write of 0xffff_8000_0020_0000: .*U\/S = 0/,
    /registers: rip=0x1_00\w\w rflags=0x2\d\d rax=0xffff_8000_0020_0000 .* rsp=0x7fff_ffff_f000 /,
  ],
};

/** Every kind of user exception, with the vector (and error code) the CPU reports. */
export const USER_EXCEPTIONS: Readonly<Record<string, UserException>> = {
  "load-unmapped": {
    body: "mov rax, 0x40000000\n mov rbx, [rax]",
    cause: /#PF page fault\), error code 0x4 \(not present, read, user\), CR2 0x4000_0000/,
    // A page fault names its address, and its report walks it.
    walk: /warn +read of 0x4000_0000: /,
  },
  "jump-kernel": {
    body: "mov rax, 0xffffffff80001000\n jmp rax",
    cause: /#PF page fault\), error code 0x15 \(protection violation, instruction fetch, user\)/,
  },
  illegal: {
    body: "ud2",
    cause: /vector 6 \(#UD invalid opcode\)/,
    killed: /\(illegal\) killed: illegal instruction/,
  },
  breakpoint: { body: "int3", cause: /vector 3 \(#BP breakpoint\)/ },
  "divide-by-zero": {
    body: "xor ecx, ecx\n div rcx",
    cause: /vector 0 \(#DE divide error\)/,
    killed: /\(divide-by-zero\) killed: other/,
  },
  privileged: {
    body: "hlt",
    cause: /vector 13 \(#GP general protection\), error code 0x0/,
    killed: /\(privileged\) killed: access fault/,
    // A #GP names no faulting address, so its report has no page walk (of a made-up 0).
    walk: null,
  },
  "int-0x80": {
    body: "int 0x80",
    cause: /vector 13 \(#GP general protection\), error code 0x402/,
  },
  "port-io": {
    body: "mov dx, 0x3f8\n in al, dx",
    cause: /vector 13 \(#GP general protection\), error code 0x0/,
  },
  "non-canonical": {
    body: "mov rax, 0x8000000000000000\n mov rbx, [rax]",
    cause: /vector 13 \(#GP general protection\), error code 0x0/,
  },
  "device-access": {
    body: "mov rax, 0xfee00000\n mov ebx, [rax]",
    cause: /#PF page fault\), error code 0x4 \(not present, read, user\), CR2 0xfee0_0000/,
  },
};

/** The CPU's own timer: TSC-deadline mode. */
export const DEFAULT_TIMER = /timer: local APIC timer in TSC-deadline mode/;
/** The board's timer device: the local APIC counting its calibrated clock. */
export const PLATFORM_TIMER =
  /timer: local APIC timer in one-shot mode; .*, 143\.1\d MHz; tick 10 kHz/;

/**
 * Counts INVPCID type 2 (every entry, globals included: what a rollover does) and CR3 loads
 * that flush.
 */
export function countTlbFlushes(trace: Trace): TlbFlushCounter {
  const counts = { all: 0, cr3: 0 };
  trace.listen((e) => {
    if (e.data.op === "invpcid type 2") counts.all++;
    if (e.data.op === "mov cr3") counts.cr3++;
  });
  return {
    counts,
    afterRollovers(rollovers) {
      assert.equal(counts.all, rollovers, "one INVPCID (all) per rollover");
      assert.equal(
        counts.cr3,
        2,
        "the firmware's CR3 load and the kernel's: switches keep the TLB",
      );
    },
    withoutRollover() {
      assert.equal(counts.all, 0);
      assert.equal(counts.cr3, 2, "only the boot's");
    },
    sabotaged() {
      assert.equal(counts.all, 0);
    },
  };
}

/** The trap line of a SYSCALL. */
export const SYSCALL_TRAP =
  /trap: syscall from user at pc 0x1_00\w\w: syscall through IA32_LSTAR, rax 0x1/;
/** CHATTY's registers at its debug_write: RCX holds the return address. */
export const SYSCALL_USER_STATE =
  /user state: rip=0x1_00\w\w rflags=0x2\d\d rax=0x1 rcx=0x1_00\w\w .* rsp=0x7fff_ffff_f000 /;

/** The PMM's first access through the (missing) direct map faults; the walk says why. */
export const MISSING_DIRECT_MAP: readonly RegExp[] = [
  /KERNEL PANIC on cpu0: component pmm: free\([^)]+\) of reclaimed memory threw CpuFault: #PF page fault \(error code 0x0\): .* at 0xffff_8000_\S+: PML4E\[256\] .* PDPTE\[0\] at 0x\S+ = 0x0: PDPTE has P = 0 \(not present\)/,
  /kernel fault: vector 14 \(#PF page fault\), error code 0x0, CR2 0xffff_8000_\S+/,
];

/** What a switch that forgot to update RSP0 leaves: the idle thread's stack. */
export function corruptKernelStackPointer(sys: X86System): void {
  const idle = sys.kernel()!.cpus[0].idle.kstackTop;
  sys.machine.bus.write(rsp0Address(sys), 8, HHDM_BASE + BigInt(idle));
}
