/**
 * The decoder against GNU as and objdump (testdata/decode_cases.json, made by
 * testdata/gen_decode.sh from decode_cases.s): every instruction decodes to its real
 * length and to a handler, and every memory operand decodes to the base, index, scale,
 * displacement and segment objdump prints. Then the encodings the architecture makes
 * invalid.
 */

import assert from "node:assert/strict";
import { decode, DECODE_NEED_MORE } from "./decode.ts";
import {
  BASE_RIP,
  Insn,
  OP_CMPXCHG,
  OP_LOAD,
  OP_MOV_EI,
  OP_MOVZX_B,
  OP_NOP,
  OP_PRIV,
  OP_TOO_LONG,
  OP_TS,
  OP_UD,
  OP_UNIMPL,
  PFX_ADDR32,
  PFX_LOCK,
} from "./insn.ts";
import { REG_NAMES } from "./regs.ts";

const fixture = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/decode_cases.json", import.meta.url)),
) as { rows: string[] };

function hexBytes(s: string): Uint8Array {
  return new Uint8Array(s.match(/../g)!.map((h) => parseInt(h, 16)));
}

function dec(b: Uint8Array): Insn {
  const i = new Insn();
  const n = decode(b, 0, b.length, i);
  assert.notEqual(n, DECODE_NEED_MORE, "needs more bytes");
  return i;
}

const REG32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];

function regNumber(name: string): number {
  if (name === "rip" || name === "eip") return BASE_RIP;
  const k = REG_NAMES.indexOf(name);
  if (k >= 0) return k;
  const j = REG32.indexOf(name);
  if (j >= 0) return j;
  const m = /^r(\d+)d$/.exec(name);
  if (m) return Number(m[1]);
  throw new Error(`unknown register ${name}`);
}

/** The memory operand objdump printed, as the decoder's fields. */
function memoryOperand(text: string) {
  const seg = /\b(fs|gs):/.exec(text)?.[1];
  const br = /\[([^\]]+)\]/.exec(text);
  let base = -1, index = -1, scale = 1, disp = 0;
  if (br) {
    for (const tok of br[1].replace(/-/g, "+-").split("+").filter(Boolean)) {
      if (/^-?0x[0-9a-f]+$/.test(tok)) {
        // objdump prints some negative displacements as 64-bit unsigned values.
        const v = BigInt.asIntN(64, BigInt(tok.replace("-", "")));
        disp += Number(tok.startsWith("-") ? -v : v);
      } else if (tok.includes("*")) {
        const [r, s] = tok.split("*");
        index = regNumber(r);
        scale = Number(s);
      } else if (base < 0) {
        base = regNumber(tok);
      } else {
        index = regNumber(tok);
      }
    }
  } else {
    const abs = /(?:ds|fs|gs):(0x[0-9a-f]+)/.exec(text);
    if (!abs) return undefined;
    disp = parseInt(abs[1], 16);
  }
  return { base, index, scale, disp, seg: seg === "fs" ? 4 : seg === "gs" ? 5 : -1 };
}

