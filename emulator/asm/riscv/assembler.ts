/**
 * The RISC-V assembler: GNU as syntax in, a flat memory image out.
 *
 * `assembleRiscv(source)` reads the whole source into statements, then lays the sections
 * out from `origin` in the order .text, .rodata, .data, .bss, and encodes. What it
 * accepts is the subset of GNU as that students meet (see the task of each directive in
 * {@link directive} and the pseudo-instructions in instructions.ts), with the same
 * encodings byte for byte: `li` expands as GNU as expands it, and with `.option rvc` (or
 * `compressed: true`) instructions are compressed exactly where GNU as compresses them.
 * testdata/asm_vectors.txt, produced by GNU as, holds it to that.
 *
 * ## Layout and relaxation
 *
 * What a branch assembles to depends on how far its target is, which depends on what the
 * statements in between assembled to. So the assembler iterates: each pass computes every
 * statement's size from the symbol values of the previous pass (the first pass pretends
 * every unknown label is right here, which picks the shortest forms), until a pass changes
 * nothing. A statement never shrinks from one pass to the next, so the passes end. In the
 * rare case that a statement could shrink, it keeps its size and is padded with `nop`s.
 *
 * @module
 */

import {
  evaluate,
  type Expr,
  ExprError,
  parseExpr,
  readEscape,
  type Scope,
  walkExpr,
} from "../expr.ts";
import { type Located, splitStatements, type Statement, StatementError } from "../statements.ts";
import {
  AsmError,
  type AsmResult,
  assembledImage,
  SECTION_ORDER,
  type SectionName,
} from "../image.ts";
import { EncodeError } from "./encode.ts";
import {
  type BuildContext,
  type Builder,
  type Emitted,
  emittedSize,
  encodeEmitted,
  insnDirective,
  OperandError,
  Operands,
  parseInstruction,
} from "./instructions.ts";
import { signExtend12 } from "./li.ts";

// The image and its error are the same for both assemblers (image.ts).
export { AsmError } from "../image.ts";
export type { AsmResult, AsmSection, SectionName } from "../image.ts";

/** Where the image starts when no origin is given: where GNU ld puts RISC-V programs. */
export const DEFAULT_ORIGIN = 0x10000;

/** The least alignment of each section: whole instructions, and aligned doublewords. */
const SECTION_MIN_ALIGN: Record<SectionName, number> = {
  ".text": 4,
  ".rodata": 8,
  ".data": 8,
  ".bss": 8,
};

/** How to assemble. */
export interface AsmOptions {
  /** Address of the first byte of .text (default {@link DEFAULT_ORIGIN}). */
  origin?: number;
  /** Start with `.option rvc` in force: compress where GNU as would (default false). */
  compressed?: boolean;
  /** Align the start of .data to this (the ELF writer asks for a page); default 8. */
  dataAlign?: number;
}

// ---- the items of a section ----------------------------------------------------------------

interface ItemBase {
  /** Source position. */
  line: number;
  col: number;
  /** Offset in its section and size, as of the latest layout pass. */
  offset: number;
  size: number;
}
interface LabelItem extends ItemBase {
  kind: "label";
  name: string;
}
interface InsnItem extends ItemBase {
  kind: "insn";
  rvc: boolean;
  build: Builder;
}
interface DataItem extends ItemBase {
  kind: "data";
  width: 1 | 2 | 4 | 8;
  values: Expr[];
}
interface BytesItem extends ItemBase {
  kind: "bytes";
  bytes: Uint8Array;
}
interface AlignItem extends ItemBase {
  kind: "align";
  align: number;
  fill: number | undefined;
  max: number;
  rvc: boolean;
  /** Padding in .text without a fill byte is made of nops. */
  code: boolean;
}
type Item = LabelItem | InsnItem | DataItem | BytesItem | AlignItem;

interface Section {
  name: SectionName;
  items: Item[];
  align: number;
  address: number;
  size: number;
}

interface Equate {
  expr: Expr;
  line: number;
  col: number;
  busy: boolean;
}

/** The most layout passes before the assembler gives up (never reached in practice). */
const MAX_PASSES = 100;

