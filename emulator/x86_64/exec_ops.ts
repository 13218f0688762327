/**
 * The general forms of the ring-3 instruction set: every operand size (8, 16, 32, 64 bits,
 * high-byte registers), every operand kind (register, memory), on unsigned BigInt values,
 * with the arithmetic of `alu.ts`. The interpreter loop in `exec.ts` calls `execOp` for
 * everything it has no fast form for.
 *
 * Conventions: `ip` is the instruction's address, `next` the following one; a handler sets
 * `cpu.ip` only after everything that can fault has been done. `execOp` returns true when
 * the loop must stop because the CPU left ring 3 or its state changed under the loop
 * (SYSCALL, INT n, IRET, the TypeScript-thread instructions, I/O).
 *
 * @module
 */

import { hex } from "../core/memory.ts";
import {
  alu,
  ALU_CMP,
  bitScan,
  bitTest,
  byteSwap,
  countZeros,
  divide,
  divideFlags,
  doubleShift,
  maskOf,
  multiply,
  popcount,
  shift,
  signed,
} from "./alu.ts";
import { u64, type X86Processor } from "./cpu.ts";
import {
  deliverEvent,
  EV_ICEBP,
  EV_SOFTWARE,
  iretq,
  loadDataSegment,
  syscall,
} from "./exceptions.ts";
import { branchTarget, ea, offsetBig, rsp, setRsp } from "./exec.ts";
import { LF_DEC, LF_INC } from "./flags.ts";
import {
  type Insn,
  OP_ALU_EG,
  OP_ALU_EI,
  OP_ALU_GE,
  OP_ALU_RI,
  OP_ALU_RM,
  OP_ALU_RR,
  OP_BSF,
  OP_BSR,
  OP_BSWAP,
  OP_BT_EG,
  OP_BT_EI,
  OP_CALL_E,
  OP_CBW,
  OP_CLFLUSH,
  OP_CMOVCC,
  OP_CMPXCHG,
  OP_CMPXCHGXB,
  OP_CPUID,
  OP_CWD,
  OP_DEC,
  OP_DIV,
  OP_ENTER,
  OP_FLAGOP,
  OP_IDIV,
  OP_IMUL,
  OP_IMUL1,
  OP_INC,
  OP_INT,
  OP_INT1,
  OP_INT3,
  OP_IO,
  OP_IRET,
  OP_JMP_E,
  OP_LAHF,
  OP_LEA,
  OP_LEAVE,
  OP_LOOP,
  OP_LZCNT,
  OP_MOV_EG,
  OP_MOV_EI,
  OP_MOV_FROM_SREG,
  OP_MOV_GE,
  OP_MOV_TO_SREG,
  OP_MOVSX,
  OP_MOVZX,
  OP_MUL,
  OP_NEG,
  OP_NOT,
  OP_POP,
  OP_POP_SEG,
  OP_POPCNT,
  OP_POPF,
  OP_PRIV,
  OP_PUSH,
  OP_PUSH_I,
  OP_PUSH_SEG,
  OP_PUSHF,
  OP_RDTSC,
  OP_RDTSCP,
  OP_SAHF,
  OP_SETCC,
  OP_SHIFT,
  OP_SHLD,
  OP_SHRD,
  OP_STORE_SYS,
  OP_SYSCALL,
  OP_TEST_EG,
  OP_TEST_EI,
  OP_TOO_LONG,
  OP_TS,
  OP_TZCNT,
  OP_UD,
  OP_UNIMPL,
  OP_XADD,
  OP_XCHG,
  OP_XLAT,
  PFX_ADDR32,
  PFX_REP,
  PFX_REPNE,
  STR_CMPS,
  STR_LODS,
  STR_MOVS,
  STR_SCAS,
  STR_STOS,
} from "./insn.ts";
import { ACC_READ, ACC_WRITE } from "./paging.ts";
import {
  CR4_TSD,
  CR4_UMIP,
  EXC_BP,
  EXC_DB,
  EXC_DE,
  EXC_GP,
  EXC_UD,
  RAX,
  RBP,
  RBX,
  RCX,
  RDI,
  RDX,
  RFLAGS_AC,
  RFLAGS_AF,
  RFLAGS_CF,
  RFLAGS_DF,
  RFLAGS_FIXED,
  RFLAGS_ID,
  RFLAGS_IF,
  RFLAGS_IOPL,
  RFLAGS_NT,
  RFLAGS_PF,
  RFLAGS_RF,
  RFLAGS_SF,
  RFLAGS_STATUS,
  RFLAGS_TF,
  RFLAGS_ZF,
  RSI,
  RSP,
  SEG_FS,
  TSS_IOMAP_BASE,
} from "./regs.ts";

