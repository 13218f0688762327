import assert from "node:assert/strict";
import type { Device } from "../core/bus.ts";
import { CpuFault, KERNEL_ENTRY_COST_NS, KERNEL_OP_BUDGET } from "../core/hosted.ts";
import {
  CSR_SATP,
  CSR_SSCRATCH,
  CSR_SSTATUS,
  EXC_ECALL_S,
  EXC_LOAD_ACCESS,
  EXC_LOAD_MISALIGNED,
  EXC_LOAD_PAGE_FAULT,
  EXC_STORE_MISALIGNED,
  EXC_STORE_PAGE_FAULT,
  SSTATUS_SIE,
  SSTATUS_SUM,
} from "./csr.ts";
import { PRIV_S, PRIV_U } from "./hart_api.ts";
import { PageTables, RAM_BASE, RW_KERNEL, RW_USER, RX_USER, Testbench } from "./testing.ts";

function stopMessage(tb: Testbench): string {
  const stop = tb.machine.stopReason;
  assert.ok(stop && stop.kind === "error", `expected an error stop, got ${stop?.kind}`);
  return stop.message;
}

Deno.test("kernel entries: the hart calls the entry at pc, charging time per entry and per operation", () => {
  const tb = new Testbench();
  const h = tb.harts[0];
  const times: number[] = [];
  tb.machine.kernelText.register(0x1000n, "first", (cpu) => {
    times.push(cpu.nowNs());
    cpu.csrw(CSR_SSCRATCH, 1n);
    cpu.csrr(CSR_SSCRATCH);
    times.push(cpu.nowNs());
    cpu.pc = 0x2000n; // a jump: a kernel operation? no, but it leaves the entry
  });
  tb.machine.kernelText.register(0x2000n, "second", (cpu) => {
    times.push(cpu.nowNs());
    tb.machine.powerOff(0);
  });
  h.start(0x1000n, 0n);
  tb.run();
  const e = KERNEL_ENTRY_COST_NS;
  assert.deepEqual(times, [e, e + 2, 2 * e + 2]);
});

Deno.test("kernel entries: start puts a0 = hartid, a1 = opaque, satp = 0, SIE = 0", () => {
  const tb = new Testbench({ harts: 2 });
  const h = tb.harts[1];
  h.csrw(CSR_SATP, 0x8000_0000_0008_0000n);
  h.csrw(CSR_SSTATUS, SSTATUS_SIE);
  let seen: bigint[] = [];
  tb.machine.kernelText.register(0x1000n, "entry", (cpu) => {
    seen = [cpu.x[10], cpu.x[11], cpu.csrr(CSR_SATP), cpu.csrr(CSR_SSTATUS) & SSTATUS_SIE];
    tb.machine.powerOff(0);
  });
  h.start(0x1000n, 0xabcn);
  assert.equal(tb.harts[0].state, "stopped", "a hart not started does not run");
  tb.run();
  assert.deepEqual(seen, [1n, 0xabcn, 0n, 0n]);
  assert.equal(h.priv, PRIV_S);
});

Deno.test("kernel entries: stop() stops the hart; only start() runs it again", () => {
  const tb = new Testbench();
  const h = tb.harts[0];
  let calls = 0;
  tb.machine.kernelText.register(0x1000n, "stopper", (cpu) => {
    calls++;
    cpu.stop();
  });
  h.start(0x1000n, 0n);
  const stop = tb.run();
  assert.equal(calls, 1);
  assert.equal(h.state, "stopped");
  assert.equal(stop.kind, "deadlock");
  assert.match((stop as { message: string }).message, /every CPU is stopped/);
});

Deno.test("kernel entries: an entry that returns without leaving the hart stops the machine", () => {
  const tb = new Testbench();
  tb.machine.kernelText.register(0x1000n, "forgetful", (cpu) => {
    cpu.csrw(CSR_SSCRATCH, 5n);
  });
  tb.harts[0].start(0x1000n, 0n);
  tb.run();
  assert.match(
    stopMessage(tb),
    /kernel entry forgetful \(0x1000\) returned without sret, wfi or a jump/,
  );
});

