/**
 * Interrupt and exception delivery (SDM Vol. 3A §6.12 to §6.15): the frame on the kernel
 * stack, stack switching through the TSS and the IST, the gate checks and their error
 * codes, double and triple faults, IRETQ, and interrupts from the local APIC.
 */

import assert from "node:assert/strict";
import type { ApicLink } from "./cpu_api.ts";
import { gateDescriptor, tssDescriptor } from "./descriptors.ts";
import {
  EXC_BP,
  EXC_DF,
  EXC_GP,
  EXC_NP,
  EXC_PF,
  EXC_UD,
  GATE_TRAP64,
  RAX,
  RDI,
  RFLAGS_IF,
  RSP,
  TSS_IST1,
  TSS_RSP0,
} from "./regs.ts";
import { bytes, KERNEL_CS, KTEXT, USER_CS, USER_SS, X86TestBench } from "./testing.ts";

const CODE = 0x40_0000;

Deno.test("exceptions: a ring-3 page fault pushes SS, RSP, RFLAGS, CS, RIP, error on RSP0", () => {
  const t = new X86TestBench();
  t.code(CODE, bytes("48 8b 07")); // mov rax, [rdi] (unmapped)
  t.cpu.regs[RDI] = 0x90_0000n;
  let seen: { cpl: number; cs: number; ss: number; rsp: bigint; flags: bigint } | undefined;
  t.onTrap = (_trap, cpu) => {
    seen = {
      cpl: cpu.cpl,
      cs: cpu.selector("cs"),
      ss: cpu.selector("ss"),
      rsp: BigInt.asUintN(64, cpu.regs[RSP]),
      flags: cpu.rflags,
    };
    return "stop";
  };
  const trap = t.runUser(CODE, { rsp: 0x7fff_f000 - 8 });
  assert.equal(trap.vector, EXC_PF);
  assert.deepEqual(
    { ss: trap.ss, rsp: trap.rsp, cs: trap.cs, rip: trap.rip, error: trap.errorCode },
    { ss: USER_SS, rsp: 0x7fff_eff8n, cs: USER_CS, rip: BigInt(CODE), error: 4 },
  );
  assert.ok((trap.rflags & BigInt(RFLAGS_IF)) !== 0n, "the pushed RFLAGS has IF from ring 3");
  const rsp0 = t.peek64(t.tables.tss + TSS_RSP0);
  assert.equal(trap.frameAt, rsp0 - 48n, "six quadwords below the 16-aligned RSP0");
  assert.deepEqual(seen, {
    cpl: 0,
    cs: KERNEL_CS,
    ss: 0,
    rsp: rsp0 - 48n,
    flags: seen!.flags & ~BigInt(RFLAGS_IF), // IF cleared by the interrupt gate
  });
  assert.equal(seen!.flags & BigInt(RFLAGS_IF), 0n);
});

Deno.test("exceptions: RSP0 is aligned down to 16 bytes before the frame is pushed", () => {
  const t = new X86TestBench();
  t.poke64(t.tables.tss + TSS_RSP0, t.peek64(t.tables.tss + TSS_RSP0) - 8n); // misaligned
  t.code(CODE, bytes("cc"));
  const trap = t.runUser(CODE);
  const rsp0 = t.peek64(t.tables.tss + TSS_RSP0);
  assert.equal(trap.frameAt, (rsp0 & ~15n) - 40n, "int3 pushes five quadwords, no error code");
});

Deno.test("exceptions: a trap gate keeps IF; an interrupt gate clears it", () => {
  const t = new X86TestBench();
  const [lo, hi] = gateDescriptor(KTEXT + 0x80n * 16n, KERNEL_CS, { type: GATE_TRAP64, dpl: 3 });
  t.setGate(0x80, lo, hi);
  let ifFlag = -1n;
  t.onTrap = (_t, cpu) => {
    ifFlag = cpu.rflags & BigInt(RFLAGS_IF);
    return "stop";
  };
  t.code(CODE, bytes("cd 80")); // int 0x80
  const trap = t.runUser(CODE);
  assert.equal(trap.vector, 0x80);
  assert.equal(trap.rip, BigInt(CODE + 2), "INT n pushes the next instruction's address");
  assert.equal(ifFlag, BigInt(RFLAGS_IF));
});

