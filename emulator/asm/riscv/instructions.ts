/**
 * From a written instruction to the instructions it assembles to: operand parsing for
 * every mnemonic of the encoder table, the pseudo-instructions of the RISC-V assembly
 * programmer's handbook (Volume I, ch. 25, Tables 25.2-25.3), branch relaxation, and
 * GNU as's `.insn` directive.
 *
 * Parsing happens once, when the statement is read, and yields a {@link Builder}: a
 * function that, given the instruction's address and the current symbol values, returns
 * the instructions to emit. The assembler calls it on every layout pass, because what a
 * branch or `li` becomes can depend on where labels land, and once more to emit.
 *
 * @module
 */

import type { Expr } from "../expr.ts";
import type { Located } from "../statements.ts";
import { compress, type Encodable } from "./compress.ts";
import { CSR_NUMBERS } from "./csr_names.ts";
import {
  encodeB,
  EncodeError,
  encodeI,
  encodeJ,
  encodeR,
  encodeS,
  encodeU,
  type InstructionDef,
  INSTRUCTIONS,
  type OperandKind,
  registerNumber,
} from "./encode.ts";
import { liSteps } from "./li.ts";

/** An instruction word given as bits (from `.insn`), 2 or 4 bytes long. */
export interface RawWord {
  /** The bits. */
  readonly raw: number;
  /** Its length in bytes. */
  readonly size: 2 | 4;
}

/** What a builder emits: an encoder-table instruction or raw bits. */
export type Emitted = Encodable | RawWord;

/** What a builder may ask of the assembler while it decides and encodes. */
export interface BuildContext {
  /** The address of the (first) instruction. */
  readonly pc: bigint;
  /** Whether `.option rvc` was in force at this statement. */
  readonly rvc: boolean;
  /** The bytes the layout has reserved for this statement so far (choose no fewer). */
  readonly allocated: number;
  /** Evaluates `e`, with `.` and pc-relative operators taken at `pc` (default: `this.pc`). */
  value(e: Expr, pc?: bigint): bigint;
  /** Whether `e` is a plain constant: no label, no `.`, no relocation operator. */
  isConstant(e: Expr): boolean;
}

/** Decides and returns the instructions a statement assembles to. */
export type Builder = (ctx: BuildContext) => Emitted[];

/** A malformed operand list; `column` points at the offending operand. */
export class OperandError extends Error {
  /** Builds the error. */
  constructor(message: string, readonly column: number) {
    super(message);
    this.name = "OperandError";
  }
}

/** The size in bytes of an emitted instruction. */
export function emittedSize(e: Emitted): number {
  return "raw" in e ? e.size : INSTRUCTIONS.get(e.mnemonic)!.size;
}

/** Encodes an emitted instruction into its bits; throws EncodeError when it cannot. */
export function encodeEmitted(e: Emitted): number {
  if ("raw" in e) return e.raw;
  const def = INSTRUCTIONS.get(e.mnemonic)!;
  try {
    return def.encode(e.ops);
  } catch (err) {
    if (err instanceof EncodeError) throw new EncodeError(`${e.mnemonic}: ${err.message}`);
    throw err;
  }
}

/** A 64-bit value as an operand number; values beyond 2^53 fit no instruction field anyway. */
function num(v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new EncodeError(`value ${v} (0x${BigInt.asUintN(64, v).toString(16)}) fits no operand`);
  }
  return Number(v);
}

const REGISTER_HELP = "write x0..x31 or an ABI name (zero, ra, sp, gp, tp, t0-t6, s0-s11, a0-a7)";

/** The operands of one statement, with parsers for each kind of operand. */
export class Operands {
  /** Builds a reader over `items`; `parse` turns operand text into an expression. */
  constructor(
    readonly mnemonic: string,
    readonly items: readonly Located[],
    readonly col: number,
    readonly parse: (text: string, col: number) => Expr,
  ) {}

  /** How many operands were written. */
  get length(): number {
    return this.items.length;
  }

  /** Checks the operand count against `allowed`; `usage` shows the accepted forms. */
  count(usage: string, ...allowed: number[]): void {
    if (allowed.includes(this.items.length)) return;
    const n = allowed.join(" or ");
    throw new OperandError(
      `${this.mnemonic} takes ${n} operand${n === "1" ? "" : "s"}, not ${this.items.length}: ` +
        usage,
      this.items[allowed[0]]?.col ?? this.col,
    );
  }

