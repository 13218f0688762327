/**
 * Rendering Markdown for the plugins' tests through the pipeline the site uses (Astro's
 * unified processor: remark-parse, GFM, remark-rehype, rehype-raw), without syntax
 * highlighting, so that a test sees what the plugin under test made of real parsed Markdown.
 *
 * @module
 */

import {
  createMarkdownProcessor,
  type RehypePlugins,
  type RemarkPlugins,
} from "@astrojs/markdown-remark";
import { pathToFileURL } from "node:url";
// @ts-types="@types/mdast"
import type { Root } from "mdast";

/** What to render with. */
export interface RenderOptions {
  /** The Markdown file's path (figures and links resolve beside it). */
  path?: string;
  /** remark plugins, in order. */
  remarkPlugins?: RemarkPlugins;
  /** rehype plugins, in order. */
  rehypePlugins?: RehypePlugins;
}

/** The HTML the pipeline makes of `markdown`. */
export async function renderMarkdown(
  markdown: string,
  options: RenderOptions = {},
): Promise<string> {
  const processor = await createMarkdownProcessor({
    syntaxHighlight: false,
    remarkPlugins: options.remarkPlugins ?? [],
    rehypePlugins: options.rehypePlugins ?? [],
  });
  const fileURL = options.path ? pathToFileURL(options.path) : undefined;
  return (await processor.render(markdown, { fileURL })).code;
}

/** The Markdown tree after `remarkPlugins` ran over it. */
export async function parseMarkdown(markdown: string, remarkPlugins: RemarkPlugins): Promise<Root> {
  let captured: Root | undefined;
  const capture = () => (tree: Root) => {
    captured = structuredClone(tree);
  };
  await renderMarkdown(markdown, { remarkPlugins: [...remarkPlugins, capture] });
  return stripPositions(captured!);
}

/** The tree without `position` fields, so tests can compare shapes. */
function stripPositions<T>(node: T): T {
  if (Array.isArray(node)) return node.map(stripPositions) as T;
  if (node && typeof node === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) if (k !== "position") out[k] = stripPositions(v);
    return out as T;
  }
  return node;
}
