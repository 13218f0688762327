/**
 * The x86-64 instruction encoder: an instruction with resolved operands in, its bytes
 * out (SDM Vol. 2 Chapter 2, "Instruction Format"):
 *
 * ```
 * [seg] [67] [66] [F2/F3] [F0] [REX] opcode [ModRM] [SIB] [displacement] [immediate]
 * ```
 *
 * The legacy prefixes come in the order GNU as writes them (segment, address size,
 * operand size, repeat or mandatory prefix, lock); the CPU accepts any order.
 *
 * - REX (§2.2.1): `0100WRXB`. W selects 64-bit operands; R, X and B extend ModRM.reg,
 *   SIB.index and ModRM.rm (or SIB.base, or the register in the opcode) to reach r8-r15. A
 *   REX prefix with no bits set is still needed for SPL, BPL, SIL and DIL, and forbids
 *   AH, CH, DH and BH.
 * - ModRM (§2.1.5, Table 2-2): `mod reg rm`. mod 11 names a register; otherwise memory,
 *   with rm 100 announcing a SIB byte and mod 00 rm 101 meaning RIP + disp32 in 64-bit
 *   mode (§2.2.1.6).
 * - SIB (Table 2-3): `scale index base`. index 100 means none (so RSP is never an index);
 *   base 101 with mod 00 means no base, disp32 (so RBP and R13 as a base need a zero
 *   disp8).
 *
 * The encoder tries every form of the mnemonic (forms.ts) that the operands fit, and keeps
 * the shortest encoding.
 *
 * @module
 */

import { CONDITIONS, type Form, FORMS, type ImmToken, type Pattern } from "./forms.ts";
import { type MemOperand, type Operand, sizeName } from "./operands.ts";
import type { Register } from "./registers.ts";

/** An instruction the encoder cannot encode, with the reason in words. */
export class EncodeError extends Error {
  /** Builds the error; `operand` is the index of the operand at fault, if one is. */
  constructor(message: string, readonly operand?: number) {
    super(message);
    this.name = "EncodeError";
  }
}

/** An instruction to encode. */
export interface Instruction {
  /** The mnemonic, lower case. */
  readonly mnemonic: string;
  /** Prefix words before it, lower case: `lock`, `rep`, `o16`, `fs`, ... */
  readonly prefixes: readonly string[];
  /** The operands, resolved. */
  readonly operands: readonly Operand[];
}

/** Where and how to encode. */
export interface EncodeOptions {
  /** Address of the instruction's first byte (for jumps and RIP-relative operands). */
  readonly address: number;
  /**
   * The layout is final: every value is right, and a value that does not fit its field
   * is an error. Before that, values that come from labels may still move, and a jump
   * that does not reach with 8 bits takes 32.
   */
  readonly final: boolean;
  /**
   * Take the long form wherever a value comes from labels (the assembler sets this when
   * the instruction would otherwise shrink between passes, so that layout converges).
   */
  readonly long: boolean;
}

/** Instruction prefixes and their bytes (SDM Vol. 2 §2.1.1); o32 and a64 are no-ops. */
export const PREFIX_BYTES: Readonly<Record<string, number>> = {
  lock: 0xf0,
  rep: 0xf3,
  repe: 0xf3,
  repz: 0xf3,
  repne: 0xf2,
  repnz: 0xf2,
  es: 0x26,
  cs: 0x2e,
  ss: 0x36,
  ds: 0x3e,
  fs: 0x64,
  gs: 0x65,
  o16: 0x66,
  a32: 0x67,
  o32: 0,
  o64: 0x48,
  a64: 0,
};

/** Whether `word` (lower case) is an instruction mnemonic. */
export function isMnemonic(word: string): boolean {
  return FORMS.has(word);
}

/** Whether `word` (lower case) is an instruction prefix. */
export function isPrefix(word: string): boolean {
  return word in PREFIX_BYTES;
}

const SEGMENT_PREFIX: Readonly<Record<string, number>> = {
  es: 0x26,
  cs: 0x2e,
  ss: 0x36,
  ds: 0x3e,
  fs: 0x64,
  gs: 0x65,
};

