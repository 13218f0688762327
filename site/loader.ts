/**
 * The content loader of Starlight's `docs` collection: one entry per chapter, read from
 * `lessons/NN-slug/README.md` where it lives (single source: nothing is copied into site/).
 *
 * The chapters are plain Markdown with no frontmatter, so the loader supplies what Starlight's
 * schema wants: the title (the chapter's first heading, which is then removed from the body so
 * that it is not shown twice) and the sidebar's order and label (the lesson's number, from the
 * folder). The body is rendered by the site's Markdown pipeline (astro.config.ts), with the
 * chapter's own path, so that figures and links resolve beside it.
 *
 * In `deno task site:dev` the loader watches lessons/ and reloads when a chapter or a figure
 * changes.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { pathToFileURL } from "node:url";
import type { Loader } from "astro/loaders";
import { type Chapter, listChapters, withoutTitle } from "./lessons.ts";

/** The sidebar's label for a chapter: its number, two digits, and its title. */
export function sidebarLabel(chapter: Pick<Chapter, "number" | "title">): string {
  return `${String(chapter.number).padStart(2, "0")} · ${chapter.title}`;
}

/** Loads every chapter under `lessonsDir` into the collection. */
export function lessonsLoader(lessonsDir: string): Loader {
  return {
    name: "course-lessons",
    async load({ config, store, parseData, renderMarkdown, generateDigest, watcher, logger }) {
      const root = new URL(config.root).pathname;
      const sync = async () => {
        const chapters = listChapters(lessonsDir);
        store.clear();
        for (const chapter of chapters) {
          const text = readFileSync(chapter.file, "utf8");
          const body = withoutTitle(text);
          const data = await parseData({
            id: chapter.route,
            data: {
              title: chapter.title,
              sidebar: { order: chapter.number, label: sidebarLabel(chapter) },
            },
            filePath: chapter.file,
          });
          const rendered = await renderMarkdown(body, { fileURL: pathToFileURL(chapter.file) });
          store.set({
            id: chapter.route,
            data,
            body,
            rendered,
            digest: generateDigest(text),
            filePath: relative(root, chapter.file),
          });
        }
        logger.info(`${chapters.length} chapters from ${lessonsDir}`);
      };
      await sync();

      if (!watcher) return;
      watcher.add(lessonsDir);
      const onChange = async (path: string) => {
        if (!path.startsWith(lessonsDir) || !/(README\.md|\.svg)$/.test(path)) return;
        try {
          await sync();
        } catch (e) {
          logger.error(`reloading the chapters: ${(e as Error).message}`);
        }
      };
      for (const event of ["add", "change", "unlink"] as const) watcher.on(event, onChange);
    },
  };
}
