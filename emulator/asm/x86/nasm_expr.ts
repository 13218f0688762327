/**
 * NASM expressions (NASM manual §3.4 "Constants" and §3.5 "Expressions"): parsing into a
 * tree, and evaluating a tree with 64-bit two's-complement arithmetic.
 *
 * Why not `emulator/asm/expr.ts` (the RISC-V assembler's): it reads GNU as syntax, whose
 * precedence is not C's (`2 | 1 + 1` is 4 there and 2 in NASM), whose `/` and `%` are
 * signed (NASM's are unsigned: `//` and `%%` are the signed ones), and whose numbers and
 * strings are spelled differently (NASM has `0c8h`, `1100_1000b`, `0o17`, and strings in
 * '...', "..." and `...` with escapes only in backquotes).
 *
 * Syntax, lowest precedence first (§3.5):
 *
 * ```
 * ||   ^^   &&                        boolean or, xor, and (results 0 or 1)
 * = == != <> < <= > >= <=>            signed comparisons
 * |    ^    &                         bitwise
 * << <<< >> >>>                       shifts: >> logical, >>> arithmetic
 * + -
 * * / // % %%                         / and % unsigned, // and %% signed
 * - + ~ !                             unary
 * ```
 *
 * Operands: numbers (`42`, `0x2a`, `2ah`, `0h2a`, `$0f`, `0b101`, `101b`, `0y101`, `0o17`,
 * `17o`, `17q`, `0d42`, `42d`, `0t42`, underscores anywhere after the first digit),
 * character constants (`'ab'` is 0x6261: little-endian, up to 8 bytes), symbols (`name`,
 * `.local`, `$name` for a symbol that looks like a register or keyword), `$` (the start of
 * the current line) and `$$` (the start of the current section), and, inside an effective
 * address only, register names.
 *
 * @module
 */

import { isRegisterName, type Register, register } from "./registers.ts";

/** Binary operators. */
export type NasmBinaryOp =
  | "||"
  | "^^"
  | "&&"
  | "=="
  | "!="
  | "<"
  | "<="
  | ">"
  | ">="
  | "<=>"
  | "|"
  | "^"
  | "&"
  | "<<"
  | ">>"
  | ">>>"
  | "+"
  | "-"
  | "*"
  | "/"
  | "//"
  | "%"
  | "%%";

/** Binary operators by precedence level, lowest first. Aliases are normalised by the lexer. */
const LEVELS: readonly (readonly NasmBinaryOp[])[] = [
  ["||"],
  ["^^"],
  ["&&"],
  ["==", "!=", "<", "<=", ">", ">=", "<=>"],
  ["|"],
  ["^"],
  ["&"],
  ["<<", ">>", ">>>"],
  ["+", "-"],
  ["*", "/", "//", "%", "%%"],
];

/** An expression tree; `col` is the 1-based source column where the node starts. */
export type NasmExpr =
  | { readonly kind: "number"; readonly value: bigint; readonly col: number }
  | { readonly kind: "symbol"; readonly name: string; readonly col: number }
  /** `$`: the address of the start of the line. */
  | { readonly kind: "here"; readonly col: number }
  /** `$$`: the address of the start of the section. */
  | { readonly kind: "start"; readonly col: number }
  /** A register inside an effective address (`[rax + rcx*8]`). */
  | { readonly kind: "register"; readonly reg: Register; readonly col: number }
  | {
    readonly kind: "unary";
    readonly op: "-" | "+" | "~" | "!";
    readonly arg: NasmExpr;
    readonly col: number;
  }
  | {
    readonly kind: "binary";
    readonly op: NasmBinaryOp;
    readonly left: NasmExpr;
    readonly right: NasmExpr;
    readonly col: number;
  };

/** A syntax or evaluation error, with the 1-based column it concerns. */
export class NasmExprError extends Error {
  /** Builds the error. */
  constructor(message: string, readonly column: number) {
    super(message);
    this.name = "NasmExprError";
  }
}

/** How the parser treats names. */
export interface NasmParseOptions {
  /** Turns a local label `.foo` into its full name (`parent.foo`); default: unchanged. */
  qualify?: (name: string, col: number) => string;
  /** Whether register names are operands (inside `[...]`); default false. */
  registers?: boolean;
}

type Token =
  | { t: "num"; value: bigint; col: number }
  | { t: "ident"; name: string; escaped: boolean; col: number }
  | { t: "here"; col: number }
  | { t: "start"; col: number }
  | { t: "op"; op: string; col: number }
  | { t: "end"; col: number };

