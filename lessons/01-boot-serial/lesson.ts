/**
 * Lesson 01, boot and the serial console: the graded cases.
 *
 * Two components: a reader of the memory map in the boot-information block (this lesson's
 * own; the kernel's is kernel/bootinfo.ts), and the console driver for the 16550 UART
 * (SerialConsole, kernel/components.ts; the reference is kernel/drivers/uart16550.ts).
 *
 * Every check asks the hardware: the boot-information block the firmware wrote, the UART's
 * registers as the device holds them, the bytes that reached the host side of the line.
 *
 * @module
 */

import {
  type BootInfo,
  BOOTINFO_MAGIC,
  MEMMAP_TYPE_NAMES,
  type MemoryRegion,
  writeBootInfo,
} from "../../emulator/core/bootinfo.ts";
import type { Bus } from "../../emulator/core/bus.ts";
import type { Prng } from "../../emulator/core/prng.ts";
import {
  UART_FCR_ENABLE_FIFO,
  UART_IER,
  UART_IIR_NO_INT,
  UART_IIR_RDI,
  UART_LCR_DLAB,
  UART_LSR,
  UART_LSR_TEMT,
  UART_LSR_THRE,
  UART_THR,
} from "../../emulator/devices/uart16550.ts";
import { parseBootInfo } from "../../kernel/bootinfo.ts";
import type { SerialConsoleFactory, UartRegisters } from "../../kernel/components.ts";
import { createUartConsole } from "../../kernel/drivers/uart16550.ts";
import type { PhysMem } from "../../kernel/mm/phys.ts";
import type { CaseBoard } from "../harness/boards.ts";
import type { CaseContext } from "../harness/context.ts";
import { defineLesson, exercise } from "../harness/define.ts";
import { checkCleanRun } from "../harness/system.ts";
import type { readMemoryMap } from "./exercise/bootinfo.ts";
import type { createConsole } from "./exercise/console.ts";

/** This lesson's own component: reads the memory map out of the boot-information block. */
export type MemoryMapReader = (mem: PhysMem, bootInfo: number) => MemoryRegion[];

/** The reference reader: the kernel's own parser of the block (kernel/bootinfo.ts). */
export function referenceMemoryMap(mem: PhysMem, bootInfo: number): MemoryRegion[] {
  return parseBootInfo(mem, bootInfo).memoryMap;
}

type Components = { bootInfo: MemoryMapReader; console: SerialConsoleFactory };
type T = CaseContext<Components>;

const hex = (v: number | bigint, digits = 2) => `0x${v.toString(16).padStart(digits, "0")}`;

/** The baud rates a PC's UART reaches exactly from 1.8432 MHz, and virt's from 3.6864 MHz. */
const BAUD_RATES = [9600, 19200, 38400, 57600, 115200];

// ---- what the grader shows -------------------------------------------------------------

/** The UART's registers as the device holds them, in one line a student can read. */
function uartState(board: CaseBoard): string[] {
  const r = board.uart.peek();
  const baud = r.divisor
    ? `${Math.round(board.uartClockHz / (16 * r.divisor))} baud`
    : "no baud rate";
  return [
    `the UART (${board.uartLocation}) holds: divisor latch = ${r.divisor} (${baud} from ` +
    `${board.uartClockHz} Hz), LCR = ${hex(r.lcr)}, FCR = ${hex(r.fcr)}, IER = ${hex(r.ier)}, ` +
    `MCR = ${hex(r.mcr)}, LSR = ${hex(r.lsr)}, IIR = ${
      hex(r.iir)
    }, ${r.rxCount} byte(s) received ` +
    `and unread`,
  ];
}

/** Bytes as text a student can compare: printable ASCII as is, the rest as \xNN. */
function showBytes(bytes: readonly number[]): string {
  const s = bytes.map((b) =>
    b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c
      ? String.fromCharCode(b)
      : `\\x${b.toString(16).padStart(2, "0")}`
  ).join("");
  return `"${s}" (${bytes.length} bytes)`;
}

function showMap(map: readonly MemoryRegion[]): string[] {
  return map.map((r, i) =>
    `  [${i}] ${hex(r.base, 1)}..${hex(r.base + r.length, 1)} ${
      MEMMAP_TYPE_NAMES[r.type] ?? `type ${r.type}`
    }`
  );
}

