import assert from "node:assert/strict";
import { Prng } from "../../core/prng.ts";
import { PF_R, PF_W, PF_X } from "../elf.ts";
import { AsmError, assembleRiscv, DEFAULT_ORIGIN } from "./assembler.ts";
import { encode } from "./encode.ts";

const words = (bytes: Uint8Array) => {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length >> 2 }, (_, i) => dv.getUint32(4 * i, true));
};

/** Asserts that assembling `source` fails at `line`:`column` with a message matching `re`. */
function fails(source: string, line: number, column: number, re: RegExp, options = {}) {
  let error: unknown;
  try {
    assembleRiscv(source, options);
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof AsmError, `expected an AsmError, got ${error}`);
  assert.match(error.reason, re);
  assert.deepEqual([error.line, error.column], [line, column], error.message);
  // The message repeats the source line and points at the column.
  assert.match(error.message, new RegExp(`^line ${line}, column ${column}: `));
}

Deno.test("assembler: sections are laid out in order from the origin, each aligned", () => {
  const r = assembleRiscv(
    `
    .data
    d: .byte 1, 2, 3
    .text
    _start: nop
    .section .rodata
    ro: .ascii "abc"
    .bss
    b: .zero 16
    .section .text.more
    ret
  `,
    { origin: 0x8000_0000 },
  );
  const byName = Object.fromEntries(r.sections.map((s) => [s.name, s]));
  assert.equal(byName[".text"].address, 0x8000_0000);
  assert.equal(byName[".text"].size, 8);
  assert.equal(byName[".text"].flags, PF_R | PF_X);
  assert.equal(byName[".rodata"].address, 0x8000_0008);
  assert.equal(byName[".rodata"].flags, PF_R);
  assert.equal(byName[".data"].address, 0x8000_0010, ".data starts 8-aligned after .rodata");
  assert.equal(byName[".data"].flags, PF_R | PF_W);
  assert.equal(byName[".bss"].address, 0x8000_0018);
  assert.equal(r.bytes.length, 0x28, "the image ends with the zeroed .bss");
  assert.deepEqual(words(r.bytes.subarray(0, 8)), [
    encode("addi", 0, 0, 0),
    encode("jalr", 0, 0, 1),
  ]);
  assert.deepEqual([...r.bytes.subarray(8, 11)], [0x61, 0x62, 0x63]);
  assert.deepEqual([...r.bytes.subarray(0x10, 0x13)], [1, 2, 3]);
  assert.ok(r.bytes.subarray(0x18).every((b) => b === 0));
  assert.equal(r.entry, 0x8000_0000);
  assert.equal(r.symbols.get("b"), 0x8000_0018);
});

Deno.test("assembler: defaults, entry, symbols, globals and the line map", () => {
  const r = assembleRiscv(
    "  .globl _start\n  nop\n_start:\n  ret\n  .equ K, 42\n.Lhidden:\n  nop\n",
  );
  assert.equal(r.origin, DEFAULT_ORIGIN);
  assert.equal(r.entry, DEFAULT_ORIGIN + 4);
  assert.equal(r.symbols.get("K"), 42);
  assert.equal(r.symbols.has(".Lhidden"), false, ".L symbols are local to the assembler");
  assert.deepEqual([...r.globals], ["_start"]);
  assert.deepEqual(r.lines, [
    { address: DEFAULT_ORIGIN, line: 2 },
    { address: DEFAULT_ORIGIN + 4, line: 4 },
    { address: DEFAULT_ORIGIN + 8, line: 7 },
  ]);
  assert.equal(
    assembleRiscv("nop").entry,
    DEFAULT_ORIGIN,
    "without _start the entry is the origin",
  );
});

Deno.test("assembler: .data can be page-aligned for an ELF segment", () => {
  const r = assembleRiscv(".text\nnop\n.data\nx: .word 1\n", { dataAlign: 4096 });
  assert.equal(r.symbols.get("x"), DEFAULT_ORIGIN + 4096);
  assert.equal(r.sections[2].align, 4096);
});

