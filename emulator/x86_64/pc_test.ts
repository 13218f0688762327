import assert from "node:assert/strict";
import { BOOTINFO_MAGIC, MEMMAP_RESERVED, readBootInfo } from "../core/bootinfo.ts";
import type { Bus } from "../core/bus.ts";
import type { CpuState, Machine } from "../core/machine.ts";
import { Prng } from "../core/prng.ts";
import { UART_IER, UART_IER_RDI, UART_LSR, UART_LSR_THRE } from "../devices/uart16550.ts";
import { readAcpi } from "./acpi.ts";
import type { ApicLink, MsrHook, X86Cpu } from "./cpu_api.ts";
import { HPET_GCAP_ID, HPET_SIZE } from "./hpet.ts";
import { IOAPIC_SIZE, IOAPICVER, IOREDTBL, IOREGSEL, IOWIN } from "./ioapic.ts";
import { APIC_ID, APIC_SVR, LAPIC_REGION_SIZE, SVR_APIC_ENABLE } from "./lapic.ts";
import {
  createPc,
  PC_COM1_IRQ,
  PC_COM1_PORT,
  PC_DEBUG_EXIT_PORT,
  PC_ECAM_BASE,
  PC_HIGH_RAM_BASE,
  PC_HPET_BASE,
  PC_IOAPIC_BASE,
  PC_KERNEL_BASE,
  PC_LAPIC_BASE,
  type PcOptions,
} from "./pc.ts";

/** A CPU that records what the board and firmware do to it (it never runs code). */
class StubCpu {
  state: CpuState = "stopped";
  timeNs = 0;
  instret = 0;
  readonly regs = new BigInt64Array(16);
  rip = 0n;
  rflags = 2n;
  apic: ApicLink | undefined;
  msrHook: MsrHook | undefined;
  waitingForSipi = true;
  readonly log: string[] = [];
  constructor(readonly machine: Machine<X86Cpu>, readonly index: number, readonly io: Bus) {}
  get apicId(): number {
    return this.index;
  }
  run(untilNs: number): void {
    this.timeNs = untilNs;
  }
  nowNs(): number {
    return this.timeNs;
  }
  wakeable(): boolean {
    return false;
  }
  writeCr(n: number, v: bigint): void {
    this.log.push(`cr${n}=${v.toString(16)}`);
  }
  wrmsr(msr: number, v: bigint): void {
    this.log.push(`wrmsr ${msr.toString(16)}=${v.toString(16)}`);
  }
  lgdt(): void {}
  loadCs(): void {}
  loadSegment(): void {}
  rdtsc(): bigint {
    return 0n;
  }
  start(rip: bigint, rdi: bigint): void {
    this.rip = rip;
    this.regs[7] = rdi;
    this.waitingForSipi = false;
    this.state = "running";
  }
  init(): void {}
  startup(): void {}
  nmi(): void {}
}

function board(over: Partial<PcOptions> = {}) {
  const out: number[] = [];
  const pc = createPc({
    kernel: { entry: 0xffff_ffff_8000_0000n, size: 0x10_0000 },
    cpus: 2,
    transmit: (b) => out.push(b),
    cpu: (m, i, io) => new StubCpu(m, i, io) as unknown as X86Cpu,
    ...over,
  });
  return { pc, out, stub: (i: number) => pc.cpus[i] as unknown as StubCpu };
}

Deno.test("pc: RAM is low RAM up to 2.75 GiB, then continues at 4 GiB", () => {
  const small = board().pc;
  assert.deepEqual(small.ram, [{ base: 0, size: 256 * 2 ** 20 }]);
  const big = board({ memory: 4 * 2 ** 30 }).pc;
  assert.deepEqual(big.ram, [
    { base: 0, size: 0xb000_0000 },
    { base: PC_HIGH_RAM_BASE, size: 0x5000_0000 },
  ]);
  const bus = big.machine.bus;
  bus.write(PC_HIGH_RAM_BASE, 8, 0x1234n);
  assert.equal(big.machine.ram.dv.getBigUint64(0xb000_0000, true), 0x1234n, "the same buffer");
  assert.equal(bus.read(PC_ECAM_BASE, 4), undefined, "the ECAM hole is not RAM");
  assert.equal(bus.read(PC_HIGH_RAM_BASE + 0x5000_0000, 1), undefined, "past the end");
});

