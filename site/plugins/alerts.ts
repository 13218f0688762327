/**
 * GitHub's alert syntax (lessons/README.md, "Callouts") as Starlight asides:
 *
 * ```md
 * > [!NOTE]
 * > Budgets are counted in operations, not seconds.
 * ```
 *
 * becomes the container directive `:::note[Note]` that Starlight's own aside plugin renders,
 * so a chapter's callouts look like every other Starlight aside. GitHub's five kinds map onto
 * Starlight's four variants, keeping GitHub's names as the titles.
 *
 * @module
 */

// @ts-types="@types/mdast"
import type { Blockquote, Nodes, Paragraph, Parent, RootContent } from "mdast";

/** GitHub's alert kinds: the Starlight variant that renders each, and its title. */
export const ALERT_KINDS: Record<string, { variant: string; title: string }> = {
  NOTE: { variant: "note", title: "Note" },
  TIP: { variant: "tip", title: "Tip" },
  IMPORTANT: { variant: "note", title: "Important" },
  WARNING: { variant: "caution", title: "Warning" },
  CAUTION: { variant: "danger", title: "Caution" },
};

/** The remark plugin: every alert blockquote becomes a Starlight aside directive. */
export function remarkGithubAlerts(): (tree: Nodes) => void {
  return (tree) => walk(tree);
}

function walk(node: Nodes): void {
  if (!("children" in node)) return;
  const parent = node as Parent;
  parent.children = parent.children.map((child: RootContent) =>
    child.type === "blockquote" ? toAside(child) ?? child : child
  );
  for (const child of parent.children) walk(child as Nodes);
}

/** The aside for an alert blockquote, or undefined when the blockquote is no alert. */
function toAside(quote: Blockquote): RootContent | undefined {
  const first = quote.children[0];
  if (first?.type !== "paragraph") return undefined;
  const head = first.children[0];
  if (head?.type !== "text") return undefined;
  // GitHub: the marker alone on the blockquote's first line, in any case.
  const m = /^\[!([A-Za-z]+)\][ \t]*(?:\n|$)/.exec(head.value);
  const kind = m && ALERT_KINDS[m[1].toUpperCase()];
  if (!m || !kind) return undefined;

  const rest = head.value.slice(m[0].length);
  const body: Paragraph = { ...first, children: [...first.children] };
  if (rest === "") body.children.shift();
  else body.children[0] = { ...head, value: rest };
  // A soft break left at the start of the body by the marker's line.
  while (body.children[0]?.type === "break") body.children.shift();

  const label: Paragraph = {
    type: "paragraph",
    data: { directiveLabel: true } as Paragraph["data"],
    children: [{ type: "text", value: kind.title }],
  };
  const children = [label, ...(body.children.length ? [body] : []), ...quote.children.slice(1)];
  // The node remark-directive makes of `:::note[Title]`; mdast's types do not list it.
  return {
    type: "containerDirective",
    name: kind.variant,
    attributes: {},
    children,
    position: quote.position,
  } as unknown as RootContent;
}