// ---- register and operand access ---------------------------------------------------------

/** Reads register `r` at `size` bytes (byte registers 16-19 are AH, CH, DH, BH), unsigned. */
export function getReg(c: X86Processor, r: number, size: number): bigint {
  switch (size) {
    case 8:
      return BigInt.asUintN(64, c.regs[r]);
    case 4:
      return BigInt(c.r32[r << 1] >>> 0);
    case 2:
      return BigInt(c.r16[r << 2]);
  }
  return BigInt(r < 16 ? c.r8[r << 3] : c.r8[((r - 16) << 3) + 1]);
}

/** Writes register `r` at `size` bytes: 32-bit writes zero the upper half, 8 and 16 keep it. */
export function setReg(c: X86Processor, r: number, size: number, v: bigint): void {
  switch (size) {
    case 8:
      c.regs[r] = v;
      return;
    case 4:
      c.r32[r << 1] = Number(v & 0xffff_ffffn) | 0;
      c.r32[(r << 1) + 1] = 0;
      return;
    case 2:
      c.r16[r << 2] = Number(v & 0xffffn);
      return;
  }
  if (r < 16) c.r8[r << 3] = Number(v & 0xffn);
  else c.r8[((r - 16) << 3) + 1] = Number(v & 0xffn);
}

/** Reads operand E. For memory, `acc` = ACC_WRITE checks write permission (read-modify-write). */
function getE(c: X86Processor, i: Insn, size = i.size, acc = ACC_READ): bigint {
  return i.rm >= 0 ? getReg(c, i.rm, size) : c.ldB(ea(c, i), size, acc);
}

/** Writes operand E. */
function setE(c: X86Processor, i: Insn, v: bigint, size = i.size): void {
  if (i.rm >= 0) setReg(c, i.rm, size, v);
  else c.stB(ea(c, i), size, v);
}

/** Sign-extends an immediate number to an unsigned value of `size` bytes. */
function immOf(i: Insn, size = i.size): bigint {
  return BigInt.asUintN(size * 8, BigInt(i.imm));
}

/** Pushes `size` bytes. */
function push(c: X86Processor, v: bigint, size: number): void {
  const sp = rsp(c) - size;
  c.stB(sp, size, v);
  setRsp(c.r32, sp);
}

/** Pops `size` bytes (RSP is updated only after the read succeeded). */
function pop(c: X86Processor, size: number): bigint {
  const sp = rsp(c);
  const v = c.ldB(sp, size);
  setRsp(c.r32, sp + size);
  return v;
}

/** Raises #UD with a reason for messages. */
function undefinedOpcode(c: X86Processor, why: string): never {
  c.faultWhy = why;
  c.raise(EXC_UD);
}

// ---- the general handlers ------------------------------------------------------------------

