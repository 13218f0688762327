import assert from "node:assert/strict";
import {
  encode,
  encodeB,
  EncodeError,
  encodeJ,
  instructionBytes,
  INSTRUCTIONS,
  OPCODE,
  type OperandKind,
  registerNumber,
} from "./encode.ts";

/** One line of a vector file: LINE<TAB>HEX-or-VERDICT<TAB>SOURCE. */
interface Vector {
  line: number;
  field: string;
  source: string;
}

async function readVectors(name: string): Promise<Vector[]> {
  const text = await Deno.readTextFile(new URL(`./testdata/${name}`, import.meta.url));
  return text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => {
    const [line, field, source] = l.split("\t");
    return { line: Number(line), field, source };
  });
}

/**
 * Parses one generated case (`lw a0, 8(sp)`, `beq a0, a1, .-4`, `fence rw, w`) into the
 * encoder's operands, guided by the instruction's operand kinds. Only the forms that
 * encode_cases.ts writes are understood; the assembler has the full syntax.
 */
function parseCase(source: string): { mnemonic: string; operands: number[] } {
  const space = source.indexOf(" ");
  const mnemonic = space < 0 ? source : source.slice(0, space);
  const texts = space < 0 ? [] : source.slice(space + 1).split(",").map((s) => s.trim());
  const def = INSTRUCTIONS.get(mnemonic);
  assert.ok(def, `vector names unknown instruction ${mnemonic}`);
  const regOf = (t: string) => {
    const r = registerNumber(t);
    assert.ok(r !== undefined, `bad register ${t} in "${source}"`);
    return r;
  };
  const operands: number[] = [];
  def.operands.forEach((kind: OperandKind, i) => {
    const t = texts[i];
    const mem = /^(-?\d+)?\((\w+)\)$/.exec(t);
    if (kind === "(rs1)") operands.push(regOf(mem![2]));
    else if (kind.startsWith("imm(")) operands.push(Number(mem![1]), regOf(mem![2]));
    else if (kind === "offset") operands.push(Number(t.slice(1)));
    else if (kind === "imm" || kind === "csr") operands.push(Number(t));
    else if (kind === "pred" || kind === "succ") {
      operands.push([..."iorw"].reduce((v, ch, b) => v | (t.includes(ch) ? 8 >> b : 0), 0));
    } else operands.push(regOf(t));
  });
  return { mnemonic, operands };
}

