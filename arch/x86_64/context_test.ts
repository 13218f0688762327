import assert from "node:assert/strict";
import { Machine } from "../../emulator/core/machine.ts";
import type { X86Cpu } from "../../emulator/x86_64/cpu_api.ts";
import { X86Processor } from "../../emulator/x86_64/cpu.ts";
import {
  CR0_PE,
  CR0_PG,
  CR4_PAE,
  EFER_LME,
  EFER_NXE,
  IA32_EFER,
  IA32_FS_BASE,
  IA32_GS_BASE,
  PTE_P,
  PTE_PS,
  PTE_W,
  R11,
  R15,
  RAX,
  RCX,
  RDI,
  RSP,
} from "../../emulator/x86_64/regs.ts";
import { HHDM_BASE } from "../../kernel/mm/phys.ts";
import {
  initUserRegs,
  loadUserRegs,
  SAVE_AREA_SIZE,
  SAVE_CS,
  SAVE_FS_BASE,
  SAVE_RFLAGS,
  SAVE_RIP,
  SAVE_RSP,
  SAVE_SS,
  SAVED_REGS,
  saveOffset,
  saveUserRegs,
} from "./context.ts";
import { USER_CS, USER_SS } from "./descriptors.ts";
import { CpuPhysMem } from "./phys.ts";
import {
  decodeVector,
  describePageFaultError,
  SYSCALL_VECTOR,
  vectorKind,
  X86Trap,
} from "./traps.ts";

const MiB = 1 << 20;

/** A CPU in 64-bit mode whose first GiB of RAM is at HHDM_BASE (2 MiB pages), as at boot. */
function setup() {
  const machine = new Machine<X86Cpu>({ memory: 8 * MiB });
  machine.bus.addRam(0, 8 * MiB);
  const cpu = new X86Processor(machine, { index: 0 });
  const pml4 = 0x1000, pdpt = 0x2000, pd = 0x3000;
  const bus = machine.bus;
  bus.write(pml4 + 256 * 8, 8, BigInt(pdpt | PTE_P | PTE_W));
  bus.write(pdpt, 8, BigInt(pd | PTE_P | PTE_W));
  for (let i = 0; i < 4; i++) {
    bus.write(pd + 8 * i, 8, BigInt(i * 2 * MiB | PTE_P | PTE_W | PTE_PS));
  }
  cpu.writeCr(4, BigInt(CR4_PAE));
  cpu.wrmsr(IA32_EFER, BigInt(EFER_LME | EFER_NXE));
  cpu.writeCr(3, BigInt(pml4));
  cpu.writeCr(0, BigInt(CR0_PG) | BigInt(CR0_PE));
  return { cpu, mem: new CpuPhysMem(() => cpu), bus };
}

Deno.test("context: the save area holds the registers as pt_regs does, the frame at its top", () => {
  const { cpu, mem } = setup();
  const top = 0x10_0000, area = top - SAVE_AREA_SIZE;
  for (const r of SAVED_REGS) cpu.regs[r] = BigInt(r) * 0x0101_0101_0101n - 7n;
  cpu.wrmsr(IA32_FS_BASE, 0x7000_1000n);
  cpu.wrmsr(IA32_GS_BASE, 0x7000_2000n);
  saveUserRegs(cpu, mem, area);
  assert.equal(mem.read(area + saveOffset(RAX), 8), BigInt.asUintN(64, -7n));
  assert.equal(mem.read(area + saveOffset(R15), 8), 15n * 0x0101_0101_0101n - 7n);
  assert.equal(mem.read(area + SAVE_FS_BASE, 8), 0x7000_1000n);
  assert.equal(saveOffset(R15), 24, "r15 first, as in Linux's struct pt_regs");
  assert.equal(saveOffset(RDI), 136, "rdi last before the error code");
  assert.equal(SAVE_AREA_SIZE - SAVE_RIP, 40, "RIP where the CPU pushes it: RSP0 - 40");
  assert.equal(SAVE_AREA_SIZE - SAVE_SS, 8, "SS at RSP0 - 8");
  assert.throws(() => saveOffset(RSP), /RSP is in the frame/);

  // Another thread's state in between, then back.
  cpu.regs.fill(0x5555n);
  cpu.wrmsr(IA32_FS_BASE, 0n);
  loadUserRegs(cpu, mem, area);
  for (const r of SAVED_REGS) assert.equal(cpu.regs[r], BigInt(r) * 0x0101_0101_0101n - 7n, `${r}`);
  assert.equal(cpu.regs[RSP], 0x5555n, "RSP is the frame's, loaded only by the return");
  assert.equal(cpu.rdmsr(IA32_FS_BASE), 0x7000_1000n);
  assert.equal(cpu.rdmsr(IA32_GS_BASE), 0x7000_2000n);
});