Deno.test("assembler: statement syntax (comments, separators, labels on a line)", () => {
  const a = assembleRiscv(`
    /* a block comment
       over lines */ start: li a0, '#'   # the character, not a comment
    li a1, 1; li a2, 2   // two statements
    x: y: li a3, 3
    li a4, ';'
  `);
  const b = assembleRiscv("start: li a0, 35\nli a1, 1\nli a2, 2\nx:\ny:\nli a3, 3\nli a4, 59\n");
  assert.deepEqual(a.bytes, b.bytes);
  assert.equal(a.symbols.get("x"), a.symbols.get("y"));
});

Deno.test("assembler: options.compressed equals .option rvc, and .option push/pop nest", () => {
  const src = "addi a0, a0, 1\nret\n";
  assert.deepEqual(
    assembleRiscv(src, { compressed: true }).bytes,
    assembleRiscv(".option rvc\n" + src).bytes,
  );
  assert.equal(assembleRiscv(src, { compressed: true }).bytes.length, 4);
  const nested = assembleRiscv(".option rvc\n.option push\n.option norvc\nret\n.option pop\nret\n");
  assert.equal(nested.bytes.length, 6);
});

Deno.test("assembler: numeric local labels refer to the nearest definition", () => {
  const r = assembleRiscv(`
    1: nop
    j 1f
    j 1b
    1: nop
    j 1b
  `);
  const w = words(r.bytes);
  assert.equal(w[1], encode("jal", 0, 8), "1f skips to the second 1:");
  assert.equal(w[2], encode("jal", 0, -8), "1b goes back to the first 1:");
  assert.equal(w[4], encode("jal", 0, -4), "after the second 1:, 1b means it");
});

Deno.test("assembler: expressions follow GNU as precedence and 64-bit arithmetic", () => {
  const r = assembleRiscv(`
    .equ A, 1 + 2 & 3
    .equ B, 2 * 3 + 1 << 2
    .equ C, (1 + 2) & 3
    .equ D, -7 / 2
    .equ E, -7 % 2
    .equ F, ~0 >> 60
    .equ G, 0x10 | 0b11 ^ 010
    .equ H, end - start
    start: .zero 12
    end:
  `);
  assert.deepEqual(
    ["A", "B", "C", "D", "E", "F", "G", "H"].map((s) => r.symbols.get(s)),
    [3, 10, 3, -3, -1, 15, 0x10 | (3 ^ 8), 12],
  );
});

Deno.test("assembler: %hi/%lo and %pcrel_hi/%pcrel_lo compute what the linker would", () => {
  const r = assembleRiscv(`
    _start:
      lui a0, %hi(target)
      addi a0, a0, %lo(target)
    1: auipc a1, %pcrel_hi(target)
      addi a1, a1, %pcrel_lo(1b)
      la a2, target
      .zero 0x1800
    target: nop
  `);
  const target = r.symbols.get("target")!;
  const w = words(r.bytes.subarray(0, 24));
  const luiImm = w[0] >>> 12, addiImm = w[1] >> 20;
  assert.equal((luiImm << 12) + addiImm, target, "%hi + %lo rebuild the address");
  const auipcImm = w[2] >> 12, addiPc = w[3] >> 20;
  assert.equal(DEFAULT_ORIGIN + 8 + auipcImm * 4096 + addiPc, target);
  assert.equal(DEFAULT_ORIGIN + 16 + (w[4] >> 12) * 4096 + (w[5] >> 20), target, "la reaches too");
});

