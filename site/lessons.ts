/**
 * Finding the chapters the site renders: every `lessons/NN-slug/README.md`, in lesson order,
 * titled from its first heading. The site reads the chapters where they are; nothing is copied.
 *
 * Uses node:fs so that it runs both inside Astro and in Deno's tests.
 *
 * @module
 */

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";

/** A lesson folder's name: two digits, a hyphen, a lower-case slug (lessons/README.md). */
export const LESSON_DIR_PATTERN: RegExp = /^(\d\d)-([a-z0-9]+(?:-[a-z0-9]+)*)$/;

/** One chapter on disk. */
export interface Chapter {
  /** The folder's name: `01-boot-serial`. */
  dir: string;
  /** The lesson's number, from the folder's name. */
  number: number;
  /** The chapter's title: its first `#` heading, without a leading number. */
  title: string;
  /** The chapter file's absolute path. */
  file: string;
  /** The chapter's page, relative to the site's base: `lessons/01-boot-serial`. */
  route: string;
}

/** The chapters under `lessonsDir`, by lesson number (then by folder name). */
export function listChapters(lessonsDir: string): Chapter[] {
  if (!existsSync(lessonsDir)) return [];
  return readdirSync(lessonsDir)
    .filter((name) => LESSON_DIR_PATTERN.test(name))
    .filter((name) => isFile(`${lessonsDir}/${name}/README.md`))
    .map((dir) => {
      const file = `${lessonsDir}/${dir}/README.md`;
      return {
        dir,
        number: Number(dir.slice(0, 2)),
        title: chapterTitle(readFileSync(file, "utf8")) ?? dir,
        file,
        route: `lessons/${dir}`,
      };
    })
    .sort((a, b) => a.number - b.number || a.dir.localeCompare(b.dir));
}

/**
 * The text of a chapter's first `#` heading, with inline code marks removed and without a
 * leading "01 ·" or "Lesson 1:" (the number comes from the folder).
 */
export function chapterTitle(markdown: string): string | undefined {
  const m = /^# +(.+?)\s*#*\s*$/m.exec(withoutFences(markdown));
  if (!m) return undefined;
  return m[1].replace(/`/g, "").replace(/^(Lesson\s+)?\d+\s*[:·.-]\s*/i, "").trim();
}

/**
 * The chapter without its title: the site shows the title above the page, so the chapter's
 * own `# Title` would appear twice. Only a title on the first non-blank line is blanked; the
 * line stays (empty), so that line numbers in build errors are the file's.
 */
export function withoutTitle(markdown: string): string {
  return markdown.replace(/^(\s*\n)?# [^\n]*/, "$1");
}

/** The text with every fenced code block blanked out (a `# comment` in a block is no title). */
function withoutFences(markdown: string): string {
  const lines = markdown.split("\n");
  let fence: string | undefined;
  return lines.map((line) => {
    const open = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence === undefined && open) {
      fence = open[1];
      return "";
    }
    if (fence !== undefined) {
      if (new RegExp(`^ {0,3}${fence[0]}{${fence.length},}\\s*$`).test(line)) fence = undefined;
      return "";
    }
    return line;
  }).join("\n");
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
