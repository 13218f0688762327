/**
 * The x86-64 instruction decoder (64-bit mode only): legacy prefixes, REX, the one- and
 * two-byte opcode maps, ModRM and SIB addressing, displacements and immediates (SDM Vol. 2
 * Chapter 2, "Instruction Format", and Appendix A, "Opcode Map").
 *
 * `decode` reads bytes from a buffer and fills an {@link Insn}; it never throws. Encodings
 * the architecture leaves undefined, and invalid ones such as LOCK on an instruction that
 * cannot take it, decode to OP_UD; real instructions outside this CPU's repertoire (x87,
 * SSE, VMX, ...) decode to OP_UNIMPL so that the machine can say so; privileged ones decode
 * normally and the executor raises #GP(0) in ring 3.
 *
 * After the generic decoding, `specialize` rewrites the hottest register and memory forms
 * at 32 and 64 bits to handlers that skip the generic operand machinery.
 *
 * @module
 */

import {
  BASE_RIP,
  EA_BASE,
  EA_BASE_INDEX,
  EA_OTHER,
  EA_RIP,
  Insn,
  OP_ALU_EG,
  OP_ALU_EI,
  OP_ALU_GE,
  OP_ALU_RI,
  OP_ALU_RM,
  OP_ALU_RR,
  OP_BSF,
  OP_BSR,
  OP_BSWAP,
  OP_BT_EG,
  OP_BT_EI,
  OP_CALL_E,
  OP_CALL_REL,
  OP_CBW,
  OP_CLFLUSH,
  OP_CMOVCC,
  OP_CMPXCHG,
  OP_CMPXCHGXB,
  OP_CPUID,
  OP_CWD,
  OP_DEC,
  OP_DIV,
  OP_ENTER,
  OP_FLAGOP,
  OP_IDIV,
  OP_IMUL,
  OP_IMUL1,
  OP_INC,
  OP_INCDEC_R,
  OP_INT,
  OP_INT1,
  OP_INT3,
  OP_IO,
  OP_IRET,
  OP_JCC,
  OP_JMP_E,
  OP_JMP_REL,
  OP_LAHF,
  OP_LEA,
  OP_LEA_R,
  OP_LEAVE,
  OP_LOAD,
  OP_LOOP,
  OP_LZCNT,
  OP_MOV_EG,
  OP_MOV_EI,
  OP_MOV_FROM_SREG,
  OP_MOV_GE,
  OP_MOV_RI,
  OP_MOV_RR,
  OP_MOV_TO_SREG,
  OP_MOVSX,
  OP_MOVZX,
  OP_MOVZX_B,
  OP_MUL,
  OP_NEG,
  OP_NOP,
  OP_NOT,
  OP_POP,
  OP_POP_R,
  OP_POP_SEG,
  OP_POPCNT,
  OP_POPF,
  OP_PRIV,
  OP_PUSH,
  OP_PUSH_I,
  OP_PUSH_R,
  OP_PUSH_SEG,
  OP_PUSHF,
  OP_RDTSC,
  OP_RDTSCP,
  OP_RET,
  OP_SAHF,
  OP_SETCC,
  OP_SHIFT,
  OP_SHIFT_RI,
  OP_SHLD,
  OP_SHRD,
  OP_STORE,
  OP_STORE_I,
  OP_STORE_SYS,
  OP_STRING,
  OP_SYSCALL,
  OP_TEST_EG,
  OP_TEST_EI,
  OP_TEST_RR,
  OP_TOO_LONG,
  OP_TS,
  OP_TZCNT,
  OP_UD,
  OP_UNIMPL,
  OP_XADD,
  OP_XCHG,
  OP_XLAT,
  PFX_ADDR32,
  PFX_LOCK,
  PFX_REP,
  PFX_REPNE,
} from "./insn.ts";

/** `decode` returns this when the instruction continues past `end` (a page boundary). */
export const DECODE_NEED_MORE: number = -1;

/** The longest instruction the architecture allows (Vol. 2 §2.3.11). */
export const MAX_INSN_LENGTH = 15;

// The decoder's cursor. Decoding is not reentrant and never needs to be.
let buf: Uint8Array = new Uint8Array(0);
let pos = 0;
let lim = 0;
/** Thrown (as this value, never an Error) when the bytes run out; caught in `decode`. */
const OUT_OF_BYTES = { outOfBytes: true };

function next(): number {
  if (pos >= lim) throw OUT_OF_BYTES;
  return buf[pos++];
}

function imm8(): number {
  return (next() << 24) >> 24;
}

function imm16(): number {
  const v = next() | (next() << 8);
  return (v << 16) >> 16;
}

function imm32(): number {
  return next() | (next() << 8) | (next() << 16) | (next() << 24);
}

