/**
 * Integer arithmetic of any operand size on unsigned BigInt values: the ALU group, shifts
 * and rotates, double shifts, multiplies, divides and the bit-scan family, with their
 * flags as SDM Vol. 2 defines them for each instruction ("Flags Affected").
 *
 * These are the general paths of the executor; the fast paths in `exec.ts` handle the
 * commonest 32- and 64-bit forms with int32 arithmetic and must agree with these (the flag
 * vectors test both). Values are unsigned and truncated to the operand size; flags go to a
 * {@link LazyFlags}.
 *
 * Undefined flags: where the SDM leaves a flag undefined, these functions produce what
 * the AMD EPYC host that generated `testdata/flags_vectors.json` produced, when that is a
 * simple rule (noted at each function); the vector test documents which undefined flags
 * it checks.
 *
 * @module
 */

import { hi, type LazyFlags, LF_ADC, LF_ADD, LF_LOGIC, LF_SBB, LF_SUB, lo } from "./flags.ts";
import { RFLAGS_AF, RFLAGS_CF, RFLAGS_OF, RFLAGS_PF, RFLAGS_SF, RFLAGS_ZF } from "./regs.ts";

/** ALU kinds, in the order of the opcode map's ALU block and of group 1 (/0 to /7). */
export const ALU_ADD = 0;
/** OR. */
export const ALU_OR = 1;
/** ADC. */
export const ALU_ADC = 2;
/** SBB. */
export const ALU_SBB = 3;
/** AND. */
export const ALU_AND = 4;
/** SUB. */
export const ALU_SUB = 5;
/** XOR. */
export const ALU_XOR = 6;
/** CMP (SUB that discards the result). */
export const ALU_CMP = 7;

/** Shift and rotate kinds (group 2, /0 to /7). */
export const SH_ROL = 0;
/** ROR. */
export const SH_ROR = 1;
/** RCL. */
export const SH_RCL = 2;
/** RCR. */
export const SH_RCR = 3;
/** SHL. */
export const SH_SHL = 4;
/** SHR. */
export const SH_SHR = 5;
/** SAL (the same operation as SHL; /6 is an alias). */
export const SH_SAL = 6;
/** SAR. */
export const SH_SAR = 7;

/** 2^(8*size) - 1 for sizes 1, 2, 4, 8. */
export function maskOf(size: number): bigint {
  return size === 8
    ? 0xffff_ffff_ffff_ffffn
    : size === 4
    ? 0xffff_ffffn
    : size === 2
    ? 0xffffn
    : 0xffn;
}

/** Sign-extends an unsigned value of `size` bytes to a signed bigint. */
export function signed(v: bigint, size: number): bigint {
  return BigInt.asIntN(size * 8, v);
}

/** The sign bit of a `size`-byte value. */
function msb(v: bigint, size: number): boolean {
  return ((v >> BigInt(size * 8 - 1)) & 1n) === 1n;
}

/** The ALU group: returns the result (CMP's result is discarded by the caller). */
export function alu(kind: number, size: number, a: bigint, b: bigint, lf: LazyFlags): bigint {
  const m = maskOf(size);
  let r: bigint;
  switch (kind) {
    case ALU_ADD:
      r = (a + b) & m;
      lf.setBig(LF_ADD, size, r, a, b);
      return r;
    case ALU_ADC: {
      const c = lf.cf() ? 1 : 0;
      r = (a + b + BigInt(c)) & m;
      lf.setBig(LF_ADC, size, r, a, b);
      lf.aux = c;
      return r;
    }
    case ALU_SBB: {
      const c = lf.cf() ? 1 : 0;
      r = (a - b - BigInt(c)) & m;
      lf.setBig(LF_SBB, size, r, a, b);
      lf.aux = c;
      return r;
    }
    case ALU_SUB:
    case ALU_CMP:
      r = (a - b) & m;
      lf.setBig(LF_SUB, size, r, a, b);
      return r;
    case ALU_OR:
      r = a | b;
      break;
    case ALU_AND:
      r = a & b;
      break;
    default:
      r = a ^ b;
  }
  lf.setBig(LF_LOGIC, size, r, 0n, 0n);
  return r;
}

