import assert from "node:assert/strict";
import { CpuFault } from "../core/hosted.ts";
import {
  CSR_CYCLE,
  CSR_INSTRET,
  CSR_SATP,
  CSR_SCAUSE,
  CSR_SCOUNTEREN,
  CSR_SENVCFG,
  CSR_SEPC,
  CSR_SIE,
  CSR_SIP,
  CSR_SSCRATCH,
  CSR_SSTATUS,
  CSR_STIMECMP,
  CSR_STVAL,
  CSR_STVEC,
  CSR_TIME,
  EXC_BREAKPOINT,
  EXC_ILLEGAL_INST,
  IRQ_S_EXT,
  IRQ_S_TIMER,
  makeSatp,
  SATP_MODE_SV39,
  SATP_MODE_SV48,
  SATP_MODE_SV57,
  SIP_SEIP,
  SIP_SSIP,
  SIP_STIP,
  SSTATUS_MXR,
  SSTATUS_SIE,
  SSTATUS_SPIE,
  SSTATUS_SPP,
  SSTATUS_SUM,
  SSTATUS_UXL_64,
} from "./csr.ts";
import { RAM_BASE, runUserCode, Testbench } from "./testing.ts";

const ALL = (1n << 64n) - 1n;

function hart() {
  return new Testbench().harts[0];
}

Deno.test("CSRs: what each supervisor CSR keeps of a write of all ones (WARL)", () => {
  const table: [string, number, bigint][] = [
    ["sstatus", CSR_SSTATUS, SSTATUS_SIE | SSTATUS_SPIE | SSTATUS_SPP | SSTATUS_SUM | SSTATUS_MXR],
    ["sie", CSR_SIE, SIP_SSIP | SIP_STIP | SIP_SEIP],
    ["sip", CSR_SIP, SIP_SSIP],
    ["scounteren", CSR_SCOUNTEREN, 7n],
    ["senvcfg", CSR_SENVCFG, 1n],
    ["sscratch", CSR_SSCRATCH, ALL],
    ["sepc", CSR_SEPC, ALL - 1n],
    ["scause", CSR_SCAUSE, ALL],
    ["stval", CSR_STVAL, ALL],
    ["stimecmp", CSR_STIMECMP, ALL],
  ];
  for (const [name, csr, kept] of table) {
    const h = hart();
    h.csrw(csr, ALL);
    const extra = csr === CSR_SSTATUS ? SSTATUS_UXL_64 : 0n;
    assert.equal(h.csrr(csr), kept | extra, name);
    h.csrw(csr, 0n);
    assert.equal(h.csrr(csr), extra, `${name} after writing 0`);
  }
});

Deno.test("CSRs: sstatus.UXL reads 2 (64-bit U-mode) and cannot be changed", () => {
  const h = hart();
  assert.equal(h.csrr(CSR_SSTATUS) & (3n << 32n), SSTATUS_UXL_64);
  h.csrc(CSR_SSTATUS, 3n << 32n);
  assert.equal(h.csrr(CSR_SSTATUS) & (3n << 32n), SSTATUS_UXL_64);
});

Deno.test("CSRs: csrs and csrc set and clear bits", () => {
  const h = hart();
  h.csrs(CSR_SSTATUS, SSTATUS_SUM | SSTATUS_SIE);
  h.csrc(CSR_SSTATUS, SSTATUS_SIE);
  assert.equal(h.csrr(CSR_SSTATUS), SSTATUS_SUM | SSTATUS_UXL_64);
  h.csrw(CSR_SSCRATCH, 0xf0n);
  h.csrs(CSR_SSCRATCH, 0x0fn);
  h.csrc(CSR_SSCRATCH, 0x81n);
  assert.equal(h.csrr(CSR_SSCRATCH), 0x7en);
});

