import assert from "node:assert/strict";
import {
  evaluateNasm,
  NasmExprError,
  type NasmScope,
  parseNasmExpr,
  parseNasmNumber,
  readString,
} from "./nasm_expr.ts";

const scope = (
  symbols: Record<string, bigint> = {},
  here = 0x1000n,
  start = 0x800n,
): NasmScope => ({
  symbol(name, col) {
    if (name in symbols) return symbols[name];
    throw new NasmExprError(`symbol ${name} is not defined`, col);
  },
  here: () => here,
  sectionStart: () => start,
});

const ev = (text: string, symbols?: Record<string, bigint>) =>
  evaluateNasm(parseNasmExpr(text, 1), scope(symbols));

Deno.test("NASM numbers in every spelling of the manual (§3.4.1)", () => {
  const spellings: [string, bigint][] = [
    ["200", 200n],
    ["0200", 200n], // a leading 0 is still decimal in NASM
    ["0200d", 200n],
    ["0d200", 200n],
    ["0t200", 200n],
    ["0c8h", 0xc8n],
    ["0xc8", 0xc8n],
    ["0hc8", 0xc8n],
    ["$0c8", 0xc8n],
    ["0c8x", 0xc8n],
    ["310q", 0o310n],
    ["310o", 0o310n],
    ["0o310", 0o310n],
    ["0q310", 0o310n],
    ["11001000b", 0b11001000n],
    ["1100_1000b", 0b11001000n],
    ["1100_1000y", 0b11001000n],
    ["0b1100_1000", 0b11001000n],
    ["0y1100_1000", 0b11001000n],
    ["1_000_000", 1000000n],
  ];
  for (const [text, value] of spellings) assert.equal(parseNasmNumber(text), value, text);
  assert.equal(parseNasmNumber("0x"), 0n, "0 with the x suffix");
  assert.equal(parseNasmNumber("0xg"), undefined);
  assert.equal(parseNasmNumber("12ab"), undefined);
  assert.equal(parseNasmNumber("19q"), undefined);
  assert.throws(() => ev("0x1_0000_0000_0000_0000"), /does not fit in 64 bits/);
  assert.throws(() => ev("12ab"), /"12ab" is not a number/);
});

Deno.test("NASM precedence is C-like, not GNU as's (§3.5)", () => {
  assert.equal(ev("2 | 1 + 1"), 2n); // GNU as: 4
  assert.equal(ev("1 + 2 * 3"), 7n);
  assert.equal(ev("(1 + 2) * 3"), 9n);
  assert.equal(ev("1 << 2 + 1"), 8n); // + binds tighter than <<
  assert.equal(ev("6 & 3 ^ 1"), 3n); // & before ^
  assert.equal(ev("4 ^ 6 | 1"), 3n); // ^ before |
  assert.equal(ev("1 == 1 && 2 < 3"), 1n);
  assert.equal(ev("0 || 0"), 0n);
  assert.equal(ev("1 ^^ 1"), 0n);
  assert.equal(ev("3 <=> 5"), -1n);
  assert.equal(ev("3 <> 5"), 1n);
  assert.equal(ev("3 = 3"), 1n);
  assert.equal(ev("-5 < 3"), 1n, "comparisons are signed");
});

Deno.test("NASM division: / and % unsigned, // and %% signed; >> logical, >>> arithmetic", () => {
  assert.equal(ev("-7 // 2"), -3n);
  assert.equal(ev("-7 %% 2"), -1n);
  assert.equal(ev("-8 / 2"), 0x7fff_ffff_ffff_fffcn);
  assert.equal(ev("-1 % 10"), 5n); // 2^64 - 1 mod 10
  assert.equal(ev("-16 >> 2"), 0x3fff_ffff_ffff_fffcn);
  assert.equal(ev("-16 >>> 2"), -4n);
  assert.equal(ev("1 <<< 4"), 16n);
  assert.throws(
    () => ev("1 / 0"),
    (e) => e instanceof NasmExprError && /division by zero/.test(e.message),
  );
  assert.equal(ev("0x7fffffffffffffff + 1"), -0x8000000000000000n, "64-bit wrap-around");
  assert.equal(ev("~0"), -1n);
  assert.equal(ev("!5"), 0n);
  assert.equal(ev("--3"), 3n);
});

Deno.test("NASM character constants are little-endian; strings have escapes only in backquotes", () => {
  assert.equal(ev("'a'"), 0x61n);
  assert.equal(ev("'ab'"), 0x6261n);
  assert.equal(ev("'abcd'"), 0x64636261n, "mov eax, 'abcd' stores abcd");
  assert.equal(ev('"a"+1'), 0x62n);
  assert.equal(ev("`\\n`"), 10n);
  assert.deepEqual(readString("'a\\n'", 0, 1).bytes, [0x61, 0x5c, 0x6e], "no escapes in '...'");
  assert.deepEqual(readString("`a\\n\\x41\\101\\0`", 0, 1).bytes, [0x61, 10, 0x41, 0x41, 0]);
  assert.deepEqual(readString("`\\u263a`", 0, 1).bytes, [0xe2, 0x98, 0xba]);
  assert.throws(() => readString("'abc", 0, 1), /no closing '/);
  assert.throws(() => ev("'123456789'"), /at most 8 bytes/);
  assert.throws(() => readString("`\\q`", 0, 1), /unknown escape/);
});

Deno.test("NASM symbols, $ and $$, and the $name escape", () => {
  assert.equal(ev("label + 4", { label: 0x2000n }), 0x2004n);
  assert.equal(ev("$ - $$"), 0x800n);
  assert.equal(ev("$eax", { eax: 7n }), 7n, "$eax is a symbol named eax");
  assert.equal(ev("..@x + main.loop", { "..@x": 1n, "main.loop": 2n }), 3n);
  const e = parseNasmExpr(".loop", 1, { qualify: (n) => "main" + n });
  assert.deepEqual(e, { kind: "symbol", name: "main.loop", col: 1 });
  assert.throws(() => ev("nothing"), /symbol nothing is not defined/);
});

Deno.test("NASM expressions: registers only inside addresses, errors name the column", () => {
  assert.throws(
    () => parseNasmExpr("rax + 1", 5),
    (e) =>
      e instanceof NasmExprError && e.column === 5 && /registers go inside \[...\]/.test(e.message),
  );
  const withRegs = parseNasmExpr("rax + rcx*8", 1, { registers: true });
  assert.equal(withRegs.kind, "binary");
  assert.throws(() => evaluateNasm(withRegs, scope()), /can only be added to an address/);
  assert.throws(
    () => parseNasmExpr("1 + ", 10),
    (e) => e instanceof NasmExprError && e.column === 14 && /operand ends here/.test(e.message),
  );
  assert.throws(() => parseNasmExpr("(1 + 2", 1), /expected '\)' to close '\('/);
  assert.throws(() => parseNasmExpr("1 2", 1), /unexpected text after the expression: "2"/);
  assert.throws(() => parseNasmExpr("1 @ 2", 1), /unexpected character '@'/);
});
