import assert from "node:assert/strict";
import { encode, EncodeError, INSTRUCTIONS, type OperandKind } from "../asm/riscv/encode.ts";
import { expandCompressed, EXPANDED } from "./compressed.ts";
import { EXC_BREAKPOINT, EXC_ILLEGAL_INST } from "./csr.ts";
import { RAM_BASE, runUserCode } from "./testing.ts";

/**
 * Each compressed instruction and the 32-bit instruction it expands to, operands mapped
 * in written order (the encoder's conventions: memory operands are offset, base).
 */
const EQUIVALENT: Record<string, (ops: number[]) => [string, ...number[]]> = {
  "c.addi4spn": ([rd, sp, imm]) => ["addi", rd, sp, imm],
  "c.lw": ([rd, imm, rs1]) => ["lw", rd, imm, rs1],
  "c.ld": ([rd, imm, rs1]) => ["ld", rd, imm, rs1],
  "c.sw": ([rs2, imm, rs1]) => ["sw", rs2, imm, rs1],
  "c.sd": ([rs2, imm, rs1]) => ["sd", rs2, imm, rs1],
  "c.nop": () => ["addi", 0, 0, 0],
  "c.addi": ([rd, imm]) => ["addi", rd, rd, imm],
  "c.addiw": ([rd, imm]) => ["addiw", rd, rd, imm],
  "c.li": ([rd, imm]) => ["addi", rd, 0, imm],
  "c.addi16sp": ([sp, imm]) => ["addi", sp, sp, imm],
  "c.lui": ([rd, imm]) => ["lui", rd, imm],
  "c.srli": ([rd, imm]) => ["srli", rd, rd, imm],
  "c.srai": ([rd, imm]) => ["srai", rd, rd, imm],
  "c.andi": ([rd, imm]) => ["andi", rd, rd, imm],
  "c.sub": ([rd, rs2]) => ["sub", rd, rd, rs2],
  "c.xor": ([rd, rs2]) => ["xor", rd, rd, rs2],
  "c.or": ([rd, rs2]) => ["or", rd, rd, rs2],
  "c.and": ([rd, rs2]) => ["and", rd, rd, rs2],
  "c.subw": ([rd, rs2]) => ["subw", rd, rd, rs2],
  "c.addw": ([rd, rs2]) => ["addw", rd, rd, rs2],
  "c.j": ([off]) => ["jal", 0, off],
  "c.beqz": ([rs1, off]) => ["beq", rs1, 0, off],
  "c.bnez": ([rs1, off]) => ["bne", rs1, 0, off],
  "c.slli": ([rd, imm]) => ["slli", rd, rd, imm],
  "c.lwsp": ([rd, imm, sp]) => ["lw", rd, imm, sp],
  "c.ldsp": ([rd, imm, sp]) => ["ld", rd, imm, sp],
  "c.swsp": ([rs2, imm, sp]) => ["sw", rs2, imm, sp],
  "c.sdsp": ([rs2, imm, sp]) => ["sd", rs2, imm, sp],
  "c.jr": ([rs1]) => ["jalr", 0, 0, rs1],
  "c.jalr": ([rs1]) => ["jalr", 1, 0, rs1],
  "c.mv": ([rd, rs2]) => ["add", rd, 0, rs2],
  "c.add": ([rd, rs2]) => ["add", rd, rd, rs2],
  "c.ebreak": () => ["ebreak"],
};

/** Operand values to try for each kind; the encoder refuses the ones a form cannot take. */
const CANDIDATES: Record<string, number[]> = {
  reg: [0, 1, 2, 5, 8, 15, 31],
  creg: [8, 9, 12, 15],
  imm: [
    -512,
    -256,
    -64,
    -32,
    -31,
    -16,
    -1,
    0,
    1,
    4,
    8,
    16,
    31,
    32,
    48,
    63,
    64,
    120,
    128,
    248,
    252,
    496,
    504,
    1020,
    0x1f,
    0xfffe0,
    0xfffff,
  ],
  offset: [-2048, -256, -254, -2, 2, 16, 254, 2046],
};

function candidates(kind: OperandKind): number[][] {
  switch (kind) {
    case "rd":
    case "rs1":
    case "rs2":
      return CANDIDATES.reg.map((r) => [r]);
    case "rd'":
    case "rs1'":
    case "rs2'":
      return CANDIDATES.creg.map((r) => [r]);
    case "imm":
      return CANDIDATES.imm.map((v) => [v]);
    case "offset":
      return CANDIDATES.offset.map((v) => [v]);
    case "imm(sp)":
      return CANDIDATES.imm.map((v) => [v, 2]);
    case "imm(rs1')":
      return CANDIDATES.imm.flatMap((v) => CANDIDATES.creg.map((r) => [v, r]));
    default:
      throw new Error(`no candidates for ${kind}`);
  }
}

function* operandTuples(kinds: readonly OperandKind[]): Generator<number[]> {
  if (kinds.length === 0) {
    yield [];
    return;
  }
  for (const first of candidates(kinds[0])) {
    for (const rest of operandTuples(kinds.slice(1))) yield [...first, ...rest];
  }
}

