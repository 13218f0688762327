/**
 * The ring-3 interpreter loop and the fast forms of the hottest instructions.
 *
 * `runUser` fetches decoded instructions from the per-page cache (decoding on a miss),
 * dispatches on the handler number with one `switch`, and handles the register and memory
 * forms of MOV, the ALU group, TEST, INC/DEC, LEA, PUSH/POP, CALL/RET, JMP and Jcc at 32
 * and 64 bits with int32 arithmetic on the register halves. Everything else goes to
 * `execOp` in `exec_ops.ts`, which works on BigInt values of any size.
 *
 * Every handler leaves `cpu.ip` at the start of the instruction until it has done
 * everything that can fault, so a fault is delivered with RIP at the faulting instruction
 * and no architectural state changed, as x86 exceptions are precise.
 *
 * Time: each instruction is 1 ns; the loop runs while its count is below `cpu.loopBudget`,
 * which events that need attention (a device write, a CR change) set to 0.
 *
 * @module
 */

import { ALU_ADC, ALU_AND, ALU_CMP, ALU_OR, ALU_SBB, ALU_SUB, ALU_XOR } from "./alu.ts";
import { CANON, FAULT, STOPPED, type X86Processor } from "./cpu.ts";
import { deliverEvent, EV_EXCEPTION } from "./exceptions.ts";
import { execOp, execString } from "./exec_ops.ts";
import { blockValid, compileBlock } from "./jit.ts";
import {
  type LazyFlags,
  LF_ADC,
  LF_ADD,
  LF_DEC,
  LF_INC,
  LF_LOGIC,
  LF_SBB,
  LF_SUB,
} from "./flags.ts";
import type { CodePage } from "./icache.ts";
import {
  BASE_RIP,
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
  OP_STRING,
  OP_TEST_RR,
  PFX_ADDR32,
} from "./insn.ts";
import { RFLAGS_AF, RFLAGS_CF, RFLAGS_OF } from "./regs.ts";

/** Scratch register-pair slot in `r32` (beyond R15) for 64-bit loads that are not to a GPR. */
export const SCRATCH = 32;

const NO_PAGE: CodePage = [];

/**
 * Interprets ring-3 code until `cpu.loopBudget` instructions have run, the CPU leaves
 * ring 3, or something needs the run loop's attention. Returns the instructions executed.
 */
export function runUser(cpu: X86Processor): number {
  cpu.icount = 0;
  try {
    return interpret(cpu);
  } catch (e) {
    if (e === FAULT) {
      try {
        deliverEvent(cpu, cpu.fVector, EV_EXCEPTION, cpu.fError, cpu.ip);
      } catch (e2) {
        if (e2 !== STOPPED) throw e2;
      }
    } else if (e !== STOPPED) {
      throw e;
    }
    return cpu.icount;
  }
}

/**
 * The loop itself, without a try/catch (a fault unwinds out of it to `runUser`, which
 * reads the count from `cpu.icount` and RIP from `cpu.ip`).
 */
