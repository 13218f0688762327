import assert from "node:assert/strict";
import { Bus } from "../core/bus.ts";
import { EventQueue } from "../core/events.ts";
import { ProbeLine } from "../core/irq.ts";
import { Ram } from "../core/memory.ts";
import {
  Uart16550,
  UART_DLL,
  UART_DLM,
  UART_FCR,
  UART_FCR_CLEAR_RCVR,
  UART_FCR_ENABLE_FIFO,
  UART_IER,
  UART_IER_MSI,
  UART_IER_RDI,
  UART_IER_RLSI,
  UART_IER_THRI,
  UART_IIR,
  UART_IIR_CTI,
  UART_IIR_MSI,
  UART_IIR_NO_INT,
  UART_IIR_RDI,
  UART_IIR_RLSI,
  UART_IIR_THRI,
  UART_LCR,
  UART_LCR_DLAB,
  UART_LCR_WLEN8,
  UART_LSR,
  UART_LSR_DR,
  UART_LSR_OE,
  UART_LSR_TEMT,
  UART_LSR_THRE,
  UART_MCR,
  UART_MCR_DTR,
  UART_MCR_LOOP,
  UART_MCR_OUT1,
  UART_MCR_RTS,
  UART_MSR,
  UART_MSR_CTS,
  UART_MSR_DCTS,
  UART_MSR_DDSR,
  UART_MSR_DSR,
  UART_MSR_TERI,
  UART_RBR,
  UART_SCR,
  UART_THR,
} from "./uart16550.ts";

/** A UART with a capture buffer, a probe on its interrupt line and, optionally, a clock. */
function setup(withClock = false) {
  const out: number[] = [];
  const irq = new ProbeLine();
  const clock = { t: 0, now: () => clock.t, events: new EventQueue() };
  const uart = new Uart16550({
    transmit: (b) => out.push(b),
    irq,
    clock: withClock ? clock : undefined,
  });
  const rd = (reg: number) => Number(uart.read(reg, 1, 0));
  const wr = (reg: number, v: number) => assert.ok(uart.write(reg, 1, BigInt(v), 0));
  const advance = (ns: number) => {
    clock.t += ns;
    clock.events.runDue(clock.t);
  };
  return { uart, out, irq, rd, wr, advance };
}

