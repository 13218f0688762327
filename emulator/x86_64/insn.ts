/**
 * A decoded instruction, as the decoder leaves it for the executor.
 *
 * x86 decoding (prefixes, REX, ModRM, SIB, displacement, immediates) costs far more than
 * executing a typical instruction, so each instruction is decoded once into an `Insn` and
 * kept in a cache keyed by its physical address (see `icache.ts`). Every `Insn` has the same
 * shape and numeric fields only, so the executor's dispatch stays monomorphic.
 *
 * Operands follow the SDM's notation: E is the ModRM r/m operand (a register when
 * `rm >= 0`, otherwise the memory operand `[base + index*scale + disp]`), G the ModRM reg
 * operand. Byte registers are numbered 0-15 for AL, CL, ..., R15B and 16-19 for AH, CH, DH,
 * BH (only reachable without a REX prefix).
 *
 * @module
 */

import type { Block } from "./jit.ts";

/** `base` value meaning RIP-relative addressing (disp is relative to the next instruction). */
export const BASE_RIP = 16;

/** `eaKind` values. */
export const EA_BASE = 0;
/** See {@link EA_BASE}. */
export const EA_BASE_INDEX = 1;
/** See {@link EA_BASE}. */
export const EA_RIP = 2;
/** See {@link EA_BASE}. */
export const EA_OTHER = 3;

/** Prefix bits in `Insn.pfx`. */
export const PFX_REP = 1;
/** F2 (REPNE/REPNZ). */
export const PFX_REPNE = 2;
/** F0 (LOCK). */
export const PFX_LOCK = 4;
/** 67 (address size 32). */
export const PFX_ADDR32 = 8;

/** One decoded instruction. */
export class Insn {
  /** OP_* handler. */
  op = 0;
  /** Length in bytes (1-15). */
  len = 0;
  /** Operand size in bytes (1, 2, 4 or 8). */
  size = 4;
  /** G: the ModRM reg register (byte-register numbering when size is 1). */
  reg = 0;
  /** E as a register, or -1 when E is memory. */
  rm: number = -1;
  /** Memory operand base register, BASE_RIP, or -1 for none. */
  base: number = -1;
  /** Memory operand index register, or -1 for none. */
  index: number = -1;
  /** Index scale: 1, 2, 4 or 8. */
  scale = 1;
  /** Displacement (signed), or the absolute address of a moffs operand. */
  disp = 0;
  /** Segment override: 4 = FS, 5 = GS, -1 = none (ES, CS, SS, DS are flat in 64-bit mode). */
  seg: number = -1;
  /** Whether the memory operand's default segment is SS (base RSP or RBP): #SS, not #GP. */
  stack = false;
  /**
   * The memory operand's shape, for the executor's fast path: EA_BASE [base + disp],
   * EA_BASE_INDEX [base + index * scale + disp], EA_RIP [rip + disp], or EA_OTHER (no
   * base, a segment override, or the 32-bit address size).
   */
  eaKind = 3;
  /** PFX_* bits. */
  pfx = 0;
  /** Immediate, sign-extended (or the low 32 bits of a 64-bit immediate). */
  imm = 0;
  /** Second immediate (ENTER's level), or bits 63:32 of a 64-bit immediate. */
  imm2 = 0;
  /** Sub-operation: ALU kind, condition code, shift kind, group index, source size. */
  sub = 0;
  /** The mnemonic, for messages about instructions that fault or are not implemented. */
  name = "";
  /** The instruction's first bytes, to check the cached decoding still matches memory. */
  b0 = 0;
  /** Bytes 4-7. */
  b1 = 0;
  /** Bytes 8-11. */
  b2 = 0;
  /** Bytes 12-15. */
  b3 = 0;
  /** The cache epoch in which the bytes were last checked (-1: dropped from the cache). */
  epoch: number = -1;
  /**
   * The decoded instruction that follows in the same page, once the loop has gone there:
   * straight-line code then skips the page lookup. Valid while its epoch is current.
   */
  fall: Insn | undefined = undefined;
  /** How many times the interpreter started here (it compiles a block when hot). */
  hits = 0;
  /** The block compiled from here, if any (see jit.ts). */
  block: Block | undefined = undefined;
}

// ---- handlers ----------------------------------------------------------------------------
// Hot forms have their own handler (register-register and register-memory at 32 and 64
// bits); everything else goes through a generic handler for its operation.

