import assert from "node:assert/strict";
import { run, stopped } from "./helpers.ts";
import { RISCV_REFERENCE_COMPONENTS } from "../../arch/riscv64/boot.ts";
import { createSv48PageTables } from "../../arch/riscv64/sv48.ts";
import { CSR_SSCRATCH } from "../../emulator/riscv64/csr.ts";
import type { KernelComponents, PmmFactory, RunQueueFactory } from "../../kernel/components.ts";
import { createStackPmm } from "../../kernel/mm/pmm.ts";
import { HHDM_BASE } from "../../kernel/mm/phys.ts";
import { createRunQueue } from "../../kernel/sched/run_queue.ts";
import { createSlabAllocator } from "../../kernel/mm/slab.ts";
import { bootSystem } from "../../arch/riscv64/boot.ts";

/** A program that writes a line now and then, so traps happen. */
const CHATTY = `
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

function boot(components: Partial<KernelComponents>, cmdline = "tick_hz=10000") {
  return run({
    cmdline,
    components: { ...RISCV_REFERENCE_COMPONENTS, ...components },
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
  const lying = (deps: Parameters<typeof createSv48PageTables>[0]) => {
    const real = createSv48PageTables(deps);
    return {
      ...real,
      translate: (root: number, va: bigint) =>
        va < 1n << 47n ? ({ pa: "here" } as never) : real.translate(root, va),
    };
  };
  const r = boot({ pageTables: { sv48: lying } });
  const lines = report(r.out);
  assert.match(
    lines[0],
    /component page tables: translate\(root 0x\S+, 0x1_00\w\w\) returned \{"pa":"here"\}, which is not a Mapping/,
  );
  assert.match(lines[1], /thread: 2 of process 1 \(chatty\), normal 128/);
  assert.match(
    lines[2],
    /trap: syscall from user at pc 0x1_00\w\w: scause 0x8 \(environment call from U-mode\)/,
  );
  assert.match(lines[3], /user state: pc=0x1_00\w\w ra=0x0 sp=0x7fff_ffff_f000 .* a7=0x1 /);
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

Deno.test("panic: when the console itself fails, the report still goes out through the SBI", () => {
  const r = boot({
    console: (regs, clock) => {
      const real = RISCV_REFERENCE_COMPONENTS.console(regs, clock);
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
  const noDirectMap = (deps: Parameters<typeof createSv48PageTables>[0]) => {
    const real = createSv48PageTables(deps);
    return {
      ...real,
      map: (...a: Parameters<typeof real.map>) => {
        const va = a[2];
        if (va >= HHDM_BASE && va < HHDM_BASE + (1n << 46n)) return; // "forgets" the RAM
        real.map(...a);
      },
    };
  };
  const r = boot({ pageTables: { sv48: noDirectMap } });
  const lines = report(r.out);
  // The PMM's first access through the (missing) direct map faults; the walk says why.
  assert.match(
    lines[0],
    /KERNEL PANIC on cpu0: component pmm: free\([^)]+\) of reclaimed memory threw CpuFault: Sv48 walk for S-mode load at 0xffff_8000_8\S+: level-2 PTE at 0x\S+ = 0x0 is not valid/,
  );
  assert.match(lines[1], /kernel fault: scause 13 \(load page fault\), stval 0xffff_8000_8\S+/);
  assert.match(lines[2], /thread: none \(during boot: reclaiming bootloader memory\)/);
  assert.equal(stopped(r), "shutdown 1");
});

Deno.test("panic: sscratch gone wrong between traps is caught at the next trap", () => {
  const bytes: number[] = [];
  const sys = bootSystem({
    cmdline: "tick_hz=10000",
    programs: [{ name: "chatty", assembly: CHATTY }],
    transmit: (b) => bytes.push(b),
  });
  assert.equal(sys.machine.run(400_000).kind, "paused");
  sys.board.harts[0].csrw(CSR_SSCRATCH, 0n); // what a buggy switch would leave behind
  assert.equal(sys.machine.run(2e9).kind, "shutdown");
  const lines = report(new TextDecoder().decode(new Uint8Array(bytes)));
  assert.match(
    lines[0],
    /the trap found the kernel stack at 0x\S+, but the current thread 2 has its stack top at 0x\S+ \(sscratch/,
  );
  assert.match(lines[1], /thread: 2 of process 1 \(chatty\)/);
  assert.match(lines[2], /trap: (syscall|timer) from user at pc 0x1_00\w\w/);
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
