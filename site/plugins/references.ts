/**
 * What the rehype plugins share about a chapter's references: which ones are local to the
 * repository, and how to stop the build at one that cannot work.
 *
 * @module
 */

// @ts-types="@types/hast"
import type { Nodes } from "hast";

/** What a plugin needs of the file being rendered (a VFile). */
export interface RenderedFile {
  /** The chapter's absolute path. */
  path?: string;
  /** Stops the build with a message that names the file and the node's position. */
  fail(reason: string, place?: unknown): never;
}

/**
 * Stops the build at `node` of `file`. The message names the chapter's line itself: Astro
 * prints the message and the file, not the position.
 */
export function failAt(file: RenderedFile, node: Nodes, reason: string): never {
  const line = node.position?.start.line;
  return file.fail(line ? `line ${line}: ${reason}` : reason, node);
}

/** Whether an image or link reference is local to the repository (no scheme, no `//`). */
export function isLocalReference(url: string): boolean {
  return url !== "" && !/^[a-z][a-z0-9+.-]*:/i.test(url) && !url.startsWith("//") &&
    !url.startsWith("#");
}
