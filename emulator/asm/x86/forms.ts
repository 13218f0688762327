/**
 * The instruction forms the x86-64 assembler knows: for each mnemonic, the operand
 * patterns it accepts and how each is encoded, in the notation of the SDM's opcode tables
 * (SDM Vol. 2 §3.1.1.1 "Opcode Column in the Instruction Summary Table"):
 *
 * ```
 * add rmv,simm8 : 83 /0 ib
 * ```
 *
 * Operand patterns:
 *
 * | pattern                 | matches                                                     |
 * | ----------------------- | ----------------------------------------------------------- |
 * | `r8 r16 r32 r64`        | a general register of that size                             |
 * | `rm8 ... rm64`          | that register, or memory of that size (or of no stated size)|
 * | `rv rmv` / `ry rmy`     | the same at 16, 32 or 64 bits / at 32 or 64 bits (the form  |
 * |                         | is expanded once per size; all `v` in a form share it)      |
 * | `m m8 m16 m32 m64 m128` | memory (`m`: of any size)                                   |
 * | `al ax eax rax accv cl dx` | that register (`accv`: AX, EAX or RAX)                   |
 * | `imm8 imm16`            | an immediate that fits the field (signed or unsigned)       |
 * | `simm8`                 | an immediate whose value, at the operand size, is a         |
 * |                         | sign-extended byte (`add rax, -1` takes `83 /0 ib`)         |
 * | `immz`                  | 16 bits at 16-bit size, else 32 bits (sign-extended at 64)  |
 * | `immv`                  | 16, 32 or 64 bits: the operand size                         |
 * | `uimm32`                | 0 to 2^32-1, known now: NASM's short `mov r64, imm`         |
 * | `imm64`                 | any 64-bit value                                            |
 * | `one`                   | the constant 1 (shifts by one)                              |
 * | `sreg cr dr fs gs`      | segment, control or debug register; FS or GS               |
 * | `rel8 rel32`            | a jump target, reached with an 8- or 32-bit displacement    |
 * | `moffs`                 | a 64-bit absolute address, `[qword addr]`                   |
 *
 * Encoding tokens: opcode bytes in hex (`B8+r` adds the register operand's number), `/r`
 * (ModRM with the register operand in `reg`), `/0`-`/7` (ModRM with that digit in `reg`),
 * immediates `ib iw id iq iz iv` in operand order, `rb rd` (8- and 32-bit jump
 * displacements), `w` (REX.W), `o16` (the 66 operand-size prefix), `a32` (the 67
 * address-size prefix), `p66 pF2 pF3` (mandatory prefixes), and flags: `d64` (the operand
 * size defaults to 64 bits: no REX.W, and 32 bits cannot be encoded; SDM Vol. 2 §2.2.1.7),
 * `noosz` (the operand's size adds no 66 or REX.W, as for `mov ds, ax`), `notnop` (not
 * `xchg eax, eax`, which is `90`, nop, and would not zero-extend).
 *
 * When several forms match, the encoder takes the shortest encoding, and the first in
 * this table among equals: that is the choice NASM and GNU as make.
 *
 * @module
 */

/** An operand pattern (see the module comment). */
export type Pattern =
  | "r8"
  | "r16"
  | "r32"
  | "r64"
  | "rv"
  | "ry"
  | "rm8"
  | "rm16"
  | "rm32"
  | "rm64"
  | "rmv"
  | "rmy"
  | "m"
  | "m8"
  | "m16"
  | "m32"
  | "m64"
  | "m128"
  | "al"
  | "ax"
  | "eax"
  | "rax"
  | "accv"
  | "cl"
  | "dx"
  | "imm8"
  | "imm16"
  | "simm8"
  | "immz"
  | "immv"
  | "uimm32"
  | "imm64"
  | "one"
  | "sreg"
  | "cr"
  | "dr"
  | "fs"
  | "gs"
  | "rel8"
  | "rel32"
  | "moffs";

/** An immediate field: byte, word, dword, qword, or sized by the operand (z, v). */
export type ImmToken = "ib" | "iw" | "id" | "iq" | "iz" | "iv";