Deno.test("kernel entries: sret to S-mode calls the entry at sepc; an unregistered one is named", () => {
  const tb = new Testbench();
  tb.machine.kernelText.register(0x1000n, "first", (cpu) => {
    cpu.csrw(0x141, 0x1234n); // sepc
    cpu.csrs(CSR_SSTATUS, 1n << 8n); // SPP = S
    cpu.sret();
  });
  tb.harts[0].start(0x1000n, 0n);
  tb.run();
  assert.match(
    stopMessage(tb),
    /sepc \(sret to S-mode\) points at 0x1234, where no kernel code is registered/,
  );
});

Deno.test("kernel entries: an entry that never finishes is stopped as hung after the budget", () => {
  const tb = new Testbench();
  let ops = 0;
  tb.machine.kernelText.register(0x1000n, "spinner", (cpu) => {
    for (;;) {
      cpu.csrr(CSR_SSCRATCH);
      ops++;
    }
  });
  tb.harts[0].start(0x1000n, 0n);
  tb.run();
  assert.equal(ops, KERNEL_OP_BUDGET);
  assert.match(stopMessage(tb), /kernel hang in spinner: more than 20000000 operations/);
});

Deno.test("kernel entries: a CpuFault that escapes an entry is a kernel fault, with the walk", () => {
  const tb = new Testbench();
  const pt = new PageTables(tb, 3, RAM_BASE + 0x10_0000 - 0x4000);
  tb.machine.kernelText.register(0x1000n, "panicky", (cpu) => {
    cpu.csrw(CSR_SATP, pt.satp());
    cpu.load(0x4000_1000n, 8);
  });
  tb.harts[0].start(0x1000n, 0n);
  tb.run();
  assert.match(
    stopMessage(tb),
    /kernel fault in panicky: Sv39 walk for S-mode load at 0x4000_1000: level-2 PTE at 0x800f_c008 = 0x0 is not valid \(V=0\)/,
  );
});

Deno.test("S-mode load and store: through the MMU with S permissions, faults as CpuFault", async (t) => {
  const tb = new Testbench();
  const h = tb.harts[0];
  const pt = new PageTables(tb, 4, RAM_BASE + 0x8_0000);
  pt.map(0x1000, RAM_BASE + 0x1000, RW_KERNEL);
  pt.map(0x2000, RAM_BASE + 0x2000, RW_USER);
  h.priv = PRIV_S;
  h.csrw(CSR_SATP, pt.satp());
  const fault = (f: () => unknown, code: number, tval: bigint, message: RegExp) =>
    assert.throws(f, (e: unknown) => {
      assert.ok(e instanceof CpuFault);
      assert.equal(e.code, code);
      assert.equal(e.tval, tval);
      assert.match(e.message, message);
      return true;
    });
  await t.step("a kernel page", () => {
    h.store(0x1008n, 8, 0x1122_3344_5566_7788n);
    assert.equal(tb.read(RAM_BASE + 0x1008, 8), 0x1122_3344_5566_7788n);
    assert.equal(h.load(0x100an, 2), 0x5566n);
    assert.equal(h.load(0x100fn, 1), 0x11n);
  });
  await t.step("a user page needs SUM", () => {
    fault(
      () => h.load(0x2000n, 4),
      EXC_LOAD_PAGE_FAULT,
      0x2000n,
      /user page \(U=1\) and sstatus.SUM=0/,
    );
    fault(() => h.store(0x2000n, 4, 1n), EXC_STORE_PAGE_FAULT, 0x2000n, /SUM=0/);
    h.csrs(CSR_SSTATUS, SSTATUS_SUM);
    h.store(0x2000n, 4, 0xdeadn);
    assert.equal(h.load(0x2000n, 4), 0xdeadn);
  });
  await t.step("misaligned", () => {
    fault(() => h.load(0x1001n, 2), EXC_LOAD_MISALIGNED, 0x1001n, /misaligned/);
    fault(() => h.store(0x1004n, 8, 0n), EXC_STORE_MISALIGNED, 0x1004n, /misaligned/);
  });
  await t.step("a mapping to nothing is an access fault", () => {
    pt.map(0x3000, 0x4000_0000, RW_KERNEL);
    fault(
      () => h.load(0x3000n, 8),
      EXC_LOAD_ACCESS,
      0x3000n,
      /physical address 0x4000_0000 is nothing/,
    );
  });
  await t.step("translate() explains without changing anything", () => {
    const before = h.dtlb.count();
    const tr = h.translate(0x2010n, "write", PRIV_U);
    assert.equal(tr.pa, RAM_BASE + 0x2010);
    assert.equal(tr.steps.length, 4);
    assert.equal(tr.tlbHit, false);
    assert.match(tr.explanation, /Sv48 walk for U-mode store at 0x2010: level-0 PTE/);
    assert.equal(h.dtlb.count(), before);
  });
});

