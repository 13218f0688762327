/**
 * Block translation: hot straight-line code compiled to JavaScript functions.
 *
 * The interpreter (exec.ts) counts how often it starts at each instruction; at
 * JIT_THRESHOLD it asks `compileBlock` for the block that begins there: the following
 * instructions of the same page, up to and including a branch, as long as each has a fast
 * form here (moves, loads and stores, the ALU group but ADC/SBB, TEST, INC/DEC, LEA,
 * PUSH/POP, shifts by an immediate, Jcc, JMP, CALL, RET, NOP). The block becomes one
 * JavaScript function of straight-line code, created with `new Function`:
 *
 * - register operands and immediates are constants in the code;
 * - a flag computation is stored only when something may observe it: a later
 *   instruction that reads flags, a possible fault (the exception frame holds RFLAGS), or
 *   the end of the block; a Jcc tests the operands of the block's own CMP or SUB directly;
 * - a block whose branch returns to its own start loops inside the function while the
 *   time budget lasts;
 * - before anything that can fault, the code sets `cpu.ip` and `cpu.icount`, so faults
 *   are precise exactly as in the interpreter, which delivers them.
 *
 * A block stays valid while its bytes are in memory unchanged: it is checked against
 * them when the cache epoch (icache.ts) or this CPU's code-write generation has moved.
 * Translation is an optimization only; `X86CpuOptions.jit = false` turns it off (for
 * hosts that forbid `new Function`, and to test the interpreter alone).
 *
 * @module
 */

import { CANON, type X86Processor } from "./cpu.ts";
import { ea, lea, rsp, setRsp, shiftImm } from "./exec.ts";
import {
  EA_BASE,
  EA_BASE_INDEX,
  EA_RIP,
  type Insn,
  OP_ALU_RI,
  OP_ALU_RM,
  OP_ALU_RR,
  OP_CALL_REL,
  OP_INCDEC_R,
  OP_JCC,
  OP_JMP_REL,
  OP_LEA_R,
  OP_LOAD,
  OP_MOV_RI,
  OP_MOV_RR,
  OP_MOVZX_B,
  OP_NOP,
  OP_POP_R,
  OP_PUSH_R,
  OP_RET,
  OP_SHIFT_RI,
  OP_STORE,
  OP_STORE_I,
  OP_TEST_RR,
  PFX_ADDR32,
} from "./insn.ts";

/** How many times the interpreter starts at an instruction before compiling a block there. */
export const JIT_THRESHOLD = 1000;

/** The most instructions in one block. */
const MAX_BLOCK = 48;

/** A compiled block runs from `cpu.ip` = `va`; returns the new instruction count. */
export type BlockFn = (cpu: X86Processor, n: number) => number;

/** A compiled block. */
export interface Block {
  /** The code. */
  readonly fn: BlockFn;
  /** The virtual address it was compiled for (RIP-relative operands depend on it). */
  readonly va: number;
  /** Instructions in one pass. */
  readonly length: number;
  /** RAM offset of its first byte, and the bytes it was compiled from. */
  readonly at: number;
  /** See {@link at}. */
  readonly bytes: Uint8Array;
  /** The epoch and code-write generation at its last check. */
  epoch: number;
  /** See {@link epoch}. */
  gen: number;
}

/** Handlers whose generated code syncs RIP and the count only on its slow paths. */
const INLINE_MEMORY = new Set([OP_LOAD, OP_STORE, OP_STORE_I, OP_ALU_RM, OP_MOVZX_B]);

/** The helpers generated code calls. */
const HELPERS = { ea, lea, rsp, setRsp, shiftImm };

/** Lazy-flag kinds, as in flags.ts. */
const LF_ADD = 1, LF_SUB = 3, LF_LOGIC = 5, LF_INC = 6, LF_DEC = 7;

/** Whether the block's bytes are still what it was compiled from; updates its stamps. */
export function blockValid(cpu: X86Processor, b: Block, epoch: number): boolean {
  if (b.epoch === epoch && b.gen === cpu.icache.gen) return true;
  const u8 = cpu.u8;
  for (let k = 0; k < b.bytes.length; k++) if (u8[b.at + k] !== b.bytes[k]) return false;
  b.epoch = epoch;
  b.gen = cpu.icache.gen;
  return true;
}

