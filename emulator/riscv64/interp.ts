/**
 * The U-mode interpreter: fetch, decode and execute RV64IMAC + Zicsr + Zifencei + Zicntr,
 * one instruction at a time (unprivileged manual: RV32I/RV64I ch. 2 and 5, M ch. 7,
 * A ch. 8, Zicsr ch. 9, C ch. 16; opcode map Table 24.1).
 *
 * ## The fast path
 *
 * The loop keeps everything it touches per instruction in local variables: the registers
 * (a `BigInt64Array` and an `Int32Array` view of the same buffer), the RAM views, the
 * data TLB's arrays and the current fetch page. An instruction fetched from the current
 * page, an ALU operation, a branch, and a load or store that hits the data TLB on a RAM
 * page with the right permissions never leave the loop and allocate nothing. Anything
 * else (a TLB miss, a device, a misaligned address, a CSR, an AMO, an ecall, an
 * instruction of a TypeScript program, an illegal encoding) synchronises the hart's time
 * and pc and calls a slow path in access.ts, atomics.ts, csrs.ts or user_thread.ts, which
 * does the whole job by the book.
 *
 * Time: each instruction costs 1 ns; `n` counts them. A trapping instruction costs its
 * nanosecond but does not retire (the slow path takes it back from instret).
 *
 * The loop leaves when its time is up (the quantum's end, or the next stimecmp, so the
 * timer interrupt is taken on time), after a trap, and after any device access (a device
 * may have raised an interrupt). The caller (`RiscvHart.run`) takes interrupts between
 * calls.
 *
 * A later basic-block translator would slot in at the fetch: decode once per physical
 * address, invalidated by `fence.i` (which already drops the fetch page) and by stores to
 * translated pages.
 *
 * @module
 */

import {
  EXC_BREAKPOINT,
  EXC_ECALL_U,
  EXC_ILLEGAL_INST,
  PTE_A,
  PTE_D,
  PTE_R,
  PTE_U,
  PTE_W,
} from "./csr.ts";
import { csrRead, csrWrite } from "./csrs.ts";
import type { RiscvHart } from "./hart.ts";
import { fetchSlow, SLOW_DEVICE, SLOW_TRAPPED, userLoad, userStore } from "./access.ts";
import { userAmo } from "./atomics.ts";
import { EXPANDED } from "./compressed.ts";
import { TLB_IO, TLB_MASK } from "./tlb.ts";
import { takeTrap } from "./trap.ts";
import { execCustom0 } from "./user_thread.ts";

/** The TLB permission bits a U-mode load needs on the fast path (and not TLB_IO). */
const LOAD_MASK = PTE_R | PTE_U | PTE_A | TLB_IO;
const LOAD_OK = PTE_R | PTE_U | PTE_A;
/** The TLB permission bits a U-mode store needs on the fast path (Svade: D too). */
const STORE_MASK = PTE_W | PTE_U | PTE_A | PTE_D | TLB_IO;
const STORE_OK = PTE_W | PTE_U | PTE_A | PTE_D;
const TWO32 = 4294967296;

