import assert from "node:assert/strict";
import { Machine } from "../../emulator/core/machine.ts";
import { CSR_SEPC, CSR_SSTATUS, SSTATUS_SPIE, SSTATUS_SPP } from "../../emulator/riscv64/csr.ts";
import type { Hart } from "../../emulator/riscv64/hart_api.ts";
import { RiscvHart } from "../../emulator/riscv64/hart.ts";
import { decodeTrap, RiscvTrap } from "./arch.ts";
import {
  initUserRegs,
  loadUserRegs,
  SAVE_AREA_SIZE,
  SAVE_SEPC,
  saveUserRegs,
  saveX,
} from "./context.ts";
import { HartPhysMem } from "./phys.ts";

const RAM = 0x8000_0000;

function setup() {
  const machine = new Machine<Hart>({ memory: 1 << 20 });
  machine.bus.addRam(RAM, 1 << 20);
  const hart = new RiscvHart(machine, 0);
  machine.cpus.push(hart);
  return { hart, mem: new HartPhysMem(() => hart) };
}

Deno.test("context: the save area holds every register, sepc and SPP/SPIE, as documented", () => {
  const { hart, mem } = setup();
  const area = RAM + 0x1000 - SAVE_AREA_SIZE;
  for (let n = 1; n < 32; n++) hart.x[n] = BigInt(n) * 0x0101_0101_0101n - 7n;
  hart.csrw(CSR_SEPC, 0x1_2344n);
  hart.csrc(CSR_SSTATUS, SSTATUS_SPP);
  hart.csrs(CSR_SSTATUS, SSTATUS_SPIE);
  saveUserRegs(hart, mem, area);
  assert.equal(mem.read(area + saveX(5), 8), BigInt.asUintN(64, 5n * 0x0101_0101_0101n - 7n));
  assert.equal(mem.read(area + SAVE_SEPC, 8), 0x1_2344n);
  assert.equal(mem.read(area, 8), SSTATUS_SPIE, "SPIE set, SPP = U");

  // Another thread's state in between, then back.
  hart.x.fill(0x5555n);
  hart.csrw(CSR_SEPC, 0x9990n);
  hart.csrs(CSR_SSTATUS, SSTATUS_SPP);
  hart.csrc(CSR_SSTATUS, SSTATUS_SPIE);
  loadUserRegs(hart, mem, area);
  for (let n = 1; n < 32; n++) assert.equal(hart.x[n], BigInt(n) * 0x0101_0101_0101n - 7n, `x${n}`);
  assert.equal(hart.csrr(CSR_SEPC), 0x1_2344n);
  assert.equal(hart.csrr(CSR_SSTATUS) & (SSTATUS_SPP | SSTATUS_SPIE), SSTATUS_SPIE);
});

Deno.test("context: a new thread starts in user mode at its entry with sp and a0 set", () => {
  const { hart, mem } = setup();
  const area = RAM + 0x2000 - SAVE_AREA_SIZE;
  mem.writeBytes(area, new Uint8Array(SAVE_AREA_SIZE).fill(0xee)); // an old thread's leftovers
  initUserRegs(mem, area, 0x1_0000n, 0x7fff_ffff_f000n, 42n);
  hart.x.fill(-1n);
  hart.csrs(CSR_SSTATUS, SSTATUS_SPP);
  loadUserRegs(hart, mem, area);
  assert.equal(hart.x[2], 0x7fff_ffff_f000n);
  assert.equal(hart.x[10], 42n);
  for (const n of [1, 3, 4, 5, 11, 27, 31]) assert.equal(hart.x[n], 0n, `x${n}`);
  assert.equal(hart.csrr(CSR_SEPC), 0x1_0000n);
  assert.equal(hart.csrr(CSR_SSTATUS) & SSTATUS_SPP, 0n, "sret goes to U-mode");
});

Deno.test("trap decode: scause and stval become the kernel's trap kinds", () => {
  const t = new RiscvTrap();
  const cases: [bigint, string, string][] = [
    [8n, "syscall", "read"],
    [(1n << 63n) | 5n, "timer", "read"],
    [(1n << 63n) | 1n, "ipi", "read"],
    [(1n << 63n) | 9n, "external", "read"],
    [13n, "page_fault", "read"],
    [15n, "page_fault", "write"],
    [12n, "page_fault", "execute"],
    [5n, "access_fault", "read"],
    [7n, "access_fault", "write"],
    [4n, "misaligned", "read"],
    [2n, "illegal_instruction", "read"],
    [3n, "breakpoint", "read"],
    [9n, "other", "read"],
  ];
  for (const [scause, kind, access] of cases) {
    decodeTrap(t, scause, 0xdead_0000n, 0x1_0040n);
    assert.equal(t.kind, kind, `scause ${scause}`);
    assert.equal(t.access, access, `scause ${scause}`);
    assert.equal(t.pc, 0x1_0040n);
  }
  decodeTrap(t, 15n, 0xdead_0000n, 0x1_0040n);
  assert.equal(t.address, 0xdead_0000n);
  assert.equal(t.cause, "scause 0xf (store/AMO page fault), stval 0xdead_0000");
});
