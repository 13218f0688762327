/**
 * The harness both assemblers' vector tests share (riscv/asm_vectors_test.ts,
 * x86/asm_vectors_test.ts): a case file was assembled by GNU as into a vector file beside
 * it, one line per case (`LINE<TAB>HEX<TAB>SOURCE`, `#` comments), and our assembler must
 * produce the same bytes for every case line.
 *
 * How the bytes of each case are found: every case line gets a label `vcase_LINE` in
 * front of it and the file a `vcase_end` at its end; a case's bytes run from its label to
 * the next one. So whatever the lines in between assemble to (labels, alignment, `times`)
 * counts towards the case before them, exactly as regenerate.sh and regenerate.ts ask
 * GNU as.
 *
 * @module
 */

import type { AsmResult } from "./image.ts";

/** What {@link compareWithVectors} found. */
export interface VectorComparison {
  /** How many cases the vector file holds (for the caller to check it read enough). */
  readonly cases: number;
  /**
   * Undefined when every case matched; else what is wrong: the vector file is stale (it
   * is not that of the case file: regenerate it after editing a case), or which cases our
   * assembler gets wrong (the first 20, with GNU as's bytes and ours).
   */
  readonly problem: string | undefined;
}

/**
 * Compares our assembler's bytes for each case of `source` (the case file; `name` is the
 * vector file's name, for messages) with `vectors` (the vector file's text).
 * `isCase` is the generator's rule for which lines are cases; `assemble` assembles the
 * labelled case file at the origin the vectors were linked at.
 */
export function compareWithVectors(
  name: string,
  source: string,
  vectors: string,
  isCase: (line: string) => boolean,
  assemble: (source: string) => AsmResult,
): VectorComparison {
  const rows = vectors.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t"));
  const lines = source.split("\n");
  const cases = lines.map((l, i) => (isCase(l) ? i + 1 : 0)).filter(Boolean);
  const result = (problem: string | undefined) => ({ cases: rows.length, problem });
  if (rows.map(([line]) => Number(line)).join() !== cases.join()) return result(`${name} is stale`);
  for (const [line, , text] of rows) {
    if (lines[Number(line) - 1].trim() !== text) return result(`${name} is stale at line ${line}`);
  }
  const ours = caseBytes(assemble(label(lines, isCase)));
  const failures: string[] = [];
  for (const [line, hex, text] of rows) {
    const got = ours.get(Number(line));
    if (got !== hex) failures.push(`line ${line}: ${text}\n    GNU as: ${hex}\n    ours:   ${got}`);
  }
  return result(
    failures.length
      ? `${failures.length} mismatches:\n${failures.slice(0, 20).join("\n")}`
      : undefined,
  );
}
/** The case file with `vcase_LINE:` before each case and `vcase_end:` at the end. */
function label(lines: readonly string[], isCase: (line: string) => boolean): string {
  return lines.map((l, i) => (isCase(l) ? `vcase_${i + 1}:\n${l}` : l)).join("\n") +
    "\nvcase_end:\n";
}

/** Each case's bytes in hex, by its line number, from the `vcase_` labels' addresses. */
function caseBytes(out: AsmResult): Map<number, string> {
  const marks = [...out.symbols].filter(([n]) => n.startsWith("vcase_"))
    .map(([n, a]) => ({ n: n === "vcase_end" ? Infinity : Number(n.slice(6)), a }))
    .sort((x, y) => x.a - y.a || x.n - y.n);
  const ours = new Map<number, string>();
  marks.forEach((m, i) => {
    if (i + 1 === marks.length) return;
    const bytes = out.bytes.subarray(m.a - out.origin, marks[i + 1].a - out.origin);
    ours.set(m.n, [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(""));
  });
  return ours;
}