Deno.test("ecall from S-mode calls the firmware; without firmware it is a kernel fault", () => {
  const tb = new Testbench();
  const h = tb.harts[0];
  tb.machine.kernelText.register(0x1000n, "caller", (cpu) => {
    cpu.x[17] = 0x10n;
    cpu.ecall();
    cpu.stop();
  });
  let called = 0n;
  h.firmware = (hart) => {
    called = hart.x[17];
    hart.x[10] = 0n;
  };
  h.start(0x1000n, 0n);
  tb.run();
  assert.equal(called, 0x10n);
  const bare = new Testbench();
  bare.machine.kernelText.register(0x1000n, "caller", (cpu) => cpu.ecall());
  bare.harts[0].start(0x1000n, 0n);
  bare.run();
  assert.match(
    stopMessage(bare),
    /kernel fault in caller: ecall from S-mode, but this board has no firmware/,
  );
  assert.throws(
    () => bare.harts[0].ecall(),
    (e: unknown) => e instanceof CpuFault && e.code === EXC_ECALL_S,
  );
});

Deno.test("a device read from U-mode sees the exact time of the instruction", () => {
  const tb = new Testbench();
  const seen: number[] = [];
  const clock: Device = {
    name: "clock",
    read: () => {
      seen.push(tb.machine.now());
      return BigInt(tb.machine.now());
    },
    write: () => true,
  };
  tb.machine.bus.map(0x1000_0000, 0x1000, clock);
  const code = tb.load(`
      li t0, 0x10000000
      nop
      nop
      ld a0, 0(t0)      # the 4th instruction: 4 ns
      li t1, 100
    1: addi t1, t1, -1
      bnez t1, 1b
      ld a1, 0(t0)      # 4 + 1 + 200 + 1 = 206 ns
      ebreak`);
  tb.enterUser(0, code.entry);
  tb.run();
  assert.deepEqual(seen, [4, 206]);
  assert.equal(tb.harts[0].x[10], 4n);
  assert.equal(tb.harts[0].x[11], 206n);
});

Deno.test("bad input: fetches from nothing, from a device, and from garbage page tables fault", async (t) => {
  await t.step("jump to an address with no RAM (Bare): instruction access fault", () => {
    const tb = new Testbench();
    const code = tb.load(`li t0, 0x40000000\njr t0`);
    tb.enterUser(0, code.entry);
    tb.run();
    assert.equal(tb.traps[0].code, 1);
    assert.equal(tb.traps[0].sepc, 0x4000_0000n);
    assert.equal(tb.traps[0].stval, 0x4000_0000n);
  });
  await t.step("jump into a device: instruction access fault", () => {
    const tb = new Testbench();
    tb.machine.bus.map(0x1000_0000, 0x1000, {
      name: "dev",
      read: () => 0x13n, // would decode as nop: never fetched
      write: () => true,
    });
    const code = tb.load(`li t0, 0x10000000\njr t0`);
    tb.enterUser(0, code.entry);
    tb.run();
    assert.equal(tb.traps[0].code, 1);
    assert.equal(tb.traps[0].stval, 0x1000_0000n);
  });
  await t.step("garbage page tables: page faults, never a JavaScript exception", () => {
    // Fill a root table with a pseudo-random pattern and run at many addresses.
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let round = 0; round < 20; round++) {
      const tb = new Testbench();
      const root = RAM_BASE + 0x4_0000;
      const garbage = new Uint8Array(4096 * 4);
      for (let i = 0; i < garbage.length; i++) garbage[i] = next() & 0xff;
      tb.write(root, garbage);
      const h = tb.enterUser(
        0,
        BigInt(next()) << 12n,
        0x9000_0000_0000_0000n | BigInt(root / 4096),
      );
      const stop = tb.run(100_000);
      assert.notEqual(stop.kind, "error", tb.machine.messages.join("\n"));
      assert.ok(tb.traps.length === 1 || stop.kind === "paused", "a trap or a (lucky) run");
      if (tb.traps.length) {
        assert.ok([1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 15].includes(tb.traps[0].code));
      }
      assert.equal(h.machine.messages.filter((m) => /emulator error/.test(m)).length, 0);
    }
  });
});

