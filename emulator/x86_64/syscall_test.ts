/**
 * SYSCALL, SYSRET and SWAPGS (SDM Vol. 2, SYSCALL, SYSRET, SWAPGS; Vol. 3A §5.8.8): what
 * they save, load and mask, and their faults, including the SYSRET pitfall.
 */

import assert from "node:assert/strict";
import { CpuFault } from "../core/hosted.ts";
import {
  EFER_SCE,
  EXC_GP,
  EXC_UD,
  IA32_EFER,
  IA32_FMASK,
  IA32_GS_BASE,
  IA32_KERNEL_GS_BASE,
  IA32_LSTAR,
  IA32_STAR,
  R11,
  RAX,
  RCX,
  RFLAGS_DF,
  RFLAGS_IF,
  RFLAGS_TF,
} from "./regs.ts";
import { bytes, KERNEL_CS, KERNEL_SS, KTEXT, USER_CS, USER_SS, X86TestBench } from "./testing.ts";

const CODE = 0x40_0000;

Deno.test("syscall: saves RIP in RCX and RFLAGS in R11, masks RFLAGS, enters LSTAR in ring 0", () => {
  const t = new X86TestBench();
  t.code(CODE, bytes("fd 0f 05 cc")); // std; syscall; int3
  let inside: { cpl: number; cs: number; ss: number; flags: bigint; rip: bigint } | undefined;
  t.onSyscall = (_trap, cpu) => {
    inside = {
      cpl: cpu.cpl,
      cs: cpu.selector("cs"),
      ss: cpu.selector("ss"),
      flags: cpu.rflags,
      rip: cpu.rip,
    };
    return "resume";
  };
  const trap = t.runUser(CODE);
  assert.equal(trap.vector, 3, "sysretq came back to the int3 after the syscall");
  const sc = t.traps.find((x) => x.vector === -1)!;
  assert.equal(sc.rip, BigInt(CODE + 3), "RCX = the next instruction");
  assert.equal(sc.rflags & BigInt(RFLAGS_DF | RFLAGS_IF), BigInt(RFLAGS_DF | RFLAGS_IF));
  assert.deepEqual(inside, {
    cpl: 0,
    cs: KERNEL_CS,
    ss: KERNEL_SS,
    flags: 2n, // IF, DF, TF masked by the bench's FMASK; the status flags were 0
    rip: KTEXT + 0x1000n,
  });
  assert.equal(trap.rflags & BigInt(RFLAGS_DF), BigInt(RFLAGS_DF), "sysretq restored DF");
  assert.equal(trap.cs, USER_CS, "the int3 came from ring 3 after sysretq");
  assert.equal(trap.ss, USER_SS);
});

Deno.test("syscall: with EFER.SCE = 0 it is #UD", () => {
  const t = new X86TestBench();
  t.cpu.wrmsr(IA32_EFER, t.cpu.rdmsr(IA32_EFER) & ~BigInt(EFER_SCE));
  t.code(CODE, bytes("0f 05"));
  const trap = t.runUser(CODE);
  assert.equal(trap.vector, EXC_UD);
  assert.equal(trap.rip, BigInt(CODE));
});

Deno.test("sysretq: RIP = RCX, RFLAGS = R11 masked, selectors from STAR[63:48]", () => {
  const t = new X86TestBench();
  t.code(CODE, bytes("0f 05 cc"));
  t.onSyscall = (_trap, cpu) => {
    cpu.regs[RCX] = BigInt(CODE + 2);
    cpu.regs[R11] = BigInt(0x3c_7fd7 | 0xff00_0000 | RFLAGS_TF | RFLAGS_IF); // extras dropped
    return "resume";
  };
  assert.equal(t.runUser(CODE).rip, BigInt(CODE + 3), "sysretq went to RCX: the int3 ran");
  const want = BigInt((0x3c_7fd7 | RFLAGS_TF | RFLAGS_IF | 2) & 0x3c_7fd7 | 2);
  const f = t.traps.at(-1)!.rflags;
  assert.equal(f & ~0x10000n, want & ~0x10000n);
  assert.equal(t.traps.at(-1)!.cs, USER_CS);
  assert.equal(t.traps.at(-1)!.ss, USER_SS);
});

Deno.test("sysretq: a non-canonical RCX is #GP(0) in ring 0 (the famous pitfall)", () => {
  const t = new X86TestBench();
  t.code(CODE, bytes("0f 05"));
  let fault: unknown;
  t.onSyscall = (_trap, cpu) => {
    cpu.regs[RCX] = 0x0000_8000_0000_0000n;
    try {
      cpu.sysretq();
    } catch (e) {
      fault = e;
    }
    return "stop";
  };
  t.runUser(CODE);
  assert.ok(fault instanceof CpuFault);
  assert.equal(fault.code, EXC_GP);
  assert.equal((fault as CpuFault & { errorCode: number }).errorCode, 0);
  assert.match(fault.message, /not canonical.*ring 0.*SYSRET pitfall/s);
  assert.equal(t.cpu.cpl, 0, "still in ring 0");
});

Deno.test("sysretq: only with SCE, only from ring 0", () => {
  const t = new X86TestBench();
  t.cpu.wrmsr(IA32_EFER, t.cpu.rdmsr(IA32_EFER) & ~BigInt(EFER_SCE));
  assert.throws(() => t.cpu.sysretq(), (e) => e instanceof CpuFault && e.code === EXC_UD);
  t.code(CODE, bytes("48 0f 07")); // sysretq in ring 3
  assert.equal(t.runUser(CODE).vector, EXC_GP);
});

Deno.test("swapgs exchanges GS_BASE and KERNEL_GS_BASE; GS-relative loads use the base", () => {
  const t = new X86TestBench();
  const pa = t.mapUser(0x60_0000, 4096, { exec: false });
  t.poke64(pa + 0x10, 0x1234_5678n);
  t.cpu.wrmsr(IA32_GS_BASE, 0x60_0000n);
  t.cpu.wrmsr(IA32_KERNEL_GS_BASE, 0xffff_8000_0000_1000n);
  t.code(CODE, bytes("65 48 8b 04 25 10 00 00 00 cc")); // mov rax, gs:[0x10]; int3
  t.runUser(CODE);
  assert.equal(t.cpu.regs[RAX], 0x1234_5678n);
  t.cpu.swapgs();
  assert.equal(t.cpu.rdmsr(IA32_GS_BASE), 0xffff_8000_0000_1000n);
  assert.equal(t.cpu.rdmsr(IA32_KERNEL_GS_BASE), 0x60_0000n);
  t.code(CODE, bytes("0f 01 f8")); // swapgs in ring 3
  assert.equal(t.runUser(CODE).vector, EXC_GP);
});

Deno.test("syscall MSRs: LSTAR and the GS bases must be canonical; FMASK's high half is reserved", () => {
  const t = new X86TestBench();
  for (const msr of [IA32_LSTAR, IA32_GS_BASE, IA32_KERNEL_GS_BASE]) {
    assert.throws(() => t.cpu.wrmsr(msr, 0x8000_0000_0000n), /#GP.*not canonical/);
  }
  assert.throws(() => t.cpu.wrmsr(IA32_FMASK, 1n << 32n), /#GP/);
  t.cpu.wrmsr(IA32_STAR, 0x0013_0008_0000_0000n);
  assert.equal(t.cpu.rdmsr(IA32_STAR), 0x0013_0008_0000_0000n);
});