/** Executes `i` at `ip`; returns true when the interpreter loop must return. */
export function execOp(c: X86Processor, i: Insn, ip: number, next: number): boolean {
  const lf = c.lf;
  const size = i.size;
  switch (i.op) {
    case OP_ALU_EG:
    case OP_ALU_RR: {
      const kind = i.sub;
      if (i.rm >= 0) {
        const r = alu(kind, size, getReg(c, i.rm, size), getReg(c, i.reg, size), lf);
        if (kind !== ALU_CMP) setReg(c, i.rm, size, r);
      } else {
        const va = ea(c, i);
        const a = c.ldB(va, size, kind === ALU_CMP ? ACC_READ : ACC_WRITE);
        const r = alu(kind, size, a, getReg(c, i.reg, size), lf);
        if (kind !== ALU_CMP) c.stB(va, size, r);
      }
      break;
    }
    case OP_ALU_GE:
    case OP_ALU_RM: {
      const r = alu(i.sub, size, getReg(c, i.reg, size), getE(c, i), lf);
      if (i.sub !== ALU_CMP) setReg(c, i.reg, size, r);
      break;
    }
    case OP_ALU_EI:
    case OP_ALU_RI: {
      const kind = i.sub;
      if (i.rm >= 0) {
        const r = alu(kind, size, getReg(c, i.rm, size), immOf(i), lf);
        if (kind !== ALU_CMP) setReg(c, i.rm, size, r);
      } else {
        const va = ea(c, i);
        const a = c.ldB(va, size, kind === ALU_CMP ? ACC_READ : ACC_WRITE);
        const r = alu(kind, size, a, immOf(i), lf);
        if (kind !== ALU_CMP) c.stB(va, size, r);
      }
      break;
    }
    case OP_TEST_EG:
      alu(4, size, getE(c, i), getReg(c, i.reg, size), lf);
      break;
    case OP_TEST_EI:
      alu(4, size, getE(c, i), immOf(i), lf);
      break;
    case OP_INC:
    case OP_DEC: {
      const va = i.rm >= 0 ? 0 : ea(c, i);
      const a = i.rm >= 0 ? getReg(c, i.rm, size) : c.ldB(va, size, ACC_WRITE);
      const cf = lf.cf();
      const r = (i.op === OP_INC ? a + 1n : a - 1n) & maskOf(size);
      lf.setBig(i.op === OP_INC ? LF_INC : LF_DEC, size, r, a, 1n);
      lf.aux = cf;
      if (i.rm >= 0) setReg(c, i.rm, size, r);
      else c.stB(va, size, r);
      break;
    }
    case OP_NOT:
    case OP_NEG: {
      const va = i.rm >= 0 ? 0 : ea(c, i);
      const a = i.rm >= 0 ? getReg(c, i.rm, size) : c.ldB(va, size, ACC_WRITE);
      const r = i.op === OP_NOT ? ~a & maskOf(size) : alu(5, size, 0n, a, lf);
      if (i.rm >= 0) setReg(c, i.rm, size, r);
      else c.stB(va, size, r);
      break;
    }
    case OP_MUL:
    case OP_IMUL1: {
      const src = getE(c, i);
      const acc = getReg(c, RAX, size);
      const [lo, hi] = multiply(i.op === OP_IMUL1, size, acc, src, lf);
      if (size === 1) setReg(c, RAX, 2, (hi << 8n) | lo);
      else {
        setReg(c, RAX, size, lo);
        setReg(c, RDX, size, hi);
      }
      break;
    }
    case OP_DIV:
    case OP_IDIV: {
      const d = getE(c, i);
      const hiPart = size === 1 ? getReg(c, 16, 1) : getReg(c, RDX, size);
      const loPart = getReg(c, RAX, size);
      const q = divide(i.op === OP_IDIV, size, hiPart, loPart, d);
      if (!q) {
        c.faultWhy = d === 0n ? "division by zero" : "the quotient does not fit";
        c.raise(EXC_DE);
      }
      divideFlags(lf);
      if (size === 1) setReg(c, RAX, 2, (q[1] << 8n) | q[0]);
      else {
        setReg(c, RAX, size, q[0]);
        setReg(c, RDX, size, q[1]);
      }
      break;
    }
    case OP_IMUL: {
      const b = i.sub === 1 ? immOf(i) : getReg(c, i.reg, size);
      const [lo] = multiply(true, size, getE(c, i), b, lf);
      setReg(c, i.reg, size, lo);
      break;
    }
    case OP_SHIFT: {
      const count = i.imm2 === 0 ? i.imm : i.imm2 === 1 ? 1 : c.r8[8];
      const va = i.rm >= 0 ? 0 : ea(c, i);
      const a = i.rm >= 0 ? getReg(c, i.rm, size) : c.ldB(va, size, ACC_WRITE);
      const r = shift(i.sub, size, a, count, lf);
      if (i.rm >= 0) setReg(c, i.rm, size, r);
      else c.stB(va, size, r);
      break;
    }
    case OP_SHLD:
    case OP_SHRD: {
      const count = i.imm2 === 0 ? i.imm : c.r8[8];
      const va = i.rm >= 0 ? 0 : ea(c, i);
      const a = i.rm >= 0 ? getReg(c, i.rm, size) : c.ldB(va, size, ACC_WRITE);
      const r = doubleShift(i.op === OP_SHLD, size, a, getReg(c, i.reg, size), count, lf);
      if (i.rm >= 0) setReg(c, i.rm, size, r);
      else c.stB(va, size, r);
      break;
    }
    case OP_BT_EG:
    case OP_BT_EI:
      bitTestOp(c, i);
      break;
    case OP_BSF:
    case OP_BSR: {
      const r = bitScan(i.op === OP_BSR, size, getE(c, i), lf);
      if (r !== undefined) setReg(c, i.reg, size, r);
      break;
    }
    case OP_TZCNT:
    case OP_LZCNT:
      setReg(c, i.reg, size, countZeros(i.op === OP_LZCNT, size, getE(c, i), lf));
      break;
    case OP_POPCNT:
      setReg(c, i.reg, size, popcount(getE(c, i), lf));
      break;
    case OP_BSWAP:
      setReg(c, i.rm, size, byteSwap(size, getReg(c, i.rm, size)));
      break;
    case OP_CBW: {
      const half = size / 2;
      setReg(c, RAX, size, BigInt.asUintN(size * 8, signed(getReg(c, RAX, half), half)));
      break;
    }
    case OP_CWD:
      setReg(c, RDX, size, signed(getReg(c, RAX, size), size) < 0n ? maskOf(size) : 0n);
      break;

    case OP_MOV_EG:
      setE(c, i, getReg(c, i.reg, size));
      break;
    case OP_MOV_GE:
      setReg(c, i.reg, size, getE(c, i));
      break;
    case OP_MOV_EI: {
      const v = size === 8 ? (BigInt(i.imm2 >>> 0) << 32n) | BigInt(i.imm >>> 0) : immOf(i);
      setE(c, i, v);
      break;
    }
    case OP_MOVZX:
      setReg(c, i.reg, size, getE(c, i, i.sub));
      break;
    case OP_MOVSX:
      setReg(c, i.reg, size, BigInt.asUintN(size * 8, signed(getE(c, i, i.sub), i.sub)));
      break;
    case OP_LEA:
      setReg(c, i.reg, size, offsetBig(c, i) & maskOf(size));
      break;
    case OP_XCHG: {
      if (i.rm >= 0) {
        const a = getReg(c, i.rm, size), b = getReg(c, i.reg, size);
        setReg(c, i.rm, size, b);
        setReg(c, i.reg, size, a);
      } else {
        const va = ea(c, i);
        const a = c.ldB(va, size, ACC_WRITE);
        c.stB(va, size, getReg(c, i.reg, size));
        setReg(c, i.reg, size, a);
      }
      break;
    }
    case OP_CMPXCHG: {
      const va = i.rm >= 0 ? 0 : ea(c, i);
      const dst = i.rm >= 0 ? getReg(c, i.rm, size) : c.ldB(va, size, ACC_WRITE);
      const acc = getReg(c, RAX, size);
      alu(ALU_CMP, size, acc, dst, lf);
      // The destination is always written (with its old value when the compare fails).
      const store = acc === dst ? getReg(c, i.reg, size) : dst;
      if (i.rm >= 0) setReg(c, i.rm, size, store);
      else c.stB(va, size, store);
      if (acc !== dst) setReg(c, RAX, size, dst);
      break;
    }
    case OP_XADD: {
      const va = i.rm >= 0 ? 0 : ea(c, i);
      const dst = i.rm >= 0 ? getReg(c, i.rm, size) : c.ldB(va, size, ACC_WRITE);
      const src = getReg(c, i.reg, size);
      const sum = alu(0, size, dst, src, lf);
      setReg(c, i.reg, size, dst);
      if (i.rm >= 0) setReg(c, i.rm, size, sum);
      else c.stB(va, size, sum);
      break;
    }
    case OP_CMPXCHGXB:
      cmpxchgWide(c, i);
      break;
    case OP_SETCC:
      setE(c, i, lf.cond(i.sub) ? 1n : 0n, 1);
      break;
    case OP_CMOVCC: {
      const v = getE(c, i);
      if (lf.cond(i.sub)) setReg(c, i.reg, size, v);
      else if (size === 4) setReg(c, i.reg, 4, getReg(c, i.reg, 4)); // a 32-bit write, always
      break;
    }
    case OP_MOV_FROM_SREG:
      setE(c, i, BigInt(c.sel[i.sub]), i.rm >= 0 ? size : 2);
      break;
    case OP_MOV_TO_SREG:
      loadDataSegment(
        c,
        (["es", "cs", "ss", "ds", "fs", "gs"] as const)[i.sub] as "ss",
        Number(getE(c, i, 2)),
      );
      break;
    case OP_XLAT: {
      const base = BigInt.asUintN(i.pfx & PFX_ADDR32 ? 32 : 64, c.regs[RBX] + getReg(c, RAX, 1));
      const va = linear(c, base, i.seg);
      setReg(c, RAX, 1, c.ldB(va, 1));
      break;
    }

    case OP_PUSH:
      push(c, getE(c, i), size);
      break;
    case OP_PUSH_I:
      push(c, immOf(i), size);
      break;
    case OP_POP:
      popE(c, i);
      break;
    case OP_PUSH_SEG:
      push(c, BigInt(c.sel[i.sub]), size);
      break;
    case OP_POP_SEG: {
      const sp = rsp(c);
      const v = c.ldB(sp, size);
      loadDataSegment(c, i.sub === SEG_FS ? "fs" : "gs", Number(v & 0xffffn));
      setRsp(c.r32, sp + size);
      break;
    }
    case OP_PUSHF:
      push(c, BigInt(c.rflagsN() & ~(RFLAGS_RF | (1 << 17))) & maskOf(size), size);
      break;
    case OP_POPF: {
      const v = Number(pop(c, size));
      popf(c, v, size);
      break;
    }
    case OP_LAHF: {
      const f = c.rflagsN();
      setReg(
        c,
        16,
        1,
        BigInt((f & (RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF | RFLAGS_CF)) | 2),
      );
      break;
    }
    case OP_SAHF: {
      const ah = c.r8[1];
      const mask = RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF | RFLAGS_CF;
      lf.setBits((lf.status() & ~mask) | (ah & mask));
      break;
    }
    case OP_LEAVE: {
      const bp = BigInt.asIntN(64, c.regs[RBP]);
      if (bp < -(1n << 47n) || bp >= 1n << 47n) c.nonCanonical(true);
      const v = c.ldB(Number(bp), size);
      c.regs[RSP] = bp + BigInt(size);
      setReg(c, RBP, size, v);
      break;
    }
    case OP_ENTER:
      enter(c, i);
      break;

    case OP_CALL_E: {
      const target = branchTarget(c, Number(BigInt.asIntN(64, getE(c, i, 8))));
      push(c, u64(next), 8);
      c.ip = target;
      return false;
    }
    case OP_JMP_E:
      c.ip = branchTarget(c, Number(BigInt.asIntN(64, getE(c, i, 8))));
      return false;
    case OP_LOOP: {
      const a32 = (i.pfx & PFX_ADDR32) !== 0;
      const w = a32 ? 4 : 8;
      let count = getReg(c, RCX, w);
      let take: boolean;
      if (i.sub === 3) take = count === 0n;
      else {
        count = (count - 1n) & maskOf(w);
        take = count !== 0n && (i.sub === 2 || (i.sub === 1 ? lf.zf() : !lf.zf()));
      }
      const target = take ? branchTarget(c, next + i.imm) : next;
      if (i.sub !== 3) setReg(c, RCX, w, count);
      c.ip = target;
      return false;
    }

    case OP_FLAGOP:
      switch (i.sub) {
        case 0:
          lf.setBits(lf.status() & ~RFLAGS_CF);
          break;
        case 1:
          lf.setBits(lf.status() | RFLAGS_CF);
          break;
        case 2:
          lf.setBits(lf.status() ^ RFLAGS_CF);
          break;
        case 3:
          c.flagsCtl &= ~RFLAGS_DF;
          break;
        case 4:
          c.flagsCtl |= RFLAGS_DF;
          break;
        default: {
          // CLI and STI need CPL <= IOPL (no VME or PVI here).
          if (c.cplN > (c.flagsCtl & RFLAGS_IOPL) >> 12) {
            c.faultWhy = `${i.name} in ring ${c.cplN} with IOPL ${
              (c.flagsCtl & RFLAGS_IOPL) >> 12
            }`;
            c.raise(EXC_GP, 0);
          }
          if (i.sub === 5) c.flagsCtl &= ~RFLAGS_IF;
          else c.flagsCtl |= RFLAGS_IF;
          c.ip = next;
          return true; // the run loop looks for interrupts now that IF may be 1
        }
      }
      break;
    case OP_CPUID: {
      const [a, b, cc, d] = c.cpuid(c.r32[0] >>> 0, c.r32[2] >>> 0);
      setReg(c, RAX, 4, BigInt(a));
      setReg(c, RBX, 4, BigInt(b));
      setReg(c, RCX, 4, BigInt(cc));
      setReg(c, RDX, 4, BigInt(d));
      break;
    }
    case OP_RDTSC:
    case OP_RDTSCP: {
      if ((c.cr4 & CR4_TSD) && c.cplN > 0) {
        c.faultWhy = "rdtsc in ring 3 with CR4.TSD = 1";
        c.raise(EXC_GP, 0);
      }
      const t = c.tsc();
      setReg(c, RAX, 4, t & 0xffff_ffffn);
      setReg(c, RDX, 4, t >> 32n);
      if (i.op === OP_RDTSCP) setReg(c, RCX, 4, BigInt(c.tscAux >>> 0));
      break;
    }
    case OP_CLFLUSH:
      c.xlate(ea(c, i), ACC_READ); // a hint, but the line's address must translate
      break;
    case OP_STORE_SYS:
      storeSystem(c, i);
      break;

    case OP_SYSCALL:
      syscall(c, next);
      return true;
    case OP_INT:
      deliverEvent(c, i.imm & 0xff, EV_SOFTWARE, -1, next, ip);
      return true;
    case OP_INT3:
      deliverEvent(c, EXC_BP, EV_SOFTWARE, -1, next, ip);
      return true;
    case OP_INT1:
      deliverEvent(c, EXC_DB, EV_ICEBP, -1, next, ip);
      return true;
    case OP_IRET:
      if (size === 2) undefinedOpcode(c, "16-bit iret is not supported");
      iretq(c, size);
      return true;
    case OP_IO:
      io(c, i, next);
      return true;
    case OP_TS:
      c.ts.execute(i.sub, ip, next);
      return true;

    case OP_PRIV:
      c.faultWhy = `${i.name} is privileged: ring 3 may not execute it`;
      c.raise(EXC_GP, 0);
      break;
    case OP_TOO_LONG:
      c.faultWhy = i.name;
      c.raise(EXC_GP, 0);
      break;
    case OP_UNIMPL:
      c.machine.report(
        c.index,
        `${i.name} at ${hex(u64(ip))} is not implemented by this CPU: #UD`,
      );
      undefinedOpcode(c, `${i.name} is not implemented`);
      break;
    case OP_UD:
    default:
      undefinedOpcode(c, i.name || `opcode handler ${i.op}`);
  }
  c.ip = next;
  return false;
}

