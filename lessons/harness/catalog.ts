/**
 * Finding the lessons on disk (host side; uses Deno's file API): each `NN-slug` folder of
 * lessons/ with a lesson.ts, its number, and its title from the chapter's first heading.
 * Listing reads files only: it runs no lesson code.
 *
 * @module
 */

import { pathToFileURL } from "node:url";
import type { LessonLocation } from "./sandbox.ts";

/** A lesson folder. */
export interface LessonEntry extends LessonLocation {
  /** The folder's path. */
  path: string;
  /** The slug: `boot-serial` for `01-boot-serial`. */
  slug: string;
}

/** The lessons folder of this repository. */
export const LESSONS_ROOT: string = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** Lesson folders (`NN-slug` with a lesson.ts) under `root`, by number. */
export function listLessons(root: string): LessonEntry[] {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(root)];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return entries
    .filter((e) => e.isDirectory && /^\d\d-[a-z0-9-]+$/.test(e.name))
    .filter((e) => exists(`${root}/${e.name}/lesson.ts`))
    .map((e) => entry(root, e.name))
    .sort((a, b) => a.number - b.number || a.dir.localeCompare(b.dir));
}

/** The lesson `query` names: `1`, `01` or `01-boot-serial`. */
export function findLesson(root: string, query: string): LessonEntry | undefined {
  const lessons = listLessons(root);
  if (/^\d+$/.test(query)) return lessons.find((l) => l.number === Number(query));
  return lessons.find((l) => l.dir === query);
}

function entry(root: string, dir: string): LessonEntry {
  const path = `${root}/${dir}`;
  return {
    dir,
    path,
    number: Number(dir.slice(0, 2)),
    slug: dir.slice(3),
    title: chapterTitle(`${path}/README.md`) ?? dir,
    url: pathToFileURL(`${path}/lesson.ts`).href,
  };
}

/** The text of the first `# ` heading of a Markdown file, without a leading "NN ·" or "Lesson NN:". */
export function chapterTitle(readme: string): string | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(readme);
  } catch {
    return undefined;
  }
  const m = /^# (.+)$/m.exec(text);
  return m?.[1].replace(/^(Lesson\s+)?\d+\s*[:·.-]\s*/i, "").trim();
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