/** One encoding of one mnemonic at one operand size. */
export interface Form {
  /** The mnemonic, lower case. */
  readonly mnemonic: string;
  /** The operand patterns, with `v`/`y` resolved to this form's size. */
  readonly operands: readonly Pattern[];
  /** The operand size the form encodes (16, 32 or 64), or 0 when the operand size is implied. */
  readonly size: 0 | 16 | 32 | 64;
  /** The opcode bytes. */
  readonly opcode: readonly number[];
  /** The register operand's low three bits are added to the last opcode byte. */
  readonly plusReg: boolean;
  /** ModRM: `r` (register operand in reg), a digit 0-7, or undefined for none. */
  readonly modrm?: "r" | number;
  /** Immediate fields, in order. */
  readonly imms: readonly ImmToken[];
  /** A jump displacement of 1 or 4 bytes. */
  readonly rel?: 1 | 4;
  /** REX.W regardless of the size. */
  readonly rexW: boolean;
  /** The 66 prefix regardless of the size. */
  readonly o16: boolean;
  /** The 67 prefix. */
  readonly a32: boolean;
  /** A mandatory prefix (66, F2 or F3). */
  readonly mandatory?: number;
  /** Default operand size 64 (see the module comment). */
  readonly d64: boolean;
  /** The size adds no prefix. */
  readonly noosz: boolean;
  /** Refuses `xchg eax, eax`. */
  readonly notnop: boolean;
}

/** Condition codes (SDM Vol. 1 Appendix B): the low nibble of Jcc, SETcc and CMOVcc. */
export const CONDITIONS: Readonly<Record<string, number>> = {
  o: 0,
  no: 1,
  b: 2,
  c: 2,
  nae: 2,
  nb: 3,
  nc: 3,
  ae: 3,
  e: 4,
  z: 4,
  ne: 5,
  nz: 5,
  be: 6,
  na: 6,
  nbe: 7,
  a: 7,
  s: 8,
  ns: 9,
  p: 10,
  pe: 10,
  np: 11,
  po: 11,
  l: 12,
  nge: 12,
  nl: 13,
  ge: 13,
  le: 14,
  ng: 14,
  nle: 15,
  g: 15,
};

const hex2 = (n: number) => n.toString(16).padStart(2, "0");

/** The ALU group: ADD OR ADC SBB AND SUB XOR CMP, opcode rows 00-3F and group 1 (80-83). */
function aluForms(): string[] {
  return ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"].flatMap((m, k) => {
    const b = k * 8;
    return [
      `${m} rm8,r8 : ${hex2(b)} /r`,
      `${m} rmv,rv : ${hex2(b + 1)} /r`,
      `${m} r8,rm8 : ${hex2(b + 2)} /r`,
      `${m} rv,rmv : ${hex2(b + 3)} /r`,
      `${m} al,imm8 : ${hex2(b + 4)} ib`,
      // Before the accumulator form: at 16 bits both are 4 bytes, and GNU as takes 83.
      `${m} rmv,simm8 : 83 /${k} ib`,
      `${m} accv,immz : ${hex2(b + 5)} iz`,
      `${m} rm8,imm8 : 80 /${k} ib`,
      `${m} rmv,immz : 81 /${k} iz`,
    ];
  });
}

/** Shifts and rotates: group 2 (C0, C1, D0-D3), ordered by /digit. */
function shiftForms(): string[] {
  const names = [["rol"], ["ror"], ["rcl"], ["rcr"], ["shl", "sal"], ["shr"], [], ["sar"]];
  return names.flatMap((ms, k) =>
    ms.flatMap((m) => [
      `${m} rm8,one : d0 /${k}`,
      `${m} rmv,one : d1 /${k}`,
      `${m} rm8,cl : d2 /${k}`,
      `${m} rmv,cl : d3 /${k}`,
      `${m} rm8,imm8 : c0 /${k} ib`,
      `${m} rmv,imm8 : c1 /${k} ib`,
    ])
  );
}

/** Jcc, SETcc and CMOVcc for every condition name. */
function conditionForms(): string[] {
  return Object.entries(CONDITIONS).flatMap(([cc, n]) => [
    `j${cc} rel8 : ${hex2(0x70 + n)} rb`,
    `j${cc} rel32 : 0f ${hex2(0x80 + n)} rd`,
    `set${cc} rm8 : 0f ${hex2(0x90 + n)} /0`,
    `cmov${cc} rv,rmv : 0f ${hex2(0x40 + n)} /r`,
  ]);
}