/** A linear address from an offset and an optional FS/GS override, canonical-checked. */
function linear(c: X86Processor, off: bigint, seg: number): number {
  let v = off;
  if (seg >= 0) v += BigInt(seg === SEG_FS ? c.fsBase : c.gsBase);
  const s = BigInt.asIntN(64, v);
  if (s < -(1n << 47n) || s >= 1n << 47n) c.nonCanonical(false);
  return Number(s);
}

/** POP E: the address of a memory operand is computed with RSP already incremented. */
function popE(c: X86Processor, i: Insn): void {
  const size = i.size;
  const sp = rsp(c);
  const v = c.ldB(sp, size);
  if (i.rm >= 0) {
    setRsp(c.r32, sp + size);
    setReg(c, i.rm, size, v);
    return;
  }
  const old = c.regs[RSP];
  setRsp(c.r32, sp + size);
  try {
    c.stB(ea(c, i), size, v);
  } catch (e) {
    c.regs[RSP] = old;
    throw e;
  }
}

/** POPF: which flags ring 3 may change (Vol. 2, POPF, "Operation"). */
function popf(c: X86Processor, v: number, size: number): void {
  const cur = c.rflagsN();
  let mask = RFLAGS_STATUS | RFLAGS_TF | RFLAGS_DF | RFLAGS_NT | RFLAGS_AC | RFLAGS_ID;
  const iopl = (cur & RFLAGS_IOPL) >> 12;
  if (c.cplN === 0) mask |= RFLAGS_IOPL | RFLAGS_IF;
  else if (c.cplN <= iopl) mask |= RFLAGS_IF;
  if (size === 2) mask &= 0xffff;
  const f = ((cur & ~mask) | (v & mask)) & ~RFLAGS_RF;
  c.setRflagsN(f | RFLAGS_FIXED);
}

