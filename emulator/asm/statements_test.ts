import assert from "node:assert/strict";
import { splitStatements, StatementError } from "./statements.ts";

Deno.test("statements: labels, operation, operands with columns", () => {
  const [s] = splitStatements("  loop: 1: addi a0, a0, -1  # count down");
  assert.equal(s.line, 1);
  assert.deepEqual(s.labels, [{ text: "loop", col: 3 }, { text: "1", col: 9 }]);
  assert.deepEqual(s.op, { text: "addi", col: 12 });
  assert.deepEqual(s.operands.map((o) => [o.text, o.col]), [["a0", 17], ["a0", 21], ["-1", 25]]);
});

Deno.test("statements: comments, separators, strings and parentheses", () => {
  const all = splitStatements([
    'msg: .ascii "a # not a comment, nor ; a separator", "x" // comment',
    "li a0, ','; li a1, '#' /* block",
    " still a comment */ ld a2, %lo(x + 1)(sp)",
    "N = 4 * 2",
    "label_only:",
    "",
  ].join("\n"));
  assert.deepEqual(
    all.map((s) => [s.line, s.op?.text ?? s.assign?.text, s.operands.map((o) => o.text)]),
    [
      [1, ".ascii", ['"a # not a comment, nor ; a separator"', '"x"']],
      [2, "li", ["a0", "','"]],
      [2, "li", ["a1", "'#'"]],
      [3, "ld", ["a2", "%lo(x + 1)(sp)"]],
      [4, "N", ["4 * 2"]],
      [5, undefined, []],
    ],
  );
  assert.ok(all[4].assign);
  assert.equal(all[4].operands[0].col, 5);
});

Deno.test("statements: an unterminated string or block comment is an error with its place", () => {
  assert.throws(
    () => splitStatements('nop\n.ascii "open'),
    (e) => e instanceof StatementError && e.line === 2,
  );
  assert.throws(
    () => splitStatements("nop /*\nnop\n"),
    (e) => e instanceof StatementError && e.line === 1 && e.column === 5,
  );
});
