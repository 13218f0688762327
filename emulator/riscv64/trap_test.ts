import assert from "node:assert/strict";
import { KERNEL_ENTRY_COST_NS } from "../core/hosted.ts";
import {
  CSR_SEPC,
  CSR_SIE,
  CSR_SIP,
  CSR_SSTATUS,
  CSR_STIMECMP,
  CSR_STVEC,
  EXC_ECALL_U,
  IRQ_S_EXT,
  IRQ_S_SOFT,
  IRQ_S_TIMER,
  SCAUSE_INTERRUPT,
  SIP_SEIP,
  SIP_SSIP,
  SIP_STIP,
  SSTATUS_SIE,
  SSTATUS_SPIE,
  SSTATUS_SPP,
} from "./csr.ts";
import { PRIV_S, PRIV_U } from "./hart_api.ts";
import { RAM_BASE, Testbench } from "./testing.ts";

/** A loop that runs until interrupted: `1: addi a0, a0, 1; j 1b`. */
const SPIN = `1: addi a0, a0, 1\nj 1b`;

Deno.test("trap entry from U-mode: sepc, scause, stval, SPP=0, SPIE=SIE, SIE=0; sret undoes it", () => {
  for (const sie of [0n, SSTATUS_SIE]) {
    let inHandler = { priv: -1, sstatus: 0n };
    const tb = new Testbench({
      onTrap: (_t, h, b) => {
        inHandler = { priv: h.priv, sstatus: h.csrr(CSR_SSTATUS) };
        h.csrw(CSR_SEPC, h.csrr(CSR_SEPC) + 4n);
        h.sret();
        if (b.traps.length === 2) b.machine.powerOff(0);
      },
    });
    const code = tb.load(`ecall\nli a0, 7\necall`);
    const h = tb.enterUser(0, code.entry);
    h.csrw(CSR_SSTATUS, sie | SSTATUS_SPP); // SPP=1 must be overwritten by the trap
    tb.run();
    const [first, second] = tb.traps;
    assert.equal(first.code, EXC_ECALL_U);
    assert.equal(first.scause, 8n);
    assert.equal(first.sepc, BigInt(RAM_BASE));
    assert.equal(first.stval, 0n);
    assert.equal(first.spp, 0);
    assert.equal(first.spie, sie ? 1 : 0);
    assert.equal(inHandler.priv, PRIV_S);
    assert.equal(inHandler.sstatus & SSTATUS_SIE, 0n, "SIE is cleared on entry");
    // sret: SIE = SPIE, SPIE = 1, SPP = U, back in U-mode at sepc.
    assert.equal(second.sepc, BigInt(RAM_BASE + 8));
    assert.equal(h.x[10], 7n);
    assert.equal(second.spie, sie ? 1 : 0, "SPIE again holds the SIE the user ran with");
  }
});

Deno.test("sret restores SIE from SPIE, sets SPIE and clears SPP", () => {
  const tb = new Testbench();
  const h = tb.harts[0];
  tb.machine.kernelText.register(0x1000n, "target", () => {});
  h.priv = PRIV_S;
  h.csrw(CSR_SSTATUS, SSTATUS_SPIE | SSTATUS_SPP);
  h.csrw(CSR_SEPC, 0x1000n);
  h.sret();
  assert.equal(h.priv, PRIV_S, "SPP was S");
  assert.equal(h.pc, 0x1000n);
  assert.equal(
    h.csrr(CSR_SSTATUS) & (SSTATUS_SIE | SSTATUS_SPIE | SSTATUS_SPP),
    SSTATUS_SIE | SSTATUS_SPIE,
  );
  h.csrw(CSR_SSTATUS, 0n);
  h.sret();
  assert.equal(h.priv, PRIV_U);
  assert.equal(h.csrr(CSR_SSTATUS) & (SSTATUS_SIE | SSTATUS_SPIE), SSTATUS_SPIE);
});

Deno.test("interrupts in U-mode: taken when enabled in sie, whatever sstatus.SIE says", () => {
  const sources: [number, bigint][] = [[IRQ_S_SOFT, SIP_SSIP], [IRQ_S_TIMER, SIP_STIP], [
    IRQ_S_EXT,
    SIP_SEIP,
  ]];
  for (const [irq, bit] of sources) {
    for (const enabled of [false, true]) {
      const tb = new Testbench();
      const code = tb.load(SPIN);
      const h = tb.enterUser(0, code.entry);
      h.csrw(CSR_SIE, enabled ? bit : (SIP_SSIP | SIP_STIP | SIP_SEIP) & ~bit);
      h.setInterruptPending(irq, true);
      const stop = tb.run(5000);
      if (!enabled) {
        assert.equal(stop.kind, "paused", `irq ${irq} masked in sie: never taken`);
        assert.equal(tb.traps.length, 0);
        continue;
      }
      const t = tb.traps[0];
      assert.ok(t, `irq ${irq} taken`);
      assert.equal(t.interrupt, true);
      assert.equal(t.code, irq);
      assert.equal(t.scause, SCAUSE_INTERRUPT | BigInt(irq));
      assert.equal(t.stval, 0n);
      assert.equal(t.spp, 0);
    }
  }
});