/** Directives that are accepted and have no effect on the image. */
const IGNORED = new Set([
  ".type",
  ".size",
  ".file",
  ".ident",
  ".attribute",
  ".local",
  ".weak",
  ".hidden",
  ".loc",
  ".addrsig",
  ".addrsig_sym",
]);

const DATA_WIDTHS: Record<string, 1 | 2 | 4 | 8> = {
  ".byte": 1,
  ".half": 2,
  ".short": 2,
  ".2byte": 2,
  ".word": 4,
  ".long": 4,
  ".4byte": 4,
  ".dword": 8,
  ".quad": 8,
  ".8byte": 8,
};

class Assembly {
  readonly sections = new Map<SectionName, Section>(
    SECTION_ORDER.map((name) => [name, {
      name,
      items: [],
      align: SECTION_MIN_ALIGN[name],
      address: 0,
      size: 0,
    }]),
  );
  current: Section = this.sections.get(".text")!;
  rvc: boolean;
  rvcStack: boolean[] = [];
  readonly labels = new Map<string, { item: LabelItem; section: Section }>();
  readonly equates = new Map<string, Equate>();
  readonly globals = new Set<string>();
  /** Numeric local labels: how many times each has been defined so far. */
  readonly localCounts = new Map<string, number>();
  /** Hidden symbol names and what the source called them, for messages. */
  readonly hiddenNames = new Map<string, string>();
  /** Values of `%pcrel_hi` operands by the address of their auipc, for `%pcrel_lo`. */
  readonly pcrelHi = new Map<bigint, bigint>();
  readonly lines: string[];
  /** Set during the first layout pass: unknown labels read as the current address. */
  provisional = true;
  /** Set while emitting: every symbol must resolve. */
  final = false;
  #hidden = 0;
  #statement: Statement | undefined;

  constructor(
    readonly source: string,
    readonly origin: number,
    readonly dataAlign: number,
    rvc: boolean,
  ) {
    this.rvc = rvc;
    this.lines = source.split(/\r?\n/);
  }

  // ---- errors ----

  error(line: number, col: number, reason: string): AsmError {
    return new AsmError(line, col, reason, this.lines[line - 1]?.replace(/\t/g, " ") ?? "");
  }

  /** Converts what a parser or encoder threw into an AsmError at this statement. */
  wrap(e: unknown, line: number, col: number): never {
    if (e instanceof AsmError) throw e;
    if (e instanceof ExprError || e instanceof OperandError) {
      throw this.error(line, e.column, e.message);
    }
    if (e instanceof EncodeError) throw this.error(line, col, withHint(e.message));
    throw e;
  }

  // ---- reading statements ----

  read(): void {
    let statements: Statement[];
    try {
      statements = splitStatements(this.source);
    } catch (e) {
      if (e instanceof StatementError) throw this.error(e.line, e.column, e.message);
      throw e;
    }
    for (const st of statements) {
      this.#statement = st;
      try {
        for (const label of st.labels) this.defineLabel(label, st.line);
        if (st.assign) {
          this.defineEquate(st.assign, st.operands[0], st.line);
        } else if (st.op) {
          const name = st.op.text.toLowerCase();
          if (name.startsWith(".")) {
            if (name === ".end") break;
            this.directive(name, st);
          } else {
            this.instruction(name, st);
          }
        }
      } catch (e) {
        this.wrap(e, st.line, st.op?.col ?? 1);
      }
    }
    this.checkForwardLocals();
  }

  parse(text: string, col: number): Expr {
    return parseExpr(text, col, {
      localLabel: (label, direction, at) => {
        const n = this.localCounts.get(label) ?? 0;
        if (direction === "b" && n === 0) {
          throw new ExprError(
            `${label}b refers back to a label ${label}:, but there is none before it`,
            at,
          );
        }
        const name = localName(label, direction === "b" ? n : n + 1);
        if (!this.hiddenNames.has(name)) this.hiddenNames.set(name, `${label}${direction}`);
        return name;
      },
    });
  }

  add(item: Item): void {
    this.current.items.push(item);
  }

