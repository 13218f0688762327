/**
 * Splitting assembler source into statements, the way GNU as reads a line: comments
 * removed (`#` and `//` to the end of the line, `/* ... *\/` anywhere), `;` separating
 * statements, leading `name:` labels, then a mnemonic or directive and its comma-separated
 * operands. Shared by the assemblers of both architectures; it knows no mnemonics.
 *
 * Every piece keeps its 1-based line and column so that errors can point at it.
 *
 * @module
 */

/** A piece of text and the 1-based column where it starts. */
export interface Located {
  /** The text, trimmed. */
  readonly text: string;
  /** Its column in the source line, from 1. */
  readonly col: number;
}

/** One statement: labels, then an operation (instruction, directive or assignment). */
export interface Statement {
  /** The 1-based source line. */
  readonly line: number;
  /** Labels defined before the operation (`1:` numeric local labels included). */
  readonly labels: readonly Located[];
  /** The mnemonic or directive (`addi`, `.word`), absent for a label-only statement. */
  readonly op?: Located;
  /** The operands, split at top-level commas. */
  readonly operands: readonly Located[];
  /** For `name = expr`: the symbol being assigned (then `operands` holds the expression). */
  readonly assign?: Located;
}

/** A syntax error in the statement structure itself (an unterminated string or comment). */
export class StatementError extends Error {
  /** Builds the error. */
  constructor(message: string, readonly line: number, readonly column: number) {
    super(message);
    this.name = "StatementError";
  }
}

const LABEL = /^([A-Za-z_.$][A-Za-z0-9_.$]*|[0-9]+)\s*:/;
const ASSIGN = /^([A-Za-z_.$][A-Za-z0-9_.$]*)\s*=(?!=)/;

/**
 * Replaces comments with spaces (so columns stay right) and returns the lines. Strings and
 * character constants are respected: a `#` inside `"..."` is text.
 */
function stripComments(source: string): string[] {
  const lines = source.split(/\r?\n/);
  let inBlock: { line: number; col: number } | undefined;
  return lines.map((line, n) => {
    const out = [...line];
    let i = 0;
    let quote = false;
    while (i < line.length) {
      if (inBlock) {
        if (line.startsWith("*/", i)) {
          out[i] = out[i + 1] = " ";
          inBlock = undefined;
          i += 2;
        } else {
          out[i++] = " ";
        }
        continue;
      }
      const ch = line[i];
      if (quote) {
        if (ch === "\\") i += 2;
        else {
          if (ch === '"') quote = false;
          i++;
        }
        continue;
      }
      if (ch === '"') {
        quote = true;
        i++;
      } else if (ch === "'") {
        // A character constant ('c' or 'c): skip it so that '#' stays text.
        i += line[i + 1] === "\\" ? 3 : 2;
        if (line[i] === "'") i++;
      } else if (ch === "#" || line.startsWith("//", i)) {
        for (let j = i; j < line.length; j++) out[j] = " ";
        break;
      } else if (line.startsWith("/*", i)) {
        inBlock = { line: n + 1, col: i + 1 };
        out[i] = out[i + 1] = " ";
        i += 2;
      } else {
        i++;
      }
    }
    if (quote) throw new StatementError("this string has no closing quote", n + 1, line.length);
    return out.join("");
  }).map((l, n, all) => {
    if (n === all.length - 1 && inBlock) {
      throw new StatementError("this /* comment is never closed", inBlock.line, inBlock.col);
    }
    return l;
  });
}

/** Splits `text` at top-level occurrences of `sep` (outside strings and parentheses). */
function splitTopLevel(text: string, sep: string, base: number): Located[] {
  const parts: Located[] = [];
  let depth = 0, quote = false, start = 0;
  const push = (end: number) => {
    const raw = text.slice(start, end);
    const lead = raw.length - raw.trimStart().length;
    parts.push({ text: raw.trim(), col: base + start + lead });
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === "\\") i++;
      else if (ch === '"') quote = false;
    } else if (ch === '"') quote = true;
    else if (ch === "'") {
      i += text[i + 1] === "\\" ? 2 : 1;
      if (text[i + 1] === "'") i++;
    } else if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (ch === sep && depth === 0) {
      push(i);
      start = i + 1;
    }
  }
  push(text.length);
  return parts;
}

/** Splits a whole source text into statements, in order. */
export function splitStatements(source: string): Statement[] {
  const out: Statement[] = [];
  stripComments(source).forEach((clean, n) => {
    for (const piece of splitTopLevel(clean, ";", 1)) {
      const st = parseStatement(piece, n + 1);
      if (st) out.push(st);
    }
  });
  return out;
}

function parseStatement(piece: Located, line: number): Statement | undefined {
  let rest = piece.text, col = piece.col;
  const labels: Located[] = [];
  for (;;) {
    const m = LABEL.exec(rest);
    if (!m) break;
    labels.push({ text: m[1], col });
    const skip = m[0].length +
      (rest.slice(m[0].length).length - rest.slice(m[0].length).trimStart().length);
    rest = rest.slice(skip);
    col += skip;
  }
  if (!rest) return labels.length ? { line, labels, operands: [] } : undefined;
  const assign = ASSIGN.exec(rest);
  if (assign) {
    const exprText = rest.slice(assign[0].length);
    const lead = exprText.length - exprText.trimStart().length;
    return {
      line,
      labels,
      assign: { text: assign[1], col },
      operands: [{ text: exprText.trim(), col: col + assign[0].length + lead }],
    };
  }
  const m = /^\S+/.exec(rest)!;
  const op = { text: m[0], col };
  const after = rest.slice(m[0].length);
  const operands = after.trim() ? splitTopLevel(after, ",", col + m[0].length) : [];
  return { line, labels, op, operands };
}