function interpret(cpu: X86Processor): number {
  const r = cpu.r32;
  const lf = cpu.lf;
  const lv = lf.v;
  let n = 0;
  let page = NO_PAGE;
  // Not a page address: the first instruction always looks its page up. (A small integer
  // keeps `ip - pageVa` in int32 arithmetic for code below 2^30.)
  let pageVa = -(2 ** 30);
  let ip = cpu.ip;
  // Translations may have changed since the last call (a CR3 write, INVLPG): then enter
  // the code page afresh.
  if (cpu.codePageGen !== cpu.tlb.gen) {
    cpu.codePageArr = NO_PAGE;
    cpu.codePageGen = cpu.tlb.gen;
  }
  // None of these changes while the loop runs: the epoch changes between calls (a new
  // quantum, a kernel entry), the PCID and the access permissions with CR3, CR0.WP and
  // the CPL, which the loop never changes without returning.
  const epoch = cpu.epoch;
  const pcid = cpu.pcid, pcidSet = cpu.pcidSet, needR = cpu.needR, needW = cpu.needW;
  const tlbVpn = cpu.tlbVpn, tlbTag = cpu.tlbTag, tlbPerm = cpu.tlbPerm, tlbOff = cpu.tlbOff;
  const dv = cpu.dv;
  let prev: Insn | undefined = undefined;
  let prevNext = NaN;
  while (n < cpu.loopBudget) {
    // Straight on from the previous instruction: follow its link. Otherwise look the
    // instruction up in the page (and link it, when it follows the previous one).
    let i: Insn | undefined = ip === prevNext ? prev!.fall : undefined;
    if (i === undefined || i.epoch !== epoch) {
      const off = ip - pageVa;
      i = off >= 0 && off < 4096 ? page[off | 0] : undefined;
      if (i === undefined || i.epoch !== epoch) {
        cpu.ip = ip; // a fetch fault (#PF with I/D) is reported at this address
        i = cpu.lookup(ip);
        page = cpu.codePageArr;
        pageVa = cpu.codePageVa;
      }
      if (ip === prevNext && ip - pageVa >= prev!.len) prev!.fall = i;
    }
    prev = i;
    // A hot block: run its compiled code (see jit.ts).
    const blk = i.block;
    if (blk !== undefined) {
      if (
        blk.va === ip && n + blk.length <= cpu.loopBudget && blockValid(cpu, blk, epoch)
      ) {
        cpu.ip = ip;
        n = blk.fn(cpu, n);
        cpu.icount = n;
        ip = cpu.ip;
        prevNext = NaN;
        continue;
      }
    } else if (++i.hits === cpu.jitThreshold && cpu.jit) {
      i.block = compileBlock(cpu, i, ip);
    }
    // The architectural RIP stays at this instruction until it completes, so a fault
    // anywhere below is reported here.
    cpu.ip = ip;
    cpu.icount = ++n;
    const next = ip + i.len;
    prevNext = next;
    switch (i.op) {
      case 120 satisfies typeof OP_MOV_RR: {
        const d = i.rm << 1, s = i.reg << 1;
        r[d] = r[s];
        r[d + 1] = i.size === 8 ? r[s + 1] : 0;
        ip = next;
        break;
      }
      case 121 satisfies typeof OP_MOV_RI: {
        const d = i.rm << 1;
        r[d] = i.imm;
        r[d + 1] = i.size === 8 ? i.imm2 : 0;
        ip = next;
        break;
      }
      case 122 satisfies typeof OP_LOAD:
      case 123 satisfies typeof OP_STORE: {
        // MOV r, [m] and MOV [m], r at 32 and 64 bits, with the address and the TLB
        // probe written out; anything unusual (a wide register, a segment override, a
        // TLB miss, a page-crossing or device access) takes the general path.
        let va = NaN;
        switch (i.eaKind) {
          case 0 satisfies typeof EA_BASE: {
            const b = i.base << 1, h = r[b + 1];
            if (((h + 0x8000) >>> 16) === 0) va = h * 4294967296 + (r[b] >>> 0) + i.disp;
            break;
          }
          case 1 satisfies typeof EA_BASE_INDEX: {
            const b = i.base << 1, x = i.index << 1, hb = r[b + 1], hx = r[x + 1];
            if ((((hb + 0x8000) | (hx + 0x8000)) >>> 16) === 0) {
              va = hb * 4294967296 + (r[b] >>> 0) +
                (hx * 4294967296 + (r[x] >>> 0)) * i.scale + i.disp;
            }
            break;
          }
          case 2 satisfies typeof EA_RIP:
            va = next + i.disp;
        }
        if (!(va >= -CANON && va < CANON)) va = ea(cpu, i);
        const g = i.reg << 1;
        const load = i.op === 122;
        const need = load ? needR : needW;
        const vpn = Math.floor(va / 4096);
        const slot = (vpn ^ pcidSet) & 1023;
        const tag = tlbTag[slot];
        const po = va & 0xfff;
        if (
          tlbVpn[slot] === vpn && (tag === pcid || tag === -1) &&
          (tlbPerm[slot] & need) === need && po <= 0xff8
        ) {
          const o = tlbOff[slot] + po;
          if (load) {
            r[g] = dv.getInt32(o, true);
            r[g + 1] = i.size === 8 ? dv.getInt32(o + 4, true) : 0;
          } else {
            dv.setInt32(o, r[g], true);
            if (i.size === 8) dv.setInt32(o + 4, r[g + 1], true);
          }
        } else if (load) {
          if (i.size === 8) cpu.ld64(va, g);
          else {
            r[g] = cpu.ld32(va);
            r[g + 1] = 0;
          }
        } else if (i.size === 8) cpu.st64(va, r[g], r[g + 1]);
        else cpu.st32(va, r[g]);
        ip = next;
        break;
      }
      case 134 satisfies typeof OP_STORE_I: {
        const va = ea(cpu, i);
        if (i.size === 8) cpu.st64(va, i.imm, i.imm2);
        else cpu.st32(va, i.imm);
        ip = next;
        break;
      }
      case 124 satisfies typeof OP_ALU_RR:
      case 125 satisfies typeof OP_ALU_RI: {
        // The register-register and register-immediate ALU forms, written out so that
        // nothing is called: add, sub, cmp, and, or, xor at 32 and 64 bits.
        const d = i.rm << 1;
        const rr = i.op === 124;
        const bl = rr ? r[i.reg << 1] : i.imm;
        const al = r[d];
        const kind = i.sub;
        if (i.size === 4) {
          let v: number;
          switch (kind) {
            case 0: // add
              v = (al + bl) | 0;
              lf.op = LF_ADD;
              break;
            case 5: // sub
            case 7: // cmp
              v = (al - bl) | 0;
              lf.op = LF_SUB;
              break;
            case 1: // or
              v = al | bl;
              lf.op = LF_LOGIC;
              break;
            case 4: // and
              v = al & bl;
              lf.op = LF_LOGIC;
              break;
            case 6: // xor
              v = al ^ bl;
              lf.op = LF_LOGIC;
              break;
            default:
              alu32(lf, r, d, kind, al, bl);
              ip = next;
              continue;
          }
          lf.size = 4;
          lv[0] = v;
          lv[2] = al;
          lv[4] = bl;
          if (kind !== 7) {
            r[d] = v;
            r[d + 1] = 0;
          }
        } else {
          const ah = r[d + 1];
          const bh = rr ? r[(i.reg << 1) + 1] : bl < 0 ? -1 : 0;
          let lo: number, hi: number;
          switch (kind) {
            case 0: { // add
              const sum = (al >>> 0) + (bl >>> 0);
              lo = sum | 0;
              hi = (ah + bh + (sum > 0xffff_ffff ? 1 : 0)) | 0;
              lf.op = LF_ADD;
              break;
            }
            case 5: // sub
            case 7: { // cmp
              const dif = (al >>> 0) - (bl >>> 0);
              lo = dif | 0;
              hi = (ah - bh - (dif < 0 ? 1 : 0)) | 0;
              lf.op = LF_SUB;
              break;
            }
            case 1: // or
              lo = al | bl;
              hi = ah | bh;
              lf.op = LF_LOGIC;
              break;
            case 4: // and
              lo = al & bl;
              hi = ah & bh;
              lf.op = LF_LOGIC;
              break;
            case 6: // xor
              lo = al ^ bl;
              hi = ah ^ bh;
              lf.op = LF_LOGIC;
              break;
            default:
              alu64(lf, r, d, kind, al, ah, bl, bh);
              ip = next;
              continue;
          }
          lf.size = 8;
          lv[0] = lo;
          lv[1] = hi;
          lv[2] = al;
          lv[3] = ah;
          lv[4] = bl;
          lv[5] = bh;
          if (kind !== 7) {
            r[d] = lo;
            r[d + 1] = hi;
          }
        }
        ip = next;
        break;
      }
      case 126 satisfies typeof OP_ALU_RM: {
        const va = ea(cpu, i);
        const d = i.reg << 1;
        if (i.size === 4) alu32(lf, r, d, i.sub, r[d], cpu.ld32(va));
        else {
          cpu.ld64(va, SCRATCH);
          alu64(lf, r, d, i.sub, r[d], r[d + 1], r[SCRATCH], r[SCRATCH + 1]);
        }
        ip = next;
        break;
      }
      case 127 satisfies typeof OP_TEST_RR: {
        const d = i.rm << 1, s = i.reg << 1;
        if (i.size === 4) lf.set(LF_LOGIC, 4, r[d] & r[s], 0, 0);
        else lf.set64(LF_LOGIC, r[d] & r[s], r[d + 1] & r[s + 1], 0, 0, 0, 0);
        ip = next;
        break;
      }
      case 128 satisfies typeof OP_INCDEC_R:
        incDec(lf, r, i);
        ip = next;
        break;
      case 129 satisfies typeof OP_LEA_R:
        lea(cpu, i);
        ip = next;
        break;
      case 130 satisfies typeof OP_PUSH_R: {
        const s = i.rm << 1;
        const sp = rsp(cpu) - 8;
        cpu.st64(sp, r[s], r[s + 1]);
        setRsp(r, sp);
        ip = next;
        break;
      }
      case 131 satisfies typeof OP_POP_R: {
        const sp = rsp(cpu);
        cpu.ld64(sp, SCRATCH);
        setRsp(r, sp + 8);
        const d = i.rm << 1;
        r[d] = r[SCRATCH];
        r[d + 1] = r[SCRATCH + 1];
        ip = next;
        break;
      }
      case 80 satisfies typeof OP_CALL_REL: {
        const target = branchTarget(cpu, next + i.imm);
        const sp = rsp(cpu) - 8;
        cpu.st64(sp, next | 0, Math.floor(next / 4294967296));
        setRsp(r, sp);
        ip = target;
        break;
      }
      case 85 satisfies typeof OP_RET: {
        const sp = rsp(cpu);
        cpu.ld64(sp, SCRATCH);
        const target = branchTarget(cpu, r[SCRATCH + 1] * 4294967296 + (r[SCRATCH] >>> 0));
        setRsp(r, sp + 8 + i.imm);
        ip = target;
        break;
      }
      case 82 satisfies typeof OP_JMP_REL:
        ip = branchTarget(cpu, next + i.imm);
        break;
      case 84 satisfies typeof OP_JCC: {
        // After a 32-bit CMP or SUB (the usual case) the conditions are comparisons of
        // the operands; everything else asks the lazy flags.
        let t: boolean;
        if (lf.op === LF_SUB && lf.size === 4) {
          const a = lv[2], b = lv[4];
          switch (i.sub) {
            case 2: // b
              t = a >>> 0 < b >>> 0;
              break;
            case 3: // ae
              t = a >>> 0 >= b >>> 0;
              break;
            case 4: // e
              t = a === b;
              break;
            case 5: // ne
              t = a !== b;
              break;
            case 6: // be
              t = a >>> 0 <= b >>> 0;
              break;
            case 7: // a
              t = a >>> 0 > b >>> 0;
              break;
            case 12: // l
              t = a < b;
              break;
            case 13: // ge
              t = a >= b;
              break;
            case 14: // le
              t = a <= b;
              break;
            case 15: // g
              t = a > b;
              break;
            default:
              t = lf.cond(i.sub);
          }
        } else {
          t = lf.cond(i.sub);
        }
        ip = t ? branchTarget(cpu, next + i.imm) : next;
        break;
      }
      case 132 satisfies typeof OP_MOVZX_B: {
        const d = i.reg << 1;
        let v: number;
        if (i.rm >= 0) {
          const b = i.rm;
          v = b < 16 ? cpu.r8[b << 3] : cpu.r8[((b - 16) << 3) + 1];
        } else {
          v = cpu.ld8(ea(cpu, i));
        }
        r[d] = v;
        r[d + 1] = 0;
        ip = next;
        break;
      }
      case 133 satisfies typeof OP_SHIFT_RI:
        shiftImm(lf, r, i);
        ip = next;
        break;
      case 4 satisfies typeof OP_NOP:
        ip = next;
        break;
      case 90 satisfies typeof OP_STRING:
        n += execString(cpu, i, next, cpu.loopBudget - n);
        cpu.icount = n;
        ip = cpu.ip;
        break;
      default:
        if (execOp(cpu, i, ip, next)) return n;
        ip = cpu.ip;
    }
  }
  cpu.ip = ip;
  return n;
}

