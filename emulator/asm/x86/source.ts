/**
 * Reading NASM source lines (NASM manual §3.1, "Layout of a NASM Source Line"):
 *
 * ```
 * label:    times N   prefix...  instruction  operand, operand   ; comment
 * ```
 *
 * Every field is optional. `;` starts a comment (outside a string), a backslash at the end
 * of a line continues it on the next, the colon after a label may be left out, and a
 * primitive directive may be written in brackets (`[bits 64]`). Operands are split at
 * commas outside strings, brackets and parentheses.
 *
 * The reader knows no mnemonics: the assembler tells it which words are operations (to
 * find a label written without its colon, and where the count of `times` ends).
 *
 * Why not the shared `emulator/asm/statements.ts`: it reads GNU as syntax, where `;`
 * separates statements, `#` starts a comment and `'` opens a one-character constant; in
 * NASM `;` starts a comment and `'hello, world'` is a string whose comma must not split
 * an operand.
 *
 * @module
 */

/** A piece of a line and the 1-based column where it starts. */
export interface Piece {
  /** The text, trimmed. */
  readonly text: string;
  /** Its column in the source line, from 1. */
  readonly col: number;
}

/** One source line, split into its fields. */
export interface NasmLine {
  /** The 1-based line number (of the first physical line, for continued lines). */
  readonly line: number;
  /** The whole line as written (continuations joined), for error messages. */
  readonly source: string;
  /** The label, without its colon. */
  readonly label?: Piece;
  /** The count of a `times` prefix. */
  readonly times?: Piece;
  /** Instruction prefixes (`lock`, `rep`, `o16`, `fs`, ...), in order. */
  readonly prefixes: readonly Piece[];
  /** The instruction, pseudo-instruction or directive. */
  readonly op?: Piece;
  /** The operands, split at top-level commas. */
  readonly operands: readonly Piece[];
}

/** A line that cannot be split: an unterminated string, an unbalanced bracket. */
export class SourceError extends Error {
  /** Builds the error. */
  constructor(message: string, readonly line: number, readonly column: number) {
    super(message);
    this.name = "SourceError";
  }
}

/** What the reader needs to know of the language. */
export interface Vocabulary {
  /** Whether `word` (lower case) is an instruction, pseudo-instruction or directive. */
  isOperation(word: string): boolean;
  /** Whether `word` (lower case) is an instruction prefix. */
  isPrefix(word: string): boolean;
}

const WORD = /^[A-Za-z_.?$@][A-Za-z0-9_$#@~.?]*/;

/**
 * Index just past the quoted string that starts at `text[i]`, or -1 when it never ends.
 * Backquoted strings have backslash escapes; the others are verbatim (§3.4.2).
 */
function skipString(text: string, i: number): number {
  const q = text[i];
  for (let j = i + 1; j < text.length; j++) {
    if (q === "`" && text[j] === "\\") j++;
    else if (text[j] === q) return j + 1;
  }
  return -1;
}

/** Removes the comment of a line; throws for a string that never ends. */
function stripComment(text: string, line: number): string {
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'" || ch === '"' || ch === "`") {
      const end = skipString(text, i);
      if (end < 0) throw new SourceError(`this string has no closing ${ch}`, line, i + 1);
      i = end - 1;
    } else if (ch === ";") {
      return text.slice(0, i);
    }
  }
  return text;
}

/** Splits `text` (starting at column `base`) at commas outside strings and brackets. */
function splitOperands(text: string, base: number, line: number): Piece[] {
  const parts: Piece[] = [];
  let depth = 0, start = 0;
  const push = (end: number) => {
    const raw = text.slice(start, end);
    const lead = raw.length - raw.trimStart().length;
    parts.push({ text: raw.trim(), col: base + start + lead });
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'" || ch === '"' || ch === "`") i = skipString(text, i) - 1;
    else if (ch === "[" || ch === "(") depth++;
    else if (ch === "]" || ch === ")") {
      if (--depth < 0) throw new SourceError(`unbalanced '${ch}'`, line, base + i);
    } else if (ch === "," && depth === 0) {
      push(i);
      start = i + 1;
    }
  }
  if (depth !== 0) throw new SourceError("a '[' or '(' is never closed", line, base + text.length);
  push(text.length);
  return parts;
}

/** A cursor over one line. */
class Cursor {
  pos = 0;
  constructor(readonly text: string) {}
  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }
  /** The word at the cursor (without moving), or undefined. */
  peekWord(): string | undefined {
    return WORD.exec(this.text.slice(this.pos))?.[0];
  }
  get col(): number {
    return this.pos + 1;
  }
  get rest(): string {
    return this.text.slice(this.pos);
  }
  atEnd(): boolean {
    return this.pos >= this.text.length;
  }
}

/**
 * Finds where the count of `times` ends: at the first word, outside strings and
 * parentheses, that is an operation or a prefix. Returns its index in `text`, or -1.
 */