Deno.test("CSRs: sip shows STIP and SEIP from their sources, software may only touch SSIP", () => {
  const h = hart();
  h.setInterruptPending(IRQ_S_TIMER, true);
  h.setInterruptPending(IRQ_S_EXT, true);
  assert.equal(h.csrr(CSR_SIP), SIP_STIP | SIP_SEIP);
  h.csrc(CSR_SIP, SIP_STIP | SIP_SEIP);
  assert.equal(h.csrr(CSR_SIP), SIP_STIP | SIP_SEIP, "read-only bits stay");
  h.csrs(CSR_SIP, SIP_SSIP);
  assert.equal(h.csrr(CSR_SIP), SIP_SSIP | SIP_STIP | SIP_SEIP);
  h.setInterruptPending(IRQ_S_TIMER, false);
  h.setInterruptPending(IRQ_S_EXT, false);
  h.csrc(CSR_SIP, SIP_SSIP);
  assert.equal(h.csrr(CSR_SIP), 0n);
});

Deno.test("CSRs: stvec keeps BASE and MODE 0 or 1; a reserved MODE leaves it unchanged", () => {
  const h = hart();
  h.csrw(CSR_STVEC, 0xffff_ffff_8000_1001n);
  assert.equal(h.csrr(CSR_STVEC), 0xffff_ffff_8000_1001n);
  h.csrw(CSR_STVEC, 0x8000_2002n);
  assert.equal(h.csrr(CSR_STVEC), 0xffff_ffff_8000_1001n, "MODE 2 is reserved");
  h.csrw(CSR_STVEC, 0x8000_2003n);
  assert.equal(h.csrr(CSR_STVEC), 0xffff_ffff_8000_1001n, "MODE 3 is reserved");
  h.csrw(CSR_STVEC, 0x8000_2000n);
  assert.equal(h.csrr(CSR_STVEC), 0x8000_2000n);
});

Deno.test("CSRs: satp takes Bare, Sv39 and Sv48; any other MODE leaves it unchanged", () => {
  const h = hart();
  const sv48 = makeSatp(SATP_MODE_SV48, 0xffff, 0x80123);
  h.csrw(CSR_SATP, sv48);
  assert.equal(h.csrr(CSR_SATP), sv48, "all 16 ASID bits are implemented (ASIDLEN = 16)");
  for (const mode of [SATP_MODE_SV57, 1, 7, 11, 15]) {
    h.csrw(CSR_SATP, makeSatp(mode, 1, 0x80000));
    assert.equal(h.csrr(CSR_SATP), sv48, `MODE ${mode}`);
  }
  const sv39 = makeSatp(SATP_MODE_SV39, 3, 0x80001);
  h.csrw(CSR_SATP, sv39);
  assert.equal(h.csrr(CSR_SATP), sv39);
  h.csrw(CSR_SATP, 0n);
  assert.equal(h.csrr(CSR_SATP), 0n);
});

Deno.test("CSRs: scounteren allows all three counters at reset", () => {
  assert.equal(hart().csrr(CSR_SCOUNTEREN), 7n);
});

Deno.test("CSRs: S-mode cannot reach what does not exist, M-mode CSRs, or write counters", () => {
  const h = hart();
  const illegal = (f: () => unknown, what: string) =>
    assert.throws(f, (e: unknown) => {
      assert.ok(e instanceof CpuFault, what);
      assert.equal(e.code, EXC_ILLEGAL_INST, what);
      assert.match(e.message, /S-mode cannot/);
      return true;
    });
  illegal(() => h.csrr(0x300), "mstatus");
  illegal(() => h.csrr(0xf14), "mhartid");
  illegal(() => h.csrr(0x5a8), "an unassigned supervisor number");
  illegal(() => h.csrr(0x001), "fflags: no F extension");
  illegal(() => h.csrr(0xc03), "hpmcounter3: not implemented");
  illegal(() => h.csrw(CSR_CYCLE, 0n), "cycle is read-only");
  illegal(() => h.csrs(CSR_TIME, 1n), "time is read-only");
  illegal(() => h.csrw(0x180 + 0x200, 0n), "hgatp: no hypervisor");
});