/** INC or DEC of a 32- or 64-bit register (CF is kept). */
function incDec(lf: LazyFlags, r: Int32Array, i: Insn): void {
  const d = i.rm << 1;
  const cf = lf.cf();
  const inc = i.sub === 0;
  const a = r[d];
  const lo = inc ? (a + 1) | 0 : (a - 1) | 0;
  if (i.size === 4) {
    lf.set(inc ? LF_INC : LF_DEC, 4, lo, a, 1);
    r[d] = lo;
    r[d + 1] = 0;
  } else {
    const ah = r[d + 1];
    const hi = inc ? (lo === 0 ? (ah + 1) | 0 : ah) : (a === 0 ? (ah - 1) | 0 : ah);
    lf.set64(inc ? LF_INC : LF_DEC, lo, hi, a, ah, 1, 0);
    r[d] = lo;
    r[d + 1] = hi;
  }
  lf.aux = cf;
}

/** The signed-number value of register `k` (exact when it is below 2^53 in magnitude). */
export function regNum(r: Int32Array, k: number): number {
  return r[(k << 1) + 1] * 4294967296 + (r[k << 1] >>> 0);
}

/** RSP as an address; #SS(0) when it is not canonical. */
export function rsp(cpu: X86Processor): number {
  const r = cpu.r32;
  const h = r[9];
  if (((h + 0x8000) >>> 16) !== 0) cpu.nonCanonical(true);
  return h * 4294967296 + (r[8] >>> 0);
}

