/**
 * Lazy arithmetic flags.
 *
 * Most instructions that write CF, PF, AF, ZF, SF and OF are followed by another that
 * overwrites them before anything reads them, so the CPU records what the last flag-writing
 * instruction did (its kind, operand size, result and operands) and computes a flag only
 * when something asks: a Jcc, SETcc, CMOVcc, PUSHF, an interrupt frame. The record is a few
 * int32 slots, so the hot path writes numbers and allocates nothing.
 *
 * Values are kept as two int32 halves (`lo`, `hi`); operations narrower than 64 bits use
 * only `lo`, zero-extended to their size for 8 and 16 bits.
 *
 * The definitions are the SDM's (Vol. 1 §3.4.3.1, "Status Flags", and each instruction's
 * "Flags Affected" in Vol. 2). Where an instruction leaves a flag undefined, the choice made
 * here is stated beside the kind that produces it.
 *
 * @module
 */

import {
  RFLAGS_AF,
  RFLAGS_CF,
  RFLAGS_OF,
  RFLAGS_PF,
  RFLAGS_SF,
  RFLAGS_STATUS,
  RFLAGS_ZF,
} from "./regs.ts";

/** Kinds of flag-producing operation. */
/** The flags are in `LazyFlags.bits` already (no pending computation). */
export const LF_NONE = 0;
/** ADD (and XADD): CF = carry out, OF = signed overflow, AF = carry out of bit 3. */
export const LF_ADD = 1;
/** ADC: as ADD with the carry-in in `aux`. */
export const LF_ADC = 2;
/** SUB, CMP, CMPXCHG, NEG (dst = 0), SCAS, CMPS: CF = borrow. */
export const LF_SUB = 3;
/** SBB: as SUB with the borrow-in in `aux`. */
export const LF_SBB = 4;
/** AND, OR, XOR, TEST: CF = OF = 0; AF is undefined and reads 0 here, as on the host. */
export const LF_LOGIC = 5;
/** INC: as ADD of 1, but CF is preserved (kept in `aux`). */
export const LF_INC = 6;
/** DEC: as SUB of 1, CF preserved (kept in `aux`). */
export const LF_DEC = 7;
/**
 * ZF, SF and PF from the result; CF, OF and AF given explicitly as RFLAGS bits in `aux`
 * (shifts, multiplies, bit scans and anything else that computes them directly).
 */
export const LF_RESULT = 8;

/** Slots of `LazyFlags.v`. */
const RES_LO = 0, RES_HI = 1, DST_LO = 2, DST_HI = 3, SRC_LO = 4, SRC_HI = 5;

/** PARITY[b] = RFLAGS_PF when byte b has an even number of set bits. */
export const PARITY: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) {
    let n = 0;
    for (let k = 0; k < 8; k++) n += (b >> k) & 1;
    t[b] = n % 2 === 0 ? RFLAGS_PF : 0;
  }
  return t;
})();

/** The record of the last flag-writing operation. */
export class LazyFlags {
  /** LF_* kind. */
  op: number = LF_NONE;
  /** Operand size in bytes (1, 2, 4, 8). */
  size = 4;
  /** Carry-in (ADC, SBB), the preserved CF (INC, DEC), or explicit CF|OF|AF (LF_RESULT). */
  aux = 0;
  /** The status flags when `op` = LF_NONE (only RFLAGS_STATUS bits are meaningful). */
  bits = 0;
  /** res lo/hi, dst lo/hi, src lo/hi. */
  readonly v = new Int32Array(6);

  /** Records a 32-bit-or-narrower operation (values zero-extended to `size`, or int32). */
  set(op: number, size: number, res: number, dst: number, src: number): void {
    this.op = op;
    this.size = size;
    const v = this.v;
    v[RES_LO] = res;
    v[DST_LO] = dst;
    v[SRC_LO] = src;
  }

  /** Records a 64-bit operation from its int32 halves. */
  set64(
    op: number,
    resLo: number,
    resHi: number,
    dstLo: number,
    dstHi: number,
    srcLo: number,
    srcHi: number,
  ): void {
    this.op = op;
    this.size = 8;
    const v = this.v;
    v[RES_LO] = resLo;
    v[RES_HI] = resHi;
    v[DST_LO] = dstLo;
    v[DST_HI] = dstHi;
    v[SRC_LO] = srcLo;
    v[SRC_HI] = srcHi;
  }

