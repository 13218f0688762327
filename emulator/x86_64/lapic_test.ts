import assert from "node:assert/strict";
import { Bus } from "../core/bus.ts";
import { EventQueue } from "../core/events.ts";
import type { X86Cpu } from "./cpu_api.ts";
import {
  APIC_BASE_BSP,
  APIC_BASE_EN,
  APIC_BASE_EXTD,
  APIC_DFR,
  APIC_EOI,
  APIC_ESR,
  APIC_ICR_HIGH,
  APIC_ICR_LOW,
  APIC_ID,
  APIC_IRR,
  APIC_ISR,
  APIC_LDR,
  APIC_LVT_ERROR,
  APIC_LVT_LINT0,
  APIC_LVT_TIMER,
  APIC_PPR,
  APIC_SVR,
  APIC_TIMER_CURRENT,
  APIC_TIMER_DIVIDE,
  APIC_TIMER_INITIAL,
  APIC_TMR,
  APIC_TPR,
  APIC_VERSION,
  ApicBus,
  type ApicCpu,
  ESR_ILLEGAL_REGISTER,
  ESR_RECEIVE_ILLEGAL_VECTOR,
  ESR_SEND_ILLEGAL_VECTOR,
  LAPIC_BASE,
  LAPIC_REGION_SIZE,
  LAPIC_TIMER_HZ,
  LapicMmio,
  lapicMsrHook,
  LVT_MASKED,
  SVR_APIC_ENABLE,
  timerDivisor,
  x2apicMsr,
} from "./lapic.ts";
import { IA32_APIC_BASE, IA32_TSC_DEADLINE } from "./regs.ts";

/** A CPU that records what its APIC made it do. */
class FakeCpu implements ApicCpu {
  log: string[] = [];
  waitingForSipi = false;
  init(): void {
    this.log.push("init");
    this.waitingForSipi = true;
  }
  startup(page: number): void {
    this.log.push(`startup ${page}`);
    this.waitingForSipi = false;
  }
  nmi(): void {
    this.log.push("nmi");
  }
}

/** Two (or more) CPUs' APICs on a hand-driven clock, with the xAPIC page on a bus. */
function setup(cpus = 2) {
  const clock = { t: 0, now: () => clock.t, events: new EventQueue() };
  const reports: string[] = [];
  const bus = new ApicBus({ clock, report: (cpu, m) => reports.push(`${cpu}: ${m}`) });
  const fakes = Array.from({ length: cpus }, () => new FakeCpu());
  const lapics = fakes.map((cpu, i) => bus.addLocalApic({ apicId: i, cpu }));
  const mem = new Bus();
  mem.map(LAPIC_BASE, LAPIC_REGION_SIZE, new LapicMmio(bus));
  const read = (cpu: number, reg: number) => Number(mem.read(LAPIC_BASE + reg, 4, cpu));
  const write = (cpu: number, reg: number, v: number) =>
    assert.ok(mem.write(LAPIC_BASE + reg, 4, BigInt(v), cpu));
  const enable = (cpu: number) => write(cpu, APIC_SVR, SVR_APIC_ENABLE | 0xff);
  const advance = (ns: number) => {
    clock.t += ns;
    clock.events.runDue(clock.t);
  };
  const hook = lapicMsrHook(bus);
  const cpuRef = (index: number) => ({ index }) as X86Cpu;
  const rdmsr = (cpu: number, msr: number) => hook.rdmsr(cpuRef(cpu), msr);
  const wrmsr = (cpu: number, msr: number, v: bigint) => hook.wrmsr(cpuRef(cpu), msr, v);
  return { clock, bus, lapics, fakes, mem, read, write, enable, advance, rdmsr, wrmsr, reports };
}

Deno.test("lapic: each CPU sees its own APIC at 0xFEE0_0000", () => {
  const { read } = setup(3);
  assert.equal(read(0, APIC_ID), 0);
  assert.equal(read(2, APIC_ID), 2 << 24);
  // Version 0x14 (integrated APIC), max LVT entry 5 (six entries).
  assert.equal(read(1, APIC_VERSION), 0x0005_0014);
});