/** What the generator needs to know about an instruction. */
interface Info {
  /** Writes all six status flags (so earlier flag values are dead). */
  writes: boolean;
  /** Reads flags (Jcc; INC and DEC keep CF). */
  reads: boolean;
  /** May raise an exception. */
  faults: boolean;
  /** Ends the block. */
  branch: boolean;
}

/** The generator's view of `i`, or undefined when it has no fast form here. */
function info(i: Insn): Info | undefined {
  const mem = i.rm < 0;
  switch (i.op) {
    case OP_MOV_RR:
    case OP_MOV_RI:
    case OP_LEA_R:
    case OP_NOP:
      return { writes: false, reads: false, faults: false, branch: false };
    case OP_LOAD:
    case OP_STORE:
    case OP_STORE_I:
    case OP_PUSH_R:
    case OP_POP_R:
      return { writes: false, reads: false, faults: true, branch: false };
    case OP_MOVZX_B:
      return { writes: false, reads: false, faults: mem, branch: false };
    case OP_ALU_RR:
    case OP_ALU_RI:
    case OP_ALU_RM:
      if (i.sub === 2 || i.sub === 3) return undefined; // ADC, SBB
      return { writes: true, reads: false, faults: i.op === OP_ALU_RM, branch: false };
    case OP_TEST_RR:
      return { writes: true, reads: false, faults: false, branch: false };
    case OP_INCDEC_R:
      return { writes: true, reads: true, faults: false, branch: false };
    case OP_SHIFT_RI: {
      const c = i.imm & (i.size === 8 ? 63 : 31);
      return { writes: c !== 0, reads: false, faults: false, branch: false };
    }
    case OP_JCC:
      return { writes: false, reads: true, faults: false, branch: true };
    case OP_JMP_REL:
      return { writes: false, reads: false, faults: false, branch: true };
    case OP_CALL_REL:
    case OP_RET:
      return { writes: false, reads: false, faults: true, branch: true };
  }
  return undefined;
}

/** The last flag producer in the block, as locals a Jcc can test directly. */
interface Producer {
  kind: number;
  size: number;
  /** Names of the locals: result, operands (the high halves for 64 bits). */
  v: string;
  a: string;
  b: string;
  vh: string;
  ah: string;
  bh: string;
}

/**
 * Compiles the block starting at `head` (at virtual address `ip`, in the current code
 * page), or returns undefined when the first instruction has no fast form.
 */
