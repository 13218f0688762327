/**
 * The A extension: LR/SC reservations and the AMOs (unprivileged manual, ch. 8 "A").
 *
 * ## Reservations
 *
 * `lr` reserves the naturally aligned 64-byte block holding its address (the reservation
 * set); `sc` succeeds only if its hart still holds a reservation made by an `lr` to the
 * very same address. A reservation is lost when another hart stores anywhere in the block
 * (by a store, an AMO or a successful SC, from user code or the kernel), when its hart
 * takes a trap, starts or stops, and by any SC, successful or not. Stores by the hart
 * itself keep it, as the manual allows. Device DMA into RAM does not clear reservations.
 *
 * The harts of a machine share one {@link Reservations}. A store checks one counter
 * before doing anything else, so reservations cost nothing while nobody holds one.
 *
 * ## Rules this hart follows
 *
 * - LR/SC and AMOs need a naturally aligned address: a misaligned LR raises load address
 *   misaligned (4), a misaligned SC or AMO store/AMO address misaligned (6).
 * - They work on RAM only: on a device page they raise an access fault (5 for LR, 7 for
 *   SC and AMOs), as a platform whose I/O regions support no atomics does.
 * - An SC translates its address (and faults) even when it would fail.
 * - The `aq` and `rl` bits need nothing here: one hart runs at a time, and each access
 *   is complete before the next.
 *
 * @module
 */

import { readRam, writeRam } from "../core/bus.ts";
import type { Machine } from "../core/machine.ts";
import {
  EXC_ILLEGAL_INST,
  EXC_LOAD_ACCESS,
  EXC_LOAD_MISALIGNED,
  EXC_STORE_ACCESS,
  EXC_STORE_MISALIGNED,
} from "./csr.ts";
import type { Hart } from "./hart_api.ts";
import type { RiscvHart } from "./hart.ts";
import {
  effectiveAddress,
  FaultSource,
  SLOW_DONE,
  SLOW_TRAPPED,
  translate,
  trapFault,
  vaNumber,
} from "./access.ts";
import { ACCESS_READ, ACCESS_WRITE } from "./mmu.ts";
import { takeTrap } from "./trap.ts";

/** Size of a reservation set in bytes. */
export const RESERVATION_SET_BYTES = 64;

/** The LR reservations of every hart of one machine. */
export class Reservations {
  /** How many harts hold a reservation (stores check this first). */
  active = 0;
  /** Per hart index: the RAM-buffer offset the LR read, or -1. */
  readonly #address: number[] = [];