/** Sets RSP from an address number. */
export function setRsp(r: Int32Array, v: number): void {
  r[8] = v | 0;
  r[9] = Math.floor(v / 4294967296);
}

/** A branch target: #GP(0) unless canonical. */
export function branchTarget(cpu: X86Processor, t: number): number {
  if (t < -CANON || t >= CANON) cpu.nonCanonical(false);
  return t;
}

/**
 * The linear address of an instruction's memory operand: base + index * scale + disp, plus
 * the FS or GS base; #GP(0) (or #SS(0) for RSP/RBP-based operands) when not canonical.
 * The common shapes are computed in float64, which is exact while the registers are
 * below 2^47 in magnitude (as addresses are); anything else goes the exact BigInt way.
 */
export function ea(cpu: X86Processor, i: Insn): number {
  const r = cpu.r32;
  let va: number;
  switch (i.eaKind) {
    case 0 satisfies typeof EA_BASE: {
      const b = i.base << 1, h = r[b + 1];
      if (((h + 0x8000) >>> 16) !== 0) return eaSlow(cpu, i);
      va = h * 4294967296 + (r[b] >>> 0) + i.disp;
      break;
    }
    case 1 satisfies typeof EA_BASE_INDEX: {
      const b = i.base << 1, x = i.index << 1, hb = r[b + 1], hx = r[x + 1];
      if ((((hb + 0x8000) | (hx + 0x8000)) >>> 16) !== 0) return eaSlow(cpu, i);
      va = hb * 4294967296 + (r[b] >>> 0) + (hx * 4294967296 + (r[x] >>> 0)) * i.scale + i.disp;
      break;
    }
    case 2 satisfies typeof EA_RIP:
      va = cpu.ip + i.len + i.disp;
      break;
    default:
      return eaSlow(cpu, i);
  }
  if (va < -CANON || va >= CANON) cpu.nonCanonical(i.stack);
  return va;
}