  #item(i: number): Located {
    return this.items[i];
  }

  /** Whether operand `i` names a register. */
  isReg(i: number): boolean {
    return registerNumber(this.#item(i).text) !== undefined;
  }

  /** Operand `i` as a register number. */
  reg(i: number): number {
    const it = this.#item(i);
    const r = registerNumber(it.text);
    if (r === undefined) {
      throw new OperandError(
        `operand ${i + 1} of ${this.mnemonic}, "${it.text}", is not a register: ${REGISTER_HELP}`,
        it.col,
      );
    }
    return r;
  }

  /** Operand `i` as an expression. */
  expr(i: number): Expr {
    const it = this.#item(i);
    if (registerNumber(it.text) !== undefined) {
      throw new OperandError(
        `operand ${i + 1} of ${this.mnemonic} is the register ${it.text}, ` +
          `but an immediate or address is expected here`,
        it.col,
      );
    }
    return this.parse(it.text, it.col);
  }

  /**
   * Operand `i` as a memory operand `offset(reg)` or `(reg)`; undefined when it has no
   * `(register)` at its end (then it may be a symbol, for `lw a0, sym`).
   */
  mem(i: number): { offset: Expr; base: number } | undefined {
    const it = this.#item(i);
    const t = it.text;
    if (!t.endsWith(")")) return undefined;
    let depth = 0, open = -1;
    for (let j = t.length - 1; j >= 0; j--) {
      if (t[j] === ")") depth++;
      else if (t[j] === "(" && --depth === 0) {
        open = j;
        break;
      }
    }
    if (open < 0) return undefined;
    const base = registerNumber(t.slice(open + 1, -1).trim());
    if (base === undefined) return undefined;
    const head = t.slice(0, open).trim();
    const offset: Expr = head
      ? this.parse(head, it.col)
      : { kind: "number", value: 0n, col: it.col };
    return { offset, base };
  }

  /** Operand `i` as a memory operand, or an error saying that one is expected. */
  needMem(i: number, usage: string): { offset: Expr; base: number } {
    const m = this.mem(i);
    if (!m) {
      const it = this.#item(i);
      throw new OperandError(
        `operand ${i + 1} of ${this.mnemonic}, "${it.text}", is not a memory operand: ` +
          `write offset(register), such as 8(sp) or 0(a0) (${usage})`,
        it.col,
      );
    }
    return m;
  }

  /** Operand `i` as a CSR: a name such as `sstatus`, or a number 0..4095. */
  csr(i: number): Expr {
    const it = this.#item(i);
    const n = CSR_NUMBERS.get(it.text.toLowerCase());
    if (n !== undefined) return { kind: "number", value: BigInt(n), col: it.col };
    return this.expr(i);
  }

  /** Operand `i` as a fence set: letters from `iorw`, in that order (I=8 O=4 R=2 W=1). */
  fenceSet(i: number): number {
    const it = this.#item(i);
    const m = /^(i?)(o?)(r?)(w?)$/i.exec(it.text);
    if (!m || !it.text) {
      throw new OperandError(
        `"${it.text}" is not a fence set: write some of i, o, r, w in that order, such as rw or iorw`,
        it.col,
      );
    }
    return (m[1] ? 8 : 0) | (m[2] ? 4 : 0) | (m[3] ? 2 : 0) | (m[4] ? 1 : 0);
  }
}

// ---- written forms and compression --------------------------------------------------------

/** An instruction as written: the form the compressor looks up, and its base encoding. */
interface Written {
  readonly form: string;
  readonly formOps: readonly number[];
  readonly base: Encodable;
}

function written(form: string, mnemonic: string, ops: number[], formOps = ops): Written {
  return { form, formOps, base: { mnemonic, ops } };
}

/** Each written instruction, compressed when `.option rvc` is on and GNU as would. */
function finish(ctx: BuildContext, list: Written[], constant = true): Emitted[] {
  return list.map((w) => (ctx.rvc && constant && compress(w.form, w.formOps)) || w.base);
}

function encodes(e: Emitted): boolean {
  try {
    encodeEmitted(e);
    return true;
  } catch (err) {
    if (err instanceof EncodeError) return false;
    throw err;
  }
}