Deno.test("interrupts: SEI before SSI before STI", () => {
  const tb = new Testbench({
    onTrap: (t, h, b) => {
      // Clear the source just taken, then return to take the next one.
      if (t.code === IRQ_S_SOFT) h.csrc(CSR_SIP, SIP_SSIP);
      else h.setInterruptPending(t.code, false);
      h.sret();
      if (b.traps.length === 3) b.machine.powerOff(0);
    },
  });
  const code = tb.load(SPIN);
  const h = tb.enterUser(0, code.entry);
  h.csrw(CSR_SIE, SIP_SSIP | SIP_STIP | SIP_SEIP);
  h.setInterruptPending(IRQ_S_TIMER, true);
  h.setInterruptPending(IRQ_S_SOFT, true);
  h.setInterruptPending(IRQ_S_EXT, true);
  tb.run();
  assert.deepEqual(tb.traps.map((t) => t.code), [IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER]);
});

Deno.test("interrupts in S-mode: taken between kernel entries only when sstatus.SIE = 1", () => {
  for (const sie of [false, true]) {
    const tb = new Testbench();
    const h = tb.harts[0];
    let polls = 0;
    tb.machine.kernelText.register(0x2000n, "poll", (cpu) => {
      polls++;
      cpu.pc = 0x2000n; // jump to itself: a kernel idle loop
      if (polls === 3) cpu.setInterruptPending(IRQ_S_SOFT, true);
      if (polls === 10) tb.machine.powerOff(0);
    });
    h.start(0x2000n, 0n);
    h.csrw(CSR_SIE, SIP_SSIP);
    if (sie) h.csrs(CSR_SSTATUS, SSTATUS_SIE);
    tb.run();
    if (!sie) {
      assert.equal(tb.traps.length, 0);
      assert.equal(polls, 10);
      continue;
    }
    assert.equal(polls, 3, "taken right after the entry that raised it");
    const t = tb.traps[0];
    assert.equal(t.code, IRQ_S_SOFT);
    assert.equal(t.spp, 1, "from S-mode");
    assert.equal(t.spie, 1);
    assert.equal(t.sepc, 0x2000n, "sepc = where the kernel would have continued");
  }
});

Deno.test("vectored stvec: interrupts go to BASE + 4 × cause, exceptions to BASE", () => {
  const base = 0xffff_ffff_c000_0000n;
  const seen: string[] = [];
  const tb = new Testbench();
  const text = tb.machine.kernelText;
  text.register(base, "exceptions", (cpu) => {
    seen.push(`exception ${cpu.csrr(0x142)}`);
    cpu.csrw(CSR_SEPC, cpu.csrr(CSR_SEPC) + 4n);
    cpu.sret();
  });
  text.register(base + 4n * BigInt(IRQ_S_TIMER), "timer", (cpu) => {
    seen.push("timer");
    cpu.setInterruptPending(IRQ_S_TIMER, false);
    cpu.sret();
  });
  text.register(base + 4n * BigInt(IRQ_S_EXT), "external", () => {
    seen.push("external");
    tb.machine.powerOff(0);
  });
  const code = tb.load(`ecall\n${SPIN}`);
  const h = tb.enterUser(0, code.entry);
  h.csrw(CSR_STVEC, base | 1n);
  h.csrw(CSR_SIE, SIP_STIP | SIP_SEIP);
  tb.machine.events.schedule(1000, () => h.setInterruptPending(IRQ_S_TIMER, true));
  tb.machine.events.schedule(2000, () => h.setInterruptPending(IRQ_S_EXT, true));
  tb.run();
  assert.deepEqual(seen, ["exception 8", "timer", "external"]);
});

Deno.test("a trap to an stvec where no kernel code is registered stops the machine in words", () => {
  const tb = new Testbench();
  const code = tb.load(`nop\necall`);
  const h = tb.enterUser(0, code.entry);
  h.csrw(CSR_STVEC, 0xffff_ffff_8000_0100n);
  const stop = tb.run();
  assert.equal(stop.kind, "error");
  assert.match(
    (stop as { message: string }).message,
    /environment call from U-mode .* at sepc 0x8000_0004: stvec = 0xffff_ffff_8000_0100 sends it to 0xffff_ffff_8000_0100, where no kernel code is registered/,
  );
});

Deno.test("an interrupt is taken at an instruction boundary: sepc is the next instruction", () => {
  const tb = new Testbench({ quantumMinNs: 10_000, quantumMaxNs: 10_000 });
  const code = tb.load(`li a0, 0\n${SPIN}`);
  const h = tb.enterUser(0, code.entry);
  h.csrw(CSR_SIE, SIP_STIP);
  h.csrw(CSR_STIMECMP, 5n); // 500 ns
  tb.run();
  const t = tb.traps[0];
  assert.equal(t.code, IRQ_S_TIMER);
  assert.equal(t.timeNs, 500 + KERNEL_ENTRY_COST_NS, "taken when time reaches stimecmp");
  // 500 instructions ran: li, then 499 of the loop's two instructions.
  assert.equal(t.instret, 500);
  assert.equal(h.x[10], 250n - 1n + 1n);
  assert.equal(t.sepc, BigInt(RAM_BASE + 4 + (499 % 2) * 4));
});

