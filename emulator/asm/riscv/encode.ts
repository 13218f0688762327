/**
 * The RV64IMAC + Zicsr + Zifencei instruction encoder: operands in, instruction bits out.
 *
 * Every instruction is one entry of {@link INSTRUCTIONS}, keyed by its mnemonic, with its
 * operand syntax (in assembly order) and a function that packs the operands into the
 * instruction formats of the specification. Operands are plain numbers: register numbers
 * 0..31, immediates as signed integers, and pc-relative offsets (not targets) for
 * branches and jumps. So `addi a0, sp, -16` is `encode("addi", 10, 2, -16)` and
 * `lw a0, 8(sp)` is `encode("lw", 10, 8, 2)`: operands in the order they are written.
 *
 * Nothing is silently truncated: an immediate that does not fit, an odd branch offset or
 * a register that a compressed form cannot name throws {@link EncodeError} saying so
 * ("immediate 5000 does not fit in 12 signed bits (-2048..2047)").
 *
 * References: "The RISC-V Instruction Set Manual, Volume I: Unprivileged ISA" (20191213):
 * §2.2-2.3 base formats, ch. 2 and 5 (RV32I/RV64I), ch. 3 (Zifencei), ch. 7 (M), ch. 8 (A),
 * ch. 9 (Zicsr), ch. 16 (C, formats in Table 16.1, encodings in Tables 16.5-16.7);
 * Volume II (Privileged, 20211203) §3.3 and §4.2 for `sret`, `mret`, `wfi`, `sfence.vma`.
 *
 * @module
 */

import { ABI_NAMES } from "../../riscv64/hart_api.ts";

/** A value that an instruction cannot encode: the message says which and why. */
export class EncodeError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "EncodeError";
  }
}

// ---- registers ---------------------------------------------------------------------------

export { ABI_NAMES };

const REGISTER_NUMBERS = new Map<string, number>([
  ...ABI_NAMES.map((n, i): [string, number] => [n, i]),
  ...ABI_NAMES.map((_, i): [string, number] => [`x${i}`, i]),
  ["fp", 8],
]);

/** The number of an integer register named `x0`..`x31`, by ABI name, or `fp`; else undefined. */
export function registerNumber(name: string): number | undefined {
  return REGISTER_NUMBERS.get(name.toLowerCase());
}

// ---- opcodes (Volume I, Table 24.1 "RISC-V base opcode map") ------------------------------

/** Major opcodes of the 32-bit encodings, bits 6:0. */
export const OPCODE = {
  LOAD: 0x03,
  CUSTOM_0: 0x0b,
  MISC_MEM: 0x0f,
  OP_IMM: 0x13,
  AUIPC: 0x17,
  OP_IMM_32: 0x1b,
  STORE: 0x23,
  AMO: 0x2f,
  OP: 0x33,
  LUI: 0x37,
  OP_32: 0x3b,
  BRANCH: 0x63,
  JALR: 0x67,
  JAL: 0x6f,
  SYSTEM: 0x73,
} as const;

// ---- field checks ------------------------------------------------------------------------

function checkInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) {
    throw new EncodeError(`${what} ${value} is not an integer`);
  }
}

/** A register number 0..31. */
function reg(value: number, what: string): number {
  checkInteger(value, what);
  if (value < 0 || value > 31) {
    throw new EncodeError(`${what} x${value} is not a register: use x0..x31`);
  }
  return value;
}

/** A register a compressed format can name in 3 bits: x8..x15 (s0, s1, a0..a5). */
function creg(value: number, what: string): number {
  reg(value, what);
  if (value < 8 || value > 15) {
    throw new EncodeError(
      `${what} ${ABI_NAMES[value]} cannot be encoded in a compressed instruction: ` +
        `use one of s0, s1, a0..a5 (x8..x15)`,
    );
  }
  return value - 8;
}

/** A register other than x0, for the compressed forms that reserve x0. */
function nonzeroReg(value: number, what: string): number {
  reg(value, what);
  if (value === 0) throw new EncodeError(`${what} must not be x0 (zero) in this instruction`);
  return value;
}