/**
 * The first of `forms` (shortest first) that encodes and is no shorter than what the
 * layout reserved; the last form when none encodes, so that emitting it reports why.
 */
function pick(ctx: BuildContext, forms: Emitted[][]): Emitted[] {
  for (const f of forms) {
    if (f.reduce((n, e) => n + emittedSize(e), 0) < ctx.allocated) continue;
    if (f.every(encodes)) return f;
  }
  return forms[forms.length - 1];
}

const isC = (r: number) => r >= 8 && r <= 15;

// ---- branches and jumps ------------------------------------------------------------------

const INVERSE: Record<string, string> = {
  beq: "bne",
  bne: "beq",
  blt: "bge",
  bge: "blt",
  bltu: "bgeu",
  bgeu: "bltu",
};

/**
 * A conditional branch to `target`, relaxed as GNU as does: `c.beqz`/`c.bnez` when written
 * as one and in reach (±256 bytes), else the 4-byte branch (±4 KiB), else the inverted
 * branch over a `jal` (±1 MiB).
 */
function branch(name: string, rs1: number, rs2: number, target: Expr, rvcForm: boolean): Builder {
  const cName = name === "beq" ? "c.beqz" : "c.bnez";
  const cInverse = name === "beq" ? "c.bnez" : "c.beqz";
  return (ctx) => {
    const off = num(ctx.value(target) - ctx.pc);
    const forms: Emitted[][] = [];
    const rvc = ctx.rvc && rvcForm;
    if (rvc) forms.push([{ mnemonic: cName, ops: [rs1, off] }]);
    forms.push([{ mnemonic: name, ops: [rs1, rs2, off] }]);
    if (rvc) {
      forms.push([{ mnemonic: cInverse, ops: [rs1, 6] }, { mnemonic: "jal", ops: [0, off - 2] }]);
    }
    forms.push([{ mnemonic: INVERSE[name], ops: [rs1, rs2, 8] }, {
      mnemonic: "jal",
      ops: [0, off - 4],
    }]);
    return pick(ctx, forms);
  };
}

/** `j target`: `c.j` when in reach (±2 KiB) and rvc is on, else `jal zero` (±1 MiB). */
function jump(target: Expr): Builder {
  return (ctx) => {
    const off = num(ctx.value(target) - ctx.pc);
    const forms: Emitted[][] = [];
    if (ctx.rvc) forms.push([{ mnemonic: "c.j", ops: [off] }]);
    forms.push([{ mnemonic: "jal", ops: [0, off] }]);
    return pick(ctx, forms);
  };
}

/** auipc + a second instruction reaching `target` pc-relatively (la, call, lw a0, sym). */
function pcrelPair(
  rd: number,
  target: Expr,
  second: (lo: number) => Encodable,
): Builder {
  return (ctx) => {
    const delta = ctx.value(target) - ctx.pc;
    const hi = (delta + 0x800n) >> 12n;
    if (hi < -(1n << 19n) || hi >= 1n << 19n) {
      throw new EncodeError(
        `the target is ${delta} bytes away, beyond the ±2 GiB that auipc can reach`,
      );
    }
    const lo = Number(delta - (hi << 12n));
    return [{ mnemonic: "auipc", ops: [rd, Number(BigInt.asUintN(20, hi))] }, second(lo)];
  };
}

// ---- the statement handlers ----------------------------------------------------------------

type Handler = (r: Operands) => Builder;

const LOADS = ["lb", "lh", "lw", "ld", "lbu", "lhu", "lwu"];
const STORES = ["sb", "sh", "sw", "sd"];

function unary(usage: string, make: (rd: number, rs: number) => Written): Handler {
  return (r) => {
    r.count(usage, 2);
    const w = make(r.reg(0), r.reg(1));
    return (ctx) => finish(ctx, [w]);
  };
}

function zeroBranch(usage: string, name: string, swap: boolean): Handler {
  return (r) => {
    r.count(usage, 2);
    const rs = r.reg(0), target = r.expr(1);
    return swap
      ? branch(name, 0, rs, target, false)
      : branch(name, rs, 0, target, (name === "beq" || name === "bne") && isC(rs));
  };
}

