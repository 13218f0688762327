/**
 * The PC booted with the real CPU and a tiny hosted kernel: what a kernel's first lessons
 * do on this board, done the way a kernel must do them (through the MMU, its own page
 * tables, the IDT and the devices' registers), checked against the board's truth.
 */

import assert from "node:assert/strict";
import { BOOTINFO_MAGIC, MEMMAP_USABLE } from "../core/bootinfo.ts";
import { X86Processor } from "./cpu.ts";
import type { X86Cpu } from "./cpu_api.ts";
import { HHDM_OFFSET } from "./firmware.ts";
import {
  createPc,
  LAPIC_TIMER_HZ,
  PC_COM1_PORT,
  PC_DEBUG_EXIT_PORT,
  type PcBoard,
  type PcOptions,
} from "./pc.ts";
import {
  GATE_INTERRUPT64,
  IA32_APIC_BASE,
  IA32_EFER,
  IA32_TSC_DEADLINE,
  PTE_P,
  PTE_PCD,
  PTE_PWT,
  PTE_W,
  RDI,
  RSP,
} from "./regs.ts";

const KERNEL = 0xffff_ffff_8000_0000n;
const ENTRY = KERNEL;
const IDLE = KERNEL + 0x1000n;
const AP_ENTRY_PAGE = 8; // SIPI vector 8: the AP starts at 0x8000
const HANDLERS = KERNEL + 0x10_0000n; // handler for vector v at HANDLERS + 16 v
/** Where the kernel maps device registers: its own window, not the direct map. */
const MMIO_VA = 0xffff_ff00_0000_0000n;

/** The tiny kernel's state on one board: a page allocator, MMIO mappings, an IDT. */
class TinyKernel {
  readonly log: string[] = [];
  #next = 0;
  #idt = 0;

  constructor(readonly pc: PcBoard) {}

  /** Reads the boot information the way a kernel does: through the direct map from RDI. */
  boot(cpu: X86Cpu): { rsdp: number; usable: number } {
    const info = HHDM_OFFSET + BigInt.asUintN(64, cpu.regs[RDI]);
    assert.equal(cpu.load(info, 8), BOOTINFO_MAGIC);
    assert.equal(cpu.load(info + 16n, 8), HHDM_OFFSET, "hhdm_offset");
    const memmap = HHDM_OFFSET + cpu.load(info + 48n, 8);
    const count = Number(cpu.load(info + 56n, 4));
    let usable = 0;
    for (let i = 0; i < count; i++) {
      const e = memmap + BigInt(24 * i);
      const base = Number(cpu.load(e, 8)), length = Number(cpu.load(e + 8n, 8));
      if (
        Number(cpu.load(e + 16n, 4)) === MEMMAP_USABLE && base >= 0x10_0000 && length >= 2 ** 20
      ) {
        usable = base;
        break;
      }
    }
    this.#next = usable;
    return { rsdp: Number(cpu.load(info + 24n, 8)), usable };
  }

  /** A zeroed physical page from usable memory. */
  page(cpu: X86Cpu): number {
    const pa = this.#next;
    this.#next += 4096;
    for (let o = 0; o < 4096; o += 8) cpu.store(HHDM_OFFSET + BigInt(pa + o), 8, 0n);
    return pa;
  }

  /** Maps the 4 KiB page at `pa` at `va` in the current tables, walking them via the HHDM. */
  map(cpu: X86Cpu, va: bigint, pa: number, flags: number): void {
    let table = cpu.readCr(3) & ~0xfffn;
    for (let level = 4; level > 1; level--) {
      const e = HHDM_OFFSET + table + ((va >> BigInt(12 + 9 * (level - 1))) & 511n) * 8n;
      let pte = cpu.load(e, 8);
      if (!(pte & 1n)) {
        pte = BigInt(this.page(cpu)) | BigInt(PTE_P | PTE_W);
        cpu.store(e, 8, pte);
      }
      table = pte & 0x000f_ffff_ffff_f000n;
    }
    cpu.store(
      HHDM_OFFSET + table + ((va >> 12n) & 511n) * 8n,
      8,
      BigInt(pa) | BigInt(flags | PTE_P),
    );
  }

  /** Maps a device's registers uncached in the kernel's MMIO window. */
  mapMmio(cpu: X86Cpu, pa: number): bigint {
    const va = MMIO_VA + BigInt(pa);
    this.map(cpu, va, pa, PTE_W | PTE_PCD | PTE_PWT);
    return va;
  }

