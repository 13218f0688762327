import assert from "node:assert/strict";
import { type LinkOptions, rehypeRewriteLinks, rewriteHref } from "./links.ts";
import { renderMarkdown } from "./testing.ts";

/** A small repository: two chapters with pages, a lesson folder without one, some sources. */
function fixture(): { root: string; options: LinkOptions; chapter: string } {
  const root = Deno.makeTempDirSync({ prefix: "site-links-" });
  for (
    const dir of [
      "lessons/01-boot-serial",
      "lessons/02-physical-memory",
      "lessons/03-paging",
      "kernel/mm",
    ]
  ) {
    Deno.mkdirSync(`${root}/${dir}`, { recursive: true });
  }
  for (
    const file of [
      "lessons/01-boot-serial/README.md",
      "lessons/01-boot-serial/lesson.ts",
      "lessons/02-physical-memory/README.md",
      "lessons/README.md",
      "kernel/mm/pmm.ts",
      "kernel/mm/a file.ts",
      "README.md",
    ]
  ) Deno.writeTextFileSync(`${root}/${file}`, "x");
  return {
    root,
    chapter: `${root}/lessons/01-boot-serial/README.md`,
    options: {
      repoRoot: root,
      base: "/",
      repository: { url: "https://github.com/o/r", branch: "main" },
      chapters: new Set(["01-boot-serial", "02-physical-memory"]),
    },
  };
}

Deno.test("links: chapter to chapter goes to the chapter's page, anchor kept", () => {
  const { root, options, chapter } = fixture();
  const cases: [string, string][] = [
    [
      "../02-physical-memory/README.md#the-free-run-stack",
      "/lessons/02-physical-memory/#the-free-run-stack",
    ],
    ["../02-physical-memory/README.md", "/lessons/02-physical-memory/"],
    ["../02-physical-memory/", "/lessons/02-physical-memory/"],
    ["../02-physical-memory", "/lessons/02-physical-memory/"],
    ["./README.md#step-1", "/lessons/01-boot-serial/#step-1"],
    ["README.md", "/lessons/01-boot-serial/"],
    ["/lessons/02-physical-memory/README.md#x", "/lessons/02-physical-memory/#x"],
  ];
  for (const [href, expected] of cases) {
    assert.deepEqual(rewriteHref(href, chapter, options), { href: expected }, href);
  }
  assert.deepEqual(
    rewriteHref("../02-physical-memory/README.md#a", chapter, { ...options, base: "/course/" }),
    { href: "/course/lessons/02-physical-memory/#a" },
  );
  Deno.removeSync(root, { recursive: true });
});

Deno.test("links: any other file or folder of the repository goes to GitHub", () => {
  const { root, options, chapter } = fixture();
  const blob = "https://github.com/o/r/blob/main/";
  const tree = "https://github.com/o/r/tree/main/";
  const cases: [string, string][] = [
    ["../../kernel/mm/pmm.ts", `${blob}kernel/mm/pmm.ts`],
    ["../../kernel/mm/pmm.ts#L10-L20", `${blob}kernel/mm/pmm.ts#L10-L20`],
    ["../../kernel/mm/pmm.ts?plain=1#L3", `${blob}kernel/mm/pmm.ts?plain=1#L3`],
    ["../../kernel/mm/", `${tree}kernel/mm`],
    ["../../kernel/mm/a%20file.ts", `${blob}kernel/mm/a%20file.ts`],
    ["lesson.ts", `${blob}lessons/01-boot-serial/lesson.ts`],
    ["../README.md#the-chapter-readmemd", `${blob}lessons/README.md#the-chapter-readmemd`],
    ["../03-paging/", `${tree}lessons/03-paging`], // a lesson folder with no chapter yet
    ["/kernel/mm/pmm.ts", `${blob}kernel/mm/pmm.ts`],
    ["../../README.md", `${blob}README.md`],
    ["../..", "https://github.com/o/r"],
  ];
  for (const [href, expected] of cases) {
    assert.deepEqual(rewriteHref(href, chapter, options), { href: expected }, href);
  }
  Deno.removeSync(root, { recursive: true });
});

Deno.test("links: addresses with a scheme and same-page anchors are kept", () => {
  const { root, options, chapter } = fixture();
  for (
    const href of [
      "https://github.com/roscopeco/anos",
      "mailto:a@b.org",
      "#step-2",
      "//cdn.example/x",
    ]
  ) {
    assert.deepEqual(rewriteHref(href, chapter, options), { href });
  }
  Deno.removeSync(root, { recursive: true });
});

Deno.test("links: a link to nothing, or out of the repository, is an error that says where it looked", () => {
  const { root, options, chapter } = fixture();
  assert.deepEqual(rewriteHref("../../kernel/mm/pmmm.ts", chapter, options), {
    error: "no such file or folder in the repository (looked for kernel/mm/pmmm.ts)",
  });
  assert.deepEqual(rewriteHref("../04-heap/README.md#x", chapter, options), {
    error: "no such file or folder in the repository (looked for lessons/04-heap/README.md)",
  });
  const outside = rewriteHref("../../../elsewhere.md", chapter, options);
  assert.ok(
    "error" in outside && /leaves the repository/.test(outside.error),
    JSON.stringify(outside),
  );
  Deno.removeSync(root, { recursive: true });
});

Deno.test("links: the plugin rewrites the chapter's links and stops at a broken one, naming its line", async () => {
  const { root, options, chapter } = fixture();
  const render = (md: string) =>
    renderMarkdown(md, { path: chapter, rehypePlugins: [[rehypeRewriteLinks, options]] });
  const html = await render(
    "See [lesson 2](../02-physical-memory/README.md#frames), [pmm.ts](../../kernel/mm/pmm.ts), " +
      "[anos](https://github.com/roscopeco/anos) and [below](#below).\n",
  );
  assert.match(html, /<a href="\/lessons\/02-physical-memory\/#frames">lesson 2<\/a>/);
  assert.match(
    html,
    /<a href="https:\/\/github.com\/o\/r\/blob\/main\/kernel\/mm\/pmm.ts">pmm.ts<\/a>/,
  );
  assert.match(html, /<a href="https:\/\/github.com\/roscopeco\/anos">anos<\/a>/);
  assert.match(html, /<a href="#below">below<\/a>/);
  const quiet = console.error;
  console.error = () => {};
  try {
    await assert.rejects(
      render("Fine.\n\nBroken: [x](../../kernel/nothing.ts).\n"),
      /line 3: link \.\.\/\.\.\/kernel\/nothing\.ts: no such file or folder in the repository \(looked for kernel\/nothing\.ts\)/,
    );
  } finally {
    console.error = quiet;
  }
  Deno.removeSync(root, { recursive: true });
});