/** Multi-character operators, longest first, and the spelling each stands for. */
const OPERATORS: readonly [string, string][] = [
  ["<=>", "<=>"],
  ["<<<", "<<"],
  [">>>", ">>>"],
  ["||", "||"],
  ["^^", "^^"],
  ["&&", "&&"],
  ["==", "=="],
  ["!=", "!="],
  ["<>", "!="],
  ["<=", "<="],
  [">=", ">="],
  ["<<", "<<"],
  [">>", ">>"],
  ["//", "//"],
  ["%%", "%%"],
  ["=", "=="],
  ...[..."+-*/%|^&~!<>()"].map((c): [string, string] => [c, c]),
];

/** Characters that may continue an identifier (NASM manual §3.1). */
const IDENT_PART = /[A-Za-z0-9_$#@~.?]/;
/** Characters that may start one: letters, `.`, `_`, `?` (and `$` as an escape prefix). */
const IDENT_START = /[A-Za-z_.?]/;

/** The escapes of backquoted strings (NASM manual §3.4.2). */
const ESCAPES: Readonly<Record<string, number>> = {
  "'": 39,
  '"': 34,
  "`": 96,
  "\\": 92,
  "?": 63,
  a: 7,
  b: 8,
  t: 9,
  n: 10,
  v: 11,
  f: 12,
  r: 13,
  e: 27,
};

/**
 * Reads the quoted string starting at `text[i]` (`'`, `"` or a backquote); returns its bytes
 * and the index after the closing quote. Only backquoted strings have escapes.
 */
export function readString(
  text: string,
  i: number,
  col: number,
): { bytes: number[]; next: number } {
  const quote = text[i];
  const bytes: number[] = [];
  let j = i + 1;
  for (;;) {
    if (j >= text.length) {
      throw new NasmExprError(`this string has no closing ${quote}`, col);
    }
    const ch = text[j];
    if (ch === quote) return { bytes, next: j + 1 };
    if (quote === "`" && ch === "\\") {
      j = readEscape(text, j + 1, col, bytes);
      continue;
    }
    for (const b of new TextEncoder().encode(ch)) bytes.push(b);
    j++;
  }
}

function readEscape(text: string, i: number, col: number, out: number[]): number {
  const ch = text[i];
  if (ch === undefined) throw new NasmExprError("a backslash ends the string: escape what?", col);
  if (ch in ESCAPES) {
    out.push(ESCAPES[ch]);
    return i + 1;
  }
  if (/[0-7]/.test(ch)) {
    let j = i, v = 0;
    while (j < i + 3 && /[0-7]/.test(text[j] ?? "")) v = v * 8 + Number(text[j++]);
    out.push(v & 0xff);
    return j;
  }
  if (ch === "x") {
    let j = i + 1, v = 0;
    while (j < i + 3 && /[0-9a-fA-F]/.test(text[j] ?? "")) v = v * 16 + parseInt(text[j++], 16);
    if (j === i + 1) throw new NasmExprError("\\x must be followed by hex digits", col);
    out.push(v);
    return j;
  }
  if (ch === "u" || ch === "U") {
    const n = ch === "u" ? 4 : 8;
    const digits = text.slice(i + 1, i + 1 + n);
    if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(digits)) {
      throw new NasmExprError(`\\${ch} must be followed by ${n} hex digits`, col);
    }
    out.push(...new TextEncoder().encode(String.fromCodePoint(parseInt(digits, 16))));
    return i + 1 + n;
  }
  throw new NasmExprError(
    `unknown escape \\${ch}: use \\n \\t \\r \\0 \\\\ \\\` \\xNN, \\NNN (octal) or \\uNNNN`,
    col,
  );
}

/**
 * Parses a NASM numeric constant (§3.4.1). Returns undefined when `word` is not one.
 * A plain `0200` is decimal: a leading 0 does not mean octal in NASM.
 */
export function parseNasmNumber(word: string): bigint | undefined {
  const w = word.toLowerCase().replace(/_/g, "");
  let digits: string, base: number;
  let m: RegExpExecArray | null;
  if ((m = /^\$([0-9][0-9a-f]*)$/.exec(w))) [digits, base] = [m[1], 16];
  else if ((m = /^0[xh]([0-9a-f]+)$/.exec(w))) [digits, base] = [m[1], 16];
  else if ((m = /^0[by]([01]+)$/.exec(w))) [digits, base] = [m[1], 2];
  else if ((m = /^0[oq]([0-7]+)$/.exec(w))) [digits, base] = [m[1], 8];
  else if ((m = /^0[dt]([0-9]+)$/.exec(w))) [digits, base] = [m[1], 10];
  else if ((m = /^([0-9][0-9a-f]*)[hx]$/.exec(w))) [digits, base] = [m[1], 16];
  else if ((m = /^([01]+)[by]$/.exec(w))) [digits, base] = [m[1], 2];
  else if ((m = /^([0-7]+)[oq]$/.exec(w))) [digits, base] = [m[1], 8];
  else if ((m = /^([0-9]+)[dt]?$/.exec(w))) [digits, base] = [m[1], 10];
  else return undefined;
  const prefix = { 16: "0x", 2: "0b", 8: "0o", 10: "" }[base as 16 | 2 | 8 | 10];
  return BigInt(prefix + digits);
}

