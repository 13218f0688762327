import assert from "node:assert/strict";
import { builtPages, htmlText, uniqueTerm, words } from "./plan.ts";

Deno.test("site plan: builtPages lists every HTML page as the server addresses it", () => {
  const dist = Deno.makeTempDirSync({ prefix: "site-plan-" });
  for (const dir of ["lessons/01-a", "lessons/02-b", "_astro", "pagefind"]) {
    Deno.mkdirSync(`${dist}/${dir}`, { recursive: true });
  }
  for (
    const f of [
      "index.html",
      "404.html",
      "lessons/01-a/index.html",
      "lessons/02-b/index.html",
      "_astro/x.js",
    ]
  ) {
    Deno.writeTextFileSync(`${dist}/${f}`, "");
  }
  assert.deepEqual(builtPages(dist), ["", "404.html", "lessons/01-a/", "lessons/02-b/"]);
  Deno.removeSync(dist, { recursive: true });
});

Deno.test("site plan: words are runs of letters, lower case", () => {
  assert.deepEqual(words("LSR.THRE is set; 0x3F8 — Déjà vu"), [
    "lsr",
    "thre",
    "is",
    "set",
    "x",
    "f",
    "déjà",
    "vu",
  ]);
});

Deno.test("site plan: uniqueTerm picks a word only one chapter uses, stems included", () => {
  const chapters = [
    { route: "a/", text: "calibrated calibrated interrupt interrupt watchdog watchdog watchdog" },
    { route: "b/", text: "calibration interrupts frames frames freelist freelist" },
  ];
  // "calibrated" shares its stem with b's "calibration", "interrupt" is too short and shared;
  // a's best is "watchdog" (three uses), b's "freelist" (two).
  assert.deepEqual(uniqueTerm(chapters, []), { term: "watchdog", route: "a/" });
  // A word on another page (the landing page) does not count.
  assert.deepEqual(uniqueTerm(chapters, ["the watchdogs"]), { term: "freelist", route: "b/" });
  // Used once only: not enough.
  assert.equal(uniqueTerm([{ route: "a/", text: "singleton" }], []), undefined);
  assert.equal(uniqueTerm([], []), undefined);
});

Deno.test("site plan: htmlText drops tags, scripts, styles and entities", () => {
  assert.equal(
    htmlText("<p>a&amp;b<script>var x;</script><style>p{}</style><b>c</b></p>").replace(/\s+/g, " ")
      .trim(),
    "a b c",
  );
});
