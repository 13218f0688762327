import assert from "node:assert/strict";
import type { CpuState } from "../core/machine.ts";
import { Machine } from "../core/machine.ts";
import { Prng } from "../core/prng.ts";
import { Trace } from "../core/trace.ts";
import { Uart16550 } from "../devices/uart16550.ts";
import { Clint, CLINT_MSIP, VIRT_CLINT_SIZE } from "./clint.ts";
import {
  CSR_SATP,
  CSR_SSTATUS,
  IRQ_S_SOFT,
  IRQ_S_TIMER,
  SBI_ERR_ALREADY_AVAILABLE,
  SBI_ERR_FAILED,
  SBI_ERR_INVALID_ADDRESS,
  SBI_ERR_INVALID_PARAM,
  SBI_ERR_NOT_SUPPORTED,
  SBI_EXT_BASE,
  SBI_EXT_DBCN,
  SBI_EXT_HSM,
  SBI_EXT_IPI,
  SBI_EXT_RFENCE,
  SBI_EXT_SRST,
  SBI_EXT_TIME,
  SBI_SUCCESS,
  SSTATUS_SIE,
} from "./csr.ts";
import { type Access, type Hart, PRIV_S, type Privilege, type Translation } from "./hart_api.ts";
import {
  SBI_DBCN_MAX_BYTES,
  SBI_HSM_STATE_STARTED,
  SBI_HSM_STATE_STOPPED,
  SBI_HSM_STATE_SUSPENDED,
  SBI_HSM_SUSPEND_NON_RET_DEFAULT,
  SBI_IMPL_ID,
  SBI_SPEC_VERSION,
  SbiFirmware,
} from "./sbi.ts";

/** The parts of a hart the firmware uses, recording what was done to it. */
class FakeHart implements Hart {
  state: CpuState = "running";
  timeNs = 0;
  instret = 0;
  readonly x = new BigInt64Array(32);
  pc = 0n;
  priv: Privilege = PRIV_S;
  firmware: ((hart: Hart) => void) | undefined;
  /** Pending supervisor interrupts by number, as set by the firmware. */
  readonly sip = new Map<number, boolean>();
  /** When each interrupt was last raised (virtual ns). */
  readonly raisedAt = new Map<number, number>();
  readonly csrFile = new Map<number, bigint>();
  readonly fences: string[] = [];
  waitingAt: bigint | undefined;