/** A signed immediate of `bits` bits, returned as its two's-complement bit pattern. */
function signed(value: number, bits: number, what = "immediate"): number {
  checkInteger(value, what);
  const lo = -(2 ** (bits - 1)), hi = 2 ** (bits - 1) - 1;
  if (value < lo || value > hi) {
    throw new EncodeError(`${what} ${value} does not fit in ${bits} signed bits (${lo}..${hi})`);
  }
  return value < 0 ? value + 2 ** bits : value;
}

/** An unsigned immediate of `bits` bits. */
function unsigned(value: number, bits: number, what = "immediate"): number {
  checkInteger(value, what);
  const hi = 2 ** bits - 1;
  if (value < 0 || value > hi) {
    throw new EncodeError(`${what} ${value} does not fit in ${bits} unsigned bits (0..${hi})`);
  }
  return value;
}

/** Checks that `value` is a multiple of `m` (offsets scaled by the encoding). */
function multipleOf(value: number, m: number, what: string): void {
  if (value % m !== 0) {
    throw new EncodeError(`${what} ${value} is not a multiple of ${m}`);
  }
}

function nonzero(value: number, what: string): void {
  if (value === 0) throw new EncodeError(`${what} must not be 0 in this instruction`);
}

/** Bits [hi:lo] of `v`, shifted down to bit 0. */
function bits(v: number, hi: number, lo: number): number {
  return Math.floor(v / 2 ** lo) % 2 ** (hi - lo + 1);
}

// ---- the 32-bit formats (Volume I, §2.2 and §2.3, Figure 2.3) --------------------------

/** R-type: funct7 | rs2 | rs1 | funct3 | rd | opcode. */
export function encodeR(
  opcode: number,
  funct3: number,
  funct7: number,
  rd: number,
  rs1: number,
  rs2: number,
): number {
  return ((funct7 << 25) | (reg(rs2, "rs2") << 20) | (reg(rs1, "rs1") << 15) | (funct3 << 12) |
    (reg(rd, "rd") << 7) | opcode) >>> 0;
}

/** I-type: imm[11:0] | rs1 | funct3 | rd | opcode; `imm` is a signed 12-bit value. */
export function encodeI(
  opcode: number,
  funct3: number,
  rd: number,
  rs1: number,
  imm: number,
): number {
  return ((signed(imm, 12) << 20) | (reg(rs1, "rs1") << 15) | (funct3 << 12) |
    (reg(rd, "rd") << 7) | opcode) >>> 0;
}

/** S-type: imm[11:5] | rs2 | rs1 | funct3 | imm[4:0] | opcode. */
export function encodeS(
  opcode: number,
  funct3: number,
  rs1: number,
  rs2: number,
  imm: number,
): number {
  const u = signed(imm, 12, "offset");
  return ((bits(u, 11, 5) << 25) | (reg(rs2, "rs2") << 20) | (reg(rs1, "rs1") << 15) |
    (funct3 << 12) | (bits(u, 4, 0) << 7) | opcode) >>> 0;
}

/** B-type: a signed, even 13-bit pc-relative offset, imm[12|10:5] ... imm[4:1|11]. */
export function encodeB(
  opcode: number,
  funct3: number,
  rs1: number,
  rs2: number,
  offset: number,
): number {
  checkInteger(offset, "branch offset");
  multipleOf(offset, 2, "branch offset");
  const u = signed(offset, 13, "branch offset");
  return ((bits(u, 12, 12) << 31) | (bits(u, 10, 5) << 25) | (reg(rs2, "rs2") << 20) |
    (reg(rs1, "rs1") << 15) | (funct3 << 12) | (bits(u, 4, 1) << 8) | (bits(u, 11, 11) << 7) |
    opcode) >>> 0;
}

/** U-type: the 20-bit upper immediate (0..0xfffff) as `lui` and `auipc` write it. */
export function encodeU(opcode: number, rd: number, imm20: number): number {
  return ((unsigned(imm20, 20, "upper immediate") << 12) | (reg(rd, "rd") << 7) | opcode) >>> 0;
}