/** Records a result with explicit CF/OF/AF (RFLAGS bits). */
function result(lf: LazyFlags, size: number, r: bigint, cfOfAf: number): void {
  lf.setResult(size, lo(r), size === 8 ? hi(r) : 0, cfOfAf);
}

/** Replaces CF and OF only (rotates, BT): the other status flags keep their values. */
function setCfOf(lf: LazyFlags, cf: boolean, of: boolean): void {
  const s = lf.status() & ~(RFLAGS_CF | RFLAGS_OF);
  lf.setBits(s | (cf ? RFLAGS_CF : 0) | (of ? RFLAGS_OF : 0));
}

/**
 * Shifts and rotates (SAL/SAR/SHL/SHR, ROL/ROR/RCL/RCR). The count is masked to 5 bits (6
 * for 64-bit operands); a masked count of 0 changes neither the value nor the flags.
 * Undefined flags, as the host produces them: AF = 1 after shifts; OF for counts > 1 by
 * the count-1 formula applied to the result (rotates) or as noted (shifts).
 */
export function shift(
  kind: number,
  size: number,
  a: bigint,
  count: number,
  lf: LazyFlags,
): bigint {
  const bits = size * 8;
  const m = maskOf(size);
  const c = count & (size === 8 ? 0x3f : 0x1f);
  if (c === 0) return a;
  const B = BigInt(bits);
  switch (kind) {
    case SH_ROL: {
      const n = BigInt(c % bits);
      const r = ((a << n) | (a >> (B - n))) & m;
      const cf = (r & 1n) === 1n;
      setCfOf(lf, cf, msb(r, size) !== cf);
      return r;
    }
    case SH_ROR: {
      const n = BigInt(c % bits);
      const r = ((a >> n) | (a << (B - n))) & m;
      setCfOf(lf, msb(r, size), msb(r, size) !== (((r >> (B - 2n)) & 1n) === 1n));
      return r;
    }
    case SH_RCL:
    case SH_RCR: {
      const n = c % (bits + 1);
      const cin = lf.cf() ? 1n : 0n;
      if (n === 0) {
        // The value does not change; CF neither; OF is computed as for a count of 1.
        const of = kind === SH_RCL ? msb(a, size) !== (cin === 1n) : msb(a, size) !==
          (((a >> (B - 2n)) & 1n) === 1n);
        setCfOf(lf, cin === 1n, of);
        return a;
      }
      // Rotate the (bits + 1)-bit quantity CF:a.
      const wide = (cin << B) | a;
      const W = B + 1n;
      const N = BigInt(kind === SH_RCL ? n : bits + 1 - n);
      const rot = ((wide << N) | (wide >> (W - N))) & ((1n << W) - 1n);
      const r = rot & m;
      const cf = (rot >> B) === 1n;
      const of = kind === SH_RCL
        ? msb(r, size) !== cf
        : msb(r, size) !== (((r >> (B - 2n)) & 1n) === 1n);
      setCfOf(lf, cf, of);
      return r;
    }
    case SH_SHL:
    case SH_SAL: {
      const r = c >= bits ? 0n : (a << BigInt(c)) & m;
      const cf = c > bits ? false : ((a >> BigInt(bits - c)) & 1n) === 1n;
      result(lf, size, r, RFLAGS_AF | (cf ? RFLAGS_CF : 0) | (msb(r, size) !== cf ? RFLAGS_OF : 0));
      return r;
    }
    case SH_SHR: {
      const r = c >= bits ? 0n : a >> BigInt(c);
      const cf = c > bits ? false : ((a >> BigInt(c - 1)) & 1n) === 1n;
      // OF = the operand's sign for a count of 1; for larger counts the sign of the value
      // before the last one-bit step, which is 0 unless the count is 1.
      const of = c === 1 ? msb(a, size) : false;
      result(lf, size, r, RFLAGS_AF | (cf ? RFLAGS_CF : 0) | (of ? RFLAGS_OF : 0));
      return r;
    }
    default: {
      const sa = signed(a, size);
      const n = BigInt(Math.min(c, bits - 1));
      const r = (sa >> n) & m;
      const cf = c >= bits ? sa < 0n : ((sa >> BigInt(c - 1)) & 1n) === 1n;
      result(lf, size, r, RFLAGS_AF | (cf ? RFLAGS_CF : 0));
      return r;
    }
  }
}