Deno.test("lapic: reset state (SDM §11.4.7.1)", () => {
  const { read, lapics, rdmsr } = setup();
  assert.equal(read(0, APIC_SVR), 0xff, "software-disabled, spurious vector 0xFF");
  assert.equal(read(0, APIC_DFR), 0xffff_ffff);
  assert.equal(read(0, APIC_LVT_TIMER), LVT_MASKED);
  assert.equal(read(0, APIC_LVT_LINT0), LVT_MASKED);
  assert.equal(read(0, APIC_LVT_ERROR), LVT_MASKED);
  assert.equal(rdmsr(0, IA32_APIC_BASE), BigInt(LAPIC_BASE + APIC_BASE_EN + APIC_BASE_BSP));
  assert.equal(rdmsr(1, IA32_APIC_BASE), BigInt(LAPIC_BASE + APIC_BASE_EN), "not the BSP");
  lapics[0].accept(0x40, false);
  assert.equal(lapics[0].pendingVector(), -1, "a software-disabled APIC offers nothing");
  assert.ok(lapics[0].irrBit(0x40), "but holds the request in IRR");
});

Deno.test("lapic: priorities, acknowledge and EOI (SDM §11.8.3-§11.8.5)", async (t) => {
  const { lapics, read, write, enable } = setup();
  const apic = lapics[0];
  enable(0);
  await t.step("the highest IRR vector is offered", () => {
    apic.accept(0x31, false);
    apic.accept(0x52, false);
    assert.equal(apic.pendingVector(), 0x52);
    assert.equal(read(0, APIC_IRR + 0x10 * (0x52 >> 5)), 1 << (0x52 & 31));
  });
  await t.step("acknowledge moves it to ISR and raises PPR to its class", () => {
    apic.acknowledge(0x52);
    assert.ok(apic.isrBit(0x52) && !apic.irrBit(0x52));
    assert.equal(read(0, APIC_ISR + 0x10 * 2), 1 << (0x52 & 31));
    assert.equal(read(0, APIC_PPR), 0x50);
    assert.equal(apic.pendingVector(), -1, "0x31 is of a lower class");
  });
  await t.step("a vector of the same class does not preempt; a higher class does", () => {
    apic.accept(0x5f, false);
    assert.equal(apic.pendingVector(), -1);
    apic.accept(0x61, false);
    assert.equal(apic.pendingVector(), 0x61);
  });
  await t.step("TPR masks classes at or below it", () => {
    write(0, APIC_TPR, 0x61);
    assert.equal(apic.pendingVector(), -1);
    assert.equal(read(0, APIC_PPR), 0x61);
    write(0, APIC_TPR, 0);
    assert.equal(apic.pendingVector(), 0x61);
  });
  await t.step("EOI clears the highest ISR bit, letting lower classes in", () => {
    apic.acknowledge(0x61);
    write(0, APIC_EOI, 0);
    assert.ok(!apic.isrBit(0x61) && apic.isrBit(0x52));
    assert.equal(apic.pendingVector(), -1, "0x5f is still blocked by 0x52");
    write(0, APIC_EOI, 0);
    assert.equal(apic.pendingVector(), 0x5f);
  });
  await t.step("CR8 reads and writes TPR[7:4]", () => {
    apic.writeTpr(0x6);
    assert.equal(read(0, APIC_TPR), 0x60);
    assert.equal(apic.readTpr(), 6);
    assert.equal(apic.pendingVector(), -1);
  });
});