/** The effective address without the segment base: what LEA computes (as a bigint). */
export function offsetBig(cpu: X86Processor, i: Insn): bigint {
  let v = BigInt(i.disp);
  const b = i.base;
  if (b === BASE_RIP) v += BigInt(cpu.ip + i.len);
  else if (b >= 0) v += cpu.regs[b];
  if (i.index >= 0) v += cpu.regs[i.index] * BigInt(i.scale);
  return i.pfx & PFX_ADDR32 ? BigInt.asUintN(32, v) : BigInt.asUintN(64, v);
}

/** `ea` done exactly with BigInt: huge registers, or the 32-bit address size. */
function eaSlow(cpu: X86Processor, i: Insn): number {
  let v = offsetBig(cpu, i);
  if (i.seg >= 0) v += BigInt(i.seg === 4 ? cpu.fsBase : cpu.gsBase);
  const s = BigInt.asIntN(64, v);
  if (s < -(1n << 47n) || s >= 1n << 47n) cpu.nonCanonical(i.stack);
  return Number(s);
}

/** LEA at 32 or 64 bits. */
export function lea(cpu: X86Processor, i: Insn): void {
  const r = cpu.r32;
  const d = i.reg << 1;
  let v = i.disp;
  let exact = (i.pfx & PFX_ADDR32) === 0;
  const b = i.base;
  if (b === BASE_RIP) v += cpu.ip + i.len;
  else if (b >= 0) {
    const h = r[(b << 1) + 1];
    if (((h + 0x10000) >>> 17) !== 0) exact = false;
    v += h * 4294967296 + (r[b << 1] >>> 0);
  }
  if (i.index >= 0) {
    const h = r[(i.index << 1) + 1];
    if (((h + 0x10000) >>> 17) !== 0) exact = false;
    v += (h * 4294967296 + (r[i.index << 1] >>> 0)) * i.scale;
  }
  if (!exact) {
    const big = offsetBig(cpu, i);
    r[d] = Number(big & 0xffff_ffffn) | 0;
    r[d + 1] = i.size === 8 ? Number(big >> 32n) | 0 : 0;
    return;
  }
  r[d] = v | 0;
  r[d + 1] = i.size === 8 ? Math.floor(v / 4294967296) | 0 : 0;
}

