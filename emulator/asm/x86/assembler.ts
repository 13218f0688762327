/**
 * The x86-64 assembler: NASM source in, a flat memory image out.
 *
 * `assembleX86(source)` reads the source into items (instructions, data, reservations,
 * alignment) in four sections, lays the sections out from `origin` in the order .text,
 * .rodata, .data, .bss, and encodes. It reads the NASM language students meet in kernel
 * code such as anos's (NASM manual chapters 3 and 7):
 *
 * - labels, with or without a colon; local labels `.loop`, which belong to the last
 *   label that does not start with a dot (`main.loop`); `name equ expr`;
 * - `bits 64` (or `[bits 64]`, `use64`), `default rel` / `default abs`, `section` (or
 *   `segment`) `.text`, `.rodata`, `.data`, `.bss`, `global`, `org`, `cpu` (ignored);
 * - `db dw dd dq` with numbers, expressions, strings and (dd, dq) floating-point
 *   constants; `resb resw resd resq`; `times N ...` before any instruction or datum;
 *   `align N` (padding with `nop` as NASM's macro does; zeros in .bss) and `alignb N`;
 * - `$` (the start of the line) and `$$` (the start of its section) in expressions.
 *
 * Not read: the preprocessor (`%define`, `%macro`, `%include`), `struc`, `incbin`,
 * `extern` (a flat image has no linker), floating-point and vector instructions.
 *
 * ## Layout
 *
 * An instruction's length can depend on where its operands' labels are (a jump reaches
 * its target with 8 bits or needs 32), so the assembler iterates: each pass lays out every
 * item with the symbol values known so far (a label not yet seen counts as "here", which
 * picks the short forms), until a pass changes no size; a last pass encodes for good and
 * reports values that do not fit. An instruction never shrinks from one pass to the next
 * (once it would, it keeps its long forms), so the passes end; counts of `times` and
 * `align` may shrink, as they must to pad to a fixed offset.
 *
 * Values that are addresses (a label, not a difference of labels) are encoded at full
 * width, as NASM and GNU as do for relocatable values: `mov rax, label` is the 10-byte
 * form and `add rax, label` takes a 32-bit immediate even when the label's address is
 * small. Values known outright take the shortest form (`mov rax, 1` is `mov eax, 1`).
 *
 * @module
 */

import {
  AsmError,
  type AsmResult,
  type AsmSection,
  assembledImage,
  SECTION_ORDER,
  type SectionName,
} from "../image.ts";
import { EncodeError, encodeInstruction, encodePrefixes, isMnemonic, isPrefix } from "./encode.ts";
import {
  evaluateNasm,
  type NasmExpr,
  NasmExprError,
  type NasmScope,
  parseNasmExpr,
  readString,
  walkNasm,
} from "./nasm_expr.ts";
import {
  type Operand,
  OperandError,
  type ParsedOperand,
  parseOperand,
  resolveOperand,
  type ResolveScope,
} from "./operands.ts";
import { type NasmLine, type Piece, SourceError, splitSource } from "./source.ts";

export type { SectionName } from "../image.ts";

/** Where the image starts when no origin is given: where GNU ld puts x86-64 programs' code. */
export const DEFAULT_ORIGIN = 0x401000;

/** Sections start 16-byte aligned (the System V ABI's alignment of the stack and of long double). */
const SECTION_MIN_ALIGN = 16;

/** How to assemble. */
export interface X86AsmOptions {
  /** Address of the first byte of .text (default {@link DEFAULT_ORIGIN}; `org` in the source also sets it). */
  origin?: number;
  /** Align the start of .data to this (the ELF writer asks for a page); default 16. */
  dataAlign?: number;
}

/** One output section of the image (the same for both assemblers: image.ts). */
export type X86AsmSection = AsmSection;

/** What {@link assembleX86} produces: the same shape as the RISC-V assembler's result. */
export type X86AsmResult = AsmResult;