Deno.test("lapic: EOI of a level-triggered vector is broadcast to the I/O APICs", () => {
  const { bus, lapics, enable, write, read } = setup();
  const heard: number[] = [];
  bus.eoiListeners.push({ eoi: (v) => heard.push(v) });
  enable(0);
  lapics[0].accept(0x40, true);
  assert.equal(read(0, APIC_TMR + 0x20), 1, "TMR bit 0x40 set");
  lapics[0].acknowledge(0x40);
  write(0, APIC_EOI, 0);
  assert.deepEqual(heard, [0x40]);
  lapics[0].accept(0x41, false);
  lapics[0].acknowledge(0x41);
  write(0, APIC_EOI, 0);
  assert.deepEqual(heard, [0x40], "an edge-triggered vector is not broadcast");
  write(0, APIC_EOI, 0);
  assert.deepEqual(heard, [0x40], "EOI with nothing in service does nothing");
});

Deno.test("lapic: errors are latched by writing ESR and raise the LVT error interrupt", () => {
  const { lapics, read, write, enable } = setup();
  enable(0);
  lapics[0].accept(5, false);
  assert.ok(!lapics[0].irrBit(5), "vectors 0-15 are illegal");
  assert.equal(read(0, APIC_ESR), 0, "not visible until ESR is written");
  write(0, APIC_ESR, 0);
  assert.equal(read(0, APIC_ESR), ESR_RECEIVE_ILLEGAL_VECTOR);
  write(0, APIC_ESR, 0);
  assert.equal(read(0, APIC_ESR), 0, "the next write latches the errors since");
  write(0, APIC_LVT_ERROR, 0xfe);
  read(0, 0x2f0); // the CMCI register is not implemented here
  assert.equal(lapics[0].pendingVector(), 0xfe, "the error interrupt");
  write(0, APIC_ESR, 0);
  assert.equal(read(0, APIC_ESR), ESR_ILLEGAL_REGISTER);
});

Deno.test("lapic: an illegal error vector sets ESR without recursing", () => {
  const { lapics, read, write, enable } = setup();
  enable(0);
  write(0, APIC_LVT_ERROR, 0x03);
  read(0, 0x010);
  write(0, APIC_ESR, 0);
  assert.equal(read(0, APIC_ESR), ESR_ILLEGAL_REGISTER | ESR_RECEIVE_ILLEGAL_VECTOR);
  assert.equal(lapics[0].pendingVector(), -1);
});

Deno.test("lapic: only aligned 32-bit accesses reach the registers", () => {
  const { mem } = setup();
  assert.equal(mem.read(LAPIC_BASE + APIC_VERSION, 8, 0), undefined);
  assert.equal(mem.read(LAPIC_BASE + APIC_VERSION + 4, 4, 0), undefined);
  assert.equal(mem.write(LAPIC_BASE + APIC_TPR, 1, 0x10n, 0), false);
});

Deno.test("lapic: read-only registers ignore writes", () => {
  const { read, write, lapics, enable } = setup();
  enable(0);
  write(0, APIC_ID, 0x0500_0000);
  write(0, APIC_VERSION, 0);
  write(0, APIC_ISR, 0xffff_ffff);
  write(0, APIC_IRR + 0x10, 0xffff_ffff);
  assert.equal(read(0, APIC_ID), 0);
  assert.equal(read(0, APIC_VERSION), 0x0005_0014);
  assert.equal(lapics[0].pendingVector(), -1);
});

Deno.test("lapic: software disable masks every LVT entry and keeps it masked", () => {
  const { read, write, enable } = setup();
  enable(0);
  write(0, APIC_LVT_TIMER, 0x20);
  assert.equal(read(0, APIC_LVT_TIMER), 0x20);
  write(0, APIC_SVR, 0xff);
  assert.equal(read(0, APIC_LVT_TIMER), 0x20 | LVT_MASKED);
  write(0, APIC_LVT_TIMER, 0x21);
  assert.equal(read(0, APIC_LVT_TIMER), 0x21 | LVT_MASKED, "the mask cannot be cleared");
});

