import assert from "node:assert/strict";
import { KERNEL_ENTRY_COST_NS } from "../core/hosted.ts";
import {
  EXC_BREAKPOINT,
  EXC_ECALL_U,
  EXC_ILLEGAL_INST,
  EXC_LOAD_MISALIGNED,
  EXC_STORE_MISALIGNED,
} from "./csr.ts";
import { RAM_BASE, reg, type Registers, runUserCode, type TrapRecord } from "./testing.ts";

const M64 = (1n << 64n) - 1n;
const MIN = -(1n << 63n);
const MAX = (1n << 63n) - 1n;
const u = (v: bigint) => BigInt.asUintN(64, v);

/**
 * One row: the instruction(s), the registers before, the registers after. Each row runs
 * alone on a fresh hart, followed by `ebreak`, and must end at that ebreak.
 */
type Row = [source: string, before: Registers, after: Registers];

/** A trap in words, for assertion messages. */
function describe(t: TrapRecord | undefined): string {
  return t ? `cause ${t.code} at ${t.sepc.toString(16)}, stval ${t.stval.toString(16)}` : "none";
}

function check(rows: Row[]): void {
  for (const [source, before, after] of rows) {
    const run = runUserCode(`${source}\nebreak`, { regs: before });
    assert.equal(
      run.trap?.code,
      EXC_BREAKPOINT,
      `${source}: expected to reach ebreak, got ${describe(run.trap)} (${run.stop.kind})`,
    );
    for (const [name, want] of Object.entries(after)) {
      assert.equal(u(run.hart.x[reg(name)]), u(want), `${source}: ${name}`);
    }
  }
}

Deno.test("RV64I: upper immediates sign-extend bit 31", () => {
  check([
    ["lui a0, 0x80000", {}, { a0: -(1n << 31n) }],
    ["lui a0, 0x7ffff", {}, { a0: 0x7fff_f000n }],
    ["lui a0, 0xfffff", {}, { a0: -4096n }],
    ["auipc a0, 0", {}, { a0: BigInt(RAM_BASE) }],
    ["auipc a0, 0x80000", {}, { a0: BigInt(RAM_BASE) - (1n << 31n) }],
    ["auipc a0, 1", {}, { a0: BigInt(RAM_BASE) + 4096n }],
    ["lui zero, 5", {}, { zero: 0n }],
  ]);
});

Deno.test("RV64I: register-immediate operations", () => {
  check([
    ["addi a0, a1, -1", { a1: 0n }, { a0: -1n }],
    ["addi a0, a1, 1", { a1: MAX }, { a0: MIN }],
    ["addi a0, a1, -2048", { a1: 0n }, { a0: -2048n }],
    ["addi zero, zero, 5", {}, { zero: 0n }],
    ["slti a0, a1, 0", { a1: -1n }, { a0: 1n }],
    ["slti a0, a1, -1", { a1: -1n }, { a0: 0n }],
    ["sltiu a0, a1, -1", { a1: 5n }, { a0: 1n }], // -1 sign-extends to 2^64 - 1
    ["sltiu a0, a1, -1", { a1: -1n }, { a0: 0n }],
    ["sltiu a0, a1, 1", { a1: 0n }, { a0: 1n }], // seqz
    ["sltiu a0, a1, 1", { a1: MIN }, { a0: 0n }],
    ["xori a0, a1, -1", { a1: 0x1234n }, { a0: ~0x1234n }],
    ["xori a0, a1, 0x7ff", { a1: -1n }, { a0: ~0x7ffn }],
    ["ori a0, a1, -16", { a1: 5n }, { a0: -11n }],
    ["andi a0, a1, -16", { a1: -1n }, { a0: -16n }],
    ["andi a0, a1, 0xff", { a1: -1n }, { a0: 0xffn }],
    ["slli a0, a1, 63", { a1: 1n }, { a0: MIN }],
    ["slli a0, a1, 32", { a1: 0xffff_ffffn }, { a0: u(0xffff_ffffn << 32n) }],
    ["slli a0, a1, 0", { a1: 0x1234_5678_9abc_def0n }, { a0: 0x1234_5678_9abc_def0n }],
    ["slli a0, a1, 31", { a1: 3n }, { a0: 3n << 31n }],
    ["srli a0, a1, 63", { a1: -1n }, { a0: 1n }],
    ["srli a0, a1, 32", { a1: -1n }, { a0: 0xffff_ffffn }],
    ["srli a0, a1, 1", { a1: MIN }, { a0: 1n << 62n }],
    ["srli a0, a1, 33", { a1: MIN }, { a0: 1n << 30n }],
    ["srai a0, a1, 63", { a1: MIN }, { a0: -1n }],
    ["srai a0, a1, 1", { a1: MIN }, { a0: -(1n << 62n) }],
    ["srai a0, a1, 31", { a1: -(1n << 40n) }, { a0: -(1n << 9n) }],
    ["srai a0, a1, 32", { a1: 0x7fff_ffff_0000_0000n }, { a0: 0x7fff_ffffn }],
  ]);
});