Deno.test("S-mode load and store reach devices through the bus", () => {
  const tb = new Testbench();
  const h = tb.harts[0];
  const writes: string[] = [];
  tb.machine.bus.map(0x1000_0000, 0x100, {
    name: "regs",
    read: (offset, size) => BigInt(offset * 16 + size),
    write: (offset, size, value) => {
      writes.push(`${offset}/${size}=${value}`);
      return offset < 0x80; // the upper half refuses writes
    },
  });
  h.priv = PRIV_S;
  assert.equal(h.load(0x1000_0010n, 4), 0x104n);
  h.store(0x1000_0008n, 8, 7n);
  assert.deepEqual(writes, ["8/8=7"]);
  assert.throws(
    () => h.store(0x1000_0080n, 4, 1n),
    (e: unknown) =>
      e instanceof CpuFault && e.code === 7 && /regs\+0x80, or the device refused/.test(e.message),
  );
});

Deno.test("the trap trace says why an access faulted, in words", () => {
  const tb = new Testbench();
  tb.machine.trace.enable("trap");
  const pt = new PageTables(tb, 3, RAM_BASE + 0x8_0000);
  pt.map(0x1000, RAM_BASE, RX_USER);
  tb.load(`ld a0, 0(a1)`, 0x1000, RAM_BASE);
  const h = tb.enterUser(0, 0x1000, pt.satp());
  h.x[11] = 0x5000n;
  tb.run();
  const records = tb.machine.trace.events.filter((e) => e.kind === "trap").map((e) => e.data);
  assert.match(
    String(records[0].why),
    /Sv39 walk for U-mode load at 0x5000: level-0 PTE at 0x8008_2028 = 0x0 is not valid/,
  );
  assert.equal(records[1].cause, "load page fault");
  assert.equal(records[1].stval, "0x5000");
});

Deno.test("two harts racing on an AMO give the same run for the same seed", () => {
  const run = (seed: number) => {
    const tb = new Testbench({ harts: 2, seed, quantumMinNs: 50, quantumMaxNs: 300 });
    const code = tb.load(`
        li t0, 2000
      1: amoadd.d a0, t1, (s0)   # a0 = the counter before this hart's add
        sd a0, 0(s1)              # remember the last value seen
        addi t0, t0, -1
        bnez t0, 1b
        ebreak`);
    tb.onTrap = (_t, h) => h.stop();
    for (const [i, slot] of [[0, 8], [1, 16]]) {
      const h = tb.enterUser(i, code.entry);
      h.x[6] = BigInt(i + 1); // t1: hart 0 adds 1, hart 1 adds 2
      h.x[8] = BigInt(RAM_BASE + 0x8000);
      h.x[9] = BigInt(RAM_BASE + 0x8000 + slot);
    }
    tb.run();
    return [
      tb.read(RAM_BASE + 0x8000, 8),
      tb.read(RAM_BASE + 0x8008, 8),
      tb.read(RAM_BASE + 0x8010, 8),
    ];
  };
  const a = run(5);
  assert.equal(a[0], 6000n, "every add happened once");
  assert.deepEqual(run(5), a);
});

Deno.test("RAM beyond the first 2 GiB of the buffer runs through the slow paths, correctly", () => {
  const tb = new Testbench({ memory: 3 * 2 ** 30 });
  const high = RAM_BASE + 0xa000_0000; // 2.5 GiB into the buffer
  const code = tb.load(
    `
      li t0, 100
    1: ld t1, 0(a0)
      addi t1, t1, 3
      sd t1, 0(a0)
      addi t0, t0, -1
      bnez t0, 1b
      c.ebreak`,
    high,
    high,
    true,
  );
  const h = tb.enterUser(0, code.entry);
  h.x[10] = BigInt(high + 0x1000);
  tb.run();
  assert.equal(tb.traps[0]?.code, 3);
  assert.equal(tb.read(high + 0x1000, 8), 300n);
  assert.equal(h.fetchBase !== h.fetchBase, true, "that code is never on a fast fetch page");
});