Deno.test("lapic: timer divisors (SDM Figure 11-10)", () => {
  assert.deepEqual([0, 1, 2, 3, 8, 9, 10, 11].map(timerDivisor), [2, 4, 8, 16, 32, 64, 128, 1]);
});

Deno.test("lapic: one-shot timer counts down at 143.18 MHz / divisor and fires once", () => {
  const { lapics, read, write, enable, clock, advance } = setup();
  enable(0);
  write(0, APIC_TIMER_DIVIDE, 3); // divide by 16
  write(0, APIC_LVT_TIMER, 0x30);
  write(0, APIC_TIMER_INITIAL, 1000);
  assert.equal(read(0, APIC_TIMER_CURRENT), 1000);
  // 1000 ticks of 16 / 143_181_818 s end at 111_746.03 ns: the event is at 111_747 ns.
  assert.equal(clock.events.nextTime(), 111_747, "scheduled as a machine event");
  advance(55_873);
  assert.equal(read(0, APIC_TIMER_CURRENT), 1000 - 499);
  advance(111_746 - 55_873);
  assert.equal(read(0, APIC_TIMER_CURRENT), 1);
  assert.equal(lapics[0].pendingVector(), -1);
  advance(1);
  assert.equal(lapics[0].pendingVector(), 0x30);
  assert.equal(read(0, APIC_TIMER_CURRENT), 0);
  assert.equal(read(0, APIC_TIMER_INITIAL), 1000);
  assert.equal(clock.events.nextTime(), Infinity, "one-shot: nothing more");
});

Deno.test("lapic: the board constant is not a round number", () => {
  assert.equal(LAPIC_TIMER_HZ, 143_181_818);
  assert.notEqual(LAPIC_TIMER_HZ % 1_000_000, 0);
});

Deno.test("lapic: periodic timer reloads from the initial count", () => {
  const { lapics, read, write, enable, clock, advance } = setup();
  const apic = lapics[0];
  enable(0);
  write(0, APIC_TIMER_DIVIDE, 0xb); // divide by 1
  write(0, APIC_LVT_TIMER, 0x40 | (1 << 17));
  write(0, APIC_TIMER_INITIAL, 100);
  const fired: number[] = [];
  for (let i = 0; i < 3; i++) {
    clock.t = clock.events.nextTime();
    clock.events.runDue(clock.t);
    fired.push(clock.t);
    assert.equal(apic.pendingVector(), 0x40);
    apic.acknowledge(0x40);
    apic.eoi();
  }
  assert.deepEqual(fired, [699, 1397, 2096], "every 100 ticks, without drift");
  assert.equal(read(0, APIC_TIMER_CURRENT), 100, "reloaded at the expiry");
  advance(7);
  assert.equal(read(0, APIC_TIMER_CURRENT), 99);
});

Deno.test("lapic: a masked periodic timer keeps counting but schedules nothing", () => {
  const { lapics, read, write, enable, clock } = setup();
  enable(0);
  write(0, APIC_TIMER_DIVIDE, 0xb);
  write(0, APIC_LVT_TIMER, 0x40 | (1 << 17) | LVT_MASKED);
  write(0, APIC_TIMER_INITIAL, 100);
  clock.t = 699; // the first expiry
  clock.events.runDue(clock.t);
  assert.equal(clock.events.nextTime(), Infinity, "no event churn while masked");
  assert.equal(lapics[0].pendingVector(), -1);
  clock.t = 1000;
  assert.equal(read(0, APIC_TIMER_CURRENT), 100 - (143 - 100), "still counting");
  write(0, APIC_LVT_TIMER, 0x40 | (1 << 17));
  assert.equal(clock.events.nextTime(), 1397, "unmasking schedules the next expiry");
});