export function compileBlock(cpu: X86Processor, head: Insn, ip: number): Block | undefined {
  const insns: Insn[] = [];
  const ips: number[] = [];
  const pageEnd = ip - (ip & 0xfff) + 4096;
  let i = head;
  let at = ip;
  try {
    while (insns.length < MAX_BLOCK) {
      const inf = info(i);
      if (!inf || at + i.len > pageEnd || i.epoch !== cpu.epoch) break;
      if (inf.branch && i.op !== OP_RET) {
        const t = at + i.len + i.imm;
        if (t < -CANON || t >= CANON) break; // let the interpreter raise the #GP
      }
      insns.push(i);
      ips.push(at);
      if (inf.branch) break;
      at += i.len;
      if (at >= pageEnd) break;
      i = cpu.lookup(at);
    }
  } catch {
    // Looking further ahead failed: compile what was collected.
  }
  if (insns.length === 0) return undefined;
  const infos = insns.map((x) => info(x)!);

  // Flag liveness, backwards: flags are live at the end of the block.
  const store: boolean[] = new Array(insns.length);
  let live = true;
  for (let k = insns.length - 1; k >= 0; k--) {
    const f = infos[k];
    store[k] = f.writes && live;
    live = f.reads || f.faults || (live && !f.writes);
  }

  const len = insns.length;
  const start = ips[0];
  const lines: string[] = [];
  const emit = (s: string) => lines.push(s);
  let producer: Producer | undefined;
  let ended = false;
  for (let k = 0; k < len && !ended; k++) {
    const x = insns[k];
    const xip = ips[k];
    const next = xip + x.len;
    const done = `${k + 1}`;
    // Before anything that may fault or read the clock, RIP and the count must be exact.
    // Loads and stores do that on their slow paths only (see `sync`).
    const sync = `cpu.ip = ${xip}; cpu.icount = n + ${done};`;
    if (infos[k].faults && !INLINE_MEMORY.has(x.op)) emit(sync);
    const p = genInsn(x, k, next, store[k], emit, sync);
    if (p !== undefined) producer = p === null ? undefined : p;
    switch (x.op) {
      case OP_JCC: {
        const target = next + x.imm;
        const cond = condition(x.sub, producer);
        emit(`if (${cond}) {`);
        emit(goTo(target, start, len, `n + ${done}`));
        emit(`}`);
        emit(`cpu.ip = ${next}; return n + ${done};`);
        ended = true;
        break;
      }
      case OP_JMP_REL:
        emit(goTo(next + x.imm, start, len, `n + ${done}`));
        ended = true;
        break;
      case OP_CALL_REL:
        emit(
          `{ const sp = H.rsp(cpu) - 8; cpu.st64(sp, ${next | 0}, ${
            Math.floor(next / 4294967296)
          });`,
        );
        emit(`H.setRsp(r, sp); }`);
        emit(goTo(next + x.imm, start, len, `n + ${done}`));
        ended = true;
        break;
      case OP_RET:
        emit(`{ const sp = H.rsp(cpu); cpu.ld64(sp, 32);`);
        emit(`const t = r[33] * 4294967296 + (r[32] >>> 0);`);
        emit(`if (!(t >= -${CANON} && t < ${CANON})) cpu.nonCanonical(false);`);
        emit(`H.setRsp(r, sp + ${8 + x.imm}); cpu.ip = t; return n + ${done}; }`);
        ended = true;
        break;
    }
  }
  if (!ended) emit(`cpu.ip = ${ips[len - 1] + insns[len - 1].len}; return n + ${len};`);

  const body = `return function block(cpu, n) {
  const r = cpu.r32, r8 = cpu.r8, lf = cpu.lf, lv = lf.v, dv = cpu.dv;
  const tv = cpu.tlbVpn, tt = cpu.tlbTag, tp = cpu.tlbPerm, to = cpu.tlbOff;
  const pc = cpu.pcid, ps = cpu.pcidSet, nR = cpu.needR, nW = cpu.needW;
  for (;;) {
${lines.join("\n")}
  }
};`;
  const fn = new Function("H", "I", body)(HELPERS, insns) as BlockFn;
  const total = ips[len - 1] + insns[len - 1].len - start;
  const atRam = cpu.codeFrameOff + (start - cpu.codePageVa);
  return {
    fn,
    va: start,
    length: len,
    at: atRam,
    bytes: cpu.u8.slice(atRam, atRam + total),
    epoch: cpu.epoch,
    gen: cpu.icache.gen,
  };
}

/** Code that continues at `target`: round the loop again if it is the block's start. */
function goTo(target: number, start: number, len: number, count: string): string {
  if (target === start) {
    return `n = ${count}; if (n + ${len} > cpu.loopBudget) { cpu.ip = ${start}; return n; } continue;`;
  }
  return `cpu.ip = ${target}; return ${count};`;
}

/**
 * Emits the code of one instruction (not the branch decision of a terminator). Returns
 * the flag producer it makes (null: flags changed in a way a Jcc cannot test directly),
 * or undefined when it leaves the flags alone.
 */
