/**
 * The CPU as the hosted kernel and the platform see it: kernel entries and how they must
 * end, time and the operation budget, faults thrown as CpuFault, privileged instructions,
 * control registers and MSRs, port I/O and the I/O permission bitmap, CPUID, the TSC,
 * INIT and SIPI, device accesses through the MMU, and determinism.
 */

import assert from "node:assert/strict";
import type { Device } from "../core/bus.ts";
import { CpuFault, KERNEL_ENTRY_COST_NS } from "../core/hosted.ts";
import type { X86Cpu } from "./cpu_api.ts";
import {
  CR0_PE,
  CR0_PG,
  CR4_LA57,
  CR4_PCIDE,
  CR4_TSD,
  EFER_LMA,
  EFER_LME,
  EXC_GP,
  EXC_PF,
  EXC_UD,
  IA32_TIME_STAMP_COUNTER,
  IA32_TSC_AUX,
  IA32_TSC_DEADLINE,
  PF_W,
  RAX,
  RBX,
  RCX,
  RDI,
  RDX,
  RFLAGS_IOPL,
  RSP,
  TSC_HZ,
} from "./regs.ts";
import { bytes, KTEXT, X86TestBench } from "./testing.ts";

const CODE = 0x40_0000;

/** Runs one kernel entry on CPU 0 of a fresh bench; returns the bench. */
function runEntry(fn: (cpu: X86Cpu) => void, limitNs = 1_000_000) {
  const t = new X86TestBench();
  t.machine.kernelText.register(KTEXT + 0x9000n, "entry_under_test", fn);
  t.cpu.hlt(KTEXT + 0x9000n);
  t.cpu.state = "running";
  const stop = t.run(limitNs);
  return { t, stop };
}

Deno.test("kernel: an entry that returns without leaving the CPU stops the machine", () => {
  const { stop } = runEntry(() => {});
  assert.equal(stop.kind, "error");
  assert.match(
    (stop as { message: string }).message,
    /kernel entry entry_under_test returned without iretq, sysretq, hlt or a jump/,
  );
});

Deno.test("kernel: a jump (setting rip) continues at another entry; time is entry cost + ops", () => {
  const t = new X86TestBench();
  const times: number[] = [];
  t.machine.kernelText.register(KTEXT + 0x9000n, "first", (cpu) => {
    times.push(cpu.nowNs());
    cpu.cli();
    cpu.cli();
    cpu.rip = KTEXT + 0x9100n;
  });
  t.machine.kernelText.register(KTEXT + 0x9100n, "second", (cpu) => {
    times.push(cpu.nowNs());
    cpu.hlt();
  });
  t.cpu.hlt(KTEXT + 0x9000n);
  t.cpu.state = "running";
  const start = t.cpu.timeNs;
  t.run(100_000);
  assert.equal(times.length, 2);
  assert.equal(times[0], start + KERNEL_ENTRY_COST_NS);
  assert.equal(times[1], times[0] + 2 + KERNEL_ENTRY_COST_NS, "two operations, then the entry");
  assert.equal(t.cpu.state, "idle");
});

Deno.test("kernel: jumping to an address with no entry names it", () => {
  const { stop } = runEntry((cpu) => (cpu.rip = 0xffff_ffff_8765_0000n));
  assert.match(
    (stop as { message: string }).message,
    /a jump from entry_under_test points at 0xffff_ffff_8765_0000, where no kernel code is registered/,
  );
});

Deno.test("kernel: an entry that never leaves is stopped as hung, deterministically", () => {
  const { stop } = runEntry((cpu) => {
    for (;;) cpu.cli();
  });
  assert.equal(stop.kind, "error");
  assert.match((stop as { message: string }).message, /kernel hang in entry_under_test/);
});

Deno.test("kernel: a panic and a kernel fault stop the machine with the entry's name", () => {
  const panic = runEntry(() => {
    throw new Error("out of frames");
  });
  assert.match(
    (panic.stop as { message: string }).message,
    /kernel panic in entry_under_test: Error: out of frames/,
  );
  const fault = runEntry((cpu) => void cpu.load(0x1234_0000n, 8));
  assert.match(
    (fault.stop as { message: string }).message,
    /kernel fault in entry_under_test: #PF page fault \(error code 0x0\): load of 8 bytes at 0x1234_0000/,
  );
});