function hexBytes(word: number, size: 2 | 4): string {
  return [...instructionBytes(word, size)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("encode: every case matches the bytes GNU as produced", async () => {
  const vectors = await readVectors("encode_vectors.txt");
  assert.ok(vectors.length > 5000, `only ${vectors.length} vectors`);
  const failures: string[] = [];
  for (const v of vectors) {
    const { mnemonic, operands } = parseCase(v.source);
    const size = INSTRUCTIONS.get(mnemonic)!.size;
    let got: string;
    try {
      got = hexBytes(encode(mnemonic, ...operands), size);
    } catch (e) {
      got = `error: ${(e as Error).message}`;
    }
    if (got !== v.field) failures.push(`line ${v.line}: ${v.source}: want ${v.field}, got ${got}`);
  }
  assert.deepEqual(failures.slice(0, 20), []);
});

Deno.test("encode: the vectors exercise every instruction of the table", async () => {
  const seen = new Set(
    (await readVectors("encode_vectors.txt")).map((v) => v.source.split(" ")[0]),
  );
  const missing = [...INSTRUCTIONS.keys()].filter((m) => !m.startsWith("ts.") && !seen.has(m));
  assert.deepEqual(missing, []);
});

Deno.test("encode: every value the encoder refuses, GNU as refuses too", async () => {
  const rejects = await readVectors("encode_rejects.txt");
  assert.ok(rejects.length > 500, `only ${rejects.length} reject cases`);
  for (const v of rejects) {
    assert.notEqual(v.field, "ACCEPTED", `GNU as accepts line ${v.line}: ${v.source}`);
    const { mnemonic, operands } = parseCase(v.source);
    assert.throws(() => encode(mnemonic, ...operands), EncodeError, v.source);
  }
});

Deno.test("encode: range errors say what does not fit and what would", async (t) => {
  await t.step("12-bit immediate", () => {
    assert.throws(
      () => encode("addi", 10, 0, 5000),
      {
        name: "EncodeError",
        message: "addi: immediate 5000 does not fit in 12 signed bits (-2048..2047)",
      },
    );
  });
  await t.step("branch offsets: parity and range", () => {
    assert.throws(() => encode("beq", 10, 11, 5), /branch offset 5 is not a multiple of 2/);
    assert.throws(
      () => encode("beq", 10, 11, 4096),
      /branch offset 4096 does not fit in 13 signed bits \(-4096\.\.4095\)/,
    );
  });
  await t.step("compressed register", () => {
    assert.throws(
      () => encode("c.lw", 16, 0, 8),
      /rd a6 cannot be encoded in a compressed instruction: use one of s0, s1, a0..a5/,
    );
  });
  await t.step("scaled compressed offset", () => {
    assert.throws(() => encode("c.ld", 10, 12, 11), /offset 12 is not a multiple of 8/);
    assert.throws(() => encode("c.ldsp", 10, 512, 2), /offset 512 does not fit in 9 unsigned/);
  });
  await t.step("registers, counts and names", () => {
    assert.throws(() => encode("add", 32, 0, 0), /rd x32 is not a register: use x0..x31/);
    assert.throws(() => encode("add", 1, 2), /add takes 3 operands \(rd, rs1, rs2\), got 2/);
    assert.throws(() => encode("frobnicate"), /unknown instruction "frobnicate"/);
    assert.throws(() => encode("addi", 1, 2, 0.5), /immediate 0.5 is not an integer/);
  });
  await t.step("upper immediates", () => {
    assert.throws(() => encode("lui", 10, -1), /upper immediate -1 does not fit in 20 unsigned/);
    assert.throws(() => encode("c.lui", 10, 0), /use 1..31 or 0xfffe0..0xfffff/);
    assert.throws(() => encode("c.lui", 2, 1), /c.lui cannot write sp/);
  });
});

Deno.test("encode: the TypeScript user-program stub instructions (custom-0)", () => {
  assert.equal(encode("ts.start"), 0x0000_000b);
  assert.equal(encode("ts.resume"), 0x0000_100b);
  assert.equal(encode("ts.start") & 0x7f, OPCODE.CUSTOM_0);
});

Deno.test("encode: branch and jump offsets scatter into the right bits", () => {
  // Each offset bit on its own: decoding the scattered immediate must give it back.
  const decodeB = (w: number) =>
    (((w >> 31) & 1) << 12 | ((w >> 7) & 1) << 11 | ((w >> 25) & 0x3f) << 5 |
        ((w >> 8) & 0xf) << 1) << 19 >> 19;
  const decodeJ = (w: number) =>
    (((w >> 31) & 1) << 20 | ((w >> 12) & 0xff) << 12 | ((w >> 20) & 1) << 11 |
        ((w >> 21) & 0x3ff) << 1) << 11 >> 11;
  for (let b = 1; b < 12; b++) {
    assert.equal(decodeB(encodeB(OPCODE.BRANCH, 0, 0, 0, 1 << b)), 1 << b);
  }
  assert.equal(decodeB(encodeB(OPCODE.BRANCH, 0, 0, 0, -4096)), -4096);
  for (let b = 1; b < 20; b++) assert.equal(decodeJ(encodeJ(OPCODE.JAL, 0, 1 << b)), 1 << b);
  assert.equal(decodeJ(encodeJ(OPCODE.JAL, 0, -(1 << 20))), -(1 << 20));
});

Deno.test("encode: registers by ABI name, xN and fp", () => {
  assert.equal(registerNumber("zero"), 0);
  assert.equal(registerNumber("fp"), 8);
  assert.equal(registerNumber("s0"), 8);
  assert.equal(registerNumber("x31"), 31);
  assert.equal(registerNumber("T6"), 31);
  assert.equal(registerNumber("x32"), undefined);
  assert.equal(registerNumber("a8"), undefined);
});