  constructor(readonly machine: Machine<Hart>, readonly index: number) {}
  get hartId(): number {
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
  csrr(csr: number): bigint {
    return this.csrFile.get(csr) ?? 0n;
  }
  csrw(csr: number, value: bigint): void {
    this.csrFile.set(csr, value);
  }
  csrs(csr: number, mask: bigint): void {
    this.csrw(csr, this.csrr(csr) | mask);
  }
  csrc(csr: number, mask: bigint): void {
    this.csrw(csr, this.csrr(csr) & ~mask);
  }
  sret(): void {}
  wfi(resumeAt?: bigint): void {
    this.state = "idle";
    this.waitingAt = resumeAt ?? this.pc;
  }
  sfenceVma(vaddr?: bigint, asid?: number): void {
    this.fences.push(
      `sfence.vma ${vaddr === undefined ? "all" : vaddr.toString(16)} ${asid ?? "all"}`,
    );
  }
  fenceI(): void {
    this.fences.push("fence.i");
  }
  ecall(): void {
    this.firmware?.(this);
  }
  load(_va: bigint, _size: number): bigint {
    throw new Error("not used by the firmware");
  }
  store(_va: bigint, _size: number, _value: bigint): void {
    throw new Error("not used by the firmware");
  }
  translate(_va: bigint, _access: Access, _priv: Privilege): Translation {
    throw new Error("not used by the firmware");
  }
  setInterruptPending(irq: number, level: boolean): void {
    this.sip.set(irq, level);
    if (level) this.raisedAt.set(irq, this.machine.now());
  }
  start(pc: bigint, opaque: bigint): void {
    this.state = "running";
    this.pc = pc;
    this.x[10] = BigInt(this.hartId);
    this.x[11] = opaque;
  }
  stop(): void {
    this.state = "stopped";
  }
}

const RAM = 0x8020_0000;
const UART = 0x1000_0000;
const CLINT = 0x0200_0000;

/** A machine of `n` fake harts (hart 0 running, the others stopped) with the firmware. */
function setup(n = 2, trace?: Trace) {
  const machine = new Machine<Hart>({ memory: 1 << 20, trace });
  machine.bus.addRam(RAM, 1 << 20);
  const out: number[] = [];
  const uart = new Uart16550({ transmit: (b) => out.push(b) });
  machine.bus.map(UART, 0x100, uart);
  const sbi = new SbiFirmware({ machine, clintBase: CLINT, uartBase: UART });
  const ids = Array.from({ length: n }, (_, i) => i);
  const clint = new Clint({
    harts: n,
    clock: machine,
    mtip: ids.map((h) => sbi.mtipLine(h)),
    msip: ids.map((h) => sbi.msipLine(h)),
  });
  machine.bus.map(CLINT, VIRT_CLINT_SIZE, clint);
  const harts = ids.map((i) => new FakeHart(machine, i));
  for (const h of harts) {
    h.firmware = sbi.call;
    if (h.index > 0) h.state = "stopped";
    machine.cpus.push(h);
  }
  return { machine, sbi, clint, uart, out, harts };
}

/** Makes an SBI call on `hart` and returns [a0 as a number, a1]. */
function call(hart: Hart, eid: number, fid: number, ...args: bigint[]): [number, bigint] {
  hart.x[17] = BigInt(eid);
  hart.x[16] = BigInt(fid);
  args.forEach((a, i) => (hart.x[10 + i] = BigInt.asIntN(64, a)));
  hart.ecall();
  return [Number(hart.x[10]), hart.x[11]];
}

Deno.test("sbi: BASE reports version 2.0, its id, and which extensions exist", () => {
  const { harts: [h] } = setup();
  assert.deepEqual(call(h, SBI_EXT_BASE, 0), [SBI_SUCCESS, BigInt(SBI_SPEC_VERSION)]);
  assert.equal(SBI_SPEC_VERSION, 0x0200_0000);
  assert.deepEqual(call(h, SBI_EXT_BASE, 1), [SBI_SUCCESS, BigInt(SBI_IMPL_ID)]);
  assert.equal(call(h, SBI_EXT_BASE, 2)[0], SBI_SUCCESS);
  for (
    const eid of [
      SBI_EXT_BASE,
      SBI_EXT_TIME,
      SBI_EXT_IPI,
      SBI_EXT_RFENCE,
      SBI_EXT_HSM,
      SBI_EXT_SRST,
      SBI_EXT_DBCN,
    ]
  ) {
    assert.deepEqual(call(h, SBI_EXT_BASE, 3, BigInt(eid)), [SBI_SUCCESS, 1n], `probe ${eid}`);
  }
  assert.deepEqual(call(h, SBI_EXT_BASE, 3, 0x01n), [SBI_SUCCESS, 0n], "legacy putchar: absent");
  assert.deepEqual(call(h, SBI_EXT_BASE, 3, 0x504d55n), [SBI_SUCCESS, 0n], "PMU: absent");
  assert.deepEqual(call(h, SBI_EXT_BASE, 3, BigInt(SBI_EXT_TIME) + (1n << 32n)), [SBI_SUCCESS, 0n]);
  for (const fid of [4, 5, 6]) assert.deepEqual(call(h, SBI_EXT_BASE, fid), [SBI_SUCCESS, 0n]);
});

Deno.test("sbi: unknown extensions and functions are NOT_SUPPORTED, never an exception", () => {
  const { harts: [h] } = setup();
  assert.equal(call(h, 0x1234_5678, 0)[0], SBI_ERR_NOT_SUPPORTED);
  assert.equal(call(h, SBI_EXT_BASE, 7)[0], SBI_ERR_NOT_SUPPORTED);
  assert.equal(call(h, SBI_EXT_TIME, 1)[0], SBI_ERR_NOT_SUPPORTED);
  assert.equal(call(h, SBI_EXT_HSM, 9)[0], SBI_ERR_NOT_SUPPORTED);
  assert.equal(call(h, SBI_EXT_RFENCE, 3)[0], SBI_ERR_NOT_SUPPORTED, "HFENCE: no H extension");
  h.x[17] = BigInt(SBI_EXT_BASE) | (1n << 40n);
  h.x[16] = 0n;
  h.ecall();
  assert.equal(Number(h.x[10]), SBI_ERR_NOT_SUPPORTED, "an EID wider than 32 bits");
});

Deno.test("sbi: legacy extensions answer NOT_SUPPORTED in a0 and leave a1 alone", () => {
  const { harts: [h] } = setup();
  h.x[11] = 0x77n;
  assert.deepEqual(call(h, 0x01, 0, 0x41n), [SBI_ERR_NOT_SUPPORTED, 0x77n]);
});

Deno.test("sbi: set_timer raises the supervisor timer interrupt when mtime reaches it", async (t) => {
  const { machine, harts: [h], clint } = setup(1);
  await t.step("a future time: nothing yet, then exactly on time", () => {
    assert.deepEqual(call(h, SBI_EXT_TIME, 0, 1000n), [SBI_SUCCESS, 0n]); // 100 us
    assert.equal(clint.mtimecmp(0), 1000n);
    assert.equal(h.sip.get(IRQ_S_TIMER), false, "set_timer clears STIP");
    machine.run(99_999);
    assert.equal(h.sip.get(IRQ_S_TIMER), false);
    machine.run(200_000);
    assert.equal(h.sip.get(IRQ_S_TIMER), true);
    assert.equal(h.raisedAt.get(IRQ_S_TIMER), 100_000);
  });
  await t.step("a time already past: at once, even while MTIP is still high", () => {
    call(h, SBI_EXT_TIME, 0, 5n);
    assert.equal(h.sip.get(IRQ_S_TIMER), true);
    call(h, SBI_EXT_TIME, 0, 6n);
    assert.equal(h.sip.get(IRQ_S_TIMER), true, "the M-mode interrupt is level-triggered");
  });
  await t.step("all ones: cleared and never again", () => {
    call(h, SBI_EXT_TIME, 0, -1n);
    assert.equal(h.sip.get(IRQ_S_TIMER), false);
    machine.run(10_000_000);
    assert.equal(h.sip.get(IRQ_S_TIMER), false);
  });
});

Deno.test("sbi: send_ipi raises the supervisor software interrupt on the targets only", async (t) => {
  const { harts, clint } = setup(4);
  const ssip = () => harts.map((h) => h.sip.get(IRQ_S_SOFT) ?? false);
  await t.step("a mask", () => {
    assert.deepEqual(call(harts[0], SBI_EXT_IPI, 0, 0b1010n, 0n), [SBI_SUCCESS, 0n]);
    assert.deepEqual(ssip(), [false, true, false, true]);
    assert.equal(clint.msip(1), false, "the firmware cleared msip after delivering");
  });
  await t.step("a mask with a base", () => {
    call(harts[0], SBI_EXT_IPI, 0, 0b1n, 2n);
    assert.equal(harts[2].sip.get(IRQ_S_SOFT), true);
  });
  await t.step("base -1 means every hart", () => {
    harts.forEach((h) => h.sip.clear());
    call(harts[0], SBI_EXT_IPI, 0, 0n, -1n);
    assert.deepEqual(ssip(), [true, true, true, true]);
  });
  await t.step("a hart that does not exist: INVALID_PARAM and nobody is interrupted", () => {
    harts.forEach((h) => h.sip.clear());
    assert.equal(call(harts[0], SBI_EXT_IPI, 0, 0b10001n, 0n)[0], SBI_ERR_INVALID_PARAM);
    assert.equal(call(harts[0], SBI_EXT_IPI, 0, 1n, 1n << 40n)[0], SBI_ERR_INVALID_PARAM);
    assert.deepEqual(ssip(), [false, false, false, false]);
  });
  await t.step("a bare msip write carries no event: the supervisor sees nothing", () => {
    clint.write(CLINT_MSIP + 4, 4, 1n, -1);
    assert.equal(harts[1].sip.get(IRQ_S_SOFT), undefined);
    assert.equal(clint.msip(1), false);
  });
});

Deno.test("sbi: remote fences run on the target harts", async (t) => {
  const { harts } = setup(3);
  const fences = () => harts.map((h) => h.fences.splice(0));
  await t.step("fence.i", () => {
    assert.equal(call(harts[0], SBI_EXT_RFENCE, 0, 0b110n, 0n)[0], SBI_SUCCESS);
    assert.deepEqual(fences(), [[], ["fence.i"], ["fence.i"]]);
  });
  await t.step("sfence.vma over the whole address space", () => {
    call(harts[0], SBI_EXT_RFENCE, 1, 0b1n, 0n, 0n, 0n);
    call(harts[0], SBI_EXT_RFENCE, 1, 0b1n, 0n, 0x1000n, -1n);
    assert.deepEqual(fences()[0], ["sfence.vma all all", "sfence.vma all all"]);
  });
  await t.step("sfence.vma over a range, page by page", () => {
    call(harts[0], SBI_EXT_RFENCE, 1, 0b10n, 0n, 0x4000_0000n, 0x2001n);
    assert.deepEqual(fences()[1], [
      "sfence.vma 40000000 all",
      "sfence.vma 40001000 all",
      "sfence.vma 40002000 all",
    ]);
  });
  await t.step("a large range flushes everything", () => {
    call(harts[0], SBI_EXT_RFENCE, 1, 0b10n, 0n, 0n, 1n << 30n);
    assert.deepEqual(fences()[1], ["sfence.vma all all"]);
  });
  await t.step("with an ASID", () => {
    call(harts[0], SBI_EXT_RFENCE, 2, 0b100n, 0n, 0x1000n, 0x1000n, 7n);
    assert.deepEqual(fences()[2], ["sfence.vma 1000 7"]);
  });
  await t.step("bad parameters", () => {
    assert.equal(
      call(harts[0], SBI_EXT_RFENCE, 1, 1n, 0n, -0x1000n, 0x2000n)[0],
      SBI_ERR_INVALID_ADDRESS,
    );
    assert.equal(call(harts[0], SBI_EXT_RFENCE, 0, 0b1000n, 0n)[0], SBI_ERR_INVALID_PARAM);
    assert.deepEqual(fences(), [[], [], []], "nothing was done");
  });
});

Deno.test("sbi: HSM starts, reports and stops harts", async (t) => {
  const { sbi, harts: [h0, h1] } = setup(2);
  await t.step("hart_start of a stopped hart", () => {
    assert.deepEqual(call(h0, SBI_EXT_HSM, 2, 1n), [SBI_SUCCESS, BigInt(SBI_HSM_STATE_STOPPED)]);
    assert.deepEqual(call(h0, SBI_EXT_HSM, 0, 1n, BigInt(RAM + 0x100), 0xabcn), [SBI_SUCCESS, 0n]);
    assert.equal(h1.pc, BigInt(RAM + 0x100));
    assert.equal(h1.x[11], 0xabcn, "a1 = opaque");
    assert.equal(h1.state, "running");
    assert.deepEqual(call(h0, SBI_EXT_HSM, 2, 1n), [SBI_SUCCESS, BigInt(SBI_HSM_STATE_STARTED)]);
  });
  await t.step("hart_start of a running hart or a hart that does not exist", () => {
    assert.equal(call(h0, SBI_EXT_HSM, 0, 1n, BigInt(RAM), 0n)[0], SBI_ERR_ALREADY_AVAILABLE);
    assert.equal(call(h0, SBI_EXT_HSM, 0, 0n, BigInt(RAM), 0n)[0], SBI_ERR_ALREADY_AVAILABLE);
    assert.equal(call(h0, SBI_EXT_HSM, 0, 2n, BigInt(RAM), 0n)[0], SBI_ERR_INVALID_PARAM);
    assert.equal(call(h0, SBI_EXT_HSM, 0, -1n, BigInt(RAM), 0n)[0], SBI_ERR_INVALID_PARAM);
    assert.equal(call(h0, SBI_EXT_HSM, 2, 16n)[0], SBI_ERR_INVALID_PARAM);
  });
  await t.step("hart_stop, then a start address that is not RAM", () => {
    call(h1, SBI_EXT_HSM, 1);
    assert.equal(h1.state, "stopped");
    assert.equal(sbi.hsmState(1), SBI_HSM_STATE_STOPPED);
    assert.equal(call(h0, SBI_EXT_HSM, 0, 1n, BigInt(UART), 0n)[0], SBI_ERR_INVALID_ADDRESS);
    assert.equal(call(h0, SBI_EXT_HSM, 0, 1n, 1n << 60n, 0n)[0], SBI_ERR_INVALID_ADDRESS);
    assert.equal(h1.state, "stopped");
  });
});

Deno.test("sbi: hart_suspend: non-retentive only, resuming as the spec says", async (t) => {
  const { sbi, harts: [h] } = setup(1);
  await t.step("retentive and reserved types", () => {
    assert.equal(call(h, SBI_EXT_HSM, 3, 0n, 0n, 0n)[0], SBI_ERR_NOT_SUPPORTED);
    assert.equal(call(h, SBI_EXT_HSM, 3, 1n, 0n, 0n)[0], SBI_ERR_INVALID_PARAM);
    assert.equal(call(h, SBI_EXT_HSM, 3, 0x9000_0000n, 0n, 0n)[0], SBI_ERR_INVALID_PARAM);
    const nonRet = BigInt(SBI_HSM_SUSPEND_NON_RET_DEFAULT);
    assert.equal(call(h, SBI_EXT_HSM, 3, nonRet, 0x10n, 0n)[0], SBI_ERR_INVALID_ADDRESS);
    assert.equal(h.state, "running");
  });
  await t.step(
    "default non-retentive: waits with satp = 0, SIE = 0, a0 = hartid, a1 = opaque",
    () => {
      h.csrw(CSR_SATP, 0x8000_0000_0000_1234n);
      h.csrw(CSR_SSTATUS, SSTATUS_SIE);
      call(h, SBI_EXT_HSM, 3, BigInt(SBI_HSM_SUSPEND_NON_RET_DEFAULT), BigInt(RAM + 0x40), 99n);
      assert.equal(h.state, "idle");
      assert.equal(h.waitingAt, BigInt(RAM + 0x40));
      assert.equal(h.csrr(CSR_SATP), 0n);
      assert.equal(h.csrr(CSR_SSTATUS) & SSTATUS_SIE, 0n);
      assert.deepEqual([h.x[10], h.x[11]], [0n, 99n]);
      assert.equal(sbi.hsmState(0), SBI_HSM_STATE_SUSPENDED);
    },
  );
  await t.step("woken by an interrupt: STARTED again", () => {
    h.state = "running";
    assert.equal(sbi.hsmState(0), SBI_HSM_STATE_STARTED);
  });
});

Deno.test("sbi: system_reset powers off or resets the machine", async (t) => {
  await t.step("shutdown, no reason: exit code 0", () => {
    const { machine, harts: [h] } = setup(1);
    call(h, SBI_EXT_SRST, 0, 0n, 0n);
    assert.deepEqual(machine.run(), {
      kind: "shutdown",
      code: 0,
      message: "SBI system_reset: shutdown (no reason)",
    });
  });
  await t.step("shutdown for a system failure: exit code 1", () => {
    const { machine, harts: [h] } = setup(1);
    call(h, SBI_EXT_SRST, 0, 0n, 1n);
    assert.equal(machine.stopReason?.kind, "shutdown");
    assert.equal((machine.stopReason as { code: number }).code, 1);
  });
  await t.step("cold and warm reboot reset the machine", () => {
    for (const type of [1n, 2n]) {
      const { machine, harts: [h] } = setup(1);
      call(h, SBI_EXT_SRST, 0, type, 0n);
      assert.equal(machine.stopReason?.kind, "reset");
    }
  });
  await t.step("reserved and vendor types or reasons: INVALID_PARAM, the machine runs on", () => {
    const { machine, harts: [h] } = setup(1);
    assert.equal(call(h, SBI_EXT_SRST, 0, 3n, 0n)[0], SBI_ERR_INVALID_PARAM);
    assert.equal(call(h, SBI_EXT_SRST, 0, 0xf000_0000n, 0n)[0], SBI_ERR_INVALID_PARAM);
    assert.equal(call(h, SBI_EXT_SRST, 0, 0n, 2n)[0], SBI_ERR_INVALID_PARAM);
    assert.equal(call(h, SBI_EXT_SRST, 0, 0n, 0xe000_0000n)[0], SBI_ERR_INVALID_PARAM);
    assert.equal(machine.stopReason, undefined);
  });
});

Deno.test("sbi: the debug console writes and reads through the UART", async (t) => {
  const { machine, uart, out, harts: [h] } = setup(1);
  const text = new TextEncoder().encode("hello, sbi\n");
  machine.bus.writeBytes(RAM + 0x100, text);
  await t.step("console_write from physical memory", () => {
    assert.deepEqual(call(h, SBI_EXT_DBCN, 0, BigInt(text.length), BigInt(RAM + 0x100), 0n), [
      SBI_SUCCESS,
      BigInt(text.length),
    ]);
    assert.deepEqual(new Uint8Array(out), text);
  });
  await t.step("console_write moves at most SBI_DBCN_MAX_BYTES a call", () => {
    out.length = 0;
    const n = BigInt(SBI_DBCN_MAX_BYTES + 100);
    assert.deepEqual(call(h, SBI_EXT_DBCN, 0, n, BigInt(RAM), 0n), [
      SBI_SUCCESS,
      BigInt(SBI_DBCN_MAX_BYTES),
    ]);
    assert.equal(out.length, SBI_DBCN_MAX_BYTES);
  });
  await t.step("console_write_byte", () => {
    out.length = 0;
    assert.deepEqual(call(h, SBI_EXT_DBCN, 2, 0x2141n), [SBI_SUCCESS, 0n]);
    assert.deepEqual(out, [0x41], "only the low byte");
  });
  await t.step("console_read: what has arrived, up to the count", () => {
    uart.receive("xyz");
    assert.deepEqual(call(h, SBI_EXT_DBCN, 1, 2n, BigInt(RAM + 0x200), 0n), [SBI_SUCCESS, 2n]);
    assert.deepEqual([...machine.bus.readBytes(RAM + 0x200, 3)!], [0x78, 0x79, 0]);
    assert.deepEqual(call(h, SBI_EXT_DBCN, 1, 8n, BigInt(RAM + 0x200), 0n), [SBI_SUCCESS, 1n]);
    assert.deepEqual(call(h, SBI_EXT_DBCN, 1, 8n, BigInt(RAM + 0x200), 0n), [SBI_SUCCESS, 0n]);
  });
  await t.step("memory that is not RAM: INVALID_PARAM (SBI §12.1)", () => {
    out.length = 0;
    for (
      const [n, lo, hi] of [
        [4n, BigInt(UART), 0n],
        [4n, BigInt(RAM), 1n],
        [16n, BigInt(RAM + (1 << 20) - 8), 0n],
        [-1n, BigInt(RAM), 0n],
        [4n, 0x7000_0000n, 0n],
      ]
    ) {
      assert.equal(call(h, SBI_EXT_DBCN, 0, n, lo, hi)[0], SBI_ERR_INVALID_PARAM, `${n} at ${lo}`);
      assert.equal(call(h, SBI_EXT_DBCN, 1, n, lo, hi)[0], SBI_ERR_INVALID_PARAM);
    }
    assert.equal(out.length, 0);
    assert.deepEqual(call(h, SBI_EXT_DBCN, 0, 0n, 0n, 0n), [SBI_SUCCESS, 0n], "zero bytes");
  });
});

Deno.test("sbi: with no UART at the console address, DBCN fails with SBI_ERR_FAILED", () => {
  const machine = new Machine<Hart>({ memory: 1 << 20 });
  machine.bus.addRam(RAM, 1 << 20);
  const sbi = new SbiFirmware({ machine, clintBase: CLINT, uartBase: UART });
  const h = new FakeHart(machine, 0);
  h.firmware = sbi.call;
  machine.cpus.push(h);
  assert.equal(call(h, SBI_EXT_DBCN, 2, 0x41n)[0], SBI_ERR_FAILED);
  assert.equal(call(h, SBI_EXT_DBCN, 0, 1n, BigInt(RAM), 0n)[0], SBI_ERR_FAILED);
});

Deno.test("sbi: every call is traced in the firmware category", () => {
  const trace = new Trace().enable("firmware");
  const { harts: [h] } = setup(1, trace);
  call(h, SBI_EXT_TIME, 0, 0x1234n);
  call(h, 0x4242_4242, 7);
  assert.equal(trace.events.length, 2);
  assert.equal(trace.events[0].kind, "firmware");
  assert.deepEqual(
    [
      trace.events[0].data.ext,
      trace.events[0].data.fn,
      trace.events[0].data.a0,
      trace.events[0].data.error,
    ],
    ["TIME", "set_timer", "0x1234", 0],
  );
  assert.deepEqual([trace.events[1].data.ext, trace.events[1].data.error], ["0x4242_4242", -2]);
});

Deno.test("sbi: random calls never throw and always answer a defined error code", () => {
  const prng = new Prng(2024);
  const eids = [
    0n,
    1n,
    8n,
    0x10n,
    0x5449_4d45n,
    0x0073_5049n,
    0x5246_4e43n,
    0x0048_534dn,
    0x4442_434en,
    0x5352_5354n,
    0xdead_beefn,
    -1n,
  ];
  const values = [
    0n,
    1n,
    2n,
    3n,
    -1n,
    0x8000_0000n,
    BigInt(RAM),
    BigInt(UART),
    1n << 63n,
    0xffff_ffffn,
  ];
  const pick = <T>(a: T[]) => a[prng.range(0, a.length - 1)];
  const { machine, harts } = setup(3);
  for (let i = 0; i < 3000; i++) {
    const h = harts[prng.range(0, 2)];
    const eid = pick(eids);
    if (eid === 0x5352_5354n) continue; // SRST would stop the machine: tested above
    h.x[17] = eid;
    h.x[16] = BigInt(prng.range(0, 8));
    for (let r = 10; r <= 15; r++) h.x[r] = pick(values);
    const before = h.state;
    h.ecall();
    const a0 = Number(h.x[10]);
    if (h.state === "idle" && before !== "idle") {
      assert.equal(a0, h.hartId, "a non-retentive suspend resumes with a0 = hartid");
      h.state = "running";
    } else {
      assert.ok(a0 <= 0 && a0 >= -8, `call ${i}: a0 = ${a0}`);
    }
  }
  assert.equal(machine.stopReason, undefined);
});
