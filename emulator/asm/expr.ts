/**
 * Assembler expressions in GNU as syntax, as the RISC-V assembler reads them: parsing into
 * a tree, and evaluating a tree with 64-bit two's-complement arithmetic once the symbols
 * have values.
 *
 * The x86-64 assembler reads NASM syntax and has its own module, x86/nasm_expr.ts. The two
 * look alike (a tokenizer, a precedence-climbing parser, an evaluator) but agree on almost
 * nothing a reader could share: the precedence levels (`2 | 1 + 1` is 4 here, 2 in NASM),
 * signed `/` and `%` here against NASM's unsigned ones, number spellings (`052` is octal
 * here and decimal in NASM, which has `2ah`, `101b`, `0o17`), character constants (one
 * character here, up to eight little-endian bytes there), escapes (`\xNN...` takes any
 * number of digits here, two in NASM), `.` against `$` and `$$`, and what else an
 * operand may be (`%hi(...)` and `1b` here, registers inside `[...]` there). Sharing the
 * skeleton would take callbacks for each of these, harder to read than the two loops.
 *
 * Syntax (GNU as manual, "Expressions"):
 *
 * - numbers: `42`, `0x2a`, `0b101010`, `052` (octal), character constants `'a'` or `'\n'`
 * - symbols: `name`, `.L1`, `_start`, `$x`; `.` alone is the location counter
 * - numeric local labels: `1b` (the nearest `1:` before), `1f` (the nearest after)
 * - relocation operators: `%name(expr)`, such as `%hi(sym)` or `%pcrel_lo(1b)`; what they
 *   mean is up to the architecture, which evaluates them through {@link Scope}
 * - unary `-`, `~`, `!`, `+`; binary operators with GNU as's precedence, which is not C's:
 *   `*` `/` `%` `<<` `>>` bind tightest, then `|` `&` `^`, then `+` `-`. So `1 + 2 & 3` is
 *   `1 + (2 & 3)`, and parentheses are the reader's friend. `>>` is a logical shift of the
 *   64-bit pattern, `/` and `%` divide signed numbers, as in GNU as.
 *
 * @module
 */

/** Binary operators, by precedence level. */
const LEVELS: readonly (readonly string[])[] = [
  ["+", "-"],
  ["|", "&", "^"],
  ["*", "/", "%", "<<", ">>"],
];

/** A binary operator. */
export type BinaryOp = "+" | "-" | "|" | "&" | "^" | "*" | "/" | "%" | "<<" | ">>";

/** An expression tree. `col` is the 1-based source column where the node starts. */
export type Expr =
  | { readonly kind: "number"; readonly value: bigint; readonly col: number }
  | { readonly kind: "symbol"; readonly name: string; readonly col: number }
  | { readonly kind: "here"; readonly col: number }
  | {
    readonly kind: "unary";
    readonly op: "-" | "~" | "!" | "+";
    readonly arg: Expr;
    readonly col: number;
  }
  | {
    readonly kind: "binary";
    readonly op: BinaryOp;
    readonly left: Expr;
    readonly right: Expr;
    readonly col: number;
  }
  | { readonly kind: "modifier"; readonly name: string; readonly arg: Expr; readonly col: number };

/** A syntax or evaluation error, with the 1-based column it refers to. */
export class ExprError extends Error {
  /** Builds the error. */
  constructor(message: string, readonly column: number) {
    super(message);
    this.name = "ExprError";
  }
}

/** How the parser resolves numeric local labels (`1b`, `1f`) into symbol names. */
export interface ParseOptions {
  /** Returns the symbol name that `label` + `direction` refers to at this point. */
  localLabel?: (label: string, direction: "b" | "f", col: number) => string;
}

const IDENT_START = /[A-Za-z_.$]/;
const IDENT_PART = /[A-Za-z0-9_.$]/;

/** The escapes GNU as understands in strings and character constants. */
const ESCAPES: Readonly<Record<string, number>> = {
  n: 10,
  t: 9,
  r: 13,
  b: 8,
  f: 12,
  v: 11,
  a: 7,
  e: 27,
  "\\": 92,
  "'": 39,
  '"': 34,
};

/**
 * Reads one escape sequence starting after the backslash at `text[i]`; returns the byte
 * value and the index after it. Octal `\NNN` (up to three digits) and hex `\xNN`.
 */
