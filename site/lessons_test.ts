import assert from "node:assert/strict";
import { chapterTitle, listChapters, withoutTitle } from "./lessons.ts";
import { sidebarLabel } from "./loader.ts";

function lessonsDir(chapters: Record<string, string | null>): string {
  const root = Deno.makeTempDirSync({ prefix: "site-lessons-" });
  for (const [dir, readme] of Object.entries(chapters)) {
    Deno.mkdirSync(`${root}/${dir}`, { recursive: true });
    if (readme !== null) Deno.writeTextFileSync(`${root}/${dir}/README.md`, readme);
  }
  return root;
}

Deno.test("lessons: chapters are found by folder name (NN-slug with a README.md), by number", () => {
  const root = lessonsDir({
    "10-smp": "# SMP\n",
    "02-physical-memory": "# Physical memory\n",
    "01-boot-serial": "# Boot and the serial console\n",
    "03-paging": null, // a folder without its chapter yet
    harness: "# Not a lesson\n",
    "4-heap": "# One digit\n",
    "05_traps": "# Underscore\n",
    "06-Timers": "# Upper case\n",
  });
  Deno.writeTextFileSync(`${root}/README.md`, "# The lesson format\n");
  const chapters = listChapters(root);
  assert.deepEqual(chapters.map((c) => [c.number, c.dir, c.title, c.route]), [
    [1, "01-boot-serial", "Boot and the serial console", "lessons/01-boot-serial"],
    [2, "02-physical-memory", "Physical memory", "lessons/02-physical-memory"],
    [10, "10-smp", "SMP", "lessons/10-smp"],
  ]);
  assert.equal(chapters[0].file, `${root}/01-boot-serial/README.md`);
  Deno.removeSync(root, { recursive: true });
});

Deno.test("lessons: no lessons folder, no chapters", () => {
  assert.deepEqual(listChapters("/nonexistent/lessons"), []);
});

Deno.test("lessons: the title is the first # heading, without a number or code marks", () => {
  assert.equal(
    chapterTitle("# Boot and the serial console\n\nText."),
    "Boot and the serial console",
  );
  assert.equal(chapterTitle("# Lesson 3: Paging\n"), "Paging");
  assert.equal(chapterTitle("# 04 · The kernel heap\n"), "The kernel heap");
  assert.equal(chapterTitle("# The `satp` register #\n"), "The satp register");
  assert.equal(chapterTitle("Intro.\n\n## Section\n\n# Late title\n"), "Late title");
  assert.equal(chapterTitle("```sh\n# a shell comment\n```\n\n# Real\n"), "Real");
  assert.equal(chapterTitle("## Only sections\n"), undefined);
  // A folder whose chapter has no title is listed under its folder's name.
  const root = lessonsDir({ "07-user-mode": "No heading yet.\n" });
  assert.equal(listChapters(root)[0].title, "07-user-mode");
  Deno.removeSync(root, { recursive: true });
});

Deno.test("lessons: withoutTitle blanks the title line and keeps every other line where it was", () => {
  assert.equal(withoutTitle("# Title\n\nText.\n## A\n"), "\n\nText.\n## A\n");
  assert.equal(withoutTitle("\n# Title\nText.\n"), "\n\nText.\n");
  // A heading that is not the first thing stays: it is part of the chapter.
  assert.equal(withoutTitle("Text.\n# Title\n"), "Text.\n# Title\n");
  assert.equal(withoutTitle("## Section\n"), "## Section\n");
  const text = "# T\nline 2\nline 3\n";
  assert.equal(withoutTitle(text).split("\n").length, text.split("\n").length);
});

Deno.test("lessons: the sidebar labels a chapter with its number in two digits", () => {
  assert.equal(sidebarLabel({ number: 1, title: "Boot" }), "01 · Boot");
  assert.equal(sidebarLabel({ number: 17, title: "A file system" }), "17 · A file system");
});