/** An error in the source, with the line and column it concerns (see {@link AsmError}). */
export class X86AsmError extends AsmError {
  /** Builds the error; `message` is "line L, column C: reason" plus the source line. */
  constructor(line: number, column: number, reason: string, sourceLine = "") {
    super(line, column, reason, sourceLine);
    this.name = "X86AsmError";
  }
}

// ---- items ----------------------------------------------------------------------------------

interface ItemBase {
  /** The source line (for errors and the line table). */
  src: NasmLine;
  /** `times` count, if any. */
  times?: { expr: NasmExpr; col: number };
  /** Offset in the section and size, as of the latest pass. */
  offset: number;
  size: number;
}
interface LabelItem extends ItemBase {
  kind: "label";
  name: string;
  /** The last pass that reached it (-1: none yet, and its value is a placeholder). */
  pass: number;
}
interface InsnItem extends ItemBase {
  kind: "insn";
  mnemonic: string;
  prefixes: string[];
  operands: ParsedOperand[];
  defaultRel: boolean;
  /** Take the long forms from now on (see the module comment). */
  long: boolean;
  /** Its bytes depend on its address: a jump, RIP-relative, or `$`. */
  positional: boolean;
  /** The encoding of the latest pass. */
  bytes: Uint8Array;
}
type DataPart =
  | { kind: "bytes"; bytes: Uint8Array }
  | { kind: "expr"; expr: NasmExpr; col: number }
  | { kind: "float"; value: number; col: number };
interface DataItem extends ItemBase {
  kind: "data";
  width: 1 | 2 | 4 | 8;
  directive: string;
  parts: DataPart[];
}
interface ReserveItem extends ItemBase {
  kind: "reserve";
  width: number;
  count: { expr: NasmExpr; col: number };
}
interface AlignItem extends ItemBase {
  kind: "align";
  align: { expr: NasmExpr; col: number };
  /** The fill byte, or undefined for NASM's default (nop in code and data, zero in .bss). */
  fill: number | undefined;
  zero: boolean;
}
type Item = LabelItem | InsnItem | DataItem | ReserveItem | AlignItem;

interface Section {
  name: SectionName;
  items: Item[];
  align: number;
  address: number;
  size: number;
  /** Its address in the pass before, and the last pass that laid it out. */
  prevAddress: number;
  pass: number;
}

interface Equate {
  expr: NasmExpr;
  /** The item that marks where it was defined (for `$`), and its section. */
  at: LabelItem;
  section: Section;
  src: NasmLine;
  col: number;
  busy: boolean;
}

/** The most layout passes before the assembler gives up. */
const MAX_PASSES = 60;

/** Widths of the data directives (NASM manual §3.2.1). */
const DATA_WIDTHS: Record<string, 1 | 2 | 4 | 8> = { db: 1, dw: 2, dd: 4, dq: 8 };
/** Widths of the reservation directives (§3.2.2). */
const RESERVE_WIDTHS: Record<string, number> = {
  resb: 1,
  resw: 2,
  resd: 4,
  resq: 8,
  rest: 10,
  reso: 16,
};
/** Directives and pseudo-instructions (everything that is not a machine instruction). */
const DIRECTIVES = new Set([
  ...Object.keys(DATA_WIDTHS),
  ...Object.keys(RESERVE_WIDTHS),
  "equ",
  "bits",
  "use64",
  "use32",
  "use16",
  "default",
  "section",
  "segment",
  "global",
  "extern",
  "common",
  "static",
  "org",
  "align",
  "alignb",
  "cpu",
  "incbin",
  "struc",
  "endstruc",
  "istruc",
  "absolute",
  "dt",
  "do",
  "dy",
  "dz",
]);

const VOCABULARY = {
  isOperation: (w: string) => isMnemonic(w) || DIRECTIVES.has(w),
  isPrefix: (w: string) => isPrefix(w),
};

/** The distance by which addresses are moved to tell an address from a constant. */
const PROBE_SHIFT = 1n << 36n;

// ---- the assembler --------------------------------------------------------------------------

/** Assembles NASM `source` into a flat image. Throws {@link X86AsmError} for errors. */
export function assembleX86(source: string, options: X86AsmOptions = {}): X86AsmResult {
  return new Assembler(source, options).run();
}

