/**
 * The grader of lesson 01 catches real mistakes: drivers and readers with one bug each
 * (the mistakes students make) must fail the case that is about that bug, on both boards,
 * while the reference passes everything (tests/lessons_test.ts).
 */

import assert from "node:assert/strict";
import type { MemoryRegion } from "../../emulator/core/bootinfo.ts";
import type {
  SerialConsole,
  SerialConsoleFactory,
  UartRegisters,
} from "../../kernel/components.ts";
import { createUartConsole } from "../../kernel/drivers/uart16550.ts";
import type { PhysMem } from "../../kernel/mm/phys.ts";
import { assertFailsOn, failingCases, type Failures } from "../harness/grader_testing.ts";
import { runLesson } from "../harness/run.ts";
import lesson, { type MemoryMapReader, referenceMemoryMap } from "./lesson.ts";

/** The cases `impls` fails, with the architectures each fails on. */
function failures(
  impls: { bootInfo?: MemoryMapReader; console?: SerialConsoleFactory },
  only?: string,
): Failures {
  return failingCases(lesson, {
    bootInfo: impls.bootInfo ?? referenceMemoryMap,
    console: impls.console ?? createUartConsole,
  }, only);
}

/** A driver built like the reference, with one step changed by `bug`. */
function driver(bug: Partial<Record<keyof SerialConsole | "lcr" | "ier", unknown>>) {
  return (regs: UartRegisters, clockHz: number): SerialConsole => {
    const good = createUartConsole(regs, clockHz);
    return {
      init(baud) {
        good.init(baud);
        if (bug.lcr !== undefined) regs.write(3, bug.lcr as number);
        if (bug.ier !== undefined) regs.write(1, bug.ier as number);
      },
      putByte: (bug.putByte as SerialConsole["putByte"]) ?? ((b) => good.putByte(b)),
      getByte: (bug.getByte as SerialConsole["getByte"]) ?? (() => good.getByte()),
      enableReceiveInterrupt:
        (bug.enableReceiveInterrupt as SerialConsole["enableReceiveInterrupt"]) ??
          ((on) => good.enableReceiveInterrupt(on)),
    };
  };
}

Deno.test("lesson 01 grader: a driver that does not poll LSR.THRE loses bytes and fails", () => {
  const noPoll: SerialConsoleFactory = (regs, clock) => ({
    ...driver({})(regs, clock),
    putByte: (b) => regs.write(0, b),
  });
  const failed = failures({ console: noPoll });
  assertFailsOn(failed, "putByte waits for LSR.THRE before it writes THR");
  assert.equal(failed.size, 1, [...failed.keys()].join("; "));
});

Deno.test("lesson 01 grader: leaving DLAB set, skipping the FIFO clear, leaving IER on each fail their case", () => {
  assertFailsOn(
    failures({ console: driver({ lcr: 0x83 }) }, "DLAB"),
    "init leaves the line at 8 data bits, no parity, 1 stop bit, DLAB clear",
  );
  // FCR written with only its enable bit: the FIFOs on, nothing cleared.
  const noClear: SerialConsoleFactory = (regs, clock) =>
    createUartConsole({
      read: (r) => regs.read(r),
      write: (r, v) => regs.write(r, r === 2 ? v & 0x01 : v),
    }, clock);
  assertFailsOn(
    failures({ console: noClear }, "FIFOs"),
    "init enables the FIFOs and clears what was received before",
  );
  assertFailsOn(
    failures({ console: driver({ ier: 0x01 }) }, "masks"),
    "init masks the UART's interrupts",
  );
});

Deno.test("lesson 01 grader: a divisor computed for the wrong clock fails", () => {
  const wrongClock: SerialConsoleFactory = (regs) => createUartConsole(regs, 1_843_200);
  const failed = failures({ console: wrongClock }, "divisor latch for");
  // Right on the PC by chance (its clock is 1.8432 MHz), wrong on RISC-V.
  assert.deepEqual(failed.get("init programs the divisor latch for 115200 baud"), ["riscv64"]);
});

Deno.test("lesson 01 grader: getByte that ignores LSR.DR, or reads RBR twice, fails", () => {
  const ignoresDr = driver({});
  const blind: SerialConsoleFactory = (regs, clock) => ({
    ...ignoresDr(regs, clock),
    getByte: () => regs.read(0),
  });
  assertFailsOn(
    failures({ console: blind }, "returns undefined"),
    "getByte returns undefined when nothing arrived, then each byte that did",
  );
  const greedy: SerialConsoleFactory = (regs, clock) => ({
    ...ignoresDr(regs, clock),
    getByte: () => {
      if (!(regs.read(5) & 1)) return undefined;
      regs.read(0); // a stray read: the byte is gone
      return regs.read(5) & 1 ? regs.read(0) : undefined;
    },
  });
  assertFailsOn(
    failures({ console: greedy }, "random traffic"),
    "getByte delivers random traffic in order, nothing lost or repeated",
  );
});

Deno.test("lesson 01 grader: enableReceiveInterrupt that overwrites IER fails", () => {
  const overwrite: SerialConsoleFactory = (regs, clock) => ({
    ...driver({})(regs, clock),
    enableReceiveInterrupt: (on) => regs.write(1, on ? 1 : 0),
  });
  assertFailsOn(
    failures({ console: overwrite }, "IER.ERBFI"),
    "enableReceiveInterrupt sets and clears IER.ERBFI, and only it",
  );
});

Deno.test("lesson 01 grader: a console that throws makes the kernel panic, and the system case says so", () => {
  const broken: SerialConsoleFactory = (regs, clock) => ({
    ...createUartConsole(regs, clock),
    putByte: () => {
      throw new Error("oops");
    },
  });
  const results = runLesson(lesson, { bootInfo: referenceMemoryMap, console: broken }, {
    which: "exercise",
    seed: 1,
    arches: ["riscv64"],
    only: "kernel boots",
  });
  assert.equal(results.length, 1);
  assert.equal(results[0].passed, false);
  assert.match(
    results[0].failure!.hardware!.join("\n"),
    /component console: putByte\(\d+\) threw Error: oops/,
  );
});

Deno.test("lesson 01 grader: memory-map readers with one bug each fail", () => {
  const read =
    (entrySize: number, checkMagic: boolean): MemoryMapReader => (mem: PhysMem, pa: number) => {
      if (checkMagic && mem.read(pa, 8) !== 0x4f46_4e49_544f_4f42n) throw new Error("bad magic");
      const at = Number(mem.read(pa + 48, 8)), n = Number(mem.read(pa + 56, 4));
      return Array.from({ length: n }, (_, i): MemoryRegion => ({
        base: Number(mem.read(at + i * entrySize, 8)),
        length: Number(mem.read(at + i * entrySize + 8, 8)),
        type: Number(mem.read(at + i * entrySize + 16, 4)),
      }));
    };
  const bootInfoCases = (reader: MemoryMapReader) =>
    new Map([...failures({ bootInfo: reader }, "map"), ...failures({ bootInfo: reader }, "magic")]);
  const noVersion = bootInfoCases(read(24, true));
  assert.equal(noVersion.size, 1, "right but for the version check");
  assertFailsOn(noVersion, "checks the magic and the version before trusting the block");
  const wrongSize = bootInfoCases(read(16, true));
  assertFailsOn(wrongSize, "reads the board's memory map from the boot information");
  assertFailsOn(
    wrongSize,
    "reads a map of up to 40 entries, with addresses above 4 GiB, anywhere in RAM",
  );
  const trusting = failures({ bootInfo: read(24, false) }, "magic");
  assertFailsOn(trusting, "checks the magic and the version before trusting the block");
});