/** Prefix state of the instruction being decoded. */
let rex = 0;
let opsize16 = false;

/** REX.W, .R, .X, .B. */
const W = () => (rex & 8) !== 0;
const R = () => (rex & 4) << 1;
const X = () => (rex & 2) << 2;
const B = () => (rex & 1) << 3;

/**
 * Decodes one instruction from `bytes[at..end)` into `out`. Returns its length, or
 * DECODE_NEED_MORE when it runs past `end` before MAX_INSN_LENGTH bytes.
 */
export function decode(bytes: Uint8Array, at: number, end: number, out: Insn): number {
  buf = bytes;
  pos = at;
  lim = Math.min(end, at + MAX_INSN_LENGTH);
  reset(out);
  try {
    decodeInto(out);
  } catch (e) {
    if (e !== OUT_OF_BYTES) throw e;
    if (lim < at + MAX_INSN_LENGTH) return DECODE_NEED_MORE;
    reset(out);
    out.op = OP_TOO_LONG;
    out.name = "an instruction longer than 15 bytes";
    out.len = MAX_INSN_LENGTH;
    return out.len;
  }
  out.len = pos - at;
  out.eaKind = out.seg >= 0 || (out.pfx & PFX_ADDR32) || out.base < 0
    ? EA_OTHER
    : out.base === BASE_RIP
    ? EA_RIP
    : out.index < 0
    ? EA_BASE
    : EA_BASE_INDEX;
  specialize(out);
  return out.len;
}

function reset(i: Insn): void {
  i.op = OP_UD;
  i.len = 0;
  i.size = 4;
  i.reg = 0;
  i.rm = -1;
  i.base = -1;
  i.index = -1;
  i.scale = 1;
  i.disp = 0;
  i.seg = -1;
  i.stack = false;
  i.eaKind = EA_OTHER;
  i.pfx = 0;
  i.imm = 0;
  i.imm2 = 0;
  i.sub = 0;
  i.name = "";
}

function decodeInto(i: Insn): void {
  rex = 0;
  opsize16 = false;
  let op: number;
  // Legacy prefixes in any order, then at most one REX immediately before the opcode.
  for (;;) {
    op = next();
    if (op >= 0x40 && op <= 0x4f) {
      rex = op;
      op = next();
      if (isLegacyPrefix(op)) {
        // A REX followed by a legacy prefix is ignored (Vol. 2 §2.2.1).
        rex = 0;
        pos--;
        continue;
      }
      break;
    }
    if (!isLegacyPrefix(op)) break;
    switch (op) {
      case 0x66:
        opsize16 = true;
        break;
      case 0x67:
        i.pfx |= PFX_ADDR32;
        break;
      case 0xf0:
        i.pfx |= PFX_LOCK;
        break;
      case 0xf2:
        i.pfx = (i.pfx & ~PFX_REP) | PFX_REPNE;
        break;
      case 0xf3:
        i.pfx = (i.pfx & ~PFX_REPNE) | PFX_REP;
        break;
      case 0x64:
        i.seg = 4;
        break;
      case 0x65:
        i.seg = 5;
        break;
        // 26, 2E, 36, 3E: ES, CS, SS, DS overrides are null prefixes in 64-bit mode.
    }
  }
  i.size = W() ? 8 : opsize16 ? 2 : 4;
  if (op === 0x0f) return twoByte(i, next());
  oneByte(i, op);
}

function isLegacyPrefix(b: number): boolean {
  return b === 0x66 || b === 0x67 || b === 0xf0 || b === 0xf2 || b === 0xf3 || b === 0x26 ||
    b === 0x2e || b === 0x36 || b === 0x3e || b === 0x64 || b === 0x65;
}

/**
 * Reads ModRM (and SIB and displacement); fills reg, rm or the memory operand. `byteRegs`:
 * the operands are bytes (AH..BH reachable); `byteG`: the same for G alone (MOVZX and
 * MOVSX read a byte E into a wider G).
 */
function modrm(i: Insn, byteRegs: boolean, byteG = byteRegs): number {
  const m = next();
  const mod = m >> 6;
  i.reg = byteReg(((m >> 3) & 7) | R(), byteG);
  const rm = m & 7;
  if (mod === 3) {
    i.rm = byteReg(rm | B(), byteRegs);
    return m;
  }
  if (rm === 4) {
    const sib = next();
    const idx = ((sib >> 3) & 7) | X();
    if (idx !== 4) {
      i.index = idx;
      i.scale = 1 << (sib >> 6);
    }
    if ((sib & 7) === 5 && mod === 0) {
      i.disp = imm32(); // no base: [index*scale + disp32]
    } else {
      i.base = (sib & 7) | B();
    }
  } else if (rm === 5 && mod === 0) {
    i.base = BASE_RIP;
    i.disp = imm32();
  } else {
    i.base = rm | B();
  }
  if (mod === 1) i.disp = imm8();
  else if (mod === 2) i.disp = imm32();
  i.stack = i.base === 4 || i.base === 5;
  return m;
}

