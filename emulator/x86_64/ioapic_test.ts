import assert from "node:assert/strict";
import { Bus } from "../core/bus.ts";
import { EventQueue } from "../core/events.ts";
import {
  IoApic,
  IOAPIC_BASE,
  IOAPIC_EOI,
  IOAPIC_SIZE,
  IOAPICARB,
  IOAPICID,
  IOAPICVER,
  IOREDTBL,
  IOREDTBL_ACTIVE_LOW,
  IOREDTBL_DEST_LOGICAL,
  IOREDTBL_LEVEL,
  IOREDTBL_MASKED,
  IOREDTBL_REMOTE_IRR,
  IOREGSEL,
  IOWIN,
} from "./ioapic.ts";
import { APIC_LDR, ApicBus, SVR_APIC_ENABLE } from "./lapic.ts";

/** An I/O APIC in front of two enabled local APICs, programmed through its page on a bus. */
function setup() {
  const clock = { t: 0, now: () => clock.t, events: new EventQueue() };
  const reports: string[] = [];
  const apics = new ApicBus({ clock, report: (_c, m) => reports.push(m) });
  const lapics = [0, 1].map((id) => apics.addLocalApic({ apicId: id }));
  for (const l of lapics) l.writeRegister(0xf0, SVR_APIC_ENABLE | 0xff);
  const ioapic = new IoApic({ bus: apics });
  const mem = new Bus();
  mem.map(IOAPIC_BASE, IOAPIC_SIZE, ioapic);
  const reg = (index: number): number => {
    mem.write(IOAPIC_BASE + IOREGSEL, 4, BigInt(index), 0);
    return Number(mem.read(IOAPIC_BASE + IOWIN, 4, 0));
  };
  const setReg = (index: number, v: number) => {
    mem.write(IOAPIC_BASE + IOREGSEL, 4, BigInt(index), 0);
    assert.ok(mem.write(IOAPIC_BASE + IOWIN, 4, BigInt(v >>> 0), 0));
  };
  const program = (pin: number, low: number, destination = 0) => {
    setReg(IOREDTBL + 2 * pin + 1, destination << 24);
    setReg(IOREDTBL + 2 * pin, low);
  };
  /** Takes and completes the pending vector on `cpu`, as a handler would. */
  const handle = (cpu: number): number => {
    const v = lapics[cpu].pendingVector();
    if (v >= 0) {
      lapics[cpu].acknowledge(v);
      lapics[cpu].eoi();
    }
    return v;
  };
  return { ioapic, lapics, mem, reg, setReg, program, handle, reports };
}

Deno.test("ioapic: ID, version and arbitration registers (82093AA §3.2)", () => {
  const { reg, setReg } = setup();
  assert.equal(reg(IOAPICVER), 0x0017_0020, "version 0x20, 24 entries");
  assert.equal(reg(IOAPICID), 0);
  setReg(IOAPICID, 0x0300_0000);
  assert.equal(reg(IOAPICID), 0x0300_0000);
  assert.equal(reg(IOAPICARB), 0x0300_0000);
  setReg(IOAPICVER, 0);
  assert.equal(reg(IOAPICVER), 0x0017_0020, "read-only");
  assert.equal(reg(0x05), 0, "no register there");
  assert.equal(reg(0x40), 0, "past the last entry");
});

Deno.test("ioapic: entries reset masked; delivery status and remote IRR are read-only", () => {
  const { reg, setReg } = setup();
  for (let p = 0; p < 24; p++) assert.equal(reg(IOREDTBL + 2 * p), IOREDTBL_MASKED);
  setReg(IOREDTBL, 0xffff_ffff);
  assert.equal(reg(IOREDTBL), 0x1_afff);
  setReg(IOREDTBL + 1, 0xffff_ffff);
  assert.equal(reg(IOREDTBL + 1), 0xff00_0000);
});