Deno.test("kernel: load and store fault with CpuFault (code, CR2, error code) the kernel can catch", () => {
  const t = new X86TestBench();
  t.mapUser(0x50_0000, 4096, { write: false });
  let caught: CpuFault | undefined;
  try {
    t.cpu.store(0x50_0008n, 4, 1n);
  } catch (e) {
    caught = e as CpuFault;
  }
  assert.ok(caught instanceof CpuFault);
  assert.equal(caught.code, EXC_PF);
  assert.equal(caught.tval, 0x50_0008n);
  assert.equal(t.cpu.readCr(2), 0x50_0008n);
  assert.equal((caught as CpuFault & { errorCode: number }).errorCode & PF_W, PF_W);
  assert.throws(
    () => t.cpu.load(0x8000_0000_0000n, 8),
    (e) => e instanceof CpuFault && e.code === EXC_GP,
  );
  assert.equal(t.cpu.load(t.kva(t.tables.gdt + 8), 8), t.peek64(t.tables.gdt + 8));
});

Deno.test("ring 3: every privileged instruction is #GP(0)", () => {
  const t = new X86TestBench();
  const cases: [string, string][] = [
    ["hlt", "f4"],
    ["cli (IOPL 0)", "fa"],
    ["sti (IOPL 0)", "fb"],
    ["mov cr3, rax", "0f 22 d8"],
    ["mov rax, cr0", "0f 20 c0"],
    ["mov dr7, rax", "0f 23 f8"],
    ["lgdt [rax]", "0f 01 10"],
    ["lidt [rax]", "0f 01 18"],
    ["lldt ax", "0f 00 d0"],
    ["ltr ax", "0f 00 d8"],
    ["lmsw ax", "0f 01 f0"],
    ["invlpg [rax]", "0f 01 38"],
    ["wrmsr", "0f 30"],
    ["rdmsr", "0f 32"],
    ["swapgs", "0f 01 f8"],
    ["sysretq", "48 0f 07"],
    ["clts", "0f 06"],
    ["wbinvd", "0f 09"],
    ["in al, dx", "ec"],
    ["out 0x80, al", "e6 80"],
    ["insb", "6c"],
  ];
  for (const [what, hex] of cases) {
    t.code(CODE, bytes(hex));
    const trap = t.runUser(CODE);
    assert.equal(trap.vector, EXC_GP, what);
    assert.equal(trap.errorCode, 0, what);
    assert.equal(trap.rip, BigInt(CODE), what);
  }
});

Deno.test("ring 3: CLI and STI work when IOPL is 3", () => {
  const t = new X86TestBench();
  t.code(CODE, bytes("fa 9c 58 fb 9c 5b cc")); // cli; pushf; pop rax; sti; pushf; pop rbx; int3
  t.runUser(CODE, { rflags: 0x202 | RFLAGS_IOPL });
  assert.equal(t.cpu.regs[RAX] & 0x200n, 0n, "IF cleared");
  assert.equal(t.cpu.regs[RBX] & 0x200n, 0x200n, "IF set again");
});

Deno.test("ring 3: x87 and SSE are #UD and the machine says why", () => {
  const t = new X86TestBench();
  t.code(CODE, bytes("0f 28 c1")); // movaps xmm0, xmm1
  assert.equal(t.runUser(CODE).vector, EXC_UD);
  assert.match(
    t.machine.messages.at(-1)!,
    /an SSE\/MMX instruction .* is not implemented by this CPU: #UD/,
  );
});