Deno.test("Zicntr: cycle is virtual ns, time ticks at 10 MHz, instret counts instructions", () => {
  const run = runUserCode(
    `
      li t0, 300
    1: addi t0, t0, -1
      bnez t0, 1b
      csrr a0, cycle     # 1 + 600 instructions done: 601 ns
      csrr a1, time      # 602 ns: 6 ticks
      csrr a2, instret   # 603 instructions retired before this one
      ebreak`,
  );
  assert.equal(run.trap?.code, EXC_BREAKPOINT);
  assert.equal(run.hart.x[10], 601n);
  assert.equal(run.hart.x[11], 6n);
  assert.equal(run.hart.x[12], 603n);
});

Deno.test("Zicntr: scounteren hides each counter from U-mode separately", () => {
  const table: [string, number, bigint][] = [
    ["cycle", 0, 0xc0002573n],
    ["time", 1, 0xc0102573n],
    ["instret", 2, 0xc0202573n],
  ];
  for (const [name, bit, bits] of table) {
    const allowed = runUserCode(`csrr a0, ${name}\nebreak`, {
      setup: (_tb, h) => h.csrw(CSR_SCOUNTEREN, 7n & ~(7n ^ (1n << BigInt(bit)))),
    });
    assert.equal(allowed.trap?.code, EXC_BREAKPOINT, `${name} allowed by its own bit`);
    const hidden = runUserCode(`csrr a0, ${name}\nebreak`, {
      setup: (_tb, h) => h.csrw(CSR_SCOUNTEREN, 7n & ~(1n << BigInt(bit))),
    });
    assert.equal(hidden.trap?.code, EXC_ILLEGAL_INST, `${name} hidden`);
    assert.equal(hidden.trap?.stval, bits, `${name}: stval holds the instruction`);
  }
});

Deno.test("Zicsr in U-mode: supervisor CSRs and writes to counters are illegal", () => {
  const illegal = [
    "csrr a0, sstatus",
    "csrw sscratch, a0",
    "csrr a0, satp",
    "csrw cycle, a0", // read-only
    "csrrwi zero, time, 1", // writes, even though it does not read
    "csrrs a0, instret, a1", // a1 != x0: a write
    "csrr a0, mstatus",
    "csrr a0, 0x801", // an unassigned user number
  ];
  for (const source of illegal) {
    const run = runUserCode(`${source}\nebreak`, { regs: { a1: 1n } });
    assert.equal(run.trap?.code, EXC_ILLEGAL_INST, source);
    assert.equal(run.trap?.sepc, BigInt(RAM_BASE), source);
  }
  // Reads that do not write are fine: csrrs/csrrc with x0 or 0, csrrs with rd = x0.
  for (
    const source of ["csrrs a0, cycle, zero", "csrrci a0, time, 0", "csrrs zero, instret, zero"]
  ) {
    assert.equal(runUserCode(`${source}\nebreak`).trap?.code, EXC_BREAKPOINT, source);
  }
});

Deno.test("stimecmp: writing it rearms the comparison and clears a latched STIP", () => {
  const h = hart();
  h.csrw(CSR_STIMECMP, 0n);
  assert.equal(h.csrr(CSR_SIP) & SIP_STIP, SIP_STIP, "time 0 >= stimecmp 0");
  h.csrw(CSR_STIMECMP, 10n);
  assert.equal(h.csrr(CSR_SIP) & SIP_STIP, 0n);
  h.timeNs = 999;
  assert.equal(h.csrr(CSR_SIP) & SIP_STIP, 0n, "9 ticks < 10");
  h.timeNs = 1000;
  assert.equal(h.csrr(CSR_SIP) & SIP_STIP, SIP_STIP, "10 ticks >= 10");
  assert.equal(h.csrr(CSR_TIME), 10n);
  h.csrw(CSR_STIMECMP, ALL);
  assert.equal(h.csrr(CSR_SIP) & SIP_STIP, 0n);
  assert.equal(h.csrr(CSR_INSTRET), 0n);
});