function timesEnd(text: string, vocab: Vocabulary): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'" || ch === '"' || ch === "`") {
      i = skipString(text, i) - 1;
      if (i < 0) return -1;
    } else if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (
      depth === 0 && /[A-Za-z_.?]/.test(ch) && !/[A-Za-z0-9_$#@~.?]/.test(text[i - 1] ?? "")
    ) {
      const w = WORD.exec(text.slice(i))![0];
      if (vocab.isOperation(w.toLowerCase()) || vocab.isPrefix(w.toLowerCase())) return i;
      i += w.length - 1;
    }
  }
  return -1;
}

/** Splits one logical line (comment included) into its fields. */
export function splitLine(text: string, line: number, vocab: Vocabulary): NasmLine {
  const clean = stripComment(text, line).replace(/\s+$/, "");
  const c = new Cursor(clean);
  let label: Piece | undefined, times: Piece | undefined, op: Piece | undefined;
  const prefixes: Piece[] = [];
  c.skipSpace();

  // A primitive directive in brackets: [bits 64], [section .text].
  if (c.rest.startsWith("[") && clean.endsWith("]")) {
    const inner = clean.slice(c.pos + 1, -1);
    const lead = inner.length - inner.trimStart().length;
    const sub = splitLine(" ".repeat(c.pos + 1 + lead) + inner.trim(), line, vocab);
    return { ...sub, source: text };
  }

  // The label: a word followed by a colon, or a word that is no operation.
  const first = c.peekWord();
  if (first !== undefined) {
    const after = clean.slice(c.pos + first.length);
    const lower = first.toLowerCase();
    if (/^\s*:/.test(after) && !/^\s*:\s*\[/.test(after) && !isSegmentWord(lower)) {
      label = { text: first, col: c.col };
      c.pos += first.length + after.indexOf(":") + 1;
    } else if (!vocab.isOperation(lower) && !vocab.isPrefix(lower) && lower !== "times") {
      // A label without its colon is followed by nothing or by an operation; otherwise the
      // word was meant as an instruction.
      const next = WORD.exec(after.trimStart())?.[0]?.toLowerCase();
      if (
        after.trim() &&
        !(next && (vocab.isOperation(next) || vocab.isPrefix(next) || next === "times"))
      ) {
        throw new SourceError(`unknown instruction "${first}"`, line, c.col);
      }
      label = { text: first, col: c.col };
      c.pos += first.length;
    }
  }
  c.skipSpace();

  // times COUNT
  if (c.peekWord()?.toLowerCase() === "times") {
    c.pos += 5;
    const start = c.pos;
    const end = timesEnd(c.rest, vocab);
    if (end < 0) {
      throw new SourceError("times needs an instruction or data after its count", line, c.col);
    }
    const count = clean.slice(start, start + end);
    const lead = count.length - count.trimStart().length;
    times = { text: count.trim(), col: start + 1 + lead };
    c.pos = start + end;
  }

  // Prefixes, then the operation.
  for (;;) {
    c.skipSpace();
    const w = c.peekWord();
    if (w === undefined) break;
    const lower = w.toLowerCase();
    if (vocab.isPrefix(lower) && !vocab.isOperation(lower)) {
      prefixes.push({ text: lower, col: c.col });
      c.pos += w.length;
      continue;
    }
    op = { text: w, col: c.col };
    c.pos += w.length;
    break;
  }
  if (!op && !c.atEnd()) {
    throw new SourceError(`expected an instruction here, found "${c.rest.trim()}"`, line, c.col);
  }
  let operands: Piece[] = [];
  if (op && c.rest.trim()) {
    if (!/^\s/.test(c.rest)) {
      throw new SourceError(
        `"${op.text}${c.rest.split(/\s/)[0]}" is not an instruction`,
        line,
        op.col,
      );
    }
    operands = splitOperands(c.rest, c.col, line);
  }
  return { line, source: text, label, times, prefixes, op, operands };
}

function isSegmentWord(w: string): boolean {
  return ["cs", "ds", "es", "ss", "fs", "gs"].includes(w);
}

/**
 * Splits a whole source text into lines, joining backslash continuations. Empty lines
 * (and comment-only lines) are left out.
 */
export function splitSource(source: string, vocab: Vocabulary): NasmLine[] {
  const out: NasmLine[] = [];
  const physical = source.split(/\r?\n/);
  for (let n = 0; n < physical.length; n++) {
    const first = n;
    let text = physical[n];
    while (/\\\s*$/.test(stripComment(text, n + 1)) && n + 1 < physical.length) {
      text = stripComment(text, n + 1).replace(/\\\s*$/, " ") + physical[++n];
    }
    const split = splitLine(text, first + 1, vocab);
    if (split.label || split.op || split.prefixes.length || split.times) out.push(split);
  }
  return out;
}