/** Runs U-mode code on `h` until `untilNs`, a trap, or a reason to look around. */
export function runUser(h: RiscvHart, untilNs: number): void {
  const ram = h.machine.ram;
  const u8 = ram.u8, u16 = ram.u16, i32 = ram.i32, i64 = ram.i64, i8 = h.ramI8, i16 = h.ramI16;
  const x = h.x, xi = h.xi;
  const dtlb = h.dtlb;
  const tPage = dtlb.page, tAsid = dtlb.asid, tPerm = dtlb.perm, tDelta = dtlb.delta;
  const asid = h.tlbAsid, gAsid = h.tlbGlobal;
  const resv = h.reservations;
  const hartIndex = h.index;
  const t0 = h.timeNs, ir0 = h.instret;
  const limit = Math.min(untilNs, h.stimecmpNs > t0 ? h.stimecmpNs : Infinity) - t0;
  let n = 0;
  // The pc is kept as `off`, the RAM-buffer offset it maps to, with pc = off + pcDelta;
  // [pStart, pEnd) are the offsets of the fetch page where an instruction fits whole.
  // off = -1 means "not on the fetch page": the pc is then farPc.
  let off = -1, farPc = h.vpc, pcDelta = 0, pStart = 0, pEnd = 0;
  if (h.fetchBase === h.fetchBase) {
    const po = h.vpc - h.fetchBase;
    pStart = h.fetchOff;
    pEnd = pStart + 4094;
    pcDelta = h.fetchBase - pStart;
    if (po >= 0 && po < 4094) off = (pStart + po) | 0;
  }

  while (n < limit) {
    n++;
    // ---- fetch ----
    let ins: number;
    if (off >= pStart && off < pEnd) {
      if ((off & 3) === 0) ins = i32[off >> 2];
      else {
        ins = u16[off >> 1];
        if ((ins & 3) === 3) ins |= u16[(off >> 1) + 1] << 16;
      }
    } else {
      const pc = off === -1 ? farPc : off + pcDelta;
      h.timeNs = t0 + n;
      h.instret = ir0 + n;
      h.vpc = pc;
      ins = fetchSlow(h, pc);
      if (ins < 0) return;
      ins |= 0;
      if (h.fetchBase === h.fetchBase) {
        pStart = h.fetchOff;
        pEnd = pStart + 4094;
        pcDelta = h.fetchBase - pStart;
        off = (pc - pcDelta) | 0;
      } else {
        // Not cacheable (a 32-bit instruction across pages, or slow RAM): fetch each time.
        pStart = pEnd = 0;
        pcDelta = pc;
        off = 0;
      }
    }
    let ilen = 4;
    if ((ins & 3) !== 3) {
      ilen = 2;
      const c = ins & 0xffff;
      ins = EXPANDED[c];
      if (ins === 0) return illegal(h, off + pcDelta, c, t0 + n, ir0 + n);
    }
    // ---- decode and execute ----
    const rd = (ins >> 7) & 31, rs1 = (ins >> 15) & 31, rs2 = (ins >> 20) & 31;
    switch (ins & 0x7f) {
      case 0x13: { // OP-IMM
        const imm = ins >> 20;
        switch ((ins >> 12) & 7) {
          case 0: // addi
            if (rd !== 0) x[rd] = x[rs1] + BigInt(imm);
            break;
          case 1: // slli
            if (imm >>> 6 !== 0) return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
            if (rd !== 0) sll(xi, rd, rs1, imm & 63);
            break;
          case 2: // slti
            if (rd !== 0) setBool(xi, rd, x[rs1] < BigInt(imm));
            break;
          case 3: // sltiu: the immediate is sign-extended, then compared unsigned
            if (rd !== 0) setBool(xi, rd, ltu(xi[2 * rs1 + 1], xi[2 * rs1], imm >> 31, imm));
            break;
          case 4: // xori
            if (rd !== 0) {
              xi[2 * rd + 1] = xi[2 * rs1 + 1] ^ (imm >> 31);
              xi[2 * rd] = xi[2 * rs1] ^ imm;
            }
            break;
          case 5: { // srli, srai
            const f6 = imm >>> 6 & 63;
            if (f6 !== 0 && f6 !== 0x10) return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
            if (rd !== 0) {
              if (f6 === 0) srl(xi, rd, rs1, imm & 63);
              else sra(xi, rd, rs1, imm & 63);
            }
            break;
          }
          case 6: // ori
            if (rd !== 0) {
              xi[2 * rd + 1] = xi[2 * rs1 + 1] | (imm >> 31);
              xi[2 * rd] = xi[2 * rs1] | imm;
            }
            break;
          default: // andi
            if (rd !== 0) {
              xi[2 * rd + 1] = xi[2 * rs1 + 1] & (imm >> 31);
              xi[2 * rd] = xi[2 * rs1] & imm;
            }
        }
        off += ilen;
        break;
      }
      case 0x33: { // OP
        const f3 = (ins >> 12) & 7, f7 = ins >>> 25;
        if (f7 === 0) {
          if (rd !== 0) {
            switch (f3) {
              case 0:
                x[rd] = x[rs1] + x[rs2];
                break;
              case 1:
                sll(xi, rd, rs1, xi[2 * rs2] & 63);
                break;
              case 2:
                setBool(xi, rd, x[rs1] < x[rs2]);
                break;
              case 3:
                setBool(xi, rd, ltu(xi[2 * rs1 + 1], xi[2 * rs1], xi[2 * rs2 + 1], xi[2 * rs2]));
                break;
              case 4:
                x[rd] = x[rs1] ^ x[rs2];
                break;
              case 5:
                srl(xi, rd, rs1, xi[2 * rs2] & 63);
                break;
              case 6:
                x[rd] = x[rs1] | x[rs2];
                break;
              default:
                x[rd] = x[rs1] & x[rs2];
            }
          }
        } else if (f7 === 0x20 && (f3 === 0 || f3 === 5)) {
          if (rd !== 0) {
            if (f3 === 0) x[rd] = x[rs1] - x[rs2];
            else sra(xi, rd, rs1, xi[2 * rs2] & 63);
          }
        } else if (f7 === 1) {
          if (rd !== 0) x[rd] = mulDiv(f3, x[rs1], x[rs2]);
        } else return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
        off += ilen;
        break;
      }
      case 0x03: { // LOAD
        const f3 = (ins >> 12) & 7;
        const va = xi[2 * rs1 + 1] * TWO32 + (xi[2 * rs1] >>> 0) + (ins >> 20);
        const e = (va >>> 12) & TLB_MASK;
        if (
          tPage[e] === va - (va & 4095) && (tAsid[e] === asid || tAsid[e] === gAsid) &&
          (tPerm[e] & LOAD_MASK) === LOAD_OK && (va & ((1 << (f3 & 3)) - 1)) === 0 && f3 !== 7
        ) {
          const ro = va + tDelta[e];
          if (rd !== 0) {
            const r = 2 * rd;
            switch (f3) {
              case 0:
                xi[r] = i8[ro];
                xi[r + 1] = xi[r] >> 31;
                break;
              case 1:
                xi[r] = i16[ro >>> 1];
                xi[r + 1] = xi[r] >> 31;
                break;
              case 2:
                xi[r] = i32[ro >>> 2];
                xi[r + 1] = xi[r] >> 31;
                break;
              case 3:
                x[rd] = i64[ro >>> 3];
                break;
              case 4:
                xi[r] = u8[ro];
                xi[r + 1] = 0;
                break;
              case 5:
                xi[r] = u16[ro >>> 1];
                xi[r + 1] = 0;
                break;
              default:
                xi[r] = i32[ro >>> 2];
                xi[r + 1] = 0;
            }
          }
          off += ilen;
          break;
        }
        if (f3 === 7) return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
        const pc = off + pcDelta;
        h.timeNs = t0 + n;
        h.instret = ir0 + n;
        h.vpc = pc;
        const r = userLoad(h, pc, rd, rs1, ins >> 20, f3);
        if (r === SLOW_TRAPPED) return;
        off += ilen;
        if (r === SLOW_DEVICE) return leave(h, off, farPc, pcDelta, pStart, pEnd);
        break;
      }
      case 0x23: { // STORE
        const f3 = (ins >> 12) & 7;
        const imm = ((ins >> 25) << 5) | ((ins >> 7) & 31);
        const va = xi[2 * rs1 + 1] * TWO32 + (xi[2 * rs1] >>> 0) + imm;
        const e = (va >>> 12) & TLB_MASK;
        if (
          tPage[e] === va - (va & 4095) && (tAsid[e] === asid || tAsid[e] === gAsid) &&
          (tPerm[e] & STORE_MASK) === STORE_OK && (va & ((1 << f3) - 1)) === 0 && f3 < 4
        ) {
          const ro = va + tDelta[e];
          switch (f3) {
            case 0:
              u8[ro] = xi[2 * rs2];
              break;
            case 1:
              u16[ro >>> 1] = xi[2 * rs2];
              break;
            case 2:
              i32[ro >>> 2] = xi[2 * rs2];
              break;
            default:
              i64[ro >>> 3] = x[rs2];
          }
          if (resv.active !== 0) resv.storeHit(ro, hartIndex);
          off += ilen;
          break;
        }
        if (f3 >= 4) return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
        const pc = off + pcDelta;
        h.timeNs = t0 + n;
        h.instret = ir0 + n;
        h.vpc = pc;
        const r = userStore(h, pc, rs1, rs2, imm, f3);
        if (r === SLOW_TRAPPED) return;
        off += ilen;
        if (r === SLOW_DEVICE) return leave(h, off, farPc, pcDelta, pStart, pEnd);
        break;
      }
      case 0x63: { // BRANCH
        let taken: boolean;
        switch ((ins >> 12) & 7) {
          case 0:
            taken = xi[2 * rs1] === xi[2 * rs2] && xi[2 * rs1 + 1] === xi[2 * rs2 + 1];
            break;
          case 1:
            taken = xi[2 * rs1] !== xi[2 * rs2] || xi[2 * rs1 + 1] !== xi[2 * rs2 + 1];
            break;
          case 4:
            taken = x[rs1] < x[rs2];
            break;
          case 5:
            taken = x[rs1] >= x[rs2];
            break;
          case 6:
            taken = ltu(xi[2 * rs1 + 1], xi[2 * rs1], xi[2 * rs2 + 1], xi[2 * rs2]);
            break;
          case 7:
            taken = !ltu(xi[2 * rs1 + 1], xi[2 * rs1], xi[2 * rs2 + 1], xi[2 * rs2]);
            break;
          default:
            return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
        }
        if (taken) {
          off += ((ins >> 31) << 12) | (((ins >> 7) & 1) << 11) | (((ins >> 25) & 0x3f) << 5) |
            (((ins >> 8) & 0xf) << 1);
        } else off += ilen;
        break;
      }
      case 0x6f: { // JAL
        if (rd !== 0) setNumber(xi, rd, off + pcDelta + ilen);
        off += ((ins >> 31) << 20) | (((ins >> 12) & 0xff) << 12) | (((ins >> 20) & 1) << 11) |
          (((ins >> 21) & 0x3ff) << 1);
        break;
      }
      case 0x67: { // JALR
        if (((ins >> 12) & 7) !== 0) return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
        const imm = ins >> 20;
        const lo = xi[2 * rs1], hi = xi[2 * rs1 + 1];
        const link = off + pcDelta + ilen;
        let target: number;
        if (hi <= 0x1fffff && hi >= -0x200000) {
          target = hi * TWO32 + (lo >>> 0) + imm - ((lo + imm) & 1); // bit 0 cleared
        } else {
          // |target| >= 2^53: not a number we can hold exactly; it faults on fetch.
          h.setPc(BigInt.asUintN(64, x[rs1] + BigInt(imm)) & ~1n);
          target = h.vpc;
        }
        const o = target - pcDelta;
        if (o >= pStart && o < pEnd) off = o | 0;
        else {
          off = -1;
          farPc = target;
        }
        if (rd !== 0) setNumber(xi, rd, link);
        break;
      }
      case 0x37: // LUI
        if (rd !== 0) {
          xi[2 * rd] = ins & 0xfffff000;
          xi[2 * rd + 1] = ins >> 31;
        }
        off += ilen;
        break;
      case 0x17: // AUIPC
        if (rd !== 0) setNumber(xi, rd, off + pcDelta + (ins & 0xfffff000));
        off += ilen;
        break;
      case 0x1b: { // OP-IMM-32
        const f3 = (ins >> 12) & 7;
        const a = xi[2 * rs1];
        let v: number;
        if (f3 === 0) v = (a + (ins >> 20)) | 0; // addiw
        else if (f3 === 1 && ins >>> 25 === 0) v = a << rs2; // slliw
        else if (f3 === 5 && ins >>> 25 === 0) v = (a >>> rs2) | 0; // srliw
        else if (f3 === 5 && ins >>> 25 === 0x20) v = a >> rs2; // sraiw
        else return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
        if (rd !== 0) {
          xi[2 * rd] = v;
          xi[2 * rd + 1] = v >> 31;
        }
        off += ilen;
        break;
      }
      case 0x3b: { // OP-32
        const v = op32(ins, xi[2 * rs1], xi[2 * rs2]);
        if (v === undefined) return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
        if (rd !== 0) {
          xi[2 * rd] = v;
          xi[2 * rd + 1] = v >> 31;
        }
        off += ilen;
        break;
      }
      case 0x0f: { // MISC-MEM
        const f3 = (ins >> 12) & 7;
        if (f3 === 1) pEnd = pStart; // fence.i: fetch afresh (no decoded code is cached yet)
        else if (f3 !== 0) return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
        off += ilen; // fence: every access is complete before the next here
        break;
      }
      case 0x73: { // SYSTEM
        const pc = off + pcDelta;
        h.timeNs = t0 + n;
        h.instret = ir0 + n;
        h.vpc = pc;
        const f3 = (ins >> 12) & 7;
        if (f3 === 0 || f3 === 4) {
          // ecall and ebreak; sret, wfi, sfence.vma and mret are illegal in U-mode.
          h.instret--;
          const epc = BigInt.asUintN(64, BigInt(pc));
          if (ins === 0x73) takeTrap(h, EXC_ECALL_U, false, 0n, epc);
          else if (ins === 0x0010_0073) takeTrap(h, EXC_BREAKPOINT, false, epc, epc);
          else takeTrap(h, EXC_ILLEGAL_INST, false, BigInt(ins >>> 0), epc);
          return;
        }
        if (!userCsr(h, ins, rd, rs1, f3)) return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
        off += ilen;
        break;
      }
      case 0x2f: { // AMO
        const pc = off + pcDelta;
        h.timeNs = t0 + n;
        h.instret = ir0 + n;
        h.vpc = pc;
        if (userAmo(h, pc, ins) === SLOW_TRAPPED) return;
        off += ilen;
        break;
      }
      case 0x0b: { // custom-0: ts.start, ts.resume
        const pc = off + pcDelta;
        h.timeNs = t0 + n;
        h.instret = ir0 + n;
        h.vpc = pc;
        execCustom0(h, pc, ins);
        return;
      }
      default:
        return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
    }
  }
  h.timeNs = t0 + n;
  h.instret = ir0 + n;
  leave(h, off, farPc, pcDelta, pStart, pEnd);
}