function genInsn(
  x: Insn,
  k: number,
  next: number,
  storeFlags: boolean,
  emit: (s: string) => void,
  sync: string,
): Producer | null | undefined {
  const D = x.rm << 1, G = x.reg << 1;
  switch (x.op) {
    case OP_NOP:
    case OP_JCC:
    case OP_JMP_REL:
    case OP_CALL_REL:
    case OP_RET:
      return undefined;
    case OP_MOV_RR:
      emit(`r[${D}] = r[${G}]; r[${D + 1}] = ${x.size === 8 ? `r[${G + 1}]` : "0"};`);
      return undefined;
    case OP_MOV_RI:
      emit(`r[${D}] = ${x.imm}; r[${D + 1}] = ${x.size === 8 ? x.imm2 : 0};`);
      return undefined;
    case OP_LEA_R:
      genLea(x, k, next, emit);
      return undefined;
    case OP_LOAD:
    case OP_STORE:
    case OP_STORE_I: {
      genEa(x, k, next, emit, sync);
      const va = `va${k}`;
      const load = x.op === OP_LOAD;
      const lo = x.op === OP_STORE ? `r[${G}]` : `${x.imm}`;
      const hi = x.op === OP_STORE ? `r[${G + 1}]` : `${x.imm2}`;
      emit(`{ ${probe(va, load ? "nR" : "nW")}`);
      emit(`if (o >= 0) {`);
      if (load) {
        emit(
          `r[${G}] = dv.getInt32(o, true); r[${G + 1}] = ${
            x.size === 8 ? "dv.getInt32(o + 4, true)" : "0"
          };`,
        );
        emit(`} else { ${sync}`);
        emit(
          x.size === 8 ? `cpu.ld64(${va}, ${G});` : `r[${G}] = cpu.ld32(${va}); r[${G + 1}] = 0;`,
        );
      } else {
        emit(
          `dv.setInt32(o, ${lo}, true);${x.size === 8 ? ` dv.setInt32(o + 4, ${hi}, true);` : ""}`,
        );
        emit(`} else { ${sync}`);
        emit(x.size === 8 ? `cpu.st64(${va}, ${lo}, ${hi});` : `cpu.st32(${va}, ${lo});`);
      }
      emit(`} }`);
      return undefined;
    }
    case OP_MOVZX_B: {
      const G2 = x.reg << 1;
      if (x.rm >= 0) {
        const byte = x.rm < 16 ? x.rm << 3 : ((x.rm - 16) << 3) + 1;
        emit(`r[${G2}] = r8[${byte}]; r[${G2 + 1}] = 0;`);
      } else {
        genEa(x, k, next, emit, sync);
        emit(`${sync} r[${G2}] = cpu.ld8(va${k}); r[${G2 + 1}] = 0;`);
      }
      return undefined;
    }
    case OP_PUSH_R:
      emit(`{ const sp = H.rsp(cpu) - 8; cpu.st64(sp, r[${D}], r[${D + 1}]); H.setRsp(r, sp); }`);
      return undefined;
    case OP_POP_R:
      emit(`{ const sp = H.rsp(cpu); cpu.ld64(sp, 32); H.setRsp(r, sp + 8);`);
      emit(`r[${D}] = r[32]; r[${D + 1}] = r[33]; }`);
      return undefined;
    case OP_SHIFT_RI:
      emit(`H.shiftImm(lf, r, I[${k}]);`);
      return (x.imm & (x.size === 8 ? 63 : 31)) === 0 ? undefined : null;
    case OP_TEST_RR:
      return genAlu(
        x,
        k,
        4,
        `r[${D}]`,
        `r[${D + 1}]`,
        `r[${G}]`,
        `r[${G + 1}]`,
        false,
        storeFlags,
        emit,
      );
    case OP_INCDEC_R:
      return genIncDec(x, k, storeFlags, emit);
    case OP_ALU_RR:
      return genAlu(
        x,
        k,
        x.sub,
        `r[${D}]`,
        `r[${D + 1}]`,
        `r[${G}]`,
        `r[${G + 1}]`,
        x.sub !== 7,
        storeFlags,
        emit,
      );
    case OP_ALU_RI:
      return genAlu(
        x,
        k,
        x.sub,
        `r[${D}]`,
        `r[${D + 1}]`,
        `${x.imm}`,
        `${x.imm < 0 ? -1 : 0}`,
        x.sub !== 7,
        storeFlags,
        emit,
      );
    case OP_ALU_RM: {
      genEa(x, k, next, emit, sync);
      const va = `va${k}`;
      emit(`let m${k} = 0, mh${k} = 0;`);
      emit(`{ ${probe(va, "nR")}`);
      if (x.size === 4) {
        emit(
          `if (o >= 0) m${k} = dv.getInt32(o, true); else { ${sync} m${k} = cpu.ld32(${va}); } }`,
        );
      } else {
        emit(`if (o >= 0) { m${k} = dv.getInt32(o, true); mh${k} = dv.getInt32(o + 4, true); }`);
        emit(`else { ${sync} cpu.ld64(${va}, 32); m${k} = r[32]; mh${k} = r[33]; } }`);
      }
      return genAlu(
        x,
        k,
        x.sub,
        `r[${G}]`,
        `r[${G + 1}]`,
        `m${k}`,
        `mh${k}`,
        x.sub !== 7,
        storeFlags,
        emit,
        G,
      );
    }
  }
  throw new Error(`jit: no code for handler ${x.op}`);
}