  defineLabel(label: Located, line: number): void {
    let name = label.text;
    if (/^[0-9]+$/.test(name)) {
      const n = (this.localCounts.get(name) ?? 0) + 1;
      this.localCounts.set(name, n);
      name = localName(label.text, n);
    } else {
      this.checkNew(name, line, label.col);
    }
    const item: LabelItem = { kind: "label", name, line, col: label.col, offset: 0, size: 0 };
    this.labels.set(name, { item, section: this.current });
    this.add(item);
  }

  checkNew(name: string, line: number, col: number): void {
    const old = this.labels.get(name)?.item.line ?? this.equates.get(name)?.line;
    if (old !== undefined) {
      throw this.error(line, col, `symbol "${name}" is already defined on line ${old}`);
    }
  }

  /** A forward `1f` with no later `1:` can only be detected at the end. */
  checkForwardLocals(): void {
    for (const [name, display] of this.hiddenNames) {
      if (!this.labels.has(name) && display.endsWith("f")) {
        const [line, col] = this.findUse(display);
        throw this.error(
          line,
          col,
          `${display} refers forward to a label ${display.slice(0, -1)}:, but none follows`,
        );
      }
    }
  }

  findUse(text: string): [number, number] {
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const col = this.lines[i].search(new RegExp(`\\b${text}\\b`));
      if (col >= 0) return [i + 1, col + 1];
    }
    return [1, 1];
  }

  defineEquate(name: Located, value: Located | undefined, line: number): void {
    this.checkNew(name.text, line, name.col);
    if (!value?.text) throw this.error(line, name.col, `${name.text} = needs a value`);
    let expr = this.parse(value.text, value.col);
    // `.` in an equate is the location where it is defined: pin it with a hidden label.
    let here = false;
    walkExpr(expr, (n) => (here ||= n.kind === "here"));
    if (here) {
      const pin = `.Ldot\u0002${++this.#hidden}`;
      this.labels.set(pin, {
        item: this.#pushLabel(pin, line, value.col),
        section: this.current,
      });
      expr = replaceHere(expr, pin);
    }
    this.equates.set(name.text, { expr, line, col: name.col, busy: false });
  }

  #pushLabel(name: string, line: number, col: number): LabelItem {
    const item: LabelItem = { kind: "label", name, line, col, offset: 0, size: 0 };
    this.add(item);
    return item;
  }

  instruction(name: string, st: Statement): void {
    if (this.current.name === ".bss") {
      throw this.error(
        st.line,
        st.op!.col,
        "instructions cannot go in .bss, which holds no bytes: switch to .text",
      );
    }
    if (name.startsWith("c.") && !this.rvc) {
      throw this.error(
        st.line,
        st.op!.col,
        `${name} is a compressed instruction: enable the C extension first with .option rvc`,
      );
    }
    const build = parseInstruction(
      new Operands(name, st.operands, st.op!.col, (t, c) => this.parse(t, c)),
    );
    this.add({
      kind: "insn",
      rvc: this.rvc,
      build,
      line: st.line,
      col: st.op!.col,
      offset: 0,
      size: 0,
    });
  }

  /** Evaluates an expression that must be known now (a count, an alignment). */
  constant(e: Expr, what: string): number {
    const scope: Scope = {
      symbol: (name, col) => {
        const eq = this.equates.get(name);
        if (eq) return this.evalEquate(name, eq, scope);
        throw new ExprError(
          `${what} must be a constant, but "${name}" is a label or undefined`,
          col,
        );
      },
      here: (col) => {
        throw new ExprError(`${what} must be a constant, not an address`, col);
      },
      modifier: (name, _arg, col) => {
        throw new ExprError(`${what} must be a constant, not %${name}(...)`, col);
      },
    };
    const v = evaluate(e, scope);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new ExprError(`${what} ${v} is out of range`, e.col);
    }
    return Number(v);
  }

  // ---- directives ----

  directive(name: string, st: Statement): void {
    const ops = st.operands;
    const at = st.op!.col;
    const want = (usage: string, ...counts: number[]) => {
      if (!counts.includes(ops.length)) {
        throw this.error(st.line, at, `${name} takes ${counts.join(" or ")} operand(s): ${usage}`);
      }
    };
    if (name in DATA_WIDTHS) {
      if (!ops.length) throw this.error(st.line, at, `${name} needs at least one value`);
      this.noDataInBss(st, name);
      const width = DATA_WIDTHS[name];
      const values = ops.map((o) => this.parse(o.text, o.col));
      this.add({
        kind: "data",
        width,
        values,
        line: st.line,
        col: at,
        offset: 0,
        size: width * values.length,
      });
      return;
    }
    if (IGNORED.has(name) || name.startsWith(".cfi_")) return;
    switch (name) {
      case ".text":
      case ".data":
      case ".bss":
      case ".rodata":
        want(name, 0);
        this.current = this.sections.get(name)!;
        return;
      case ".section": {
        if (!ops.length) {
          throw this.error(st.line, at, ".section needs a name, such as .section .rodata");
        }
        this.current = this.sections.get(
          sectionFor(ops[0].text, ops[1]?.text, (msg) => this.error(st.line, ops[0].col, msg)),
        )!;
        return;
      }
      case ".globl":
      case ".global":
        if (!ops.length) throw this.error(st.line, at, `${name} needs a symbol name`);
        for (const o of ops) this.globals.add(o.text);
        return;
      case ".equ":
      case ".set":
      case ".equiv":
        want(`${name} symbol, value`, 2);
        this.defineEquate(ops[0], ops[1], st.line);
        return;
      case ".ascii":
      case ".asciz":
      case ".string": {
        if (!ops.length) {
          throw this.error(st.line, at, `${name} needs a string, such as ${name} "hello"`);
        }
        this.noDataInBss(st, name);
        const parts = ops.map((o) => parseString(o, name !== ".ascii"));
        const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let off = 0;
        for (const p of parts) {
          bytes.set(p, off);
          off += p.length;
        }
        this.add({ kind: "bytes", bytes, line: st.line, col: at, offset: 0, size: bytes.length });
        return;
      }
      case ".zero":
      case ".space":
      case ".skip": {
        want(`${name} count, or ${name} count, fill`, 1, 2);
        const count = this.constant(this.parse(ops[0].text, ops[0].col), `${name} count`);
        const fill = ops[1] ? this.constant(this.parse(ops[1].text, ops[1].col), "fill byte") : 0;
        if (count < 0 || count > 1 << 28) {
          throw this.error(
            st.line,
            ops[0].col,
            `${name} count ${count} must be between 0 and 256 MiB`,
          );
        }
        if (fill !== 0) this.noDataInBss(st, name);
        this.add({
          kind: "bytes",
          bytes: new Uint8Array(count).fill(fill & 0xff),
          line: st.line,
          col: at,
          offset: 0,
          size: count,
        });
        return;
      }
      case ".fill": {
        want(".fill repeat, size, value", 1, 2, 3);
        const [repeat, size, value] = ops.map((o, i) =>
          this.constant(this.parse(o.text, o.col), ["repeat count", "size", "value"][i])
        );
        const width = size ?? 1;
        if (repeat < 0 || repeat > 1 << 28 || width < 0 || width > 8) {
          throw this.error(st.line, at, ".fill needs 0 <= repeat and a size of 0 to 8 bytes");
        }
        const bytes = new Uint8Array(repeat * width);
        const v = BigInt.asUintN(64, BigInt(value ?? 0));
        for (let i = 0; i < bytes.length; i++) {
          bytes[i] = Number((v >> BigInt(8 * (i % width))) & 0xffn);
        }
        if (bytes.some((b) => b !== 0)) this.noDataInBss(st, name);
        this.add({ kind: "bytes", bytes, line: st.line, col: at, offset: 0, size: bytes.length });
        return;
      }
      case ".align":
      case ".p2align":
      case ".balign": {
        want(`${name} alignment[, fill[, max]]`, 1, 2, 3);
        const n = this.constant(this.parse(ops[0].text, ops[0].col), "alignment");
        // On RISC-V, .align is a power of two, as .p2align (GNU as, "RISC-V Directives").
        const align = name === ".balign" ? n : 2 ** n;
        if (!Number.isInteger(Math.log2(align)) || align > 1 << 16 || align < 1) {
          throw this.error(
            st.line,
            ops[0].col,
            name === ".balign"
              ? `.balign ${n}: give a power of two up to 65536`
              : `${name} ${n}: give the log2 of the alignment, 0 to 16 (.align 3 aligns to 8 bytes)`,
          );
        }
        const fill = ops[1]?.text
          ? this.constant(this.parse(ops[1].text, ops[1].col), "fill") & 0xff
          : undefined;
        const max = ops[2] ? this.constant(this.parse(ops[2].text, ops[2].col), "max") : Infinity;
        this.current.align = Math.max(this.current.align, align);
        const code = this.current.name === ".text" && fill === undefined;
        this.add({
          kind: "align",
          align,
          fill,
          max,
          rvc: this.rvc,
          code,
          line: st.line,
          col: at,
          offset: 0,
          size: 0,
        });
        return;
      }
      case ".option":
        want(".option rvc | norvc | push | pop", 1);
        this.option(ops[0], st.line);
        return;
      case ".insn": {
        if (!ops.length) {
          throw this.error(st.line, at, ".insn needs a format and fields, or a value");
        }
        if (this.current.name === ".bss") throw this.error(st.line, at, ".insn cannot go in .bss");
        const rest = new Operands(".insn", ops.slice(1), at, (t, c) => this.parse(t, c));
        const build = insnDirective(ops[0], rest);
        this.add({
          kind: "insn",
          rvc: this.rvc,
          build,
          line: st.line,
          col: at,
          offset: 0,
          size: 0,
        });
        return;
      }
      case ".macro":
      case ".rept":
      case ".irp":
      case ".if":
      case ".ifdef":
      case ".include":
      case ".incbin":
        throw this.error(
          st.line,
          at,
          `${name} is not supported by this assembler: write the code out`,
        );
      default:
        throw this.error(
          st.line,
          at,
          `unknown directive ${name}: this assembler knows .text .data .rodata .bss .section ` +
            `.globl .equ .set .byte .half .word .dword .ascii .asciz .string .zero .space .fill ` +
            `.align .p2align .balign .option .insn (and ignores .type .size .file .cfi_*)`,
        );
    }
  }

  noDataInBss(st: Statement, name: string): void {
    if (this.current.name === ".bss") {
      throw this.error(
        st.line,
        st.op!.col,
        `${name} cannot go in .bss, which holds only zeros: reserve space with .zero or .space`,
      );
    }
  }

  option(op: Located, line: number): void {
    switch (op.text.toLowerCase()) {
      case "rvc":
        this.rvc = true;
        return;
      case "norvc":
        this.rvc = false;
        return;
      case "push":
        this.rvcStack.push(this.rvc);
        return;
      case "pop":
        if (!this.rvcStack.length) {
          throw this.error(line, op.col, ".option pop without a matching .option push");
        }
        this.rvc = this.rvcStack.pop()!;
        return;
      case "relax":
      case "norelax":
      case "pic":
      case "nopic":
        // No linker runs after this assembler: relaxation and PIC make no difference.
        return;
      default:
        throw this.error(line, op.col, `unknown .option ${op.text}: use rvc, norvc, push or pop`);
    }
  }

  // ---- symbols and evaluation ----

  evalEquate(name: string, eq: Equate, scope: Scope): bigint {
    if (eq.busy) {
      throw this.error(eq.line, eq.col, `symbol "${name}" is defined in terms of itself`);
    }
    eq.busy = true;
    try {
      return evaluate(eq.expr, scope);
    } finally {
      eq.busy = false;
    }
  }

  labelValue(name: string): bigint | undefined {
    const l = this.labels.get(name);
    return l ? BigInt(l.section.address + l.item.offset) : undefined;
  }

  /** The scope an expression at address `pc` is evaluated in. */
  scope(pc: bigint): Scope {
    const scope: Scope = {
      symbol: (name, col) => {
        const eq = this.equates.get(name);
        if (eq) return this.evalEquate(name, eq, scope);
        if (this.labels.has(name)) return this.provisional ? pc : this.labelValue(name)!;
        if (!this.final) return pc;
        const shown = this.hiddenNames.get(name) ?? name;
        throw new ExprError(`undefined symbol "${shown}": define it as a label or with .equ`, col);
      },
      here: () => pc,
      modifier: (name, arg, col) => this.modifier(name, arg, col, pc, scope),
    };
    return scope;
  }

  /** The relocation operators, computed as the linker would have. */
  modifier(name: string, arg: Expr, col: number, pc: bigint, scope: Scope): bigint {
    switch (name) {
      case "hi":
        return ((evaluate(arg, scope) + 0x800n) >> 12n) & 0xfffffn;
      case "lo":
        return signExtend12(evaluate(arg, scope));
      case "pcrel_hi": {
        const target = evaluate(arg, scope);
        this.pcrelHi.set(pc, target);
        return ((target - pc + 0x800n) >> 12n) & 0xfffffn;
      }
      case "pcrel_lo": {
        // The argument labels the auipc; the low part is of that auipc's target.
        const at = evaluate(arg, scope);
        const target = this.pcrelHi.get(at);
        if (target === undefined) {
          if (!this.final) return 0n;
          throw new ExprError(
            `%pcrel_lo needs the label of an auipc with %pcrel_hi, but none is at 0x${
              at.toString(16)
            }: ` +
              `write 1: auipc a0, %pcrel_hi(sym) then addi a0, a0, %pcrel_lo(1b)`,
            col,
          );
        }
        return signExtend12(target - at);
      }
      default:
        throw new ExprError(
          `%${name} is not supported: use %hi, %lo, %pcrel_hi or %pcrel_lo (there is no linker, so no GOT or TLS)`,
          col,
        );
    }
  }

  isConstant(e: Expr): boolean {
    let constant = true;
    walkExpr(e, (n) => {
      if (n.kind === "here" || n.kind === "modifier") constant = false;
      else if (n.kind === "symbol") {
        const eq = this.equates.get(n.name);
        if (!eq) constant = false;
        else if (!eq.busy) {
          eq.busy = true;
          try {
            constant &&= this.isConstant(eq.expr);
          } finally {
            eq.busy = false;
          }
        }
      }
    });
    return constant;
  }

  context(pc: bigint, item: InsnItem): BuildContext {
    return {
      pc,
      rvc: item.rvc,
      allocated: item.size,
      value: (e, at = pc) => evaluate(e, this.scope(at)),
      isConstant: (e) => this.isConstant(e),
    };
  }

  // ---- layout ----

  layout(): void {
    let previous = "";
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      this.provisional = pass === 0;
      for (const section of this.sections.values()) this.layoutSection(section);
      this.placeSections();
      const signature = this.signature();
      if (signature === previous) return;
      previous = signature;
    }
    throw this.error(
      1,
      1,
      `the layout did not settle after ${MAX_PASSES} passes (an assembler bug: please report it)`,
    );
  }

  layoutSection(section: Section): void {
    let offset = 0;
    for (const item of section.items) {
      item.offset = offset;
      if (item.kind === "insn") item.size = Math.max(item.size, this.measure(item, section));
      else if (item.kind === "align") item.size = alignPadding(offset, item);
      offset += item.size;
    }
    section.size = offset;
  }

  measure(item: InsnItem, section: Section): number {
    try {
      const pc = BigInt(section.address + item.offset);
      return item.build(this.context(pc, item)).reduce((n, e) => n + emittedSize(e), 0);
    } catch {
      // Values are provisional until the layout settles; emission reports real errors.
      return item.size || 4;
    }
  }

  placeSections(): void {
    let address = this.origin;
    for (const s of this.sections.values()) {
      let align = s.align;
      if (s.name === ".data") align = Math.max(align, this.dataAlign);
      address = Math.ceil(address / align) * align;
      s.address = address;
      address += s.size;
    }
  }

  signature(): string {
    const parts: number[] = [];
    for (const s of this.sections.values()) {
      parts.push(s.address, s.size);
      for (const item of s.items) parts.push(item.offset, item.size);
    }
    return parts.join(",");
  }

  // ---- emission ----

  emit(): AsmResult {
    this.final = true;
    this.provisional = false;
    const sections = [...this.sections.values()];
    const last = sections.filter((s) => s.size > 0).pop();
    const end = last ? last.address + last.size : this.origin;
    const bytes = new Uint8Array(end - this.origin);
    const lines: { address: number; line: number }[] = [];
    for (const s of sections) {
      for (const item of s.items) {
        const address = s.address + item.offset;
        const at = address - this.origin;
        try {
          this.emitItem(item, address, bytes, at);
        } catch (e) {
          this.wrap(e, item.line, item.col);
        }
        if (item.kind === "insn" || item.kind === "data" || item.kind === "bytes") {
          if (item.size > 0 && s.name !== ".bss") lines.push({ address, line: item.line });
        }
      }
    }
    const symbols = new Map<string, number>();
    for (const [name] of this.labels) {
      if (!name.startsWith(".L")) symbols.set(name, Number(this.labelValue(name)!));
    }
    for (const [name, eq] of this.equates) {
      try {
        const v = this.evalEquate(name, eq, this.scope(0n));
        if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) {
          symbols.set(name, Number(v));
        }
      } catch (e) {
        this.wrap(e, eq.line, eq.col);
      }
    }
    const laidOut = sections.map((s) => ({
      name: s.name,
      address: s.address,
      size: s.size,
      align: Math.max(s.align, s.name === ".data" ? this.dataAlign : 1),
    }));
    return assembledImage(this.origin, bytes, laidOut, symbols, this.globals, lines);
  }

  emitItem(item: Item, address: number, out: Uint8Array, at: number): void {
    switch (item.kind) {
      case "label":
        return;
      case "bytes":
        out.set(item.bytes, at);
        return;
      case "align":
        fillPadding(out, at, item.size, item);
        return;
      case "data": {
        const dv = new DataView(out.buffer);
        item.values.forEach((e, i) => {
          const pc = BigInt(address + i * item.width);
          const v = evaluate(e, this.scope(pc));
          const bits = BigInt(item.width * 8);
          if (item.width < 8 && (v < -(1n << (bits - 1n)) || v >= 1n << bits)) {
            throw new ExprError(
              `value ${v} does not fit in ${item.width} byte${item.width > 1 ? "s" : ""} ` +
                `(${-(1n << (bits - 1n))}..${(1n << bits) - 1n})`,
              e.col,
            );
          }
          const u = BigInt.asUintN(64, v);
          for (let b = 0; b < item.width; b++) {
            dv.setUint8(at + i * item.width + b, Number((u >> BigInt(8 * b)) & 0xffn));
          }
        });
        return;
      }
      case "insn": {
        const emitted: Emitted[] = item.build(this.context(BigInt(address), item));
        let off = at;
        for (const e of emitted) {
          const size = emittedSize(e);
          const word = encodeEmitted(e);
          for (let b = 0; b < size; b++) out[off + b] = (word >>> (8 * b)) & 0xff;
          off += size;
        }
        const used = off - at;
        if (used > item.size) {
          throw new AsmError(
            item.line,
            item.col,
            `internal error: ${used} bytes emitted into ${item.size}`,
          );
        }
        fillNops(out, off, item.size - used);
        return;
      }
    }
  }
}