  /** Records an operation on unsigned bigint values truncated to `size` (the slow paths). */
  setBig(op: number, size: number, res: bigint, dst: bigint, src: bigint): void {
    if (size === 8) {
      this.set64(op, lo(res), hi(res), lo(dst), hi(dst), lo(src), hi(src));
    } else {
      this.set(op, size, lo(res), lo(dst), lo(src));
    }
  }

  /** Records a result whose CF, OF and AF are known (`cfOfAf` as RFLAGS bits). */
  setResult(size: number, resLo: number, resHi: number, cfOfAf: number): void {
    this.op = LF_RESULT;
    this.size = size;
    this.aux = cfOfAf;
    this.v[RES_LO] = resLo;
    this.v[RES_HI] = resHi;
  }

  /** Sets the status flags explicitly (POPF, SAHF, IRET, a materialized state). */
  setBits(bits: number): void {
    this.op = LF_NONE;
    this.bits = bits & RFLAGS_STATUS;
  }

  /** The six status flags as RFLAGS bits. */
  status(): number {
    switch (this.op) {
      case 0 satisfies typeof LF_NONE:
        return this.bits;
      case 8 satisfies typeof LF_RESULT:
        return this.#szp() | this.aux;
      case 5 satisfies typeof LF_LOGIC:
        return this.#szp();
      default:
        return this.#szp() | this.cf() | this.#of() | this.#af();
    }
  }

  /** CF as RFLAGS_CF or 0. */
  cf(): number {
    const v = this.v, size = this.size;
    switch (this.op) {
      case 0 satisfies typeof LF_NONE:
        return this.bits & RFLAGS_CF;
      case 8 satisfies typeof LF_RESULT:
        return this.aux & RFLAGS_CF;
      case 5 satisfies typeof LF_LOGIC:
        return 0;
      case 6 satisfies typeof LF_INC:
      case 7 satisfies typeof LF_DEC:
        return this.aux & RFLAGS_CF;
      case 1 satisfies typeof LF_ADD:
        return ult(v[RES_LO], v[RES_HI], v[DST_LO], v[DST_HI], size) ? RFLAGS_CF : 0;
      case 2 satisfies typeof LF_ADC:
        return (this.aux
            ? !ult(v[DST_LO], v[DST_HI], v[RES_LO], v[RES_HI], size)
            : ult(v[RES_LO], v[RES_HI], v[DST_LO], v[DST_HI], size))
          ? RFLAGS_CF
          : 0;
      case 3 satisfies typeof LF_SUB:
        return ult(v[DST_LO], v[DST_HI], v[SRC_LO], v[SRC_HI], size) ? RFLAGS_CF : 0;
      case 4 satisfies typeof LF_SBB:
        return (this.aux
            ? !ult(v[SRC_LO], v[SRC_HI], v[DST_LO], v[DST_HI], size)
            : ult(v[DST_LO], v[DST_HI], v[SRC_LO], v[SRC_HI], size))
          ? RFLAGS_CF
          : 0;
    }
    return 0;
  }

  /** ZF as a boolean (the commonest question, answered without building RFLAGS). */
  zf(): boolean {
    if (this.op === LF_NONE) return (this.bits & RFLAGS_ZF) !== 0;
    const v = this.v;
    return this.size === 8 ? (v[RES_LO] | v[RES_HI]) === 0 : v[RES_LO] === 0;
  }

  /** SF as a boolean. */
  sf(): boolean {
    if (this.op === LF_NONE) return (this.bits & RFLAGS_SF) !== 0;
    return signOf(this.v[RES_LO], this.v[RES_HI], this.size);
  }

  /** OF as a boolean. */
  of(): boolean {
    return this.#of() !== 0;
  }