/**
 * An ALU operation (kind 0 ADD, 1 OR, 4 AND or TEST, 5 SUB, 6 XOR, 7 CMP) on `a` and `b`
 * (expressions; `ah`, `bh` the high halves), writing the destination register `dst` (the
 * ModRM r/m register unless given) when `write`.
 */
function genAlu(
  x: Insn,
  k: number,
  kind: number,
  a: string,
  ah: string,
  b: string,
  bh: string,
  write: boolean,
  storeFlags: boolean,
  emit: (s: string) => void,
  dst = x.rm << 1,
): Producer {
  const v = `v${k}`, A = `a${k}`, B = `b${k}`, vh = `vh${k}`, Ah = `ah${k}`, Bh = `bh${k}`;
  const lfKind = kind === 0 ? LF_ADD : kind === 5 || kind === 7 ? LF_SUB : LF_LOGIC;
  if (x.size === 4) {
    emit(`const ${A} = ${a}, ${B} = ${b};`);
    const expr = kind === 0
      ? `(${A} + ${B}) | 0`
      : kind === 5 || kind === 7
      ? `(${A} - ${B}) | 0`
      : kind === 1
      ? `${A} | ${B}`
      : kind === 6
      ? `${A} ^ ${B}`
      : `${A} & ${B}`;
    emit(`const ${v} = ${expr};`);
    if (write) emit(`r[${dst}] = ${v}; r[${dst + 1}] = 0;`);
    if (storeFlags) {
      emit(`lf.op = ${lfKind}; lf.size = 4; lv[0] = ${v}; lv[2] = ${A}; lv[4] = ${B};`);
    }
    return { kind: lfKind, size: 4, v, a: A, b: B, vh: "0", ah: "0", bh: "0" };
  }
  emit(`const ${A} = ${a}, ${Ah} = ${ah}, ${B} = ${b}, ${Bh} = ${bh};`);
  if (kind === 0) {
    emit(`const s${k} = (${A} >>> 0) + (${B} >>> 0);`);
    emit(`const ${v} = s${k} | 0, ${vh} = (${Ah} + ${Bh} + (s${k} > 4294967295 ? 1 : 0)) | 0;`);
  } else if (kind === 5 || kind === 7) {
    emit(`const s${k} = (${A} >>> 0) - (${B} >>> 0);`);
    emit(`const ${v} = s${k} | 0, ${vh} = (${Ah} - ${Bh} - (s${k} < 0 ? 1 : 0)) | 0;`);
  } else {
    const op = kind === 1 ? "|" : kind === 6 ? "^" : "&";
    emit(`const ${v} = ${A} ${op} ${B}, ${vh} = ${Ah} ${op} ${Bh};`);
  }
  if (write) emit(`r[${dst}] = ${v}; r[${dst + 1}] = ${vh};`);
  if (storeFlags) {
    emit(`lf.op = ${lfKind}; lf.size = 8; lv[0] = ${v}; lv[1] = ${vh};`);
    emit(`lv[2] = ${A}; lv[3] = ${Ah}; lv[4] = ${B}; lv[5] = ${Bh};`);
  }
  return { kind: lfKind, size: 8, v, a: A, b: B, vh, ah: Ah, bh: Bh };
}

