/**
 * The U-mode interpreter: fetch, decode and execute RV64IMAC + Zicsr + Zifencei + Zicntr,
 * one instruction at a time (unprivileged manual: RV32I/RV64I ch. 2 and 5, M ch. 7,
 * A ch. 8, Zicsr ch. 9, C ch. 16; opcode map Table 24.1).
 *
 * ## The fast path
 *
 * The loop keeps everything it touches per instruction in local variables: the registers
 * (a `BigInt64Array` for 64-bit arithmetic, which V8 compiles without allocating, and an
 * `Int32Array` view of the same buffer for shifts, compares and addresses), the RAM views,
 * the data TLB's integer view, and the pc as an int32 offset into the RAM buffer within
 * the current fetch page. An instruction fetched from that page, an ALU operation, a
 * branch, and a load or store that hits the data TLB on a RAM page with the right
 * permissions never leave the loop and allocate nothing. Loads and stores first try the
 * last page they used (two int32 compares): a translation cannot change while the loop
 * runs, because `sfence.vma` and satp writes happen only in the kernel, which runs after
 * the loop has returned.
 *
 * Anything else (a TLB miss, a device, a misaligned address, a CSR, an AMO, an ecall, an
 * instruction of a TypeScript program, an illegal encoding) synchronises the hart's time
 * and pc and calls a slow path in access.ts, atomics.ts, csrs.ts or user_thread.ts, which
 * does the whole job by the book. The M extension's high multiplies and divisions use
 * BigInt arithmetic that V8 does not lower, so they allocate.
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
 * translated pages. (A cache of decoded fields alone measured no faster than decoding the
 * bits again: typed-array loads cost what the shifts cost.)
 *
 * @module
 */

import { EXC_BREAKPOINT, EXC_ECALL_U, EXC_ILLEGAL_INST } from "./csr.ts";
import { csrRead, csrWrite } from "./csrs.ts";
import type { RiscvHart } from "./hart.ts";
import { fetchSlow, SLOW_DEVICE, SLOW_TRAPPED, userLoad, userStore } from "./access.ts";
import { userAmo } from "./atomics.ts";
import { EXPANDED } from "./compressed.ts";
import { FAST_BASE, FAST_LOAD, FAST_STORE, FAST_STRIDE, FAST_TAG_HI, TLB_MASK } from "./tlb.ts";
import { takeTrap } from "./trap.ts";
import { execCustom0 } from "./user_thread.ts";

const TWO32 = 4294967296;

// The fast path indexes Tlb.fast with literal offsets (an imported binding costs a check at
// every use); keep them in step with tlb.ts.
if (
  FAST_STRIDE !== 8 || FAST_TAG_HI !== 1 || FAST_LOAD !== 2 || FAST_STORE !== 3 ||
  FAST_BASE !== 4
) {
  throw new Error("interp.ts: the layout of Tlb.fast changed");
}