/** BT, BTS, BTR, BTC (Vol. 2, BT: memory operands address bits beyond the operand). */
function bitTestOp(c: X86Processor, i: Insn): void {
  const size = i.size;
  const bits = size * 8;
  const op = i.sub;
  let bit: number;
  let va = 0;
  if (i.op === OP_BT_EI) {
    bit = i.imm & (bits - 1);
    if (i.rm < 0) va = ea(c, i);
  } else {
    const off = signed(getReg(c, i.reg, size), size);
    if (i.rm >= 0) bit = Number(off & BigInt(bits - 1));
    else {
      const base = ea(c, i);
      const words = off >> BigInt(Math.log2(bits)); // floor division, also for negatives
      bit = Number(off & BigInt(bits - 1));
      va = base + Number(words) * size;
      if (va < -(2 ** 47) || va >= 2 ** 47) c.nonCanonical(i.stack);
    }
  }
  const acc = op === 0 ? ACC_READ : ACC_WRITE;
  const value = i.rm >= 0 ? getReg(c, i.rm, size) : c.ldB(va, size, acc);
  const r = bitTest(op, value, bit, c.lf);
  if (op === 0) return;
  if (i.rm >= 0) setReg(c, i.rm, size, r);
  else c.stB(va, size, r);
}

/** CMPXCHG8B / CMPXCHG16B (Vol. 2, CMPXCHG8B/CMPXCHG16B). */
function cmpxchgWide(c: X86Processor, i: Insn): void {
  const half = i.size; // 4 for 8B, 8 for 16B
  const va = ea(c, i);
  if (half === 8 && (va & 15) !== 0) {
    c.faultWhy = "cmpxchg16b needs a 16-byte aligned operand";
    c.raise(EXC_GP, 0);
  }
  const lo = c.ldB(va, half, ACC_WRITE);
  const hi = c.ldB(va + half, half, ACC_WRITE);
  const eq = lo === getReg(c, RAX, half) && hi === getReg(c, RDX, half);
  if (eq) {
    c.stB(va, half, getReg(c, RBX, half));
    c.stB(va + half, half, getReg(c, RCX, half));
  } else {
    c.stB(va, half, lo);
    c.stB(va + half, half, hi);
    setReg(c, RAX, half, lo);
    setReg(c, RDX, half, hi);
  }
  const s = c.lf.status() & ~RFLAGS_ZF;
  c.lf.setBits(s | (eq ? RFLAGS_ZF : 0));
}

