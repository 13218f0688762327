/**
 * `deno task lesson [NN]`: grades a lesson. The grading harness and the lessons arrive
 * with the lessons issue; until then this lists what exists under lessons/ and says
 * plainly that nothing can be graded yet.
 *
 * @module
 */

/** Lesson folders (`NN-slug`) under `dir`, sorted by number. */
export function listLessons(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)]
      .filter((e) => e.isDirectory && /^\d\d-/.test(e.name))
      .map((e) => e.name)
      .sort();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

if (import.meta.main) {
  const lessons = listLessons("lessons");
  if (lessons.length === 0) {
    console.error(
      "lesson: there are no lessons yet; the grading harness and lessons 01 to 04 come next.\n" +
        "Meanwhile `deno task boot` boots the machine and `deno task exec FILE.elf` runs a program.",
    );
  } else {
    for (const l of lessons) console.log(l);
  }
  Deno.exit(Deno.args.length > 0 ? 1 : 0);
}