Deno.test(`decoder: ${fixture.rows.length} instructions assembled by GNU as decode to their length`, () => {
  const wrong: string[] = [];
  for (const row of fixture.rows) {
    const sp = row.indexOf(" ");
    const b = hexBytes(row.slice(0, sp));
    const text = row.slice(sp + 1);
    const i = dec(b);
    if (i.len !== b.length) wrong.push(`${text}: length ${i.len}, as says ${b.length}`);
    const invalid = i.op === OP_UD || i.op === OP_UNIMPL || i.op === OP_TOO_LONG;
    if (invalid && !text.startsWith("ud2")) {
      wrong.push(`${text}: decoded as invalid (${i.name})`);
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("decoder: every memory operand has the base, index, scale, disp and segment objdump shows", () => {
  let checked = 0;
  const wrong: string[] = [];
  for (const row of fixture.rows) {
    const sp = row.indexOf(" ");
    const text = row.slice(sp + 1).replace(/#.*$/, "");
    if (
      /^(j|call|loop|jrcxz|nop|lea|prefetch|cl|lgdt|lidt|sgdt|invlpg)/.test(text) &&
      !/PTR/.test(text)
    ) continue;
    const want = memoryOperand(text);
    if (!want || /^(rep|movs|stos|lods|cmps|scas|xlat)/.test(text)) continue; // implicit operands
    const i = dec(hexBytes(row.slice(0, sp)));
    if (i.rm >= 0) continue; // objdump shows a register operand alongside, e.g. "xchg"
    checked++;
    const got = { base: i.base, index: i.index, scale: i.scale, disp: i.disp, seg: i.seg };
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      wrong.push(`${text}: decoded ${JSON.stringify(got)}, objdump ${JSON.stringify(want)}`);
    }
  }
  assert.ok(checked >= 75, `only ${checked} memory operands checked`);
  assert.deepEqual(wrong, []);
});

Deno.test("decoder: prefixes, REX and the high-byte registers", async (t) => {
  await t.step("66 selects 16-bit, REX.W 64-bit, REX.W wins over 66", () => {
    assert.equal(dec(new Uint8Array([0x66, 0x01, 0xd8])).size, 2); // add ax, bx
    assert.equal(dec(new Uint8Array([0x01, 0xd8])).size, 4); // add eax, ebx
    assert.equal(dec(new Uint8Array([0x66, 0x48, 0x01, 0xd8])).size, 8); // add rax, rbx
  });
  await t.step("a REX followed by a legacy prefix is ignored", () => {
    // 48 66 01 d8: the REX.W is dropped, so this is add ax, bx.
    const i = dec(new Uint8Array([0x48, 0x66, 0x01, 0xd8]));
    assert.equal(i.size, 2);
    assert.equal(i.len, 4);
  });
  await t.step("without REX, byte registers 4-7 are AH CH DH BH; with REX, SPL BPL SIL DIL", () => {
    const noRex = dec(new Uint8Array([0x88, 0xe0])); // mov al, ah
    assert.equal(noRex.reg, 16, "AH is numbered 16");
    const rex = dec(new Uint8Array([0x40, 0x88, 0xe0])); // mov al, spl
    assert.equal(rex.reg, 4);
  });
  await t.step("movzx takes a byte E but a full-width G (no AH mapping for G)", () => {
    const i = dec(new Uint8Array([0x0f, 0xb6, 0xfc])); // movzx edi, ah
    assert.equal(i.op, OP_MOVZX_B);
    assert.equal(i.reg, 7);
    assert.equal(i.rm, 16);
  });
  await t.step("67 makes 32-bit addresses; FS and GS overrides are kept", () => {
    const i = dec(new Uint8Array([0x67, 0x64, 0x8b, 0x00])); // mov eax, fs:[eax]
    assert.ok(i.pfx & PFX_ADDR32);
    assert.equal(i.seg, 4);
    assert.equal(i.op, OP_LOAD);
  });
  await t.step("C7 with REX.W sign-extends its immediate into imm2", () => {
    const i = dec(new Uint8Array([0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff])); // mov rax, -1
    assert.equal(i.imm, -1);
    assert.equal(i.imm2, -1);
  });
});

Deno.test("decoder: invalid encodings decode to #UD, privileged ones to #GP, others to not-implemented", () => {
  const cases: [string, number[], number][] = [
    ["push es (invalid in 64-bit mode)", [0x06], OP_UD],
    ["daa (invalid in 64-bit mode)", [0x27], OP_UD],
    ["pusha (invalid in 64-bit mode)", [0x60], OP_UD],
    ["far call ptr16:32 (invalid)", [0x9a, 0, 0, 0, 0, 0, 0], OP_UD],
    ["ud2", [0x0f, 0x0b], OP_UD],
    ["lea with a register source", [0x8d, 0xc0], OP_UD],
    ["lock on a register destination", [0xf0, 0x01, 0xd8], OP_UD],
    ["lock on mov", [0xf0, 0x89, 0x07], OP_UD],
    ["lock on cmp", [0xf0, 0x39, 0x07], OP_UD],
    ["FF /7", [0xff, 0xf8], OP_UD],
    ["mov to cs", [0x8e, 0xc8], OP_UD],
    ["0F 0A 02 (no such ts instruction)", [0x0f, 0x0a, 0x02], OP_UD],
    ["hlt", [0xf4], OP_PRIV],
    ["wrmsr", [0x0f, 0x30], OP_PRIV],
    ["mov cr3, rax", [0x0f, 0x22, 0xd8], OP_PRIV],
    ["x87 fadd", [0xd8, 0xc1], OP_UNIMPL],
    ["SSE movaps", [0x0f, 0x28, 0xc1], OP_UNIMPL],
    ["AVX (VEX)", [0xc5, 0xf8, 0x77], OP_UNIMPL],
  ];
  for (const [what, b, op] of cases) {
    assert.equal(dec(new Uint8Array(b)).op, op, what);
  }
  const locked = dec(new Uint8Array([0xf0, 0x0f, 0xb1, 0x0f])); // lock cmpxchg [rdi], ecx
  assert.equal(locked.op, OP_CMPXCHG);
  assert.ok(locked.pfx & PFX_LOCK);
});

Deno.test("decoder: 15 bytes at most; a page boundary asks for more bytes", () => {
  const long = new Uint8Array(20).fill(0x66);
  long[15] = 0x90;
  const i = new Insn();
  assert.equal(decode(long, 0, 20, i), 15);
  assert.equal(i.op, OP_TOO_LONG);
  // mov eax, imm32 cut after 3 bytes: the decoder cannot finish within the window.
  const cut = new Uint8Array([0xb8, 0x01, 0x02]);
  assert.equal(decode(cut, 0, 3, new Insn()), DECODE_NEED_MORE);
  // The 14 prefixes plus an opcode is a legal 15-byte instruction.
  const legal = new Uint8Array(15).fill(0x66);
  legal[14] = 0x90;
  assert.equal(decode(legal, 0, 15, i), 15);
  assert.equal(i.op, OP_NOP);
});

Deno.test("decoder: the TypeScript-thread instructions and the immediate forms", () => {
  const start = dec(new Uint8Array([0x0f, 0x0a, 0x00]));
  assert.equal(start.op, OP_TS);
  assert.equal(start.sub, 0);
  assert.equal(start.len, 3);
  const mov = dec(new Uint8Array([0xc6, 0x07, 0x80])); // mov byte [rdi], 0x80
  assert.equal(mov.op, OP_MOV_EI);
  assert.equal(mov.imm, -128);
});