export function readEscape(text: string, i: number, col: number): { value: number; next: number } {
  const ch = text[i];
  if (ch === undefined) throw new ExprError("a backslash ends the text: escape what?", col);
  if (ch in ESCAPES) return { value: ESCAPES[ch], next: i + 1 };
  if (/[0-7]/.test(ch)) {
    let j = i, v = 0;
    while (j < i + 3 && /[0-7]/.test(text[j] ?? "")) v = v * 8 + Number(text[j++]);
    return { value: v & 0xff, next: j };
  }
  if (ch === "x" || ch === "X") {
    let j = i + 1, v = 0;
    while (/[0-9a-fA-F]/.test(text[j] ?? "")) v = (v * 16 + parseInt(text[j++], 16)) & 0xff;
    if (j === i + 1) throw new ExprError("\\x must be followed by hex digits", col);
    return { value: v, next: j };
  }
  throw new ExprError(
    `unknown escape \\${ch}: use \\n \\t \\r \\0 \\\\ \\" \\' \\xNN or \\NNN (octal)`,
    col,
  );
}

type Token =
  | { t: "num"; value: bigint; col: number }
  | { t: "ident"; name: string; col: number }
  | { t: "local"; label: string; dir: "b" | "f"; col: number }
  | { t: "mod"; name: string; col: number }
  | { t: "op"; op: string; col: number }
  | { t: "end"; col: number };

function tokenize(text: string, base: number): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    const col = base + i;
    if (ch === " " || ch === "\t") {
      i++;
    } else if (/[0-9]/.test(ch)) {
      let j = i;
      while (j < text.length && IDENT_PART.test(text[j])) j++;
      const word = text.slice(i, j);
      const local = /^(\d+)([bfBF])$/.exec(word);
      if (local) {
        out.push({ t: "local", label: local[1], dir: local[2].toLowerCase() as "b" | "f", col });
      } else {
        out.push({ t: "num", value: parseNumber(word, col), col });
      }
      i = j;
    } else if (IDENT_START.test(ch)) {
      let j = i + 1;
      while (j < text.length && IDENT_PART.test(text[j])) j++;
      out.push({ t: "ident", name: text.slice(i, j), col });
      i = j;
    } else if (ch === "%" && /^%[A-Za-z_]\w*\s*\(/.test(text.slice(i))) {
      // %name( is a relocation operator; a lone % is the remainder operator.
      let j = i + 1;
      while (j < text.length && /\w/.test(text[j])) j++;
      out.push({ t: "mod", name: text.slice(i + 1, j).toLowerCase(), col });
      i = j;
    } else if (ch === "'") {
      // 'c' or 'c (GNU as accepts both), with escapes.
      let value: number, next: number;
      if (text[i + 1] === "\\") ({ value, next } = readEscape(text, i + 2, col));
      else if (i + 1 < text.length) [value, next] = [text.charCodeAt(i + 1), i + 2];
      else throw new ExprError("a character constant needs a character after '", col);
      if (text[next] === "'") next++;
      out.push({ t: "num", value: BigInt(value), col });
      i = next;
    } else if (text.startsWith("<<", i) || text.startsWith(">>", i)) {
      out.push({ t: "op", op: text.slice(i, i + 2), col });
      i += 2;
    } else if ("+-*/%|&^~!()".includes(ch)) {
      out.push({ t: "op", op: ch, col });
      i++;
    } else {
      throw new ExprError(`unexpected character '${ch}' in expression`, col);
    }
  }
  out.push({ t: "end", col: base + text.length });
  return out;
}

/** Parses an integer literal: decimal, 0x hex, 0b binary, or 0-prefixed octal. */
function parseNumber(word: string, col: number): bigint {
  const w = word.toLowerCase();
  let ok: boolean;
  if (w.startsWith("0x")) ok = /^0x[0-9a-f]+$/.test(w);
  else if (w.startsWith("0b")) ok = /^0b[01]+$/.test(w);
  else if (w.length > 1 && w.startsWith("0")) ok = /^0[0-7]+$/.test(w);
  else ok = /^[0-9]+$/.test(w);
  if (!ok) {
    throw new ExprError(
      `"${word}" is not a number: write decimal (42), hex (0x2a), binary (0b101) or octal (052)`,
      col,
    );
  }
  const v = w.length > 1 && w.startsWith("0") && !/^0[xb]/.test(w)
    ? BigInt("0o" + w.slice(1))
    : BigInt(w);
  if (v >= 1n << 64n) throw new ExprError(`number ${word} does not fit in 64 bits`, col);
  return BigInt.asIntN(64, v);
}

/**
 * Parses `text` (which starts at source column `column`) as one expression; the whole
 * text must be used. Throws {@link ExprError} naming the column of the problem.
 */