  #szp(): number {
    const v = this.v;
    let f = PARITY[v[RES_LO] & 0xff];
    if (this.size === 8 ? (v[RES_LO] | v[RES_HI]) === 0 : v[RES_LO] === 0) f |= RFLAGS_ZF;
    if (signOf(v[RES_LO], v[RES_HI], this.size)) f |= RFLAGS_SF;
    return f;
  }

  #of(): number {
    const v = this.v, size = this.size;
    const w = size === 8 ? 1 : 0;
    const r = v[RES_LO + w], d = v[DST_LO + w], s = v[SRC_LO + w];
    switch (this.op) {
      case 0 satisfies typeof LF_NONE:
        return this.bits & RFLAGS_OF;
      case 8 satisfies typeof LF_RESULT:
        return this.aux & RFLAGS_OF;
      case 5 satisfies typeof LF_LOGIC:
        return 0;
      case 1 satisfies typeof LF_ADD:
      case 2 satisfies typeof LF_ADC:
      case 6 satisfies typeof LF_INC:
        return signOf((d ^ r) & (s ^ r), (d ^ r) & (s ^ r), size) ? RFLAGS_OF : 0;
      case 3 satisfies typeof LF_SUB:
      case 4 satisfies typeof LF_SBB:
      case 7 satisfies typeof LF_DEC:
        return signOf((d ^ s) & (d ^ r), (d ^ s) & (d ^ r), size) ? RFLAGS_OF : 0;
    }
    return 0;
  }

  #af(): number {
    const v = this.v;
    return (v[RES_LO] ^ v[DST_LO] ^ v[SRC_LO]) & RFLAGS_AF;
  }

  /**
   * Evaluates condition code `cc` (the low nibble of Jcc, SETcc and CMOVcc; Vol. 1
   * Appendix B, "EFLAGS Condition Codes").
   */
  cond(cc: number): boolean {
    // The commonest producer is CMP/SUB; answer its conditions from the operands directly.
    if (this.op === LF_SUB && this.size >= 4) {
      const v = this.v;
      switch (cc) {
        case 2:
          return ult(v[DST_LO], v[DST_HI], v[SRC_LO], v[SRC_HI], this.size);
        case 3:
          return !ult(v[DST_LO], v[DST_HI], v[SRC_LO], v[SRC_HI], this.size);
        case 4:
          return this.zf();
        case 5:
          return !this.zf();
        case 6:
          return !ult(v[SRC_LO], v[SRC_HI], v[DST_LO], v[DST_HI], this.size);
        case 7:
          return ult(v[SRC_LO], v[SRC_HI], v[DST_LO], v[DST_HI], this.size);
        case 12:
          return slt(v[DST_LO], v[DST_HI], v[SRC_LO], v[SRC_HI], this.size);
        case 13:
          return !slt(v[DST_LO], v[DST_HI], v[SRC_LO], v[SRC_HI], this.size);
        case 14:
          return !slt(v[SRC_LO], v[SRC_HI], v[DST_LO], v[DST_HI], this.size);
        case 15:
          return slt(v[SRC_LO], v[SRC_HI], v[DST_LO], v[DST_HI], this.size);
      }
    }
    let t: boolean;
    switch (cc >> 1) {
      case 0:
        t = this.of();
        break;
      case 1:
        t = this.cf() !== 0;
        break;
      case 2:
        t = this.zf();
        break;
      case 3:
        t = this.cf() !== 0 || this.zf();
        break;
      case 4:
        t = this.sf();
        break;
      case 5:
        t = (this.status() & RFLAGS_PF) !== 0;
        break;
      case 6:
        t = this.sf() !== this.of();
        break;
      default:
        t = this.zf() || this.sf() !== this.of();
    }
    return (cc & 1) === 0 ? t : !t;
  }
}

/** The sign bit of a value of `size` bytes held as int32 halves. */
function signOf(lo: number, hi: number, size: number): boolean {
  switch (size) {
    case 1:
      return (lo & 0x80) !== 0;
    case 2:
      return (lo & 0x8000) !== 0;
    case 4:
      return lo < 0;
    default:
      return hi < 0;
  }
}

/** Unsigned a < b for values of `size` bytes (8 and 16 bits zero-extended). */
function ult(aLo: number, aHi: number, bLo: number, bHi: number, size: number): boolean {
  if (size === 8 && aHi !== bHi) return aHi >>> 0 < bHi >>> 0;
  return aLo >>> 0 < bLo >>> 0;
}

/** Signed a < b for values of `size` bytes. */
function slt(aLo: number, aHi: number, bLo: number, bHi: number, size: number): boolean {
  switch (size) {
    case 1:
      return (aLo << 24) < (bLo << 24);
    case 2:
      return (aLo << 16) < (bLo << 16);
    case 4:
      return aLo < bLo;
    default:
      return aHi !== bHi ? aHi < bHi : aLo >>> 0 < bLo >>> 0;
  }
}

/** The low 32 bits of a bigint as an int32. */
export function lo(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

/** Bits 63:32 of a bigint as an int32. */
export function hi(v: bigint): number {
  return Number(BigInt.asIntN(32, v >> 32n));
}
