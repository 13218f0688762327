import assert from "node:assert/strict";
import { testBoth } from "./boards.ts";
import { type Board, panicReport as report } from "./board.ts";
import type {
  KernelComponents,
  PageTablesDeps,
  PmmFactory,
  RunQueueFactory,
  Schedulable,
} from "../../kernel/components.ts";
import { createStackPmm } from "../../kernel/mm/pmm.ts";
import { HHDM_BASE } from "../../kernel/mm/phys.ts";
import { createRunQueue } from "../../kernel/sched/run_queue.ts";
import { createSlabAllocator } from "../../kernel/mm/slab.ts";

/** Boots `b` with the reference components but `components`, running CHATTY. */
function boot(b: Board, components: Partial<KernelComponents>, cmdline = "tick_hz=10000") {
  return b.run({
    cmdline,
    components: { ...b.REFERENCE_COMPONENTS, ...components },
    programs: [{ name: "chatty", assembly: b.CHATTY }],
  });
}

const pmmWith = (allocate: (real: ReturnType<typeof createStackPmm>, n?: number) => unknown) =>
  ((mem, map) => {
    const real = createStackPmm(mem, map);
    return { ...real, allocate: (n?: number) => allocate(real, n) as number | undefined };
  }) as PmmFactory;

testBoth("panic: a PMM that returns a misaligned frame is named, during boot", (b) => {
  const r = boot(b, { pmm: pmmWith((real, n) => real.allocate(n)! + 12) });
  assert.equal(b.stopped(r), "shutdown 1", "powered off with a failure status");
  const lines = report(r.out);
  assert.match(
    lines[0],
    /^KERNEL PANIC on cpu0: component pmm: allocate\(1\) returned 0x[\d_a-f]+c, which is not the address of a frame/,
  );
  assert.equal(lines[1], "  thread: none (during boot: building the kernel's page tables)");
});

testBoth("panic: a PMM that hands out a frame twice, or throws, is named", (b) => {
  let first: number | undefined;
  const twice = boot(b, { pmm: pmmWith((real, n) => (first ??= real.allocate(n))) });
  assert.match(
    report(twice.out)[0],
    /component pmm: allocate\(1\) returned 0x\S+, but the frame at 0x\S+ is already allocated/,
  );
  const throws = boot(b, {
    pmm: pmmWith(() => {
      throw new TypeError("oops");
    }),
  });
  assert.match(report(throws.out)[0], /component pmm: allocate\(1\) threw TypeError: oops/);
  assert.equal(b.stopped(throws), "shutdown 1");
});

testBoth("panic: a run queue that loses threads names the CPU, the thread and the moment", (b) => {
  const losing: RunQueueFactory = <T extends { tid: number }>() => {
    const q = createRunQueue<T & Schedulable>();
    return {
      ...q,
      next: () => undefined,
      get size() {
        return q.size;
      },
    };
  };
  const r = boot(b, { runQueue: losing as RunQueueFactory });
  const lines = report(r.out);
  assert.match(
    lines[0],
    /component run queue: next\(\) returned nothing while threads 2 are queued/,
  );
  assert.match(lines[1], /thread: the idle thread of cpu0 \(tid 1\)/);
  assert.match(lines[2], /trap: none \(running\)/);
  assert.equal(b.stopped(r), "shutdown 1");
});

testBoth(
  "panic: page tables that answer nonsense during a syscall name the thread and trap",
  (b) => {
    const lying = (deps: PageTablesDeps) => {
      const real = b.PAGE_TABLES.create(deps);
      return {
        ...real,
        translate: (root: number, va: bigint) =>
          va < 1n << 47n ? ({ pa: "here" } as never) : real.translate(root, va),
      };
    };
    const r = boot(b, { pageTables: { [b.PAGE_TABLES.format]: lying } });
    const lines = report(r.out);
    assert.match(
      lines[0],
      /component page tables: translate\(root 0x\S+, 0x1_00\w\w\) returned \{"pa":"here"\}, which is not a Mapping/,
    );
    assert.match(lines[1], /thread: 2 of process 1 \(chatty\), normal 128/);
    assert.match(lines[2], b.SYSCALL_TRAP);
    assert.match(lines[3], b.SYSCALL_USER_STATE);
    assert.equal(b.stopped(r), "shutdown 1");
  },
);

