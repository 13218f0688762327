/**
 * Instruction operands in NASM syntax (NASM manual §3.3 "Effective Addresses", §3.7
 * "STRICT", §12.2 "Immediates and Displacements in 64-bit Mode"): reading the text of an
 * operand into a {@link ParsedOperand}, and resolving it, once symbols have values, into
 * the {@link Operand} the encoder takes.
 *
 * ```
 * rax  al  cr3  fs                       registers
 * 42   label + 8   'ab'                  immediates (expressions)
 * byte 1   strict dword 5                immediates with a size (strict: exactly that size)
 * short label   near label               jump targets forced to rel8 or rel32
 * [rax + rcx*8 + 16]                     memory: base + index*scale + displacement
 * qword [rdi]   byte [rel msg]           memory with an operand size
 * [rel label]   [abs label]              RIP-relative or absolute (see `default rel`)
 * [fs: 0x28]    [gs: rax + 8]            segment overrides
 * [byte rax + 4]   [dword rax + 4]       the displacement's size forced
 * [qword 0x1122334455667788]             a 64-bit absolute address (mov with AL/AX/EAX/RAX)
 * [nosplit rax*2]                        keep [rax*2] rather than [rax + rax]
 * ```
 *
 * NASM does algebra on addresses: `[rax*5]` is `[rax + rax*4]`, `[(rax + 1) * 4]` is
 * `[rax*4 + 4]`, and a lone `[rax*2]` becomes `[rax + rax]`, which needs no displacement.
 *
 * @module
 */

import {
  evaluateNasm,
  type NasmExpr,
  NasmExprError,
  type NasmParseOptions,
  type NasmScope,
  parseNasmExpr,
  walkNasm,
} from "./nasm_expr.ts";
import { type Register, register } from "./registers.ts";

/** Operand sizes by keyword, in bytes. */
export const SIZE_KEYWORDS: Readonly<Record<string, number>> = {
  byte: 1,
  word: 2,
  dword: 4,
  qword: 8,
  tword: 10,
  oword: 16,
};

/** The name of a size in bytes, for messages. */
export function sizeName(bytes: number): string {
  return Object.keys(SIZE_KEYWORDS).find((k) => SIZE_KEYWORDS[k] === bytes) ?? `${bytes}-byte`;
}

/** An operand as written, before symbols have values. */
export type ParsedOperand =
  | { readonly kind: "reg"; readonly reg: Register; readonly col: number }
  | {
    readonly kind: "imm";
    readonly expr: NasmExpr;
    /** An explicit size keyword, in bytes. */
    readonly size?: number;
    readonly strict: boolean;
    /** `short` or `near` before a jump target. */
    readonly jump?: "short" | "near";
    readonly col: number;
  }
  | {
    readonly kind: "mem";
    /** The address expression, registers included. */
    readonly expr: NasmExpr;
    /** The operand size (`qword [...]`), in bytes. */
    readonly size?: number;
    /** A segment override. */
    readonly seg?: Register;
    /** `rel` (true), `abs` (false) or neither (the `default` in force decides). */
    readonly rel?: boolean;
    /** `[byte ...]` or `[dword ...]`: the displacement's size; `[qword ...]`: 64-bit absolute. */
    readonly dispSize?: number;
    readonly nosplit: boolean;
    readonly col: number;
  };

/** A register-free sum of terms after the algebra: registers with their scales. */
interface Linear {
  regs: { reg: Register; scale: bigint; col: number }[];
  disp: NasmExpr | undefined;
}

/** An operand the encoder can use: values known. */
export type Operand =
  | { readonly kind: "reg"; readonly reg: Register }
  | {
    readonly kind: "imm";
    readonly value: bigint;
    readonly size?: number;
    readonly strict: boolean;
    /**
     * The value depends on where the program is loaded (a label's address): it must be
     * encoded at full width, as NASM and GNU as do for a relocatable value.
     */
    readonly wide: boolean;
    /** The value depends on labels at all (it may still change from one pass to the next). */
    readonly fromLabels: boolean;
    readonly jump?: "short" | "near";
  }
  | MemOperand;