Deno.test("pc: the devices answer at their addresses and ports", () => {
  const { pc } = board();
  const bus = pc.machine.bus;
  bus.write(PC_IOAPIC_BASE + IOREGSEL, 4, BigInt(IOAPICVER));
  assert.equal(bus.read(PC_IOAPIC_BASE + IOWIN, 4), 0x0017_0020n);
  assert.equal(bus.read(PC_HPET_BASE + HPET_GCAP_ID, 8), 0x0098_9680_8086_a201n);
  assert.equal(bus.read(PC_LAPIC_BASE + APIC_ID, 4, 1), 1n << 24n, "CPU 1 sees its APIC");
  assert.equal(pc.io.read(PC_COM1_PORT + UART_LSR, 1, 0)! & BigInt(UART_LSR_THRE), 0x20n);
  assert.equal(pc.io.read(0x21, 1, 0), undefined, "no 8259: nothing answers at 0x21");
});

Deno.test("pc: COM1 transmits to the host; its interrupt reaches GSI 4", () => {
  const { pc, out } = board();
  pc.io.write(PC_COM1_PORT, 1, 0x41n, 0);
  assert.deepEqual(out, [0x41]);
  // Route GSI 4 to vector 0x24 on APIC 0, enable the UART's receive interrupt.
  pc.lapics[0].writeRegister(APIC_SVR, SVR_APIC_ENABLE | 0xff);
  pc.ioapic.write(IOREGSEL, 4, BigInt(IOREDTBL + 2 * PC_COM1_IRQ), 0);
  pc.ioapic.write(IOWIN, 4, 0x24n, 0);
  pc.io.write(PC_COM1_PORT + UART_IER, 1, BigInt(UART_IER_RDI), 0);
  pc.uart.receive("x");
  assert.equal(pc.lapics[0].pendingVector(), 0x24);
});

Deno.test("pc: the debug-exit port powers the machine off", () => {
  const { pc } = board();
  pc.io.write(PC_DEBUG_EXIT_PORT, 1, 3n, 0);
  assert.deepEqual(pc.machine.run(), pc.machine.stopReason);
  assert.equal((pc.machine.stopReason as { code: number }).code, 7);
});

Deno.test("pc: the firmware starts CPU 0 only, with RDI = the boot information", () => {
  const { pc, stub } = board();
  assert.equal(stub(0).rip, 0xffff_ffff_8000_0000n);
  assert.equal(stub(0).regs[7], BigInt(pc.bootInfoAddress));
  assert.equal(stub(0).log[0], "cr4=20");
  assert.ok(stub(1).waitingForSipi, "the AP waits for SIPI");
  assert.deepEqual(stub(1).log, []);
  assert.ok(pc.cpus.every((c) => c.apic !== undefined && c.msrHook !== undefined));
  const info = readBootInfo(pc.machine.bus, pc.bootInfoAddress);
  assert.equal(info.kernelPhys, PC_KERNEL_BASE);
  assert.deepEqual(info.cpus.map((c) => [c.hwId, c.flags]), [[0, 1], [1, 0]]);
  assert.equal(pc.machine.bus.read(pc.bootInfoAddress, 8), BOOTINFO_MAGIC);
  const reserved = info.memoryMap.filter((m) => m.type === MEMMAP_RESERVED).map((m) => m.base);
  assert.deepEqual(reserved, [0, 0xa_0000, PC_ECAM_BASE, PC_IOAPIC_BASE]);
});