/**
 * SHLD/SHRD: shifts `a` by `count`, filling from `b`. Count masked to 5 bits (6 for 64-bit);
 * 0 changes nothing. Undefined, as the host produces them: AF = 1; OF = the sign change of
 * the last one-bit step, for any count; a count larger than a 16-bit operand shifts a
 * 48-bit string (below), and OF is then unlike any simple rule (the vector test skips it).
 */
export function doubleShift(
  left: boolean,
  size: number,
  a: bigint,
  b: bigint,
  count: number,
  lf: LazyFlags,
): bigint {
  const bits = size * 8;
  const m = maskOf(size);
  const c = count & (size === 8 ? 0x3f : 0x1f);
  if (c === 0) return a;
  const B = BigInt(bits);
  let r: bigint, cf: boolean;
  if (size === 2 && c > 16) {
    // Undefined: the host shifts the 48-bit strings a:b:b (left) and b:b:a (right).
    const C = BigInt(c);
    if (left) {
      const cat = (a << 32n) | (b << 16n) | b;
      r = (cat >> (32n - C)) & m;
      cf = ((cat >> (48n - C)) & 1n) === 1n;
    } else {
      const cat = (b << 32n) | (b << 16n) | a;
      r = (cat >> C) & m;
      cf = ((cat >> (C - 1n)) & 1n) === 1n;
    }
  } else if (left) {
    const C = BigInt(c);
    r = ((a << C) | (b >> (B - C))) & m;
    cf = ((a >> (B - C)) & 1n) === 1n;
  } else {
    const C = BigInt(c);
    r = ((a >> C) | (b << (B - C))) & m;
    cf = ((a >> (C - 1n)) & 1n) === 1n;
  }
  // OF: the sign change of the last one-bit step (defined by the SDM for a count of 1).
  const of = left ? msb(r, size) !== cf : msb(r, size) !== (((r >> (B - 2n)) & 1n) === 1n);
  result(lf, size, r, RFLAGS_AF | (cf ? RFLAGS_CF : 0) | (of ? RFLAGS_OF : 0));
  return r;
}

/**
 * Unsigned or signed widening multiply: returns [low, high] halves of a*b (each `size`
 * bytes). CF = OF = the high half is significant. SF, ZF, AF and PF are undefined and are
 * left unchanged, as the host does.
 */
export function multiply(
  signedMul: boolean,
  size: number,
  a: bigint,
  b: bigint,
  lf: LazyFlags,
): [bigint, bigint] {
  const m = maskOf(size);
  const bits = BigInt(size * 8);
  const p = signedMul ? signed(a, size) * signed(b, size) : a * b;
  const low = p & m;
  const high = (p >> bits) & m;
  const big = signedMul ? signed(low, size) !== p : high !== 0n;
  const keep = lf.status() & (RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF);
  lf.setBits(keep | (big ? RFLAGS_CF | RFLAGS_OF : 0));
  return [low, high];
}

/**
 * Unsigned or signed divide of the double-width dividend hi:lo by `d`: returns [quotient,
 * remainder], or undefined for #DE (divisor 0 or a quotient that does not fit). Flags are
 * undefined; see {@link divideFlags}.
 */