/** J-type: a signed, even 21-bit pc-relative offset, imm[20|10:1|11|19:12]. */
export function encodeJ(opcode: number, rd: number, offset: number): number {
  checkInteger(offset, "jump offset");
  multipleOf(offset, 2, "jump offset");
  const u = signed(offset, 21, "jump offset");
  return ((bits(u, 20, 20) << 31) | (bits(u, 10, 1) << 21) | (bits(u, 11, 11) << 20) |
    (bits(u, 19, 12) << 12) | (reg(rd, "rd") << 7) | opcode) >>> 0;
}

// ---- the instruction table ---------------------------------------------------------------

/**
 * How an operand is written. Memory operands are one syntax element but two operands:
 * `imm(rs1)` gives the offset then the base register, `(rs1)` the register alone.
 *
 * - `rd`, `rs1`, `rs2`: an integer register; `rd'`, `rs1'`, `rs2'`: x8..x15 only
 * - `imm`: a signed or unsigned immediate (the entry checks its range)
 * - `offset`: a pc-relative branch or jump offset, written as a target in assembly
 * - `csr`: a CSR number 0..4095 (or name, in assembly)
 * - `pred`, `succ`: a fence set, 4 bits I O R W (written `iorw` in assembly)
 * - `imm(rs1)`, `imm(sp)`: offset and base; `(rs1)`: base only (atomics)
 */
export type OperandKind =
  | "rd"
  | "rs1"
  | "rs2"
  | "rd'"
  | "rs1'"
  | "rs2'"
  | "imm"
  | "offset"
  | "csr"
  | "pred"
  | "succ"
  | "imm(rs1)"
  | "imm(rs1')"
  | "imm(sp)"
  | "(rs1)";

/** One instruction of the table. */
export interface InstructionDef {
  /** The mnemonic, lower case, as GNU as spells it (`c.addi`, `amoadd.w.aqrl`). */
  readonly mnemonic: string;
  /** The operands in assembly order; a memory operand stands for two numbers. */
  readonly operands: readonly OperandKind[];
  /** 2 for the C extension, else 4. */
  readonly size: 2 | 4;
  /** Packs the operands (flattened, in written order) into the instruction bits. */
  readonly encode: (ops: readonly number[]) => number;
}

const table = new Map<string, InstructionDef>();

function define(
  mnemonic: string,
  operands: readonly OperandKind[],
  encode: (ops: readonly number[]) => number,
  size: 2 | 4 = 4,
): void {
  table.set(mnemonic, { mnemonic, operands, size, encode });
}

const RRR: OperandKind[] = ["rd", "rs1", "rs2"];
const RRI: OperandKind[] = ["rd", "rs1", "imm"];

// RV32I and RV64I register-register operations (§2.4.2, §5.2.2) and M (ch. 7).
for (
  const [name, opcode, funct3, funct7] of [
    ["add", OPCODE.OP, 0, 0x00],
    ["sub", OPCODE.OP, 0, 0x20],
    ["sll", OPCODE.OP, 1, 0x00],
    ["slt", OPCODE.OP, 2, 0x00],
    ["sltu", OPCODE.OP, 3, 0x00],
    ["xor", OPCODE.OP, 4, 0x00],
    ["srl", OPCODE.OP, 5, 0x00],
    ["sra", OPCODE.OP, 5, 0x20],
    ["or", OPCODE.OP, 6, 0x00],
    ["and", OPCODE.OP, 7, 0x00],
    ["addw", OPCODE.OP_32, 0, 0x00],
    ["subw", OPCODE.OP_32, 0, 0x20],
    ["sllw", OPCODE.OP_32, 1, 0x00],
    ["srlw", OPCODE.OP_32, 5, 0x00],
    ["sraw", OPCODE.OP_32, 5, 0x20],
    ["mul", OPCODE.OP, 0, 0x01],
    ["mulh", OPCODE.OP, 1, 0x01],
    ["mulhsu", OPCODE.OP, 2, 0x01],
    ["mulhu", OPCODE.OP, 3, 0x01],
    ["div", OPCODE.OP, 4, 0x01],
    ["divu", OPCODE.OP, 5, 0x01],
    ["rem", OPCODE.OP, 6, 0x01],
    ["remu", OPCODE.OP, 7, 0x01],
    ["mulw", OPCODE.OP_32, 0, 0x01],
    ["divw", OPCODE.OP_32, 4, 0x01],
    ["divuw", OPCODE.OP_32, 5, 0x01],
    ["remw", OPCODE.OP_32, 6, 0x01],
    ["remuw", OPCODE.OP_32, 7, 0x01],
  ] as const
) {
  define(name, RRR, ([rd, rs1, rs2]) => encodeR(opcode, funct3, funct7, rd, rs1, rs2));
}

