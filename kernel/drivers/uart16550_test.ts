import assert from "node:assert/strict";
import { Uart16550 } from "../../emulator/devices/uart16550.ts";
import type { UartRegisters } from "../components.ts";
import { createUartConsole, UART_POLL_LIMIT } from "./uart16550.ts";

/** The emulator's 16550 as the driver's register interface, recording what it sent. */
function uart() {
  const sent: number[] = [];
  const dev = new Uart16550({ transmit: (b) => sent.push(b), clockHz: 3_686_400 });
  const regs: UartRegisters = {
    read: (r) => Number(dev.read(r, 1, 0)),
    write: (r, v) => void dev.write(r, 1, BigInt(v), 0),
  };
  return { dev, regs, sent };
}

Deno.test("uart console: init programs 115200 8N1 with FIFOs", () => {
  const { dev, regs } = uart();
  createUartConsole(regs, 3_686_400).init(115200);
  const r = dev.peek();
  assert.equal(r.divisor, 2, "3686400 / (16 * 115200)");
  assert.equal(r.lcr, 0x03, "8 data bits, 1 stop bit, no parity, DLAB off");
  assert.equal(r.fcr & 0x01, 0x01, "FIFOs enabled");
  assert.equal(r.ier, 0, "no interrupts");
  assert.equal(r.mcr, 0x0b, "DTR, RTS, OUT2");
});

Deno.test("uart console: bytes go out through THR, input comes in through RBR", () => {
  const { dev, regs, sent } = uart();
  const con = createUartConsole(regs, 3_686_400);
  con.init(115200);
  for (const b of new TextEncoder().encode("hi\n")) con.putByte(b);
  assert.deepEqual(sent, [0x68, 0x69, 0x0a]);
  assert.equal(con.getByte(), undefined, "nothing received");
  dev.receive("k");
  assert.equal(con.getByte(), 0x6b);
  assert.equal(con.getByte(), undefined);
  con.enableReceiveInterrupt(true);
  assert.equal(dev.peek().ier & 1, 1);
  con.enableReceiveInterrupt(false);
  assert.equal(dev.peek().ier & 1, 0);
});

Deno.test("uart console: a transmitter that never gets ready is an error, not a hang", () => {
  let polls = 0;
  const stuck: UartRegisters = {
    read: () => (polls++, 0x00),
    write: () => {},
  };
  const con = createUartConsole(stuck, 3_686_400);
  assert.throws(() => con.putByte(0x41), /never became ready: LSR.THRE stayed 0/);
  assert.equal(polls, UART_POLL_LIMIT + 1);
  assert.throws(() => con.init(1), /cannot be reached/);
});