Deno.test("RV64I: register-register operations", () => {
  check([
    ["add a0, a1, a2", { a1: MAX, a2: 1n }, { a0: MIN }],
    ["sub a0, a1, a2", { a1: MIN, a2: 1n }, { a0: MAX }],
    ["sub a0, a1, a2", { a1: 0n, a2: 1n }, { a0: -1n }],
    ["sll a0, a1, a2", { a1: 1n, a2: 67n }, { a0: 8n }], // only the low 6 bits shift
    ["sll a0, a1, a2", { a1: 1n, a2: 63n }, { a0: MIN }],
    ["srl a0, a1, a2", { a1: -1n, a2: 64n + 60n }, { a0: 15n }],
    ["sra a0, a1, a2", { a1: MIN, a2: 63n }, { a0: -1n }],
    ["sra a0, a1, a2", { a1: -256n, a2: 4n }, { a0: -16n }],
    ["slt a0, a1, a2", { a1: -1n, a2: 1n }, { a0: 1n }],
    ["slt a0, a1, a2", { a1: 1n, a2: -1n }, { a0: 0n }],
    ["sltu a0, a1, a2", { a1: -1n, a2: 1n }, { a0: 0n }],
    ["sltu a0, a1, a2", { a1: 1n, a2: -1n }, { a0: 1n }],
    ["sltu a0, a1, a2", { a1: 0x1_0000_0000n, a2: 0xffff_ffffn }, { a0: 0n }],
    ["sltu a0, zero, a2", { a2: 7n }, { a0: 1n }], // snez
    ["xor a0, a1, a2", { a1: 0xf0n, a2: -1n }, { a0: ~0xf0n }],
    ["or a0, a1, a2", { a1: MIN, a2: 1n }, { a0: MIN + 1n }],
    ["and a0, a1, a2", { a1: -1n, a2: 0x8000_0000_0000_00ffn }, {
      a0: 0x8000_0000_0000_00ffn,
    }],
    ["add zero, a1, a2", { a1: 1n, a2: 2n }, { zero: 0n }],
  ]);
});

