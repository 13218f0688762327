/**
 * Architecture tabs (lessons/README.md, "Architecture tabs"): a run of two or more fenced code
 * blocks tagged `x86_64` or `riscv64` (info string `LANG ARCH`), separated by nothing but blank
 * lines, is shown as one group of tabs; a lone tagged block is an ordinary code block captioned
 * with its architecture.
 *
 * Two halves, because Markdown is plain HTML by the time a component sees it:
 *
 * - `remarkArchTabs` (at Markdown time) wraps each group in HTML comments that name the tabs;
 * - `splitArchTabs` (in the page's MarkdownContent component) cuts the rendered HTML at those
 *   comments, so that Starlight's own `<Tabs syncKey="arch">` renders each group: the same
 *   markup, styles and script as Tabs written in MDX, and the reader's choice shared by every
 *   group on the site through localStorage.
 *
 * Where the comments are not cut (any other renderer), the blocks simply follow one another,
 * as they do on GitHub.
 *
 * @module
 */

// @ts-types="@types/mdast"
import type { Code, Html, Nodes, Parent, RootContent } from "mdast";

/** The architectures a block may be tagged with, as the chapters spell them. */
export const ARCHES = ["x86_64", "riscv64"] as const;

/** An architecture name. */
export type Arch = typeof ARCHES[number];

/** The key Starlight's Tabs share the reader's choice under (`starlight-synced-tabs__arch`). */
export const ARCH_SYNC_KEY = "arch";

/** The architecture shown until the reader chooses one (lessons/README.md). */
export const DEFAULT_ARCH: Arch = "x86_64";

const GROUP_OPEN = "<!--arch-tabs-->";
const GROUP_CLOSE = "<!--/arch-tabs-->";
const tabMarker = (arch: Arch) => `<!--arch-tab:${arch}-->`;

/** The architecture a code block is tagged with (`ts x86_64`), if it is tagged. */
export function blockArch(node: Code): Arch | undefined {
  if (!node.lang) return undefined;
  const meta = (node.meta ?? "").trim();
  return (ARCHES as readonly string[]).includes(meta) ? meta as Arch : undefined;
}

/** The remark plugin: marks tab groups and captions lone tagged blocks, in every container. */
export function remarkArchTabs(): (tree: Nodes) => void {
  return (tree) => visitParents(tree);
}

function visitParents(node: Nodes): void {
  if (!("children" in node)) return;
  const parent = node as Parent;
  parent.children = markGroups(parent.children);
  for (const child of parent.children) visitParents(child as Nodes);
}

/** The children with every run of tagged blocks replaced by its marked-up group. */
function markGroups(children: RootContent[]): RootContent[] {
  const out: RootContent[] = [];
  let run: { node: Code; arch: Arch }[] = [];
  const flush = () => {
    if (run.length === 1) {
      // A lone tagged block: an ordinary block with its architecture as the frame's title.
      run[0].node.meta = `title="${run[0].arch}"`;
      out.push(run[0].node);
    } else if (run.length > 1) {
      out.push(html(GROUP_OPEN));
      for (const { node, arch } of run) {
        node.meta = null;
        out.push(html(tabMarker(arch)), node);
      }
      out.push(html(GROUP_CLOSE));
    }
    run = [];
  };
  for (const child of children) {
    const arch = child.type === "code" ? blockArch(child) : undefined;
    if (arch === undefined) {
      flush();
      out.push(child);
      continue;
    }
    // Each architecture appears once in a group: a repeat starts the next group.
    if (run.some((b) => b.arch === arch)) flush();
    run.push({ node: child as Code, arch });
  }
  flush();
  return out;
}

function html(value: string): Html {
  return { type: "html", value };
}

/** A piece of a page's rendered HTML: plain HTML, or one group of architecture tabs. */
export type Segment =
  | { kind: "html"; html: string }
  | { kind: "tabs"; tabs: { label: Arch; html: string }[] };

/**
 * Cuts rendered HTML at the groups `remarkArchTabs` marked. Code inside a block is escaped
 * (`&#x3C;!--`), so only the markers themselves can match.
 */
export function splitArchTabs(html: string): Segment[] {
  const segments: Segment[] = [];
  const group = /<!--arch-tabs-->([\s\S]*?)<!--\/arch-tabs-->/g;
  let last = 0;
  for (const m of html.matchAll(group)) {
    if (m.index > last) segments.push({ kind: "html", html: html.slice(last, m.index) });
    const parts = m[1].split(/<!--arch-tab:(x86_64|riscv64)-->/);
    const tabs: { label: Arch; html: string }[] = [];
    for (let i = 1; i < parts.length; i += 2) {
      tabs.push({ label: parts[i] as Arch, html: parts[i + 1].trim() });
    }
    segments.push({ kind: "tabs", tabs });
    last = m.index + m[0].length;
  }
  if (last < html.length) segments.push({ kind: "html", html: html.slice(last) });
  return segments;
}