/** Control registers that exist (SDM Vol. 3 §2.5). */
const VALID_CR = new Set([0, 2, 3, 4, 8]);

const fitsSigned = (v: bigint, bits: number) =>
  v >= -(1n << BigInt(bits - 1)) && v < 1n << BigInt(bits - 1);
/** Fits `bits` as either a signed or an unsigned number (NASM accepts both for a field). */
const fitsEither = (v: bigint, bits: number) =>
  v >= -(1n << BigInt(bits - 1)) && v < 1n << BigInt(bits);

/** Encodes `insn` at `options.address`. Throws {@link EncodeError} with the reason. */
export function encodeInstruction(insn: Instruction, options: EncodeOptions): Uint8Array {
  const forms = FORMS.get(insn.mnemonic);
  if (!forms) throw new EncodeError(`unknown instruction "${insn.mnemonic}"`);
  let ops = insn.operands;
  // imul r, imm is imul r, r, imm (the SDM lists "IMUL r32, imm8" as that form).
  if (
    insn.mnemonic === "imul" && ops.length === 2 && ops[0].kind === "reg" &&
    ops[1].kind === "imm"
  ) {
    ops = [ops[0], ops[0], ops[1]];
  }
  for (const p of insn.prefixes) {
    if (!(p in PREFIX_BYTES)) throw new EncodeError(`unknown prefix "${p}"`);
  }
  // movabs (GNU as's name) takes a plain [address] as a 64-bit absolute one.
  if (insn.mnemonic === "movabs") {
    ops = ops.map((op) =>
      op.kind === "mem" && !op.base && !op.index ? { ...op, dispSize: 8, rip: false } : op
    );
  }

  const candidates = forms.filter((f) =>
    f.operands.length === ops.length && matches(f, ops, options)
  );
  if (!candidates.length) throw explain(insn.mnemonic, forms, ops, options);
  const chosen = widestForAddresses(resolveAmbiguity(insn.mnemonic, candidates, ops), ops, options);

  let best: Uint8Array | undefined;
  let firstError: unknown;
  for (const form of chosen) {
    try {
      const bytes = build(form, ops, insn.prefixes, options);
      if (!best || bytes.length < best.length) best = bytes;
    } catch (e) {
      if (!(e instanceof EncodeError)) throw e;
      firstError ??= e;
    }
  }
  if (!best && !options.final) {
    // Before the layout is final, a jump that only has an 8-bit form (loop, jrcxz) may be
    // out of reach of a placeholder address: give it its size and judge it later.
    for (const form of chosen) {
      try {
        return build(form, ops, insn.prefixes, options, true);
      } catch (e) {
        if (!(e instanceof EncodeError)) throw e;
      }
    }
  }
  if (!best) throw firstError;
  return best;
}

/** Encodes prefixes that stand alone on a line (`rep`, `lock`): NASM emits just their bytes. */
export function encodePrefixes(prefixes: readonly string[]): Uint8Array {
  return new Uint8Array(
    prefixes.map((p) => {
      if (!(p in PREFIX_BYTES)) throw new EncodeError(`unknown prefix "${p}"`);
      return PREFIX_BYTES[p];
    }).filter((b) => b !== 0),
  );
}

// ---- matching -------------------------------------------------------------------------------

/** The size in bytes a pattern gives a memory operand, or undefined (`m`: any). */
function patternMemSize(p: Pattern): number | undefined {
  const m = /^r?m(\d+)$/.exec(p);
  return m ? Number(m[1]) / 8 : undefined;
}

/** The immediate field size in bytes of pattern `p` in `form`. */
function immFieldSize(p: Pattern, form: Form): number {
  switch (p) {
    case "imm8":
    case "simm8":
      return 1;
    case "imm16":
      return 2;
    case "immz":
      return form.size === 16 ? 2 : 4;
    case "immv":
      return form.size / 8;
    case "uimm32":
      return 4;
    case "imm64":
      return 8;
    default:
      return 0;
  }
}

