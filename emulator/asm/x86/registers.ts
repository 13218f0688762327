/**
 * The register names of NASM's 64-bit mode (NASM manual §12.1, "Register Names in 64-bit
 * Mode") and what the encoder needs to know of each: its class, its number in the
 * ModRM/SIB/opcode fields (SDM Vol. 2 §2.1.5 and §2.2.1), and its size.
 *
 * Numbers 8 to 15 need a REX prefix bit (R, X or B). The byte registers SPL, BPL, SIL and DIL
 * need a REX prefix to be told from AH, CH, DH and BH, which share their numbers 4 to 7 and
 * cannot be encoded at all when a REX prefix is present (SDM Vol. 2 §2.2.1.2).
 *
 * @module
 */

/** What kind of register. */
export type RegClass = "gpr" | "seg" | "cr" | "dr";

/** A register operand. */
export interface Register {
  /** Its name in lower case, as written. */
  readonly name: string;
  /** General-purpose, segment, control or debug register. */
  readonly cls: RegClass;
  /** The number encoded in ModRM.reg, ModRM.rm, SIB or the opcode (0 to 15). */
  readonly num: number;
  /** Size in bytes: 1, 2, 4 or 8 (segment registers 2, control and debug registers 8). */
  readonly size: 1 | 2 | 4 | 8;
  /** AH, CH, DH, BH: not encodable with a REX prefix. */
  readonly highByte: boolean;
  /** SPL, BPL, SIL, DIL: encodable only with a REX prefix. */
  readonly needsRex: boolean;
}

const GPR64 = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"];
const GPR32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
const GPR16 = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"];
const GPR8 = ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil"];
const HIGH8 = ["ah", "ch", "dh", "bh"];
/** Segment registers in encoding order (SDM Vol. 2 §3.1.1.3, "Sreg"). */
const SEGS = ["es", "cs", "ss", "ds", "fs", "gs"];

function build(): Map<string, Register> {
  const m = new Map<string, Register>();
  const add = (name: string, cls: RegClass, num: number, size: 1 | 2 | 4 | 8, extra = {}) =>
    m.set(name, { name, cls, num, size, highByte: false, needsRex: false, ...extra });
  for (let n = 0; n < 16; n++) {
    add(n < 8 ? GPR64[n] : `r${n}`, "gpr", n, 8);
    add(n < 8 ? GPR32[n] : `r${n}d`, "gpr", n, 4);
    add(n < 8 ? GPR16[n] : `r${n}w`, "gpr", n, 2);
    add(n < 8 ? GPR8[n] : `r${n}b`, "gpr", n, 1, { needsRex: n >= 4 && n < 8 });
    add(`cr${n}`, "cr", n, 8);
    add(`dr${n}`, "dr", n, 8);
  }
  HIGH8.forEach((name, k) => add(name, "gpr", 4 + k, 1, { highByte: true }));
  SEGS.forEach((name, k) => add(name, "seg", k, 2));
  return m;
}

const REGISTERS = build();

/** The register called `name` (any case), or undefined. */
export function register(name: string): Register | undefined {
  return REGISTERS.get(name.toLowerCase());
}

/** Whether `name` is a register name (so it cannot be used as a plain symbol). */
export function isRegisterName(name: string): boolean {
  return REGISTERS.has(name.toLowerCase());
}