Deno.test("ioapic: an edge-triggered entry sends one message per rising edge", () => {
  const { ioapic, program, lapics, handle } = setup();
  const line = ioapic.input(4);
  program(4, 0x24, 1); // fixed, physical, to APIC 1
  line.set(true);
  assert.equal(lapics[1].pendingVector(), 0x24);
  assert.equal(lapics[0].pendingVector(), -1);
  assert.equal(handle(1), 0x24);
  line.set(true);
  assert.equal(lapics[1].pendingVector(), -1, "no new edge, no new message");
  line.set(false);
  line.set(true);
  assert.equal(handle(1), 0x24);
  assert.ok(!lapics[1].tmrBit(0x24), "edge: TMR clear");
});

Deno.test("ioapic: a masked edge is lost, and unmasking a high pin is not an edge", () => {
  const { ioapic, program, lapics } = setup();
  const line = ioapic.input(4);
  program(4, 0x24 | IOREDTBL_MASKED);
  line.set(true);
  program(4, 0x24);
  assert.equal(lapics[0].pendingVector(), -1);
});

Deno.test("ioapic: a level-triggered entry re-fires after EOI while the line stays high", () => {
  const { ioapic, program, lapics, reg } = setup();
  const line = ioapic.input(4);
  program(4, 0x30 | IOREDTBL_LEVEL);
  line.set(true);
  assert.equal(lapics[0].pendingVector(), 0x30);
  assert.ok(lapics[0].tmrBit(0x30), "level: the local APIC sets TMR");
  assert.ok(reg(IOREDTBL + 8) & IOREDTBL_REMOTE_IRR, "remote IRR set");
  lapics[0].acknowledge(0x30);
  assert.equal(lapics[0].pendingVector(), -1);
  lapics[0].eoi(); // broadcast to the I/O APIC: remote IRR clears, the line is still high
  assert.equal(lapics[0].pendingVector(), 0x30, "fired again");
  lapics[0].acknowledge(0x30);
  line.set(false); // the handler satisfied the device
  lapics[0].eoi();
  assert.equal(lapics[0].pendingVector(), -1);
  assert.equal(reg(IOREDTBL + 8) & IOREDTBL_REMOTE_IRR, 0);
});

Deno.test("ioapic: while remote IRR is set, a level entry sends nothing more", () => {
  const { ioapic, program, lapics } = setup();
  const line = ioapic.input(5);
  program(5, 0x31 | IOREDTBL_LEVEL);
  line.set(true);
  lapics[0].acknowledge(0x31);
  line.set(false);
  line.set(true);
  assert.equal(lapics[0].pendingVector(), -1);
});

Deno.test("ioapic: the EOI register clears remote IRR for a vector", () => {
  const { ioapic, program, lapics, mem, reg } = setup();
  const line = ioapic.input(6);
  program(6, 0x32 | IOREDTBL_LEVEL);
  line.set(true);
  lapics[0].acknowledge(0x32);
  assert.ok(mem.write(IOAPIC_BASE + IOAPIC_EOI, 4, 0x32n, 0));
  assert.equal(reg(IOREDTBL + 12) & IOREDTBL_REMOTE_IRR, IOREDTBL_REMOTE_IRR, "re-sent");
  assert.ok(lapics[0].irrBit(0x32));
});

Deno.test("ioapic: unmasking a level entry whose line is high fires it", () => {
  const { ioapic, program, lapics } = setup();
  ioapic.input(7).set(true);
  program(7, 0x33 | IOREDTBL_LEVEL | IOREDTBL_MASKED);
  assert.equal(lapics[0].pendingVector(), -1);
  program(7, 0x33 | IOREDTBL_LEVEL);
  assert.equal(lapics[0].pendingVector(), 0x33);
});