class Assembler {
  readonly sections = new Map<SectionName, Section>(
    SECTION_ORDER.map((name) => [name, {
      name,
      items: [],
      align: SECTION_MIN_ALIGN,
      address: 0,
      size: 0,
      prevAddress: 0,
      pass: -1,
    }]),
  );
  readonly labels = new Map<string, { item: LabelItem; section: Section }>();
  readonly equates = new Map<string, Equate>();
  readonly globals = new Set<string>();
  origin: number;
  originFromSource = false;

  // Pass state.
  final = false;
  #here = 0n;
  /** The layout pass under way. */
  #pass = 0;
  /** How far the item being laid out has moved since the pass before. */
  #shift = 0;
  #sectionStart = 0n;
  #probe = 0n;
  #fromLabels = false;
  #current: { src: NasmLine } | undefined;

  constructor(readonly source: string, readonly options: X86AsmOptions) {
    this.origin = options.origin ?? DEFAULT_ORIGIN;
  }

  run(): X86AsmResult {
    this.read();
    for (const g of this.globals) {
      if (!this.labels.has(g) && !this.equates.has(g)) {
        throw new X86AsmError(1, 1, `global ${g} is declared but never defined`);
      }
    }
    let settled = false;
    for (let pass = 0; pass < MAX_PASSES && !settled; pass++) settled = !this.layout(false);
    if (!settled) {
      throw new X86AsmError(
        1,
        1,
        `the layout does not settle after ${MAX_PASSES} passes: a times or align count ` +
          `probably depends on code that comes after it`,
      );
    }
    // The last pass encodes for good; a size change here means another round.
    for (let pass = 0; this.layout(true); pass++) {
      if (pass > MAX_PASSES) throw new X86AsmError(1, 1, "the layout does not settle");
    }
    return this.output();
  }

  // ---- reading ------------------------------------------------------------------------