// ---- helpers ---------------------------------------------------------------------------------

function localName(label: string, n: number): string {
  return `.L${label}\u0002${n}`;
}

function replaceHere(e: Expr, name: string): Expr {
  switch (e.kind) {
    case "here":
      return { kind: "symbol", name, col: e.col };
    case "unary":
    case "modifier":
      return { ...e, arg: replaceHere(e.arg, name) };
    case "binary":
      return { ...e, left: replaceHere(e.left, name), right: replaceHere(e.right, name) };
    default:
      return e;
  }
}

/** Adds advice to encoder messages that students commonly hit. */
function withHint(message: string): string {
  if (/^(addi|addiw|andi|ori|xori|slti|sltiu): immediate .* does not fit/.test(message)) {
    return message + ": load larger constants into a register with li";
  }
  if (/^jal: jump offset .* does not fit/.test(message)) {
    return message + ": the target is beyond ±1 MiB; call and tail reach ±2 GiB";
  }
  if (/^c\.(beqz|bnez|j): .* offset .* does not fit/.test(message)) {
    return message + ": write beqz, bnez or j and the assembler picks a form that reaches";
  }
  return message;
}

/** Maps a section name onto one of the four output sections, as GNU ld's default script does. */
function sectionFor(
  name: string,
  flags: string | undefined,
  fail: (msg: string) => Error,
): SectionName {
  for (
    const [prefixes, out] of [
      [[".text"], ".text"],
      [[".rodata", ".srodata"], ".rodata"],
      [[".data", ".sdata"], ".data"],
      [[".bss", ".sbss"], ".bss"],
    ] as const
  ) {
    if (prefixes.some((p) => name === p || name.startsWith(p + "."))) return out;
  }
  const f = flags?.replace(/"/g, "") ?? "";
  if (f.includes("x")) return ".text";
  if (f.includes("w")) return ".data";
  if (f.includes("a")) return ".rodata";
  throw fail(
    `section ${name} has no place in the image: use .text, .rodata, .data or .bss ` +
      `(or .text.name and so on), or give flags such as "ax", "a" or "aw"`,
  );
}

/** Decodes a string operand ("...") into bytes, with a NUL after it when `terminate`. */
function parseString(o: Located, terminate: boolean): Uint8Array {
  const t = o.text;
  if (t.length < 2 || !t.startsWith('"') || !t.endsWith('"')) {
    throw new ExprError(`expected a string in double quotes, such as "hello\\n"`, o.col);
  }
  const out: number[] = [];
  const enc = new TextEncoder();
  for (let i = 1; i < t.length - 1;) {
    if (t[i] === "\\") {
      const { value, next } = readEscape(t, i + 1, o.col + i);
      out.push(value);
      i = next;
    } else {
      const cp = t.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      out.push(...enc.encode(ch));
      i += ch.length;
    }
  }
  if (terminate) out.push(0);
  return new Uint8Array(out);
}

function alignPadding(offset: number, item: AlignItem): number {
  const pad = (item.align - (offset % item.align)) % item.align;
  return pad > item.max ? 0 : pad;
}

/**
 * Fills alignment padding. In code (no fill byte given, .text), GNU as pads with an odd
 * zero byte if needed, then a c.nop when 2 bytes remain (with rvc), then nops.
 */
function fillPadding(out: Uint8Array, at: number, size: number, item: AlignItem): void {
  if (!item.code) {
    out.fill(item.fill ?? 0, at, at + size);
    return;
  }
  let off = at, left = size;
  if (left % 2) {
    out[off++] = 0;
    left--;
  }
  if (left % 4 === 2 && item.rvc) {
    out[off] = 0x01;
    out[off + 1] = 0x00;
    off += 2;
    left -= 2;
  }
  fillNops(out, off, left);
}

/** Pads `size` bytes of code with nop (addi zero, zero, 0), and a c.nop for an odd halfword. */
function fillNops(out: Uint8Array, at: number, size: number): void {
  let off = at;
  if (size % 4 === 2) {
    out[off] = 0x01;
    out[off + 1] = 0x00;
    off += 2;
  }
  for (; off + 4 <= at + size; off += 4) {
    out[off] = 0x13;
    out[off + 1] = out[off + 2] = out[off + 3] = 0;
  }
}

/**
 * Assembles `source` (GNU as syntax) into a flat image at `options.origin`. Throws
 * {@link AsmError} at the first error, naming its line and column, what is wrong and what
 * would be accepted.
 */
export function assembleRiscv(source: string, options: AsmOptions = {}): AsmResult {
  const origin = options.origin ?? DEFAULT_ORIGIN;
  if (!Number.isSafeInteger(origin) || origin < 0 || origin % 4 !== 0) {
    throw new RangeError(`origin ${origin} must be a non-negative multiple of 4`);
  }
  const asm = new Assembly(source, origin, options.dataAlign ?? 1, options.compressed ?? false);
  asm.read();
  asm.layout();
  return asm.emit();
}