function swappedBranch(usage: string, name: string): Handler {
  return (r) => {
    r.count(usage, 3);
    return branch(name, r.reg(1), r.reg(0), r.expr(2), false);
  };
}

function counter(name: string, csr: number): Handler {
  return (r) => {
    r.count(`${name} rd`, 1);
    const w = written("csrrs", "csrrs", [r.reg(0), csr, 0]);
    return () => [w.base];
  };
}

/** `csrw csr, rs` style: a register source uses the register form, a value the *i form. */
function csrWrite(name: string, regForm: string, immForm: string): Handler {
  return (r) => {
    r.count(`${name} csr, rs1 (or an immediate 0..31)`, 2);
    const csr = r.csr(0);
    if (r.isReg(1)) {
      const rs = r.reg(1);
      return (ctx) => [{ mnemonic: regForm, ops: [0, num(ctx.value(csr)), rs] }];
    }
    const imm = r.expr(1);
    return (ctx) => [{ mnemonic: immForm, ops: [0, num(ctx.value(csr)), num(ctx.value(imm))] }];
  };
}

function csrWriteImm(name: string, immForm: string): Handler {
  return (r) => {
    r.count(`${name} csr, uimm5`, 2);
    const csr = r.csr(0), imm = r.expr(1);
    return (ctx) => [{ mnemonic: immForm, ops: [0, num(ctx.value(csr)), num(ctx.value(imm))] }];
  };
}