/** Little-endian value of a character constant (§3.4.3): up to 8 bytes. */
function charConstant(bytes: number[], col: number): bigint {
  if (bytes.length > 8) {
    throw new NasmExprError(
      `a character constant holds at most 8 bytes, this one has ${bytes.length}`,
      col,
    );
  }
  let v = 0n;
  for (let k = bytes.length - 1; k >= 0; k--) v = (v << 8n) | BigInt(bytes[k]);
  return v;
}

function tokenize(text: string, base: number): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    const col = base + i;
    if (ch === " " || ch === "\t") {
      i++;
    } else if (/[0-9]/.test(ch) || (ch === "$" && /[0-9]/.test(text[i + 1] ?? ""))) {
      let j = i + 1;
      while (j < text.length && /[0-9A-Za-z_]/.test(text[j])) j++;
      const word = text.slice(i, j);
      const value = parseNasmNumber(word);
      if (value === undefined) {
        throw new NasmExprError(
          `"${word}" is not a number: write 42, 0x2a (or 2ah), 0b101 (or 101b) or 0o17 ` +
            `(or 17q)`,
          col,
        );
      }
      if (value >= 1n << 64n) {
        throw new NasmExprError(`number ${word} does not fit in 64 bits`, col);
      }
      out.push({ t: "num", value: BigInt.asIntN(64, value), col });
      i = j;
    } else if (ch === "$" && text[i + 1] === "$") {
      out.push({ t: "start", col });
      i += 2;
    } else if (ch === "$" && IDENT_START.test(text[i + 1] ?? "")) {
      // $name: a symbol even if it is spelled like a register or keyword (§3.1).
      let j = i + 2;
      while (j < text.length && IDENT_PART.test(text[j])) j++;
      out.push({ t: "ident", name: text.slice(i + 1, j), escaped: true, col });
      i = j;
    } else if (ch === "$") {
      out.push({ t: "here", col });
      i++;
    } else if (IDENT_START.test(ch)) {
      let j = i + 1;
      while (j < text.length && IDENT_PART.test(text[j])) j++;
      out.push({ t: "ident", name: text.slice(i, j), escaped: false, col });
      i = j;
    } else if (ch === "'" || ch === '"' || ch === "`") {
      const s = readString(text, i, col);
      out.push({ t: "num", value: BigInt.asIntN(64, charConstant(s.bytes, col)), col });
      i = s.next;
    } else {
      const op = OPERATORS.find(([spelling]) => text.startsWith(spelling, i));
      if (!op) throw new NasmExprError(`unexpected character '${ch}' in expression`, col);
      out.push({ t: "op", op: op[1], col });
      i += op[0].length;
    }
  }
  out.push({ t: "end", col: base + text.length });
  return out;
}

/**
 * Parses `text` (which starts at source column `column`) as one expression; the whole text
 * must be used. Throws {@link NasmExprError} naming the column of the problem.
 */