// Register-immediate operations (§2.4.1, §5.2.1).
for (
  const [name, opcode, funct3] of [
    ["addi", OPCODE.OP_IMM, 0],
    ["slti", OPCODE.OP_IMM, 2],
    ["sltiu", OPCODE.OP_IMM, 3],
    ["xori", OPCODE.OP_IMM, 4],
    ["ori", OPCODE.OP_IMM, 6],
    ["andi", OPCODE.OP_IMM, 7],
    ["addiw", OPCODE.OP_IMM_32, 0],
  ] as const
) {
  define(name, RRI, ([rd, rs1, imm]) => encodeI(opcode, funct3, rd, rs1, imm));
}

// Shifts by a constant: RV64 shifts take a 6-bit shamt, the *W forms a 5-bit one; bit 30
// (imm[10]) selects the arithmetic shift (§5.2.1).
for (
  const [name, opcode, funct3, arith, width] of [
    ["slli", OPCODE.OP_IMM, 1, 0, 6],
    ["srli", OPCODE.OP_IMM, 5, 0, 6],
    ["srai", OPCODE.OP_IMM, 5, 1, 6],
    ["slliw", OPCODE.OP_IMM_32, 1, 0, 5],
    ["srliw", OPCODE.OP_IMM_32, 5, 0, 5],
    ["sraiw", OPCODE.OP_IMM_32, 5, 1, 5],
  ] as const
) {
  define(name, RRI, ([rd, rs1, shamt]) => {
    const sh = unsigned(shamt, width, "shift amount");
    return (((arith << 30) | (sh << 20) | (reg(rs1, "rs1") << 15) | (funct3 << 12) |
      (reg(rd, "rd") << 7) | opcode) >>> 0);
  });
}

// Loads and stores (§2.6, §5.3).
for (
  const [name, funct3] of [
    ["lb", 0],
    ["lh", 1],
    ["lw", 2],
    ["ld", 3],
    ["lbu", 4],
    ["lhu", 5],
    ["lwu", 6],
  ] as const
) {
  define(name, ["rd", "imm(rs1)"], ([rd, imm, rs1]) => encodeI(OPCODE.LOAD, funct3, rd, rs1, imm));
}
for (const [name, funct3] of [["sb", 0], ["sh", 1], ["sw", 2], ["sd", 3]] as const) {
  define(
    name,
    ["rs2", "imm(rs1)"],
    ([rs2, imm, rs1]) => encodeS(OPCODE.STORE, funct3, rs1, rs2, imm),
  );
}

// Upper immediates, jumps and branches (§2.4.1, §2.5).
define("lui", ["rd", "imm"], ([rd, imm]) => encodeU(OPCODE.LUI, rd, imm));
define("auipc", ["rd", "imm"], ([rd, imm]) => encodeU(OPCODE.AUIPC, rd, imm));
define("jal", ["rd", "offset"], ([rd, off]) => encodeJ(OPCODE.JAL, rd, off));
define("jalr", ["rd", "imm(rs1)"], ([rd, imm, rs1]) => encodeI(OPCODE.JALR, 0, rd, rs1, imm));
for (
  const [name, funct3] of [
    ["beq", 0],
    ["bne", 1],
    ["blt", 4],
    ["bge", 5],
    ["bltu", 6],
    ["bgeu", 7],
  ] as const
) {
  define(
    name,
    ["rs1", "rs2", "offset"],
    ([rs1, rs2, off]) => encodeB(OPCODE.BRANCH, funct3, rs1, rs2, off),
  );
}

