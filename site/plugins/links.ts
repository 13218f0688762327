/**
 * Links that work on GitHub and on the site. A chapter links the way GitHub reads it: relative
 * to the chapter's file (`../02-physical-memory/README.md#the-free-run-stack`,
 * `../../kernel/mm/pmm.ts`). At build time this rehype plugin rewrites each relative link:
 *
 * - to a chapter (its README.md or its folder): the chapter's page on the site, anchor kept;
 * - to any other file or folder of the repository: that file on GitHub (`blob`, or `tree` for
 *   a folder), from `REPOSITORY` in site/config.ts;
 * - to nothing: the build stops, naming the chapter's line and the path it looked for.
 *
 * Links with a scheme (`https:`, `mailto:`) and same-page anchors (`#step-1`) are kept.
 *
 * @module
 */

import { statSync } from "node:fs";
import { dirname, relative, resolve, sep } from "node:path";
// @ts-types="@types/hast"
import type { Element, Nodes } from "hast";
import { failAt, isLocalReference, type RenderedFile } from "./references.ts";
import { LESSON_DIR_PATTERN } from "../lessons.ts";

/** Where links may point, and how to spell them. */
export interface LinkOptions {
  /** The repository's root folder. */
  repoRoot: string;
  /** The site's base path, with leading and trailing slashes (`/`, `/course/`). */
  base: string;
  /** The repository on GitHub (`https://github.com/owner/name`) and its branch. */
  repository: { url: string; branch: string };
  /** Folder names (`01-boot-serial`) of the lessons that have a page. */
  chapters: ReadonlySet<string>;
}

/** What a link becomes: a new address, or the reason it cannot work. */
export type Rewrite = { href: string } | { error: string };

/** The rehype plugin. */
export function rehypeRewriteLinks(
  options: LinkOptions,
): (tree: Nodes, file: RenderedFile) => void {
  return (tree, file) => {
    if (!file.path) return;
    const from = file.path;
    eachLink(tree, (a) => {
      const href = a.properties.href;
      if (typeof href !== "string") return;
      const result = rewriteHref(href, from, options);
      if ("error" in result) failAt(file, a, `link ${href}: ${result.error}`);
      else a.properties.href = result.href;
    });
  };
}

function eachLink(node: Nodes, visit: (a: Element) => void): void {
  if (node.type === "element" && node.tagName === "a") visit(node);
  if ("children" in node) { for (const c of node.children) eachLink(c as Nodes, visit); }
}

/** Where `href`, written in the file `from`, points on the site. */
export function rewriteHref(href: string, from: string, options: LinkOptions): Rewrite {
  if (!isLocalReference(href)) return { href };
  const m = /^([^?#]*)(\?[^#]*)?(#.*)?$/.exec(href)!;
  const [, pathPart, query = "", hash = ""] = m;
  // GitHub reads a leading slash as the repository's root.
  const target = pathPart.startsWith("/")
    ? resolve(options.repoRoot, "." + decodeURIComponent(pathPart))
    : resolve(dirname(from), decodeURIComponent(pathPart));
  const repoPath = relative(options.repoRoot, target).split(sep).join("/");
  if (repoPath.startsWith("..") || repoPath === "") {
    if (repoPath === "") return { href: `${options.repository.url}${hash}` };
    return { error: `it leaves the repository (resolved to ${target})` };
  }

  const chapter = chapterOf(repoPath);
  if (chapter && options.chapters.has(chapter)) {
    return { href: `${options.base}lessons/${chapter}/${hash}` };
  }

  const kind = fileKind(target);
  if (kind === undefined) {
    return { error: `no such file or folder in the repository (looked for ${repoPath})` };
  }
  const { url, branch } = options.repository;
  const encoded = repoPath.split("/").map(encodeURIComponent).join("/");
  return { href: `${url}/${kind === "dir" ? "tree" : "blob"}/${branch}/${encoded}${query}${hash}` };
}

/** The lesson folder a repository path names as a chapter (`lessons/NN-slug[/README.md]`). */
function chapterOf(repoPath: string): string | undefined {
  const m = /^lessons\/([^/]+)(?:\/|\/README\.md)?$/.exec(repoPath);
  return m && LESSON_DIR_PATTERN.test(m[1]) ? m[1] : undefined;
}

function fileKind(path: string): "file" | "dir" | undefined {
  try {
    return statSync(path).isDirectory() ? "dir" : "file";
  } catch {
    return undefined;
  }
}