/** Decodes the pc-relative target of a branch or jump at `pc` (32- or 16-bit), if it is one. */
function branchTarget(
  bytes: Uint8Array,
  at: number,
  pc: number,
): { size: number; target?: number } {
  const h = bytes[at] | (bytes[at + 1] << 8);
  if ((h & 3) !== 3) {
    const f3 = h >> 13, q = h & 3;
    const bit = (n: number) => (h >> n) & 1;
    if (q === 1 && f3 === 5) {
      const imm = (bit(12) << 11) | (bit(8) << 10) | (((h >> 9) & 3) << 8) | (bit(6) << 7) |
        (bit(7) << 6) | (bit(2) << 5) | (bit(11) << 4) | (((h >> 3) & 7) << 1);
      return { size: 2, target: pc + ((imm << 20) >> 20) };
    }
    if (q === 1 && f3 >= 6) {
      const imm = (bit(12) << 8) | (((h >> 5) & 3) << 6) | (bit(2) << 5) | (((h >> 10) & 3) << 3) |
        (((h >> 3) & 3) << 1);
      return { size: 2, target: pc + ((imm << 23) >> 23) };
    }
    return { size: 2 };
  }
  const w = (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>>
    0;
  if ((w & 0x7f) === 0x63) {
    const imm = ((w >>> 31) << 12) | (((w >> 7) & 1) << 11) | (((w >> 25) & 0x3f) << 5) |
      (((w >> 8) & 0xf) << 1);
    return { size: 4, target: pc + ((imm << 19) >> 19) };
  }
  if ((w & 0x7f) === 0x6f) {
    const imm = ((w >>> 31) << 20) | (((w >> 12) & 0xff) << 12) | (((w >> 20) & 1) << 11) |
      (((w >> 21) & 0x3ff) << 1);
    return { size: 4, target: pc + ((imm << 11) >> 11) };
  }
  return { size: 4 };
}

Deno.test("assembler: relaxation settles, and every branch reaches its label (seeded programs)", () => {
  for (let seed = 1; seed <= 12; seed++) {
    const prng = new Prng(seed);
    const n = 60;
    const lines: string[] = [seed % 2 ? ".option rvc" : ".option norvc"];
    const branches: string[] = [];
    for (let i = 0; i < n; i++) {
      lines.push(`L${i}:`);
      const to = `L${prng.range(0, n - 1)}`;
      const kind = prng.range(0, 4);
      const line = ["beqz a0, ", "bnez s1, ", "blt a1, a2, ", "j ", "bgeu t0, t1, "][kind] + to;
      lines.push(line);
      branches.push(to);
      // Gaps around the reach of c.beqz (256), beq (4 KiB) and c.j (2 KiB).
      lines.push(`.zero ${[0, 2, 120, 250, 1000, 2100, 4100][prng.range(0, 6)]}`);
    }
    const r = assembleRiscv(lines.join("\n"));
    for (let i = 0; i < n; i++) {
      const pc = r.symbols.get(`L${i}`)!;
      let at = pc - r.origin;
      let decoded = branchTarget(r.bytes, at, pc);
      // A relaxed far branch is an inverted branch over a jal: the jal holds the target.
      const next = r.bytes[at + decoded.size] & 0x7f;
      if (decoded.target === pc + decoded.size + 4 && next === 0x6f) {
        at += decoded.size;
        decoded = branchTarget(r.bytes, at, pc + decoded.size);
      }
      assert.equal(decoded.target, r.symbols.get(branches[i]), `seed ${seed}: branch at L${i}`);
    }
  }
});

Deno.test("assembler: errors name the line, the column, what is wrong and what is accepted", async (t) => {
  await t.step("unknown instruction, with suggestions", () => {
    fails("nop\n  ad a0, a1, a2\n", 2, 3, /unknown instruction "ad": did you mean .*add/);
  });
  await t.step("operand count", () => {
    fails("addi a0, a1\n", 1, 1, /addi takes 3 operands, not 2: addi rd, rs1, imm/);
  });
  await t.step("not a register", () => {
    fails(
      "add a0, q5, a2\n",
      1,
      9,
      /operand 2 of add, "q5", is not a register: write x0..x31 or an ABI name/,
    );
  });
  await t.step("immediate out of range, with a hint", () => {
    fails(
      "addi a0, a0, 5000\n",
      1,
      1,
      /addi: immediate 5000 does not fit in 12 signed bits \(-2048..2047\): .*li/,
    );
  });
  await t.step("a register where an immediate belongs", () => {
    fails("addi a0, a0, a1\n", 1, 14, /operand 3 of addi is the register a1, but an immediate/);
  });
  await t.step("memory operand expected", () => {
    fails(
      "lw a0, a1\n",
      1,
      8,
      /operand 2 of lw is the register a1: write a memory operand such as 0\(a1\)/,
    );
    fails("sw a0, 8\n", 1, 8, /a store to a symbol needs a scratch register/);
    fails("amoadd.w a0, a1, 4(a2)\n", 1, 18, /takes no offset: write \(rs1\) or 0\(rs1\)/);
  });
  await t.step("undefined symbol and local labels", () => {
    fails("j nowhere\n", 1, 3, /undefined symbol "nowhere": define it as a label or with .equ/);
    fails("j 1b\n", 1, 3, /1b refers back to a label 1:, but there is none before it/);
    fails("nop\nj 2f\n", 2, 3, /2f refers forward to a label 2:, but none follows/);
  });
  await t.step("symbols defined twice or in terms of themselves", () => {
    fails("x: nop\nx: nop\n", 2, 1, /symbol "x" is already defined on line 1/);
    fails(".equ A, B\n.equ B, A\nli a0, A\n", 1, 6, /symbol "A" is defined in terms of itself/);
  });
  await t.step("out-of-range jumps and explicit compressed branches", () => {
    fails(
      "j far\n.zero 0x100000\nfar: nop\n",
      1,
      1,
      /jal: jump offset 1048580 does not fit.*call and tail/,
    );
    fails(
      ".option rvc\nc.beqz a0, far\n.zero 300\nfar: nop\n",
      2,
      1,
      /c.beqz: branch offset 302 does not fit.*beqz/,
    );
    fails(
      "c.nop\n",
      1,
      1,
      /c.nop is a compressed instruction: enable the C extension first with .option rvc/,
    );
  });
  await t.step("directives", () => {
    fails(".frobnicate 1\n", 1, 1, /unknown directive .frobnicate: this assembler knows/);
    fails(".bss\n.word 1\n", 2, 1, /.word cannot go in .bss.*\.zero or \.space/);
    fails(".bss\nnop\n", 2, 1, /instructions cannot go in .bss/);
    fails(".option pop\n", 1, 9, /.option pop without a matching .option push/);
    fails(".option arch, +v\n", 1, 1, /.option takes 1 operand/);
    fails(".align 40\n", 1, 8, /give the log2 of the alignment, 0 to 16/);
    fails(".balign 3\n", 1, 9, /.balign 3: give a power of two/);
    fails(".section .weird\n", 1, 10, /section .weird has no place in the image/);
    fails(".macro m\n", 1, 1, /.macro is not supported/);
    fails(".byte 256\n", 1, 7, /value 256 does not fit in 1 byte \(-128..255\)/);
    fails(".zero n\nn:\n", 1, 7, /.zero count must be a constant, but "n" is a label/);
  });
  await t.step("expressions and strings", () => {
    fails("li a0, 1 / 0\n", 1, 10, /division by zero/);
    fails("li a0, (1 + 2\n", 1, 14, /expected '\)' to close '\('/);
    fails("li a0, 0x\n", 1, 8, /"0x" is not a number/);
    fails('.ascii "abc\n', 1, 11, /this string has no closing quote/);
    fails("nop /* never closed\n", 1, 5, /this \/\* comment is never closed/);
    fails('.ascii "\\q"\n', 1, 9, /unknown escape \\q/);
  });
  await t.step("relocation operators", () => {
    fails(
      "addi a0, a0, %pcrel_lo(x)\nx: nop\n",
      1,
      14,
      /%pcrel_lo needs the label of an auipc with %pcrel_hi/,
    );
    fails("lui a0, %got_pcrel_hi(x)\nx: nop\n", 1, 9, /%got_pcrel_hi is not supported/);
  });
  await t.step(".insn", () => {
    fails(
      ".insn r 0x30, 0, 0, a0, a1, a2\n",
      1,
      1,
      /opcode 0x30 of a 32-bit instruction must end in binary 11/,
    );
    fails(".insn i 0x13, 9, a0, a1, 0\n", 1, 1, /funct3 9 does not fit in 3 bits/);
    fails(
      ".insn q 1\n",
      1,
      7,
      /unknown .insn format "q": use r, i, s, b, u or j, or give the instruction's value/,
    );
  });
});

Deno.test("assembler: strings, escapes and data widths", () => {
  const r = assembleRiscv(
    '.ascii "a\\n\\t\\\\\\"\\101\\x42"\n.asciz "z"\n.string "é"\n.half -2\n.word 0xfffffffe\n.dword -1\n',
  );
  assert.deepEqual(
    [...r.bytes.subarray(0, 16)],
    [0x61, 10, 9, 92, 34, 0x41, 0x42, 0x7a, 0, 0xc3, 0xa9, 0, 0xfe, 0xff, 0xfe, 0xff],
  );
  assert.deepEqual([...r.bytes.subarray(16)], Array(10).fill(0xff));
});
