import assert from "node:assert/strict";
import { ALERT_KINDS, remarkGithubAlerts } from "./alerts.ts";
import { parseMarkdown } from "./testing.ts";

const parse = (md: string) => parseMarkdown(md, [remarkGithubAlerts]);
const label = (title: string) => ({
  type: "paragraph",
  data: { directiveLabel: true },
  children: [{ type: "text", value: title }],
});

Deno.test("alerts: each of GitHub's five kinds becomes a Starlight aside with GitHub's title", async () => {
  const expected: Record<string, [string, string]> = {
    NOTE: ["note", "Note"],
    TIP: ["tip", "Tip"],
    IMPORTANT: ["note", "Important"],
    WARNING: ["caution", "Warning"],
    CAUTION: ["danger", "Caution"],
  };
  assert.deepEqual(Object.keys(ALERT_KINDS), Object.keys(expected));
  for (const [kind, [variant, title]] of Object.entries(expected)) {
    const tree = await parse(`> [!${kind}]\n> Budgets are *operations*.\n`);
    assert.deepEqual(tree.children, [{
      type: "containerDirective",
      name: variant,
      attributes: {},
      children: [label(title), {
        type: "paragraph",
        children: [
          { type: "text", value: "Budgets are " },
          { type: "emphasis", children: [{ type: "text", value: "operations" }] },
          { type: "text", value: "." },
        ],
      }],
    }], kind);
  }
});

Deno.test("alerts: later paragraphs, lists and code stay in the aside", async () => {
  const tree = await parse("> [!TIP]\n>\n> One.\n>\n> - two\n>\n> ```ts\n> three\n> ```\n");
  const aside = tree.children[0] as { type: string; children: { type: string }[] };
  assert.equal(aside.type, "containerDirective");
  assert.deepEqual(aside.children.map((c) => c.type), ["paragraph", "paragraph", "list", "code"]);
});

Deno.test("alerts: the marker in lower case, or followed by spaces, still counts", async () => {
  for (const md of ["> [!note]\n> x\n", "> [!Note]  \n> x\n"]) {
    assert.equal((await parse(md)).children[0].type, "containerDirective", md);
  }
});

Deno.test("alerts: ordinary block quotes are left alone", async () => {
  const quotes = [
    "> Just a quotation.\n",
    "> [!NOTE] text on the marker's line\n", // GitHub wants the marker alone on its line
    "> [!DANGER]\n> not one of GitHub's kinds\n",
    "> **[!NOTE]**\n> emphasised\n",
    "> \\[!NOTE\\] escaped, on purpose\n> x\n",
  ];
  for (const md of quotes) {
    assert.deepEqual(await parse(md), await parseMarkdown(md, []), md);
  }
});

Deno.test("alerts: alerts nested in lists are found", async () => {
  const tree = await parse("- item\n\n  > [!WARNING]\n  > careful\n");
  assert.match(JSON.stringify(tree), /"type":"containerDirective","name":"caution"/);
});
