/**
 * Emulating misaligned loads and stores for user programs, as Linux does on RISC-V
 * (arch/riscv/kernel/traps_misaligned.c): the hart raises "load/store address misaligned"
 * (it never splits an access), and the kernel decodes the instruction at sepc, performs
 * the access a byte at a time through the user's page tables, writes the destination
 * register, and returns past the instruction. To the program, misaligned accesses simply
 * work, as they do under QEMU.
 *
 * Handled: lb..ld, lbu..lwu, sb..sd and their compressed forms (c.lw, c.ld, c.sw, c.sd,
 * c.lwsp, c.ldsp, c.swsp, c.sdsp). Atomics are not emulated: a misaligned LR, SC or AMO
 * stays an error (SIGBUS), as on Linux.
 *
 * @module
 */

import { CSR_SEPC } from "../../emulator/riscv64/csr.ts";
import { type Hart, PRIV_U } from "../../emulator/riscv64/hart_api.ts";

/** A decoded load or store. */
export interface MemoryInstruction {
  /** Load or store. */
  store: boolean;
  /** 1, 2, 4 or 8 bytes. */
  size: number;
  /** Whether a load sign-extends. */
  signed: boolean;
  /** The destination (load) or source (store) register. */
  reg: number;
  /** The instruction's length: 2 or 4. */
  length: number;
}

/** Decodes the load or store `bits` (the low 16 bits are enough for a compressed one). */
export function decodeMemoryInstruction(bits: number): MemoryInstruction | undefined {
  if ((bits & 3) === 3) {
    const opcode = bits & 0x7f, funct3 = (bits >>> 12) & 7;
    if (opcode === 0x03 && funct3 !== 7) {
      // LOAD: lb lh lw ld lbu lhu lwu (funct3 0-6).
      const size = 1 << (funct3 & 3);
      return {
        store: false,
        size,
        signed: funct3 < 4 && size < 8,
        reg: (bits >>> 7) & 31,
        length: 4,
      };
    }
    if (opcode === 0x23 && funct3 < 4) {
      return { store: true, size: 1 << funct3, signed: false, reg: (bits >>> 20) & 31, length: 4 };
    }
    return undefined;
  }
  const quadrant = bits & 3, funct3 = (bits >>> 13) & 7;
  const cReg = (at: number) => 8 + ((bits >>> at) & 7);
  if (quadrant === 0) {
    // c.lw, c.ld, c.sw, c.sd: rd'/rs2' in bits 4:2.
    if (funct3 === 2) return { store: false, size: 4, signed: true, reg: cReg(2), length: 2 };
    if (funct3 === 3) return { store: false, size: 8, signed: false, reg: cReg(2), length: 2 };
    if (funct3 === 6) return { store: true, size: 4, signed: false, reg: cReg(2), length: 2 };
    if (funct3 === 7) return { store: true, size: 8, signed: false, reg: cReg(2), length: 2 };
  } else if (quadrant === 2) {
    // c.lwsp, c.ldsp (rd in 11:7), c.swsp, c.sdsp (rs2 in 6:2).
    if (funct3 === 2) {
      return { store: false, size: 4, signed: true, reg: (bits >>> 7) & 31, length: 2 };
    }
    if (funct3 === 3) {
      return { store: false, size: 8, signed: false, reg: (bits >>> 7) & 31, length: 2 };
    }
    if (funct3 === 6) {
      return { store: true, size: 4, signed: false, reg: (bits >>> 2) & 31, length: 2 };
    }
    if (funct3 === 7) {
      return { store: true, size: 8, signed: false, reg: (bits >>> 2) & 31, length: 2 };
    }
  }
  return undefined;
}

/** Why an emulation could not complete. */
export interface EmulationFailure {
  /** "decode": not an emulable instruction (SIGBUS); "fault": an access faulted (SIGSEGV). */
  kind: "decode" | "fault";
  /** The explanation, for the message. */
  message: string;
}

/** The physical address of user `va` for `access`, or the MMU's explanation of why not. */
function userAddress(h: Hart, va: number, access: "read" | "write" | "execute"): number | string {
  const t = h.translate(BigInt(va), access, PRIV_U);
  return t.pa ?? t.explanation;
}

function readUser(h: Hart, va: number, n: number, access: "read" | "execute"): bigint | string {
  let v = 0n;
  for (let i = 0; i < n; i++) {
    const pa = userAddress(h, va + i, access);
    if (typeof pa === "string") return pa;
    v |= h.machine.bus.read(pa, 1)! << BigInt(8 * i);
  }
  return v;
}

/**
 * Performs the misaligned access that trapped at `sepc` (faulting address `stval`) and
 * steps sepc past it. Returns undefined on success, or why it could not.
 */
export function emulateMisaligned(
  h: Hart,
  sepc: bigint,
  stval: bigint,
): EmulationFailure | undefined {
  const pc = Number(sepc);
  const low = readUser(h, pc, 2, "execute");
  if (typeof low === "string") return { kind: "fault", message: low };
  let bits = Number(low);
  if ((bits & 3) === 3) {
    const high = readUser(h, pc + 2, 2, "execute");
    if (typeof high === "string") return { kind: "fault", message: high };
    bits = (bits | (Number(high) << 16)) >>> 0;
  }
  const insn = decodeMemoryInstruction(bits);
  if (!insn) {
    return {
      kind: "decode",
      message: `instruction 0x${bits.toString(16)} is not a load or store the kernel emulates`,
    };
  }
  const va = Number(stval);
  if (!Number.isSafeInteger(va) || va < 0 || va + insn.size > 2 ** 47) {
    return { kind: "fault", message: `address 0x${stval.toString(16)} is outside user memory` };
  }
  if (insn.store) {
    const value = BigInt.asUintN(64, h.x[insn.reg]);
    // Check every byte first, so that a faulting store changes nothing.
    const targets: number[] = [];
    for (let i = 0; i < insn.size; i++) {
      const pa = userAddress(h, va + i, "write");
      if (typeof pa === "string") return { kind: "fault", message: pa };
      targets.push(pa);
    }
    targets.forEach((pa, i) => h.machine.bus.write(pa, 1, (value >> BigInt(8 * i)) & 0xffn));
  } else {
    const v = readUser(h, va, insn.size, "read");
    if (typeof v === "string") return { kind: "fault", message: v };
    const bitsWide = BigInt(insn.size * 8);
    const value = insn.signed ? BigInt.asIntN(Number(bitsWide), v) : BigInt.asIntN(64, v);
    if (insn.reg !== 0) h.x[insn.reg] = value;
  }
  h.csrw(CSR_SEPC, sepc + BigInt(insn.length));
  return undefined;
}