/** Byte-register numbering: without REX, 4-7 are AH, CH, DH, BH (numbered 16-19). */
function byteReg(r: number, byteRegs: boolean): number {
  return byteRegs && rex === 0 && r >= 4 && r < 8 ? r + 12 : r;
}

/** The register encoded in the low three opcode bits (50+r, B8+r, ...), with REX.B. */
function opReg(op: number, byteRegs: boolean): number {
  return byteReg((op & 7) | B(), byteRegs);
}

/** Iz: 16 bits for operand size 2, else 32 bits sign-extended. */
function immZ(i: Insn): number {
  return i.size === 2 ? imm16() : imm32();
}

function ud(i: Insn, why: string): void {
  i.op = OP_UD;
  i.name = why;
}

function unimpl(i: Insn, what: string): void {
  i.op = OP_UNIMPL;
  i.name = what;
}

function priv(i: Insn, what: string): void {
  i.op = OP_PRIV;
  i.name = what;
}

const ALU_NAMES = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"];

function oneByte(i: Insn, op: number): void {
  if (op < 0x40 && (op & 7) < 6) {
    // 00-3D: the ALU block. Low 3 bits: Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / rAX,Iz.
    i.sub = op >> 3;
    i.name = ALU_NAMES[i.sub];
    switch (op & 7) {
      case 0:
      case 1:
        if ((op & 1) === 0) i.size = 1;
        modrm(i, i.size === 1);
        i.op = OP_ALU_EG;
        return lockable(i, i.sub !== 7);
      case 2:
      case 3:
        if ((op & 1) === 0) i.size = 1;
        modrm(i, i.size === 1);
        i.op = OP_ALU_GE;
        return;
      case 4:
        i.size = 1;
        i.rm = 0;
        i.imm = imm8();
        i.op = OP_ALU_EI;
        return;
      default:
        i.rm = 0;
        i.imm = immZ(i);
        i.op = OP_ALU_EI;
        return;
    }
  }
  switch (op) {
    case 0x50:
    case 0x51:
    case 0x52:
    case 0x53:
    case 0x54:
    case 0x55:
    case 0x56:
    case 0x57:
      i.size = opsize16 ? 2 : 8;
      i.rm = opReg(op, false);
      i.op = OP_PUSH;
      return;
    case 0x58:
    case 0x59:
    case 0x5a:
    case 0x5b:
    case 0x5c:
    case 0x5d:
    case 0x5e:
    case 0x5f:
      i.size = opsize16 ? 2 : 8;
      i.rm = opReg(op, false);
      i.op = OP_POP;
      return;
    case 0x63:
      modrm(i, false);
      i.sub = 4;
      i.op = i.size === 8 ? OP_MOVSX : OP_MOV_GE;
      i.name = "movsxd"; // without REX.W it is a plain 16- or 32-bit move
      return;
    case 0x68:
      i.size = opsize16 ? 2 : 8;
      i.imm = opsize16 ? imm16() : imm32();
      i.op = OP_PUSH_I;
      return;
    case 0x6a:
      i.size = opsize16 ? 2 : 8;
      i.imm = imm8();
      i.op = OP_PUSH_I;
      return;
    case 0x69:
      modrm(i, false);
      i.imm = immZ(i);
      i.sub = 1;
      i.op = OP_IMUL;
      return;
    case 0x6b:
      modrm(i, false);
      i.imm = imm8();
      i.sub = 1;
      i.op = OP_IMUL;
      return;
    case 0x6c:
    case 0x6d:
      i.size = op === 0x6c ? 1 : opsize16 ? 2 : 4;
      i.sub = 2;
      i.op = OP_IO;
      i.name = "ins";
      return;
    case 0x6e:
    case 0x6f:
      i.size = op === 0x6e ? 1 : opsize16 ? 2 : 4;
      i.sub = 3;
      i.op = OP_IO;
      i.name = "outs";
      return;
    case 0x80:
    case 0x81:
    case 0x83: {
      if (op === 0x80) i.size = 1;
      const m = modrm(i, i.size === 1);
      i.reg = 0;
      i.sub = (m >> 3) & 7;
      i.imm = op === 0x81 ? immZ(i) : imm8();
      i.op = OP_ALU_EI;
      i.name = ALU_NAMES[i.sub];
      return lockable(i, i.sub !== 7);
    }
    case 0x84:
    case 0x85:
      if (op === 0x84) i.size = 1;
      modrm(i, i.size === 1);
      i.op = OP_TEST_EG;
      return;
    case 0x86:
    case 0x87:
      if (op === 0x86) i.size = 1;
      modrm(i, i.size === 1);
      i.op = OP_XCHG;
      return lockable(i, true);
    case 0x88:
    case 0x89:
      if (op === 0x88) i.size = 1;
      modrm(i, i.size === 1);
      i.op = OP_MOV_EG;
      return;
    case 0x8a:
    case 0x8b:
      if (op === 0x8a) i.size = 1;
      modrm(i, i.size === 1);
      i.op = OP_MOV_GE;
      return;
    case 0x8c:
      modrm(i, false);
      i.sub = i.reg & 7;
      if (i.sub > 5) return ud(i, "mov from a segment register that does not exist");
      if (i.rm < 0) i.size = 2; // a store is always 16 bits
      i.op = OP_MOV_FROM_SREG;
      return;
    case 0x8d:
      modrm(i, false);
      if (i.rm >= 0) return ud(i, "lea with a register operand");
      i.op = OP_LEA;
      return;
    case 0x8e:
      modrm(i, false);
      i.sub = i.reg & 7;
      if (i.sub === 1 || i.sub > 5) return ud(i, "mov to CS or to a segment that does not exist");
      i.size = 2;
      i.op = OP_MOV_TO_SREG;
      return;
    case 0x8f: {
      i.size = opsize16 ? 2 : 8;
      const m = modrm(i, false);
      if (((m >> 3) & 7) !== 0) return ud(i, "8F with reg field != 0 (XOP)");
      i.op = OP_POP;
      return;
    }
    case 0x90:
      if (rex & 1) {
        i.rm = 8;
        i.reg = 0;
        i.op = OP_XCHG; // xchg r8, rax
        return;
      }
      i.op = OP_NOP;
      i.name = i.pfx & PFX_REP ? "pause" : "nop";
      return;
    case 0x91:
    case 0x92:
    case 0x93:
    case 0x94:
    case 0x95:
    case 0x96:
    case 0x97:
      i.rm = opReg(op, false);
      i.reg = 0;
      i.op = OP_XCHG;
      return;
    case 0x98:
      i.op = OP_CBW;
      return;
    case 0x99:
      i.op = OP_CWD;
      return;
    case 0x9b:
      i.op = OP_NOP; // FWAIT: no x87 state to wait for
      i.name = "fwait";
      return;
    case 0x9c:
      i.size = opsize16 ? 2 : 8;
      i.op = OP_PUSHF;
      return;
    case 0x9d:
      i.size = opsize16 ? 2 : 8;
      i.op = OP_POPF;
      return;
    case 0x9e:
      i.op = OP_SAHF;
      return;
    case 0x9f:
      i.op = OP_LAHF;
      return;
    case 0xa0:
    case 0xa1:
    case 0xa2:
    case 0xa3: {
      // MOV AL/rAX <-> moffs: a 64-bit absolute address (32-bit with 67).
      if ((op & 1) === 0) i.size = 1;
      const lo = imm32();
      const hi = i.pfx & PFX_ADDR32 ? 0 : imm32();
      i.disp = hi * 4294967296 + (lo >>> 0);
      i.reg = 0;
      i.op = op < 0xa2 ? OP_MOV_GE : OP_MOV_EG;
      return;
    }
    case 0xa4:
    case 0xa5:
    case 0xa6:
    case 0xa7:
    case 0xaa:
    case 0xab:
    case 0xac:
    case 0xad:
    case 0xae:
    case 0xaf:
      if ((op & 1) === 0) i.size = 1;
      i.sub = [0, 0, 1, 1, -1, -1, 2, 2, 3, 3, 4, 4][op - 0xa4];
      i.op = OP_STRING;
      return;
    case 0xa8:
    case 0xa9:
      if (op === 0xa8) i.size = 1;
      i.rm = 0;
      i.imm = i.size === 1 ? imm8() : immZ(i);
      i.op = OP_TEST_EI;
      return;
    case 0xc0:
    case 0xc1:
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
      if ((op & 1) === 0) i.size = 1;
      const m = modrm(i, i.size === 1);
      i.sub = (m >> 3) & 7;
      if (op < 0xd0) {
        i.imm = next();
        i.imm2 = 0;
      } else {
        i.imm2 = op < 0xd2 ? 1 : 2;
      }
      i.op = OP_SHIFT;
      return;
    }
    case 0xc2:
      i.imm = imm16() & 0xffff;
      i.op = OP_RET;
      return;
    case 0xc3:
      i.op = OP_RET;
      return;
    case 0xc4:
    case 0xc5:
      return unimpl(i, "a VEX-encoded (AVX) instruction");
    case 0xc6:
    case 0xc7: {
      if (op === 0xc6) i.size = 1;
      const m = modrm(i, i.size === 1);
      if (((m >> 3) & 7) !== 0) {
        return m === 0xf8 ? unimpl(i, "xabort/xbegin (RTM)") : ud(i, "C6/C7 with reg != 0");
      }
      i.reg = 0;
      i.imm = i.size === 1 ? imm8() : immZ(i);
      i.imm2 = i.imm < 0 ? -1 : 0; // bits 63:32 of the sign-extended immediate
      i.op = OP_MOV_EI;
      return;
    }
    case 0xc8:
      i.imm = imm16() & 0xffff;
      i.imm2 = next();
      i.size = opsize16 ? 2 : 8;
      i.op = OP_ENTER;
      return;
    case 0xc9:
      i.size = opsize16 ? 2 : 8;
      i.op = OP_LEAVE;
      return;
    case 0xca:
    case 0xcb:
      return unimpl(i, "far return (lret)");
    case 0xcc:
      i.op = OP_INT3;
      return;
    case 0xcd:
      i.imm = next();
      i.op = OP_INT;
      return;
    case 0xcf:
      i.op = OP_IRET;
      return;
    case 0xd7:
      i.size = 1;
      i.op = OP_XLAT;
      return;
    case 0xe0:
    case 0xe1:
    case 0xe2:
    case 0xe3:
      i.sub = op - 0xe0;
      i.imm = imm8();
      i.op = OP_LOOP;
      return;
    case 0xe4:
    case 0xe5:
    case 0xe6:
    case 0xe7:
      i.size = (op & 1) === 0 ? 1 : opsize16 ? 2 : 4;
      i.imm = next();
      i.imm2 = 1;
      i.sub = op < 0xe6 ? 0 : 1;
      i.op = OP_IO;
      i.name = op < 0xe6 ? "in" : "out";
      return;
    case 0xe8:
      i.imm = imm32();
      i.op = OP_CALL_REL;
      return;
    case 0xe9:
      i.imm = imm32();
      i.op = OP_JMP_REL;
      return;
    case 0xeb:
      i.imm = imm8();
      i.op = OP_JMP_REL;
      return;
    case 0xec:
    case 0xed:
    case 0xee:
    case 0xef:
      i.size = (op & 1) === 0 ? 1 : opsize16 ? 2 : 4;
      i.sub = op < 0xee ? 0 : 1;
      i.op = OP_IO;
      i.name = op < 0xee ? "in" : "out";
      return;
    case 0xf1:
      i.op = OP_INT1;
      return;
    case 0xf4:
      return priv(i, "hlt");
    case 0xf5:
      i.sub = 2;
      i.op = OP_FLAGOP;
      return;
    case 0xf6:
    case 0xf7:
      if (op === 0xf6) i.size = 1;
      return group3(i, (modrm(i, i.size === 1) >> 3) & 7);
    case 0xf8:
    case 0xf9:
      i.sub = op - 0xf8;
      i.op = OP_FLAGOP;
      return;
    case 0xfa:
    case 0xfb:
      i.sub = op === 0xfa ? 5 : 6; // CLI, STI: allowed when CPL <= IOPL
      i.op = OP_FLAGOP;
      i.name = op === 0xfa ? "cli" : "sti";
      return;
    case 0xfc:
    case 0xfd:
      i.sub = op - 0xfc + 3;
      i.op = OP_FLAGOP;
      return;
    case 0xfe: {
      i.size = 1;
      const m = modrm(i, true);
      const g = (m >> 3) & 7;
      if (g > 1) return ud(i, "FE with reg > 1");
      i.op = g === 0 ? OP_INC : OP_DEC;
      return lockable(i, true);
    }
    case 0xff: {
      const m = modrm(i, false);
      const g = (m >> 3) & 7;
      switch (g) {
        case 0:
        case 1:
          i.op = g === 0 ? OP_INC : OP_DEC;
          return lockable(i, true);
        case 2:
          i.size = 8;
          i.op = OP_CALL_E;
          return;
        case 3:
          return i.rm >= 0 ? ud(i, "far call with a register operand") : unimpl(i, "far call");
        case 4:
          i.size = 8;
          i.op = OP_JMP_E;
          return;
        case 5:
          return i.rm >= 0 ? ud(i, "far jmp with a register operand") : unimpl(i, "far jmp");
        case 6:
          i.size = opsize16 ? 2 : 8;
          i.op = OP_PUSH;
          return;
        default:
          return ud(i, "FF /7");
      }
    }
  }
  if (op >= 0x70 && op <= 0x7f) {
    i.sub = op & 0xf;
    i.imm = imm8();
    i.op = OP_JCC;
    return;
  }
  if (op >= 0xb0 && op <= 0xbf) {
    if (op < 0xb8) {
      i.size = 1;
      i.rm = opReg(op, true);
      i.imm = imm8();
    } else {
      i.rm = opReg(op, false);
      if (i.size === 8) {
        i.imm = imm32();
        i.imm2 = imm32();
      } else {
        i.imm = immZ(i); // B8+r without REX.W: zero-extended, so imm2 stays 0
      }
    }
    i.op = OP_MOV_EI;
    return;
  }
  if (op >= 0xd8 && op <= 0xdf) {
    modrm(i, false);
    return unimpl(i, "an x87 floating-point instruction");
  }
  // 06 07 0E 16 17 1E 1F 27 2F 37 3F 60-62 82 9A C4/C5 (handled) CE D4-D6 EA: invalid in
  // 64-bit mode; everything else left is undefined.
  ud(i, `opcode 0x${op.toString(16).padStart(2, "0")} (invalid in 64-bit mode)`);
}

