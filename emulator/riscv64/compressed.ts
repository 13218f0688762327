/**
 * The C extension for RV64: each 16-bit instruction expands into the one 32-bit
 * instruction it stands for ("C" Standard Extension, Tables 16.5 to 16.7 of the
 * unprivileged manual), as hardware decoders do. The interpreter then executes the 32-bit
 * form with an instruction length of 2, so `c.jal`-style links and `pc` advance by 2.
 *
 * There are only 65,536 16-bit patterns, so the hart expands every one of them once into
 * {@link EXPANDED} and decoding a compressed instruction is one array read.
 *
 * Reserved and unimplemented encodings expand to 0, which is not a valid 32-bit
 * instruction (its low bits are not 11), and the hart raises an illegal-instruction
 * exception with the 16 original bits in stval:
 *
 * - the all-zero instruction, `c.addi4spn` with nzuimm = 0, `c.addiw` with rd = x0,
 *   `c.addi16sp` and `c.lui` with a zero immediate, `c.lwsp` and `c.ldsp` with rd = x0,
 *   `c.jr` with rs1 = x0;
 * - RV64C encodings of other extensions this hart lacks: `c.fld`, `c.fsd`, `c.fldsp`,
 *   `c.fsdsp` (D), quadrant 0 funct3 = 100 and the `c.subw`/`c.addw` neighbours 10 and 11
 *   (Zcb and reserved).
 *
 * HINTs (`c.nop` with an immediate, `c.addi` with a zero immediate, `c.li`, `c.lui`,
 * `c.mv`, `c.add` and `c.slli` with rd = x0, shifts by zero) expand to 32-bit instructions
 * that change nothing, so they execute as no-ops, as the manual intends.
 *
 * @module
 */

const LOAD = 0x03, OP_IMM = 0x13, OP_IMM_32 = 0x1b, STORE = 0x23, OP = 0x33, LUI = 0x37;
const OP_32 = 0x3b, BRANCH = 0x63, JALR = 0x67, JAL = 0x6f;