// Memory ordering (§2.7) and Zifencei (ch. 3). FENCE: fm | pred | succ | rs1 | 000 | rd.
/** Builds a FENCE with the given fm, pred and succ fields (I=8, O=4, R=2, W=1). */
function fence(fm: number, pred: number, succ: number): number {
  return ((fm << 28) | (unsigned(pred, 4, "fence predecessor set") << 24) |
    (unsigned(succ, 4, "fence successor set") << 20) | OPCODE.MISC_MEM) >>> 0;
}
define("fence", ["pred", "succ"], ([pred, succ]) => fence(0, pred, succ));
define("fence.tso", [], () => fence(0b1000, 0b0011, 0b0011));
define("fence.i", [], () => encodeI(OPCODE.MISC_MEM, 1, 0, 0, 0));

// Environment calls and privileged instructions (Volume I §2.8; Volume II §3.3, §4.2.1).
define("ecall", [], () => 0x0000_0073);
define("ebreak", [], () => 0x0010_0073);
define("sret", [], () => 0x1020_0073);
define("mret", [], () => 0x3020_0073);
define("wfi", [], () => 0x1050_0073);
define(
  "sfence.vma",
  ["rs1", "rs2"],
  ([rs1, rs2]) => encodeR(OPCODE.SYSTEM, 0, 0b0001001, 0, rs1, rs2),
);

// Zicsr (ch. 9): the CSR number sits where an I-type immediate would, unsigned.
for (
  const [name, funct3, immediate] of [
    ["csrrw", 1, false],
    ["csrrs", 2, false],
    ["csrrc", 3, false],
    ["csrrwi", 5, true],
    ["csrrsi", 6, true],
    ["csrrci", 7, true],
  ] as const
) {
  define(name, ["rd", "csr", immediate ? "imm" : "rs1"], ([rd, csr, src]) => {
    const s = immediate ? unsigned(src, 5, "CSR immediate") : reg(src, "rs1");
    return ((unsigned(csr, 12, "CSR number") << 20) | (s << 15) | (funct3 << 12) |
      (reg(rd, "rd") << 7) | OPCODE.SYSTEM) >>> 0;
  });
}

// A (ch. 8): funct5 | aq | rl | rs2 | rs1 | width | rd. Each mnemonic comes in four
// orderings, spelled with the suffixes .aq, .rl and .aqrl as GNU as does.
for (
  const [base, funct5] of [
    ["lr", 0b00010],
    ["sc", 0b00011],
    ["amoswap", 0b00001],
    ["amoadd", 0b00000],
    ["amoxor", 0b00100],
    ["amoand", 0b01100],
    ["amoor", 0b01000],
    ["amomin", 0b10000],
    ["amomax", 0b10100],
    ["amominu", 0b11000],
    ["amomaxu", 0b11100],
  ] as const
) {
  for (const [width, funct3] of [["w", 2], ["d", 3]] as const) {
    for (const [suffix, aqrl] of [["", 0], [".aq", 2], [".rl", 1], [".aqrl", 3]] as const) {
      const name = `${base}.${width}${suffix}`;
      const amo = (rd: number, rs1: number, rs2: number) =>
        encodeR(OPCODE.AMO, funct3, (funct5 << 2) | aqrl, rd, rs1, rs2);
      if (base === "lr") define(name, ["rd", "(rs1)"], ([rd, rs1]) => amo(rd, rs1, 0));
      else define(name, ["rd", "rs2", "(rs1)"], ([rd, rs2, rs1]) => amo(rd, rs1, rs2));
    }
  }
}

// The TypeScript user-program stub instructions (emulator/core/user_program.ts): custom-0,
// I-type with funct3 0 (ts.start) and 1 (ts.resume), every other field zero.
define("ts.start", [], () => encodeI(OPCODE.CUSTOM_0, 0, 0, 0, 0));
define("ts.resume", [], () => encodeI(OPCODE.CUSTOM_0, 1, 0, 0, 0));

// ---- the C extension (Volume I ch. 16, Tables 16.5-16.7) --------------------------------
//
// Quadrant (bits 1:0) and funct3 (bits 15:13) select the instruction; the immediates are
// scattered over the remaining bits in the orders the tables give, written below as
// [hi:lo] pieces from the most significant instruction bit down.

