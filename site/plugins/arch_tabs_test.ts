import assert from "node:assert/strict";
// @ts-types="@types/mdast"
import type { Code, RootContent } from "mdast";
import { remarkArchTabs, splitArchTabs } from "./arch_tabs.ts";
import { parseMarkdown, renderMarkdown } from "./testing.ts";

const render = (md: string) => renderMarkdown(md, { remarkPlugins: [remarkArchTabs] });
const fence = (info: string, code: string) => "```" + info + "\n" + code + "\n```\n";

Deno.test("arch tabs: two tagged blocks in a row are one group, tabs in the order written", async () => {
  for (const order of [["x86_64", "riscv64"], ["riscv64", "x86_64"]]) {
    const md = `On each board:\n\n${fence(`ts ${order[0]}`, "one()")}\n${
      fence(`ts ${order[1]}`, "two()")
    }`;
    const segments = splitArchTabs(await render(md));
    assert.equal(segments.length, 2, JSON.stringify(segments));
    assert.match((segments[0] as { html: string }).html, /On each board/);
    const group = segments[1];
    assert.equal(group.kind, "tabs");
    if (group.kind !== "tabs") return;
    assert.deepEqual(group.tabs.map((t) => t.label), order);
    assert.match(group.tabs[0].html, /^<pre><code class="language-ts">one\(\)/);
    assert.match(group.tabs[1].html, /two\(\)/);
  }
});

Deno.test("arch tabs: the tag is removed from a grouped block and kept as a lone block's title", async () => {
  const md = fence("ts x86_64", "a") + "\n" + fence("sh riscv64", "b") + "\nProse.\n\n" +
    fence("text riscv64", "c");
  const tree = await parseMarkdown(md, [remarkArchTabs]);
  const codes = tree.children.filter((n): n is Code => n.type === "code");
  assert.deepEqual(codes.map((c) => [c.lang, c.meta]), [
    ["ts", null],
    ["sh", null],
    ["text", 'title="riscv64"'],
  ]);
  const markers = tree.children.filter((n) => n.type === "html").map((n) =>
    (n as { value: string }).value
  );
  assert.deepEqual(markers, [
    "<!--arch-tabs-->",
    "<!--arch-tab:x86_64-->",
    "<!--arch-tab:riscv64-->",
    "<!--/arch-tabs-->",
  ]);
});

Deno.test("arch tabs: anything but blank lines between two blocks separates them", async () => {
  const cases = [
    fence("ts x86_64", "a") + "Between.\n\n" + fence("ts riscv64", "b"),
    fence("ts x86_64", "a") + "\n" + fence("ts", "plain") + "\n" + fence("ts riscv64", "b"),
    fence("ts x86_64", "a") + "\n<!-- a comment -->\n\n" + fence("ts riscv64", "b"),
  ];
  for (const md of cases) {
    const html = await render(md);
    assert.doesNotMatch(html, /arch-tabs/, md);
    assert.equal(splitArchTabs(html).filter((s) => s.kind === "tabs").length, 0);
  }
});

Deno.test("arch tabs: a repeated architecture starts the next group", async () => {
  const md = [
    fence("ts x86_64", "1"),
    fence("ts riscv64", "2"),
    fence("ts x86_64", "3"),
    fence("ts riscv64", "4"),
    fence("ts riscv64", "5"),
  ].join("\n");
  const groups = splitArchTabs(await render(md)).filter((s) => s.kind === "tabs");
  assert.deepEqual(
    groups.map((g) => g.kind === "tabs" && g.tabs.map((t) => t.label)),
    [["x86_64", "riscv64"], ["x86_64", "riscv64"]],
  );
  // The fifth block stands alone: an ordinary block titled with its architecture.
  const tree = await parseMarkdown(md, [remarkArchTabs]);
  const last = tree.children.at(-1) as Code;
  assert.equal(last.meta, 'title="riscv64"');
});

Deno.test("arch tabs: groups inside list items and block quotes", async () => {
  const md = "- Step:\n\n  " + fence("ts x86_64", "a").replace(/\n(?!$)/g, "\n  ") + "\n  " +
    fence("ts riscv64", "b").replace(/\n(?!$)/g, "\n  ") + "\n> " +
    fence("c x86_64", "q").replace(/\n(?!$)/g, "\n> ") + ">\n> " +
    fence("c riscv64", "r").replace(/\n(?!$)/g, "\n> ");
  const groups = splitArchTabs(await render(md)).filter((s) => s.kind === "tabs");
  assert.equal(groups.length, 2);
});

Deno.test("arch tabs: info strings other than LANG ARCH are ordinary blocks", async () => {
  for (const info of ["ts x86_64 extra", "x86_64", "ts riscv32", "ts amd64", "ts  x86_64x", "ts"]) {
    const md = fence(info, "a") + "\n" + fence("ts riscv64", "b");
    const firstCode = (tree: { children: RootContent[] }) =>
      tree.children.find((n) => n.type === "code");
    assert.deepEqual(
      firstCode(await parseMarkdown(md, [remarkArchTabs])),
      firstCode(await parseMarkdown(md, [])),
      `${info}: the block must be left as written`,
    );
    assert.doesNotMatch(await render(md), /arch-tabs/, info);
  }
});

Deno.test("arch tabs: splitArchTabs", async (t) => {
  await t.step("HTML without groups is one piece, empty HTML none", () => {
    assert.deepEqual(splitArchTabs("<p>a</p>"), [{ kind: "html", html: "<p>a</p>" }]);
    assert.deepEqual(splitArchTabs(""), []);
  });
  await t.step("a marker written inside a code block is escaped and cuts nothing", async () => {
    const md = fence("html", "<!--arch-tabs-->\n<!--arch-tab:x86_64-->x\n<!--/arch-tabs-->");
    const html = await render(md);
    assert.deepEqual(splitArchTabs(html), [{ kind: "html", html }]);
  });
  await t.step("text around and between groups is kept in order", () => {
    const html = "<p>1</p><!--arch-tabs--><!--arch-tab:x86_64-->A<!--arch-tab:riscv64-->B" +
      "<!--/arch-tabs--><p>2</p><!--arch-tabs--><!--arch-tab:riscv64-->C<!--arch-tab:x86_64-->D" +
      "<!--/arch-tabs-->";
    assert.deepEqual(splitArchTabs(html), [
      { kind: "html", html: "<p>1</p>" },
      { kind: "tabs", tabs: [{ label: "x86_64", html: "A" }, { label: "riscv64", html: "B" }] },
      { kind: "html", html: "<p>2</p>" },
      { kind: "tabs", tabs: [{ label: "riscv64", html: "C" }, { label: "x86_64", html: "D" }] },
    ]);
  });
});