/** The operation's size in bytes for value checks: the form's size, else 1 for byte forms. */
function operationBytes(form: Form): number {
  if (form.size) return form.size / 8;
  return form.operands.some((p) => p === "rm8" || p === "r8" || p === "al") ? 1 : 8;
}

function matches(
  form: Form,
  ops: readonly Operand[],
  o: EncodeOptions,
  ignoreRange = false,
): boolean {
  if (form.notnop && form.size === 32 && ops.every((op) => op.kind === "reg" && op.reg.num === 0)) {
    return false;
  }
  return form.operands.every((p, k) => matchOperand(p, ops[k], form, o, ignoreRange));
}

function matchOperand(
  p: Pattern,
  op: Operand,
  form: Form,
  o: EncodeOptions,
  ignoreRange: boolean,
): boolean {
  switch (p) {
    case "r8":
    case "r16":
    case "r32":
    case "r64":
      return op.kind === "reg" && op.reg.cls === "gpr" && op.reg.size * 8 === Number(p.slice(1));
    case "rm8":
    case "rm16":
    case "rm32":
    case "rm64":
      if (op.kind === "reg") {
        return op.reg.cls === "gpr" && op.reg.size * 8 === Number(p.slice(2));
      }
      return op.kind === "mem" && op.dispSize !== 8 &&
        (op.size === undefined || op.size === patternMemSize(p));
    case "m":
      return op.kind === "mem" && op.dispSize !== 8;
    case "m8":
    case "m16":
    case "m32":
    case "m64":
    case "m128":
      return op.kind === "mem" && op.dispSize !== 8 &&
        (op.size === undefined || op.size === patternMemSize(p));
    case "moffs":
      return op.kind === "mem" && op.dispSize === 8 &&
        (op.size === undefined || form.size === 0 || op.size === form.size / 8);
    case "al":
    case "ax":
    case "eax":
    case "rax":
    case "cl":
    case "dx":
    case "fs":
    case "gs":
      return op.kind === "reg" && op.reg.name === p;
    case "sreg":
      return op.kind === "reg" && op.reg.cls === "seg";
    case "cr":
      return op.kind === "reg" && op.reg.cls === "cr";
    case "dr":
      return op.kind === "reg" && op.reg.cls === "dr";
    case "rel8":
      return op.kind === "imm" && op.jump !== "near" &&
        (op.jump === "short" || !(o.long && op.fromLabels));
    case "rel32":
      return op.kind === "imm" && op.jump !== "short";
    case "one":
      return op.kind === "imm" && !op.jump && op.value === 1n && !op.fromLabels && !op.strict &&
        op.size === undefined;
    default:
      return op.kind === "imm" && !op.jump && matchImmediate(p, op, form, o, ignoreRange);
  }
}

function matchImmediate(
  p: Pattern,
  op: Operand & { kind: "imm" },
  form: Form,
  o: EncodeOptions,
  ignoreRange: boolean,
): boolean {
  const field = immFieldSize(p, form);
  const moving = op.wide || (o.long && op.fromLabels);
  // The optimised short forms are for values known now, as in NASM and GNU as.
  if ((p === "simm8" || p === "uimm32") && moving) return false;
  if (p === "uimm32" && (op.strict || (op.size !== undefined && op.size !== 4 && op.size !== 8))) {
    return false;
  }
  if (op.size !== undefined && (op.strict || op.wide) && field !== op.size) return false;
  // Before the layout is final, a value from labels may be a placeholder: do not judge it.
  if (ignoreRange || (op.fromLabels && !o.final && p !== "simm8")) return true;
  return immediateFits(p, op.value, form);
}

function immediateFits(p: Pattern, v: bigint, form: Form): boolean {
  const opBits = operationBytes(form) * 8;
  switch (p) {
    case "imm8":
      return fitsEither(v, 8);
    case "imm16":
      return fitsEither(v, 16);
    case "simm8":
      // The value as the operation sees it (add ax, 0xffff adds -1), sign-extended from 8 bits.
      return fitsEither(v, opBits) && fitsSigned(BigInt.asIntN(opBits, v), 8);
    case "immz":
      return opBits === 64 ? fitsSigned(v, 32) : fitsEither(v, opBits);
    case "immv":
      return opBits === 64 ? true : fitsEither(v, opBits);
    case "uimm32":
      return v >= 0n && v < 1n << 32n;
    case "imm64":
      return true;
    default:
      return false;
  }
}