/** Leaves the loop: the hart's pc from `off`, and the fetch page kept for the next call. */
function leave(
  h: RiscvHart,
  off: number,
  farPc: number,
  pcDelta: number,
  pStart: number,
  pEnd: number,
): void {
  h.vpc = off === -1 ? farPc : off + pcDelta;
  h.fetchBase = pEnd > pStart ? pStart + pcDelta : NaN;
  h.fetchOff = pStart;
}

/** Raises an illegal-instruction exception at `pc` with stval = the instruction `bits`. */
function illegal(h: RiscvHart, pc: number, bits: number, time: number, instret: number): void {
  h.timeNs = time;
  h.instret = instret - 1;
  h.vpc = pc;
  takeTrap(h, EXC_ILLEGAL_INST, false, BigInt(bits >>> 0), BigInt.asUintN(64, BigInt(pc)));
}

/**
 * A Zicsr instruction (csrrw, csrrs, csrrc and their immediate forms) in U-mode. Returns
 * false when it is illegal: the CSR is missing, privileged, or read-only and written, or
 * scounteren hides the counter.
 */
function userCsr(h: RiscvHart, ins: number, rd: number, rs1: number, f3: number): boolean {
  const csr = ins >>> 20;
  const src = f3 >= 4 ? BigInt(rs1) : h.x[rs1]; // the immediate forms use the field as uimm
  const op = f3 & 3;
  // csrrw does not read when rd = x0; csrrs/csrrc do not write when the source is x0/0.
  const reads = op !== 1 || rd !== 0;
  const writes = op === 1 || rs1 !== 0;
  let old = 0n;
  if (reads || op !== 1) {
    // Counters read as they were when this instruction began, as on Spike: the
    // instruction's nanosecond is under way and it has not retired yet.
    h.timeNs -= 1;
    h.instret -= 1;
    const v = csrRead(h, csr, 0);
    h.timeNs += 1;
    h.instret += 1;
    if (v === undefined) return false;
    old = v;
  }
  if (writes) {
    const value = op === 1 ? src : op === 2 ? old | src : old & ~src;
    if (!csrWrite(h, csr, value, 0)) return false;
  }
  if (rd !== 0 && reads) h.x[rd] = old;
  return true;
}

