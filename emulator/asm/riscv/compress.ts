/**
 * Automatic compression: which 16-bit instruction GNU as substitutes for what the
 * programmer wrote when the C extension is on (`.option rvc`).
 *
 * GNU as does not compress after the fact: its opcode table lists, for some written
 * forms, a compressed alternative that is tried first. So the choice depends on how the
 * instruction was written, not only on its bits: `addi a0, zero, 0` becomes `c.li a0, 0`
 * but `mv a0, zero` stays `addi`; `jr a0` becomes `c.jr a0` but `jalr zero, 0(a0)` does
 * not. The rules below follow GNU as 2.40 and are checked against it by the generated
 * vectors in testdata/asm_vectors.txt. Immediates that come from a relocation (a label,
 * `%lo(...)`) are never compressed, except branches, which `assembler.ts` relaxes itself.
 *
 * @module
 */

import { EncodeError, INSTRUCTIONS } from "./encode.ts";

/** An instruction ready to encode: a mnemonic of the encoder table and its operands. */
export interface Encodable {
  /** Mnemonic in `INSTRUCTIONS`. */
  readonly mnemonic: string;
  /** Operands in the encoder's order. */
  readonly ops: readonly number[];
}

/** Whether register `r` has a 3-bit compressed encoding (x8..x15). */
function isC(r: number): boolean {
  return r >= 8 && r <= 15;
}

type Rule = (ops: readonly number[]) => Encodable[];

const c = (mnemonic: string, ...ops: number[]): Encodable => ({ mnemonic, ops });

/** For each written form, the compressed candidates in the order GNU as tries them. */
const RULES: Record<string, Rule> = {
  nop: () => [c("c.nop")],
  ebreak: () => [c("c.ebreak")],
  unimp: () => [c("c.unimp")],
  ret: () => [c("c.jr", 1)],
  jr: ([rs]) => (rs !== 0 ? [c("c.jr", rs)] : []),
  // `jalr rs`, the one-operand form (jalr ra, 0(rs)).
  "jalr rs": ([rs]) => (rs !== 0 ? [c("c.jalr", rs)] : []),
  li: ([rd, imm]) => (rd !== 0 ? [c("c.li", rd, imm)] : []),
  mv: ([rd, rs]) => (rd !== 0 && rs !== 0 ? [c("c.mv", rd, rs)] : []),
  "sext.w": ([rd, rs]) => (rd === rs && rd !== 0 ? [c("c.addiw", rd, 0)] : []),
  addi: ([rd, rs1, imm]) => {
    const out: Encodable[] = [];
    if (rd === 0 && rs1 === 0 && imm === 0) out.push(c("c.nop"));
    if (rd === rs1 && rd !== 0 && imm !== 0) out.push(c("c.addi", rd, imm));
    if (rd === 2 && rs1 === 2 && imm !== 0) out.push(c("c.addi16sp", 2, imm));
    if (rs1 === 2 && isC(rd)) out.push(c("c.addi4spn", rd, 2, imm));
    if (rs1 === 0 && rd !== 0) out.push(c("c.li", rd, imm));
    if (imm === 0 && rd !== 0 && rs1 !== 0) out.push(c("c.mv", rd, rs1));
    return out;
  },
  addiw: ([rd, rs1, imm]) => (rd === rs1 && rd !== 0 ? [c("c.addiw", rd, imm)] : []),
  lui: ([rd, imm]) => (rd !== 0 && rd !== 2 ? [c("c.lui", rd, imm)] : []),
  add: ([rd, rs1, rs2]) => {
    if (rd === 0) return [];
    const out: Encodable[] = [];
    if (rs1 === rd && rs2 !== 0) out.push(c("c.add", rd, rs2));
    if (rs2 === rd && rs1 !== 0) out.push(c("c.add", rd, rs1));
    if (rs1 === 0 && rs2 !== 0) out.push(c("c.mv", rd, rs2));
    return out;
  },
  sub: arith("c.sub", false),
  subw: arith("c.subw", false),
  and: arith("c.and", true),
  or: arith("c.or", true),
  xor: arith("c.xor", true),
  addw: arith("c.addw", true),
  andi: ([rd, rs1, imm]) => (rd === rs1 && isC(rd) ? [c("c.andi", rd, imm)] : []),
  slli: ([rd, rs1, sh]) => (rd === rs1 && rd !== 0 ? [c("c.slli", rd, sh)] : []),
  srli: ([rd, rs1, sh]) => (rd === rs1 && isC(rd) ? [c("c.srli", rd, sh)] : []),
  srai: ([rd, rs1, sh]) => (rd === rs1 && isC(rd) ? [c("c.srai", rd, sh)] : []),
  lw: load("c.lwsp", "c.lw"),
  ld: load("c.ldsp", "c.ld"),
  sw: store("c.swsp", "c.sw"),
  sd: store("c.sdsp", "c.sd"),
};

/** The CA-format register-register operations; `commutative` ones also match rd == rs2. */
function arith(mnemonic: string, commutative: boolean): Rule {
  return ([rd, rs1, rs2]) => {
    if (!isC(rd) || !isC(rs1) || !isC(rs2)) return [];
    if (rd === rs1) return [c(mnemonic, rd, rs2)];
    if (commutative && rd === rs2) return [c(mnemonic, rd, rs1)];
    return [];
  };
}

function load(spForm: string, regForm: string): Rule {
  return ([rd, imm, rs1]) => {
    if (rs1 === 2 && rd !== 0) return [c(spForm, rd, imm, 2)];
    if (isC(rd) && isC(rs1)) return [c(regForm, rd, imm, rs1)];
    return [];
  };
}

function store(spForm: string, regForm: string): Rule {
  return ([rs2, imm, rs1]) => {
    if (rs1 === 2) return [c(spForm, rs2, imm, 2)];
    if (isC(rs2) && isC(rs1)) return [c(regForm, rs2, imm, rs1)];
    return [];
  };
}

/**
 * The compressed instruction GNU as would emit for `form` (a mnemonic as written, or one of
 * the pseudo-forms `jalr rs`, `li`, `mv`, `ret`, ...) with constant operands `ops` in the
 * encoder's order, or undefined when it would keep the 32-bit encoding.
 */
export function compress(form: string, ops: readonly number[]): Encodable | undefined {
  const rule = RULES[form];
  if (!rule) return undefined;
  for (const candidate of rule(ops)) {
    try {
      INSTRUCTIONS.get(candidate.mnemonic)!.encode(candidate.ops);
      return candidate;
    } catch (e) {
      if (!(e instanceof EncodeError)) throw e;
    }
  }
  return undefined;
}