const HANDLERS: Record<string, Handler> = {
  nop: (r) => {
    r.count("nop", 0);
    const w = written("nop", "addi", [0, 0, 0], []);
    return (ctx) => finish(ctx, [w]);
  },
  li: (r) => {
    r.count("li rd, imm (any 64-bit value)", 2);
    const rd = r.reg(0), e = r.expr(1);
    return (ctx) =>
      finish(
        ctx,
        liSteps(rd, ctx.value(e)).map((s) =>
          s.form === "li"
            ? written("li", "addi", [...s.ops], [rd, s.ops[2]])
            : written(s.form, s.form, [...s.ops])
        ),
      );
  },
  la: (r) => {
    r.count("la rd, symbol", 2);
    const rd = r.reg(0), target = r.expr(1);
    return pcrelPair(rd, target, (lo) => ({ mnemonic: "addi", ops: [rd, rd, lo] }));
  },
  lla: (r) => HANDLERS.la(r),
  call: (r) => {
    r.count("call symbol, or call rd, symbol", 1, 2);
    const rd = r.length === 2 ? r.reg(0) : 1, target = r.expr(r.length - 1);
    return pcrelPair(rd, target, (lo) => ({ mnemonic: "jalr", ops: [rd, lo, rd] }));
  },
  tail: (r) => {
    r.count("tail symbol", 1);
    // GNU as 2.40 uses t1 (x6) as the scratch register of tail.
    return pcrelPair(6, r.expr(0), (lo) => ({ mnemonic: "jalr", ops: [0, lo, 6] }));
  },
  ret: (r) => {
    r.count("ret", 0);
    const w = written("ret", "jalr", [0, 0, 1], []);
    return (ctx) => finish(ctx, [w]);
  },
  j: (r) => {
    r.count("j target", 1);
    return jump(r.expr(0));
  },
  jal: (r) => {
    r.count("jal target, or jal rd, target", 1, 2);
    const rd = r.length === 2 ? r.reg(0) : 1, target = r.expr(r.length - 1);
    return (ctx) => [{ mnemonic: "jal", ops: [rd, num(ctx.value(target) - ctx.pc)] }];
  },
  jr: (r) => {
    r.count("jr rs, jr rs, imm, or jr imm(rs)", 1, 2);
    const m = r.length === 1 ? r.mem(0) : undefined;
    if (r.length === 1 && !m) {
      const w = written("jr", "jalr", [0, 0, r.reg(0)], [r.reg(0)]);
      return (ctx) => finish(ctx, [w]);
    }
    const base = m ? m.base : r.reg(0), offset = m ? m.offset : r.expr(1);
    return (ctx) => [{ mnemonic: "jalr", ops: [0, num(ctx.value(offset)), base] }];
  },
  jalr: (r) => {
    const usage = "jalr rs, jalr rd, rs, jalr rs, imm, jalr rd, rs, imm, or jalr rd, imm(rs)";
    r.count(usage, 1, 2, 3);
    if (r.length === 1 && !r.mem(0)) {
      const rs = r.reg(0);
      const w = written("jalr rs", "jalr", [1, 0, rs], [rs]);
      return (ctx) => finish(ctx, [w]);
    }
    let rd = 1, base: number, offset: Expr = { kind: "number", value: 0n, col: r.col };
    if (r.length === 1) ({ base, offset } = r.mem(0)!);
    else if (r.length === 2 && r.mem(1)) [rd, { base, offset }] = [r.reg(0), r.mem(1)!];
    else if (r.length === 2 && r.isReg(1)) [rd, base] = [r.reg(0), r.reg(1)];
    else if (r.length === 2) [base, offset] = [r.reg(0), r.expr(1)];
    else [rd, base, offset] = [r.reg(0), r.reg(1), r.expr(2)];
    return (ctx) => [{ mnemonic: "jalr", ops: [rd, num(ctx.value(offset)), base] }];
  },
  mv: unary("mv rd, rs", (rd, rs) => written("mv", "addi", [rd, rs, 0], [rd, rs])),
  not: unary("not rd, rs", (rd, rs) => written("not", "xori", [rd, rs, -1])),
  neg: unary("neg rd, rs", (rd, rs) => written("neg", "sub", [rd, 0, rs])),
  negw: unary("negw rd, rs", (rd, rs) => written("negw", "subw", [rd, 0, rs])),
  "sext.w": unary("sext.w rd, rs", (rd, rs) => written("sext.w", "addiw", [rd, rs, 0], [rd, rs])),
  "zext.b": unary("zext.b rd, rs", (rd, rs) => written("zext.b", "andi", [rd, rs, 255])),
  seqz: unary("seqz rd, rs", (rd, rs) => written("seqz", "sltiu", [rd, rs, 1])),
  snez: unary("snez rd, rs", (rd, rs) => written("snez", "sltu", [rd, 0, rs])),
  sltz: unary("sltz rd, rs", (rd, rs) => written("sltz", "slt", [rd, rs, 0])),
  sgtz: unary("sgtz rd, rs", (rd, rs) => written("sgtz", "slt", [rd, 0, rs])),
  beqz: zeroBranch("beqz rs, target", "beq", false),
  bnez: zeroBranch("bnez rs, target", "bne", false),
  bltz: zeroBranch("bltz rs, target", "blt", false),
  bgez: zeroBranch("bgez rs, target", "bge", false),
  blez: zeroBranch("blez rs, target", "bge", true),
  bgtz: zeroBranch("bgtz rs, target", "blt", true),
  bgt: swappedBranch("bgt rs, rt, target", "blt"),
  ble: swappedBranch("ble rs, rt, target", "bge"),
  bgtu: swappedBranch("bgtu rs, rt, target", "bltu"),
  bleu: swappedBranch("bleu rs, rt, target", "bgeu"),
  csrr: (r) => {
    r.count("csrr rd, csr", 2);
    const rd = r.reg(0), csr = r.csr(1);
    return (ctx) => [{ mnemonic: "csrrs", ops: [rd, num(ctx.value(csr)), 0] }];
  },
  csrw: csrWrite("csrw", "csrrw", "csrrwi"),
  csrs: csrWrite("csrs", "csrrs", "csrrsi"),
  csrc: csrWrite("csrc", "csrrc", "csrrci"),
  csrwi: csrWriteImm("csrwi", "csrrwi"),
  csrsi: csrWriteImm("csrsi", "csrrsi"),
  csrci: csrWriteImm("csrci", "csrrci"),
  rdcycle: counter("rdcycle", 0xc00),
  rdtime: counter("rdtime", 0xc01),
  rdinstret: counter("rdinstret", 0xc02),
  fence: (r) => {
    r.count("fence, or fence pred, succ (such as fence rw, rw)", 0, 2);
    const [pred, succ] = r.length ? [r.fenceSet(0), r.fenceSet(1)] : [15, 15];
    return () => [{ mnemonic: "fence", ops: [pred, succ] }];
  },
  "sfence.vma": (r) => {
    r.count("sfence.vma, sfence.vma rs1, or sfence.vma rs1, rs2", 0, 1, 2);
    const rs1 = r.length > 0 ? r.reg(0) : 0, rs2 = r.length > 1 ? r.reg(1) : 0;
    return () => [{ mnemonic: "sfence.vma", ops: [rs1, rs2] }];
  },
  unimp: (r) => {
    r.count("unimp", 0);
    // csrrw zero, cycle, zero: a write to a read-only CSR, illegal everywhere.
    const w = written("unimp", "csrrw", [0, 0xc00, 0], []);
    return (ctx) => finish(ctx, [w]);
  },
};