/** Packs bit ranges of `value` into consecutive instruction bits, starting at `top`. */
function scatter(value: number, top: number, pieces: readonly [number, number][]): number {
  let out = 0, at = top;
  for (const [hi, lo] of pieces) {
    const width = hi - lo + 1;
    at -= width;
    out |= bits(value, hi, lo) << (at + 1);
  }
  return out;
}

function c(funct3: number, quadrant: number, fields: number): number {
  return (funct3 << 13) | fields | quadrant;
}

/** A compressed immediate: range-checked signed or unsigned, optionally scaled. */
function cimm(
  value: number,
  opts: { bits: number; signed: boolean; scale?: number; nonzero?: boolean },
  what: string,
): number {
  checkInteger(value, what);
  if (opts.scale) multipleOf(value, opts.scale, what);
  if (opts.nonzero) nonzero(value, what);
  return opts.signed ? signed(value, opts.bits, what) : unsigned(value, opts.bits, what);
}

// Quadrant 0.
define("c.addi4spn", ["rd'", "rs1", "imm"], ([rd, sp, imm]) => {
  if (sp !== 2) throw new EncodeError("c.addi4spn adds to sp only (x2)");
  const u = cimm(imm, { bits: 10, signed: false, scale: 4, nonzero: true }, "immediate");
  return c(0b000, 0b00, scatter(u, 12, [[5, 4], [9, 6], [2, 2], [3, 3]]) | (creg(rd, "rd") << 2));
}, 2);
for (
  const [name, funct3, scale, store] of [
    ["c.lw", 0b010, 4, false],
    ["c.ld", 0b011, 8, false],
    ["c.sw", 0b110, 4, true],
    ["c.sd", 0b111, 8, true],
  ] as const
) {
  define(name, [store ? "rs2'" : "rd'", "imm(rs1')"], ([r, imm, rs1]) => {
    const u = cimm(imm, { bits: scale === 4 ? 7 : 8, signed: false, scale }, "offset");
    const low: [number, number][] = scale === 4 ? [[2, 2], [6, 6]] : [[7, 6]];
    return c(
      funct3,
      0b00,
      scatter(u, 12, [[5, 3]]) | (creg(rs1, "rs1") << 7) | scatter(u, 6, low) |
        (creg(r, store ? "rs2" : "rd") << 2),
    );
  }, 2);
}

