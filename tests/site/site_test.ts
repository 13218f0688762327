/**
 * The course site, built and read in a real browser: Debian's Chromium, driven by
 * tests/site/browser.ts, loads every page of a fresh build served on loopback. The checks
 * are chosen from the chapters at test time, so they keep holding as lessons are added.
 *
 * Without /usr/bin/chromium the test is skipped (and named so), except in CI (CI=true),
 * where it fails: .ci/run installs Chromium.
 *
 * SITE_TEST_DIST=DIR reads a site built earlier (`deno task site --out DIR`) instead of
 * building one; COURSE_SITE_BASE=/course/ builds and reads the site under that path.
 */

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { BASE, LESSONS_DIR } from "../../site/config.ts";
import { type Chapter, listChapters } from "../../site/lessons.ts";
import { sidebarLabel } from "../../site/loader.ts";
import { archGroups } from "../../lessons/harness/markdown.ts";
// Types only: the browser program runs in its own process (Playwright needs permissions
// that deno task test does not give).
import type { Observations, PageSeen, Plan } from "./browser.ts";
import { builtPages, CHROMIUM, htmlText, uniqueTerm } from "./plan.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const haveChromium = existsSync(CHROMIUM);
const inCI = Deno.env.get("CI") === "true";

if (!haveChromium && inCI) {
  Deno.test("site: Chromium is installed for the browser test", () => {
    assert.fail(
      `${CHROMIUM} is missing, and CI must run the site's browser test: install Debian's ` +
        "chromium (apt-get install chromium), as .ci/run does when it is missing",
    );
  });
} else {
  Deno.test({
    name: haveChromium
      ? "site: every page built, served and read in Chromium"
      : `site: browser test SKIPPED: ${CHROMIUM} is missing (apt-get install chromium)`,
    ignore: !haveChromium,
    fn: siteTest,
  });
}

/** Runs a Deno program with every permission; its output when it fails. */
async function run(args: string[], timeoutMs: number): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    throw new Error(`deno run ${args.join(" ")} failed (${out.code}):\n${text}`);
  }
}