function twoByte(i: Insn, op: number): void {
  switch (op) {
    case 0x00: {
      const m = modrm(i, false);
      const g = (m >> 3) & 7;
      i.size = 2;
      if (g === 0 || g === 1) {
        i.sub = g === 0 ? 2 : 3;
        if (i.rm >= 0 && opsize16 === false) i.size = rex & 8 ? 8 : 4;
        i.op = OP_STORE_SYS;
        i.name = g === 0 ? "sldt" : "str";
        return;
      }
      if (g === 2) return priv(i, "lldt");
      if (g === 3) return priv(i, "ltr");
      if (g === 4 || g === 5) return unimpl(i, g === 4 ? "verr" : "verw");
      return ud(i, "0F 00 with reg > 5");
    }
    case 0x01: {
      const m = modrm(i, false);
      const g = (m >> 3) & 7;
      if (i.rm < 0) {
        switch (g) {
          case 0:
          case 1:
            i.sub = g;
            i.op = OP_STORE_SYS;
            i.name = g === 0 ? "sgdt" : "sidt";
            return;
          case 2:
            return priv(i, "lgdt");
          case 3:
            return priv(i, "lidt");
          case 4:
            i.sub = 4;
            i.size = 2;
            i.op = OP_STORE_SYS;
            i.name = "smsw";
            return;
          case 6:
            return priv(i, "lmsw");
          case 7:
            return priv(i, "invlpg");
          default:
            return ud(i, "0F 01 /5 with a memory operand");
        }
      }
      if (g === 4) {
        i.sub = 4;
        i.op = OP_STORE_SYS;
        i.name = "smsw";
        return;
      }
      if (g === 6) return priv(i, "lmsw");
      switch (m) {
        case 0xf8:
          return priv(i, "swapgs");
        case 0xf9:
          i.op = OP_RDTSCP;
          return;
        case 0xd1:
          return priv(i, "xsetbv");
        case 0xd0:
          return ud(i, "xgetbv (XSAVE is not supported)");
        case 0xc8:
        case 0xc9:
          return ud(i, "monitor/mwait (not supported: CPUID.1:ECX.MONITOR = 0)");
        case 0xca:
        case 0xcb:
          return ud(i, "clac/stac (SMAP is not supported)");
      }
      return ud(i, `0F 01 ${m.toString(16)}`);
    }
    case 0x02:
    case 0x03:
      modrm(i, false);
      return unimpl(i, op === 2 ? "lar" : "lsl");
    case 0x05:
      i.op = OP_SYSCALL;
      return;
    case 0x06:
      return priv(i, "clts");
    case 0x07:
      return priv(i, "sysret");
    case 0x08:
      return priv(i, "invd");
    case 0x09:
      return priv(i, "wbinvd");
    case 0x0a:
      i.sub = next();
      if (i.sub > 1) return ud(i, `0F 0A ${i.sub} (only ts.start 0 and ts.resume 1 exist)`);
      i.op = OP_TS;
      i.name = i.sub === 0 ? "ts.start" : "ts.resume";
      return;
    case 0x0b:
      return ud(i, "ud2");
    case 0x0d:
      modrm(i, false);
      if (i.rm >= 0) return ud(i, "prefetch with a register operand");
      i.op = OP_NOP;
      return;
    case 0x18:
    case 0x19:
    case 0x1a:
    case 0x1b:
    case 0x1c:
    case 0x1d:
    case 0x1e:
    case 0x1f:
      // Hint NOPs: prefetch hints (0F 18), the multi-byte NOP (0F 1F /0), ENDBR64 (F3 0F 1E FA).
      modrm(i, false);
      i.op = OP_NOP;
      return;
    case 0x20:
    case 0x21:
    case 0x22:
    case 0x23:
      modrm(i, false);
      return priv(i, op & 1 ? (op & 2 ? "mov to dr" : "mov from dr") : "mov cr");
    case 0x30:
      return priv(i, "wrmsr");
    case 0x31:
      i.op = OP_RDTSC;
      return;
    case 0x32:
      return priv(i, "rdmsr");
    case 0x33:
      return priv(i, "rdpmc");
    case 0x34:
      return priv(i, "sysenter (IA32_SYSENTER_CS is 0)");
    case 0x35:
      return priv(i, "sysexit");
    case 0xa0:
    case 0xa8:
      i.size = opsize16 ? 2 : 8;
      i.sub = op === 0xa0 ? 4 : 5;
      i.op = OP_PUSH_SEG;
      return;
    case 0xa1:
    case 0xa9:
      i.size = opsize16 ? 2 : 8;
      i.sub = op === 0xa1 ? 4 : 5;
      i.op = OP_POP_SEG;
      return;
    case 0xa2:
      i.op = OP_CPUID;
      return;
    case 0xa3:
    case 0xab:
    case 0xb3:
    case 0xbb:
      modrm(i, false);
      i.sub = [0, 1, 2, 3][(op >> 3) & 3];
      i.op = OP_BT_EG;
      return lockable(i, i.sub !== 0);
    case 0xa4:
    case 0xa5:
    case 0xac:
    case 0xad:
      modrm(i, false);
      if ((op & 1) === 0) i.imm = next();
      i.imm2 = op & 1 ? 2 : 0;
      i.op = op < 0xa8 ? OP_SHLD : OP_SHRD;
      return;
    case 0xae: {
      const m = modrm(i, false);
      const g = (m >> 3) & 7;
      if (i.rm >= 0) {
        if (i.pfx & PFX_REP) return ud(i, "rdfsbase/wrfsbase (CR4.FSGSBASE is not supported)");
        if (g >= 5) {
          i.op = OP_NOP; // LFENCE, MFENCE, SFENCE
          i.name = ["lfence", "mfence", "sfence"][g - 5];
          return;
        }
        return ud(i, `0F AE /${g} with a register operand`);
      }
      if (g === 7) {
        i.op = OP_CLFLUSH;
        return;
      }
      return unimpl(
        i,
        ["fxsave", "fxrstor", "ldmxcsr", "stmxcsr", "xsave", "xrstor", "xsaveopt"][g],
      );
    }
    case 0xaf:
      modrm(i, false);
      i.op = OP_IMUL;
      return;
    case 0xb0:
    case 0xb1:
      if (op === 0xb0) i.size = 1;
      modrm(i, i.size === 1);
      i.op = OP_CMPXCHG;
      return lockable(i, true);
    case 0xb6:
    case 0xb7:
    case 0xbe:
    case 0xbf:
      modrm(i, (op & 1) === 0, false);
      i.sub = (op & 1) === 0 ? 1 : 2;
      i.op = op < 0xb8 ? OP_MOVZX : OP_MOVSX;
      return;
    case 0xb8:
      if (!(i.pfx & PFX_REP)) return ud(i, "jmpe");
      modrm(i, false);
      i.op = OP_POPCNT;
      return;
    case 0xba: {
      const m = modrm(i, false);
      const g = (m >> 3) & 7;
      if (g < 4) return ud(i, "0F BA with reg < 4");
      i.sub = g - 4;
      i.imm = next();
      i.op = OP_BT_EI;
      return lockable(i, i.sub !== 0);
    }
    case 0xbc:
      modrm(i, false);
      i.op = i.pfx & PFX_REP ? OP_TZCNT : OP_BSF;
      return;
    case 0xbd:
      modrm(i, false);
      i.op = i.pfx & PFX_REP ? OP_LZCNT : OP_BSR;
      return;
    case 0xc0:
    case 0xc1:
      if (op === 0xc0) i.size = 1;
      modrm(i, i.size === 1);
      i.op = OP_XADD;
      return lockable(i, true);
    case 0xc7: {
      const m = modrm(i, false);
      const g = (m >> 3) & 7;
      if (g === 1 && i.rm < 0) {
        i.size = rex & 8 ? 8 : 4;
        i.op = OP_CMPXCHGXB;
        i.name = i.size === 8 ? "cmpxchg16b" : "cmpxchg8b";
        return lockable(i, true);
      }
      if (g === 6 || g === 7) return ud(i, "rdrand/rdseed/rdpid (not supported)");
      return ud(i, `0F C7 /${g}`);
    }
    case 0xc8:
    case 0xc9:
    case 0xca:
    case 0xcb:
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf:
      i.rm = opReg(op, false);
      i.op = OP_BSWAP;
      return;
  }
  if (op >= 0x40 && op <= 0x4f) {
    modrm(i, false);
    i.sub = op & 0xf;
    i.op = OP_CMOVCC;
    return;
  }
  if (op >= 0x80 && op <= 0x8f) {
    i.sub = op & 0xf;
    i.imm = imm32();
    i.op = OP_JCC;
    return;
  }
  if (op >= 0x90 && op <= 0x9f) {
    i.size = 1;
    modrm(i, true, false);
    i.sub = op & 0xf;
    i.op = OP_SETCC;
    return;
  }
  if (op === 0x38 || op === 0x3a) {
    return unimpl(i, `a 0F ${op.toString(16)} instruction (SSSE3/SSE4 and later)`);
  }
  if ((op >= 0x10 && op <= 0x17) || (op >= 0x28 && op <= 0x2f) || (op >= 0x50 && op <= 0x7f)) {
    return unimpl(i, "an SSE/MMX instruction (the CPU has no vector registers)");
  }
  ud(i, `opcode 0F ${op.toString(16).padStart(2, "0")}`);
}