/** #UD: undefined opcode or invalid encoding (`name` says which). */
export const OP_UD = 0;
/** A real instruction this CPU does not implement: #UD, and the machine says so. */
export const OP_UNIMPL = 1;
/** A privileged instruction executed in ring 3: #GP(0). */
export const OP_PRIV = 2;
/** Instruction longer than 15 bytes: #GP(0). */
export const OP_TOO_LONG = 3;
/** NOP, PAUSE, fences, prefetch hints, ENDBR64. */
export const OP_NOP = 4;

/** E op= G (sub = ALU kind: 0 ADD, 1 OR, 2 ADC, 3 SBB, 4 AND, 5 SUB, 6 XOR, 7 CMP). */
export const OP_ALU_EG = 10;
/** G op= E. */
export const OP_ALU_GE = 11;
/** E op= imm. */
export const OP_ALU_EI = 12;
/** TEST E, G. */
export const OP_TEST_EG = 13;
/** TEST E, imm. */
export const OP_TEST_EI = 14;
/** INC E. */
export const OP_INC = 15;
/** DEC E. */
export const OP_DEC = 16;
/** NOT E. */
export const OP_NOT = 17;
/** NEG E. */
export const OP_NEG = 18;
/** MUL E (rDX:rAX = rAX * E). */
export const OP_MUL = 19;
/** IMUL E, one-operand form. */
export const OP_IMUL1 = 20;
/** DIV E. */
export const OP_DIV = 21;
/** IDIV E. */
export const OP_IDIV = 22;
/** IMUL G, E (0F AF) or IMUL G, E, imm (69, 6B; sub = 1). */
export const OP_IMUL = 23;
/** Shifts and rotates of E (sub = 0 ROL, 1 ROR, 2 RCL, 3 RCR, 4 SHL, 5 SHR, 6 SAL, 7 SAR);
 * the count is imm when imm2 = 0, 1 when imm2 = 1, CL when imm2 = 2. */
export const OP_SHIFT = 24;
/** SHLD E, G, count (imm2: 0 = imm, 2 = CL). */
export const OP_SHLD = 25;
/** SHRD E, G, count. */
export const OP_SHRD = 26;
/** BT/BTS/BTR/BTC E, G (sub = 0 BT, 1 BTS, 2 BTR, 3 BTC). */
export const OP_BT_EG = 27;
/** BT/BTS/BTR/BTC E, imm8. */
export const OP_BT_EI = 28;
/** BSF G, E. */
export const OP_BSF = 29;
/** BSR G, E. */
export const OP_BSR = 30;
/** TZCNT G, E. */
export const OP_TZCNT = 31;
/** LZCNT G, E. */
export const OP_LZCNT = 32;
/** POPCNT G, E. */
export const OP_POPCNT = 33;
/** BSWAP reg (rm). */
export const OP_BSWAP = 34;
/** CBW / CWDE / CDQE by size. */
export const OP_CBW = 35;
/** CWD / CDQ / CQO by size. */
export const OP_CWD = 36;

/** MOV E, G. */
export const OP_MOV_EG = 40;
/** MOV G, E. */
export const OP_MOV_GE = 41;
/** MOV E, imm (C6, C7, B0-BF; imm2 holds bits 63:32 for B8+ with REX.W). */
export const OP_MOV_EI = 42;
/** MOVZX G, E (sub = source size). */
export const OP_MOVZX = 43;
/** MOVSX / MOVSXD G, E (sub = source size). */
export const OP_MOVSX = 44;
/** LEA G, M. */
export const OP_LEA = 45;
/** XCHG E, G. */
export const OP_XCHG = 46;
/** CMPXCHG E, G. */
export const OP_CMPXCHG = 47;
/** XADD E, G. */
export const OP_XADD = 48;
/** CMPXCHG8B / CMPXCHG16B M (size 4 or 8 per half). */
export const OP_CMPXCHGXB = 49;
/** SETcc E (sub = cc). */
export const OP_SETCC = 50;
/** CMOVcc G, E (sub = cc). */
export const OP_CMOVCC = 51;
/** MOV E, Sreg (sub = segment). */
export const OP_MOV_FROM_SREG = 52;
/** MOV Sreg, E (sub = segment). */
export const OP_MOV_TO_SREG = 53;
/** XLAT. */
export const OP_XLAT = 54;

