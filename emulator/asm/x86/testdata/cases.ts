/**
 * The rules shared by regenerate.ts (which asks GNU as for the bytes of each case) and
 * asm_vectors_test.ts (which asks our assembler): which lines of a case file are cases,
 * and how a NASM line is spelled for GNU as in Intel syntax.
 *
 * A case is a line that, without its comment, is an instruction or a `db` (not a label, a
 * directive or a `times` line; the bytes of those count towards the case before them).
 *
 * The translation is purely a matter of spelling, never of meaning: `qword [x]` becomes
 * `qword ptr [x]`, `[rel x]` becomes `[rip + x]`, `[fs: x]` becomes `fs:[x]`, `times N
 * nop` becomes `.fill N, 1, 0x90`, `db` becomes `.byte` or `.ascii`. Lines where NASM and
 * GNU as choose different encodings on purpose (NASM's `mov rax, 1` is `mov eax, 1`,
 * `int 3` is `CD 03`, `[rax*2]` is `[rax + rax]`) are not vectors: assembler_test.ts checks
 * them against the NASM manual.
 *
 * @module
 */

/** Directives that are not cases. */
const NOT_CASES = /^(bits|default|section|segment|global|align|times|org)\b/i;

/** Whether `line` is a case (see the module comment). */
export function isCase(line: string): boolean {
  const s = line.replace(/;.*$/, "").trim();
  if (!s || /^[A-Za-z_.][\w.]*:$/.test(s)) return false;
  return !NOT_CASES.test(s);
}

/** Spells the NASM line `line` for GNU as (`.intel_syntax noprefix`). */
export function toGas(line: string): string {
  let s = line.replace(/;.*$/, "").trim();
  if (!s) return "";
  let m: RegExpExecArray | null;
  if ((m = /^bits\s+64$/i.exec(s))) return ".code64";
  if ((m = /^section\s+(\S+)/i.exec(s))) return `.section ${m[1]}`;
  if ((m = /^global\s+(\S+)/i.exec(s))) return `.globl ${m[1]}`;
  if ((m = /^times\s+(\d+)\s+nop$/i.exec(s))) return `.fill ${m[1]}, 1, 0x90`;
  if ((m = /^times\s+(\d+)\s+db\s+(\S+)$/i.exec(s))) return `.fill ${m[1]}, 1, ${m[2]}`;
  if ((m = /^db\s+(.*)$/i.exec(s))) {
    return m[1].split(/,(?=(?:[^"']*["'][^"']*["'])*[^"']*$)/).map((part) => {
      const p = part.trim();
      return /^["']/.test(p) ? `.ascii "${p.slice(1, -1)}"` : `.byte ${p}`;
    }).join("; ");
  }
  if ((m = /^(dw|dd|dq)\s+(.*)$/i.exec(s))) {
    return `.${{ dw: "2byte", dd: "4byte", dq: "8byte" }[m[1].toLowerCase()]} ${m[2]}`;
  }
  // A 64-bit absolute address: GNU as spells it movabs with a ds: address.
  if (/\[\s*qword\s/i.test(s) || /^movabs\b.*\[/i.test(s)) {
    s = s.replace(/^mov\b/i, "movabs").replace(/\[\s*(?:qword\s+)?([^\]]+)\]/, "ds:$1");
  }
  s = s.replace(/\b(byte|word|dword|qword|tword|oword)\s+\[/gi, "$1 ptr [");
  s = s.replace(/\[\s*rel\s+/gi, "[rip + ");
  s = s.replace(/\[\s*abs\s+/gi, "[");
  s = s.replace(/\[\s*(cs|ds|es|ss|fs|gs)\s*:\s*/gi, "$1:[");
  s = s.replace(/\b(jmp|j[a-z]+|call)\s+short\s+/gi, "$1 ");
  s = s.replace(/^retfq\b/i, "lretq").replace(/^retn\b/i, "ret").replace(/^icebp\b/i, "int1");
  return s;
}