/** INC or DEC of a register; CF is kept (read from the flags before). */
function genIncDec(x: Insn, k: number, storeFlags: boolean, emit: (s: string) => void): Producer {
  const D = x.rm << 1;
  const inc = x.sub === 0;
  const v = `v${k}`, A = `a${k}`, vh = `vh${k}`, Ah = `ah${k}`;
  if (storeFlags) emit(`const cf${k} = lf.cf();`);
  emit(`const ${A} = r[${D}], ${v} = (${A} ${inc ? "+" : "-"} 1) | 0;`);
  if (x.size === 4) {
    emit(`r[${D}] = ${v}; r[${D + 1}] = 0;`);
    if (storeFlags) {
      emit(
        `lf.op = ${
          inc ? LF_INC : LF_DEC
        }; lf.size = 4; lv[0] = ${v}; lv[2] = ${A}; lv[4] = 1; lf.aux = cf${k};`,
      );
    }
    return { kind: inc ? LF_INC : LF_DEC, size: 4, v, a: A, b: "1", vh: "0", ah: "0", bh: "0" };
  }
  emit(`const ${Ah} = r[${D + 1}];`);
  emit(
    `const ${vh} = ${
      inc ? `${v} === 0 ? (${Ah} + 1) | 0 : ${Ah}` : `${A} === 0 ? (${Ah} - 1) | 0 : ${Ah}`
    };`,
  );
  emit(`r[${D}] = ${v}; r[${D + 1}] = ${vh};`);
  if (storeFlags) {
    emit(`lf.op = ${inc ? LF_INC : LF_DEC}; lf.size = 8; lv[0] = ${v}; lv[1] = ${vh};`);
    emit(`lv[2] = ${A}; lv[3] = ${Ah}; lv[4] = 1; lv[5] = 0; lf.aux = cf${k};`);
  }
  return { kind: inc ? LF_INC : LF_DEC, size: 8, v, a: A, b: "1", vh, ah: Ah, bh: "0" };
}

/**
 * A Jcc condition as a JavaScript expression: straight from the producer's locals when the
 * block made the flags with a CMP, SUB, logic operation, INC or DEC it can read, else
 * from the lazy flags.
 */
function condition(cc: number, p: Producer | undefined): string {
  const generic = `lf.cond(${cc})`;
  if (!p) return generic;
  const neg = (s: string) => `!(${s})`;
  let zf: string, sf: string;
  if (p.size === 4) {
    zf = `${p.v} === 0`;
    sf = `${p.v} < 0`;
  } else {
    zf = `(${p.v} | ${p.vh}) === 0`;
    sf = `${p.vh} < 0`;
  }
  if (p.kind === LF_SUB) {
    const a = p.a, b = p.b, ah = p.ah, bh = p.bh;
    const ult = p.size === 4
      ? `(${a} >>> 0) < (${b} >>> 0)`
      : `((${ah} >>> 0) < (${bh} >>> 0) || (${ah} === ${bh} && (${a} >>> 0) < (${b} >>> 0)))`;
    const slt = p.size === 4
      ? `${a} < ${b}`
      : `(${ah} < ${bh} || (${ah} === ${bh} && (${a} >>> 0) < (${b} >>> 0)))`;
    const eq = p.size === 4 ? `${a} === ${b}` : `(${a} === ${b} && ${ah} === ${bh})`;
    switch (cc) {
      case 2:
        return ult;
      case 3:
        return neg(ult);
      case 4:
        return eq;
      case 5:
        return neg(eq);
      case 6:
        return `(${ult} || ${eq})`;
      case 7:
        return neg(`${ult} || ${eq}`);
      case 8:
        return sf;
      case 9:
        return neg(sf);
      case 12:
        return slt;
      case 13:
        return neg(slt);
      case 14:
        return `(${slt} || ${eq})`;
      case 15:
        return neg(`${slt} || ${eq}`);
    }
    return generic;
  }
  if (p.kind === LF_LOGIC) {
    // CF = OF = 0.
    switch (cc) {
      case 0: // O
      case 2: // B
        return "false";
      case 1: // NO
      case 3: // AE
        return "true";
      case 4:
      case 6:
        return zf;
      case 5:
      case 7:
        return neg(zf);
      case 8:
      case 12:
        return sf;
      case 9:
      case 13:
        return neg(sf);
      case 14:
        return `(${zf} || ${sf})`;
      case 15:
        return neg(`${zf} || ${sf}`);
    }
    return generic;
  }
  // INC, DEC: ZF and SF come from the result; the rest needs the lazy flags.
  switch (cc) {
    case 4:
      return zf;
    case 5:
      return neg(zf);
    case 8:
      return sf;
    case 9:
      return neg(sf);
  }
  return generic;
}