/** ENTER imm16, imm8 (Vol. 2, ENTER), 64-bit and 16-bit operand sizes. */
function enter(c: X86Processor, i: Insn): void {
  const size = i.size;
  const level = i.imm2 & 31;
  const old = c.regs[RSP];
  try {
    push(c, getReg(c, RBP, size), size);
    const frame = BigInt.asUintN(64, c.regs[RSP]);
    let bp = BigInt.asIntN(64, c.regs[RBP]);
    for (let k = 1; k < level; k++) {
      bp -= BigInt(size);
      if (bp < -(1n << 47n) || bp >= 1n << 47n) c.nonCanonical(true);
      push(c, c.ldB(Number(bp), size), size);
    }
    if (level > 0) push(c, frame & maskOf(size), size);
    const sp = rsp(c) - i.imm;
    if (sp < -(2 ** 47)) c.nonCanonical(true);
    c.xlate(sp, ACC_WRITE); // the new top of stack must be writable (#PF otherwise)
    setReg(c, RBP, size, frame & maskOf(size));
    setRsp(c.r32, sp);
  } catch (e) {
    c.regs[RSP] = old;
    throw e;
  }
}

/** SGDT, SIDT, SLDT, STR, SMSW in ring 3 (#GP(0) when CR4.UMIP = 1). */
function storeSystem(c: X86Processor, i: Insn): void {
  if ((c.cr4 & CR4_UMIP) && c.cplN > 0) {
    c.faultWhy = `${i.name} with CR4.UMIP = 1`;
    c.raise(EXC_GP, 0);
  }
  switch (i.sub) {
    case 0:
    case 1: {
      const va = ea(c, i);
      const base = i.sub === 0 ? c.gdtrBase : c.idtrBase;
      const limit = i.sub === 0 ? c.gdtrLimit : c.idtrLimit;
      c.xlate(va, ACC_WRITE);
      c.xlate(va + 9, ACC_WRITE);
      c.stB(va, 2, BigInt(limit));
      c.stB(va + 2, 8, u64(base));
      return;
    }
    case 2:
      return setE(c, i, BigInt(c.ldtrSel), i.rm >= 0 ? i.size : 2);
    case 3:
      return setE(c, i, BigInt(c.trSel), i.rm >= 0 ? i.size : 2);
    default:
      return setE(
        c,
        i,
        BigInt(c.cr0 >>> 0) & maskOf(i.rm >= 0 ? i.size : 2),
        i.rm >= 0 ? i.size : 2,
      );
  }
}