/** A memory operand with its parts resolved. */
export interface MemOperand {
  /** Memory. */
  readonly kind: "mem";
  /** The operand size in bytes, when the source gave one (`qword [...]`). */
  readonly size?: number;
  /** A segment override (a prefix byte). */
  readonly seg?: Register;
  /** The base register (SIB.base or ModRM.rm). */
  readonly base?: Register;
  /** The index register (SIB.index). */
  readonly index?: Register;
  /** The index's scale (SIB.scale is its log2). */
  readonly scale: 1 | 2 | 4 | 8;
  /** The displacement, or for a RIP-relative operand the target address. */
  readonly disp: bigint;
  /** The displacement is an address (see `wide` of an immediate). */
  readonly wide: boolean;
  /** The displacement depends on labels (see `fromLabels` of an immediate). */
  readonly fromLabels: boolean;
  /** Forced displacement size (1 or 4), or 8 for a 64-bit absolute address (moffs). */
  readonly dispSize?: number;
  /** RIP-relative: `disp` is the target; the encoder subtracts the next instruction's address. */
  readonly rip: boolean;
  /** The address registers are 32-bit (an 0x67 prefix). */
  readonly addr32: boolean;
}

/** An operand that cannot be read or resolved; `column` points at the problem. */
export class OperandError extends Error {
  /** Builds the error. */
  constructor(message: string, readonly column: number) {
    super(message);
    this.name = "OperandError";
  }
}

const SEGMENT_OVERRIDE = /^(cs|ds|es|ss|fs|gs)\s*:/i;