testBoth("panic: a slab that hands out an object twice is named", (b) => {
  const r = boot(b, {
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

// The panic path bypasses the console driver: the SBI's DBCN on RISC-V, COM1 polled directly
// on x86-64.
testBoth(
  "panic: when the console itself fails, the report still goes out by the panic path",
  (b) => {
    const r = boot(b, {
      console: (regs, clock) => {
        const real = b.REFERENCE_COMPONENTS.console(regs, clock);
        let n = 0;
        return {
          ...real,
          putByte: (byte) => {
            if (++n > 2000) throw new RangeError("the FIFO fell over");
            real.putByte(byte);
          },
        };
      },
    });
    const lines = report(r.out);
    assert.match(
      lines[0],
      /KERNEL PANIC on cpu0: component console: putByte\(\d+\) threw RangeError: the FIFO fell over/,
    );
    assert.equal(b.stopped(r), "shutdown 1");
  },
);

testBoth("panic: a direct map that is missing is a kernel fault with the MMU's words", (b) => {
  const noDirectMap = (deps: PageTablesDeps) => {
    const real = b.PAGE_TABLES.create(deps);
    return {
      ...real,
      map: (...a: Parameters<typeof real.map>) => {
        const va = a[2];
        if (va >= HHDM_BASE && va < HHDM_BASE + (1n << 46n)) return; // "forgets" the RAM
        real.map(...a);
      },
    };
  };
  const r = boot(b, { pageTables: { [b.PAGE_TABLES.format]: noDirectMap } });
  const lines = report(r.out);
  // The PMM's first access through the (missing) direct map faults; the walk says why.
  assert.match(lines[0], b.MISSING_DIRECT_MAP[0]);
  assert.match(lines[1], b.MISSING_DIRECT_MAP[1]);
  assert.match(lines[2], /thread: none \(during boot: reclaiming bootloader memory\)/);
  assert.equal(b.stopped(r), "shutdown 1");
});

testBoth(
  "panic: the kernel-stack pointer gone wrong between traps is caught at the next trap",
  (b) => {
    const { sys, output } = b.start({
      cmdline: "tick_hz=10000",
      programs: [{ name: "chatty", assembly: b.CHATTY }],
    });
    assert.equal(sys.machine.run(400_000).kind, "paused");
    b.corruptKernelStackPointer(sys); // what a buggy switch would leave behind
    assert.equal(sys.machine.run(2e9).kind, "shutdown");
    const lines = report(output());
    assert.match(
      lines[0],
      /the trap found the kernel stack at 0x\S+, but the current thread 2 has its stack top at 0x\S+ \(sscratch \/ TSS\.RSP0/,
    );
    assert.match(lines[1], /thread: 2 of process 1 \(chatty\)/);
    assert.match(lines[2], /trap: (syscall|timer) from user at pc 0x1_00\w\w/);
  },
);

testBoth("panic: a corrupt boot information block, before any console, still reaches it", (b) => {
  const { sys, output } = b.start({ programs: [] });
  sys.machine.bus.write(sys.board.bootInfoAddress, 8, 0x4241_4442n); // "BDAB", not "BOOTINFO"
  const reason = sys.machine.run(2e9);
  assert.equal(reason.kind === "shutdown" && reason.code, b.FAILURE_CODE);
  const lines = report(output());
  assert.match(
    lines[0],
    /KERNEL PANIC on cpu0: Error: boot information at 0x\S+: no "BOOTINFO" magic/,
  );
  assert.match(lines[1], /thread: none \(during boot: reading the boot information\)/);
});

testBoth("panic: a bad boot module is a boot panic, not a crash", (b) => {
  const r = b.run({
    cmdline: "",
    programs: [{ name: "x", assembly: "nop", schedClass: "turbo" as never }],
  });
  assert.match(report(r.out)[0], /module "x\?class=turbo": bad parameter "class=turbo"/);
  assert.match(report(r.out)[1], /thread: the idle thread/);
  assert.equal(b.stopped(r), "shutdown 1");
});