export function divide(
  signedDiv: boolean,
  size: number,
  hiPart: bigint,
  loPart: bigint,
  d: bigint,
): [bigint, bigint] | undefined {
  const bits = BigInt(size * 8);
  const m = maskOf(size);
  if (d === 0n) return undefined;
  if (!signedDiv) {
    const n = (hiPart << bits) | loPart;
    const q = n / d;
    if (q > m) return undefined;
    return [q, n % d];
  }
  const n = BigInt.asIntN(size * 16, (hiPart << bits) | loPart);
  const sd = signed(d, size);
  const q = n / sd; // BigInt division truncates toward zero, as IDIV does
  const r = n % sd;
  const max = (1n << (bits - 1n)) - 1n;
  if (q > max || q < -max - 1n) return undefined;
  return [q & m, r & m];
}

/**
 * The flags after DIV and IDIV, all undefined by the SDM: the host leaves CF and OF, clears
 * SF, ZF and PF and sets AF, whatever the operands.
 */
export function divideFlags(lf: LazyFlags): void {
  lf.setBits((lf.status() & (RFLAGS_CF | RFLAGS_OF)) | RFLAGS_AF);
}

/**
 * BSF/BSR: index of the lowest/highest set bit. ZF = (source = 0); then the destination is
 * left unchanged (returns undefined), as AMD documents and Intel does. The other flags are
 * undefined and left unchanged, as the host does.
 */
export function bitScan(
  reverse: boolean,
  size: number,
  src: bigint,
  lf: LazyFlags,
): bigint | undefined {
  if (src === 0n) {
    lf.setBits(lf.status() | RFLAGS_ZF);
    return undefined;
  }
  let n = 0;
  if (reverse) {
    n = src.toString(2).length - 1;
  } else {
    while (((src >> BigInt(n)) & 1n) === 0n) n++;
  }
  lf.setBits(lf.status() & ~RFLAGS_ZF);
  void size;
  return BigInt(n);
}

/**
 * TZCNT/LZCNT: the count (the operand size in bits for 0); CF = (src = 0), ZF = (count =
 * 0). SF, AF, PF and OF are undefined: the host clears SF, AF and PF and keeps OF.
 */
export function countZeros(leading: boolean, size: number, src: bigint, lf: LazyFlags): bigint {
  const bits = size * 8;
  let n: number;
  if (src === 0n) n = bits;
  else if (leading) n = bits - src.toString(2).length;
  else {
    n = 0;
    while (((src >> BigInt(n)) & 1n) === 0n) n++;
  }
  const keep = lf.status() & RFLAGS_OF;
  lf.setBits(keep | (src === 0n ? RFLAGS_CF : 0) | (n === 0 ? RFLAGS_ZF : 0));
  return BigInt(n);
}

/** POPCNT: the number of set bits; ZF = (src = 0), the other flags 0. */
export function popcount(src: bigint, lf: LazyFlags): bigint {
  let n = 0;
  for (let v = src; v !== 0n; v &= v - 1n) n++;
  lf.setBits(src === 0n ? RFLAGS_ZF : 0);
  return BigInt(n);
}

/** BT/BTS/BTR/BTC on a value: returns the new value; CF = the bit; other flags unchanged. */
export function bitTest(op: number, value: bigint, bit: number, lf: LazyFlags): bigint {
  const b = 1n << BigInt(bit);
  const set = (value & b) !== 0n;
  setCfOf(lf, set, (lf.status() & RFLAGS_OF) !== 0);
  switch (op) {
    case 1:
      return value | b;
    case 2:
      return value & ~b;
    case 3:
      return value ^ b;
  }
  return value;
}

/** Byte swap of a 32- or 64-bit value (BSWAP with a 16-bit operand is undefined: 0 here). */
export function byteSwap(size: number, v: bigint): bigint {
  if (size === 2) return 0n;
  let r = 0n;
  for (let k = 0; k < size; k++) r = (r << 8n) | ((v >> BigInt(8 * k)) & 0xffn);
  return r;
}