Deno.test("uart: registers come out of reset as the datasheet gives", () => {
  const { rd, irq } = setup();
  assert.equal(rd(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
  assert.equal(rd(UART_IIR), UART_IIR_NO_INT);
  assert.equal(rd(UART_IER), 0);
  assert.equal(rd(UART_LCR), 0);
  assert.equal(rd(UART_MCR), 0);
  assert.equal(rd(UART_MSR), 0xb0, "no modem: CTS, DSR and DCD high, no deltas");
  assert.equal(irq.level, false);
});

Deno.test("uart: a byte written to THR reaches the host and THR stays empty", () => {
  const { out, rd, wr } = setup();
  for (const c of "hi\n") wr(UART_THR, c.charCodeAt(0));
  assert.equal(new TextDecoder().decode(new Uint8Array(out)), "hi\n");
  assert.equal(rd(UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT), UART_LSR_THRE | UART_LSR_TEMT);
});

Deno.test("uart: DLAB switches offsets 0 and 1 to the divisor latch", () => {
  const { uart, out, rd, wr } = setup();
  wr(UART_IER, UART_IER_RDI);
  wr(UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
  wr(UART_DLL, 0x02);
  wr(UART_DLM, 0x01);
  assert.equal(out.length, 0, "writing DLL transmits nothing");
  assert.equal(rd(UART_DLL), 0x02);
  assert.equal(rd(UART_DLM), 0x01);
  wr(UART_LCR, UART_LCR_WLEN8);
  assert.equal(rd(UART_IER), UART_IER_RDI, "IER kept its value behind the latch");
  assert.equal(uart.peek().divisor, 0x102);
});

Deno.test("uart: the character time follows the divisor and the line format", () => {
  const { uart, wr } = setup();
  wr(UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
  wr(UART_DLL, 2); // 3 686 400 / (16 * 2) = 115 200 baud
  wr(UART_LCR, UART_LCR_WLEN8); // 8N1: 10 bits a character
  assert.ok(Math.abs(uart.characterTimeNs() - 1e10 / 115_200) < 1e-6);
  wr(UART_LCR, 0x1f); // 8 data bits, 2 stop bits, parity: 12 bits
  assert.ok(Math.abs(uart.characterTimeNs() - 1.2e10 / 115_200) < 1e-6);
});

Deno.test("uart: received bytes set DR and read back through RBR in order", () => {
  const { uart, rd } = setup();
  uart.receive("ok");
  assert.equal(rd(UART_LSR) & UART_LSR_DR, UART_LSR_DR);
  assert.equal(rd(UART_RBR), 0x6f);
  assert.equal(uart.pendingInput, 0, "the second byte entered the holding register");
  assert.equal(rd(UART_RBR), 0x6b);
  assert.equal(rd(UART_LSR) & UART_LSR_DR, 0);
  assert.equal(rd(UART_RBR), 0x6b, "an empty receiver returns the last byte again");
  assert.equal(rd(UART_LSR) & UART_LSR_DR, 0, "and DR stays clear");
});

Deno.test("uart: without FIFOs host input waits for the one-byte holding register", () => {
  const { uart, rd } = setup();
  uart.receive([1, 2, 3]);
  assert.equal(uart.peek().rxCount, 1);
  assert.equal(uart.pendingInput, 2);
  assert.equal(rd(UART_LSR) & UART_LSR_OE, 0, "host input is never an overrun");
  assert.deepEqual([rd(UART_RBR), rd(UART_RBR), rd(UART_RBR)], [1, 2, 3]);
});

Deno.test("uart: with FIFOs, 16 bytes enter the receiver and the rest wait", () => {
  const { uart, rd, wr } = setup();
  wr(UART_FCR, UART_FCR_ENABLE_FIFO);
  uart.receive(new Uint8Array(20).map((_, i) => i));
  assert.equal(uart.peek().rxCount, 16);
  assert.equal(uart.pendingInput, 4);
  const got = Array.from({ length: 20 }, () => rd(UART_RBR));
  assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => i));
});

Deno.test("uart: received-data interrupt at the trigger level, and IIR shows the FIFOs", () => {
  const { uart, irq, rd, wr } = setup(true);
  wr(UART_FCR, UART_FCR_ENABLE_FIFO | (1 << 6)); // trigger at 4 bytes
  wr(UART_IER, UART_IER_RDI);
  uart.receive("abc");
  assert.equal(irq.level, false, "3 bytes are below the trigger level");
  assert.equal(rd(UART_IIR), 0xc0 | UART_IIR_NO_INT);
  uart.receive("d");
  assert.equal(irq.level, true);
  assert.equal(rd(UART_IIR), 0xc0 | UART_IIR_RDI);
  rd(UART_RBR);
  assert.equal(irq.level, false, "cleared as soon as the FIFO drops below the trigger");
});

Deno.test("uart: a character timeout after four character times below the trigger", async (t) => {
  const { uart, irq, rd, wr, advance } = setup(true);
  wr(UART_FCR, UART_FCR_ENABLE_FIFO | (3 << 6)); // trigger at 14 bytes
  wr(UART_IER, UART_IER_RDI);
  const four = 4 * uart.characterTimeNs();
  uart.receive("x");
  await t.step("not before four character times", () => {
    advance(four - 1);
    assert.equal(irq.level, false);
  });
  await t.step("raised at four character times, as IIR 0xC", () => {
    advance(1);
    assert.equal(irq.level, true);
    assert.equal(rd(UART_IIR), 0xc0 | UART_IIR_CTI);
  });
  await t.step("cleared by reading RBR", () => {
    assert.equal(rd(UART_RBR), 0x78);
    assert.equal(irq.level, false);
    advance(10 * four);
    assert.equal(irq.level, false, "an empty FIFO never times out");
  });
  await t.step("a new byte restarts the timer", () => {
    uart.receive("y");
    advance(four / 2);
    uart.receive("z");
    advance(four / 2 + 1);
    assert.equal(irq.level, false);
    advance(four / 2);
    assert.equal(rd(UART_IIR), 0xc0 | UART_IIR_CTI);
  });
});

Deno.test("uart: the THR-empty interrupt: raised by ETBEI, cleared by IIR, raised again", () => {
  const { irq, rd, wr } = setup();
  wr(UART_IER, UART_IER_THRI);
  assert.equal(irq.level, true, "enabling ETBEI while THR is empty raises it");
  assert.equal(rd(UART_IIR), UART_IIR_THRI);
  assert.equal(irq.level, false, "reading IIR that reports it clears it");
  assert.equal(rd(UART_IIR), UART_IIR_NO_INT);
  wr(UART_THR, 0x41);
  assert.equal(irq.level, true, "the byte left at once, so THR is empty again");
  wr(UART_IER, 0);
  assert.equal(irq.level, false, "masked");
});

Deno.test("uart: loopback feeds the receiver, not the host", () => {
  const { uart, out, rd, wr } = setup();
  wr(UART_MCR, UART_MCR_LOOP);
  uart.receive("h");
  assert.equal(rd(UART_LSR) & UART_LSR_DR, 0, "the serial input is disconnected");
  wr(UART_THR, 0x55);
  assert.equal(out.length, 0);
  assert.equal(rd(UART_RBR), 0x55);
  wr(UART_MCR, 0);
  assert.equal(rd(UART_RBR), 0x68, "host input arrives once loopback ends");
});

Deno.test("uart: overrun without FIFOs overwrites RBR and sets OE until LSR is read", () => {
  const { rd, wr } = setup();
  wr(UART_MCR, UART_MCR_LOOP);
  wr(UART_THR, 1);
  wr(UART_THR, 2);
  const lsr = rd(UART_LSR);
  assert.equal(lsr & (UART_LSR_OE | UART_LSR_DR), UART_LSR_OE | UART_LSR_DR);
  assert.equal(rd(UART_LSR) & UART_LSR_OE, 0, "reading LSR cleared OE");
  assert.equal(rd(UART_RBR), 2, "the unread byte was destroyed");
});

Deno.test("uart: overrun with FIFOs keeps the FIFO and loses the new byte", () => {
  const { rd, wr } = setup();
  wr(UART_FCR, UART_FCR_ENABLE_FIFO);
  wr(UART_MCR, UART_MCR_LOOP);
  for (let i = 0; i < 17; i++) wr(UART_THR, i);
  assert.equal(rd(UART_LSR) & UART_LSR_OE, UART_LSR_OE);
  const got = Array.from({ length: 16 }, () => rd(UART_RBR));
  assert.deepEqual(got, Array.from({ length: 16 }, (_, i) => i));
});

Deno.test("uart: IIR reports the highest-priority interrupt first", () => {
  const { uart, rd, wr } = setup();
  wr(UART_MCR, UART_MCR_LOOP);
  wr(UART_THR, 1);
  wr(UART_THR, 2); // overrun: line status pending, data available, THR empty
  wr(UART_MCR, UART_MCR_LOOP | UART_MCR_RTS); // CTS changes: modem status pending
  wr(UART_IER, UART_IER_RDI | UART_IER_THRI | UART_IER_RLSI | UART_IER_MSI);
  assert.equal(rd(UART_IIR), UART_IIR_RLSI);
  rd(UART_LSR);
  assert.equal(rd(UART_IIR), UART_IIR_RDI);
  rd(UART_RBR);
  assert.equal(rd(UART_IIR), UART_IIR_THRI);
  assert.equal(rd(UART_IIR), UART_IIR_MSI, "THR empty was cleared by the previous IIR read");
  assert.equal(rd(UART_MSR) & UART_MSR_DCTS, UART_MSR_DCTS);
  assert.equal(rd(UART_IIR), UART_IIR_NO_INT);
  assert.equal(uart.peek().msr & 0x0f, 0, "reading MSR cleared the deltas");
});

Deno.test("uart: loopback wires MCR to the modem inputs with delta bits", () => {
  const { rd, wr } = setup();
  wr(UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT1);
  const msr = rd(UART_MSR);
  assert.equal(msr & 0xf0, UART_MSR_CTS | UART_MSR_DSR | 0x40);
  wr(UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_RTS);
  assert.equal(rd(UART_MSR) & 0x0f, UART_MSR_TERI, "RI fell: trailing edge");
  wr(UART_MCR, UART_MCR_LOOP);
  assert.equal(rd(UART_MSR) & 0x0f, UART_MSR_DCTS | UART_MSR_DDSR);
});

Deno.test("uart: FCR: toggling FIFO enable empties the receiver; bit 0 clear ignores the rest", () => {
  const { uart, rd, wr } = setup();
  wr(UART_FCR, UART_FCR_ENABLE_FIFO);
  wr(UART_MCR, UART_MCR_LOOP);
  wr(UART_THR, 7);
  wr(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
  assert.equal(rd(UART_LSR) & UART_LSR_DR, 0, "receiver cleared");
  wr(UART_THR, 8);
  wr(UART_FCR, 0xc0); // FCR0 = 0: FIFOs off, trigger bits not programmed
  assert.equal(uart.peek().rxCount, 0);
  assert.equal(uart.peek().fcr, 0);
  assert.equal(rd(UART_IIR) & 0xc0, 0);
});

Deno.test("uart: wide accesses reach one register; the block repeats every 8 bytes", () => {
  const { uart, wr } = setup();
  wr(UART_SCR, 0xa5);
  assert.equal(uart.read(UART_SCR, 4, 0), 0xa5n, "zero-extended");
  uart.write(UART_SCR, 8, 0x1234_5678_9abc_def0n, 0);
  assert.equal(uart.read(UART_SCR, 1, 0), 0xf0n, "the low byte was written");
  assert.equal(uart.read(8 + UART_SCR, 1, 0), 0xf0n);
  assert.equal(uart.read(0xf8 + UART_LSR, 1, 0), BigInt(UART_LSR_THRE | UART_LSR_TEMT));
});

Deno.test("uart: on a bus at QEMU virt's address, a driver's polling loop works", () => {
  const bus = new Bus(new Ram(1 << 20));
  const out: number[] = [];
  const uart = new Uart16550({ transmit: (b) => out.push(b) });
  bus.map(0x1000_0000, 0x100, uart);
  const putc = (c: number) => {
    while ((Number(bus.read(0x1000_0005, 1)) & UART_LSR_THRE) === 0) { /* spin */ }
    bus.write(0x1000_0000, 1, BigInt(c));
  };
  for (const c of new TextEncoder().encode("boot\n")) putc(c);
  assert.equal(new TextDecoder().decode(new Uint8Array(out)), "boot\n");
  uart.receive("k");
  assert.equal(bus.read(0x1000_0000, 1), 0x6bn);
});

Deno.test("uart: reset clears the registers but keeps waiting host input", () => {
  const { uart, rd, wr } = setup();
  wr(UART_IER, UART_IER_THRI);
  wr(UART_LCR, 0x03);
  uart.receive("ab");
  uart.reset();
  assert.equal(rd(UART_IER), 0);
  assert.equal(rd(UART_LCR), 0);
  assert.equal(rd(UART_RBR), 0x62, "the held byte was lost; the waiting one entered");
});
