/**
 * Inline SVG figures. A chapter shows a figure with ordinary image syntax
 * (`![The free-run stack](figures/free-run-stack.svg)`), and the figure draws with
 * `currentColor` (lessons/README.md, "Figures"). An SVG behind an `<img>` is a separate
 * document that does not inherit the page's colour, so this rehype plugin puts the SVG's own
 * elements into the page instead: `currentColor` is then the text colour, and follows
 * Starlight's light and dark themes.
 *
 * While inlining it makes the SVG safe to share a page: scripts and event handlers are dropped,
 * and every `id` (with the `url(#id)` and `#id` references to it) gets a prefix unique on the
 * page, so two figures cannot capture each other's markers or gradients.
 *
 * A local image that is not an SVG, or a figure that is missing or is no SVG, stops the build
 * with the chapter's line and what to check.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fromHtml } from "hast-util-from-html";
// @ts-types="@types/hast"
import type { Element, ElementContent, Nodes, Properties } from "hast";
import { failAt, isLocalReference, type RenderedFile } from "./references.ts";

/** The class every inlined figure's `<svg>` carries (site/src/styles/course.css sizes it). */
export const FIGURE_CLASS = "course-figure";

/** The rehype plugin. */
export function rehypeInlineFigures(): (tree: Nodes, file: RenderedFile) => void {
  return (tree, file) => {
    let count = 0;
    replaceImages(tree, (img) => {
      const src = String(img.properties.src ?? "");
      if (!isLocalReference(src) || !file.path) return undefined;
      const target = resolve(dirname(file.path), decodeURIComponent(src.split(/[?#]/)[0]));
      const shown = relative(dirname(file.path), target);
      if (!target.endsWith(".svg")) {
        return failAt(
          file,
          img,
          `image ${src}: the site inlines SVG figures only (lessons/README.md, "Figures"); ` +
            `draw it as an SVG with currentColor, or link to it instead`,
        );
      }
      const text = readText(target);
      if (text === undefined) {
        return failAt(
          file,
          img,
          `figure ${src}: no such file (looked for ${shown} beside the chapter)`,
        );
      }
      try {
        return inlineSvg(text, {
          alt: String(img.properties.alt ?? ""),
          idPrefix: `fig${++count}-`,
        });
      } catch (e) {
        return failAt(file, img, `figure ${src}: ${(e as Error).message}`);
      }
    });
  };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Replaces every `<img>` for which `replace` returns an element. */
function replaceImages(node: Nodes, replace: (img: Element) => Element | undefined): void {
  if (!("children" in node)) return;
  node.children.forEach((child: Nodes, i: number) => {
    if (child.type === "element" && child.tagName === "img") {
      const svg = replace(child);
      if (svg) node.children[i] = svg;
    } else replaceImages(child as Nodes, replace);
  });
}

/**
 * The `<svg>` element of an SVG document, ready to sit in a page: labelled with `alt`, its
 * ids prefixed with `idPrefix`, without scripts or event handlers. Throws when the text holds
 * no `<svg>` element.
 */
export function inlineSvg(text: string, options: { alt: string; idPrefix: string }): Element {
  const tree = fromHtml(text, { fragment: true });
  const svg = tree.children.find((c): c is Element => c.type === "element" && c.tagName === "svg");
  if (!svg) throw new Error("the file holds no <svg> element");
  const ids = new Set<string>();
  collectIds(svg, ids);
  sanitize(svg, ids, options.idPrefix);
  const classes = Array.isArray(svg.properties.className) ? svg.properties.className : [];
  svg.properties.className = [...classes, FIGURE_CLASS];
  svg.properties.role = "img";
  if (options.alt) svg.properties.ariaLabel = options.alt;
  return svg;
}

function collectIds(el: Element, ids: Set<string>): void {
  if (typeof el.properties.id === "string") ids.add(el.properties.id);
  for (const c of el.children) if (c.type === "element") collectIds(c, ids);
}

/** Drops scripts and `on*` handlers; prefixes ids and the references to them. */
function sanitize(el: Element, ids: Set<string>, prefix: string): void {
  const props: Properties = {};
  for (const [name, value] of Object.entries(el.properties)) {
    if (/^on/i.test(name)) continue;
    props[name] = renameRefs(name, value, ids, prefix);
  }
  el.properties = props;
  el.children = el.children.filter((c: ElementContent) =>
    !(c.type === "element" && c.tagName === "script")
  );
  for (const c of el.children) if (c.type === "element") sanitize(c, ids, prefix);
}

function renameRefs(name: string, value: Properties[string], ids: Set<string>, prefix: string) {
  if (typeof value !== "string") return value;
  if (name === "id" && ids.has(value)) return prefix + value;
  if (
    (name === "href" || name === "xLinkHref") && value.startsWith("#") && ids.has(value.slice(1))
  ) {
    return `#${prefix}${value.slice(1)}`;
  }
  return value.replace(
    /url\(\s*#([^)\s]+)\s*\)/g,
    (all, id) => ids.has(id) ? `url(#${prefix}${id})` : all,
  );
}
