/**
 * What the site test looks at, chosen from the chapters and the build at test time, so that
 * the test keeps working as lessons are added: the built pages, a search term only one
 * chapter uses, and pages with tabs and figures.
 *
 * @module
 */

import { join, relative } from "node:path";

/** Where Debian installs Chromium (`apt-get install chromium`). */
export const CHROMIUM = "/usr/bin/chromium";

/** Every HTML page of a built site, as paths relative to its base (`""`, `lessons/x/`). */
export function builtPages(dist: string): string[] {
  const pages: string[] = [];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const path = join(dir, e.name);
      if (e.isDirectory) walk(path);
      else if (e.name === "index.html") {
        pages.push(relative(dist, dir) ? `${relative(dist, dir)}/` : "");
      } else if (e.name.endsWith(".html")) pages.push(relative(dist, path));
    }
  };
  walk(dist);
  return pages.sort();
}

/** The words of a text, lower case: runs of letters (`LSR.THRE` gives `lsr` and `thre`). */
export function words(text: string): string[] {
  return text.toLowerCase().match(/\p{L}+/gu) ?? [];
}

/**
 * A word that only one chapter uses, for a search that must find that chapter alone: at least
 * eight letters, used at least twice in its chapter, and sharing no six-letter beginning with
 * a word of any other chapter or page (Pagefind stems words, so "calibrated" also finds
 * "calibration"). The most used such word, then the first in alphabetical order; undefined
 * when no chapter has one.
 */
export function uniqueTerm(
  chapters: { route: string; text: string }[],
  otherTexts: string[],
): { term: string; route: string } | undefined {
  const stems = (text: string) => new Set(words(text).map((w) => w.slice(0, 6)));
  const chapterStems = chapters.map((c) => stems(c.text));
  const otherStems = otherTexts.map(stems);
  let best: { term: string; route: string; count: number } | undefined;
  chapters.forEach((chapter, i) => {
    const counts = new Map<string, number>();
    for (const w of words(chapter.text)) if (w.length >= 8) counts.set(w, (counts.get(w) ?? 0) + 1);
    for (const [term, count] of counts) {
      if (count < 2) continue;
      const stem = term.slice(0, 6);
      const elsewhere = chapterStems.some((s, j) => j !== i && s.has(stem)) ||
        otherStems.some((s) => s.has(stem));
      if (elsewhere) continue;
      if (!best || count > best.count || (count === best.count && term < best.term)) {
        best = { term, route: chapter.route, count };
      }
    }
  });
  return best && { term: best.term, route: best.route };
}

/** The text of an HTML document, without its tags, scripts and styles. */
export function htmlText(html: string): string {
  return html
    .replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/&[a-z#0-9]+;/gi, " ");
}