for (const name of ["beq", "bne", "blt", "bge", "bltu", "bgeu"]) {
  HANDLERS[name] = (r) => {
    r.count(`${name} rs1, rs2, target`, 3);
    const rs1 = r.reg(0), rs2 = r.reg(1);
    return branch(
      name,
      rs1,
      rs2,
      r.expr(2),
      (name === "beq" || name === "bne") && rs2 === 0 && isC(rs1),
    );
  };
}

// A load or store whose address is a symbol: reached pc-relatively through auipc.
for (const name of LOADS) {
  HANDLERS[name] = (r) => {
    if (r.length === 2 && r.isReg(1)) {
      throw new OperandError(
        `operand 2 of ${name} is the register ${r.items[1].text}: write a memory operand ` +
          `such as 0(${r.items[1].text})`,
        r.items[1].col,
      );
    }
    if (r.length === 2 && !r.mem(1)) {
      const rd = r.reg(0), target = r.expr(1);
      return pcrelPair(rd, target, (lo) => ({ mnemonic: name, ops: [rd, lo, rd] }));
    }
    return generic(INSTRUCTIONS.get(name)!, r);
  };
}
for (const name of STORES) {
  HANDLERS[name] = (r) => {
    if (r.length === 3) {
      const rs2 = r.reg(0), target = r.expr(1), rt = r.reg(2);
      return pcrelPair(rt, target, (lo) => ({ mnemonic: name, ops: [rs2, lo, rt] }));
    }
    if (r.length === 2 && !r.mem(1)) {
      throw new OperandError(
        `a store to a symbol needs a scratch register for its address: ${name} rs2, symbol, rt`,
        r.items[1].col,
      );
    }
    return generic(INSTRUCTIONS.get(name)!, r);
  };
}

/** How an instruction of the encoder table is written, for messages: `lw rd, imm(rs1)`. */
export function usageOf(def: InstructionDef): string {
  const ops = def.operands.map((k) => k === "offset" ? "target" : k).join(", ");
  return ops ? `${def.mnemonic} ${ops}` : def.mnemonic;
}

/** An instruction of the encoder table, operands parsed by their kinds. */
function generic(def: InstructionDef, r: Operands): Builder {
  const usage = usageOf(def);
  r.count(usage, def.operands.length);
  // Each slot is a fixed number (register, fence set) or an expression to evaluate.
  type Slot = number | { expr: Expr; pcRelative: boolean };
  const slots: Slot[] = [];
  def.operands.forEach((kind: OperandKind, i) => {
    switch (kind) {
      case "imm":
        slots.push({ expr: r.expr(i), pcRelative: false });
        break;
      case "offset":
        slots.push({ expr: r.expr(i), pcRelative: true });
        break;
      case "csr":
        slots.push({ expr: r.csr(i), pcRelative: false });
        break;
      case "pred":
      case "succ":
        slots.push(r.fenceSet(i));
        break;
      case "imm(rs1)":
      case "imm(rs1')":
      case "imm(sp)": {
        const m = r.needMem(i, usage);
        slots.push({ expr: m.offset, pcRelative: false }, m.base);
        break;
      }
      case "(rs1)": {
        const m = r.needMem(i, usage);
        if (m.offset.kind !== "number" || m.offset.value !== 0n) {
          throw new OperandError(
            `${def.mnemonic} takes no offset: write (rs1) or 0(rs1)`,
            r.items[i].col,
          );
        }
        slots.push(m.base);
        break;
      }
      default:
        slots.push(r.reg(i));
    }
  });
  const exprs = slots.filter((s): s is { expr: Expr; pcRelative: boolean } =>
    typeof s !== "number"
  );
  return (ctx) => {
    const ops = slots.map((s) =>
      typeof s === "number" ? s : num(ctx.value(s.expr) - (s.pcRelative ? ctx.pc : 0n))
    );
    const constant = exprs.every((s) => !s.pcRelative && ctx.isConstant(s.expr));
    return finish(ctx, [written(def.mnemonic, def.mnemonic, ops)], constant);
  };
}