Deno.test("lapic: changing the divisor mid-count goes on from the current count", () => {
  const { read, write, enable, clock, advance } = setup();
  enable(0);
  write(0, APIC_TIMER_DIVIDE, 0xb); // divide by 1: 7 ns per tick, roughly
  write(0, APIC_LVT_TIMER, 0x40);
  write(0, APIC_TIMER_INITIAL, 1000);
  advance(699); // 100 ticks
  assert.equal(read(0, APIC_TIMER_CURRENT), 900);
  write(0, APIC_TIMER_DIVIDE, 0); // divide by 2
  assert.equal(read(0, APIC_TIMER_CURRENT), 900);
  // 900 ticks at 2 / 143_181_818 s = 12_571.4 ns from now.
  assert.equal(clock.events.nextTime(), 699 + 12_572);
});

Deno.test("lapic: a write that changes the timer mode disarms it (SDM §11.5.4.1)", () => {
  const { read, write, enable, clock } = setup();
  enable(0);
  write(0, APIC_LVT_TIMER, 0x40);
  write(0, APIC_TIMER_INITIAL, 1000);
  write(0, APIC_LVT_TIMER, 0x40 | (1 << 17));
  assert.equal(read(0, APIC_TIMER_CURRENT), 0);
  assert.equal(read(0, APIC_TIMER_INITIAL), 0);
  assert.equal(clock.events.nextTime(), Infinity);
});

Deno.test("lapic: TSC-deadline mode fires when the TSC reaches IA32_TSC_DEADLINE", () => {
  const { lapics, read, write, enable, clock, advance, rdmsr, wrmsr } = setup();
  enable(0);
  assert.ok(wrmsr(0, IA32_TSC_DEADLINE, 1000n));
  assert.equal(rdmsr(0, IA32_TSC_DEADLINE), 0n, "ignored outside TSC-deadline mode");
  write(0, APIC_LVT_TIMER, 0x50 | (2 << 17));
  write(0, APIC_TIMER_INITIAL, 1234);
  assert.equal(read(0, APIC_TIMER_INITIAL), 0, "initial count writes are ignored");
  clock.t = 1000;
  wrmsr(0, IA32_TSC_DEADLINE, 2400n * 2n + 2400n); // TSC at 2.4 GHz: 2400 now, 7200 at 3 us
  assert.equal(rdmsr(0, IA32_TSC_DEADLINE), 7200n);
  assert.equal(clock.events.nextTime(), 3000);
  advance(1999);
  assert.equal(lapics[0].pendingVector(), -1);
  advance(1);
  assert.equal(lapics[0].pendingVector(), 0x50);
  assert.equal(rdmsr(0, IA32_TSC_DEADLINE), 0n, "firing disarms and clears the MSR");
  lapics[0].acknowledge(0x50);
  lapics[0].eoi();
  wrmsr(0, IA32_TSC_DEADLINE, 5n);
  assert.equal(lapics[0].pendingVector(), 0x50, "a deadline in the past fires at once");
  lapics[0].acknowledge(0x50);
  lapics[0].eoi();
  wrmsr(0, IA32_TSC_DEADLINE, 100_000n);
  wrmsr(0, IA32_TSC_DEADLINE, 0n);
  assert.equal(clock.events.nextTime(), Infinity, "writing 0 disarms");
});

Deno.test("lapic: the TSC-deadline timer follows the CPU's TSC, offset included", () => {
  const clock = { t: 0, now: () => clock.t, events: new EventQueue() };
  const bus = new ApicBus({ clock });
  const apic = bus.addLocalApic({ apicId: 0, tsc: () => 1_000_000n + BigInt(clock.t) * 3n });
  apic.writeRegister(APIC_SVR, 0x1ff);
  apic.writeRegister(APIC_LVT_TIMER, 0x50 | (2 << 17));
  apic.writeTscDeadline(1_000_000n + 2400n);
  assert.equal(clock.events.nextTime(), 1000, "2400 TSC ticks at 2.4 GHz from now");
});