Deno.test("RV64I: W forms use the low 32 bits and sign-extend the result", () => {
  check([
    ["addiw a0, a1, 1", { a1: 0x7fff_ffffn }, { a0: -(1n << 31n) }],
    ["addiw a0, a1, 0", { a1: 0x1_8000_0000n }, { a0: -(1n << 31n) }], // sext.w
    ["addiw a0, a1, -1", { a1: 0x5_0000_0000n }, { a0: -1n }],
    ["slliw a0, a1, 31", { a1: 1n }, { a0: -(1n << 31n) }],
    ["slliw a0, a1, 4", { a1: 0xf000_0001n }, { a0: 16n }],
    ["srliw a0, a1, 1", { a1: -1n }, { a0: 0x7fff_ffffn }],
    ["srliw a0, a1, 0", { a1: 0xffff_ffffn }, { a0: -1n }],
    ["sraiw a0, a1, 4", { a1: 0x8000_0000n }, { a0: -(1n << 27n) }],
    ["sraiw a0, a1, 31", { a1: 0x1_7fff_ffffn }, { a0: 0n }],
    ["addw a0, a1, a2", { a1: 0x1_0000_0001n, a2: 1n }, { a0: 2n }],
    ["addw a0, a1, a2", { a1: 0x7fff_ffffn, a2: 0x7fff_ffffn }, { a0: -2n }],
    ["subw a0, a1, a2", { a1: 0n, a2: 0x8000_0000n }, { a0: -(1n << 31n) }],
    ["sllw a0, a1, a2", { a1: 1n, a2: 33n }, { a0: 2n }], // only the low 5 bits shift
    ["sllw a0, a1, a2", { a1: 1n, a2: 31n }, { a0: -(1n << 31n) }],
    ["srlw a0, a1, a2", { a1: -1n, a2: 28n }, { a0: 15n }],
    ["sraw a0, a1, a2", { a1: 0x8000_0000n, a2: 31n }, { a0: -1n }],
    ["sraw a0, a1, a2", { a1: 0xffff_ffff_0000_0010n, a2: 36n }, { a0: 1n }],
  ]);
});

Deno.test("M: multiplication, including the high halves", () => {
  check([
    ["mul a0, a1, a2", { a1: MAX, a2: 2n }, { a0: -2n }],
    ["mul a0, a1, a2", { a1: -3n, a2: 5n }, { a0: -15n }],
    ["mulh a0, a1, a2", { a1: -1n, a2: -1n }, { a0: 0n }],
    ["mulh a0, a1, a2", { a1: MIN, a2: MIN }, { a0: 1n << 62n }],
    ["mulh a0, a1, a2", { a1: MIN, a2: 1n }, { a0: -1n }],
    ["mulhu a0, a1, a2", { a1: -1n, a2: -1n }, { a0: -2n }],
    ["mulhu a0, a1, a2", { a1: 1n << 32n, a2: 1n << 32n }, { a0: 1n }],
    ["mulhsu a0, a1, a2", { a1: -1n, a2: -1n }, { a0: -1n }], // -1 × (2^64 - 1)
    ["mulhsu a0, a1, a2", { a1: 2n, a2: -1n }, { a0: 1n }],
    ["mulw a0, a1, a2", { a1: 0x7fff_ffffn, a2: 2n }, { a0: -2n }],
    ["mulw a0, a1, a2", { a1: 0x1_0000_0003n, a2: 0x1_0000_0005n }, { a0: 15n }],
  ]);
});

Deno.test("M: division corner cases (§7.2 table)", () => {
  check([
    ["div a0, a1, a2", { a1: -7n, a2: 2n }, { a0: -3n }], // rounds toward zero
    ["rem a0, a1, a2", { a1: -7n, a2: 2n }, { a0: -1n }], // sign of the dividend
    ["div a0, a1, a2", { a1: 7n, a2: 0n }, { a0: -1n }],
    ["rem a0, a1, a2", { a1: 7n, a2: 0n }, { a0: 7n }],
    ["divu a0, a1, a2", { a1: 7n, a2: 0n }, { a0: M64 }],
    ["remu a0, a1, a2", { a1: -7n, a2: 0n }, { a0: -7n }],
    ["div a0, a1, a2", { a1: MIN, a2: -1n }, { a0: MIN }], // overflow
    ["rem a0, a1, a2", { a1: MIN, a2: -1n }, { a0: 0n }],
    ["divu a0, a1, a2", { a1: -1n, a2: 2n }, { a0: MAX }],
    ["remu a0, a1, a2", { a1: -1n, a2: 10n }, { a0: 5n }],
    ["divw a0, a1, a2", { a1: 7n, a2: 0n }, { a0: -1n }],
    ["remw a0, a1, a2", { a1: 0xffff_fff9n, a2: 0n }, { a0: -7n }],
    ["divuw a0, a1, a2", { a1: 7n, a2: 0n }, { a0: -1n }],
    ["remuw a0, a1, a2", { a1: 0x8000_0007n, a2: 0n }, { a0: -(1n << 31n) + 7n }],
    ["divw a0, a1, a2", { a1: 0x8000_0000n, a2: -1n }, { a0: -(1n << 31n) }],
    ["remw a0, a1, a2", { a1: 0x8000_0000n, a2: -1n }, { a0: 0n }],
    ["divw a0, a1, a2", { a1: 0x1_ffff_fff9n, a2: 2n }, { a0: -3n }], // upper bits ignored
    ["divuw a0, a1, a2", { a1: -1n, a2: 2n }, { a0: 0x7fff_ffffn }],
    ["divuw a0, a1, a2", { a1: -2n, a2: 1n }, { a0: -2n }], // 0xfffffffe sign-extended
    ["remuw a0, a1, a2", { a1: -1n, a2: 10n }, { a0: 5n }],
    ["remw a0, a1, a2", { a1: -7n, a2: 2n }, { a0: -1n }],
  ]);
});