Deno.test("control registers: the SDM's #GP(0) checks", () => {
  const t = new X86TestBench();
  const cpu = t.cpu;
  assert.throws(() => cpu.writeCr(0, cpu.readCr(0) & ~BigInt(CR0_PG)), /#GP.*leaving long mode/);
  assert.throws(
    () => cpu.writeCr(0, BigInt(CR0_PG) | BigInt(CR0_PE) | (1n << 40n)),
    /#GP.*reserved bits 63:32/,
  );
  assert.throws(() => cpu.writeCr(4, cpu.readCr(4) | BigInt(CR4_LA57)), /#GP.*5-level paging/);
  assert.throws(() => cpu.writeCr(4, 0n), /#GP.*clearing CR4.PAE in 64-bit mode/);
  cpu.writeCr(3, cpu.readCr(3) | 5n); // PCD/PWT-style low bits while PCIDE = 0
  assert.throws(() => cpu.writeCr(4, cpu.readCr(4) | BigInt(CR4_PCIDE)), /#GP.*CR3\[11:0\] = 0/);
  assert.throws(() => cpu.writeCr(3, 1n << 50n), /#GP.*MAXPHYADDR/);
  assert.throws(() => cpu.writeCr(8, 16n), /#GP.*CR8/);
  cpu.writeCr(8, 9n);
  assert.equal(cpu.readCr(8), 9n);
  assert.throws(() => cpu.readCr(5), (e) => e instanceof CpuFault && e.code === EXC_UD);
  assert.equal(Number(cpu.rdmsr(0xc000_0080)) & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);
});

Deno.test("MSRs: unknown ones are #GP(0); the platform's hook answers the rest", () => {
  const t = new X86TestBench();
  const cpu = t.cpu;
  assert.throws(() => cpu.rdmsr(0x1234), /#GP.*rdmsr 0x1234: no such MSR/);
  assert.throws(() => cpu.wrmsr(0x1234, 0n), /#GP/);
  const written: [number, bigint][] = [];
  cpu.msrHook = {
    rdmsr: (_c, msr) => (msr >= 0x800 && msr <= 0x8ff ? BigInt(msr) : undefined),
    wrmsr: (_c, msr, v) => {
      if (msr !== IA32_TSC_DEADLINE) return false;
      written.push([msr, v]);
      return true;
    },
  };
  assert.equal(cpu.rdmsr(0x802), 0x802n);
  cpu.wrmsr(IA32_TSC_DEADLINE, 1234n);
  assert.deepEqual(written, [[IA32_TSC_DEADLINE, 1234n]]);
  assert.throws(() => cpu.rdmsr(0x900), /#GP/);
  assert.throws(() => cpu.wrmsr(0x803, 1n), /#GP/);
});

Deno.test("TSC: 2.4 ticks per ns of virtual time, writable, and RDTSC/RDTSCP in ring 3", () => {
  const t = new X86TestBench();
  const cpu = t.cpu;
  assert.equal(TSC_HZ, 2_400_000_000);
  const a = cpu.rdtsc();
  cpu.timeNs += 1000;
  assert.equal(cpu.rdtsc() - a, 2400n);
  cpu.wrmsr(IA32_TIME_STAMP_COUNTER, 1_000_000n);
  assert.equal(cpu.rdtsc(), 1_000_000n);
  cpu.wrmsr(IA32_TSC_AUX, 7n);
  t.code(CODE, bytes("0f 01 f9 cc")); // rdtscp; int3
  t.runUser(CODE);
  assert.equal(cpu.regs[RCX], 7n);
  const tsc = (cpu.regs[RDX] << 32n) | cpu.regs[RAX];
  assert.ok(tsc > 1_000_000n && tsc < 1_000_000n + 2_400_000n, `tsc ${tsc}`);
  cpu.writeCr(4, cpu.readCr(4) | BigInt(CR4_TSD));
  t.code(CODE, bytes("0f 31"));
  assert.equal(t.runUser(CODE).vector, EXC_GP, "CR4.TSD makes rdtsc privileged");
});

Deno.test("CPUID: the vendor, the features this CPU implements, the TSC ratio, the brand", () => {
  const t = new X86TestBench();
  const cpu = t.cpu;
  const str = (...regs: number[]) =>
    regs.map((r) => String.fromCharCode(r & 0xff, (r >> 8) & 0xff, (r >> 16) & 0xff, r >>> 24))
      .join("");
  const [max, ebx, ecx, edx] = cpu.cpuid(0);
  assert.ok(max >= 0x16);
  assert.equal(str(ebx, edx, ecx), "GenuineIntel");
  const l1 = cpu.cpuid(1);
  for (
    const [bit, what] of [[21, "x2APIC"], [24, "TSC-deadline"], [17, "PCID"], [23, "POPCNT"], [
      13,
      "CX16",
    ]] as const
  ) {
    assert.ok(l1[2] & (1 << bit), what);
  }
  assert.equal(l1[3] & 1, 0, "no x87 FPU");
  assert.equal(l1[3] & (1 << 25), 0, "no SSE");
  assert.ok(cpu.cpuid(7)[1] & (1 << 10), "INVPCID");
  const e1 = cpu.cpuid(0x8000_0001);
  for (
    const [bit, what] of [[11, "SYSCALL"], [20, "NX"], [26, "1-GiB pages"], [
      29,
      "long mode",
    ]] as const
  ) {
    assert.ok(e1[3] & (1 << bit), what);
  }
  assert.ok(e1[2] & (1 << 5), "LZCNT");
  const [den, num, crystal] = cpu.cpuid(0x15);
  assert.equal((crystal * num) / den, TSC_HZ);
  const brand = [0x8000_0002, 0x8000_0003, 0x8000_0004].map((l) => str(...cpu.cpuid(l))).join("");
  assert.match(brand, /Course x86-64 CPU/);
  t.code(CODE, bytes("31 c0 0f a2 cc")); // xor eax, eax; cpuid; int3 (from ring 3)
  t.runUser(CODE);
  assert.equal(
    str(Number(cpu.regs[RBX]), Number(cpu.regs[RDX]), Number(cpu.regs[RCX])),
    "GenuineIntel",
  );
});

/** A port or MMIO device that records accesses with the CPU index and the time. */
class Recorder implements Device {
  readonly name = "recorder";
  log: string[] = [];
  constructor(readonly now: () => number) {}
  read(offset: number, size: number, cpu: number): bigint {
    this.log.push(`r${size}@${offset} cpu${cpu} t${this.now()}`);
    return 0x5an;
  }
  write(offset: number, size: number, value: bigint, cpu: number): boolean {
    this.log.push(`w${size}@${offset}=${value} cpu${cpu}`);
    return true;
  }
}

Deno.test("port I/O: the kernel's in/out reach devices; nothing there reads all ones", () => {
  const t = new X86TestBench();
  const dev = new Recorder(() => t.machine.now());
  t.cpu.io.map(0x3f8, 8, dev);
  t.cpu.outb(0x3f9, 0x41);
  assert.equal(t.cpu.inb(0x3f8), 0x5a);
  assert.deepEqual(dev.log.map((l) => l.replace(/ t\d+/, "")), ["w1@1=65 cpu0", "r1@0 cpu0"]);
  assert.equal(t.cpu.ind(0x1000), 0xffff_ffff);
  assert.equal(t.cpu.inw(0x1000), 0xffff);
});

Deno.test("port I/O from ring 3: the TSS bitmap or IOPL decides", () => {
  const t = new X86TestBench();
  const dev = new Recorder(() => t.machine.now());
  t.cpu.io.map(0x3f8, 8, dev);
  t.code(CODE, bytes("66 ba f8 03 b0 42 ee cc")); // mov dx, 0x3f8; mov al, 0x42; out dx, al; int3
  assert.equal(t.runUser(CODE).vector, EXC_GP, "the bench's bitmap denies every port");
  const bitmap = t.tables.tss + 0x68;
  t.machine.ram.u8[bitmap + (0x3f8 >> 3)] &= ~(1 << (0x3f8 & 7));
  assert.equal(t.runUser(CODE).vector, 3, "a clear bit allows the port");
  assert.deepEqual(dev.log, ["w1@0=66 cpu0"]);
  t.machine.ram.u8[bitmap + (0x3f8 >> 3)] = 0xff;
  assert.equal(t.runUser(CODE, { rflags: 0x202 | RFLAGS_IOPL }).vector, 3, "IOPL 3 allows all");
});

Deno.test("MMIO: user stores reach a device through the page tables, with the CPU index and time", () => {
  const t = new X86TestBench();
  const dev = new Recorder(() => t.machine.now());
  t.machine.bus.map(0xfee0_0000, 0x1000, dev);
  t.mapPhys(0x60_0000n, 0xfee0_0000, 4096, { exec: false });
  // mov dword [rdi+0xb0], 0; nop x3; mov eax, [rdi+0x20]; int3
  t.code(CODE, bytes("c7 87 b0 00 00 00 00 00 00 00 90 90 90 8b 47 20 cc"));
  t.cpu.regs[RDI] = 0x60_0000n;
  const before = t.cpu.timeNs;
  t.runUser(CODE);
  assert.equal(dev.log[0], "w4@176=0 cpu0");
  const readAt = Number(/t(\d+)/.exec(dev.log[1])![1]);
  assert.match(dev.log[1], /^r4@32 cpu0/);
  assert.ok(readAt > before, "the device saw the CPU's exact time mid-quantum");
  assert.equal(t.cpu.regs[RAX], 0x5an);
});

Deno.test("MMIO: an access where nothing answers is a machine check that says where", () => {
  const t = new X86TestBench();
  t.mapPhys(0x60_0000n, 0x8000_0000, 4096, { exec: false });
  t.code(CODE, bytes("8b 07")); // mov eax, [rdi]
  t.cpu.regs[RDI] = 0x60_0000n;
  assert.throws(() => t.runUser(CODE), /machine check: read of 4 bytes at physical 0x8000_0000/);
});

Deno.test("SMP: an AP waits for SIPI, starts at vector * 0x1000 in the documented state; INIT parks it", () => {
  const t = new X86TestBench({ cpus: 2 });
  const ap = t.cpus[1];
  assert.equal(ap.waitingForSipi, true);
  assert.equal(ap.state, "stopped");
  let state: Record<string, bigint | number> | undefined;
  t.machine.kernelText.register(0x8000n, "trampoline", (cpu) => {
    state = {
      cr0: cpu.readCr(0),
      cr4: cpu.readCr(4),
      efer: cpu.rdmsr(0xc000_0080),
      cr3: cpu.readCr(3),
      cpl: cpu.cpl,
      rflags: cpu.rflags,
      rsp: cpu.regs[RSP],
    };
    cpu.hlt();
  });
  ap.startup(8);
  assert.equal(ap.state, "running");
  t.run(10_000);
  assert.deepEqual(state, {
    cr0: 0x8001_0033n, // PG WP NE ET MP PE
    cr4: 0x20n, // PAE
    efer: 0x500n, // LME LMA
    cr3: 0n,
    cpl: 0,
    rflags: 2n,
    rsp: 0n,
  });
  ap.startup(9);
  assert.equal(ap.rip, 0x8000n, "a second SIPI to a running CPU is ignored");
  ap.init();
  assert.equal(ap.state, "stopped");
  assert.equal(ap.waitingForSipi, true);
});

Deno.test("determinism: the same program and seed give the same run, instruction for instruction", () => {
  const run = () => {
    const t = new X86TestBench({ cpus: 1, seed: 5 });
    // mov esi, 1000; 1: mov [rdi], rsi; syscall; dec esi; jnz 1b; int3
    t.mapUser(0x60_0000, 4096, { exec: false });
    t.code(CODE, bytes("be e8 03 00 00 48 89 37 0f 05 ff ce 75 f7 cc"));
    t.cpu.regs[RDI] = 0x60_0000n;
    let calls = 0;
    t.onSyscall = () => {
      calls++;
      return "resume";
    };
    const trap = t.runUser(CODE);
    return { trap: trap.vector, calls, time: t.cpu.timeNs, instret: t.cpu.instret };
  };
  const a = run();
  assert.equal(a.calls, 1000);
  assert.deepEqual(run(), a);
});