/**
 * When a memory operand has no size and the matching forms disagree on it, the
 * instruction is ambiguous (`inc [rax]`): NASM's "operation size not specified". Push,
 * pop and indirect jumps default to 64 bits.
 */
function resolveAmbiguity(mnemonic: string, forms: Form[], ops: readonly Operand[]): Form[] {
  const k = ops.findIndex((op) => op.kind === "mem" && op.size === undefined);
  if (k < 0) return forms;
  const sizes = new Set(forms.map((f) => patternMemSize(f.operands[k]) ?? 0));
  if (sizes.size <= 1) return forms;
  const d64 = forms.filter((f) => f.d64 && f.size === 64);
  if (d64.length) return d64;
  throw new EncodeError(
    `operation size not specified: write byte, word, dword or qword before the brackets ` +
      `(${mnemonic} [...] could be any of ${[...sizes].map(sizeName).join(", ")})`,
    k,
  );
}

/**
 * An address (a label's value) with no size given takes the widest immediate field the
 * forms offer, as NASM does: `mov rax, label` is the 10-byte form with a 64-bit immediate
 * (NASM manual §12.2), not the 7-byte one that would sign-extend 32 bits.
 */
function widestForAddresses(forms: Form[], ops: readonly Operand[], o: EncodeOptions): Form[] {
  const k = ops.findIndex((op) =>
    op.kind === "imm" && !op.jump && op.size === undefined && (op.wide || (o.long && op.fromLabels))
  );
  if (k < 0) return forms;
  const widest = Math.max(...forms.map((f) => immFieldSize(f.operands[k], f)));
  return forms.filter((f) => immFieldSize(f.operands[k], f) === widest);
}

/** Builds the error for operands that match no form, saying as precisely as it can why. */
function explain(
  mnemonic: string,
  forms: readonly Form[],
  ops: readonly Operand[],
  o: EncodeOptions,
): EncodeError {
  const counts = [...new Set(forms.map((f) => f.operands.length))].sort();
  if (!counts.includes(ops.length)) {
    const want = counts.map((n) => (n === 0 ? "no" : String(n))).join(" or ");
    return new EncodeError(
      `${mnemonic} takes ${want} operand${counts.length === 1 && counts[0] === 1 ? "" : "s"}, ` +
        `not ${ops.length}`,
    );
  }
  const same = forms.filter((f) => f.operands.length === ops.length);
  // A value out of range: the operands fit a form once values are not judged.
  const loose = same.filter((f) => matches(f, ops, o, true));
  if (loose.length) {
    const k = loose[0].operands.findIndex((p, i) =>
      ops[i].kind === "imm" && !matchOperand(p, ops[i], loose[0], o, false)
    );
    const op = ops[k] as Operand & { kind: "imm" };
    const bits = Math.max(...loose.map((f) => immFieldSize(f.operands[k], f) * 8));
    return new EncodeError(
      `value ${op.value} (${hex(op.value)}) does not fit in the ${bits}-bit immediate of ` +
        mnemonic +
        (bits === 32 && operationBytes(loose[0]) === 8
          ? " (64-bit operations take a sign-extended 32-bit immediate: load it with mov first)"
          : ""),
      k,
    );
  }
  // push, pop, call and jmp through a register or memory have no 32-bit form in 64-bit mode.
  if (same.some((f) => f.d64) && !same.some((f) => f.size === 32)) {
    const k = ops.findIndex((op) =>
      (op.kind === "reg" && op.reg.cls === "gpr" && op.reg.size === 4) ||
      (op.kind === "mem" && op.size === 4)
    );
    if (k >= 0) {
      return new EncodeError(
        `${mnemonic} cannot take a 32-bit operand in 64-bit mode: use the 64-bit register ` +
          `(or qword memory)`,
        k,
      );
    }
  }
  const sizes = new Set(
    ops.flatMap((op) =>
      op.kind === "reg" && op.reg.cls === "gpr"
        ? [op.reg.size]
        : op.kind === "mem" && op.size
        ? [op.size]
        : []
    ),
  );
  if (sizes.size > 1) return new EncodeError("operand sizes do not match");
  const k = ops.findIndex((op) => op.kind === "mem" && op.size === undefined);
  if (k >= 0 && ops.every((op) => op.kind !== "reg")) {
    return new EncodeError(
      "operation size not specified: write byte, word, dword or qword before the brackets",
      k,
    );
  }
  return new EncodeError(`invalid combination of operands for ${mnemonic}`);
}