// Quadrant 1.
define("c.nop", [], () => c(0b000, 0b01, 0), 2);
/** CI format: imm[5] at bit 12, rd at 11:7, imm[4:0] at 6:2. */
function ci(funct3: number, quadrant: number, rd: number, imm6: number): number {
  return c(funct3, quadrant, (bits(imm6, 5, 5) << 12) | (rd << 7) | (bits(imm6, 4, 0) << 2));
}
// rd = x0 in c.addi, c.li, c.lui, c.slli, c.mv and c.add is a HINT (§16.7): GNU as accepts it.
define("c.addi", ["rd", "imm"], ([rd, imm]) => {
  return ci(0b000, 0b01, reg(rd, "rd"), cimm(imm, { bits: 6, signed: true }, "immediate"));
}, 2);
define("c.addiw", ["rd", "imm"], ([rd, imm]) => {
  return ci(0b001, 0b01, nonzeroReg(rd, "rd"), cimm(imm, { bits: 6, signed: true }, "immediate"));
}, 2);
define("c.li", ["rd", "imm"], ([rd, imm]) => {
  return ci(0b010, 0b01, reg(rd, "rd"), cimm(imm, { bits: 6, signed: true }, "immediate"));
}, 2);
define("c.addi16sp", ["rd", "imm"], ([sp, imm]) => {
  if (sp !== 2) throw new EncodeError("c.addi16sp adds to sp only (x2)");
  const u = cimm(imm, { bits: 10, signed: true, scale: 16, nonzero: true }, "immediate");
  return c(
    0b011,
    0b01,
    scatter(u, 12, [[9, 9]]) | (2 << 7) | scatter(u, 6, [[4, 4], [6, 6], [
      8,
      7,
    ], [5, 5]]),
  );
}, 2);
define("c.lui", ["rd", "imm"], ([rd, imm]) => {
  reg(rd, "rd");
  if (rd === 2) throw new EncodeError("c.lui cannot write sp (x2): that encoding is c.addi16sp");
  // The 6-bit field holds imm[17:12]; as `lui` does, the assembler writes the upper
  // immediate, so 1..31 and 0xfffe0..0xfffff (that is -32..-1) are the encodable values.
  checkInteger(imm, "upper immediate");
  if (!(imm >= 1 && imm <= 31) && !(imm >= 0xfffe0 && imm <= 0xfffff)) {
    throw new EncodeError(
      `upper immediate ${imm} does not fit c.lui: use 1..31 or 0xfffe0..0xfffff`,
    );
  }
  return ci(0b011, 0b01, rd, imm & 0x3f);
}, 2);
for (const [name, funct2] of [["c.srli", 0b00], ["c.srai", 0b01]] as const) {
  define(name, ["rd'", "imm"], ([rd, shamt]) => {
    const u = cimm(shamt, { bits: 6, signed: false, nonzero: true }, "shift amount");
    return c(
      0b100,
      0b01,
      (bits(u, 5, 5) << 12) | (funct2 << 10) | (creg(rd, "rd") << 7) | (bits(u, 4, 0) << 2),
    );
  }, 2);
}
define("c.andi", ["rd'", "imm"], ([rd, imm]) => {
  const u = cimm(imm, { bits: 6, signed: true }, "immediate");
  return c(
    0b100,
    0b01,
    (bits(u, 5, 5) << 12) | (0b10 << 10) | (creg(rd, "rd") << 7) | (bits(u, 4, 0) << 2),
  );
}, 2);
// CA format: funct6 | rd'/rs1' | funct2 | rs2' | op.
for (
  const [name, bit12, funct2] of [
    ["c.sub", 0, 0b00],
    ["c.xor", 0, 0b01],
    ["c.or", 0, 0b10],
    ["c.and", 0, 0b11],
    ["c.subw", 1, 0b00],
    ["c.addw", 1, 0b01],
  ] as const
) {
  define(name, ["rd'", "rs2'"], ([rd, rs2]) => {
    return c(
      0b100,
      0b01,
      (bit12 << 12) | (0b11 << 10) | (creg(rd, "rd") << 7) | (funct2 << 5) |
        (creg(rs2, "rs2") << 2),
    );
  }, 2);
}
define("c.j", ["offset"], ([off]) => {
  const u = cimm(off, { bits: 12, signed: true, scale: 2 }, "jump offset");
  return c(
    0b101,
    0b01,
    scatter(u, 12, [[11, 11], [4, 4], [9, 8], [10, 10], [6, 6], [7, 7], [3, 1], [5, 5]]),
  );
}, 2);
for (const [name, funct3] of [["c.beqz", 0b110], ["c.bnez", 0b111]] as const) {
  define(name, ["rs1'", "offset"], ([rs1, off]) => {
    const u = cimm(off, { bits: 9, signed: true, scale: 2 }, "branch offset");
    return c(
      funct3,
      0b01,
      scatter(u, 12, [[8, 8], [4, 3]]) | (creg(rs1, "rs1") << 7) |
        scatter(u, 6, [[7, 6], [2, 1], [5, 5]]),
    );
  }, 2);
}