Deno.test("lapic: fixed IPIs by physical ID and by shorthand (SDM §11.6)", async (t) => {
  const { lapics, write, enable } = setup(3);
  for (let i = 0; i < 3; i++) enable(i);
  const irr = (v: number) => lapics.map((l) => l.irrBit(v));
  await t.step("physical destination", () => {
    write(0, APIC_ICR_HIGH, 2 << 24);
    write(0, APIC_ICR_LOW, 0x41);
    assert.deepEqual(irr(0x41), [false, false, true]);
  });
  await t.step("self", () => {
    write(1, APIC_ICR_LOW, 0x42 | (1 << 18));
    assert.deepEqual(irr(0x42), [false, true, false]);
  });
  await t.step("all including self", () => {
    write(1, APIC_ICR_LOW, 0x43 | (2 << 18));
    assert.deepEqual(irr(0x43), [true, true, true]);
  });
  await t.step("all excluding self", () => {
    write(1, APIC_ICR_LOW, 0x44 | (3 << 18));
    assert.deepEqual(irr(0x44), [true, false, true]);
  });
  await t.step("physical broadcast 0xFF", () => {
    write(0, APIC_ICR_HIGH, 0xff << 24);
    write(0, APIC_ICR_LOW, 0x45);
    assert.deepEqual(irr(0x45), [true, true, true]);
  });
  await t.step("the delivery status reads idle", () => {
    assert.equal(lapics[0].readRegister(APIC_ICR_LOW), 0x45);
  });
});

Deno.test("lapic: logical destinations in the flat and cluster models", () => {
  const { lapics, write, enable } = setup(3);
  for (let i = 0; i < 3; i++) enable(i);
  write(0, APIC_LDR, 0x01 << 24);
  write(1, APIC_LDR, 0x02 << 24);
  write(2, APIC_LDR, 0x04 << 24);
  write(0, APIC_ICR_HIGH, 0x05 << 24);
  write(0, APIC_ICR_LOW, 0x50 | (1 << 11));
  assert.deepEqual(lapics.map((l) => l.irrBit(0x50)), [true, false, true]);
  // Cluster model: cluster in bits 7:4 of the destination, members in 3:0.
  for (let i = 0; i < 3; i++) write(i, APIC_DFR, 0x0fff_ffff);
  write(0, APIC_LDR, 0x11 << 24);
  write(1, APIC_LDR, 0x21 << 24);
  write(2, APIC_LDR, 0x12 << 24);
  write(0, APIC_ICR_HIGH, 0x13 << 24);
  write(0, APIC_ICR_LOW, 0x51 | (1 << 11));
  assert.deepEqual(lapics.map((l) => l.irrBit(0x51)), [true, false, true]);
});

Deno.test("lapic: lowest priority goes to the APIC with the lowest TPR", () => {
  const { lapics, write, enable } = setup(3);
  for (let i = 0; i < 3; i++) enable(i);
  write(0, APIC_TPR, 0x30);
  write(1, APIC_TPR, 0x10);
  write(2, APIC_TPR, 0x20);
  write(0, APIC_ICR_HIGH, 0xff << 24);
  write(0, APIC_ICR_LOW, 0x60 | (1 << 8));
  assert.deepEqual(lapics.map((l) => l.irrBit(0x60)), [false, true, false]);
});

Deno.test("lapic: INIT, start-up and NMI IPIs reach the CPU", () => {
  const { fakes, lapics, write, enable } = setup();
  enable(1);
  write(0, APIC_ICR_HIGH, 1 << 24);
  write(0, APIC_ICR_LOW, 0x9f | (6 << 8) | (1 << 14));
  assert.deepEqual(fakes[1].log, [], "a SIPI to a CPU that is not waiting is ignored");
  write(0, APIC_ICR_LOW, (5 << 8) | (1 << 14)); // INIT assert
  assert.equal(lapics[1].softwareEnabled, false, "INIT resets the APIC too");
  write(0, APIC_ICR_LOW, (5 << 8) | (1 << 15)); // INIT level de-assert: no effect
  write(0, APIC_ICR_LOW, 0x08 | (6 << 8) | (1 << 14)); // SIPI, page 8
  write(0, APIC_ICR_LOW, 0x08 | (6 << 8) | (1 << 14)); // the second SIPI is ignored
  write(0, APIC_ICR_LOW, (4 << 8) | (1 << 14)); // NMI
  assert.deepEqual(fakes[1].log, ["init", "startup 8", "nmi"]);
  assert.deepEqual(fakes[0].log, []);
});