const hex = (v: bigint) => (v < 0n ? "-0x" + (-v).toString(16) : "0x" + v.toString(16));

// ---- building -------------------------------------------------------------------------------

/** Index of the operand in ModRM.rm, or -1. */
function rmIndex(form: Form): number {
  const k = form.operands.findIndex((p) => /^r?m/.test(p) && p !== "moffs");
  if (k >= 0) return k;
  // A register-only form (mov r64, cr0; str ax): the general register is in ModRM.rm.
  return form.operands.findIndex((p) => /^r\d+$/.test(p));
}

/** Index of the operand in ModRM.reg for `/r` forms. */
function regIndex(form: Form, rm: number): number {
  const special = form.operands.findIndex((p) => p === "sreg" || p === "cr" || p === "dr");
  if (special >= 0) return special;
  return form.operands.findIndex((p, k) =>
    k !== rm && (/^r\d+$/.test(p) || ["al", "ax", "eax", "rax", "cl", "dx"].includes(p))
  );
}

/** Index of the operand whose number is added to the opcode (`+r`). */
function plusIndex(form: Form): number {
  return form.operands.findIndex((p) => /^r\d+$/.test(p));
}

function regAt(ops: readonly Operand[], k: number): Register {
  return (ops[k] as Operand & { kind: "reg" }).reg;
}