/**
 * Whether ring 3 may access `size` ports from `port`: CPL <= IOPL, or every bit of the
 * TSS I/O permission bitmap for them is 0 (Vol. 1 §19.5.2, "I/O Permission Bit Map").
 */
function ioAllowed(c: X86Processor, port: number, size: number): boolean {
  const iopl = (c.flagsCtl & RFLAGS_IOPL) >> 12;
  if (c.cplN <= iopl) return true;
  if (c.trLimit < TSS_IOMAP_BASE + 1) return false;
  return c.asSupervisor(() => {
    const base = c.ld16(c.trBase + TSS_IOMAP_BASE);
    const at = base + (port >> 3);
    if (at + 1 > c.trLimit) return false;
    const bits = c.ld16(c.trBase + at);
    return (bits & (((1 << size) - 1) << (port & 7))) === 0;
  });
}

/** IN, OUT, INS, OUTS from ring 3. */
function io(c: X86Processor, i: Insn, next: number): void {
  const size = i.size;
  const port = i.imm2 === 1 ? i.imm & 0xff : c.r16[RDX << 2];
  if (!ioAllowed(c, port, size)) {
    c.faultWhy = `${i.name} port ${hex(port)} from ring 3: IOPL is ${
      (c.flagsCtl & RFLAGS_IOPL) >> 12
    } and the TSS I/O bitmap does not allow it`;
    c.raise(EXC_GP, 0);
  }
  switch (i.sub) {
    case 0:
      setReg(c, RAX, size, BigInt(c.portIn(port, size)));
      break;
    case 1:
      c.portOut(port, size, Number(getReg(c, RAX, size)));
      break;
    default: {
      // INS/OUTS, once or with REP.
      const rep = (i.pfx & (PFX_REP | PFX_REPNE)) !== 0;
      const a32 = (i.pfx & PFX_ADDR32) !== 0;
      const step = c.flagsCtl & RFLAGS_DF ? -size : size;
      for (;;) {
        if (rep && getReg(c, RCX, a32 ? 4 : 8) === 0n) break;
        if (i.sub === 2) {
          const va = linear(c, getReg(c, RDI, a32 ? 4 : 8), -1);
          c.xlate(va, ACC_WRITE);
          c.stB(va, size, BigInt(c.portIn(port, size)));
          setReg(c, RDI, a32 ? 4 : 8, getReg(c, RDI, 8) + BigInt(step));
        } else {
          const va = linear(c, getReg(c, RSI, a32 ? 4 : 8), i.seg);
          c.portOut(port, size, Number(c.ldB(va, size)));
          setReg(c, RSI, a32 ? 4 : 8, getReg(c, RSI, 8) + BigInt(step));
        }
        if (!rep) break;
        setReg(c, RCX, a32 ? 4 : 8, getReg(c, RCX, 8) - 1n);
      }
    }
  }
  c.ip = next;
}