Deno.test("RV64I: loads sign- or zero-extend, stores write the low bytes", () => {
  const data = RAM_BASE + 0x8000;
  const rows: [string, bigint][] = [
    ["lb a0, 7(a1)", -128n],
    ["lbu a0, 7(a1)", 0x80n],
    ["lh a0, 6(a1)", -32768n + 0x77n],
    ["lhu a0, 6(a1)", 0x8077n],
    ["lw a0, 4(a1)", -2147483648n + 0x0077_6655n],
    ["lwu a0, 4(a1)", 0x8077_6655n],
    ["ld a0, 0(a1)", BigInt.asIntN(64, 0x8077_6655_4433_2211n)],
    ["ld a0, -8(a2)", BigInt.asIntN(64, 0x8077_6655_4433_2211n)],
  ];
  for (const [source, want] of rows) {
    const run = runUserCode(`${source}\nebreak`, {
      regs: { a1: BigInt(data), a2: BigInt(data + 8) },
      setup: (tb) => tb.writeU64(data, 0x8077_6655_4433_2211n),
    });
    assert.equal(run.trap?.code, EXC_BREAKPOINT, source);
    assert.equal(run.hart.x[10], want, source);
  }
  const stores: [string, bigint][] = [
    ["sb a0, 1(a1)", 0x1111_1111_1111_ef11n],
    ["sh a0, 2(a1)", 0x1111_1111_beef_1111n],
    ["sw a0, 4(a1)", 0xdead_beef_1111_1111n],
    ["sd a0, 0(a1)", 0x0123_4567_dead_beefn],
  ];
  for (const [source, want] of stores) {
    const run = runUserCode(`${source}\nebreak`, {
      regs: { a0: 0x0123_4567_dead_beefn, a1: BigInt(data) },
      setup: (tb) => tb.writeU64(data, 0x1111_1111_1111_1111n),
    });
    assert.equal(run.trap?.code, EXC_BREAKPOINT, source);
    assert.equal(run.tb.read(data, 8), want, source);
  }
});

Deno.test("RV64I: branches compare signed or unsigned, and fall through", () => {
  const taken = (op: string, a: bigint, b: bigint) => {
    const run = runUserCode(`${op} a1, a2, 1f\nli a0, 1\nebreak\n1: li a0, 2\nebreak`, {
      regs: { a1: a, a2: b },
    });
    assert.equal(run.trap?.code, EXC_BREAKPOINT);
    return run.hart.x[10] === 2n;
  };
  const table: [string, bigint, bigint, boolean][] = [
    ["beq", 5n, 5n, true],
    ["beq", 5n, 5n + (1n << 32n), false], // the high words differ
    ["bne", 5n, 5n + (1n << 32n), true],
    ["bne", -1n, -1n, false],
    ["blt", -1n, 1n, true],
    ["blt", 1n, -1n, false],
    ["blt", 3n, 3n, false],
    ["bge", 3n, 3n, true],
    ["bge", -1n, 1n, false],
    ["bltu", 1n, -1n, true],
    ["bltu", -1n, 1n, false],
    ["bltu", 0xffff_ffffn, 0x1_0000_0000n, true],
    ["bgeu", -1n, 1n, true],
    ["bgeu", 1n, 1n, true],
    ["bgeu", 0n, 1n, false],
  ];
  for (const [op, a, b, want] of table) assert.equal(taken(op, a, b), want, `${op} ${a} ${b}`);
});