/** Runs U-mode code on `h` until `untilNs`, a trap, or a reason to look around. */
export function runUser(h: RiscvHart, untilNs: number): void {
  const ram = h.machine.ram;
  const u8 = ram.u8, u16 = ram.u16, i32 = ram.i32, i64 = ram.i64, i8 = h.ramI8, i16 = h.ramI16;
  const x = h.x, xi = h.xi;
  const dtlb = h.dtlb;
  const fast = dtlb.fast;
  const asid = h.tlbAsid;
  const resv = h.reservations;
  // Imported bindings cost a load and a check at each use: copy them into locals.
  const expanded = EXPANDED, tlbMask = TLB_MASK;
  const hartIndex = h.index;
  const t0 = h.timeNs, ir0 = h.instret;
  const limit = Math.min(untilNs, h.stimecmpNs > t0 ? h.stimecmpNs : Infinity) - t0;
  let n = 0;
  // The pc is kept as `off`, the RAM-buffer offset it maps to, with pc = off + pcDelta;
  // [pStart, pEnd) are the offsets of the fetch page where an instruction fits whole.
  // off = -1 means "not on the fetch page": the pc is then farPc.
  let off = -1, farPc = h.vpc, pcDelta = 0, pStart = 0, pEnd = 0;
  // The last pages loaded from and stored to, copied from the data TLB: a translation
  // cannot change while this loop runs (sfence.vma and satp are the kernel's, which runs
  // only after the loop has returned), so the copies stay valid until it returns. A low
  // half of 1 matches no page.
  let loadLo = 1, loadHi = 0, loadBase = 0, storeLo = 1, storeHi = 0, storeBase = 0;
  if (h.fetchBase === h.fetchBase) {
    const po = h.vpc - h.fetchBase;
    pStart = h.fetchOff | 0;
    pEnd = (pStart + 4094) | 0;
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
        pStart = h.fetchOff | 0;
        pEnd = (pStart + 4094) | 0;
        pcDelta = h.fetchBase - pStart;
        off = (pc - pcDelta) | 0;
      } else {
        // Not cacheable (RAM the fast path cannot reach): fetch each instruction slowly.
        pStart = pEnd = 0;
        pcDelta = pc;
        off = 0;
      }
    }
    let ilen = 4;
    if ((ins & 3) !== 3) {
      ilen = 2;
      const c = ins & 0xffff;
      ins = expanded[c];
      if (ins === 0) return illegal(h, off + pcDelta, c, t0 + n, ir0 + n);
    }
    // ---- decode and execute ----
    // Every 32-bit opcode ends in 11, so bits 6:2 number the major opcodes densely (a
    // jump table); funct3 (bits 14:12) picks the operation within most of them.
    const rd = (ins >> 7) & 31, rs1 = (ins >> 15) & 31, rs2 = (ins >> 20) & 31;
    switch ((ins >> 2) & 31) {
      case 4: // OP-IMM (0x13)
        switch ((ins >> 12) & 7) {
          case 0: // addi
            if (rd !== 0) x[rd] = x[rs1] + BigInt(ins >> 20);
            off += ilen;
            break;
          case 1: // slli: imm[11:6] must be 0
            if (ins >>> 26 !== 0) return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
            if (rd !== 0) sll(xi, rd, rs1, rs2 | (ins >> 20 & 32));
            off += ilen;
            break;
          case 2: // slti
            if (rd !== 0) setBool(xi, rd, x[rs1] < BigInt(ins >> 20));
            off += ilen;
            break;
          case 3: { // sltiu: the immediate is sign-extended, then compared unsigned
            const imm = ins >> 20;
            if (rd !== 0) setBool(xi, rd, ltu(xi[2 * rs1 + 1], xi[2 * rs1], imm >> 31, imm));
            off += ilen;
            break;
          }
          case 4: // xori
            if (rd !== 0) {
              xi[2 * rd + 1] = xi[2 * rs1 + 1] ^ (ins >> 31);
              xi[2 * rd] = xi[2 * rs1] ^ (ins >> 20);
            }
            off += ilen;
            break;
          case 5: { // srli, srai: imm[11:6] is 0 or 010000
            const f6 = ins >>> 26;
            if (f6 !== 0 && f6 !== 0x10) return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
            if (rd !== 0) {
              if (f6 === 0) srl(xi, rd, rs1, rs2 | (ins >> 20 & 32));
              else sra(xi, rd, rs1, rs2 | (ins >> 20 & 32));
            }
            off += ilen;
            break;
          }
          case 6: // ori
            if (rd !== 0) {
              xi[2 * rd + 1] = xi[2 * rs1 + 1] | (ins >> 31);
              xi[2 * rd] = xi[2 * rs1] | (ins >> 20);
            }
            off += ilen;
            break;
          case 7: // andi
            if (rd !== 0) {
              xi[2 * rd + 1] = xi[2 * rs1 + 1] & (ins >> 31);
              xi[2 * rd] = xi[2 * rs1] & (ins >> 20);
            }
            off += ilen;
            break;
          default:
            return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
        }
        break;
      case 12: // OP (0x33): funct7 0 (RV64I), 0x20 (sub, sra), 1 (M)
        switch ((ins >> 12) & 7) {
          case 0: { // add, sub, mul
            const f7 = ins >>> 25;
            if (f7 === 0) {
              if (rd !== 0) x[rd] = x[rs1] + x[rs2];
            } else if (f7 === 0x20) {
              if (rd !== 0) x[rd] = x[rs1] - x[rs2];
            } else if (f7 === 1) {
              if (rd !== 0) x[rd] = x[rs1] * x[rs2];
            } else return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
            off += ilen;
            break;
          }
          case 1: // sll, mulh
          case 2: // slt, mulhsu
          case 3: // sltu, mulhu
          case 4: // xor, div
          case 6: // or, rem
          case 7: { // and, remu
            const f3 = (ins >> 12) & 7, f7 = ins >>> 25;
            if (f7 === 1) {
              if (rd !== 0) x[rd] = mulDiv(f3, x[rs1], x[rs2]);
            } else if (f7 !== 0) return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
            else if (rd !== 0) {
              if (f3 === 1) sll(xi, rd, rs1, xi[2 * rs2] & 63);
              else if (f3 === 2) setBool(xi, rd, x[rs1] < x[rs2]);
              else if (f3 === 3) {
                setBool(xi, rd, ltu(xi[2 * rs1 + 1], xi[2 * rs1], xi[2 * rs2 + 1], xi[2 * rs2]));
              } else if (f3 === 4) x[rd] = x[rs1] ^ x[rs2];
              else if (f3 === 6) x[rd] = x[rs1] | x[rs2];
              else x[rd] = x[rs1] & x[rs2];
            }
            off += ilen;
            break;
          }
          case 5: { // srl, sra, divu
            const f7 = ins >>> 25;
            if (f7 === 0) {
              if (rd !== 0) srl(xi, rd, rs1, xi[2 * rs2] & 63);
            } else if (f7 === 0x20) {
              if (rd !== 0) sra(xi, rd, rs1, xi[2 * rs2] & 63);
            } else if (f7 === 1) {
              if (rd !== 0) x[rd] = mulDiv(5, x[rs1], x[rs2]);
            } else return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
            off += ilen;
            break;
          }

          default:
            return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
        }
        break;
      case 0: { // LOAD (0x03)
        const f3 = (ins >> 12) & 7; // lb, lh, lw, ld, lbu, lhu, lwu
        if (f3 === 7) return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
        const imm = ins >> 20;
        // The effective address as two int32 halves: the low one gives the TLB index
        // and the page offset, both are compared with the entry's tag. The high half
        // adds the carry out of bit 31 of the low half's addition.
        const xl = xi[2 * rs1], lo = (xl + imm) | 0, po = lo & 4095;
        const hi = (xi[2 * rs1 + 1] + (imm >> 31) + (((xl & imm) | ((xl | imm) & ~lo)) >>> 31)) |
          0;
        const page = lo & -4096;
        let base = -1; // the page's RAM offset, if the fast path may use it
        if (page === loadLo && hi === loadHi) base = loadBase; // the last page loaded from
        else {
          const f = ((lo >>> 12) & tlbMask) << 3; // the entry, times FAST_STRIDE
          if (fast[f] === page && fast[f + 1] === hi && fast[f + 2] === asid) {
            loadLo = page;
            loadHi = hi;
            base = loadBase = fast[f + 4];
          }
        }
        if (base >= 0 && (po & ((1 << (f3 & 3)) - 1)) === 0) {
          const ro = base + po;
          if (f3 === 3) { // ld, the most common: no second dispatch
            if (rd !== 0) x[rd] = i64[ro >> 3];
          } else if (rd !== 0) {
            const r = 2 * rd;
            switch (f3) {
              case 0:
                xi[r] = i8[ro];
                xi[r + 1] = xi[r] >> 31;
                break;
              case 1:
                xi[r] = i16[ro >> 1];
                xi[r + 1] = xi[r] >> 31;
                break;
              case 2:
                xi[r] = i32[ro >> 2];
                xi[r + 1] = xi[r] >> 31;
                break;
              case 3:
                x[rd] = i64[ro >> 3];
                break;
              case 4:
                xi[r] = u8[ro];
                xi[r + 1] = 0;
                break;
              case 5:
                xi[r] = u16[ro >> 1];
                xi[r + 1] = 0;
                break;
              default:
                xi[r] = i32[ro >> 2];
                xi[r + 1] = 0;
            }
          }
          off += ilen;
          break;
        }
        const pc = off + pcDelta;
        h.timeNs = t0 + n;
        h.instret = ir0 + n;
        h.vpc = pc;
        const r = userLoad(h, pc, rd, rs1, imm, f3);
        if (r === SLOW_TRAPPED) return;
        off += ilen;
        if (r === SLOW_DEVICE) return leave(h, off, farPc, pcDelta, pStart, pEnd);
        break;
      }
      case 8: { // STORE (0x23)
        const f3 = (ins >> 12) & 7; // sb, sh, sw, sd
        if (f3 >= 4) return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
        const imm = ((ins >> 25) << 5) | ((ins >> 7) & 31);
        const xl = xi[2 * rs1], lo = (xl + imm) | 0, po = lo & 4095;
        const hi = (xi[2 * rs1 + 1] + (imm >> 31) + (((xl & imm) | ((xl | imm) & ~lo)) >>> 31)) |
          0;
        const page = lo & -4096;
        let base = -1; // the page's RAM offset, if the fast path may use it
        if (page === storeLo && hi === storeHi) base = storeBase; // the last page stored to
        else {
          const f = ((lo >>> 12) & tlbMask) << 3;
          if (fast[f] === page && fast[f + 1] === hi && fast[f + 3] === asid) {
            storeLo = page;
            storeHi = hi;
            base = storeBase = fast[f + 4];
          }
        }
        if (base >= 0 && (po & ((1 << f3) - 1)) === 0) {
          const ro = base + po;
          if (f3 === 3) i64[ro >> 3] = x[rs2]; // sd
          else {
            if (f3 === 2) i32[ro >> 2] = xi[2 * rs2];
            else if (f3 === 1) u16[ro >> 1] = xi[2 * rs2];
            else u8[ro] = xi[2 * rs2];
          }
          if (resv.active !== 0) resv.storeHit(ro, hartIndex);
          off += ilen;
          break;
        }
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
      case 24: // BRANCH (0x63)
        switch ((ins >> 12) & 7) {
          case 0: // beq
            if (xi[2 * rs1] === xi[2 * rs2] && xi[2 * rs1 + 1] === xi[2 * rs2 + 1]) {
              off += branchOffset(ins);
            } else off += ilen;
            break;
          case 1: // bne
            if (xi[2 * rs1] !== xi[2 * rs2] || xi[2 * rs1 + 1] !== xi[2 * rs2 + 1]) {
              off += branchOffset(ins);
            } else off += ilen;
            break;
          case 4: // blt
            if (x[rs1] < x[rs2]) off += branchOffset(ins);
            else off += ilen;
            break;
          case 5: // bge
            if (x[rs1] >= x[rs2]) off += branchOffset(ins);
            else off += ilen;
            break;
          case 6: // bltu
            if (ltu(xi[2 * rs1 + 1], xi[2 * rs1], xi[2 * rs2 + 1], xi[2 * rs2])) {
              off += branchOffset(ins);
            } else off += ilen;
            break;
          case 7: // bgeu
            if (!ltu(xi[2 * rs1 + 1], xi[2 * rs1], xi[2 * rs2 + 1], xi[2 * rs2])) {
              off += branchOffset(ins);
            } else off += ilen;
            break;
          default:
            return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
        }
        break;
      case 27: { // JAL (0x6f)
        if (rd !== 0) setNumber(xi, rd, off + pcDelta + ilen);
        off += ((ins >> 31) << 20) | (((ins >> 12) & 0xff) << 12) | (((ins >> 20) & 1) << 11) |
          (((ins >> 21) & 0x3ff) << 1);
        break;
      }
      case 25: { // JALR (0x67)
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
      case 13: { // LUI (0x37)
        if (rd !== 0) {
          xi[2 * rd] = ins & 0xfffff000;
          xi[2 * rd + 1] = ins >> 31;
        }
        off += ilen;
        break;
      }
      case 5: { // AUIPC (0x17)
        if (rd !== 0) setNumber(xi, rd, off + pcDelta + (ins & 0xfffff000));
        off += ilen;
        break;
      }
      case 6: { // OP-IMM-32 (0x1b)
        const f3 = (ins >> 12) & 7, a = xi[2 * rs1];
        let v: number;
        if (f3 === 0) v = (a + (ins >> 20)) | 0;
        else if (f3 === 1 && ins >>> 25 === 0) v = a << rs2;
        else if (f3 === 5 && ins >>> 25 === 0) v = (a >>> rs2) | 0;
        else if (f3 === 5 && ins >>> 25 === 0x20) v = a >> rs2;
        else return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
        if (rd !== 0) {
          xi[2 * rd] = v;
          xi[2 * rd + 1] = v >> 31;
        }
        off += ilen;
        break;
      }
      case 14: { // OP-32 (0x3b)
        const v = op32(ins, xi[2 * rs1], xi[2 * rs2]);
        if (v === undefined) return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
        if (rd !== 0) {
          xi[2 * rd] = v;
          xi[2 * rd + 1] = v >> 31;
        }
        off += ilen;
        break;
      }
      case 3: // MISC-MEM (0x0f)
        switch ((ins >> 12) & 7) {
          case 0: // fence: every access is complete before the next here
            off += ilen;
            break;
          case 1: // fence.i: fetch afresh (no decoded code is cached yet)
            pEnd = pStart;
            off += ilen;
            break;
          default:
            return illegal(h, off + pcDelta, ins, t0 + n, ir0 + n);
        }
        break;
      case 28: { // SYSTEM (0x73)
        const pc = off + pcDelta;
        h.timeNs = t0 + n;
        h.instret = ir0 + n;
        h.vpc = pc;
        if ((ins & 0x3000) === 0) {
          // funct3 0: ecall, ebreak (sret, wfi, sfence.vma and mret are illegal in
          // U-mode); funct3 4: nothing.
          h.instret--;
          const epc = BigInt.asUintN(64, BigInt(pc));
          if (ins === 0x73) takeTrap(h, EXC_ECALL_U, false, 0n, epc);
          else if (ins === 0x0010_0073) takeTrap(h, EXC_BREAKPOINT, false, epc, epc);
          else takeTrap(h, EXC_ILLEGAL_INST, false, BigInt(ins >>> 0), epc);
          return;
        }
        // csrrw, csrrs, csrrc, csrrwi, csrrsi, csrrci
        if (!userCsr(h, ins, rd, rs1, (ins >> 12) & 7)) {
          return illegal(h, pc, ins, t0 + n, ir0 + n);
        }
        off += ilen;
        break;
      }
      case 11: { // AMO (0x2f)
        const pc = off + pcDelta;
        h.timeNs = t0 + n;
        h.instret = ir0 + n;
        h.vpc = pc;
        if (userAmo(h, pc, ins) === SLOW_TRAPPED) return;
        off += ilen;
        break;
      }
      case 2: { // custom-0 (0x0b)
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

/** The offset of a taken branch: the B-type immediate. */
function branchOffset(ins: number): number {
  return ((ins >> 31) << 12) | (((ins >> 7) & 1) << 11) | (((ins >> 25) & 0x3f) << 5) |
    (((ins >> 8) & 0xf) << 1);
}

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