Deno.test("lapic: bad ICR programming is answered as the hardware does, never thrown", () => {
  const { lapics, read, write, enable, reports } = setup();
  enable(0);
  write(0, APIC_ICR_HIGH, 7 << 24);
  write(0, APIC_ICR_LOW, 0x41);
  assert.match(reports.join("\n"), /APIC ID 0x7, which no enabled local APIC answers/);
  write(0, APIC_ICR_HIGH, 1 << 24);
  write(0, APIC_ICR_LOW, 0x03); // fixed, vector 3
  assert.ok(!lapics[1].irrBit(3));
  write(0, APIC_ESR, 0);
  assert.equal(read(0, APIC_ESR), ESR_SEND_ILLEGAL_VECTOR);
  write(0, APIC_ICR_LOW, 0x41 | (3 << 8)); // reserved delivery mode
  assert.ok(!lapics[1].irrBit(0x41));
  assert.match(reports.at(-1)!, /delivery mode 3 \(reserved\) is not valid/);
  write(0, APIC_ICR_LOW, 0x41 | (2 << 8)); // SMI
  assert.match(reports.at(-1)!, /SMI\) is not modelled/);
});

Deno.test("lapic: a bus-master write to the APIC page is an MSI (SDM §11.11)", () => {
  const { mem, lapics, enable } = setup();
  enable(1);
  assert.ok(mem.write(LAPIC_BASE + (1 << 12), 4, 0x4an, -1));
  assert.ok(lapics[1].irrBit(0x4a) && !lapics[0].irrBit(0x4a));
  assert.ok(!lapics[1].tmrBit(0x4a), "edge");
  assert.ok(mem.write(LAPIC_BASE + (1 << 12), 4, 0x4bn | (1n << 15n), -1));
  assert.ok(lapics[1].tmrBit(0x4b), "level");
  assert.equal(mem.read(LAPIC_BASE + 0x1000, 4, 0), undefined, "CPUs see one page of registers");
});

