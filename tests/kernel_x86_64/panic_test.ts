import assert from "node:assert/strict";
import { run, stopped } from "./helpers.ts";
import { bootSystem, X86_REFERENCE_COMPONENTS } from "../../arch/x86_64/boot.ts";
import { createX86PageTables } from "../../arch/x86_64/paging.ts";
import type { KernelComponents, PmmFactory, RunQueueFactory } from "../../kernel/components.ts";
import { createStackPmm } from "../../kernel/mm/pmm.ts";
import { HHDM_BASE } from "../../kernel/mm/phys.ts";
import { createRunQueue } from "../../kernel/sched/run_queue.ts";
import { createSlabAllocator } from "../../kernel/mm/slab.ts";

/** A program that writes a line now and then, so traps happen. */
const CHATTY = `
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

function boot(components: Partial<KernelComponents>, cmdline = "tick_hz=10000") {
  return run({
    cmdline,
    components: { ...X86_REFERENCE_COMPONENTS, ...components },
    programs: [{ name: "chatty", assembly: CHATTY }],
  });
}

/** The panic report's lines. */
function report(out: string): string[] {
  const at = out.indexOf("KERNEL PANIC");
  assert.ok(at >= 0, `a panic report:\n${out}`);
  return out.slice(at).split("\n").map((l) => l.replace(/^\[ *[\d.]+\] cpu\d+ error /, ""));
}

const pmmWith = (allocate: (real: ReturnType<typeof createStackPmm>, n?: number) => unknown) =>
  ((mem, map) => {
    const real = createStackPmm(mem, map);
    return { ...real, allocate: (n?: number) => allocate(real, n) as number | undefined };
  }) as PmmFactory;

Deno.test("panic: a PMM that returns a misaligned frame is named, during boot", () => {
  const r = boot({ pmm: pmmWith((real, n) => real.allocate(n)! + 12) });
  assert.equal(stopped(r), "shutdown 1", "powered off with a failure status");
  const lines = report(r.out);
  assert.match(
    lines[0],
    /^KERNEL PANIC on cpu0: component pmm: allocate\(1\) returned 0x[\d_a-f]+c, which is not the address of a frame/,
  );
  assert.equal(lines[1], "  thread: none (during boot: building the kernel's page tables)");
});

Deno.test("panic: a PMM that hands out a frame twice, or throws, is named", () => {
  let first: number | undefined;
  const twice = boot({ pmm: pmmWith((real, n) => (first ??= real.allocate(n))) });
  assert.match(
    report(twice.out)[0],
    /component pmm: allocate\(1\) returned 0x\S+, but the frame at 0x\S+ is already allocated/,
  );
  const throws = boot({
    pmm: pmmWith(() => {
      throw new TypeError("oops");
    }),
  });
  assert.match(report(throws.out)[0], /component pmm: allocate\(1\) threw TypeError: oops/);
  assert.equal(stopped(throws), "shutdown 1");
});

Deno.test("panic: a run queue that loses threads names the CPU, the thread and the moment", () => {
  const losing: RunQueueFactory = <T extends { tid: number }>() => {
    const q = createRunQueue<T & import("../../kernel/components.ts").Schedulable>();
    return {
      ...q,
      next: () => undefined,
      get size() {
        return q.size;
      },
    };
  };
  const r = boot({ runQueue: losing as RunQueueFactory });
  const lines = report(r.out);
  assert.match(
    lines[0],
    /component run queue: next\(\) returned nothing while threads 2 are queued/,
  );
  assert.match(lines[1], /thread: the idle thread of cpu0 \(tid 1\)/);
  assert.match(lines[2], /trap: none \(running\)/);
  assert.equal(stopped(r), "shutdown 1");
});

Deno.test("panic: page tables that answer nonsense during a syscall name the thread and trap", () => {
  const lying = (deps: Parameters<typeof createX86PageTables>[0]) => {
    const real = createX86PageTables(deps);
    return {
      ...real,
      translate: (root: number, va: bigint) =>
        va < 1n << 47n ? ({ pa: "here" } as never) : real.translate(root, va),
    };
  };
  const r = boot({ pageTables: { x86_64: lying } });
  const lines = report(r.out);
  assert.match(
    lines[0],
    /component page tables: translate\(root 0x\S+, 0x1_00\w\w\) returned \{"pa":"here"\}, which is not a Mapping/,
  );
  assert.match(lines[1], /thread: 2 of process 1 \(chatty\), normal 128/);
  assert.match(
    lines[2],
    /trap: syscall from user at pc 0x1_00\w\w: syscall through IA32_LSTAR, rax 0x1/,
  );
  assert.match(
    lines[3],
    /user state: rip=0x1_00\w\w rflags=0x2\d\d rax=0x1 rcx=0x1_00\w\w .* rsp=0x7fff_ffff_f000 /,
  );
  assert.equal(stopped(r), "shutdown 1");
});

Deno.test("panic: a slab that hands out an object twice is named", () => {
  const r = boot({
    slab: (mem, pmm) => {
      const real = createSlabAllocator(mem, pmm);
      return {
        ...real,
        createCache(name, size) {
          const c = real.createCache(name, size);
          let last: number | undefined;
          return { ...c, allocate: () => (last ??= c.allocate()) };
        },
      };
    },
  });
  assert.match(
    report(r.out)[0],
    /component slab cache "thread": allocate\(\) returned 0x\S+ twice/,
  );
});

Deno.test("panic: when the console itself fails, the report still goes out by polling COM1", () => {
  const r = boot({
    console: (regs, clock) => {
      const real = X86_REFERENCE_COMPONENTS.console(regs, clock);
      let n = 0;
      return {
        ...real,
        putByte: (b) => {
          if (++n > 2000) throw new RangeError("the FIFO fell over");
          real.putByte(b);
        },
      };
    },
  });
  const lines = report(r.out);
  assert.match(
    lines[0],
    /KERNEL PANIC on cpu0: component console: putByte\(\d+\) threw RangeError: the FIFO fell over/,
  );
  assert.equal(stopped(r), "shutdown 1");
});

Deno.test("panic: a direct map that is missing is a kernel fault with the MMU's words", () => {
  const noDirectMap = (deps: Parameters<typeof createX86PageTables>[0]) => {
    const real = createX86PageTables(deps);
    return {
      ...real,
      map: (...a: Parameters<typeof real.map>) => {
        const va = a[2];
        if (va >= HHDM_BASE && va < HHDM_BASE + (1n << 46n)) return; // "forgets" the RAM
        real.map(...a);
      },
    };
  };
  const r = boot({ pageTables: { x86_64: noDirectMap } });
  const lines = report(r.out);
  // The PMM's first access through the (missing) direct map faults; the walk says why.
  assert.match(
    lines[0],
    /KERNEL PANIC on cpu0: component pmm: free\([^)]+\) of reclaimed memory threw CpuFault: #PF page fault \(error code 0x0\): .* at 0xffff_8000_\S+: PML4E\[256\] .* PDPTE\[0\] at 0x\S+ = 0x0: PDPTE has P = 0 \(not present\)/,
  );
  assert.match(
    lines[1],
    /kernel fault: vector 14 \(#PF page fault\), error code 0x0, CR2 0xffff_8000_\S+/,
  );
  assert.match(lines[2], /thread: none \(during boot: reclaiming bootloader memory\)/);
  assert.equal(stopped(r), "shutdown 1");
});

/**
 * Boots `program` (CHATTY), runs 400 µs, lets `corrupt` change the machine, runs on; returns
 * the output.
 */
function corruptedRun(corrupt: (sys: ReturnType<typeof bootSystem>) => void, program = CHATTY) {
  const bytes: number[] = [];
  const sys = bootSystem({
    cmdline: "tick_hz=10000",
    programs: [{ name: "chatty", assembly: program }],
    transmit: (b) => bytes.push(b),
  });
  assert.equal(sys.machine.run(400_000).kind, "paused");
  corrupt(sys);
  const reason = sys.machine.run(2e9);
  return { reason, sys, out: new TextDecoder().decode(new Uint8Array(bytes)) };
}

/** The physical address of CPU 0's TSS.RSP0, as the GDT's TSS descriptor gives it. */
function rsp0Address(sys: ReturnType<typeof bootSystem>): number {
  const cpu = sys.board.cpus[0];
  const gdt = Number(cpu.sgdt().base - HHDM_BASE);
  const bus = sys.machine.bus;
  const low = bus.read(gdt + 0x28, 8)!, high = bus.read(gdt + 0x30, 8)!;
  const base = ((low >> 16n) & 0xff_ffffn) | (((low >> 56n) & 0xffn) << 24n) | (high << 32n);
  return Number(base - HHDM_BASE) + 4;
}

Deno.test("panic: TSS.RSP0 gone wrong between traps is caught at the next trap", () => {
  const { reason, out } = corruptedRun((sys) => {
    // What a switch that forgot to update RSP0 leaves: the idle thread's stack.
    const idle = sys.kernel()!.cpus[0].idle.kstackTop;
    sys.machine.bus.write(rsp0Address(sys), 8, HHDM_BASE + BigInt(idle));
  });
  assert.equal(reason.kind, "shutdown");
  const lines = report(out);
  assert.match(
    lines[0],
    /the trap found the kernel stack at 0x\S+, but the current thread 2 has its stack top at 0x\S+ \(sscratch \/ TSS\.RSP0/,
  );
  assert.match(lines[1], /thread: 2 of process 1 \(chatty\)/);
  assert.match(lines[2], /trap: (syscall|timer) from user at pc 0x1_00\w\w/);
});

Deno.test("panic: an RSP0 that points nowhere is a double fault on its IST stack, then a panic", () => {
  const { reason, out, sys } = corruptedRun((sys) => {
    sys.machine.bus.write(rsp0Address(sys), 8, 0xffff_8000_4000_0000n); // past the end of RAM
  }, "_start: jmp _start"); // no system calls: the next trap is the timer's interrupt
  assert.equal(reason.kind === "shutdown" && reason.code, 3, out);
  const lines = report(out);
  // The kernel's first check (TSS.RSP0 against the current thread) names the bad stack; the
  // trap line says how it was found: a #DF on the known-good IST1 stack.
  assert.match(
    lines[0],
    /the trap found the kernel stack at 0x4000_0000, but the current thread 2/,
  );
  assert.match(
    lines[2],
    /trap: other from kernel at pc 0x1_00\w\w: vector 8 \(#DF double fault\), error code 0x0/,
  );
  assert.match(sys.machine.messages.join("\n"), /double fault: #PF page fault.* while delivering/);
});

Deno.test("panic: a corrupt ACPI table is a boot panic that names it", () => {
  const bytes: number[] = [];
  const sys = bootSystem({ programs: [], transmit: (b) => bytes.push(b) });
  const madt = sys.board.acpi.tables.APIC;
  sys.machine.bus.write(madt + 40, 1, 0x55n); // a MADT byte changes: its checksum no longer holds
  const reason = sys.machine.run(2e9);
  assert.equal(reason.kind === "shutdown" && reason.code, 3);
  const lines = report(new TextDecoder().decode(new Uint8Array(bytes)));
  assert.match(
    lines[0],
    /KERNEL PANIC on cpu0: Error: ACPI: the APIC at 0x\S+ has a wrong checksum/,
  );
  assert.match(lines[1], /thread: none \(during boot: reading the firmware's tables\)/);
});

Deno.test("panic: a corrupt boot information block, before any console, still reaches COM1", () => {
  const bytes: number[] = [];
  const sys = bootSystem({ programs: [], transmit: (b) => bytes.push(b) });
  sys.machine.bus.write(sys.board.bootInfoAddress, 8, 0x4241_4442n); // "BDAB", not "BOOTINFO"
  const reason = sys.machine.run(2e9);
  assert.equal(reason.kind === "shutdown" && reason.code, 3);
  const lines = report(new TextDecoder().decode(new Uint8Array(bytes)));
  assert.match(
    lines[0],
    /KERNEL PANIC on cpu0: Error: boot information at 0x\S+: no "BOOTINFO" magic/,
  );
  assert.match(lines[1], /thread: none \(during boot: reading the boot information\)/);
});

Deno.test("panic: a bad boot module is a boot panic, not a crash", () => {
  const r = run({
    cmdline: "",
    programs: [{ name: "x", assembly: "nop", schedClass: "turbo" as never }],
  });
  assert.match(report(r.out)[0], /module "x\?class=turbo": bad parameter "class=turbo"/);
  assert.match(report(r.out)[1], /thread: the idle thread/);
  assert.equal(stopped(r), "shutdown 1");
});