function build(
  form: Form,
  ops: readonly Operand[],
  prefixWords: readonly string[],
  o: EncodeOptions,
  provisional = false,
): Uint8Array {
  const rmK = form.modrm !== undefined ? rmIndex(form) : -1;
  const regK = form.modrm === "r" ? regIndex(form, rmK) : -1;
  const plusK = form.plusReg ? plusIndex(form) : -1;
  const mem = ops.find((op): op is MemOperand => op.kind === "mem");
  const rmOp = rmK >= 0 ? ops[rmK] : undefined;
  const regOp = regK >= 0 ? regAt(ops, regK) : undefined;

  // REX (SDM Vol. 2 §2.2.1.2).
  const w = form.rexW || (form.size === 64 && !form.d64 && !form.noosz) ||
    prefixWords.includes("o64");
  let r = 0, x = 0, b = 0;
  if (regOp) {
    checkExists(regOp, regK);
    r = regOp.num >> 3;
    // MOV Sreg, r/m (8E) with CS is #UD (SDM Vol. 2, MOV): CS is loaded by far transfers only.
    if (form.opcode[0] === 0x8e && regOp.name === "cs") {
      throw new EncodeError("cs cannot be loaded with mov: a far jump or return loads it", regK);
    }
  }
  if (rmOp?.kind === "reg") {
    checkExists(rmOp.reg, rmK);
    b = rmOp.reg.num >> 3;
  } else if (rmOp?.kind === "mem") {
    if (rmOp.base) b = rmOp.base.num >> 3;
    if (rmOp.index) x = rmOp.index.num >> 3;
  }
  if (plusK >= 0) b = regAt(ops, plusK).num >> 3;
  const regs = ops.flatMap((op) => (op.kind === "reg" ? [op.reg] : []));
  const rexNeeded = w || r || x || b || regs.some((g) => g.needsRex);
  const high = regs.find((g) => g.highByte);
  if (rexNeeded && high) {
    throw new EncodeError(
      `${high.name} cannot be used in an instruction that needs a REX prefix ` +
        `(64-bit operands, r8-r15, spl, bpl, sil or dil)`,
      ops.findIndex((op) => op.kind === "reg" && op.reg === high),
    );
  }

  // Legacy prefixes, in GNU as's order.
  const out: number[] = [];
  for (const p of prefixWords) if (p in SEGMENT_PREFIX) out.push(SEGMENT_PREFIX[p]);
  if (mem?.seg) out.push(SEGMENT_PREFIX[mem.seg.name]);
  if (form.a32 || mem?.addr32 || prefixWords.includes("a32")) out.push(0x67);
  if (
    (form.size === 16 && !form.noosz) || form.o16 || form.mandatory === 0x66 ||
    prefixWords.includes("o16")
  ) {
    out.push(0x66);
  }
  for (const p of prefixWords) if (p.startsWith("rep")) out.push(PREFIX_BYTES[p]);
  if (form.mandatory === 0xf2 || form.mandatory === 0xf3) out.push(form.mandatory);
  if (prefixWords.includes("lock")) out.push(0xf0);
  if (rexNeeded) out.push(0x40 | (w ? 8 : 0) | (r << 2) | (x << 1) | b);

  // Opcode.
  const opcode = [...form.opcode];
  if (plusK >= 0) opcode[opcode.length - 1] += regAt(ops, plusK).num & 7;
  out.push(...opcode);

  // ModRM, SIB, displacement.
  let ripAt = -1;
  if (form.modrm !== undefined) {
    const regField = form.modrm === "r" ? (regOp?.num ?? 0) & 7 : form.modrm;
    if (rmOp?.kind === "reg") out.push(0xc0 | (regField << 3) | (rmOp.reg.num & 7));
    else if (rmOp?.kind === "mem") {
      const bytes = encodeMemory(rmOp, regField, o, rmK);
      out.push(...bytes);
      if (rmOp.rip) ripAt = out.length - 4;
    } else throw new EncodeError("internal error: a ModRM form without an r/m operand");
  }

  // Immediates and 64-bit absolute addresses, in operand order.
  const fields = ops.filter((_, k) =>
    /^(imm|simm|uimm)/.test(form.operands[k]) || form.operands[k] === "moffs"
  );
  form.imms.forEach((t, k) => {
    const op = fields[k];
    pushLE(out, op.kind === "imm" ? op.value : op.kind === "mem" ? op.disp : 0n, immBytes(t, form));
  });

  // Jump displacement, relative to the next instruction.
  if (form.rel) {
    const target = ops.find((op) => op.kind === "imm") as Operand & { kind: "imm" };
    const disp = BigInt.asIntN(64, target.value - BigInt(o.address + out.length + form.rel));
    if (!fitsSigned(disp, form.rel * 8) && !(provisional && target.fromLabels)) {
      if (form.rel === 1) {
        throw new EncodeError(
          `the target is ${disp} bytes away: a short jump reaches -128 to 127 bytes` +
            (target.jump === "short"
              ? " (remove `short` to let the assembler use a near jump)"
              : ""),
        );
      }
      if (o.final || !target.fromLabels) {
        throw new EncodeError(`the target is ${disp} bytes away, beyond the 2 GiB a jump reaches`);
      }
    }
    pushLE(out, disp, form.rel);
  }

  // RIP-relative displacement, now that the instruction's length is known.
  if (ripAt >= 0) {
    const m = rmOp as MemOperand;
    const disp = BigInt.asIntN(64, m.disp - BigInt(o.address + out.length));
    if (!fitsSigned(disp, 32) && (o.final || !m.fromLabels)) {
      throw new EncodeError(
        `the RIP-relative target is ${disp} bytes away, beyond the 2 GiB it reaches`,
        rmK,
      );
    }
    le(disp, 4).forEach((byte, k) => (out[ripAt + k] = byte));
  }
  return new Uint8Array(out);
}

/** Refuses control and debug registers that do not exist. */
function checkExists(reg: Register, k: number): void {
  if (reg.cls === "cr" && !VALID_CR.has(reg.num)) {
    throw new EncodeError(
      `${reg.name} does not exist: the control registers are cr0, cr2, cr3, cr4 and cr8`,
      k,
    );
  }
  if (reg.cls === "dr" && reg.num > 7) {
    throw new EncodeError(`${reg.name} does not exist: the debug registers are dr0 to dr7`, k);
  }
}