/** A hexdump of the block's first bytes, 16 a line, as the bus reads them. */
function dump(board: CaseBoard, pa: number, length: number): string[] {
  const bytes = board.ram.readBytes(pa, length) ?? new Uint8Array();
  const lines = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = [...bytes.subarray(i, i + 16)].map((b) => b.toString(16).padStart(2, "0"));
    lines.push(`  ${hex(pa + i, 1)}: ${row.join(" ")}`);
  }
  return lines;
}

/** Checks a map the student read against the one in RAM. */
function checkMap(t: T, got: unknown, want: readonly MemoryRegion[], at: number): void {
  const hardware = [
    `the memory map the firmware wrote (${want.length} entries):`,
    ...showMap(want),
    "the block's header in RAM:",
    ...dump(t.board, at, 64),
  ];
  t.check(Array.isArray(got), "readMemoryMap must return an array of regions", {
    saw: `it returned ${JSON.stringify(got)}`,
    hardware,
  });
  const plain = (got as MemoryRegion[]).map((r) => ({
    base: r?.base,
    length: r?.length,
    type: r?.type,
  }));
  t.equal(plain, want.map((r) => ({ ...r })), "the memory map read from the boot information", {
    hardware,
  });
}

/** A seeded Fisher-Yates shuffle. */
function shuffled<X>(items: readonly X[], rng: Prng): X[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.range(0, i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

// ---- UART helpers ------------------------------------------------------------------------

/** The console under test, initialised at `baud`. */
function started(t: T, baud = 115200) {
  const con = t.impl.console(t.uartRegisters, t.board.uartClockHz);
  con.init(baud);
  return con;
}

/**
 * A transmitter that stays busy after each byte, as a real one does while it shifts the
 * byte out (87 µs at 115200 baud): LSR.THRE reads 0 for a few reads after each write to
 * THR. A byte written while THRE = 0 is lost, as it would overwrite the one being sent.
 * (The emulated UART sends instantly, so without this no driver could be caught not
 * polling.)
 */
function busyTransmitter(regs: UartRegisters, board: CaseBoard, rng: Prng) {
  let busy = 0;
  const lost: { byte: number; after: number }[] = [];
  let last = -1;
  const wrapped: UartRegisters = {
    read(reg) {
      const v = regs.read(reg);
      if (reg === UART_LSR && busy > 0) {
        busy--;
        return v & ~(UART_LSR_THRE | UART_LSR_TEMT);
      }
      return v;
    },
    write(reg, value) {
      const isThr = reg === UART_THR && (board.uart.peek().lcr & UART_LCR_DLAB) === 0;
      if (isThr && busy > 0) {
        lost.push({ byte: value & 0xff, after: last });
        return;
      }
      if (isThr) {
        busy = rng.range(1, 6);
        last = value & 0xff;
      }
      regs.write(reg, value);
    },
  };
  return { regs: wrapped, lost };
}

// ---- the boot information ----------------------------------------------------------------

/** A random boot-information block, written by the grader as firmware would; its address. */
function randomBlock(t: T): { pa: number; info: BootInfo } {
  const rng = t.rng;
  const count = rng.range(1, 40);
  const memoryMap: MemoryRegion[] = [];
  let base = rng.range(0, 0x100) * 0x1000;
  for (let i = 0; i < count; i++) {
    // Lengths up to 64 GiB, gaps up to 16 GiB: addresses well above 4 GiB, exact as numbers.
    const length = rng.range(1, 0x100_0000) * 0x1000;
    memoryMap.push({ base, length, type: rng.range(0, 7) });
    base += length + rng.range(0, 0x40_0000) * 0x1000;
  }
  const info: BootInfo = {
    hhdmOffset: 0xffff_8000_0000_0000n,
    rsdp: 0,
    dtb: 0,
    cmdline: "console=ttyS0 grader=yes",
    memoryMap,
    modules: [],
    cpus: [{ index: 0, hwId: 0, flags: 1 }],
    bootCpu: 0,
    kernelPhys: 0x20_0000,
    kernelVirt: 0xffff_ffff_8000_0000n,
    kernelSize: 0x1_0000,
  };
  const region = t.board.memoryMap.find((r) => r.type === 0 && r.length >= 0x40000)!;
  const pa = region.base + rng.range(0, 0x3000) * 8;
  writeBootInfo(t.board.machine.bus as Bus, pa, info);
  return { pa, info };
}

// ---- the lesson --------------------------------------------------------------------------

export default defineLesson<Components>({
  number: 1,
  title: "Boot and the serial console",
  components: {
    bootInfo: {
      interface: "MemoryMapReader (lessons/01-boot-serial/lesson.ts)",
      exercise: exercise<typeof readMemoryMap>("exercise/bootinfo.ts", "readMemoryMap"),
      reference: referenceMemoryMap,
    },
    console: {
      interface: "SerialConsoleFactory (kernel/components.ts)",
      kernelKey: "console",
      exercise: exercise<typeof createConsole>("exercise/console.ts", "createConsole"),
      reference: createUartConsole,
    },
  },
  cases: [
    // ---- part 1: the boot information ----
    {
      name: "reads the board's memory map from the boot information",
      points: 2,
      anchor: "step-1-reading-the-memory-map",
      arch: "both",
      run(t) {
        const got = t.impl.bootInfo(t.mem, t.board.bootInfoAddress);
        checkMap(t, got, t.board.bootInfo.memoryMap, t.board.bootInfoAddress);
        t.note(`${t.board.bootInfo.memoryMap.length} entries at ${hex(t.board.bootInfoAddress)}`);
      },
    },
    {
      name: "reads a map of up to 40 entries, with addresses above 4 GiB, anywhere in RAM",
      points: 2,
      anchor: "step-1-reading-the-memory-map",
      arch: "both",
      run(t) {
        for (let round = 0; round < 4; round++) {
          const { pa, info } = randomBlock(t);
          checkMap(t, t.impl.bootInfo(t.mem, pa), info.memoryMap, pa);
        }
      },
    },
    {
      name: "checks the magic and the version before trusting the block",
      points: 2,
      anchor: "step-2-checking-the-block",
      arch: "both",
      run(t) {
        const pa = t.board.bootInfoAddress;
        checkMap(t, t.impl.bootInfo(t.mem, pa), t.board.bootInfo.memoryMap, pa);
        const original = t.board.ram.readBytes(pa, 16)!;
        // One byte of the magic wrong.
        const bad = original.slice();
        bad[t.rng.range(0, 7)] ^= 1 << t.rng.range(0, 7);
        t.board.ram.writeBytes(pa, bad);
        t.throws(
          () => t.impl.bootInfo(t.mem, pa),
          `readMemoryMap must refuse a block whose magic is not "BOOTINFO" ` +
            `(${hex(BOOTINFO_MAGIC, 16)})`,
          { hardware: ["the block's header in RAM:", ...dump(t.board, pa, 16)] },
        );
        // The magic right, the version wrong.
        const version = original.slice();
        version[8] = 2;
        t.board.ram.writeBytes(pa, version);
        t.throws(
          () => t.impl.bootInfo(t.mem, pa),
          "readMemoryMap must refuse a block of a version it does not know (here 2, not 1)",
          { hardware: ["the block's header in RAM:", ...dump(t.board, pa, 16)] },
        );
      },
    },

    // ---- part 2: the UART ----
    {
      name: "init programs the divisor latch for 115200 baud",
      points: 2,
      anchor: "the-divisor-latch",
      arch: "both",
      run(t) {
        started(t, 115200);
        const want = t.board.uartClockHz / (16 * 115200);
        t.equal(t.board.uart.peek().divisor, want, "the divisor latch (DLM:DLL)", {
          hardware: uartState(t.board),
        });
      },
    },
    {
      name: "init programs every standard baud rate exactly",
      points: 2,
      anchor: "the-divisor-latch",
      arch: "both",
      run(t) {
        const con = t.impl.console(t.uartRegisters, t.board.uartClockHz);
        const rates = shuffled(BAUD_RATES, t.rng);
        for (const baud of rates) {
          con.init(baud);
          t.equal(
            t.board.uart.peek().divisor,
            t.board.uartClockHz / (16 * baud),
            `the divisor latch after init(${baud})`,
            { hardware: uartState(t.board) },
          );
        }
      },
    },
    {
      name: "init leaves the line at 8 data bits, no parity, 1 stop bit, DLAB clear",
      points: 2,
      anchor: "line-control",
      arch: "both",
      run(t) {
        started(t);
        const lcr = t.board.uart.peek().lcr;
        t.check(
          (lcr & UART_LCR_DLAB) === 0,
          "LCR.DLAB is still set after init: writes to THR would go to the divisor latch",
          { expected: "LCR = 0x03", saw: `LCR = ${hex(lcr)}`, hardware: uartState(t.board) },
        );
        t.equal(hex(lcr), "0x03", "LCR: 8 data bits (WLS = 11), 1 stop bit, no parity", {
          hardware: uartState(t.board),
        });
      },
    },
    {
      name: "init enables the FIFOs and clears what was received before",
      points: 2,
      anchor: "the-fifos",
      arch: "both",
      run(t) {
        // The firmware left the FIFOs on, with bytes nobody read.
        t.board.uart.write(2, 1, BigInt(UART_FCR_ENABLE_FIFO), -1);
        t.board.uart.receive("stale input"); // fits in the 16-byte FIFO
        started(t);
        const r = t.board.uart.peek();
        t.check((r.fcr & UART_FCR_ENABLE_FIFO) !== 0, "the FIFOs are not enabled (FCR bit 0)", {
          hardware: uartState(t.board),
        });
        t.equal(r.rxCount, 0, "bytes left in the receive FIFO after init (FCR bit 1 clears it)", {
          hardware: uartState(t.board),
        });
      },
    },
    {
      name: "init masks the UART's interrupts",
      points: 1,
      anchor: "interrupts-off",
      arch: "both",
      run(t) {
        t.board.uart.write(UART_IER, 1, 0x0fn, -1); // what an earlier owner left on
        started(t);
        t.equal(hex(t.board.uart.peek().ier), "0x00", "IER after init", {
          hardware: uartState(t.board),
        });
      },
    },
    {
      name: "putByte sends each byte through THR, in order",
      points: 2,
      anchor: "step-4-sending-a-byte",
      arch: "both",
      run(t) {
        const con = started(t);
        const text = [...new TextEncoder().encode("hello, world\r\n")];
        for (const b of text) con.putByte(b);
        t.equal(showBytes(t.board.transmitted), showBytes(text), "the bytes on the line", {
          hardware: uartState(t.board),
        });
      },
    },
    {
      name: "putByte sends all 256 byte values unchanged",
      points: 1,
      anchor: "step-4-sending-a-byte",
      arch: "both",
      run(t) {
        const con = started(t);
        const bytes = Array.from({ length: 256 }, (_, i) => i);
        for (const b of bytes) con.putByte(b);
        t.equal(t.board.transmitted, bytes, "the bytes on the line", {
          hardware: uartState(t.board),
        });
      },
    },
    {
      name: "putByte waits for LSR.THRE before it writes THR",
      points: 3,
      anchor: "step-4-sending-a-byte",
      arch: "both",
      run(t) {
        const busy = busyTransmitter(t.uartRegisters, t.board, t.rng);
        const con = t.impl.console(busy.regs, t.board.uartClockHz);
        con.init(115200);
        const text = [...new TextEncoder().encode(`seed ${t.seed}: the quick brown fox\n`)];
        for (const b of text) con.putByte(b);
        if (busy.lost.length) {
          const l = busy.lost[0];
          t.fail(
            `${busy.lost.length} byte(s) written to THR while LSR.THRE was 0 were lost; the first ` +
              `was ${hex(l.byte)}, written while ${hex(l.after)} was still being sent`,
            {
              expected: showBytes(text),
              saw: showBytes(t.board.transmitted),
              hardware: ["poll LSR until THRE (bit 5) is 1 before each write to THR"],
            },
          );
        }
        t.equal(showBytes(t.board.transmitted), showBytes(text), "the bytes on the line");
      },
    },
    {
      name: "getByte returns undefined when nothing arrived, then each byte that did",
      points: 2,
      anchor: "step-5-receiving-a-byte",
      arch: "both",
      run(t) {
        const con = started(t);
        t.equal(con.getByte(), undefined, "getByte() with nothing received (LSR.DR = 0)", {
          hardware: uartState(t.board),
        });
        t.board.uart.receive("ok");
        t.equal(con.getByte(), 0x6f, "the first byte received ('o')", {
          hardware: uartState(t.board),
        });
        t.equal(con.getByte(), 0x6b, "the second byte received ('k')", {
          hardware: uartState(t.board),
        });
        t.equal(con.getByte(), undefined, "getByte() once both were read", {
          hardware: uartState(t.board),
        });
      },
    },
    {
      name: "getByte delivers random traffic in order, nothing lost or repeated",
      points: 3,
      anchor: "step-5-receiving-a-byte",
      arch: "both",
      run(t) {
        const con = started(t);
        const sent: number[] = [], got: number[] = [];
        for (let round = 0; round < 150; round++) {
          const burst = Array.from({ length: t.rng.range(0, 24) }, () => t.rng.range(0, 255));
          sent.push(...burst);
          t.board.uart.receive(burst);
          for (let polls = t.rng.range(0, 30); polls > 0; polls--) {
            const b = con.getByte();
            if (b !== undefined) got.push(b);
          }
        }
        for (let i = 0; i < sent.length + 1; i++) {
          const b = con.getByte();
          if (b === undefined) break;
          got.push(b);
        }
        t.equal(got, sent, `the ${sent.length} bytes received, in order`, {
          hardware: uartState(t.board),
        });
      },
    },
    {
      name: "enableReceiveInterrupt sets and clears IER.ERBFI, and only it",
      points: 2,
      anchor: "step-6-the-receive-interrupt",
      arch: "both",
      run(t) {
        const con = started(t);
        t.board.uart.write(UART_IER, 1, 0x08n, -1); // EDSSI, someone else's
        con.enableReceiveInterrupt(true);
        t.equal(hex(t.board.uart.peek().ier), "0x09", "IER after enableReceiveInterrupt(true)", {
          hardware: uartState(t.board),
        });
        con.enableReceiveInterrupt(false);
        t.equal(hex(t.board.uart.peek().ier), "0x08", "IER after enableReceiveInterrupt(false)", {
          hardware: uartState(t.board),
        });
      },
    },
    {
      name: "with the receive interrupt on, a received byte raises the UART's interrupt",
      points: 2,
      anchor: "step-6-the-receive-interrupt",
      arch: "both",
      run(t) {
        const con = started(t);
        con.enableReceiveInterrupt(true);
        t.equal(hex(t.board.uart.peek().iir & 0x0f), hex(UART_IIR_NO_INT), "IIR before input", {
          hardware: uartState(t.board),
        });
        t.board.uart.receive("z");
        t.equal(
          hex(t.board.uart.peek().iir & 0x0f),
          hex(UART_IIR_RDI),
          "IIR once a byte arrived: received data available",
          { hardware: uartState(t.board) },
        );
        const pending = t.board.uartIrqPending();
        if (pending !== undefined) {
          t.check(pending, "the interrupt controller does not see the UART's line raised", {
            hardware: [...uartState(t.board), "the PLIC's pending bit for source 10 is 0"],
          });
        }
        t.equal(con.getByte(), 0x7a, "the byte ('z')");
        t.equal(
          hex(t.board.uart.peek().iir & 0x0f),
          hex(UART_IIR_NO_INT),
          "IIR once the byte was read",
          { hardware: uartState(t.board) },
        );
      },
    },
    {
      name: "the kernel boots with your console and its first log lines reach the line",
      points: 3,
      anchor: "step-7-the-first-log-lines",
      arch: "both",
      system: true,
      run(t) {
        checkCleanRun(t, t.boot(), [
          new RegExp(`cpu0 info {2}kernel: booting on ${t.arch}, cpu0 of 1\n`),
          /cpu0 info {2}console: .* at 115200 baud\n/,
          /cpu0 info {2}memory map \(\d+ entries\):\n/,
          /cpu0 info {2}pmm: [\d.]+ MiB free/,
        ]);
      },
    },
  ],
});