Deno.test("lapic: x2APIC mode through IA32_APIC_BASE.EXTD (SDM §11.12)", async (t) => {
  const { read, rdmsr, wrmsr, lapics, mem, enable } = setup(2);
  enable(0);
  enable(1);
  await t.step("the MSRs raise #GP until x2APIC mode is on", () => {
    assert.equal(rdmsr(1, x2apicMsr(APIC_ID)), undefined);
    assert.equal(wrmsr(1, x2apicMsr(APIC_TPR), 0n), false);
  });
  await t.step("setting EXTD switches modes and darkens the page", () => {
    const base = LAPIC_BASE + APIC_BASE_EN + APIC_BASE_EXTD;
    assert.ok(wrmsr(0, IA32_APIC_BASE, BigInt(base)));
    assert.ok(wrmsr(1, IA32_APIC_BASE, BigInt(base)));
    assert.equal(rdmsr(1, IA32_APIC_BASE), BigInt(base));
    assert.equal(mem.read(LAPIC_BASE + APIC_ID, 4, 1), 0xffff_ffffn);
    assert.equal(read(1, APIC_SVR), 0xffff_ffff);
    assert.equal(rdmsr(1, 0x80f), 0x1ffn, "state is kept across the switch");
  });
  await t.step("the ID is 32 bits and the logical ID derives from it", () => {
    assert.equal(rdmsr(1, 0x802), 1n);
    assert.equal(rdmsr(1, 0x80d), 0x2n);
  });
  await t.step("the ICR is one 64-bit MSR with a 32-bit destination", () => {
    assert.ok(wrmsr(0, 0x830, (1n << 32n) | 0x61n));
    assert.ok(lapics[1].irrBit(0x61));
    assert.equal(rdmsr(0, 0x830), (1n << 32n) | 0x61n);
  });
  await t.step("SELF IPI", () => {
    assert.ok(wrmsr(1, 0x83f, 0x62n));
    assert.ok(lapics[1].irrBit(0x62));
    assert.equal(rdmsr(1, 0x83f), undefined, "write-only");
  });
  await t.step("EOI must be written with 0", () => {
    lapics[1].acknowledge(0x62);
    assert.equal(wrmsr(1, 0x80b, 1n), false);
    assert.ok(wrmsr(1, 0x80b, 0n));
    assert.ok(!lapics[1].isrBit(0x62));
  });
  await t.step("read-only registers, reserved bits and xAPIC-only registers raise #GP", () => {
    assert.equal(wrmsr(1, 0x802, 5n), false, "ID");
    assert.equal(wrmsr(1, 0x839, 5n), false, "current count");
    assert.equal(wrmsr(1, 0x808, 0x100n), false, "TPR bit 8");
    assert.equal(wrmsr(1, 0x828, 1n), false, "ESR must be written with 0");
    assert.equal(wrmsr(1, 0x832, 3n << 17n), false, "reserved timer mode");
    assert.equal(wrmsr(1, 0x808, 1n << 32n), false, "upper half");
    assert.equal(rdmsr(1, 0x80e), undefined, "no DFR");
    assert.equal(rdmsr(1, 0x809), undefined, "no APR");
    assert.equal(rdmsr(1, 0x831), undefined, "no ICR high half");
    assert.equal(rdmsr(1, 0x82f), undefined, "no CMCI");
  });
  await t.step("x2APIC cannot go straight back to xAPIC", () => {
    assert.equal(wrmsr(1, IA32_APIC_BASE, BigInt(LAPIC_BASE + APIC_BASE_EN)), false);
    assert.ok(wrmsr(1, IA32_APIC_BASE, BigInt(LAPIC_BASE)), "but it may be disabled");
    assert.equal(lapics[1].pendingVector(), -1);
    assert.ok(wrmsr(1, IA32_APIC_BASE, BigInt(LAPIC_BASE + APIC_BASE_EN)));
    assert.equal(read(1, APIC_SVR), 0xff, "disabling lost the state");
  });
});

Deno.test("lapic: invalid IA32_APIC_BASE writes raise #GP", () => {
  const { wrmsr, reports, rdmsr } = setup();
  assert.equal(wrmsr(0, IA32_APIC_BASE, BigInt(LAPIC_BASE + APIC_BASE_EXTD)), false, "EXTD only");
  assert.equal(wrmsr(0, IA32_APIC_BASE, BigInt(LAPIC_BASE + APIC_BASE_EN + 1)), false);
  assert.equal(wrmsr(0, IA32_APIC_BASE, 1n << 50n | BigInt(APIC_BASE_EN)), false, "> MAXPHYADDR");
  assert.ok(wrmsr(0, IA32_APIC_BASE, BigInt(LAPIC_BASE)));
  assert.equal(
    wrmsr(0, IA32_APIC_BASE, BigInt(LAPIC_BASE + APIC_BASE_EN + APIC_BASE_EXTD)),
    false,
    "disabled to x2APIC directly",
  );
  assert.ok(wrmsr(0, IA32_APIC_BASE, BigInt(0xfed0_0000 + APIC_BASE_EN)));
  assert.match(reports.join("\n"), /relocation is not modelled/);
  assert.equal(rdmsr(0, IA32_APIC_BASE), BigInt(0xfed0_0000 + APIC_BASE_EN + APIC_BASE_BSP));
  assert.equal(rdmsr(0, 0x10), undefined, "not the APIC's MSR");
});