  read(): void {
    let lines: NasmLine[];
    try {
      lines = splitSource(this.source, VOCABULARY);
    } catch (e) {
      if (e instanceof SourceError) {
        throw new X86AsmError(e.line, e.column, e.message, this.sourceLine(e.line));
      }
      throw e;
    }
    let section = this.sections.get(".text")!;
    let base = ""; // the last non-local label, which local labels belong to
    let defaultRel = false;
    const qualify = (name: string) => base + name;
    const options = { qualify };

    for (const src of lines) {
      this.#current = { src };
      const fail = (col: number, why: string): never => {
        throw new X86AsmError(src.line, col, why, src.source);
      };
      const op = src.op?.text.toLowerCase();
      const times = src.times
        ? { expr: this.parseExpr(src.times.text, src.times.col, options), col: src.times.col }
        : undefined;

      // The label.
      if (src.label) {
        let name = src.label.text.startsWith("$") ? src.label.text.slice(1) : src.label.text;
        if (name.startsWith(".") && !name.startsWith("..")) {
          if (!base) fail(src.label.col, `local label ${name} has no label before it to belong to`);
          name = base + name;
        } else if (op !== "equ" && !name.startsWith("..@")) {
          base = name;
        }
        if (this.labels.has(name) || this.equates.has(name)) {
          fail(src.label.col, `${name} is defined twice`);
        }
        const item: LabelItem = { kind: "label", name, pass: -1, src, offset: 0, size: 0 };
        section.items.push(item);
        if (op === "equ") {
          if (src.operands.length !== 1) fail(src.op!.col, "equ takes one expression");
          const expr = this.parseExpr(src.operands[0].text, src.operands[0].col, options);
          this.equates.set(name, { expr, at: item, section, src, col: src.label.col, busy: false });
          continue;
        }
        this.labels.set(name, { item, section });
      } else if (op === "equ") {
        fail(src.op!.col, "equ needs a label: name equ value");
      }

      if (!op) {
        if (src.prefixes.length) this.addInsn(section, src, "", [], times, defaultRel);
        continue;
      }
      const col = src.op!.col;
      const operands = src.operands;
      if (src.prefixes.length && !isMnemonic(op)) {
        fail(src.prefixes[0].col, `${src.prefixes[0].text} must be followed by an instruction`);
      }
      if (times && !isMnemonic(op) && !(op in DATA_WIDTHS) && !(op in RESERVE_WIDTHS)) {
        fail(times.col, `times repeats instructions and data, not ${op}`);
      }

      if (section.name === ".bss" && (isMnemonic(op) || op in DATA_WIDTHS)) {
        fail(col, ".bss holds no bytes: reserve space with resb, resw, resd or resq");
      }
      if (isMnemonic(op)) {
        const parsed = operands.map((o) => this.parseOperand(o, options));
        this.addInsn(section, src, op, parsed, times, defaultRel);
      } else if (op in DATA_WIDTHS) {
        if (!operands.length) fail(col, `${op} needs at least one value`);
        const parts = operands.map((o) => this.parseDataPart(o, op, options));
        section.items.push({
          kind: "data",
          width: DATA_WIDTHS[op],
          directive: op,
          parts,
          times,
          src,
          offset: 0,
          size: 0,
        });
      } else if (op in RESERVE_WIDTHS) {
        if (operands.length !== 1) fail(col, `${op} takes one count`);
        const count = {
          expr: this.parseExpr(operands[0].text, operands[0].col, options),
          col: operands[0].col,
        };
        section.items.push({
          kind: "reserve",
          width: RESERVE_WIDTHS[op],
          count,
          times,
          src,
          offset: 0,
          size: 0,
        });
      } else if (op === "section" || op === "segment") {
        const name = operands[0]?.text.split(/\s+/)[0];
        if (!name || !SECTION_ORDER.includes(name as SectionName)) {
          fail(
            operands[0]?.col ?? col,
            `section ${name ?? ""}: the assembler lays out only .text, .rodata, .data and .bss`,
          );
        }
        section = this.sections.get(name as SectionName)!;
        const align = /\balign\s*=\s*(\d+)/i.exec(operands.map((o) => o.text).join(","));
        if (align) section.align = Math.max(section.align, Number(align[1]));
      } else if (op === "bits" || op === "use64" || op === "use32" || op === "use16") {
        const bits = op === "bits" ? operands[0]?.text : op.slice(3);
        if (bits !== "64") {
          fail(
            operands[0]?.col ?? col,
            `bits ${bits ?? ""}: this assembler writes 64-bit code only`,
          );
        }
      } else if (op === "default") {
        const words = operands.map((o) => o.text.toLowerCase());
        for (const [k, w] of words.entries()) {
          if (w === "rel") defaultRel = true;
          else if (w === "abs") defaultRel = false;
          else if (w !== "bnd" && w !== "nobnd") {
            fail(operands[k].col, `default ${w}: expected rel or abs`);
          }
        }
      } else if (op === "global" || op === "static") {
        if (!operands.length) fail(col, `${op} needs a symbol name`);
        for (const o of operands) {
          for (const word of o.text.split(/\s+/)) {
            const name = word.replace(/:.*$/, "");
            if (op === "global") this.globals.add(name.startsWith(".") ? base + name : name);
          }
        }
      } else if (op === "org") {
        if (section.items.some((i) => i.kind !== "label") || this.originFromSource) {
          fail(col, "org must come once, before any code or data");
        }
        if (this.options.origin !== undefined) {
          fail(col, "org in the source and an origin option: give one or the other");
        }
        const v = this.constant(
          this.parseExpr(operands[0]?.text ?? "", operands[0]?.col ?? col, options),
        );
        this.origin = Number(v);
        this.originFromSource = true;
      } else if (op === "align" || op === "alignb") {
        if (!operands.length || operands.length > 2) {
          fail(col, `${op} takes an alignment and an optional fill`);
        }
        const align = {
          expr: this.parseExpr(operands[0].text, operands[0].col, options),
          col: operands[0].col,
        };
        let fill: number | undefined;
        if (operands.length === 2) {
          const f = operands[1].text.toLowerCase();
          const m = /^db\s+(.+)$/.exec(f);
          if (f === "nop") fill = 0x90;
          else if (m) {
            fill = Number(
              BigInt.asUintN(8, this.constant(this.parseExpr(m[1], operands[1].col + 3, options))),
            );
          } else if (op === "alignb" && /^resb\s+1$/.test(f)) fill = undefined;
          else fail(operands[1].col, `${op}'s fill must be nop or db VALUE`);
        }
        section.items.push({
          kind: "align",
          align,
          fill,
          zero: op === "alignb",
          src,
          offset: 0,
          size: 0,
        });
      } else if (op === "cpu") {
        // Ignored: every instruction this assembler knows is meant for the emulated CPU.
      } else if (op === "extern" || op === "common") {
        fail(col, `${op}: a flat image has no linker; define the symbol in this file`);
      } else if (op === "incbin") {
        fail(col, "incbin reads files, which this assembler cannot (it also runs in a browser)");
      } else if (["struc", "endstruc", "istruc", "absolute"].includes(op)) {
        fail(col, `${op} is not supported: use equ for structure offsets`);
      } else if (["dt", "do", "dy", "dz"].includes(op)) {
        fail(col, `${op} declares floating-point or vector data, which is not supported`);
      } else {
        fail(col, `unknown instruction "${op}"${unknownHint(op, operands)}`);
      }
    }
  }