// Quadrant 2.
define("c.slli", ["rd", "imm"], ([rd, shamt]) => {
  const u = cimm(shamt, { bits: 6, signed: false, nonzero: true }, "shift amount");
  return ci(0b000, 0b10, reg(rd, "rd"), u);
}, 2);
define("c.lwsp", ["rd", "imm(sp)"], ([rd, imm, sp]) => {
  spBase(sp, "c.lwsp");
  const u = cimm(imm, { bits: 8, signed: false, scale: 4 }, "offset");
  return c(
    0b010,
    0b10,
    scatter(u, 12, [[5, 5]]) | (nonzeroReg(rd, "rd") << 7) | scatter(u, 6, [[4, 2], [7, 6]]),
  );
}, 2);
define("c.ldsp", ["rd", "imm(sp)"], ([rd, imm, sp]) => {
  spBase(sp, "c.ldsp");
  const u = cimm(imm, { bits: 9, signed: false, scale: 8 }, "offset");
  return c(
    0b011,
    0b10,
    scatter(u, 12, [[5, 5]]) | (nonzeroReg(rd, "rd") << 7) | scatter(u, 6, [[4, 3], [8, 6]]),
  );
}, 2);
define("c.swsp", ["rs2", "imm(sp)"], ([rs2, imm, sp]) => {
  spBase(sp, "c.swsp");
  const u = cimm(imm, { bits: 8, signed: false, scale: 4 }, "offset");
  return c(0b110, 0b10, scatter(u, 12, [[5, 2], [7, 6]]) | (reg(rs2, "rs2") << 2));
}, 2);
define("c.sdsp", ["rs2", "imm(sp)"], ([rs2, imm, sp]) => {
  spBase(sp, "c.sdsp");
  const u = cimm(imm, { bits: 9, signed: false, scale: 8 }, "offset");
  return c(0b111, 0b10, scatter(u, 12, [[5, 3], [8, 6]]) | (reg(rs2, "rs2") << 2));
}, 2);
define("c.jr", ["rs1"], ([rs1]) => c(0b100, 0b10, nonzeroReg(rs1, "rs1") << 7), 2);
define("c.jalr", ["rs1"], ([rs1]) => c(0b100, 0b10, (1 << 12) | (nonzeroReg(rs1, "rs1") << 7)), 2);
define("c.mv", ["rd", "rs2"], ([rd, rs2]) => {
  return c(0b100, 0b10, (reg(rd, "rd") << 7) | (nonzeroReg(rs2, "rs2") << 2));
}, 2);
define("c.add", ["rd", "rs2"], ([rd, rs2]) => {
  return c(0b100, 0b10, (1 << 12) | (reg(rd, "rd") << 7) | (nonzeroReg(rs2, "rs2") << 2));
}, 2);
define("c.ebreak", [], () => c(0b100, 0b10, 1 << 12), 2);
// The all-zero halfword is defined to be illegal (§16.1); GNU as spells it c.unimp.
define("c.unimp", [], () => 0, 2);

function spBase(base: number, name: string): void {
  if (base !== 2) throw new EncodeError(`${name} addresses memory relative to sp only`);
}

/** Every instruction the encoder knows, by mnemonic. */
export const INSTRUCTIONS: ReadonlyMap<string, InstructionDef> = table;

/**
 * Encodes one instruction: `encode("addi", 10, 2, -16)` is `addi a0, sp, -16`. Operands
 * come in written order, memory operands flattened (`lw a0, 8(sp)` is `10, 8, 2`), and
 * branch and jump operands are offsets from the instruction's own address. Returns the
 * instruction bits as an unsigned number (a 16-bit value for `c.*`). Throws
 * {@link EncodeError} for an unknown mnemonic, a wrong operand count or a value out of
 * range.
 */
export function encode(mnemonic: string, ...operands: number[]): number {
  const def = table.get(mnemonic);
  if (!def) throw new EncodeError(`unknown instruction "${mnemonic}"`);
  const want = operandCount(def);
  if (operands.length !== want) {
    throw new EncodeError(
      `${mnemonic} takes ${want} operand${want === 1 ? "" : "s"} (${
        def.operands.join(", ") || "none"
      }), got ${operands.length}`,
    );
  }
  try {
    return def.encode(operands);
  } catch (e) {
    if (e instanceof EncodeError) throw new EncodeError(`${mnemonic}: ${e.message}`);
    throw e;
  }
}

/** How many numbers an instruction's operands flatten to (a memory operand with offset is 2). */
export function operandCount(def: InstructionDef): number {
  return def.operands.reduce((n, k) => n + (k.startsWith("imm(") ? 2 : 1), 0);
}

/** The instruction bits as little-endian bytes: 2 for a compressed instruction, else 4. */
export function instructionBytes(bitsValue: number, size: 2 | 4): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (bitsValue >>> (8 * i)) & 0xff;
  return out;
}