export function parseNasmExpr(
  text: string,
  column = 1,
  options: NasmParseOptions = {},
): NasmExpr {
  const tokens = tokenize(text, column);
  let pos = 0;
  const peek = () => tokens[pos];
  const isOp = (op: string) => {
    const t = tokens[pos];
    return t.t === "op" && t.op === op;
  };

  const primary = (): NasmExpr => {
    const t = tokens[pos++];
    switch (t.t) {
      case "num":
        return { kind: "number", value: t.value, col: t.col };
      case "here":
        return { kind: "here", col: t.col };
      case "start":
        return { kind: "start", col: t.col };
      case "ident": {
        if (!t.escaped && isRegisterName(t.name)) {
          if (!options.registers) {
            throw new NasmExprError(
              `register ${t.name} cannot be used in an expression here ` +
                `(registers go inside [...] in a memory operand)`,
              t.col,
            );
          }
          return { kind: "register", reg: register(t.name)!, col: t.col };
        }
        const name = t.name.startsWith(".") && !t.name.startsWith("..") && options.qualify
          ? options.qualify(t.name, t.col)
          : t.name;
        return { kind: "symbol", name, col: t.col };
      }
      case "op":
        if (t.op === "(") {
          const inner = binary(0);
          if (!isOp(")")) throw new NasmExprError("expected ')' to close '('", peek().col);
          pos++;
          return inner;
        }
        if (t.op === "-" || t.op === "+" || t.op === "~" || t.op === "!") {
          return { kind: "unary", op: t.op, arg: primary(), col: t.col };
        }
        throw new NasmExprError(`expected a number, symbol or ( but found '${t.op}'`, t.col);
      case "end":
        throw new NasmExprError("expected an expression but the operand ends here", t.col);
    }
  };

  const binary = (level: number): NasmExpr => {
    if (level === LEVELS.length) return primary();
    let left = binary(level + 1);
    for (;;) {
      const t = peek();
      if (t.t !== "op" || !(LEVELS[level] as readonly string[]).includes(t.op)) return left;
      pos++;
      const right = binary(level + 1);
      left = { kind: "binary", op: t.op as NasmBinaryOp, left, right, col: t.col };
    }
  };

  const e = binary(0);
  const rest = peek();
  if (rest.t !== "end") {
    throw new NasmExprError(
      `unexpected text after the expression: "${text.slice(rest.col - column)}"`,
      rest.col,
    );
  }
  return e;
}

/** What evaluation needs from the assembler. */
export interface NasmScope {
  /** The value of a symbol; throws NasmExprError when it has none. */
  symbol(name: string, col: number): bigint;
  /** `$`. */
  here(col: number): bigint;
  /** `$$`. */
  sectionStart(col: number): bigint;
}

/** Evaluates `e` with 64-bit two's-complement arithmetic; results are signed. */
export function evaluateNasm(e: NasmExpr, scope: NasmScope): bigint {
  switch (e.kind) {
    case "number":
      return e.value;
    case "symbol":
      return scope.symbol(e.name, e.col);
    case "here":
      return scope.here(e.col);
    case "start":
      return scope.sectionStart(e.col);
    case "register":
      throw new NasmExprError(
        `register ${e.reg.name} can only be added to an address, scaled by 1, 2, 4 or 8`,
        e.col,
      );
    case "unary": {
      const v = evaluateNasm(e.arg, scope);
      if (e.op === "-") return BigInt.asIntN(64, -v);
      if (e.op === "~") return BigInt.asIntN(64, ~v);
      if (e.op === "!") return v === 0n ? 1n : 0n;
      return v;
    }
    case "binary":
      return BigInt.asIntN(
        64,
        binaryOp(e.op, evaluateNasm(e.left, scope), evaluateNasm(e.right, scope), e.col),
      );
  }
}

const bool = (b: boolean) => (b ? 1n : 0n);

function binaryOp(op: NasmBinaryOp, a: bigint, b: bigint, col: number): bigint {
  const ua = BigInt.asUintN(64, a), ub = BigInt.asUintN(64, b);
  switch (op) {
    case "||":
      return bool(a !== 0n || b !== 0n);
    case "^^":
      return bool((a !== 0n) !== (b !== 0n));
    case "&&":
      return bool(a !== 0n && b !== 0n);
    case "==":
      return bool(a === b);
    case "!=":
      return bool(a !== b);
    case "<":
      return bool(a < b);
    case "<=":
      return bool(a <= b);
    case ">":
      return bool(a > b);
    case ">=":
      return bool(a >= b);
    case "<=>":
      return a < b ? -1n : a > b ? 1n : 0n;
    case "|":
      return a | b;
    case "^":
      return a ^ b;
    case "&":
      return a & b;
    case "<<":
      return ub > 63n ? 0n : a << ub;
    case ">>":
      return ub > 63n ? 0n : ua >> ub;
    case ">>>":
      return a >> (ub > 63n ? 63n : ub);
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
    case "%":
    case "//":
    case "%%":
      if (b === 0n) throw new NasmExprError("division by zero", col);
      if (op === "/") return ua / ub;
      if (op === "%") return ua % ub;
      return op === "//" ? a / b : a % b;
  }
}

/** Calls `visit` on every node of `e`, parents first. */
export function walkNasm(e: NasmExpr, visit: (node: NasmExpr) => void): void {
  visit(e);
  if (e.kind === "unary") walkNasm(e.arg, visit);
  else if (e.kind === "binary") {
    walkNasm(e.left, visit);
    walkNasm(e.right, visit);
  }
}