/** ALU kind on 32-bit operands; writes the result into r[d] unless CMP. */
function alu32(lf: LazyFlags, r: Int32Array, d: number, kind: number, a: number, b: number) {
  let v: number;
  switch (kind) {
    case 0:
      v = (a + b) | 0;
      lf.set(LF_ADD, 4, v, a, b);
      break;
    case 1 satisfies typeof ALU_OR:
      v = a | b;
      lf.set(LF_LOGIC, 4, v, 0, 0);
      break;
    case 2 satisfies typeof ALU_ADC: {
      const c = lf.cf() ? 1 : 0;
      v = (a + b + c) | 0;
      lf.set(LF_ADC, 4, v, a, b);
      lf.aux = c;
      break;
    }
    case 3 satisfies typeof ALU_SBB: {
      const c = lf.cf() ? 1 : 0;
      v = (a - b - c) | 0;
      lf.set(LF_SBB, 4, v, a, b);
      lf.aux = c;
      break;
    }
    case 4 satisfies typeof ALU_AND:
      v = a & b;
      lf.set(LF_LOGIC, 4, v, 0, 0);
      break;
    case 5 satisfies typeof ALU_SUB:
      v = (a - b) | 0;
      lf.set(LF_SUB, 4, v, a, b);
      break;
    case 6 satisfies typeof ALU_XOR:
      v = a ^ b;
      lf.set(LF_LOGIC, 4, v, 0, 0);
      break;
    default:
      lf.set(LF_SUB, 4, (a - b) | 0, a, b);
      return;
  }
  r[d] = v;
  r[d + 1] = 0;
}