async function siteTest(t: Deno.TestContext): Promise<void> {
  // Inside the repository: the build's chunks import the site's npm packages from where they
  // are written, and Deno resolves those through the repository's package.json.
  await Deno.mkdir(`${ROOT}.cache`, { recursive: true });
  const work = await Deno.makeTempDir({ dir: `${ROOT}.cache`, prefix: "site-test-" });
  const prebuilt = Deno.env.get("SITE_TEST_DIST");
  const dist = prebuilt ?? `${work}/dist`;
  try {
    if (!prebuilt) await run(["site/build.ts", "--out", dist], 300_000);

    const chapters = listChapters(LESSONS_DIR);
    const readme = (c: Chapter) => readFileSync(c.file, "utf8");
    const pages = builtPages(dist);
    const html = (page: string) =>
      readFileSync(`${dist}/${page.endsWith(".html") ? page : `${page}index.html`}`, "utf8");
    const pageOf = (c: Chapter) => `${c.route}/`;
    const search = uniqueTerm(
      chapters.map((c) => ({ route: pageOf(c), text: readme(c) })),
      pages.filter((p) => !p.startsWith("lessons/")).map((p) => htmlText(html(p))),
    );
    const plan: Plan = {
      dist,
      base: BASE,
      pages,
      searchTerm: search?.term,
      tabPages: chapters.map(pageOf).filter((p) => /data-sync-key="arch"/.test(html(p))).slice(
        0,
        2,
      ),
      // A chapter's figure if one has any; the landing page's otherwise.
      figurePage: [...chapters.map(pageOf), ""].find((p) => /class="course-figure"/.test(html(p))),
    };
    await Deno.writeTextFile(`${work}/plan.json`, JSON.stringify(plan));
    await run(["tests/site/browser.ts", `${work}/plan.json`, `${work}/seen.json`], 300_000);
    const seen: Observations = JSON.parse(await Deno.readTextFile(`${work}/seen.json`));
    const at = (page: string): PageSeen => {
      const p = seen.pages.find((s) => s.path === page);
      assert.ok(p, `the browser did not report /${page} (${seen.failures.join("; ")})`);
      return p;
    };
    const url = (page: string) => seen.url + page;

    await t.step("the browser saw everything it was asked to look at", () => {
      assert.deepEqual(seen.failures, []);
      assert.deepEqual(seen.pages.map((p) => p.path), pages);
      assert.ok(pages.includes(""), "the landing page");
      for (const c of chapters) assert.ok(pages.includes(pageOf(c)), `a page for ${c.dir}`);
    });

    await t.step("every page loads with no console error and no failed request", () => {
      for (const p of seen.pages) {
        assert.equal(p.status, 200, `/${p.path}`);
        assert.deepEqual(p.errors, [], `/${p.path}: errors`);
        assert.deepEqual(p.badRequests, [], `/${p.path}: requests`);
      }
    });

    await t.step("the sidebar lists the lessons by number, titled from the chapters", () => {
      const lessonLink = /\/lessons\/\d\d-[a-z0-9-]+\/$/;
      for (const [i, c] of chapters.entries()) {
        const p = at(pageOf(c));
        assert.equal(p.title, c.title, `${c.dir}: the page's title`);
        const listed = p.sidebar.filter((s) => lessonLink.test(s.href));
        assert.deepEqual(
          listed.map((s) => [s.label, s.href]),
          chapters.map((o) => [sidebarLabel(o), url(pageOf(o))]),
          `${c.dir}: the sidebar`,
        );
        assert.deepEqual(listed.filter((s) => s.current).map((s) => s.href), [url(pageOf(c))]);
        assert.equal(
          p.prev,
          i === 0 ? url("") : url(pageOf(chapters[i - 1])),
          `${c.dir}: previous`,
        );
        assert.equal(p.next, i + 1 < chapters.length ? url(pageOf(chapters[i + 1])) : undefined);
      }
      const landing = at("").text;
      let from = 0;
      for (const c of chapters) {
        const found = landing.indexOf(c.title, from);
        assert.ok(found >= 0, `the landing page lists "${c.title}" after the lessons before it`);
        from = found + c.title.length;
      }
    });

    await t.step(
      "chapters render as tabs, asides and inline figures, as they read on GitHub",
      () => {
        for (const c of chapters) {
          const text = readme(c);
          const p = at(pageOf(c));
          assert.equal(
            p.tabGroups,
            archGroups(text).groups.length,
            `${c.dir}: architecture tab groups`,
          );
          const alerts = text.match(/^> \[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\s*$/gim) ?? [];
          assert.equal(p.asides, alerts.length, `${c.dir}: asides`);
          const figures = text.match(/!\[[^\]]*\]\([^)\s]+\.svg\)/g) ?? [];
          assert.equal(p.figures, figures.length, `${c.dir}: inline figures`);
          assert.equal(p.svgImages, 0, `${c.dir}: an SVG behind <img> ignores the theme`);
          assert.doesNotMatch(p.text, /\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]/i);
          assert.doesNotMatch(p.text, /<!--arch-tab/);
        }
      },
    );

    await t.step({
      name: `Pagefind finds the one lesson that uses "${search?.term}"`,
      ignore: search === undefined,
      fn: () => {
        const results = seen.search?.results ?? [];
        assert.ok(results.length > 0, `no result for "${search!.term}"`);
        const found = [...new Set(results.map((r) => r.split("#")[0]))];
        assert.deepEqual(found, [url(search!.route)], `results for "${search!.term}"`);
      },
    });

    await t.step({
      name: "the architecture the reader picks holds on the next page",
      ignore: plan.tabPages.length === 0,
      fn: () => {
        const tabs = seen.tabs!;
        const all = (label: string) => ({ label, panelVisible: true });
        const expect = (s: typeof tabs.initial, label: string, what: string) =>
          assert.deepEqual(s.selected, s.selected.map(() => all(label)), `${what} (/${s.path})`);
        assert.ok(tabs.initial.selected.length > 0);
        expect(tabs.initial, "x86_64", "before any choice, x86_64");
        // Whatever order a group is written in: the page stores x86_64 as the default choice.
        assert.equal(tabs.storedBefore, "x86_64");
        expect(tabs.afterChoice, "riscv64", "a click on riscv64 switches every group");
        assert.equal(tabs.stored, "riscv64");
        expect(tabs.nextPage, "riscv64", "the next page shows riscv64");
      },
    });

    await t.step("a figure is drawn in the text colour of each theme", () => {
      const [light, dark] = seen.figure ?? [];
      assert.ok(light && dark, "the figure page was read in both themes");
      assert.match(light.theme, /data-theme=light/);
      assert.match(dark.theme, /data-theme=dark/);
      for (const f of [light, dark]) {
        assert.equal(f.stroke, f.color, `${f.theme}: strokes are currentColor`);
        assert.equal(f.textFill, f.color, `${f.theme}: text is currentColor`);
      }
      assert.notEqual(light.color, dark.color, "the colour follows the theme");
    });

    await t.step("every internal link leads somewhere, anchors included", () => {
      const ids = new Map(seen.pages.map((p) => [url(p.path), new Set(p.ids)]));
      const origin = new URL(seen.url).origin;
      const broken: string[] = [];
      for (const p of seen.pages) {
        for (const link of new Set(p.links)) {
          // Every address on the server counts, also outside the base (a link that forgot it).
          if (!link.startsWith(`${origin}/`)) continue;
          const [target, hash] = link.split("#");
          const targetIds = ids.get(target);
          if (!targetIds) {
            if (seen.assets[target] !== 200) {
              broken.push(`/${p.path} -> ${link}: HTTP ${seen.assets[target]}`);
            }
          } else if (hash && !targetIds.has(decodeURIComponent(hash))) {
            broken.push(`/${p.path} -> ${link}: no element with id "${decodeURIComponent(hash)}"`);
          }
        }
      }
      assert.deepEqual(broken, []);
    });
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}