/**
 * Emits `va${k}` = the operand's linear address, with the exact path (which may fault, so
 * `sync` comes first) as fallback.
 */
function genEa(x: Insn, k: number, next: number, emit: (s: string) => void, sync: string): void {
  const va = `va${k}`;
  if (x.pfx & PFX_ADDR32 || x.eaKind > EA_RIP) {
    emit(`${sync} const ${va} = H.ea(cpu, I[${k}]);`);
    return;
  }
  if (x.eaKind === EA_RIP) {
    const t = next + x.disp;
    emit(
      t >= -CANON && t < CANON
        ? `const ${va} = ${t};`
        : `${sync} const ${va} = H.ea(cpu, I[${k}]);`,
    );
    return;
  }
  const B = x.base << 1;
  emit(`let ${va} = NaN;`);
  if (x.eaKind === EA_BASE) {
    emit(
      `{ const h = r[${
        B + 1
      }]; if (((h + 0x8000) >>> 16) === 0) ${va} = h * 4294967296 + (r[${B}] >>> 0) + ${x.disp}; }`,
    );
  } else if (x.eaKind === EA_BASE_INDEX) {
    const X = x.index << 1;
    emit(`{ const hb = r[${B + 1}], hx = r[${X + 1}];`);
    emit(`if ((((hb + 0x8000) | (hx + 0x8000)) >>> 16) === 0)`);
    emit(
      `${va} = hb * 4294967296 + (r[${B}] >>> 0) + (hx * 4294967296 + (r[${X}] >>> 0)) * ${x.scale} + ${x.disp}; }`,
    );
  }
  emit(`if (!(${va} >= -${CANON} && ${va} < ${CANON})) { ${sync} ${va} = H.ea(cpu, I[${k}]); }`);
}

/**
 * The TLB probe, as statements that declare `o`: the RAM offset of `va` when way 0 of its
 * set maps it for the current PCID with the `need` permissions and the 8 bytes from `va`
 * stay in the page, else -1 (then the CPU's own load or store takes the slow path).
 */
function probe(va: string, need: string): string {
  return `const vpn = Math.floor(${va} / 4096), s = (vpn ^ ps) & 1023, t = tt[s];
const o = tv[s] === vpn && (t === pc || t === -1) && (tp[s] & ${need}) === ${need} &&
  (${va} & 4095) <= 4088 ? to[s] + (${va} & 4095) : -1;`;
}

/** LEA: the same sums without the segment base or the canonical check. */
function genLea(x: Insn, k: number, next: number, emit: (s: string) => void): void {
  const G = x.reg << 1;
  const wide = x.size === 8;
  if (x.pfx & PFX_ADDR32 || x.eaKind > EA_RIP) {
    emit(`H.lea(cpu, I[${k}]);`);
    return;
  }
  if (x.eaKind === EA_RIP) {
    const v = next + x.disp;
    emit(`r[${G}] = ${v | 0}; r[${G + 1}] = ${wide ? Math.floor(v / 4294967296) | 0 : 0};`);
    return;
  }
  const B = x.base << 1;
  const sum = x.eaKind === EA_BASE
    ? `hb * 4294967296 + (r[${B}] >>> 0) + ${x.disp}`
    : `hb * 4294967296 + (r[${B}] >>> 0) + (hx * 4294967296 + (r[${
      x.index << 1
    }] >>> 0)) * ${x.scale} + ${x.disp}`;
  const hx = x.eaKind === EA_BASE ? "0" : `r[${(x.index << 1) + 1}]`;
  emit(`{ const hb = r[${B + 1}], hx = ${hx};`);
  emit(`if ((((hb + 0x10000) | (hx + 0x10000)) >>> 17) === 0) { const v = ${sum};`);
  emit(`r[${G}] = v | 0; r[${G + 1}] = ${wide ? "Math.floor(v / 4294967296) | 0" : "0"}; }`);
  emit(`else H.lea(cpu, I[${k}]); }`);
}