/** PUSH E (register, memory: FF /6, 50+r). */
export const OP_PUSH = 60;
/** PUSH imm. */
export const OP_PUSH_I = 61;
/** POP E. */
export const OP_POP = 62;
/** PUSH FS/GS (sub = segment). */
export const OP_PUSH_SEG = 63;
/** POP FS/GS (sub = segment). */
export const OP_POP_SEG = 64;
/** PUSHF. */
export const OP_PUSHF = 65;
/** POPF. */
export const OP_POPF = 66;
/** LAHF. */
export const OP_LAHF = 67;
/** SAHF. */
export const OP_SAHF = 68;
/** LEAVE. */
export const OP_LEAVE = 69;
/** ENTER imm16, imm8. */
export const OP_ENTER = 70;

/** CALL rel (imm = displacement). */
export const OP_CALL_REL = 80;
/** CALL E. */
export const OP_CALL_E = 81;
/** JMP rel. */
export const OP_JMP_REL = 82;
/** JMP E. */
export const OP_JMP_E = 83;
/** Jcc rel (sub = cc). */
export const OP_JCC = 84;
/** RET (imm = bytes to release). */
export const OP_RET = 85;
/** LOOPNE (sub 0), LOOPE (1), LOOP (2), JRCXZ (3). */
export const OP_LOOP = 86;

/** String instructions (sub = STR_*), with REP/REPE/REPNE in pfx. */
export const OP_STRING = 90;
/** MOVS. */
export const STR_MOVS = 0;
/** CMPS. */
export const STR_CMPS = 1;
/** STOS. */
export const STR_STOS = 2;
/** LODS. */
export const STR_LODS = 3;
/** SCAS. */
export const STR_SCAS = 4;

/** CLC, STC, CMC, CLD, STD, CLI, STI (sub = 0..6). */
export const OP_FLAGOP = 95;
/** CPUID. */
export const OP_CPUID = 96;
/** RDTSC. */
export const OP_RDTSC = 97;
/** RDTSCP. */
export const OP_RDTSCP = 98;
/** SYSCALL. */
export const OP_SYSCALL = 99;
/** INT imm8 (imm = vector). */
export const OP_INT = 100;
/** INT3. */
export const OP_INT3 = 101;
/** INT1 (ICEBP). */
export const OP_INT1 = 102;
/** IRET / IRETD / IRETQ (size). */
export const OP_IRET = 103;
/** IN / OUT / INS / OUTS: sub = 0 IN, 1 OUT, 2 INS, 3 OUTS; imm2 = 1 port in imm. */
export const OP_IO = 104;
/** SGDT (0), SIDT (1), SLDT (2), STR (3), SMSW (4): allowed in ring 3 unless CR4.UMIP. */
export const OP_STORE_SYS = 105;
/** The TypeScript user-program instructions `0F 0A ib` (sub = ib: 0 ts.start, 1 ts.resume). */
export const OP_TS = 106;
/** CLFLUSH M: a hint, but the address must translate. */
export const OP_CLFLUSH = 107;

// ---- fast forms: register and memory operands at 32 and 64 bits --------------------------

/** MOV r, r (rm = destination, reg = source) at size 4 or 8. */
export const OP_MOV_RR = 120;
/** MOV r, imm32 zero-extended (B8+r) or sign-extended (C7 with REX.W). */
export const OP_MOV_RI = 121;
/** MOV r, [m] at size 4 or 8. */
export const OP_LOAD = 122;
/** MOV [m], r at size 4 or 8. */
export const OP_STORE = 123;
/** ALU r, r (rm = destination, reg = source; sub = kind) at size 4 or 8. */
export const OP_ALU_RR = 124;
/** ALU r, imm at size 4 or 8. */
export const OP_ALU_RI = 125;
/** ALU r, [m] at size 4 or 8. */
export const OP_ALU_RM = 126;
/** TEST r, r at size 4 or 8. */
export const OP_TEST_RR = 127;
/** INC/DEC r at size 4 or 8 (sub = 0 INC, 1 DEC). */
export const OP_INCDEC_R = 128;
/** LEA r, m at size 4 or 8. */
export const OP_LEA_R = 129;
/** PUSH r64. */
export const OP_PUSH_R = 130;
/** POP r64. */
export const OP_POP_R = 131;
/** MOVZX r32, byte [m] or byte reg. */
export const OP_MOVZX_B = 132;
/** SHL/SHR/SAR r, imm at size 4 or 8 (sub = shift kind). */
export const OP_SHIFT_RI = 133;
/** MOV [m], imm32 at size 4 or 8. */
export const OP_STORE_I = 134;