// ---- 64-bit helpers on the Int32Array view (low word at 2r, high at 2r+1) ----

/** x[rd] = (x[rs1] <u x[rs2]) for the halves given. */
function ltu(ah: number, al: number, bh: number, bl: number): boolean {
  const uah = ah >>> 0, ubh = bh >>> 0;
  return uah < ubh || (uah === ubh && al >>> 0 < bl >>> 0);
}

function setBool(xi: Int32Array, rd: number, v: boolean): void {
  xi[2 * rd] = v ? 1 : 0;
  xi[2 * rd + 1] = 0;
}

/** Writes a signed integer number (|v| < 2^53) to x[rd]. */
function setNumber(xi: Int32Array, rd: number, v: number): void {
  xi[2 * rd] = v | 0;
  xi[2 * rd + 1] = Math.floor(v / TWO32) | 0;
}

function sll(xi: Int32Array, rd: number, rs: number, s: number): void {
  const lo = xi[2 * rs], hi = xi[2 * rs + 1];
  if (s === 0) {
    xi[2 * rd] = lo;
    xi[2 * rd + 1] = hi;
  } else if (s < 32) {
    xi[2 * rd + 1] = (hi << s) | (lo >>> (32 - s));
    xi[2 * rd] = lo << s;
  } else {
    xi[2 * rd + 1] = lo << (s - 32);
    xi[2 * rd] = 0;
  }
}