// ---- string instructions -------------------------------------------------------------------

/**
 * MOVS, CMPS, STOS, LODS, SCAS with REP/REPE/REPNE (Vol. 2, REP/REPE/REPZ/REPNE/REPNZ).
 * Runs at most `budget` iterations; if the count is not exhausted RIP stays on the
 * instruction, so it continues at the next turn (and an interrupt can come in between,
 * as on hardware). A fault leaves RSI, RDI and RCX as the completed iterations left them.
 * Returns the iterations run beyond the first (each costs 1 ns).
 */
export function execString(c: X86Processor, i: Insn, next: number, budget: number): number {
  const size = i.size;
  const w = i.pfx & PFX_ADDR32 ? 4 : 8;
  const rep = (i.pfx & (PFX_REP | PFX_REPNE)) !== 0;
  const sub = i.sub;
  const step = BigInt(c.flagsCtl & RFLAGS_DF ? -size : size);
  const cmp = sub === STR_CMPS || sub === STR_SCAS;
  let done = 0;
  for (;;) {
    if (rep && getReg(c, RCX, w) === 0n) {
      c.ip = next;
      break;
    }
    const rsi = getReg(c, RSI, w), rdi = getReg(c, RDI, w);
    switch (sub) {
      case STR_MOVS: {
        const v = c.ldB(linear(c, rsi, i.seg), size);
        c.stB(linear(c, rdi, -1), size, v);
        break;
      }
      case STR_STOS:
        c.stB(linear(c, rdi, -1), size, getReg(c, RAX, size));
        break;
      case STR_LODS:
        setReg(c, RAX, size, c.ldB(linear(c, rsi, i.seg), size));
        break;
      case STR_CMPS: {
        const a = c.ldB(linear(c, rsi, i.seg), size);
        const b = c.ldB(linear(c, rdi, -1), size);
        alu(ALU_CMP, size, a, b, c.lf);
        break;
      }
      default: {
        const b = c.ldB(linear(c, rdi, -1), size);
        alu(ALU_CMP, size, getReg(c, RAX, size), b, c.lf);
      }
    }
    if (sub === STR_MOVS || sub === STR_LODS || sub === STR_CMPS) {
      setReg(c, RSI, w, rsi + step);
    }
    if (sub !== STR_LODS) setReg(c, RDI, w, rdi + step);
    done++;
    if (!rep) {
      c.ip = next;
      break;
    }
    setReg(c, RCX, w, getReg(c, RCX, w) - 1n);
    if (cmp) {
      const zf = c.lf.zf();
      if ((i.pfx & PFX_REP) ? !zf : zf) {
        c.ip = next;
        break;
      }
    }
    if (done >= budget) break; // RIP stays: the instruction continues next time
  }
  return Math.max(0, done - 1);
}
