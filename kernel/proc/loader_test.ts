import assert from "node:assert/strict";
import { parseProgramSpec } from "./loader.ts";

Deno.test("loader: a module's name carries its scheduling parameters", () => {
  assert.deepEqual(parseProgramSpec("shell"), {
    name: "shell",
    schedClass: "normal",
    priority: 128,
    arg: 0n,
  });
  assert.deepEqual(parseProgramSpec("rt?class=realtime&priority=3&arg=-5"), {
    name: "rt",
    schedClass: "realtime",
    priority: 3,
    arg: -5n,
  });
  assert.throws(() => parseProgramSpec("x?priority=255"), /bad parameter "priority=255"/);
  assert.throws(() => parseProgramSpec("x?colour=blue"), /bad parameter/);
});
