import assert from "node:assert/strict";
import { listLessons } from "./lesson.ts";

Deno.test("lesson: lists NN-slug folders in order and ignores everything else", () => {
  const dir = Deno.makeTempDirSync();
  for (const d of ["02-physical-memory", "01-boot", "notes", "1-bad"]) {
    Deno.mkdirSync(`${dir}/${d}`);
  }
  Deno.writeTextFileSync(`${dir}/03-paging`, "a file, not a lesson");
  assert.deepEqual(listLessons(dir), ["01-boot", "02-physical-memory"]);
  assert.deepEqual(listLessons(`${dir}/missing`), []);
  Deno.removeSync(dir, { recursive: true });
});