function iType(op: number, f3: number, rd: number, rs1: number, imm: number): number {
  return ((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}

function sType(f3: number, rs1: number, rs2: number, imm: number): number {
  return (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
    ((imm & 0x1f) << 7) | STORE;
}

function rType(op: number, f3: number, f7: number, rd: number, rs1: number, rs2: number) {
  return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}

function bType(f3: number, rs1: number, imm: number): number {
  return (((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3f) << 25) | (rs1 << 15) | (f3 << 12) |
    (((imm >> 1) & 0xf) << 8) | (((imm >> 11) & 1) << 7) | BRANCH;
}

function jType(rd: number, imm: number): number {
  return (((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3ff) << 21) | (((imm >> 11) & 1) << 20) |
    (((imm >> 12) & 0xff) << 12) | (rd << 7) | JAL;
}

/** Bit `n` of `c`, moved to bit `to`. */
function bit(c: number, n: number, to: number): number {
  return ((c >> n) & 1) << to;
}

/** Sign-extends the low `bits` bits of `v`. */
function sext(v: number, bits: number): number {
  return (v << (32 - bits)) >> (32 - bits);
}

/** The 6-bit CI immediate imm[5] = c[12], imm[4:0] = c[6:2], sign-extended. */
function ciImm(c: number): number {
  return sext(bit(c, 12, 5) | ((c >> 2) & 0x1f), 6);
}

/**
 * Expands one 16-bit instruction (bits 1:0 not 11) into its 32-bit equivalent, or returns
 * 0 when the encoding is reserved or belongs to an extension this hart does not have.
 */
export function expandCompressed(c: number): number {
  const f3 = (c >> 13) & 7;
  const rd = (c >> 7) & 31; // CI/CR rd/rs1
  const rs2 = (c >> 2) & 31; // CR/CSS rs2
  const rdp = ((c >> 2) & 7) + 8; // CIW/CL rd', CS rs2'
  const rs1p = ((c >> 7) & 7) + 8; // CL/CS/CB rs1'
  switch (c & 3) {
    case 0: {
      const lwImm = bit(c, 6, 2) | (((c >> 10) & 7) << 3) | bit(c, 5, 6);
      const ldImm = (((c >> 10) & 7) << 3) | (((c >> 5) & 3) << 6);
      switch (f3) {
        case 0: { // c.addi4spn
          const imm = bit(c, 6, 2) | bit(c, 5, 3) | (((c >> 11) & 3) << 4) |
            (((c >> 7) & 0xf) << 6);
          return imm === 0 ? 0 : iType(OP_IMM, 0, rdp, 2, imm);
        }
        case 2: // c.lw
          return iType(LOAD, 2, rdp, rs1p, lwImm);
        case 3: // c.ld
          return iType(LOAD, 3, rdp, rs1p, ldImm);
        case 6: // c.sw
          return sType(2, rs1p, rdp, lwImm);
        case 7: // c.sd
          return sType(3, rs1p, rdp, ldImm);
        default: // c.fld, reserved (Zcb), c.fsd
          return 0;
      }
    }
    case 1:
      switch (f3) {
        case 0: // c.addi (c.nop when rd = x0)
          return iType(OP_IMM, 0, rd, rd, ciImm(c));
        case 1: // c.addiw
          return rd === 0 ? 0 : iType(OP_IMM_32, 0, rd, rd, ciImm(c));
        case 2: // c.li
          return iType(OP_IMM, 0, rd, 0, ciImm(c));
        case 3: {
          if (rd === 2) { // c.addi16sp
            const imm = sext(
              bit(c, 6, 4) | bit(c, 2, 5) | bit(c, 5, 6) | (((c >> 3) & 3) << 7) | bit(c, 12, 9),
              10,
            );
            return imm === 0 ? 0 : iType(OP_IMM, 0, 2, 2, imm);
          }
          const imm = ciImm(c); // c.lui: nzimm[17:12]
          return imm === 0 ? 0 : ((imm & 0xfffff) << 12) | (rd << 7) | LUI;
        }
        case 4: {
          const shamt = bit(c, 12, 5) | ((c >> 2) & 0x1f);
          switch ((c >> 10) & 3) {
            case 0: // c.srli
              return iType(OP_IMM, 5, rs1p, rs1p, shamt);
            case 1: // c.srai
              return iType(OP_IMM, 5, rs1p, rs1p, shamt | 0x400);
            case 2: // c.andi
              return iType(OP_IMM, 7, rs1p, rs1p, ciImm(c));
            default: {
              const r2 = rdp;
              const op = (c >> 5) & 3;
              if ((c & 0x1000) === 0) {
                // c.sub, c.xor, c.or, c.and
                return op === 0
                  ? rType(OP, 0, 0x20, rs1p, rs1p, r2)
                  : rType(OP, [0, 4, 6, 7][op], 0, rs1p, rs1p, r2);
              }
              if (op === 0) return rType(OP_32, 0, 0x20, rs1p, rs1p, r2); // c.subw
              if (op === 1) return rType(OP_32, 0, 0, rs1p, rs1p, r2); // c.addw
              return 0; // reserved (Zcb's c.mul and friends)
            }
          }
        }
        case 5: { // c.j
          const imm = sext(
            bit(c, 3, 1) | bit(c, 4, 2) | bit(c, 5, 3) | bit(c, 11, 4) | bit(c, 2, 5) |
              bit(c, 7, 6) | bit(c, 6, 7) | bit(c, 9, 8) | bit(c, 10, 9) | bit(c, 8, 10) |
              bit(c, 12, 11),
            12,
          );
          return jType(0, imm);
        }
        default: { // c.beqz, c.bnez
          const imm = sext(
            bit(c, 3, 1) | bit(c, 4, 2) | bit(c, 10, 3) | bit(c, 11, 4) | bit(c, 2, 5) |
              bit(c, 5, 6) | bit(c, 6, 7) | bit(c, 12, 8),
            9,
          );
          return bType(f3 === 6 ? 0 : 1, rs1p, imm);
        }
      }
    case 2:
      switch (f3) {
        case 0: // c.slli
          return iType(OP_IMM, 1, rd, rd, bit(c, 12, 5) | rs2);
        case 2: { // c.lwsp
          const imm = (((c >> 4) & 7) << 2) | bit(c, 12, 5) | (((c >> 2) & 3) << 6);
          return rd === 0 ? 0 : iType(LOAD, 2, rd, 2, imm);
        }
        case 3: { // c.ldsp
          const imm = (((c >> 5) & 3) << 3) | bit(c, 12, 5) | (((c >> 2) & 7) << 6);
          return rd === 0 ? 0 : iType(LOAD, 3, rd, 2, imm);
        }
        case 4:
          if ((c & 0x1000) === 0) {
            if (rs2 === 0) return rd === 0 ? 0 : iType(JALR, 0, 0, rd, 0); // c.jr
            return rType(OP, 0, 0, rd, 0, rs2); // c.mv
          }
          if (rs2 === 0) {
            return rd === 0 ? 0x0010_0073 : iType(JALR, 0, 1, rd, 0); // c.ebreak, c.jalr
          }
          return rType(OP, 0, 0, rd, rd, rs2); // c.add
        case 6: // c.swsp
          return sType(2, 2, rs2, (((c >> 9) & 0xf) << 2) | (((c >> 7) & 3) << 6));
        case 7: // c.sdsp
          return sType(3, 2, rs2, (((c >> 10) & 7) << 3) | (((c >> 7) & 7) << 6));
        default: // c.fldsp, c.fsdsp
          return 0;
      }
    default:
      return 0; // not a 16-bit instruction
  }
}

/** Every 16-bit pattern expanded once: `EXPANDED[c]` is `expandCompressed(c)`. */
export const EXPANDED: Int32Array = (() => {
  const table = new Int32Array(65536);
  for (let c = 0; c < 65536; c++) table[c] = expandCompressed(c);
  return table;
})();