Deno.test("pc: the ACPI tables describe this board", () => {
  const { pc } = board({ cpus: 3 });
  const t = readAcpi(pc.machine.bus, pc.bootInfo.rsdp);
  assert.deepEqual(t.madt!.cpus.map((c) => c.apicId), [0, 1, 2]);
  assert.deepEqual(t.madt!.ioapics, [{ id: 0, address: PC_IOAPIC_BASE, gsiBase: 0 }]);
  assert.deepEqual(t.madt!.overrides.map((o) => [o.source, o.gsi]), [[0, 2]]);
  assert.equal(t.madt!.flags & 1, 0, "no 8259s");
  assert.equal(t.hpet!.address, PC_HPET_BASE);
  assert.equal(t.hpet!.blockId, 0x8086_a201);
  assert.deepEqual(t.mcfg!.segments, [{
    base: PC_ECAM_BASE,
    segment: 0,
    startBus: 0,
    endBus: 255,
  }]);
  const text = JSON.stringify(t);
  assert.doesNotMatch(text, /143181818|143_181_818/, "the LAPIC timer frequency is nowhere");
});

Deno.test("pc: impossible options are refused in words", () => {
  assert.throws(() => board({ cpus: 17 }), /1 to 16 CPUs, not 17/);
  assert.throws(() => board({ cpus: 0 }), /not 0/);
  assert.throws(() => board({ memory: 2 ** 20 }), /PC RAM must be 4 MiB to 64 GiB/);
  assert.throws(
    () => board({ memory: 4 * 2 ** 20, kernel: { entry: 0n, size: 8 * 2 ** 20 } }),
    /does not fit in RAM/,
  );
});

Deno.test("pc: random programming of every device never throws (seeded)", () => {
  for (const seed of [1, 2, 3]) {
    const { pc } = board({ seed });
    const rng = new Prng(seed);
    const bus = pc.machine.bus;
    const u64 = () => (BigInt(rng.nextU32()) << 32n) | BigInt(rng.nextU32());
    const value = () =>
      [0n, 1n, 0xffn, 0xffff_ffffn, u64(), BigInt(rng.nextU32())][rng.range(0, 5)];
    const size = () => [1, 2, 4, 8][rng.range(0, 3)];
    const msrs = [0x1b, 0x6e0, ...Array.from({ length: 64 }, (_, i) => 0x800 + i)];
    let t = 0;
    for (let i = 0; i < 5000; i++) {
      const cpu = rng.range(-1, 1);
      switch (rng.range(0, 6)) {
        case 0: // a local APIC register (or an MSI, from a bus master)
          bus.write(PC_LAPIC_BASE + rng.range(0, 0x40) * 16, 4, value(), cpu);
          break;
        case 1:
          bus.read(PC_LAPIC_BASE + rng.range(0, LAPIC_REGION_SIZE / 4 - 1) * 4, size(), cpu);
          break;
        case 2: // the I/O APIC: select a register, then write or read the window
          bus.write(PC_IOAPIC_BASE + IOREGSEL, 4, BigInt(rng.range(0, 0x40)), cpu);
          if (rng.range(0, 1)) bus.write(PC_IOAPIC_BASE + IOWIN, 4, value(), cpu);
          else bus.read(PC_IOAPIC_BASE + rng.range(0, IOAPIC_SIZE - 8), size(), cpu);
          break;
        case 3: // the HPET
          bus.write(PC_HPET_BASE + rng.range(0, HPET_SIZE / 8 - 1) * 8, size(), value(), cpu);
          break;
        case 4: { // the APIC MSRs, as the CPU's rdmsr and wrmsr reach them
          const c = pc.cpus[rng.range(0, 1)];
          const msr = msrs[rng.range(0, msrs.length - 1)];
          if (rng.range(0, 1)) c.msrHook!.wrmsr(c, msr, value());
          else c.msrHook!.rdmsr(c, msr);
          break;
        }
        case 5: // COM1 and its input
          pc.io.write(PC_COM1_PORT + rng.range(0, 7), 1, value() & 0xffn, 0);
          if (rng.range(0, 9) === 0) pc.uart.receive("z");
          break;
        default: // let time pass: timers fire, as machine events
          t += rng.range(1, 50_000);
          pc.machine.run(t);
      }
    }
    assert.equal(pc.machine.stopReason, undefined, pc.machine.messages.at(-1));
    bus.write(PC_IOAPIC_BASE + IOREGSEL, 4, BigInt(IOAPICVER));
    assert.equal(bus.read(PC_IOAPIC_BASE + IOWIN, 4), 0x0017_0020n, "still an I/O APIC");
  }
});