Deno.test("context: a new thread starts in ring 3 at its entry with RSP and RDI set", () => {
  const { cpu, mem } = setup();
  const top = 0x20_0000, area = top - SAVE_AREA_SIZE;
  mem.writeBytes(area, new Uint8Array(SAVE_AREA_SIZE).fill(0xee)); // an old thread's leftovers
  initUserRegs(mem, area, 0x1_0000n, 0x7fff_ffff_f000n, 42n);
  assert.equal(mem.read(area + SAVE_RIP, 8), 0x1_0000n);
  assert.equal(mem.read(area + SAVE_CS, 8), BigInt(USER_CS));
  assert.equal(mem.read(area + SAVE_RFLAGS, 8), 0x202n, "IF set, and the reserved bit 1");
  assert.equal(mem.read(area + SAVE_RSP, 8), 0x7fff_ffff_f000n);
  assert.equal(mem.read(area + SAVE_SS, 8), BigInt(USER_SS));
  cpu.regs.fill(-1n);
  loadUserRegs(cpu, mem, area);
  assert.equal(cpu.regs[RDI], 42n);
  for (const r of [RAX, RCX, R11, R15]) assert.equal(cpu.regs[r], 0n, `register ${r}`);
  assert.equal(cpu.rdmsr(IA32_FS_BASE), 0n);
  // The frame is what IRETQ pops: RSP pointed at it in the direct map.
  assert.deepEqual(
    [0, 8, 16, 24, 32].map((o) => cpu.load(HHDM_BASE + BigInt(area + SAVE_RIP + o), 8)),
    [0x1_0000n, BigInt(USER_CS), 0x202n, 0x7fff_ffff_f000n, BigInt(USER_SS)],
  );
});

Deno.test("trap decode: vectors, error codes and CR2 become the kernel's trap kinds", () => {
  const t = new X86Trap();
  const cases: [number, number, string, string][] = [
    [14, 0x4, "page_fault", "read"],
    [14, 0x7, "page_fault", "write"],
    [14, 0x15, "page_fault", "execute"],
    [13, 0, "access_fault", "read"],
    [12, 0, "access_fault", "read"],
    [6, -1, "illegal_instruction", "read"],
    [3, -1, "breakpoint", "read"],
    [17, 0, "misaligned", "read"],
    [0, -1, "other", "read"],
    [2, -1, "ipi", "read"],
    [0x20, -1, "timer", "read"],
    [0x34, -1, "external", "read"],
    [0xf0, -1, "ipi", "read"],
    [SYSCALL_VECTOR, -1, "syscall", "read"],
    [0x80, -1, "other", "read"],
  ];
  for (const [vector, error, kind, access] of cases) {
    decodeVector(t, vector, error, 0xdead_0000n, 0x1_0040n);
    assert.equal(t.kind, kind, `vector ${vector}`);
    assert.equal(t.access, access, `vector ${vector}`);
    assert.equal(vectorKind(vector), kind);
  }
  decodeVector(t, 14, 0x6, 0xdead_0000n, 0x1_0040n);
  assert.equal(t.address, 0xdead_0000n);
  assert.equal(t.pc, 0x1_0040n);
  assert.equal(
    t.cause,
    "vector 14 (#PF page fault), error code 0x6 (not present, write, user), CR2 0xdead_0000",
  );
  decodeVector(t, SYSCALL_VECTOR, -1, 0n, 0x1_0042n);
  assert.equal(t.pc, 0x1_0040n, "the int 0x69 itself, two bytes before the frame's RIP");
  assert.equal(t.cause, "vector 105 (vector 0x69)");
  assert.equal(
    describePageFaultError(0x1d),
    "protection violation, instruction fetch, user, reserved bit set",
  );
});