Deno.test("ioapic: polarity must match the wiring (ISA high, PCI-style pins low)", () => {
  const { ioapic, program, lapics, handle } = setup();
  // Pin 20 is wired active low: an idle line is electrically high.
  program(20, 0x40 | IOREDTBL_LEVEL | IOREDTBL_ACTIVE_LOW);
  assert.equal(lapics[0].pendingVector(), -1, "idle with the right polarity");
  ioapic.input(20).set(true);
  assert.equal(handle(0), 0x40);
  ioapic.input(20).set(false);
  // ISA pin 3 programmed active low by mistake: the idle line reads as asserted.
  program(3, 0x41 | IOREDTBL_LEVEL | IOREDTBL_ACTIVE_LOW);
  assert.equal(handle(0), 0x41);
  assert.equal(handle(0), 0x41, "and again after every EOI: an interrupt storm");
});

Deno.test("ioapic: logical destinations and broadcast", () => {
  const { ioapic, program, lapics } = setup();
  lapics[0].writeRegister(APIC_LDR, 0x01 << 24);
  lapics[1].writeRegister(APIC_LDR, 0x02 << 24);
  program(8, 0x50 | IOREDTBL_DEST_LOGICAL, 0x02);
  ioapic.input(8).set(true);
  assert.deepEqual(lapics.map((l) => l.irrBit(0x50)), [false, true]);
  program(9, 0x51, 0xff);
  ioapic.input(9).set(true);
  assert.deepEqual(lapics.map((l) => l.irrBit(0x51)), [true, true]);
});

Deno.test("ioapic: reserved and unmodelled delivery modes deliver nothing and say so", () => {
  const { ioapic, program, lapics, reports } = setup();
  program(10, 0x60 | (3 << 8));
  ioapic.input(10).set(true);
  assert.match(reports.at(-1)!, /GSI 10 .* delivery mode 3 \(reserved\), which is reserved/);
  program(11, 0x61 | (7 << 8));
  ioapic.input(11).set(true);
  assert.match(reports.at(-1)!, /ExtINT\), which needs an 8259/);
  assert.equal(lapics[0].pendingVector(), -1);
});

Deno.test("ioapic: a message to a missing APIC is reported and leaves remote IRR clear", () => {
  const { ioapic, program, reports, reg } = setup();
  program(12, 0x62 | IOREDTBL_LEVEL, 9);
  ioapic.input(12).set(true);
  assert.match(reports.at(-1)!, /ioapic GSI 12: fixed interrupt .* APIC ID 0x9/);
  assert.equal(reg(IOREDTBL + 24) & IOREDTBL_REMOTE_IRR, 0);
});

Deno.test("ioapic: NMI entries reach the CPU", () => {
  const clock = { t: 0, now: () => clock.t, events: new EventQueue() };
  const apics = new ApicBus({ clock });
  const log: string[] = [];
  apics.addLocalApic({
    apicId: 0,
    cpu: { nmi: () => log.push("nmi"), init() {}, startup() {}, waitingForSipi: false },
  });
  const ioapic = new IoApic({ bus: apics });
  ioapic.write(IOREGSEL, 4, BigInt(IOREDTBL + 2), 0);
  ioapic.write(IOWIN, 4, BigInt(4 << 8), 0);
  ioapic.input(1).set(true);
  assert.deepEqual(log, ["nmi"]);
});

Deno.test("ioapic: odd accesses are refused, not thrown; bad pins are a host error", () => {
  const { mem, ioapic } = setup();
  assert.equal(mem.read(IOAPIC_BASE + IOWIN, 2, 0), undefined);
  assert.equal(mem.write(IOAPIC_BASE + IOWIN + 1, 1, 0n, 0), false);
  assert.ok(mem.write(IOAPIC_BASE + IOREGSEL, 1, 0x10n, 0), "IOREGSEL also takes a byte");
  assert.equal(mem.read(IOAPIC_BASE + 0x20, 4, 0), 0n);
  assert.throws(() => ioapic.input(24), /inputs 0 to 23/);
});