Deno.test("Sstc: rewriting stimecmp moves the interrupt; a time in the past fires at once", () => {
  const tb = new Testbench({
    onTrap: (_t, h, b) => {
      if (b.traps.length === 1) {
        h.csrw(CSR_STIMECMP, BigInt(Math.floor(h.timeNs / 100)) + 30n); // 3 µs later
        h.sret();
      } else b.machine.powerOff(0);
    },
  });
  const code = tb.load(SPIN);
  const h = tb.enterUser(0, code.entry);
  h.csrw(CSR_SIE, SIP_STIP);
  h.csrw(CSR_STIMECMP, 100n); // 10 µs ...
  h.csrw(CSR_STIMECMP, 20n); // ... no: 2 µs (the first event is cancelled)
  tb.run();
  assert.equal(tb.traps.length, 2);
  assert.equal(tb.traps[0].timeNs, 2000 + KERNEL_ENTRY_COST_NS);
  const second = tb.traps[1].timeNs - KERNEL_ENTRY_COST_NS;
  assert.ok(second >= 5000 && second <= 5001, `second interrupt at ${second} ns`);
  // In the past: pending immediately.
  const past = new Testbench();
  past.load(SPIN);
  const p = past.enterUser(0, RAM_BASE);
  p.timeNs = 10_000;
  p.csrw(CSR_SIE, SIP_STIP);
  p.csrw(CSR_STIMECMP, 1n);
  past.run(20_000);
  assert.equal(past.traps[0].code, IRQ_S_TIMER);
  assert.equal(past.traps[0].instret, 0);
});

Deno.test("wfi: the hart sleeps until sip & sie, then continues at the resume address", async (t) => {
  for (const sie of [false, true]) {
    await t.step(`sstatus.SIE = ${sie ? 1 : 0}`, () => {
      const tb = new Testbench();
      const h = tb.harts[0];
      const log: string[] = [];
      const text = tb.machine.kernelText;
      text.register(0x3000n, "idle", (cpu) => {
        log.push(`idle at ${cpu.nowNs()}`);
        cpu.wfi(0x3100n);
      });
      text.register(0x3100n, "after_wfi", (cpu) => {
        log.push(`resumed at ${cpu.nowNs()}`);
        tb.machine.powerOff(0);
      });
      tb.onTrap = (tr, cpu) => {
        log.push(`trap ${tr.code} sepc ${tr.sepc.toString(16)}`);
        cpu.setInterruptPending(IRQ_S_EXT, false);
        cpu.sret();
      };
      h.start(0x3000n, 0n);
      h.csrw(CSR_SIE, SIP_SEIP);
      if (sie) h.csrs(CSR_SSTATUS, SSTATUS_SIE);
      tb.machine.events.schedule(50_000, () => h.setInterruptPending(IRQ_S_EXT, true));
      tb.run();
      // nowNs() is not a kernel operation; wfi and sret are (1 ns each).
      assert.equal(log[0], `idle at ${KERNEL_ENTRY_COST_NS}`);
      if (sie) {
        assert.deepEqual(log.slice(1), [
          "trap 9 sepc 3100",
          `resumed at ${50_000 + 2 * KERNEL_ENTRY_COST_NS + 1}`,
        ]);
      } else {
        assert.deepEqual(log.slice(1), [`resumed at ${50_000 + KERNEL_ENTRY_COST_NS}`]);
      }
    });
  }
  await t.step(
    "an interrupt disabled in sie does not wake it: the machine reports a deadlock",
    () => {
      const tb = new Testbench();
      const h = tb.harts[0];
      tb.machine.kernelText.register(0x3000n, "idle", (cpu) => cpu.wfi());
      h.start(0x3000n, 0n);
      h.csrw(CSR_SIE, SIP_STIP);
      tb.machine.events.schedule(1000, () => h.setInterruptPending(IRQ_S_EXT, true));
      const stop = tb.run();
      assert.equal(stop.kind, "deadlock");
      assert.equal(h.state, "idle");
    },
  );
  await t.step("Sstc wakes a waiting hart at stimecmp", () => {
    const tb = new Testbench();
    const h = tb.harts[0];
    let woke = -1;
    tb.machine.kernelText.register(0x3000n, "idle", (cpu) => {
      if (cpu.csrr(CSR_SIP) & SIP_STIP) {
        woke = cpu.nowNs();
        tb.machine.powerOff(0);
      } else cpu.wfi();
    });
    h.start(0x3000n, 0n);
    h.csrw(CSR_SIE, SIP_STIP);
    h.csrw(CSR_STIMECMP, 1234n);
    tb.run();
    assert.equal(woke, 123_400 + KERNEL_ENTRY_COST_NS + 1);
  });
});