  addInsn(
    section: Section,
    src: NasmLine,
    mnemonic: string,
    operands: ParsedOperand[],
    times: { expr: NasmExpr; col: number } | undefined,
    defaultRel: boolean,
  ): void {
    let positional = /^(j|call|loop)/.test(mnemonic);
    for (const o of operands) {
      if (o.kind === "mem") positional = true; // may be RIP-relative
      if (o.kind !== "reg") {
        walkNasm(o.expr, (n) => {
          if (n.kind === "here") positional = true;
        });
      }
    }
    section.items.push({
      kind: "insn",
      mnemonic,
      prefixes: src.prefixes.map((p) => p.text),
      operands,
      defaultRel,
      long: false,
      positional,
      bytes: new Uint8Array(0),
      times,
      src,
      offset: 0,
      size: 0,
    });
  }

  parseExpr(text: string, col: number, options: { qualify: (n: string) => string }): NasmExpr {
    try {
      return parseNasmExpr(text, col, options);
    } catch (e) {
      if (e instanceof NasmExprError) this.failAt(e.column, e.message);
      throw e;
    }
  }

  parseOperand(piece: Piece, options: { qualify: (n: string) => string }): ParsedOperand {
    try {
      return parseOperand(piece.text, piece.col, options);
    } catch (e) {
      if (e instanceof OperandError) this.failAt(e.column, e.message);
      throw e;
    }
  }

