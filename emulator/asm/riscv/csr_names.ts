/**
 * CSR names the assembler accepts in `csrr a0, sstatus` and friends, with their numbers
 * from "The RISC-V Instruction Set Manual, Volume II: Privileged Architecture",
 * §2.2 Tables 2.2-2.6 (CSR listing), plus the unprivileged counters and FP status
 * registers of Volume I (ch. 10 Zicntr, ch. 11 F).
 *
 * @module
 */

const NAMED: Record<string, number> = {
  // Unprivileged floating-point CSRs (F extension) and counters (Zicntr, Zihpm).
  fflags: 0x001,
  frm: 0x002,
  fcsr: 0x003,
  cycle: 0xc00,
  time: 0xc01,
  instret: 0xc02,
  // Supervisor trap setup, configuration, trap handling, protection (Table 2.3).
  sstatus: 0x100,
  sie: 0x104,
  stvec: 0x105,
  scounteren: 0x106,
  senvcfg: 0x10a,
  sscratch: 0x140,
  sepc: 0x141,
  scause: 0x142,
  stval: 0x143,
  sip: 0x144,
  stimecmp: 0x14d,
  satp: 0x180,
  // Machine information, trap setup and handling (Table 2.5).
  mvendorid: 0xf11,
  marchid: 0xf12,
  mimpid: 0xf13,
  mhartid: 0xf14,
  mconfigptr: 0xf15,
  mstatus: 0x300,
  misa: 0x301,
  medeleg: 0x302,
  mideleg: 0x303,
  mie: 0x304,
  mtvec: 0x305,
  mcounteren: 0x306,
  menvcfg: 0x30a,
  mcountinhibit: 0x320,
  mscratch: 0x340,
  mepc: 0x341,
  mcause: 0x342,
  mtval: 0x343,
  mip: 0x344,
  mtinst: 0x34a,
  mtval2: 0x34b,
  mseccfg: 0x747,
  mcycle: 0xb00,
  minstret: 0xb02,
  // Debug and trigger registers (Table 2.6).
  tselect: 0x7a0,
  tdata1: 0x7a1,
  tdata2: 0x7a2,
  tdata3: 0x7a3,
  dcsr: 0x7b0,
  dpc: 0x7b1,
  dscratch0: 0x7b2,
  dscratch1: 0x7b3,
};

function numbered(): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 3; i <= 31; i++) {
    out[`hpmcounter${i}`] = 0xc00 + i;
    out[`mhpmcounter${i}`] = 0xb00 + i;
    out[`mhpmevent${i}`] = 0x320 + i;
  }
  for (let i = 0; i <= 15; i++) out[`pmpcfg${i}`] = 0x3a0 + i;
  for (let i = 0; i <= 63; i++) out[`pmpaddr${i}`] = 0x3b0 + i;
  return out;
}

/** Every CSR name the assembler knows, with its 12-bit number. */
export const CSR_NUMBERS: ReadonlyMap<string, number> = new Map(
  Object.entries({ ...NAMED, ...numbered() }),
);
