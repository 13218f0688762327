/**
 * Every lesson, checked as a whole: its graded cases can fail (the untouched starter fails
 * every one of them), they are right (the reference passes every one), and its chapter
 * keeps the format of lessons/README.md (every case's anchor exists, every figure exists,
 * the architecture tabs are well formed).
 */

import assert from "node:assert/strict";
import { LESSONS_ROOT, listLessons } from "../lessons/harness/catalog.ts";
import { caseArches, type Lesson } from "../lessons/harness/define.ts";
import { loadImplementations } from "../lessons/harness/load.ts";
import { archGroups, headingAnchors } from "../lessons/harness/markdown.ts";
import { runLesson } from "../lessons/harness/run.ts";

const lessons = listLessons(LESSONS_ROOT);

Deno.test("lessons: the lessons exist, numbered like their folders", async () => {
  assert.ok(lessons.length >= 2, `found ${lessons.map((l) => l.dir).join(", ")}`);
  for (const entry of lessons) {
    const lesson: Lesson<unknown> = (await import(entry.url)).default;
    assert.equal(lesson.number, entry.number, `${entry.dir}: lesson.ts says ${lesson.number}`);
    assert.equal(lesson.title, entry.title, `${entry.dir}: the chapter's title and lesson.ts's`);
  }
});

for (const entry of lessons) {
  Deno.test(`lessons: ${entry.dir}`, async (t) => {
    const lesson: Lesson<unknown> = (await import(entry.url)).default;
    const readme = Deno.readTextFileSync(`${entry.path}/README.md`);
    const options = { seed: 1, arches: ["x86_64", "riscv64"] as const };

    await t.step("at least ten cases across both architectures", () => {
      const units = lesson.cases.reduce((n, c) => n + caseArches(c).length, 0);
      assert.ok(units >= 10, `${units} case runs`);
      for (const a of ["x86_64", "riscv64"] as const) {
        assert.ok(lesson.maxPoints[a] > 0, `no case runs on ${a}`);
      }
    });

    await t.step("every case links to a section of the chapter", () => {
      const anchors = new Set(headingAnchors(readme));
      for (const c of lesson.cases) {
        assert.ok(
          anchors.has(c.anchor),
          `case "${c.name}": no heading has the anchor #${c.anchor}`,
        );
      }
    });

    await t.step("every figure exists; the architecture tabs are well formed", () => {
      for (const m of readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)) {
        const path = `${entry.path}/${m[1]}`;
        assert.ok(Deno.statSync(path).isFile, `${m[1]} is missing`);
        if (m[1].endsWith(".svg")) {
          const svg = Deno.readTextFileSync(path);
          assert.match(svg, /viewBox=/, `${m[1]} has no viewBox`);
          assert.match(svg, /currentColor/, `${m[1]} does not draw with currentColor`);
          assert.doesNotMatch(
            svg,
            /(fill|stroke)="(#000|#000000|black|#fff|#ffffff|white)"/i,
            m[1],
          );
        }
      }
      assert.deepEqual(archGroups(readme).problems, []);
    });

    await t.step("the untouched starter fails every graded case", async () => {
      const loaded = await loadImplementations(lesson, entry.url, "exercise");
      assert.ok(!("failure" in loaded), JSON.stringify(loaded));
      const results = runLesson(lesson, loaded.impls, { which: "exercise", ...options });
      const passed = results.filter((r) => r.passed).map((r) => `${r.name} [${r.arch}]`);
      assert.deepEqual(passed, [], "the starter passes these");
      for (const r of results) {
        assert.match(
          r.failure!.message,
          /not implemented yet: see README\.md#/,
          `${r.name} [${r.arch}] fails for another reason than the starter's message`,
        );
      }
    });

    await t.step("the reference passes every graded case", async () => {
      const loaded = await loadImplementations(lesson, entry.url, "reference");
      assert.ok(!("failure" in loaded));
      const results = runLesson(lesson, loaded.impls, { which: "reference", ...options });
      const failed = results.filter((r) => !r.passed).map((r) =>
        `${r.name} [${r.arch}]: ${r.failure?.message}`
      );
      assert.deepEqual(failed, []);
    });

    await t.step("the starter's messages point at sections of the chapter", () => {
      const anchors = new Set(headingAnchors(readme));
      for (const f of Deno.readDirSync(`${entry.path}/exercise`)) {
        const text = Deno.readTextFileSync(`${entry.path}/exercise/${f.name}`);
        for (const m of text.matchAll(/README\.md#([a-z0-9-]+)/g)) {
          assert.ok(
            anchors.has(m[1]),
            `exercise/${f.name} points at #${m[1]}, which is not a heading`,
          );
        }
      }
    });
  });
}