export function parseExpr(text: string, column = 1, options: ParseOptions = {}): Expr {
  const tokens = tokenize(text, column);
  let pos = 0;
  const peek = () => tokens[pos];
  const isOp = (op: string) => {
    const t = tokens[pos];
    return t.t === "op" && t.op === op;
  };

  const primary = (): Expr => {
    const t = tokens[pos++];
    switch (t.t) {
      case "num":
        return { kind: "number", value: t.value, col: t.col };
      case "ident":
        return t.name === "."
          ? { kind: "here", col: t.col }
          : { kind: "symbol", name: t.name, col: t.col };
      case "local": {
        if (!options.localLabel) {
          throw new ExprError(
            `local label reference ${t.label}${t.dir} is not allowed here`,
            t.col,
          );
        }
        return { kind: "symbol", name: options.localLabel(t.label, t.dir, t.col), col: t.col };
      }
      case "mod": {
        if (!isOp("(")) throw new ExprError(`%${t.name} must be followed by (`, t.col);
        pos++;
        const arg = binary(0);
        expect(")", `%${t.name}(`);
        return { kind: "modifier", name: t.name, arg, col: t.col };
      }
      case "op":
        if (t.op === "(") {
          const inner = binary(0);
          expect(")", "(");
          return inner;
        }
        if (t.op === "-" || t.op === "~" || t.op === "!" || t.op === "+") {
          return { kind: "unary", op: t.op, arg: primary(), col: t.col };
        }
        throw new ExprError(`expected a number, symbol or ( but found '${t.op}'`, t.col);
      case "end":
        throw new ExprError("expected an expression but the operand ends here", t.col);
    }
  };

  const expect = (op: string, opened: string) => {
    if (!isOp(op)) {
      throw new ExprError(`expected '${op}' to close '${opened}'`, peek().col);
    }
    pos++;
  };

  const binary = (level: number): Expr => {
    if (level === LEVELS.length) return primary();
    let left = binary(level + 1);
    for (;;) {
      const t = peek();
      if (t.t !== "op" || !LEVELS[level].includes(t.op)) return left;
      pos++;
      const right = binary(level + 1);
      left = { kind: "binary", op: t.op as BinaryOp, left, right, col: t.col };
    }
  };

  const e = binary(0);
  const rest = peek();
  if (rest.t !== "end") {
    throw new ExprError(
      `unexpected text after the expression: "${text.slice(rest.col - column)}"`,
      rest.col,
    );
  }
  return e;
}

/** What evaluation needs from the assembler: symbol values, `.`, and relocation operators. */
export interface Scope {
  /** The value of a symbol; throws ExprError when it has none. */
  symbol(name: string, col: number): bigint;
  /** The location counter `.`. */
  here(col: number): bigint;
  /** Evaluates `%name(arg)`; throws ExprError for an operator the architecture lacks. */
  modifier(name: string, arg: Expr, col: number): bigint;
}

/** Evaluates `e` with 64-bit two's-complement arithmetic (signed results). */
export function evaluate(e: Expr, scope: Scope): bigint {
  switch (e.kind) {
    case "number":
      return e.value;
    case "symbol":
      return scope.symbol(e.name, e.col);
    case "here":
      return scope.here(e.col);
    case "modifier":
      return scope.modifier(e.name, e.arg, e.col);
    case "unary": {
      const v = evaluate(e.arg, scope);
      if (e.op === "-") return BigInt.asIntN(64, -v);
      if (e.op === "~") return BigInt.asIntN(64, ~v);
      if (e.op === "!") return v === 0n ? 1n : 0n;
      return v;
    }
    case "binary": {
      const a = evaluate(e.left, scope), b = evaluate(e.right, scope);
      return BigInt.asIntN(64, binaryOp(e.op, a, b, e.col));
    }
  }
}

function binaryOp(op: BinaryOp, a: bigint, b: bigint, col: number): bigint {
  switch (op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
    case "%":
      if (b === 0n) throw new ExprError(`division by zero`, col);
      return op === "/" ? a / b : a % b;
    case "<<":
      return b < 0n || b > 63n ? 0n : a << b;
    case ">>":
      // GNU as shifts the 64-bit pattern right logically: -5 >> 1 is 0x7ffffffffffffffd.
      return b < 0n || b > 63n ? 0n : BigInt.asUintN(64, a) >> b;
    case "|":
      return a | b;
    case "&":
      return a & b;
    case "^":
      return a ^ b;
  }
}

/** Calls `visit` on every node of `e`, parents first. */
export function walkExpr(e: Expr, visit: (node: Expr) => void): void {
  visit(e);
  if (e.kind === "unary" || e.kind === "modifier") walkExpr(e.arg, visit);
  else if (e.kind === "binary") {
    walkExpr(e.left, visit);
    walkExpr(e.right, visit);
  }
}