/** String instructions: B, W, D, Q widths (SDM Vol. 1 §7.3.9). */
function stringForms(): string[] {
  const ops: [string, number, string[]][] = [
    ["movs", 0xa4, ["b", "w", "d", "q"]],
    ["cmps", 0xa6, ["b", "w", "d", "q"]],
    ["stos", 0xaa, ["b", "w", "d", "q"]],
    ["lods", 0xac, ["b", "w", "d", "q"]],
    ["scas", 0xae, ["b", "w", "d", "q"]],
    ["ins", 0x6c, ["b", "w", "d"]],
    ["outs", 0x6e, ["b", "w", "d"]],
  ];
  const prefix: Record<string, string> = { b: "", w: "o16 ", d: "", q: "w " };
  return ops.flatMap(([m, op, widths]) =>
    widths.map((w) => `${m}${w} : ${prefix[w]}${hex2(w === "b" ? op : op + 1)}`)
  );
}

/** Everything else, in the SDM's order of the one- and two-byte opcode maps. */
const TABLE = `
test rm8,r8 : 84 /r
test rmv,rv : 85 /r
test r8,m8 : 84 /r
test rv,rmv : 85 /r
test al,imm8 : a8 ib
test accv,immz : a9 iz
test rm8,imm8 : f6 /0 ib
test rmv,immz : f7 /0 iz
xchg accv,rv : 90+r notnop
xchg rv,accv : 90+r notnop
xchg rm8,r8 : 86 /r
xchg rmv,rv : 87 /r
xchg r8,m8 : 86 /r
xchg rv,mv : 87 /r
mov rm8,r8 : 88 /r
mov rmv,rv : 89 /r
mov r8,rm8 : 8a /r
mov rv,rmv : 8b /r
mov r16,sreg : o16 8c /r noosz
mov r32,sreg : 8c /r noosz
mov r64,sreg : w 8c /r noosz
mov m16,sreg : 8c /r noosz
mov sreg,r16 : 8e /r noosz
mov sreg,r32 : 8e /r noosz
mov sreg,r64 : 8e /r noosz
mov sreg,m16 : 8e /r noosz
mov al,moffs : a0 iq
mov accv,moffs : a1 iq
mov moffs,al : a2 iq
mov moffs,accv : a3 iq
mov r8,imm8 : b0+r ib
mov r64,uimm32 : b8+r id noosz
mov rv,immv : b8+r iv
mov rm8,imm8 : c6 /0 ib
mov rmv,immz : c7 /0 iz
mov r64,cr : 0f 20 /r noosz
mov r64,dr : 0f 21 /r noosz
mov cr,r64 : 0f 22 /r noosz
mov dr,r64 : 0f 23 /r noosz
movabs r64,imm64 : w b8+r iq
movabs al,moffs : a0 iq
movabs accv,moffs : a1 iq
movabs moffs,al : a2 iq
movabs moffs,accv : a3 iq
movzx rv,rm8 : 0f b6 /r
movzx ry,rm16 : 0f b7 /r
movsx rv,rm8 : 0f be /r
movsx ry,rm16 : 0f bf /r
movsx r64,rm32 : w 63 /r
movsxd r64,rm32 : w 63 /r
lea rv,m : 8d /r
push rv : 50+r d64
push rmv : ff /6 d64
push simm8 : 6a ib d64
push immz : 68 id d64
push fs : 0f a0
push gs : 0f a8
pop rv : 58+r d64
pop rmv : 8f /0 d64
pop fs : 0f a1
pop gs : 0f a9
not rm8 : f6 /2
not rmv : f7 /2
neg rm8 : f6 /3
neg rmv : f7 /3
mul rm8 : f6 /4
mul rmv : f7 /4
imul rm8 : f6 /5
imul rmv : f7 /5
imul rv,rmv : 0f af /r
imul rv,rmv,simm8 : 6b /r ib
imul rv,rmv,immz : 69 /r iz
div rm8 : f6 /6
div rmv : f7 /6
idiv rm8 : f6 /7
idiv rmv : f7 /7
inc rm8 : fe /0
inc rmv : ff /0
dec rm8 : fe /1
dec rmv : ff /1
bt rmv,rv : 0f a3 /r
bts rmv,rv : 0f ab /r
btr rmv,rv : 0f b3 /r
btc rmv,rv : 0f bb /r
bt rmv,imm8 : 0f ba /4 ib
bts rmv,imm8 : 0f ba /5 ib
btr rmv,imm8 : 0f ba /6 ib
btc rmv,imm8 : 0f ba /7 ib
bsf rv,rmv : 0f bc /r
bsr rv,rmv : 0f bd /r
tzcnt rv,rmv : pF3 0f bc /r
lzcnt rv,rmv : pF3 0f bd /r
popcnt rv,rmv : pF3 0f b8 /r
bswap ry : 0f c8+r
shld rmv,rv,imm8 : 0f a4 /r ib
shld rmv,rv,cl : 0f a5 /r
shrd rmv,rv,imm8 : 0f ac /r ib
shrd rmv,rv,cl : 0f ad /r
cmpxchg rm8,r8 : 0f b0 /r
cmpxchg rmv,rv : 0f b1 /r
xadd rm8,r8 : 0f c0 /r
xadd rmv,rv : 0f c1 /r
cmpxchg8b m : 0f c7 /1
cmpxchg16b m : w 0f c7 /1
cbw : o16 98
cwde : 98
cdqe : w 98
cwd : o16 99
cdq : 99
cqo : w 99
jmp rel8 : eb rb
jmp rel32 : e9 rd
jmp rm64 : ff /4 d64
call rel32 : e8 rd
call rm64 : ff /2 d64
loopne rel8 : e0 rb
loopnz rel8 : e0 rb
loope rel8 : e1 rb
loopz rel8 : e1 rb
loop rel8 : e2 rb
jrcxz rel8 : e3 rb
jecxz rel8 : a32 e3 rb
ret : c3
ret imm16 : c2 iw
retn : c3
retn imm16 : c2 iw
retf : cb
retf imm16 : ca iw
retfq : w cb
enter imm16,imm8 : c8 iw ib
leave : c9
int3 : cc
int imm8 : cd ib
int1 : f1
icebp : f1
iret : cf
iretd : cf
iretq : w cf
iretw : o16 cf
nop : 90
nop rmv : 0f 1f /0
pause : pF3 90
hlt : f4
cmc : f5
clc : f8
stc : f9
cli : fa
sti : fb
cld : fc
std : fd
pushf : 9c
pushfq : 9c
popf : 9d
popfq : 9d
sahf : 9e
lahf : 9f
xlatb : d7
xlat : d7
in al,imm8 : e4 ib
in ax,imm8 : o16 e5 ib
in eax,imm8 : e5 ib
out imm8,al : e6 ib
out imm8,ax : o16 e7 ib
out imm8,eax : e7 ib
in al,dx : ec
in ax,dx : o16 ed
in eax,dx : ed
out dx,al : ee
out dx,ax : o16 ef
out dx,eax : ef
syscall : 0f 05
sysret : 0f 07
sysretq : w 0f 07
sysenter : 0f 34
sysexit : 0f 35
ud2 : 0f 0b
clts : 0f 06
invd : 0f 08
wbinvd : 0f 09
wrmsr : 0f 30
rdtsc : 0f 31
rdmsr : 0f 32
rdpmc : 0f 33
cpuid : 0f a2
sldt rm16 : 0f 00 /0 noosz
str r16 : o16 0f 00 /1 noosz
str r32 : 0f 00 /1 noosz
str m16 : 0f 00 /1 noosz
lldt rm16 : 0f 00 /2 noosz
ltr rm16 : 0f 00 /3 noosz
sgdt m : 0f 01 /0
sidt m : 0f 01 /1
lgdt m : 0f 01 /2
lidt m : 0f 01 /3
invlpg m : 0f 01 /7
swapgs : 0f 01 f8
rdtscp : 0f 01 f9
lfence : 0f ae e8
mfence : 0f ae f0
sfence : 0f ae f8
clflush m8 : 0f ae /7
invpcid r64,m128 : p66 0f 38 82 /r noosz
endbr64 : pF3 0f 1e fa
endbr32 : pF3 0f 1e fb
ts.start : 0f 0a 00
ts.resume : 0f 0a 01
`;