/** ALU kind on 64-bit operands given as halves; writes r[d], r[d+1] unless CMP. */
function alu64(
  lf: LazyFlags,
  r: Int32Array,
  d: number,
  kind: number,
  al: number,
  ah: number,
  bl: number,
  bh: number,
) {
  let lo: number, hi: number;
  switch (kind) {
    case 0:
    case 2 satisfies typeof ALU_ADC: {
      const c = kind === ALU_ADC && lf.cf() ? 1 : 0;
      const s = (al >>> 0) + (bl >>> 0) + c;
      lo = s | 0;
      hi = (ah + bh + (s > 0xffff_ffff ? 1 : 0)) | 0;
      lf.set64(kind === 0 ? LF_ADD : LF_ADC, lo, hi, al, ah, bl, bh);
      lf.aux = c;
      break;
    }
    case 5 satisfies typeof ALU_SUB:
    case 7 satisfies typeof ALU_CMP:
    case 3 satisfies typeof ALU_SBB: {
      const c = kind === ALU_SBB && lf.cf() ? 1 : 0;
      const s = (al >>> 0) - (bl >>> 0) - c;
      lo = s | 0;
      hi = (ah - bh - (s < 0 ? 1 : 0)) | 0;
      lf.set64(kind === ALU_SBB ? LF_SBB : LF_SUB, lo, hi, al, ah, bl, bh);
      lf.aux = c;
      if (kind === ALU_CMP) return;
      break;
    }
    case 1 satisfies typeof ALU_OR:
      lo = al | bl;
      hi = ah | bh;
      lf.set64(LF_LOGIC, lo, hi, 0, 0, 0, 0);
      break;
    case 4 satisfies typeof ALU_AND:
      lo = al & bl;
      hi = ah & bh;
      lf.set64(LF_LOGIC, lo, hi, 0, 0, 0, 0);
      break;
    default:
      lo = al ^ bl;
      hi = ah ^ bh;
      lf.set64(LF_LOGIC, lo, hi, 0, 0, 0, 0);
  }
  r[d] = lo;
  r[d + 1] = hi;
}

/**
 * SHL, SHR, SAR of a 32- or 64-bit register by an immediate (the fast form of `shift` in
 * alu.ts, with the same flags: AF = 1, OF as for a count of 1).
 */
export function shiftImm(lf: LazyFlags, r: Int32Array, i: Insn): void {
  const d = i.rm << 1;
  const c = i.imm & (i.size === 8 ? 63 : 31);
  if (i.size === 4) {
    const a = r[d];
    r[d + 1] = 0;
    if (c === 0) return;
    let v: number, cf: number, of: number;
    if (i.sub === 5) {
      v = a >>> c;
      cf = (a >>> (c - 1)) & 1;
      of = c === 1 ? (a >>> 31) : 0;
    } else if (i.sub === 7) {
      v = a >> c;
      cf = (a >> (c - 1)) & 1;
      of = 0;
    } else {
      v = a << c;
      cf = (a >>> (32 - c)) & 1;
      of = ((v >>> 31) ^ cf) & 1;
    }
    r[d] = v;
    lf.setResult(4, v, 0, RFLAGS_AF | (cf ? RFLAGS_CF : 0) | (of ? RFLAGS_OF : 0));
    return;
  }
  if (c === 0) return;
  const lo = r[d], hi = r[d + 1];
  let nlo: number, nhi: number, cf: number, of: number;
  if (i.sub === 5 || i.sub === 7) {
    const arith = i.sub === 7;
    if (c < 32) {
      nlo = (lo >>> c) | (c === 0 ? 0 : hi << (32 - c));
      nhi = arith ? hi >> c : hi >>> c;
      cf = (lo >>> (c - 1)) & 1;
    } else {
      nlo = arith ? hi >> (c - 32) : hi >>> (c - 32);
      nhi = arith ? hi >> 31 : 0;
      cf = c === 32 ? lo >>> 31 : (hi >>> (c - 33)) & 1;
    }
    of = !arith && c === 1 ? hi >>> 31 : 0;
  } else {
    if (c < 32) {
      nhi = (hi << c) | (lo >>> (32 - c));
      nlo = lo << c;
      cf = (hi >>> (32 - c)) & 1;
    } else {
      nhi = lo << (c - 32);
      nlo = 0;
      cf = c === 32 ? hi & 1 : (lo >>> (64 - c)) & 1;
    }
    of = ((nhi >>> 31) ^ cf) & 1;
  }
  r[d] = nlo | 0;
  r[d + 1] = nhi | 0;
  lf.setResult(8, nlo | 0, nhi | 0, RFLAGS_AF | (cf ? RFLAGS_CF : 0) | (of ? RFLAGS_OF : 0));
}