// ---- .insn --------------------------------------------------------------------------------

/** The major-opcode names `.insn` accepts (GNU as spells them so). */
const OPCODE_NAMES: Record<string, number> = {
  LOAD: 0x03,
  LOAD_FP: 0x07,
  CUSTOM_0: 0x0b,
  MISC_MEM: 0x0f,
  OP_IMM: 0x13,
  AUIPC: 0x17,
  OP_IMM_32: 0x1b,
  STORE: 0x23,
  STORE_FP: 0x27,
  CUSTOM_1: 0x2b,
  AMO: 0x2f,
  OP: 0x33,
  LUI: 0x37,
  OP_32: 0x3b,
  MADD: 0x43,
  MSUB: 0x47,
  NMSUB: 0x4b,
  NMADD: 0x4f,
  OP_FP: 0x53,
  CUSTOM_2: 0x5b,
  BRANCH: 0x63,
  JALR: 0x67,
  JAL: 0x6f,
  SYSTEM: 0x73,
  CUSTOM_3: 0x7b,
};

/**
 * `.insn`: an instruction given by its format and fields (GNU as syntax), or as raw bits.
 * `r op, f3, f7, rd, rs1, rs2`; `i op, f3, rd, rs1, imm` or `i op, f3, rd, imm(rs1)`;
 * `s op, f3, rs2, imm(rs1)`; `b op, f3, rs1, rs2, target`; `u op, rd, imm`;
 * `j op, rd, target`; or `.insn value`.
 */