Deno.test("exceptions: the gate checks and their error codes", async (s) => {
  await s.step("INT n through a DPL-0 gate from ring 3: #GP(n*8+2), RIP at the INT", () => {
    const t = new X86TestBench();
    t.code(CODE, bytes("cd 40")); // int 0x40 (the bench's gate 0x40 has DPL 0)
    const trap = t.runUser(CODE);
    assert.equal(trap.vector, EXC_GP);
    assert.equal(trap.errorCode, 0x40 * 8 + 2);
    assert.equal(trap.rip, BigInt(CODE));
  });
  await s.step("a gate that is not present: #NP(vector*8+2+EXT)", () => {
    const t = new X86TestBench();
    const [lo, hi] = gateDescriptor(KTEXT + 6n * 16n, KERNEL_CS, { present: false });
    t.setGate(EXC_UD, lo, hi);
    t.code(CODE, bytes("0f 0b")); // ud2
    const trap = t.runUser(CODE);
    assert.equal(trap.vector, EXC_NP);
    assert.equal(trap.errorCode, EXC_UD * 8 + 2 + 1, "EXT: raised while delivering an exception");
  });
  await s.step("a gate of the wrong type: #GP(vector*8+2+EXT)", () => {
    const t = new X86TestBench();
    const [lo, hi] = gateDescriptor(KTEXT + 6n * 16n, KERNEL_CS, { type: 0xc }); // call gate
    t.setGate(EXC_UD, lo, hi);
    t.code(CODE, bytes("0f 0b"));
    const trap = t.runUser(CODE);
    assert.equal(trap.vector, EXC_GP);
    assert.equal(trap.errorCode, EXC_UD * 8 + 3);
  });
  await s.step(
    "a gate whose selector names a data segment or lies past the GDT: #GP(sel+EXT)",
    () => {
      for (const sel of [0x10, 0x78]) {
        const t = new X86TestBench();
        const [lo, hi] = gateDescriptor(KTEXT + 6n * 16n, sel);
        t.setGate(EXC_UD, lo, hi);
        t.code(CODE, bytes("0f 0b"));
        const trap = t.runUser(CODE);
        assert.equal(trap.vector, EXC_GP);
        assert.equal(trap.errorCode, sel + 1, `selector ${sel}`);
      }
    },
  );
  await s.step("a gate into ring 0 pointing nowhere stops the machine and names it", () => {
    const t = new X86TestBench();
    const [lo, hi] = gateDescriptor(0xffff_ffff_9000_0000n, KERNEL_CS);
    t.setGate(EXC_UD, lo, hi);
    t.code(CODE, bytes("0f 0b"));
    assert.throws(
      () => t.runUser(CODE),
      /IDT vector 6 \(#UD invalid opcode\) points at 0xffff_ffff_9000_0000, where no kernel code is registered/,
    );
  });
});

Deno.test("exceptions: faults while pushing the frame become a double fault on IST1", async (s) => {
  for (
    const [what, rsp0] of [
      ["RSP0 not canonical (#SS)", 0x8000_0000_0000n],
      ["RSP0 not mapped (#PF)", 0xffff_c000_0000_0000n],
    ] as const
  ) {
    await s.step(what, () => {
      const t = new X86TestBench();
      t.poke64(t.tables.tss + TSS_RSP0, rsp0);
      t.code(CODE, bytes("48 8b 07"));
      t.cpu.regs[RDI] = 0x90_0000n; // a #PF, whose delivery faults again
      const trap = t.runUser(CODE);
      assert.equal(trap.vector, EXC_DF);
      assert.equal(trap.errorCode, 0);
      const ist1 = t.peek64(t.tables.tss + TSS_IST1);
      assert.equal(trap.frameAt, ist1 - 48n, "#DF arrives on its IST stack");
      assert.match(t.machine.messages.join("\n"), /double fault/);
    });
  }
});

Deno.test("exceptions: a fault while delivering #DF is a triple fault that stops the machine", () => {
  const t = new X86TestBench();
  t.poke64(t.tables.tss + TSS_RSP0, 0xffff_c000_0000_0000n);
  t.poke64(t.tables.tss + TSS_IST1, 0xffff_c000_0001_0000n);
  t.code(CODE, bytes("48 8b 07"));
  t.cpu.regs[RDI] = 0x90_0000n;
  assert.throws(
    () => t.runUser(CODE),
    /triple fault .*#PF.*while delivering #PF.*while delivering #DF/s,
  );
  assert.equal(t.machine.stopReason?.kind, "error");
});

Deno.test("exceptions: a TSS too short to hold RSP0 is #TS, then #DF", () => {
  const t = new X86TestBench();
  // A second TSS descriptor (GDT 0x38) whose limit ends before RSP0; load it with ltr.
  const [lo, hi] = tssDescriptor(t.kva(t.tables.tss), 0x3);
  t.poke64(t.tables.gdt + 0x38, lo);
  t.poke64(t.tables.gdt + 0x40, hi);
  t.cpu.lgdt(t.kva(t.tables.gdt), 0x47);
  t.cpu.ltr(0x38);
  t.code(CODE, bytes("cc"));
  // #BP is benign: its delivery's #TS is then delivered on its own, and needs RSP0 too,
  // so #TS during #TS is a double fault; #DF needs IST1, beyond the limit: triple fault.
  assert.throws(() => t.runUser(CODE), /triple fault.*#TS.*no TSS|triple fault.*#TS/s);
  assert.match(t.machine.messages.join("\n"), /TSS limit 0x3 does not reach RSP0/);
});

Deno.test("exceptions: ltr checks the descriptor and marks it busy", () => {
  const t = new X86TestBench();
  const desc = t.tables.gdt + 0x28;
  assert.equal((t.peek64(desc) >> 40n) & 0xfn, 0xbn, "the bench's TSS is busy after ltr");
  assert.throws(() => t.cpu.ltr(0x28), /#GP.*64-bit TSS \(busy\)/, "a busy TSS cannot be loaded");
  assert.throws(() => t.cpu.ltr(0x08), /#GP.*code segment/);
  assert.throws(() => t.cpu.ltr(0x100), /#GP.*beyond the GDT limit/);
});

Deno.test("exceptions: iretq returns to ring 3 and refuses to climb to ring 0 from there", () => {
  const t = new X86TestBench();
  // Ring 3 builds an iretq frame back to itself (rip = CODE+0x20), then a second one that
  // names the kernel's code selector.
  const frame = (rip: number, cs: number) =>
    [rip, cs, 0x202, 0x7fff_e000, USER_SS].flatMap((v) => {
      const b: number[] = [];
      for (let k = 0; k < 8; k++) b.push(Number((BigInt(v) >> BigInt(8 * k)) & 0xffn));
      return b;
    });
  t.mapUser(0x60_0000, 4096, { exec: false });
  t.writeUser(
    0x60_0000,
    new Uint8Array([...frame(CODE + 0x20, USER_CS), ...frame(CODE, KERNEL_CS)]),
  );
  // mov rsp, 0x600000; iretq; (at +0x20) mov rsp, 0x600028; iretq
  const code = new Uint8Array(0x40);
  code.set(bytes("48 c7 c4 00 00 60 00 48 cf"), 0);
  code.set(bytes("48 c7 c4 28 00 60 00 48 cf"), 0x20);
  t.code(CODE, code);
  const trap = t.runUser(CODE);
  assert.equal(trap.vector, EXC_GP);
  assert.equal(trap.errorCode, KERNEL_CS, "#GP(CS selector): RPL 0 < CPL 3");
  assert.equal(trap.rip, BigInt(CODE + 0x27), "the first iretq went through; the second faulted");
});

Deno.test("exceptions: a kernel iretq with a bad frame throws #GP with the reason", () => {
  const t = new X86TestBench();
  t.cpu.regs[RSP] = t.kva(t.alloc(1) + 0x800);
  assert.throws(() => t.cpu.iretq(), /#GP.*CS is null/);
});

/** A fake local APIC that has `vector` pending until the CPU acknowledges it. */
class FakeApic implements ApicLink {
  pending = -1;
  acked: number[] = [];
  pendingVector(): number {
    return this.pending;
  }
  acknowledge(vector: number): void {
    this.acked.push(vector);
    this.pending = -1;
  }
}

Deno.test("exceptions: an APIC interrupt is taken at an instruction boundary when IF = 1", () => {
  const t = new X86TestBench();
  const apic = new FakeApic();
  t.cpu.apic = apic;
  // An endless loop: jmp $.
  t.code(CODE, bytes("eb fe"));
  let count = 0;
  t.onTrap = (trap) => {
    count++;
    return trap.vector === 0x41 ? "stop" : "resume";
  };
  apic.pending = 0x41;
  const trap = t.runUser(CODE);
  assert.equal(trap.vector, 0x41);
  assert.equal(trap.errorCode, undefined);
  assert.equal(trap.rip, BigInt(CODE), "the frame's RIP is the next instruction to run");
  assert.deepEqual(apic.acked, [0x41]);
  assert.equal(count, 1);
  // With IF = 0 in ring 3 the interrupt waits.
  apic.pending = 0x42;
  assert.throws(() => t.runUser(CODE, { rflags: 0x2, limitNs: 50_000 }), /no trap within/);
  assert.deepEqual(apic.acked, [0x41]);
});

Deno.test("exceptions: hlt waits for an interrupt, then takes it with RIP = the resume address", () => {
  const t = new X86TestBench();
  const apic = new FakeApic();
  t.cpu.apic = apic;
  const resume = KTEXT + 0x5000n;
  let resumed = 0;
  t.machine.kernelText.register(resume, "after_hlt", (cpu) => {
    resumed++;
    cpu.hlt(KTEXT + 0x3000n);
  });
  t.machine.kernelText.register(KTEXT + 0x6000n, "idle", (cpu) => {
    cpu.sti();
    cpu.hlt(resume);
  });
  t.cpu.regs[RSP] = t.kernelStackTop; // an interrupt in ring 0 uses the current stack
  t.cpu.hlt(KTEXT + 0x6000n);
  t.cpu.state = "running";
  t.run(10_000);
  assert.equal(t.cpu.state, "idle", "nothing pending: the CPU waits");
  t.machine.events.schedule(t.machine.now() + 5000, () => (apic.pending = 0x50));
  t.onTrap = () => "resume";
  t.run(20_000);
  const trap = t.traps.at(-1)!;
  assert.equal(trap.vector, 0x50);
  assert.equal(trap.rip, resume, "the frame's RIP is where hlt resumes");
  assert.equal(trap.cs, KERNEL_CS);
  assert.equal(resumed, 1, "after iretq the CPU continues at the resume address");
});

Deno.test("exceptions: an NMI is delivered through vector 2 even with IF = 0", () => {
  const t = new X86TestBench();
  t.code(CODE, bytes("eb fe"));
  t.machine.events.schedule(2000, () => t.cpu.nmi());
  const trap = t.runUser(CODE, { rflags: 0x2 });
  assert.equal(trap.vector, 2);
  assert.equal(t.cpu.regs[RAX], 0n);
});

Deno.test("exceptions: INT3 and its frame; #UD for undefined opcodes", () => {
  const t = new X86TestBench();
  t.code(CODE, bytes("cc"));
  assert.equal(t.runUser(CODE).vector, EXC_BP);
  t.code(CODE, bytes("06")); // push es: invalid in 64-bit mode
  const ud = t.runUser(CODE);
  assert.equal(ud.vector, EXC_UD);
  assert.equal(ud.rip, BigInt(CODE));
});