Deno.test("C: every compressed instruction expands to its 32-bit equivalent", () => {
  let checked = 0;
  for (const [mnemonic, def] of INSTRUCTIONS) {
    if (!mnemonic.startsWith("c.") || mnemonic === "c.unimp") continue;
    const equivalent = EQUIVALENT[mnemonic];
    assert.ok(equivalent, `no equivalent listed for ${mnemonic}`);
    let valid = 0;
    for (const ops of operandTuples(def.operands)) {
      let c: number;
      try {
        c = encode(mnemonic, ...ops);
      } catch (e) {
        if (e instanceof EncodeError) continue; // not encodable in this form
        throw e;
      }
      const [m32, ...ops32] = equivalent(ops);
      const want = encode(m32, ...ops32) | 0;
      assert.equal(expandCompressed(c), want, `${mnemonic} ${ops.join(", ")}`);
      assert.equal(EXPANDED[c], want);
      valid++;
    }
    assert.ok(valid > 0, `no operand set encodes ${mnemonic}`);
    checked += valid;
  }
  assert.ok(checked > 1000, `only ${checked} cases`);
});

Deno.test("C: reserved and unimplemented encodings expand to 0 (illegal)", () => {
  const reserved: [number, string][] = [
    [0x0000, "the all-zero instruction (c.unimp)"],
    [0x0004, "c.addi4spn with nzuimm = 0"],
    [0x001c, "c.addi4spn with nzuimm = 0, rd' = a5"],
    [0x2000, "c.fld (no D extension)"],
    [0x8000, "quadrant 0, funct3 = 100 (reserved / Zcb)"],
    [0xa000, "c.fsd"],
    [0x2001, "c.addiw with rd = x0"],
    [0x2005 | (1 << 12), "c.addiw with rd = x0 and an immediate"],
    [0x6101, "c.addi16sp with nzimm = 0"],
    [0x6281, "c.lui t0 with nzimm = 0"],
    [0x9c41 | (2 << 5), "quadrant 1 funct6 100111, funct2 10 (reserved)"],
    [0x9c41 | (3 << 5), "quadrant 1 funct6 100111, funct2 11 (reserved)"],
    [0x2002, "c.fldsp"],
    [0x4002, "c.lwsp with rd = x0"],
    [0x6002, "c.ldsp with rd = x0"],
    [0x8002, "c.jr with rs1 = x0"],
    [0xa002, "c.fsdsp"],
  ];
  for (const [c, what] of reserved) assert.equal(expandCompressed(c), 0, what);
});

Deno.test("C: HINT encodings expand to instructions that change nothing", () => {
  const hints: [number, [string, ...number[]]][] = [
    [0x0001 | (5 << 2), ["addi", 0, 0, 5]], // c.nop with an immediate
    [0x0281, ["addi", 5, 5, 0]], // c.addi t0, 0
    [0x4015, ["addi", 0, 0, 5]], // c.li x0, 5
    [0x6005, ["lui", 0, 1]], // c.lui x0, 1
    [0x802a, ["add", 0, 0, 10]], // c.mv x0, a0
    [0x902a, ["add", 0, 0, 10]], // c.add x0, a0
    [0x0006, ["slli", 0, 0, 1]], // c.slli x0, 1
    [0x0282, ["slli", 5, 5, 0]], // c.slli t0, 0 (shift by zero)
    [0x8001, ["srli", 8, 8, 0]], // c.srli s0, 0
  ];
  for (const [c, [m, ...ops]] of hints) {
    assert.equal(expandCompressed(c), encode(m, ...ops) | 0, `0x${c.toString(16)}`);
  }
});

Deno.test("C: compressed code runs, links pc+2, and mixes with 32-bit instructions", () => {
  const run = runUserCode(
    `
      c.li a0, 5
      c.li a1, 0
    1: c.addi a1, 3
      c.addi a0, -1
      c.bnez a0, 1b         # a1 = 15
      auipc a2, 0           # a 32-bit instruction at a 2-byte boundary
      c.addi a2, 10         # the c.ebreak below
      c.jalr a2             # ra = address of the c.nop
      c.nop
      c.ebreak`,
    { compressed: true },
  );
  assert.equal(run.trap?.code, EXC_BREAKPOINT);
  assert.equal(run.hart.x[11], 15n);
  const ebreakAt = BigInt(RAM_BASE + 20);
  assert.equal(run.trap?.sepc, ebreakAt);
  assert.equal(run.trap?.stval, ebreakAt, "c.ebreak: stval = pc");
  assert.equal(run.hart.x[1], ebreakAt - 2n, "c.jalr links pc + 2");
});

Deno.test("C: a 32-bit instruction may straddle two pages", () => {
  // Three c.nops (0x0001) at the end of one page shift an addi across the boundary.
  const start = RAM_BASE + 4096 - 8;
  const run = runUserCode(`.half 1\n.half 1\n.half 1\naddi a0, zero, 42\nebreak`, {
    origin: start,
  });
  assert.equal(run.trap?.code, EXC_BREAKPOINT);
  assert.equal(run.hart.x[10], 42n);
  assert.equal(run.trap?.sepc, BigInt(start + 10));
});

Deno.test("C: an illegal compressed instruction reports its 16 bits in stval", () => {
  for (const c of [0x0000, 0x6101, 0x8002, 0x2000]) {
    const run = runUserCode(`.half ${c}\n.half 0`);
    assert.equal(run.trap?.code, EXC_ILLEGAL_INST, `0x${c.toString(16)}`);
    assert.equal(run.trap?.stval, BigInt(c));
    assert.equal(run.trap?.sepc, BigInt(RAM_BASE));
  }
});
