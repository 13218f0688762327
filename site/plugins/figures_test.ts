import assert from "node:assert/strict";
import { FIGURE_CLASS, inlineSvg, rehypeInlineFigures } from "./figures.ts";
import { isLocalReference } from "./references.ts";
import { renderMarkdown } from "./testing.ts";

const SVG = `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 40" onload="alert(1)" stroke="currentColor">
  <title>A box and an arrow</title>
  <defs><marker id="head" viewBox="0 0 10 10"><path d="M0 0L10 5L0 10z"/></marker>
    <linearGradient id="shade"><stop offset="0"/></linearGradient></defs>
  <rect x="1" y="1" width="50" height="30" fill="url(#shade)" style="filter: url(#shade)"/>
  <line x1="51" y1="15" x2="99" y2="15" marker-end="url(#head)"/>
  <use href="#head"/><use href="#elsewhere"/>
  <text text-anchor="middle" x="25" y="20" fill="url(#nowhere)">box</text>
  <script>alert(2)</script>
</svg>`;

/** A chapter folder with a figure in figures/, in a fresh temporary directory. */
function chapterDir(files: Record<string, string>): string {
  const dir = Deno.makeTempDirSync({ prefix: "site-figures-" });
  Deno.mkdirSync(`${dir}/figures`);
  for (const [name, text] of Object.entries(files)) Deno.writeTextFileSync(`${dir}/${name}`, text);
  return dir;
}

const render = (md: string, dir: string) =>
  renderMarkdown(md, { path: `${dir}/README.md`, rehypePlugins: [rehypeInlineFigures] });

Deno.test("figures: an SVG image becomes the SVG itself, labelled, in the page", async () => {
  const dir = chapterDir({ "figures/box.svg": SVG });
  const html = await render("Look:\n\n![A box](figures/box.svg)\n\nThe caption.\n", dir);
  assert.doesNotMatch(html, /<img/);
  assert.match(html, /<svg [^>]*viewBox="0 0 100 40"/, "viewBox keeps its case");
  assert.match(html, new RegExp(`<svg [^>]*class="${FIGURE_CLASS}"`));
  assert.match(html, /<svg [^>]*role="img"/);
  assert.match(html, /<svg [^>]*aria-label="A box"/);
  assert.match(html, /<title>A box and an arrow<\/title>/);
  assert.match(html, /text-anchor="middle"/, "SVG attribute names keep their spelling");
  assert.match(html, /stroke="currentColor"/);
  assert.doesNotMatch(html, /<\?xml/);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("figures: scripts and event handlers are dropped; ids and references are prefixed", () => {
  const svg = inlineSvg(SVG, { alt: "", idPrefix: "fig1-" });
  const text = JSON.stringify(svg);
  assert.doesNotMatch(text, /alert/);
  assert.doesNotMatch(text, /"onLoad"|"onload"/i);
  assert.match(text, /"id":"fig1-head"/);
  assert.match(text, /"id":"fig1-shade"/);
  assert.match(text, /"fill":"url\(#fig1-shade\)"/);
  assert.match(text, /"style":"filter: url\(#fig1-shade\)"/);
  assert.match(text, /"markerEnd":"url\(#fig1-head\)"/);
  assert.match(text, /"href":"#fig1-head"/);
  // References to ids the figure does not define are left as written.
  assert.match(text, /"href":"#elsewhere"/);
  assert.match(text, /"fill":"url\(#nowhere\)"/);
  assert.equal(svg.properties.ariaLabel, undefined, "no alt, no label (the <title> names it)");
});

Deno.test("figures: two figures on one page get different id prefixes", async () => {
  const dir = chapterDir({ "figures/a.svg": SVG, "figures/b.svg": SVG });
  const html = await render("![a](figures/a.svg)\n\n![b](figures/b.svg)\n", dir);
  const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(ids.length, 4);
  assert.equal(new Set(ids).size, 4, ids.join(" "));
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("figures: a file that holds no <svg> is refused", () => {
  assert.throws(
    () => inlineSvg("<p>not a drawing</p>", { alt: "", idPrefix: "x" }),
    /no <svg> element/,
  );
});

Deno.test("figures: a missing figure or a local raster image stops the build, naming the line", async (t) => {
  const dir = chapterDir({ "figures/photo.png": "PNG" });
  // Astro's processor prints each failure as well as throwing it.
  const quiet = console.error;
  console.error = () => {};
  await t.step("missing", async () => {
    await assert.rejects(
      render("Text.\n\n![Gone](figures/gone.svg)\n", dir),
      /line 3: figure figures\/gone\.svg: no such file \(looked for figures\/gone\.svg beside the chapter\)/,
    );
  });
  await t.step("not an SVG", async () => {
    await assert.rejects(
      render("![A photo](figures/photo.png)\n", dir),
      /line 1: image figures\/photo\.png: the site inlines SVG figures only/,
    );
  });
  await t.step("not an SVG inside", async () => {
    Deno.writeTextFileSync(`${dir}/figures/fake.svg`, "hello");
    await assert.rejects(
      render("![x](figures/fake.svg)\n", dir),
      /figures\/fake\.svg: the file holds no <svg>/,
    );
  });
  console.error = quiet;
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("figures: remote images are left alone", async () => {
  const dir = chapterDir({});
  const html = await render("![badge](https://example.org/badge.svg)\n", dir);
  assert.match(html, /<img src="https:\/\/example.org\/badge.svg" alt="badge">/);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("figures: isLocalReference", () => {
  for (const local of ["figures/a.svg", "./a.svg", "../x/y.ts", "/kernel/mm/pmm.ts", "a b.svg"]) {
    assert.equal(isLocalReference(local), true, local);
  }
  for (
    const remote of [
      "https://x.org/a.svg",
      "HTTP://x",
      "mailto:a@b",
      "data:image/svg+xml,<svg/>",
      "//cdn/x",
      "#top",
      "",
    ]
  ) {
    assert.equal(isLocalReference(remote), false, remote);
  }
});
