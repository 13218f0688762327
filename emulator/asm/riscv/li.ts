/**
 * `li rd, constant`: building any 64-bit constant in a register with the instructions
 * GNU as uses, so that our output matches its byte for byte.
 *
 * The strategy:
 *
 * - a value that fits in 12 signed bits is one `addi rd, zero, v` (or `c.li`);
 * - a value that fits in 32 signed bits is `lui rd, upper` then `addiw rd, rd, lower`,
 *   each omitted when it would add zero. `addiw`, not `addi`, because `lui` sign-extends:
 *   for 0x7ffff800 the upper part 0x80000 loads a negative number, and only a 32-bit add
 *   wraps it back to the positive value;
 * - a wider value is split into its sign-extended low 12 bits and the rest; the rest,
 *   shifted right past its trailing zeros (at least 12), is built recursively, shifted
 *   back with `slli`, and the low 12 bits are added with `addi`.
 *
 * At most 8 instructions; with the C extension `slli`, `addi`, `lui` and `addiw rd, rd`
 * are compressed when they fit.
 *
 * @module
 */

/** One instruction of an `li` expansion, in the written form the compressor looks up. */
export interface LiStep {
  /** `li` (the one-instruction form), `lui`, `addiw`, `slli` or `addi`. */
  readonly form: "li" | "lui" | "addiw" | "slli" | "addi";
  /** Operands of the encoder's base instruction (`addi` for the `li` form). */
  readonly ops: readonly number[];
}

/** Sign-extends the low 12 bits of `v`. */
export function signExtend12(v: bigint): bigint {
  return BigInt.asIntN(12, v);
}

function fitsSigned(v: bigint, bits: number): boolean {
  return v >= -(1n << BigInt(bits - 1)) && v < 1n << BigInt(bits - 1);
}

/** The instructions that load the 64-bit value `value` (taken modulo 2^64) into `rd`. */
export function liSteps(rd: number, value: bigint): LiStep[] {
  const v = BigInt.asIntN(64, value);
  if (fitsSigned(v, 12)) return [{ form: "li", ops: [rd, 0, Number(v)] }];
  const steps: LiStep[] = [];
  loadConstant(rd, v, steps);
  return steps;
}

function loadConstant(rd: number, v: bigint, out: LiStep[]): void {
  const lower = signExtend12(v);
  const upper = BigInt.asIntN(64, v - lower);
  if (!fitsSigned(v, 32)) {
    let shift = 12n;
    while (((upper >> shift) & 1n) === 0n) shift++;
    loadConstant(rd, upper >> shift, out);
    out.push({ form: "slli", ops: [rd, rd, Number(shift)] });
    if (lower !== 0n) out.push({ form: "addi", ops: [rd, rd, Number(lower)] });
    return;
  }
  let base = 0;
  if (upper !== 0n) {
    out.push({ form: "lui", ops: [rd, Number((BigInt.asUintN(32, upper) >> 12n) & 0xfffffn)] });
    base = rd;
  }
  if (lower !== 0n || base === 0) out.push({ form: "addiw", ops: [rd, base, Number(lower)] });
}