  /** Records hart `hart`'s reservation on the block holding RAM offset `off`. */
  reserve(hart: number, off: number): void {
    if (!(this.#address[hart] >= 0)) this.active++;
    this.#address[hart] = off;
  }

  /** Whether `hart` holds a reservation made at exactly RAM offset `off`. */
  holds(hart: number, off: number): boolean {
    return this.#address[hart] === off;
  }

  /** Drops `hart`'s reservation, if any. */
  release(hart: number): void {
    if (this.#address[hart] >= 0) {
      this.#address[hart] = -1;
      this.active--;
    }
  }

  /** A store by hart `by` (-1 for none) at RAM offset `off`: other harts lose that block. */
  storeHit(off: number, by: number): void {
    const block = Math.floor(off / RESERVATION_SET_BYTES);
    for (let h = 0; h < this.#address.length; h++) {
      const a = this.#address[h];
      if (h !== by && a >= 0 && Math.floor(a / RESERVATION_SET_BYTES) === block) this.release(h);
    }
  }

  /** A store of `len` bytes from RAM offset `off` (a block copy) by hart `by`. */
  storeRangeHit(off: number, len: number, by: number): void {
    for (let o = off; o < off + len; o += RESERVATION_SET_BYTES) this.storeHit(o, by);
    if (len > 0) this.storeHit(off + len - 1, by);
  }
}

const shared = new WeakMap<Machine<Hart>, Reservations>();

/** The reservations shared by the harts of `machine`. */
export function reservationsOf(machine: Machine<Hart>): Reservations {
  let r = shared.get(machine);
  if (!r) {
    r = new Reservations();
    shared.set(machine, r);
  }
  return r;
}

// funct5 of the AMO major opcode (Table 24.2 of the unprivileged manual).
const AMOADD = 0b00000, AMOSWAP = 0b00001, LR = 0b00010, SC = 0b00011, AMOXOR = 0b00100;
const AMOOR = 0b01000, AMOAND = 0b01100, AMOMIN = 0b10000, AMOMAX = 0b10100;
const AMOMINU = 0b11000, AMOMAXU = 0b11100;

/** The value an AMO writes, given the old memory value and rs2 (both sign-extended). */
function amoResult(f5: number, old: bigint, src: bigint, bits: number): bigint | undefined {
  const u = (v: bigint) => BigInt.asUintN(bits, v);
  switch (f5) {
    case AMOSWAP:
      return src;
    case AMOADD:
      return old + src;
    case AMOXOR:
      return old ^ src;
    case AMOAND:
      return old & src;
    case AMOOR:
      return old | src;
    case AMOMIN:
      return old < src ? old : src;
    case AMOMAX:
      return old > src ? old : src;
    case AMOMINU:
      return u(old) < u(src) ? old : src;
    case AMOMAXU:
      return u(old) > u(src) ? old : src;
    default:
      return undefined;
  }
}

/**
 * Executes an AMO-major-opcode instruction (`lr`, `sc`, `amo*`, .w or .d) from U-mode.
 * Returns SLOW_DONE, or SLOW_TRAPPED after raising its exception.
 */
export function userAmo(h: RiscvHart, pc: number, ins: number): number {
  const f3 = (ins >>> 12) & 7, f5 = ins >>> 27;
  const rd = (ins >>> 7) & 31, rs1 = (ins >>> 15) & 31, rs2 = (ins >>> 20) & 31;
  const illegal = () => {
    h.instret--;
    takeTrap(h, EXC_ILLEGAL_INST, false, BigInt(ins >>> 0), BigInt.asUintN(64, BigInt(pc)));
    return SLOW_TRAPPED;
  };
  if (f3 !== 2 && f3 !== 3) return illegal();
  if (f5 === LR ? rs2 !== 0 : f5 !== SC && amoResult(f5, 0n, 0n, 64) === undefined) {
    return illegal();
  }
  const size = f3 === 2 ? 4 : 8, bits = size * 8;
  const vaBig = effectiveAddress(h, rs1, 0);
  const kind = f5 === LR ? ACCESS_READ : ACCESS_WRITE;
  const fail = (code: number, source: FaultSource) => {
    h.faultCode = code;
    h.faultSource = source;
    h.faultTval = vaBig;
    return trapFault(h, pc, kind);
  };
  if (Number(vaBig & BigInt(size - 1)) !== 0) {
    return fail(f5 === LR ? EXC_LOAD_MISALIGNED : EXC_STORE_MISALIGNED, FaultSource.Misaligned);
  }
  const code = translate(h, vaNumber(vaBig), kind, 0);
  if (code >= 0) return fail(code, h.faultSource);
  const off = h.xlatOff;
  if (off < 0) {
    return fail(f5 === LR ? EXC_LOAD_ACCESS : EXC_STORE_ACCESS, FaultSource.AtomicNotRam);
  }
  const ram = h.machine.ram;
  const resv = h.reservations;
  if (f5 === LR) {
    const v = BigInt.asIntN(bits, readRam(ram, off, size));
    if (rd !== 0) h.x[rd] = v;
    resv.reserve(h.index, off);
    return SLOW_DONE;
  }
  if (f5 === SC) {
    const ok = resv.holds(h.index, off);
    resv.release(h.index);
    if (ok) {
      writeRam(ram, off, size, h.x[rs2]);
      if (resv.active !== 0) resv.storeHit(off, h.index);
    }
    if (rd !== 0) h.x[rd] = ok ? 0n : 1n;
    return SLOW_DONE;
  }
  const old = BigInt.asIntN(bits, readRam(ram, off, size));
  const src = BigInt.asIntN(bits, h.x[rs2]);
  writeRam(ram, off, size, amoResult(f5, old, src, bits)!);
  if (resv.active !== 0) resv.storeHit(off, h.index);
  if (rd !== 0) h.x[rd] = old;
  return SLOW_DONE;
}