/** A malformed line of the table (a bug in this file, caught by its test). */
export class FormTableError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "FormTableError";
  }
}

const PATTERNS = new Set<string>([
  "r8",
  "r16",
  "r32",
  "r64",
  "rm8",
  "rm16",
  "rm32",
  "rm64",
  "m",
  "m8",
  "m16",
  "m32",
  "m64",
  "m128",
  "al",
  "ax",
  "eax",
  "rax",
  "cl",
  "dx",
  "imm8",
  "imm16",
  "simm8",
  "immz",
  "immv",
  "uimm32",
  "imm64",
  "one",
  "sreg",
  "cr",
  "dr",
  "fs",
  "gs",
  "rel8",
  "rel32",
  "moffs",
]);

/** Patterns whose size is the form's: `rv rmv mv accv` (16, 32, 64), `ry rmy` (32, 64). */
const VARIABLE = /^(rv|rmv|mv|accv|ry|rmy)$/;

/** A variable pattern at a given size. */
function sized(p: string, size: 16 | 32 | 64): Pattern {
  const bits = String(size);
  if (p === "accv") return size === 16 ? "ax" : size === 32 ? "eax" : "rax";
  return p.slice(0, -1) + bits as Pattern;
}

/** Parses one line of the table into forms (one per size for `v` and `y` forms). */
export function parseFormLine(line: string): Form[] {
  const [head, enc] = line.split(":").map((s) => s.trim());
  if (enc === undefined) throw new FormTableError(`no ':' in "${line}"`);
  const [mnemonic, opText = ""] = head.split(/\s+/);
  const ops = opText ? opText.split(",") : [];
  const tokens = enc.split(/\s+/);
  const d64 = tokens.includes("d64");
  const variable = ops.some((o) => VARIABLE.test(o));
  const ySized = ops.some((o) => o === "ry" || o === "rmy");
  const sizes: (0 | 16 | 32 | 64)[] = !variable
    ? [d64 ? 64 : 0]
    : d64
    ? [16, 64]
    : ySized
    ? [32, 64]
    : [16, 32, 64];
  return sizes.map((size) => {
    const operands = ops.map((o) => {
      const p = size && VARIABLE.test(o) ? sized(o, size) : o;
      if (!PATTERNS.has(p)) throw new FormTableError(`unknown operand pattern "${o}" in "${line}"`);
      return p as Pattern;
    });
    const opcode: number[] = [];
    const imms: ImmToken[] = [];
    let plusReg = false, modrm: "r" | number | undefined, rel: 1 | 4 | undefined;
    let rexW = false, o16 = false, a32 = false, mandatory: number | undefined;
    let noosz = false, notnop = false;
    for (const t of tokens) {
      if (t === "rb") rel = 1;
      else if (t === "rd") rel = 4;
      else if (/^[0-9a-f]{2}$/.test(t)) opcode.push(parseInt(t, 16));
      else if (/^[0-9a-f]{2}\+r$/.test(t)) {
        opcode.push(parseInt(t, 16));
        plusReg = true;
      } else if (t === "/r") modrm = "r";
      else if (/^\/[0-7]$/.test(t)) modrm = Number(t[1]);
      else if (["ib", "iw", "id", "iq", "iz", "iv"].includes(t)) imms.push(t as ImmToken);
      else if (t === "w") rexW = true;
      else if (t === "o16") o16 = true;
      else if (t === "a32") a32 = true;
      else if (/^p(66|F2|F3)$/.test(t)) mandatory = parseInt(t.slice(1), 16);
      else if (t === "d64") continue;
      else if (t === "noosz") noosz = true;
      else if (t === "notnop") notnop = true;
      else throw new FormTableError(`unknown encoding token "${t}" in "${line}"`);
    }
    if (!opcode.length) throw new FormTableError(`no opcode in "${line}"`);
    return {
      mnemonic,
      operands,
      size,
      opcode,
      plusReg,
      modrm,
      imms,
      rel,
      rexW,
      o16,
      a32,
      mandatory,
      d64,
      noosz,
      notnop,
    };
  });
}

function buildTable(): Map<string, Form[]> {
  const lines = [
    ...aluForms(),
    ...shiftForms(),
    ...conditionForms(),
    ...stringForms(),
    ...TABLE.split("\n").map((l) => l.trim()).filter(Boolean),
  ];
  const table = new Map<string, Form[]>();
  for (const line of lines) {
    for (const form of parseFormLine(line)) {
      const list = table.get(form.mnemonic) ?? [];
      list.push(form);
      table.set(form.mnemonic, list);
    }
  }
  return table;
}

/** Every form, by mnemonic (lower case). */
export const FORMS: ReadonlyMap<string, readonly Form[]> = buildTable();