function immBytes(t: ImmToken, form: Form): number {
  switch (t) {
    case "ib":
      return 1;
    case "iw":
      return 2;
    case "id":
      return 4;
    case "iq":
      return 8;
    case "iz":
      return form.size === 16 ? 2 : 4;
    case "iv":
      return form.size / 8;
  }
}

function pushLE(out: number[], v: bigint, n: number): void {
  let u = BigInt.asUintN(n * 8, v);
  for (let k = 0; k < n; k++) {
    out.push(Number(u & 0xffn));
    u >>= 8n;
  }
}

function le(v: bigint, n: number): number[] {
  const out: number[] = [];
  pushLE(out, v, n);
  return out;
}

/**
 * ModRM (and SIB and displacement) for a memory operand with `regField` in ModRM.reg.
 * For a RIP-relative operand the displacement is left as zeros for the caller to fill.
 */
function encodeMemory(m: MemOperand, regField: number, o: EncodeOptions, k: number): number[] {
  const reg = regField << 3;
  if (m.rip) return [reg | 5, 0, 0, 0, 0];
  const judge = o.final || !m.fromLabels;
  const fits = m.addr32 ? fitsEither(m.disp, 32) : fitsSigned(m.disp, 32);
  if (!m.base && !m.index) {
    // Absolute: SIB with no base and no index, disp32 (a plain disp32 would be RIP-relative).
    if (judge && !fits) {
      throw new EncodeError(
        `absolute address ${hex(m.disp)} does not fit in a sign-extended 32-bit ` +
          `displacement: use [rel ...], a register, or [qword ...] with mov and rax`,
        k,
      );
    }
    return [reg | 4, 0x25, ...le(m.disp, 4)];
  }
  if (judge && !fits) {
    throw new EncodeError(`displacement ${hex(m.disp)} does not fit in 32 bits`, k);
  }
  // Displacement size: none, 8 or 32 bits (a forced size wins; a moving value takes 32).
  let dispBytes: number;
  if (m.dispSize === 1) {
    if (judge && !fitsSigned(m.disp, 8)) {
      throw new EncodeError(`displacement ${hex(m.disp)} does not fit in the byte asked for`, k);
    }
    dispBytes = 1;
  } else if (m.dispSize === 4 || m.wide || (o.long && m.fromLabels)) dispBytes = 4;
  else if (m.disp === 0n && !(m.base && (m.base.num & 7) === 5)) dispBytes = 0;
  else if (fitsSigned(m.disp, 8)) dispBytes = 1;
  else dispBytes = 4;

  if (!m.base) {
    // SIB with base 101 and mod 00: no base, disp32.
    const scaleBits = Math.log2(m.scale);
    return [reg | 4, (scaleBits << 6) | ((m.index!.num & 7) << 3) | 5, ...le(m.disp, 4)];
  }
  const mod = dispBytes === 0 ? 0 : dispBytes === 1 ? 1 : 2;
  const bytes: number[] = [];
  if (!m.index && (m.base.num & 7) !== 4) {
    bytes.push((mod << 6) | reg | (m.base.num & 7));
  } else {
    // A SIB byte: there is an index, or the base is RSP/R12 (rm 100 means "SIB follows").
    const indexBits = m.index ? m.index.num & 7 : 4;
    bytes.push(
      (mod << 6) | reg | 4,
      (Math.log2(m.scale) << 6) | (indexBits << 3) | (m.base.num & 7),
    );
  }
  bytes.push(...le(m.disp, dispBytes));
  return bytes;
}

/** Every mnemonic the encoder knows, sorted (for documentation and tests). */
export function mnemonics(): string[] {
  return [...FORMS.keys()].sort();
}

/** The condition-code suffixes (`e`, `ne`, `l`, ...), for documentation. */
export const CONDITION_NAMES: readonly string[] = Object.keys(CONDITIONS);