/** Takes leading keywords off `text` while `accept` recognises them. */
function takeKeywords(
  text: string,
  col: number,
  accept: (word: string) => boolean,
): { words: { word: string; col: number }[]; rest: string; col: number } {
  const words: { word: string; col: number }[] = [];
  for (;;) {
    const m = /^([A-Za-z]+)(\s+|(?=[[(\-+~!'"`]))/.exec(text);
    if (!m || !accept(m[1].toLowerCase())) return { words, rest: text, col };
    words.push({ word: m[1].toLowerCase(), col });
    text = text.slice(m[0].length);
    col += m[0].length;
  }
}

/** Reads one operand. `options` resolves local labels in its expressions. */
export function parseOperand(text: string, col: number, options: NasmParseOptions): ParsedOperand {
  if (!text) throw new OperandError("an operand is missing", col);
  const reg = register(text);
  if (reg) return { kind: "reg", reg, col };

  const outer = takeKeywords(
    text,
    col,
    (w) => w in SIZE_KEYWORDS || w === "strict" || w === "short" || w === "near" || w === "far",
  );
  let size: number | undefined, strict = false, jump: "short" | "near" | undefined;
  for (const { word, col: at } of outer.words) {
    if (word === "strict") strict = true;
    else if (word === "short" || word === "near") jump = word;
    else if (word === "far") {
      throw new OperandError("far jumps and calls are not available in 64-bit user code", at);
    } else if (size !== undefined) throw new OperandError(`two sizes given: ${word}`, at);
    else size = SIZE_KEYWORDS[word];
  }
  const rest = outer.rest;
  const restCol = outer.col;
  if (/^ptr\b/i.test(rest)) {
    throw new OperandError(
      `"ptr" is GNU as syntax: NASM writes the size before the brackets, as in qword [rax]`,
      restCol,
    );
  }
  if (SEGMENT_OVERRIDE.test(rest) && rest.includes("[")) {
    throw new OperandError(
      `NASM writes a segment override inside the brackets: [${rest.replace(/\[|\]/g, "")}]`,
      restCol,
    );
  }
  if (rest.startsWith("[")) {
    if (!rest.endsWith("]")) {
      throw new OperandError("a memory operand must end with ']'", restCol + rest.length - 1);
    }
    if (strict || jump) {
      throw new OperandError("strict, short and near apply to immediates, not memory", col);
    }
    return parseMemory(rest.slice(1, -1), restCol + 1, size, options);
  }
  const r = register(rest);
  if (r) {
    throw new OperandError(
      `a size keyword cannot be applied to register ${r.name}: its size is fixed`,
      col,
    );
  }
  return {
    kind: "imm",
    expr: parseExpr(rest, restCol, options),
    size,
    strict,
    jump,
    col,
  };
}

function parseExpr(text: string, col: number, options: NasmParseOptions): NasmExpr {
  try {
    return parseNasmExpr(text, col, options);
  } catch (e) {
    if (e instanceof NasmExprError) throw new OperandError(e.message, e.column);
    throw e;
  }
}

function parseMemory(
  inner: string,
  col: number,
  size: number | undefined,
  options: NasmParseOptions,
): ParsedOperand {
  const lead = inner.length - inner.trimStart().length;
  let text = inner.trim();
  col += lead;
  let rel: boolean | undefined, dispSize: number | undefined, nosplit = false;
  let seg: Register | undefined;
  for (;;) {
    const kw = takeKeywords(
      text,
      col,
      (w) => ["rel", "abs", "nosplit", "byte", "dword", "qword", "word"].includes(w),
    );
    for (const { word, col: at } of kw.words) {
      if (word === "rel") rel = true;
      else if (word === "abs") rel = false;
      else if (word === "nosplit") nosplit = true;
      else if (word === "word") {
        throw new OperandError("16-bit displacements do not exist in 64-bit mode", at);
      } else dispSize = SIZE_KEYWORDS[word];
    }
    text = kw.rest;
    col = kw.col;
    const m = SEGMENT_OVERRIDE.exec(text);
    if (!m) break;
    seg = register(m[1])!;
    const skip = m[0].length +
      (text.slice(m[0].length).length - text.slice(m[0].length).trimStart().length);
    text = text.slice(skip);
    col += skip;
  }
  if (!text) throw new OperandError("the brackets hold no address", col);
  if (/\brip\b/i.test(text)) {
    throw new OperandError(
      "NASM has no rip register in addresses: write [rel label] (or use `default rel`)",
      col + text.toLowerCase().indexOf("rip"),
    );
  }
  const expr = parseExpr(text, col, { ...options, registers: true });
  return { kind: "mem", expr, size, seg, rel, dispSize, nosplit, col };
}

/** What resolving needs from the assembler. */
export interface ResolveScope extends NasmScope {
  /**
   * Evaluates `e` and says whether its value is an address (it changes when the program
   * moves: `wide`) and whether it depends on labels at all (`fromLabels`).
   */
  classify(e: NasmExpr): { value: bigint; wide: boolean; fromLabels: boolean };
  /** Whether `default rel` is in force for this line. */
  readonly defaultRel: boolean;
}

/** Resolves a parsed operand with the symbol values of `scope`. */
export function resolveOperand(op: ParsedOperand, scope: ResolveScope): Operand {
  switch (op.kind) {
    case "reg":
      return { kind: "reg", reg: op.reg };
    case "imm": {
      const c = scope.classify(op.expr);
      return {
        kind: "imm",
        value: c.value,
        size: op.size,
        strict: op.strict,
        wide: c.wide,
        fromLabels: c.fromLabels,
        jump: op.jump,
      };
    }
    case "mem":
      return resolveMemory(op, scope);
  }
}

function resolveMemory(op: ParsedOperand & { kind: "mem" }, scope: ResolveScope): MemOperand {
  const lin = linearize(op.expr, scope);
  // Merge repeated registers: [rax + rax*4] is rax*5.
  const merged: { reg: Register; scale: bigint; col: number }[] = [];
  for (const t of lin.regs) {
    const same = merged.find((m) => m.reg.name === t.reg.name);
    if (same) same.scale += t.scale;
    else merged.push({ ...t });
  }
  const regs = merged.filter((t) => t.scale !== 0n);
  const negative = regs.find((t) => t.scale < 0n);
  if (negative) {
    throw new OperandError(
      `${negative.reg.name} is subtracted: registers can only be added to an address`,
      negative.col,
    );
  }
  for (const t of regs) {
    if (t.reg.cls !== "gpr" || t.reg.size < 4) {
      throw new OperandError(
        t.reg.cls === "gpr" && t.reg.size === 2
          ? `${t.reg.name}: 16-bit addressing does not exist in 64-bit mode`
          : `${t.reg.name} cannot be used in an address`,
        t.col,
      );
    }
  }
  if (regs.length === 2 && regs[0].reg.size !== regs[1].reg.size) {
    throw new OperandError(
      `${regs[0].reg.name} and ${regs[1].reg.name} are of different sizes: ` +
        `an address uses 64-bit (or 32-bit) registers only`,
      regs[1].col,
    );
  }
  let base: Register | undefined, index: Register | undefined, scale = 1n;
  if (regs.length > 2) {
    throw new OperandError("an address has at most two registers (a base and an index)", op.col);
  }
  if (regs.length === 1) {
    const [t] = regs;
    if (t.scale === 1n && !op.nosplit) base = t.reg;
    else if ([3n, 5n, 9n].includes(t.scale) || (t.scale === 2n && !op.nosplit)) {
      // [rax*5] is [rax + rax*4]; [rax*2] is [rax + rax], which needs no displacement.
      base = t.reg;
      index = t.reg;
      scale = t.scale - 1n;
    } else {
      index = t.reg;
      scale = t.scale;
    }
  } else if (regs.length === 2) {
    // The first register scaled by 1 is the base, unless only the other one can be.
    const [a, b] = regs;
    if (a.scale === 1n && !(isSp(a.reg) === false && isSp(b.reg) && b.scale === 1n)) {
      [base, index, scale] = [a.reg, b.reg, b.scale];
    } else if (b.scale === 1n) {
      [base, index, scale] = [b.reg, a.reg, a.scale];
    } else {
      throw new OperandError(
        "only one register of an address can be scaled: write [base + index*scale]",
        b.col,
      );
    }
  }
  if (![1n, 2n, 4n, 8n].includes(scale)) {
    throw new OperandError(`the scale of an index must be 1, 2, 4 or 8, not ${scale}`, op.col);
  }
  if (index && isSp(index)) {
    throw new OperandError(
      `${index.name} cannot be an index register (it can be the base)`,
      op.col,
    );
  }
  const disp = lin.disp ? scope.classify(lin.disp) : { value: 0n, wide: false, fromLabels: false };
  const hasRegs = base !== undefined || index !== undefined;
  const fsgs = op.seg !== undefined && (op.seg.name === "fs" || op.seg.name === "gs");
  const rip = !hasRegs && op.dispSize !== 8 &&
    (op.rel === true || (op.rel === undefined && scope.defaultRel && !fsgs));
  if (op.rel === true && hasRegs) {
    throw new OperandError(
      "a RIP-relative address cannot have base or index registers: [rel label] only",
      op.col,
    );
  }
  if (op.dispSize === 8 && hasRegs) {
    throw new OperandError(
      "[qword ...] is a 64-bit absolute address: it takes no registers",
      op.col,
    );
  }
  if (op.dispSize === 8 && op.rel === undefined && scope.defaultRel && !fsgs) {
    throw new OperandError(
      "[qword ...] under `default rel`: write [abs qword ...] for a 64-bit absolute address",
      op.col,
    );
  }
  return {
    kind: "mem",
    size: op.size,
    seg: op.seg,
    base,
    index,
    scale: Number(scale) as 1 | 2 | 4 | 8,
    disp: disp.value,
    wide: disp.wide,
    fromLabels: disp.fromLabels,
    dispSize: op.dispSize,
    rip,
    addr32: (base ?? index)?.size === 4,
  };
}

function isSp(r: Register): boolean {
  return r.num === 4;
}

/** Splits an address into registers with their scales and a register-free displacement. */
function linearize(e: NasmExpr, scope: ResolveScope): Linear {
  let hasReg = false;
  walkNasm(e, (n) => {
    if (n.kind === "register") hasReg = true;
  });
  if (!hasReg) return { regs: [], disp: e };
  switch (e.kind) {
    case "register":
      return { regs: [{ reg: e.reg, scale: 1n, col: e.col }], disp: undefined };
    case "unary": {
      const inner = linearize(e.arg, scope);
      if (e.op === "+") return inner;
      if (e.op === "-") return scaled(inner, -1n, e.col);
      break;
    }
    case "binary": {
      if (e.op === "+" || e.op === "-") {
        const a = linearize(e.left, scope);
        const b = linearize(e.right, scope);
        const right = e.op === "-" ? scaled(b, -1n, e.col) : b;
        return {
          regs: [...a.regs, ...right.regs],
          disp: sum(a.disp, right.disp, e.col),
        };
      }
      if (e.op === "*") {
        const leftRegs = containsRegister(e.left);
        const factor = leftRegs ? e.right : e.left;
        const lin = linearize(leftRegs ? e.left : e.right, scope);
        if (containsRegister(factor)) {
          throw new OperandError("two registers cannot be multiplied together", e.col);
        }
        return scaled(lin, evaluateConstant(factor, scope), e.col);
      }
      break;
    }
  }
  throw new OperandError(
    "registers in an address can only be added, subtracted or multiplied by a constant",
    e.col,
  );
}

function containsRegister(e: NasmExpr): boolean {
  let found = false;
  walkNasm(e, (n) => {
    if (n.kind === "register") found = true;
  });
  return found;
}

function evaluateConstant(e: NasmExpr, scope: NasmScope): bigint {
  try {
    return evaluateNasm(e, scope);
  } catch (err) {
    if (err instanceof NasmExprError) throw new OperandError(err.message, err.column);
    throw err;
  }
}

function scaled(lin: Linear, k: bigint, col: number): Linear {
  return {
    regs: lin.regs.map((r) => ({ ...r, scale: r.scale * k })),
    disp: lin.disp === undefined ? undefined : k === 1n ? lin.disp : {
      kind: "binary",
      op: "*",
      left: lin.disp,
      right: { kind: "number", value: k, col },
      col,
    },
  };
}

function sum(a: NasmExpr | undefined, b: NasmExpr | undefined, col: number): NasmExpr | undefined {
  if (!a) return b;
  if (!b) return a;
  return { kind: "binary", op: "+", left: a, right: b, col };
}