Deno.test("RV64I: jal and jalr link pc+4, and jalr clears bit 0 of the target", () => {
  const run = runUserCode(
    `
      jal ra, 1f      # ra = base + 4
      ebreak
    1: auipc a1, 0
      addi a1, a1, 17 # the ebreak below, plus 1: bit 0 set
      jalr t0, a1, 0  # t0 = address of the next instruction
      nop
      ebreak`,
  );
  assert.equal(run.trap?.code, EXC_BREAKPOINT);
  assert.equal(run.trap?.sepc, BigInt(RAM_BASE + 24));
  assert.equal(run.hart.x[reg("ra")], BigInt(RAM_BASE + 4));
  assert.equal(run.hart.x[reg("t0")], BigInt(RAM_BASE + 20));
  // jalr with rd = rs1 uses the old value of the register.
  const same = runUserCode(`auipc a0, 0\naddi a0, a0, 12\njalr a0, a0, 0\nebreak`);
  assert.equal(same.trap?.sepc, BigInt(RAM_BASE + 12));
  assert.equal(same.hart.x[10], BigInt(RAM_BASE + 12));
});

Deno.test("RV64I: a jump far outside the address space faults on fetch with the exact pc", () => {
  const run = runUserCode(`jalr zero, a0, 0`, { regs: { a0: 0x1234_5678_9abc_def1n } });
  assert.equal(run.trap?.code, 1); // Bare mode: instruction access fault
  assert.equal(run.trap?.sepc, 0x1234_5678_9abc_def0n);
  assert.equal(run.trap?.stval, 0x1234_5678_9abc_def0n);
});

Deno.test("system: ecall, ebreak, and privileged instructions in U-mode", async (t) => {
  await t.step("ecall: cause 8, stval 0, sepc at the ecall", () => {
    const run = runUserCode(`nop\necall`);
    assert.equal(run.trap?.code, EXC_ECALL_U);
    assert.equal(run.trap?.stval, 0n);
    assert.equal(run.trap?.sepc, BigInt(RAM_BASE + 4));
    assert.equal(run.trap?.instret, 1, "a trapping instruction does not retire");
  });
  await t.step("ebreak: cause 3, stval = pc", () => {
    const run = runUserCode(`nop\nebreak`);
    assert.equal(run.trap?.code, EXC_BREAKPOINT);
    assert.equal(run.trap?.stval, BigInt(RAM_BASE + 4));
  });
  const privileged: [string, number][] = [
    ["sret", 0x1020_0073],
    ["wfi", 0x1050_0073],
    ["mret", 0x3020_0073],
    ["sfence.vma", 0x1200_0073],
    ["sfence.vma a0, a1", 0x12b5_0073],
  ];
  for (const [source, bits] of privileged) {
    await t.step(`${source}: illegal instruction with the bits in stval`, () => {
      const run = runUserCode(source);
      assert.equal(run.trap?.code, EXC_ILLEGAL_INST, source);
      assert.equal(run.trap?.stval, BigInt(bits), source);
      assert.equal(run.trap?.sepc, BigInt(RAM_BASE));
    });
  }
});