  /** An IDT with gates for `vectors`, each pointing at HANDLERS + 16 v (ring 0, CS 0x28). */
  loadIdt(cpu: X86Cpu, vectors: number[]): void {
    if (!this.#idt) this.#idt = this.page(cpu);
    const idt = HHDM_OFFSET + BigInt(this.#idt);
    for (const v of vectors) {
      const target = HANDLERS + BigInt(16 * v);
      const low = (target & 0xffffn) | (0x28n << 16n) | (BigInt(0x80 | GATE_INTERRUPT64) << 40n) |
        (((target >> 16n) & 0xffffn) << 48n);
      cpu.store(idt + BigInt(16 * v), 8, low);
      cpu.store(idt + BigInt(16 * v + 8), 8, target >> 32n);
    }
    cpu.lidt(idt, 4095);
  }

  /** Registers `fn` as the handler of vector `v`. */
  handler(v: number, fn: (cpu: X86Cpu) => void): void {
    this.pc.machine.kernelText.register(HANDLERS + BigInt(16 * v), `vector_${v}`, fn);
  }
}

/** Builds a PC with the real CPU and the tiny kernel's idle loop registered. */
function boot(options: Partial<PcOptions> = {}) {
  const pc = createPc({
    kernel: { entry: ENTRY, size: 0x20_0000 },
    cpu: (machine, index, io) => new X86Processor(machine, { index, io }),
    ...options,
  });
  const k = new TinyKernel(pc);
  pc.machine.kernelText.register(IDLE, "idle", (cpu) => cpu.hlt());
  return { pc, k, text: pc.machine.kernelText };
}

/** Reads and writes 32-bit device registers through a mapping. */
const reg = (cpu: X86Cpu, base: bigint) => ({
  r: (off: number) => Number(cpu.load(base + BigInt(off), 4)),
  w: (off: number, v: number) => cpu.store(base + BigInt(off), 4, BigInt(v >>> 0)),
  r64: (off: number) => cpu.load(base + BigInt(off), 8),
  w64: (off: number, v: bigint) => cpu.store(base + BigInt(off), 8, v),
});

/** Finds a table by signature from the RSDP, as a kernel does: XSDT entries through the HHDM. */
function findTable(cpu: X86Cpu, rsdp: number, signature: string): bigint {
  const phys = (pa: bigint | number) => HHDM_OFFSET + BigInt(pa);
  const sig = (va: bigint, n: number) =>
    String.fromCharCode(
      ...Array.from({ length: n }, (_, i) => Number(cpu.load(va + BigInt(i), 1))),
    );
  assert.equal(sig(phys(rsdp), 8), "RSD PTR ");
  const xsdt = phys(cpu.load(phys(rsdp) + 24n, 8));
  assert.equal(sig(xsdt, 4), "XSDT");
  const length = Number(cpu.load(xsdt + 4n, 4));
  for (let off = 36; off < length; off += 8) {
    const table = phys(cpu.load(xsdt + BigInt(off), 8));
    if (sig(table, 4) === signature) return table;
  }
  throw new Error(`no ${signature}`);
}

Deno.test("boot: the kernel reads the boot information, the MADT and the HPET table", () => {
  const { pc, k, text } = boot({ cpus: 2, cmdline: "hello" });
  const found: Record<string, unknown> = {};
  text.register(ENTRY, "kmain", (cpu) => {
    const { rsdp } = k.boot(cpu);
    const madt = findTable(cpu, rsdp, "APIC");
    found.lapic = Number(cpu.load(madt + 36n, 4));
    const ids: number[] = [];
    let ioapic = 0;
    for (let off = 44n; off < cpu.load(madt + 4n, 4);) {
      const type = Number(cpu.load(madt + off, 1)), len = cpu.load(madt + off + 1n, 1);
      if (type === 0) ids.push(Number(cpu.load(madt + off + 3n, 1)));
      if (type === 1) ioapic = Number(cpu.load(madt + off + 4n, 4));
      off += len;
    }
    found.ids = ids;
    found.ioapic = ioapic;
    const hpet = findTable(cpu, rsdp, "HPET");
    found.hpet = Number(cpu.load(hpet + 44n, 8));
    found.cs = cpu.selector("cs");
    found.if = Number(cpu.rflags >> 9n) & 1;
    found.cr0 = cpu.readCr(0).toString(16);
    found.cr4 = cpu.readCr(4).toString(16);
    found.efer = cpu.rdmsr(IA32_EFER).toString(16);
    found.rsp = BigInt.asUintN(64, cpu.regs[RSP]) >= HHDM_OFFSET;
    found.returnAddress = cpu.load(BigInt.asUintN(64, cpu.regs[RSP]), 8);
    cpu.outb(PC_DEBUG_EXIT_PORT, 0);
  });
  const stop = pc.machine.run();
  assert.equal(stop.kind, "shutdown", pc.machine.messages.join("\n"));
  assert.deepEqual(found, {
    lapic: 0xfee0_0000,
    ids: [0, 1],
    ioapic: 0xfec0_0000,
    hpet: 0xfed0_0000,
    cs: 0x28,
    if: 0,
    cr0: "80010033", // PG, WP, NE, ET, MP, PE
    cr4: "20", // PAE
    efer: "d00", // NXE, LMA, LME
    rsp: true, // a stack in the direct map
    returnAddress: 0n,
  });
});

Deno.test("boot: the debug-exit port powers off with status (v << 1) | 1", () => {
  const { pc, text } = boot();
  text.register(ENTRY, "kmain", (cpu) => cpu.outd(PC_DEBUG_EXIT_PORT, 0x2a));
  assert.deepEqual(pc.machine.run().kind, "shutdown");
  assert.equal((pc.machine.stopReason as { code: number }).code, 85);
});

Deno.test("boot: the LAPIC timer, calibrated against the HPET, runs at the board's rate", () => {
  const { pc, k, text } = boot();
  let measured = 0;
  text.register(ENTRY, "kmain", (cpu) => {
    k.boot(cpu);
    const lapic = reg(cpu, k.mapMmio(cpu, 0xfee0_0000));
    const hpet = reg(cpu, k.mapMmio(cpu, 0xfed0_0000));
    const periodFs = Number(hpet.r64(0) >> 32n);
    hpet.w64(0x10, 1n); // ENABLE_CNF
    lapic.w(0xf0, 0x1ff); // software-enable the APIC
    lapic.w(0x3e0, 0x3); // divide by 16
    lapic.w(0x320, 0x1_0000); // one-shot, masked
    // Count LAPIC ticks over 100 us of HPET time, polling the main counter as anos does.
    const window = (100e-6 * 1e15) / periodFs;
    const start = hpet.r64(0xf0);
    lapic.w(0x380, 0xffff_ffff);
    let now = start;
    while (now - start < BigInt(window)) now = hpet.r64(0xf0);
    const counted = 0xffff_ffff - lapic.r(0x390);
    const seconds = (Number(now - start) * periodFs) / 1e15;
    measured = (counted * 16) / seconds;
    cpu.outb(PC_DEBUG_EXIT_PORT, 0);
  });
  assert.equal(pc.machine.run().kind, "shutdown", pc.machine.messages.join("\n"));
  assert.ok(
    Math.abs(measured - LAPIC_TIMER_HZ) / LAPIC_TIMER_HZ < 0.01,
    `measured ${measured} Hz, the board's is ${LAPIC_TIMER_HZ}`,
  );
});

Deno.test("boot: a LAPIC timer interrupt reaches the IDT gate in each mode", async (t) => {
  /** Boots a kernel that arms the timer with `arm`, then counts interrupts on vector 0x40. */
  const run = (arm: (cpu: X86Cpu, lapic: ReturnType<typeof reg>) => void, wanted: number) => {
    const { pc, k, text } = boot();
    const times: number[] = [];
    let armedAt = 0;
    let lapic: ReturnType<typeof reg>;
    text.register(ENTRY, "kmain", (cpu) => {
      k.boot(cpu);
      lapic = reg(cpu, k.mapMmio(cpu, 0xfee0_0000));
      k.loadIdt(cpu, [0x40]);
      lapic.w(0xf0, 0x1ff);
      arm(cpu, lapic);
      armedAt = cpu.nowNs();
      cpu.sti();
      cpu.hlt(IDLE);
    });
    k.handler(0x40, (cpu) => {
      times.push(cpu.nowNs() - armedAt);
      lapic.w(0xb0, 0); // EOI
      if (times.length === wanted) cpu.outb(PC_DEBUG_EXIT_PORT, 0);
      else cpu.iretq();
    });
    const stop = pc.machine.run(1e9);
    assert.equal(stop.kind, "shutdown", `${JSON.stringify(stop)} ${pc.machine.messages}`);
    return times;
  };
  await t.step("one-shot", () => {
    const times = run((_cpu, lapic) => {
      lapic.w(0x3e0, 0xb); // divide by 1
      lapic.w(0x320, 0x40); // one-shot, vector 0x40
      lapic.w(0x380, 14_318); // about 100 us
    }, 1);
    // 14318 ticks at 143.18 MHz is 99.999 us; the interrupt entry adds a few ns.
    assert.ok(times[0] > 99_990 && times[0] < 100_100, `${times[0]} ns after arming`);
  });
  await t.step("periodic", () => {
    const times = run((_cpu, lapic) => {
      lapic.w(0x3e0, 0xb);
      lapic.w(0x320, 0x40 | (1 << 17));
      lapic.w(0x380, 1432); // about 10 us
    }, 3);
    const gaps = [times[1] - times[0], times[2] - times[1]];
    assert.ok(gaps.every((g) => Math.abs(g - 10_001) < 200), `gaps ${gaps}`);
  });
  await t.step("TSC-deadline", () => {
    const times = run((cpu) => {
      lapicWriteTimerMode(cpu);
      cpu.wrmsr(IA32_TSC_DEADLINE, cpu.rdtsc() + 120_000n); // 50 us at 2.4 GHz
    }, 1);
    assert.ok(times[0] > 49_990 && times[0] < 50_100, `${times[0]} ns after arming`);
  });
});

/** Switches the LAPIC timer to TSC-deadline mode, vector 0x40, through x2APIC MSRs. */
function lapicWriteTimerMode(cpu: X86Cpu): void {
  const base = cpu.rdmsr(IA32_APIC_BASE);
  cpu.wrmsr(IA32_APIC_BASE, base | (1n << 10n)); // EXTD: x2APIC mode
  assert.equal(cpu.rdmsr(0x802), 0n, "x2APIC ID");
  cpu.wrmsr(0x832, BigInt(0x40 | (2 << 17))); // LVT timer
}

Deno.test("boot: COM1's receive interrupt arrives through the I/O APIC at its vector", () => {
  const { pc, k, text } = boot();
  const got: string[] = [];
  let lapic: ReturnType<typeof reg>;
  text.register(ENTRY, "kmain", (cpu) => {
    k.boot(cpu);
    lapic = reg(cpu, k.mapMmio(cpu, 0xfee0_0000));
    const ioapic = reg(cpu, k.mapMmio(cpu, 0xfec0_0000));
    k.loadIdt(cpu, [0x24]);
    lapic.w(0xf0, 0x1ff);
    ioapic.w(0x00, 0x10 + 2 * 4 + 1); // GSI 4: destination APIC 0
    ioapic.w(0x10, 0);
    ioapic.w(0x00, 0x10 + 2 * 4); // vector 0x24, fixed, edge, active high, unmasked
    ioapic.w(0x10, 0x24);
    cpu.outb(PC_COM1_PORT + 1, 0x01); // IER: received data available
    cpu.sti();
    cpu.hlt(IDLE);
  });
  k.handler(0x24, (cpu) => {
    while (cpu.inb(PC_COM1_PORT + 5) & 1) got.push(String.fromCharCode(cpu.inb(PC_COM1_PORT)));
    lapic.w(0xb0, 0);
    if (got.length >= 2) cpu.outb(PC_DEBUG_EXIT_PORT, 0);
    else cpu.iretq();
  });
  pc.machine.events.schedule(50_000, () => pc.uart.receive("h"));
  pc.machine.events.schedule(90_000, () => pc.uart.receive("i"));
  assert.equal(pc.machine.run(1e9).kind, "shutdown", pc.machine.messages.join("\n"));
  assert.deepEqual(got, ["h", "i"]);
});

Deno.test("boot: INIT-SIPI-SIPI starts the second CPU at a registered start-up page", () => {
  const { pc, k, text } = boot({ cpus: 2 });
  const started: string[] = [];
  text.register(ENTRY, "kmain", (cpu) => {
    k.boot(cpu);
    const lapic = reg(cpu, k.mapMmio(cpu, 0xfee0_0000));
    lapic.w(0xf0, 0x1ff);
    lapic.w(0x310, 1 << 24); // destination: APIC ID 1
    lapic.w(0x300, (5 << 8) | (1 << 14)); // INIT, assert
    lapic.w(0x300, (6 << 8) | (1 << 14) | AP_ENTRY_PAGE); // SIPI
    lapic.w(0x300, (6 << 8) | (1 << 14) | AP_ENTRY_PAGE); // the second SIPI is ignored
    cpu.hlt(IDLE);
  });
  text.register(AP_ENTRY_PAGE * 0x1000, "ap_start", (cpu) => {
    started.push(`cpu${cpu.index} apic ${cpu.apicId} cr3 ${cpu.readCr(3)}`);
    cpu.outb(PC_DEBUG_EXIT_PORT, 0);
  });
  assert.equal(pc.machine.run(1e9).kind, "shutdown", pc.machine.messages.join("\n"));
  assert.deepEqual(started, ["cpu1 apic 1 cr3 0"]);
});

Deno.test("boot: a start-up IPI to an unregistered page stops the machine in words", () => {
  const { pc, k, text } = boot({ cpus: 2 });
  text.register(ENTRY, "kmain", (cpu) => {
    k.boot(cpu);
    const lapic = reg(cpu, k.mapMmio(cpu, 0xfee0_0000));
    lapic.w(0x310, 1 << 24);
    lapic.w(0x300, (5 << 8) | (1 << 14));
    lapic.w(0x300, (6 << 8) | (1 << 14) | 0x9);
    cpu.hlt(IDLE);
  });
  const stop = pc.machine.run(1e9);
  assert.equal(stop.kind, "error");
  assert.match(
    (stop as { message: string }).message,
    /start-up IPI \(vector 0x9\) points at 0x9000, where no kernel code is registered/,
  );
});