/** Group 3 (F6, F7): TEST, NOT, NEG, MUL, IMUL, DIV, IDIV by ModRM.reg. */
function group3(i: Insn, g: number): void {
  if (g <= 1) {
    // F6/F7 /1 is an undocumented alias of TEST.
    i.imm = i.size === 1 ? imm8() : immZ(i);
    i.op = OP_TEST_EI;
    return;
  }
  i.op = [0, 0, OP_NOT, OP_NEG, OP_MUL, OP_IMUL1, OP_DIV, OP_IDIV][g];
  if (g === 2 || g === 3) lockable(i, true);
}

/**
 * Applies the LOCK rule (Vol. 2, LOCK): only the listed read-modify-write instructions
 * with a memory destination may carry it; anything else with LOCK is #UD.
 */
function lockable(i: Insn, allowed: boolean): void {
  if ((i.pfx & PFX_LOCK) && (!allowed || i.rm >= 0)) {
    ud(i, "lock prefix on an instruction that cannot be locked");
  }
}

/** Rewrites the hottest generic forms to their fast handlers. */
function specialize(i: Insn): void {
  if (i.pfx & PFX_LOCK) {
    checkLock(i);
    return;
  }
  const wide = i.size === 4 || i.size === 8;
  if (!wide) {
    if (i.op === OP_MOVZX && i.sub === 1 && i.size === 4) i.op = OP_MOVZX_B;
    return;
  }
  const reg = i.rm >= 0;
  switch (i.op) {
    case OP_MOV_EG:
      i.op = reg ? OP_MOV_RR : OP_STORE;
      return;
    case OP_MOV_GE:
      if (reg) swapToRR(i, OP_MOV_RR);
      else i.op = OP_LOAD;
      return;
    case OP_MOV_EI:
      i.op = reg ? OP_MOV_RI : OP_STORE_I;
      return;
    case OP_ALU_EG:
      if (reg) i.op = OP_ALU_RR;
      return;
    case OP_ALU_GE:
      if (reg) swapToRR(i, OP_ALU_RR);
      else i.op = OP_ALU_RM;
      return;
    case OP_ALU_EI:
      if (reg) i.op = OP_ALU_RI;
      return;
    case OP_TEST_EG:
      if (reg) i.op = OP_TEST_RR;
      return;
    case OP_INC:
    case OP_DEC:
      if (reg) {
        i.sub = i.op === OP_INC ? 0 : 1;
        i.op = OP_INCDEC_R;
      }
      return;
    case OP_LEA:
      i.op = OP_LEA_R;
      return;
    case OP_PUSH:
      if (reg && i.size === 8) i.op = OP_PUSH_R;
      return;
    case OP_POP:
      if (reg && i.size === 8) i.op = OP_POP_R;
      return;
    case OP_MOVZX:
      if (i.sub === 1 && i.size === 4) i.op = OP_MOVZX_B;
      return;
    case OP_SHIFT:
      if (reg && i.imm2 === 0 && i.sub >= 4) i.op = OP_SHIFT_RI;
      return;
  }
}

function checkLock(i: Insn): void {
  switch (i.op) {
    case OP_ALU_EG:
    case OP_ALU_EI:
    case OP_XCHG:
    case OP_NOT:
    case OP_NEG:
    case OP_INC:
    case OP_DEC:
    case OP_BT_EG:
    case OP_BT_EI:
    case OP_CMPXCHG:
    case OP_CMPXCHGXB:
    case OP_XADD:
    case OP_UD:
      return;
  }
  ud(i, "lock prefix on an instruction that cannot be locked");
}

/** G op= E with E a register: becomes the register-register form rm = G, reg = E. */
function swapToRR(i: Insn, op: number): void {
  const g = i.reg;
  i.reg = i.rm;
  i.rm = g;
  i.op = op;
}