Deno.test("illegal encodings raise illegal instruction with stval = the bits", () => {
  const words = [
    0xffff_ffff, // all ones
    0x0000_0057, // OP-V: no vector unit
    0x0000_0007, // LOAD-FP: no F/D
    0x0405_1513, // slli with imm[11:6] = 000001
    0x4405_5513, // srai with imm[11:6] = 010001
    0x0200_151b, // slliw with bit 25 set
    0x04b5_0533, // OP with funct7 = 2
    0x40b5_1533, // sll with funct7 = 0x20
    0x00b5_2063, // branch funct3 = 2
    0x0005_7503, // load funct3 = 7
    0x00b5_4023, // store funct3 = 4
    0x0005_1567, // jalr funct3 = 1
    0x0000_200f, // misc-mem funct3 = 2
    0x0000_4073, // system funct3 = 4
    0x0020_0073, // system funct3 = 0, unknown (uret is gone)
    0x40b5_153b, // OP-32 funct7 = 0x20 with funct3 = 1 (sllw has no such form)
    0x02b5_253b, // OP-32 M with funct3 = 2 (no such W operation)
    0x0000_500b, // custom-0 funct3 = 5
  ];
  for (const word of words) {
    const run = runUserCode(`.word ${word >>> 0}`);
    assert.equal(run.trap?.code, EXC_ILLEGAL_INST, `0x${(word >>> 0).toString(16)}`);
    assert.equal(run.trap?.stval, BigInt(word >>> 0), `0x${(word >>> 0).toString(16)}`);
  }
});

Deno.test("misaligned loads and stores raise 4 and 6 with the address in stval", () => {
  const data = BigInt(RAM_BASE + 0x8001);
  const cases: [string, number][] = [
    ["lh a0, 0(a1)", EXC_LOAD_MISALIGNED],
    ["lw a0, 2(a1)", EXC_LOAD_MISALIGNED],
    ["ld a0, 3(a1)", EXC_LOAD_MISALIGNED],
    ["sh a0, 0(a1)", EXC_STORE_MISALIGNED],
    ["sw a0, 1(a1)", EXC_STORE_MISALIGNED],
    ["sd a0, -3(a1)", EXC_STORE_MISALIGNED],
  ];
  for (const [source, code] of cases) {
    const run = runUserCode(source, { regs: { a1: data } });
    const imm = BigInt(/(-?\d+)\(/.exec(source)![1]);
    assert.equal(run.trap?.code, code, source);
    assert.equal(run.trap?.stval, data + imm, source);
  }
  // lb at an odd address is fine.
  assert.equal(runUserCode("lb a0, 0(a1)\nebreak", { regs: { a1: data } }).trap?.code, 3);
});

Deno.test("x0 stays zero whatever is written to it", () => {
  check([
    ["addi zero, zero, 1\naddi a0, zero, 0", {}, { a0: 0n }],
    ["ld zero, 0(a1)", { a1: BigInt(RAM_BASE) }, { zero: 0n }],
    ["jal zero, 1f\n1: nop", {}, { zero: 0n }],
    ["mul zero, a1, a1\nsrl zero, a1, a1\nsllw zero, a1, a1", { a1: 3n }, { zero: 0n }],
  ]);
});

Deno.test("fence and fence.i execute as no-ops here, and self-modifying code works after fence.i", () => {
  // Overwrite the instruction at 2f with "li a0, 7", then fence.i and run it.
  const run = runUserCode(
    `
      auipc a1, 0
      lw t0, 28(a1)    # the replacement instruction, at 3f
      sw t0, 20(a1)    # over 2f
      fence.i
      fence rw, rw
    2: li a0, 1
      ebreak
    3: li a0, 7`,
  );
  assert.equal(run.trap?.code, EXC_BREAKPOINT);
  assert.equal(run.hart.x[10], 7n);
});

Deno.test("time: one nanosecond per instruction, instret counts retired instructions", () => {
  const run = runUserCode(`li t0, 1000\n1: addi t0, t0, -1\nbnez t0, 1b\nebreak`);
  assert.equal(run.trap?.code, EXC_BREAKPOINT);
  assert.equal(run.trap?.instret, 1 + 2000);
  // The handler runs after the trap's own cost, KERNEL_ENTRY_COST_NS.
  assert.equal(run.trap?.timeNs, 1 + 2000 + 1 + KERNEL_ENTRY_COST_NS, "ebreak costs 1 ns too");
});