function srl(xi: Int32Array, rd: number, rs: number, s: number): void {
  const lo = xi[2 * rs], hi = xi[2 * rs + 1];
  if (s === 0) {
    xi[2 * rd] = lo;
    xi[2 * rd + 1] = hi;
  } else if (s < 32) {
    xi[2 * rd] = (lo >>> s) | (hi << (32 - s));
    xi[2 * rd + 1] = hi >>> s;
  } else {
    xi[2 * rd] = hi >>> (s - 32);
    xi[2 * rd + 1] = 0;
  }
}

function sra(xi: Int32Array, rd: number, rs: number, s: number): void {
  const lo = xi[2 * rs], hi = xi[2 * rs + 1];
  if (s === 0) {
    xi[2 * rd] = lo;
    xi[2 * rd + 1] = hi;
  } else if (s < 32) {
    xi[2 * rd] = (lo >>> s) | (hi << (32 - s));
    xi[2 * rd + 1] = hi >> s;
  } else {
    xi[2 * rd] = hi >> (s - 32);
    xi[2 * rd + 1] = hi >> 31;
  }
}

const U64 = (v: bigint) => BigInt.asUintN(64, v);

/** The M extension's 64-bit operations (funct3 0..7), with §7.2's division corner cases. */
function mulDiv(f3: number, a: bigint, b: bigint): bigint {
  switch (f3) {
    case 0: // mul
      return a * b;
    case 1: // mulh
      return (a * b) >> 64n;
    case 2: // mulhsu
      return (a * U64(b)) >> 64n;
    case 3: // mulhu
      return (U64(a) * U64(b)) >> 64n;
    case 4: // div: by zero gives -1; -2^63 / -1 overflows to -2^63 when stored
      return b === 0n ? -1n : a / b;
    case 5: // divu: by zero gives 2^64 - 1
      return b === 0n ? -1n : U64(a) / U64(b);
    case 6: // rem: by zero gives the dividend; -2^63 % -1 is 0
      return b === 0n ? a : a % b;
    default: // remu
      return b === 0n ? a : U64(a) % U64(b);
  }
}

/** OP-32 (the W forms of OP and M): the 32-bit result, or undefined when illegal. */
function op32(ins: number, a: number, b: number): number | undefined {
  const f3 = (ins >> 12) & 7, f7 = ins >>> 25;
  if (f7 === 0) {
    if (f3 === 0) return (a + b) | 0; // addw
    if (f3 === 1) return a << (b & 31); // sllw
    if (f3 === 5) return (a >>> (b & 31)) | 0; // srlw
  } else if (f7 === 0x20) {
    if (f3 === 0) return (a - b) | 0; // subw
    if (f3 === 5) return a >> (b & 31); // sraw
  } else if (f7 === 1) {
    switch (f3) {
      case 0: // mulw
        return Math.imul(a, b);
      case 4: // divw
        return b === 0 ? -1 : a === -0x8000_0000 && b === -1 ? a : (a / b) | 0;
      case 5: // divuw
        return b === 0 ? -1 : Math.floor((a >>> 0) / (b >>> 0)) | 0;
      case 6: // remw
        return b === 0 ? a : a === -0x8000_0000 && b === -1 ? 0 : a % b;
      case 7: // remuw
        return b === 0 ? a : ((a >>> 0) % (b >>> 0)) | 0;
    }
  }
  return undefined;
}
