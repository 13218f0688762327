import assert from "node:assert/strict";
import { evaluate, type Expr, ExprError, parseExpr, type Scope } from "./expr.ts";

const scope = (symbols: Record<string, bigint> = {}, here = 0x1000n): Scope => ({
  symbol: (name, col) => {
    if (name in symbols) return symbols[name];
    throw new ExprError(`undefined ${name}`, col);
  },
  here: () => here,
  modifier: (name, arg) => (name === "double" ? 2n * evaluate(arg, scope(symbols, here)) : 0n),
});
const value = (text: string, symbols: Record<string, bigint> = {}) =>
  evaluate(parseExpr(text), scope(symbols));

Deno.test("expr: literals in every base, characters, and escapes", () => {
  assert.equal(value("42"), 42n);
  assert.equal(value("0x2A"), 42n);
  assert.equal(value("0b101010"), 42n);
  assert.equal(value("052"), 42n);
  assert.equal(value("'*'"), 42n);
  assert.equal(value("'*"), 42n, "GNU as accepts a character without the closing quote");
  assert.equal(value("'\\n'"), 10n);
  assert.equal(value("0xffffffffffffffff"), -1n, "64-bit values wrap to signed");
});

Deno.test("expr: GNU as precedence, 64-bit wrap-around, logical >>", () => {
  assert.equal(value("1 + 2 * 3"), 7n);
  assert.equal(value("1 + 2 & 3"), 3n, "& binds tighter than + in GNU as");
  assert.equal(value("(1 + 2) & 3"), 3n);
  assert.equal(value("2 * 3 + 1 << 2"), 10n, "<< binds like *");
  assert.equal(value("1 | 2 ^ 7"), 4n, "| and ^ share a level: (1 | 2) ^ 7");
  assert.equal(value("-7 / 2"), -3n);
  assert.equal(value("-7 % 2"), -1n);
  assert.equal(value("-5 >> 1"), 0x7fffffffffffffffn - 2n);
  assert.equal(value("~0"), -1n);
  assert.equal(value("!0 + !5"), 1n);
  assert.equal(value("0x7fffffffffffffff + 1"), -(2n ** 63n));
  assert.equal(value("1 << 64"), 0n);
});

Deno.test("expr: symbols, the location counter, local labels and operators", () => {
  assert.equal(value("end - start", { start: 0x100n, end: 0x140n }), 0x40n);
  assert.equal(value(". + 8"), 0x1008n);
  assert.equal(value("%double(3 + 4)"), 14n);
  const e = parseExpr("1b + 2f", 1, { localLabel: (label, dir) => `L${label}${dir}` });
  assert.equal(evaluate(e, scope({ L1b: 10n, L2f: 20n })), 30n);
  const tree = parseExpr("  a+1", 5);
  assert.deepEqual((tree as Extract<Expr, { kind: "binary" }>).left, {
    kind: "symbol",
    name: "a",
    col: 7,
  });
});

Deno.test("expr: errors carry the column of the problem", () => {
  const fails = (text: string, col: number, re: RegExp) =>
    assert.throws(() => evaluate(parseExpr(text, 1), scope()), (e) => {
      assert.ok(e instanceof ExprError);
      assert.match(e.message, re);
      assert.equal(e.column, col, e.message);
      return true;
    });
  fails("1 +", 4, /expected an expression but the operand ends here/);
  fails("(1", 3, /expected '\)' to close '\('/);
  fails("1 2", 3, /unexpected text after the expression: "2"/);
  fails("0x", 1, /"0x" is not a number/);
  fails("09", 1, /"09" is not a number/);
  fails("4 / 0", 3, /division by zero/);
  fails("1 @ 2", 3, /unexpected character '@'/);
  fails("nope + 1", 1, /undefined nope/);
  fails("1f", 1, /local label reference 1f is not allowed here/);
  fails("99999999999999999999", 1, /does not fit in 64 bits/);
});