  parseDataPart(piece: Piece, op: string, options: { qualify: (n: string) => string }): DataPart {
    const t = piece.text;
    if (/^['"`]/.test(t)) {
      try {
        const s = readString(t, 0, piece.col);
        if (s.next === t.length) return { kind: "bytes", bytes: new Uint8Array(s.bytes) };
      } catch (e) {
        if (e instanceof NasmExprError) this.failAt(e.column, e.message);
        throw e;
      }
    }
    if (t === "?") return { kind: "bytes", bytes: new Uint8Array(DATA_WIDTHS[op]) };
    if (/^[-+]?(\d[\d_]*\.[\d_]*(e[-+]?\d+)?|\d[\d_]*e[-+]?\d+)$/i.test(t)) {
      if (op !== "dd" && op !== "dq") {
        this.failAt(piece.col, `${op} cannot hold a floating-point number: use dd or dq`);
      }
      return { kind: "float", value: Number(t.replace(/_/g, "")), col: piece.col };
    }
    return { kind: "expr", expr: this.parseExpr(t, piece.col, options), col: piece.col };
  }

  /** A value that must be known before layout (org, align fill). */
  constant(e: NasmExpr): bigint {
    const c = this.classify(e);
    if (c.fromLabels) this.failAt(e.col, "this value must not depend on labels");
    return c.value;
  }

  failAt(col: number, why: string): never {
    const src = this.#current?.src;
    throw new X86AsmError(src?.line ?? 1, col, why, src?.source ?? "");
  }

  sourceLine(line: number): string {
    return this.source.split(/\r?\n/)[line - 1] ?? "";
  }

  // ---- symbols ------------------------------------------------------------------------

  /** The scope expressions are evaluated in, for the item being laid out. */
  readonly scope: NasmScope = {
    symbol: (name, col) => this.symbolValue(name, col),
    here: () => {
      this.#fromLabels = true;
      return this.#here + this.#probe;
    },
    sectionStart: () => {
      this.#fromLabels = true;
      return this.#sectionStart + this.#probe;
    },
  };

  symbolValue(name: string, col: number): bigint {
    const label = this.labels.get(name);
    if (label) {
      this.#fromLabels = true;
      const { item, section } = label;
      let at: bigint;
      if (item.pass === this.#pass) at = BigInt(section.address + item.offset);
      else if (item.pass >= 0) {
        // Not reached yet in this pass: where it was in the pass before, moved as far as
        // the current item has moved. So the distance between them is the one of the pass
        // before, a sum of sizes that only grow: relaxation never has to shrink a jump.
        const base = section.pass === this.#pass ? section.prevAddress : section.address;
        at = BigInt(base + item.offset + this.#shift);
      } else at = this.#here; // never laid out: "here", so that the short forms come first
      return at + this.#probe;
    }
    const eq = this.equates.get(name);
    if (eq) {
      if (eq.busy) this.failAt(col, `${name} is defined in terms of itself`);
      eq.busy = true;
      const [here, start] = [this.#here, this.#sectionStart];
      this.#here = BigInt(eq.section.address + eq.at.offset);
      this.#sectionStart = BigInt(eq.section.address);
      try {
        return evaluateNasm(eq.expr, this.scope);
      } catch (e) {
        if (e instanceof NasmExprError) {
          throw new X86AsmError(eq.src.line, e.column, `in ${name}: ${e.message}`, eq.src.source);
        }
        throw e;
      } finally {
        [this.#here, this.#sectionStart] = [here, start];
        eq.busy = false;
      }
    }
    const hint = name.includes(".") && this.labels.has(name.slice(name.lastIndexOf(".")))
      ? ""
      : [...this.labels.keys()].find((l) => l.endsWith("." + name.split(".").pop()))
      ? ` (a local label belongs to the label before it: did you mean ${
        [...this.labels.keys()].find((l) => l.endsWith("." + name.split(".").pop()))
      }?)`
      : "";
    throw new NasmExprError(`symbol ${name} is not defined${hint}`, col);
  }

  /** Evaluates `e` and tells an address (`wide`) from a constant (see resolve in operands.ts). */
  classify(e: NasmExpr): { value: bigint; wide: boolean; fromLabels: boolean } {
    this.#fromLabels = false;
    this.#probe = 0n;
    const value = this.evaluate(e);
    const fromLabels = this.#fromLabels;
    if (!fromLabels) return { value, wide: false, fromLabels };
    this.#probe = PROBE_SHIFT;
    let moved: bigint;
    try {
      moved = this.evaluate(e);
    } finally {
      this.#probe = 0n;
    }
    return { value, wide: moved !== value, fromLabels };
  }

  evaluate(e: NasmExpr): bigint {
    try {
      return evaluateNasm(e, this.scope);
    } catch (err) {
      if (err instanceof NasmExprError) this.failAt(err.column, err.message);
      throw err;
    }
  }

  // ---- layout -------------------------------------------------------------------------

  /** One pass over every section; returns whether any size or address changed. */
  layout(final: boolean): boolean {
    this.final = final;
    this.#pass++;
    let changed = false;
    let address = this.origin;
    for (const name of SECTION_ORDER) {
      const s = this.sections.get(name)!;
      const align = name === ".data" ? Math.max(s.align, this.options.dataAlign ?? 0) : s.align;
      if (name !== ".text") address = alignUp(address, align);
      if (s.address !== address) changed = true;
      s.prevAddress = s.pass < 0 ? address : s.address;
      s.address = address;
      s.pass = this.#pass;
      let offset = 0;
      for (const item of s.items) {
        this.#current = item;
        this.#shift = address + offset - (s.prevAddress + item.offset);
        if (item.offset !== offset) changed = true;
        item.offset = offset;
        const size = this.sizeOf(item, s, final);
        if (size !== item.size) changed = true;
        item.size = size;
        offset += size;
      }
      if (s.size !== offset) changed = true;
      s.size = offset;
      address += offset;
    }
    return changed;
  }

  sizeOf(item: Item, s: Section, final: boolean): number {
    const address = s.address + item.offset;
    this.#here = BigInt(address);
    this.#sectionStart = BigInt(s.address);
    const count = item.times ? this.timesCount(item.times, final) : 1;
    switch (item.kind) {
      case "label":
        item.pass = this.#pass;
        return 0;
      case "insn":
        return this.encodeItem(item, address, count, final);
      case "data":
        return count * this.dataBytes(item, final).length;
      case "reserve": {
        const n = this.evaluate(item.count.expr);
        if (n < 0n) {
          if (final) this.failAt(item.count.col, `${item.src.op!.text} count ${n} is negative`);
          return 0;
        }
        return count * Number(n) * item.width;
      }
      case "align": {
        const a = this.evaluate(item.align.expr);
        if (a <= 0n || (a & (a - 1n)) !== 0n) {
          this.failAt(item.align.col, `alignment ${a} is not a power of two`);
        }
        // The section starts at least this aligned, so the padding aligns the address itself.
        s.align = Math.max(s.align, Number(a));
        return alignUp(address, Number(a)) - address;
      }
    }
  }

  timesCount(times: { expr: NasmExpr; col: number }, final: boolean): number {
    const n = this.evaluate(times.expr);
    if (n < 0n) {
      if (final) this.failAt(times.col, `times count ${n} is negative`);
      return 0;
    }
    if (n > 1n << 28n) this.failAt(times.col, `times count ${n} is too large`);
    return Number(n);
  }

  encodeItem(item: InsnItem, address: number, count: number, final: boolean): number {
    if (!item.mnemonic) {
      item.bytes = encodePrefixes(item.prefixes);
      return item.bytes.length * count;
    }
    const encodeAt = (at: number): Uint8Array => {
      this.#here = BigInt(at);
      const scope: ResolveScope = {
        ...this.scope,
        classify: (e) => this.classify(e),
        defaultRel: item.defaultRel,
      };
      const ops: Operand[] = item.operands.map((o) => {
        try {
          return resolveOperand(o, scope);
        } catch (e) {
          if (e instanceof OperandError) this.failAt(e.column, e.message);
          throw e;
        }
      });
      try {
        return encodeInstruction({
          mnemonic: item.mnemonic,
          prefixes: item.prefixes,
          operands: ops,
        }, {
          address: at,
          final,
          long: item.long,
        });
      } catch (e) {
        if (e instanceof EncodeError) {
          const col = e.operand !== undefined && item.operands[e.operand]
            ? item.operands[e.operand].col
            : item.src.op!.col;
          this.failAt(col, `${e.message}: ${statementText(item.src)}`);
        }
        throw e;
      }
    };
    const once = () => {
      if (!item.positional || count <= 1) {
        const b = count ? encodeAt(address) : new Uint8Array(0);
        item.bytes = repeat(b, count);
        return item.bytes.length;
      }
      const parts: Uint8Array[] = [];
      let at = address;
      for (let k = 0; k < count; k++) {
        const b = encodeAt(at);
        parts.push(b);
        at += b.length;
      }
      item.bytes = concat(parts);
      return item.bytes.length;
    };
    const size = once();
    if (size < item.size && !item.long) {
      // It would shrink: keep the long forms so that the layout converges.
      item.long = true;
      return once();
    }
    return size;
  }

  dataBytes(item: DataItem, final: boolean): Uint8Array {
    const out: number[] = [];
    for (const p of item.parts) {
      if (p.kind === "bytes") {
        out.push(...p.bytes);
        while (out.length % item.width) out.push(0);
      } else if (p.kind === "float") {
        const dv = new DataView(new ArrayBuffer(8));
        if (item.width === 4) dv.setFloat32(0, p.value, true);
        else dv.setFloat64(0, p.value, true);
        for (let k = 0; k < item.width; k++) out.push(dv.getUint8(k));
      } else {
        const c = this.classify(p.expr);
        const bits = BigInt(item.width * 8);
        const fits = item.width === 8 || (c.value >= -(1n << (bits - 1n)) && c.value < 1n << bits);
        if (!fits && (final || !c.fromLabels)) {
          this.failAt(
            p.col,
            `value ${c.value} does not fit in ${
              item.width === 1 ? "a byte" : `${item.width} bytes`
            } ` +
              `(${item.directive})`,
          );
        }
        let v = BigInt.asUintN(item.width * 8, c.value);
        for (let k = 0; k < item.width; k++) {
          out.push(Number(v & 0xffn));
          v >>= 8n;
        }
      }
    }
    return new Uint8Array(out);
  }

  // ---- output -------------------------------------------------------------------------

  output(): X86AsmResult {
    const secs = SECTION_ORDER.map((n) => this.sections.get(n)!);
    const end = secs.reduce((e, s) => (s.size ? Math.max(e, s.address + s.size) : e), this.origin);
    const bytes = new Uint8Array(end - this.origin);
    const lines: { address: number; line: number }[] = [];
    for (const s of secs) {
      for (const item of s.items) {
        const at = s.address + item.offset;
        this.#current = item;
        this.#here = BigInt(at);
        this.#sectionStart = BigInt(s.address);
        let data: Uint8Array | undefined;
        if (item.kind === "insn") data = item.bytes;
        else if (item.kind === "data") {
          const one = this.dataBytes(item, true);
          data = repeat(one, item.size / Math.max(1, one.length));
        } else if (item.kind === "align" && s.name !== ".bss" && !item.zero) {
          data = new Uint8Array(item.size).fill(item.fill ?? 0x90);
        }
        if (data && data.length) {
          if (s.name === ".bss") continue;
          bytes.set(data, at - this.origin);
          lines.push({ address: at, line: item.src.line });
        }
      }
    }
    const symbols = new Map<string, number>();
    for (const [name, { item, section }] of this.labels) {
      symbols.set(name, section.address + item.offset);
    }
    for (const [name] of this.equates) {
      this.#here = 0n;
      symbols.set(name, Number(this.symbolValue(name, 1)));
    }
    const laidOut = secs.map((s) => ({
      name: s.name,
      address: s.address,
      size: s.size,
      align: s.align,
    }));
    return assembledImage(this.origin, bytes, laidOut, symbols, this.globals, lines);
  }
}

function alignUp(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}

function repeat(b: Uint8Array, n: number): Uint8Array {
  if (n === 1) return b;
  const out = new Uint8Array(b.length * n);
  for (let k = 0; k < n; k++) out.set(b, k * b.length);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** The statement as written, from its prefixes or mnemonic on, for error messages. */
function statementText(src: NasmLine): string {
  const from = src.prefixes[0]?.col ?? src.op?.col ?? 1;
  const clean = src.source.slice(from - 1).replace(/;.*$/, "");
  return clean.trim().replace(/\s+/g, " ");
}

/** Why an unknown mnemonic may be unknown, for the error message. */
function unknownHint(op: string, operands: readonly Piece[]): string {
  const text = operands.map((o) => o.text).join(",").toLowerCase();
  if (/^f/.test(op) || /\bst\d?\b/.test(text)) {
    return ": x87 floating point is not supported (the emulated CPU runs integer code)";
  }
  if (/\b[xyz]mm\d+\b/.test(text) || /(ps|pd|ss|sd)$/.test(op) || /^v/.test(op)) {
    return ": SSE and AVX instructions are not supported (the CPU has no vector registers)";
  }
  if (/^(mov[a-z]*)$/.test(op)) {
    return " (the move instructions are mov, movzx, movsx, movsxd, movabs)";
  }
  return "";
}