export function insnDirective(first: Located, rest: Operands): Builder {
  const m = /^([a-z]+)\s+(.*)$/i.exec(first.text);
  const format = m?.[1].toLowerCase();
  if (
    m && !/^[0-9]/.test(first.text) && !["r", "i", "s", "b", "sb", "u", "j", "uj"].includes(format!)
  ) {
    throw new OperandError(
      `unknown .insn format "${m[1]}": use r, i, s, b, u or j, or give the instruction's value`,
      first.col,
    );
  }
  if (!m || !["r", "i", "s", "b", "sb", "u", "j", "uj"].includes(format!)) {
    // Raw bits: `.insn 0x0000000b`, or with the length first, `.insn 4, 0x13`.
    rest.count(".insn value, .insn length, value, or .insn FORMAT fields (r i s b u j)", 0, 1);
    const length = rest.length ? rest.parse(first.text, first.col) : undefined;
    const e = rest.length ? rest.expr(0) : rest.parse(first.text, first.col);
    return (ctx) => {
      const v = num(ctx.value(e));
      if (v < 0 || v > 0xffff_ffff) throw new EncodeError(`.insn value ${v} is not 16 or 32 bits`);
      const size = (v & 3) === 3 ? 4 : 2;
      if (length && num(ctx.value(length)) !== size) {
        throw new EncodeError(
          `.insn length ${
            ctx.value(length)
          } does not match the value: its low bits make it ${size} bytes`,
        );
      }
      if (size === 2 && v > 0xffff) {
        throw new EncodeError(
          `.insn value 0x${v.toString(16)} has low bits other than 11: a 16-bit instruction`,
        );
      }
      return [{ raw: v, size }];
    };
  }
  const ops = new Operands(
    ".insn " + format,
    [
      { text: m[2].trim(), col: first.col + m[0].length - m[2].length },
      ...rest.items,
    ],
    first.col,
    rest.parse,
  );
  const opcode = (i: number): Expr => {
    const name = ops.items[i].text.toUpperCase();
    return name in OPCODE_NAMES
      ? { kind: "number", value: BigInt(OPCODE_NAMES[name]), col: ops.items[i].col }
      : ops.expr(i);
  };
  const field = (ctx: BuildContext, e: Expr, bits: number, what: string): number => {
    const v = num(ctx.value(e));
    if (v < 0 || v >= 2 ** bits) throw new EncodeError(`${what} ${v} does not fit in ${bits} bits`);
    return v;
  };
  const op7 = (ctx: BuildContext, e: Expr): number => {
    const v = field(ctx, e, 7, "opcode");
    if ((v & 3) !== 3) {
      throw new EncodeError(
        `opcode 0x${v.toString(16)} of a 32-bit instruction must end in binary 11`,
      );
    }
    return v;
  };
  switch (format) {
    case "r": {
      ops.count(".insn r opcode, funct3, funct7, rd, rs1, rs2", 6);
      const [o, f3, f7] = [opcode(0), ops.expr(1), ops.expr(2)];
      const [rd, rs1, rs2] = [ops.reg(3), ops.reg(4), ops.reg(5)];
      return (ctx) => [{
        raw: encodeR(
          op7(ctx, o),
          field(ctx, f3, 3, "funct3"),
          field(ctx, f7, 7, "funct7"),
          rd,
          rs1,
          rs2,
        ),
        size: 4,
      }];
    }
    case "i": {
      ops.count(
        ".insn i opcode, funct3, rd, rs1, imm or .insn i opcode, funct3, rd, imm(rs1)",
        4,
        5,
      );
      const [o, f3, rd] = [opcode(0), ops.expr(1), ops.reg(2)];
      const { base, offset } = ops.length === 4
        ? ops.needMem(3, ".insn i opcode, funct3, rd, imm(rs1)")
        : { base: ops.reg(3), offset: ops.expr(4) };
      return (ctx) => [{
        raw: encodeI(op7(ctx, o), field(ctx, f3, 3, "funct3"), rd, base, num(ctx.value(offset))),
        size: 4,
      }];
    }
    case "s": {
      ops.count(".insn s opcode, funct3, rs2, imm(rs1)", 4);
      const [o, f3, rs2] = [opcode(0), ops.expr(1), ops.reg(2)];
      const { base, offset } = ops.needMem(3, ".insn s opcode, funct3, rs2, imm(rs1)");
      return (ctx) => [{
        raw: encodeS(op7(ctx, o), field(ctx, f3, 3, "funct3"), base, rs2, num(ctx.value(offset))),
        size: 4,
      }];
    }
    case "b":
    case "sb": {
      ops.count(".insn b opcode, funct3, rs1, rs2, target", 5);
      const [o, f3, rs1, rs2, t] = [opcode(0), ops.expr(1), ops.reg(2), ops.reg(3), ops.expr(4)];
      return (ctx) => [{
        raw: encodeB(
          op7(ctx, o),
          field(ctx, f3, 3, "funct3"),
          rs1,
          rs2,
          num(ctx.value(t) - ctx.pc),
        ),
        size: 4,
      }];
    }
    case "u": {
      ops.count(".insn u opcode, rd, imm", 3);
      const [o, rd, imm] = [opcode(0), ops.reg(1), ops.expr(2)];
      return (ctx) => [{ raw: encodeU(op7(ctx, o), rd, num(ctx.value(imm))), size: 4 }];
    }
    default: {
      ops.count(".insn j opcode, rd, target", 3);
      const [o, rd, t] = [opcode(0), ops.reg(1), ops.expr(2)];
      return (ctx) => [{ raw: encodeJ(op7(ctx, o), rd, num(ctx.value(t) - ctx.pc)), size: 4 }];
    }
  }
}

// ---- entry point ----------------------------------------------------------------------------

/** Every mnemonic the assembler accepts (instructions and pseudo-instructions). */
export function knownMnemonics(): string[] {
  return [...new Set([...INSTRUCTIONS.keys(), ...Object.keys(HANDLERS)])].sort();
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(
        d[i - 1][j] + 1,
        d[i][j - 1] + 1,
        d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
  }
  return d[a.length][b.length];
}

/**
 * Parses the statement `mnemonic operands...` and returns its builder. Throws
 * OperandError for an unknown mnemonic (suggesting near names) or malformed operands.
 */
export function parseInstruction(r: Operands): Builder {
  const name = r.mnemonic;
  const handler = HANDLERS[name];
  if (handler) return handler(r);
  const def = INSTRUCTIONS.get(name);
  if (def) return generic(def, r);
  const near = knownMnemonics().filter((m) => distance(m, name) <= (name.length > 3 ? 2 : 1));
  throw new OperandError(
    `unknown instruction "${name}"` +
      (near.length ? `: did you mean ${near.slice(0, 4).join(", ")}?` : ""),
    r.col,
  );
}
