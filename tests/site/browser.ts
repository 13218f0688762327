/**
 * The browser half of the site test: serves a built site on loopback, drives Debian's
 * Chromium through it with playwright-core, and writes down what it saw (it judges nothing;
 * tests/site/site_test.ts does).
 *
 * A separate program because Playwright needs permissions (`--allow-sys`, `--allow-net`)
 * that `deno task test` does not grant its tests.
 *
 * ```
 * deno run --allow-all tests/site/browser.ts PLAN.json OBSERVATIONS.json
 * ```
 *
 * @module
 */

/// <reference lib="dom" />

import { type BrowserContext, chromium, type Page } from "playwright-core";
import { serveSite } from "../../site/serve.ts";
import { CHROMIUM } from "./plan.ts";

/** What to look at. Paths are relative to the site's base (`""` is the landing page). */
export interface Plan {
  /** The built site. */
  dist: string;
  /** Its base path (`/`). */
  base: string;
  /** Every page to load. */
  pages: string[];
  /** A word to search for with Pagefind. */
  searchTerm?: string;
  /** Pages with architecture tabs, in the order to visit them (one or two). */
  tabPages: string[];
  /** A page with an inlined figure. */
  figurePage?: string;
}

/** What one page showed. */
export interface PageSeen {
  path: string;
  /** The HTTP status of the page itself. */
  status: number;
  /** The page's `<h1>`. */
  title: string;
  /** Console errors and uncaught exceptions. */
  errors: string[];
  /** Requests that failed or got a 4xx/5xx answer, with why. */
  badRequests: string[];
  /** Every element id on the page. */
  ids: string[];
  /** Every link's resolved address. */
  links: string[];
  /** The sidebar's links, in order. */
  sidebar: { label: string; href: string; current: boolean }[];
  /** The previous and next links at the bottom of the page. */
  prev?: string;
  next?: string;
  /** How many architecture tab groups, asides and inlined figures the content has. */
  tabGroups: number;
  asides: number;
  figures: number;
  /** `<img>` elements pointing at SVG files (figures must be inline instead). */
  svgImages: number;
  /** The main content's text. */
  text: string;
}

/** The tab of each architecture group that is selected, and whether its panel shows. */
export interface TabsSeen {
  path: string;
  selected: { label: string; panelVisible: boolean }[];
}

/** A figure's colours under one theme. */
export interface FigureSeen {
  theme: string;
  /** The `<svg>`'s computed `color` (what currentColor is). */
  color: string;
  /** The computed stroke of the first stroked shape, and the fill of the first text. */
  stroke: string;
  textFill: string;
}

/** Everything the browser saw. */
export interface Observations {
  /** The site's address. */
  url: string;
  pages: PageSeen[];
  search?: { term: string; results: string[] };
  tabs?: {
    /** Before any choice, after choosing riscv64 on the first page, and on the next page. */
    initial: TabsSeen;
    afterChoice: TabsSeen;
    nextPage: TabsSeen;
    /** The stored choice when the first page has loaded, and after the click. */
    storedBefore: string | null;
    stored: string | null;
  };
  figure?: FigureSeen[];
  /** Internal addresses linked to that are not pages, with their HTTP status. */
  assets: Record<string, number>;
  /** What went wrong in the driver itself (a timeout, a missing element). */
  failures: string[];
}

/** Chromium's flags: headless, and no network but the site. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Loads the plan's pages in Chromium and reports what it saw. */
export async function observe(plan: Plan): Promise<Observations> {
  const server = serveSite(plan.dist, plan.base);
  const profile = await Deno.makeTempDir({ prefix: "site-chromium-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(15_000);
  const seen: Observations = { url: server.url, pages: [], assets: {}, failures: [] };
  const attempt = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      seen.failures.push(`${what}: ${(e as Error).message.split("\n")[0]}`);
    }
  };
  try {
    // Tabs first: the profile is fresh, so no architecture has been chosen yet.
    if (plan.tabPages.length > 0) {
      await attempt("tabs", async () => {
        seen.tabs = await observeTabs(context, server.url, plan.tabPages);
      });
    }
    for (const path of plan.pages) {
      await attempt(`page /${path}`, async () => {
        seen.pages.push(await observePage(context, server.url, path));
      });
    }
    if (plan.searchTerm) {
      const term = plan.searchTerm;
      await attempt("search", async () => {
        seen.search = { term, results: await search(context, server.url, term) };
      });
    }
    if (plan.figurePage !== undefined) {
      const path = plan.figurePage;
      await attempt("figure", async () => {
        seen.figure = await observeFigure(context, server.url, path);
      });
    }
    await attempt("assets", async () => {
      seen.assets = await checkAssets(context, server.url, plan.pages, seen.pages);
    });
  } finally {
    await context.close();
    await server.close();
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
  return seen;
}

/** Opens `url` in a new tab, recording errors and bad requests until the network is idle. */
async function openPage(context: BrowserContext, url: string) {
  const page = await context.newPage();
  const errors: string[] = [];
  const badRequests: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on("pageerror", (e) => errors.push(`uncaught: ${e.message}`));
  page.on("requestfailed", (r) => badRequests.push(`${r.url()}: ${r.failure()?.errorText}`));
  page.on("response", (r) => {
    if (r.status() >= 400) badRequests.push(`${r.url()}: HTTP ${r.status()}`);
  });
  const response = await page.goto(url, { waitUntil: "networkidle" });
  return { page, errors, badRequests, status: response?.status() ?? 0 };
}

async function observePage(context: BrowserContext, url: string, path: string): Promise<PageSeen> {
  const { page, errors, badRequests, status } = await openPage(context, url + path);
  const facts = await page.evaluate(() => {
    const text = (el: Element | null) => el?.textContent?.replace(/\s+/g, " ").trim() ?? "";
    const content = document.querySelector(".sl-markdown-content");
    return {
      title: text(document.querySelector("h1")),
      ids: [...document.querySelectorAll("[id]")].map((e) => e.id),
      links: [...document.querySelectorAll("a[href]")].map((a) => (a as HTMLAnchorElement).href),
      sidebar: [...document.querySelectorAll("#starlight__sidebar a[href]")].map((a) => ({
        label: text(a),
        href: (a as HTMLAnchorElement).href,
        current: a.getAttribute("aria-current") === "page",
      })),
      prev: (document.querySelector('.pagination-links a[rel="prev"]') as HTMLAnchorElement)?.href,
      next: (document.querySelector('.pagination-links a[rel="next"]') as HTMLAnchorElement)?.href,
      tabGroups: content?.querySelectorAll('starlight-tabs[data-sync-key="arch"]').length ?? 0,
      asides: content?.querySelectorAll("aside.starlight-aside").length ?? 0,
      figures: document.querySelectorAll("svg.course-figure").length,
      svgImages: [...document.querySelectorAll("img")].filter((i) =>
        /\.svg($|[?#])/.test(i.getAttribute("src") ?? "")
      ).length,
      text: text(content),
    };
  });
  await page.close();
  return { path, status, errors, badRequests, ...facts };
}

/** The selected tab of every architecture group on the page. */
function selectedTabs(page: Page, path: string): Promise<TabsSeen> {
  return page.evaluate((path) => ({
    path,
    selected: [...document.querySelectorAll('starlight-tabs[data-sync-key="arch"]')].map((g) => {
      const tabs = [...g.querySelectorAll('[role="tab"]')];
      const i = tabs.findIndex((t) => t.getAttribute("aria-selected") === "true");
      const panels = [...g.querySelectorAll(':scope > [role="tabpanel"]')] as HTMLElement[];
      return {
        label: tabs[i]?.textContent?.trim() ?? "(none selected)",
        panelVisible: i >= 0 && !panels[i]?.hidden && panels[i]?.offsetHeight > 0,
      };
    }),
  }), path);
}

async function observeTabs(context: BrowserContext, url: string, paths: string[]) {
  const [first, second = first] = paths;
  const a = await openPage(context, url + first);
  const initial = await selectedTabs(a.page, first);
  const storedBefore = await a.page.evaluate(() =>
    localStorage.getItem("starlight-synced-tabs__arch")
  );
  await a.page.locator('starlight-tabs[data-sync-key="arch"] [role="tab"]', { hasText: "riscv64" })
    .first().click();
  const afterChoice = await selectedTabs(a.page, first);
  const stored = await a.page.evaluate(() => localStorage.getItem("starlight-synced-tabs__arch"));
  await a.page.close();
  const b = await openPage(context, url + second);
  const nextPage = await selectedTabs(b.page, second);
  // Back to the default for the pages that follow.
  await b.page.evaluate(() => localStorage.removeItem("starlight-synced-tabs__arch"));
  await b.page.close();
  return { initial, afterChoice, nextPage, storedBefore, stored };
}

/** Searches from the landing page with Starlight's search dialog; the pages found, in order. */
async function search(context: BrowserContext, url: string, term: string): Promise<string[]> {
  const { page } = await openPage(context, url);
  await page.locator("site-search button[data-open-modal]").first().click();
  const input = page.locator(".pagefind-ui__search-input");
  const message = page.locator(".pagefind-ui__message").filter({ hasText: /result/ });
  // Typed as a reader types. Pagefind loads its index on the first keystroke; on a busy
  // machine a search typed before it is ready can be dropped, so type it again if no count of
  // results appears.
  for (let attempt = 1;; attempt++) {
    await input.fill("");
    await input.pressSequentially(term, { delay: 30 });
    try {
      await message.waitFor({ timeout: 10_000 });
      break;
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
  await page.waitForLoadState("networkidle");
  const results = await page.locator("a.pagefind-ui__result-link").evaluateAll((links) =>
    links.map((a) => (a as HTMLAnchorElement).href)
  );
  await page.close();
  return results;
}

async function observeFigure(context: BrowserContext, url: string, path: string) {
  const { page } = await openPage(context, url + path);
  const seen: FigureSeen[] = [];
  for (const theme of ["light", "dark"]) {
    // Starlight's theme menu, as a reader uses it.
    await page.locator("starlight-theme-select select").first().selectOption(theme);
    seen.push(
      await page.evaluate((theme) => {
        const svg = document.querySelector("svg.course-figure")!;
        const shapes = [...svg.querySelectorAll("rect, line, path, polyline, polygon, circle")];
        const stroked = shapes.find((s) => getComputedStyle(s).stroke !== "none");
        const text = svg.querySelector("text");
        return {
          theme: `${theme} (data-theme=${document.documentElement.dataset.theme})`,
          color: getComputedStyle(svg).color,
          stroke: stroked ? getComputedStyle(stroked).stroke : "(no stroked shape)",
          textFill: text ? getComputedStyle(text).fill : "(no text)",
        };
      }, theme),
    );
  }
  await page.close();
  return seen;
}

/** The HTTP status of every internal address linked to that is not one of the pages. */
async function checkAssets(
  context: BrowserContext,
  url: string,
  pages: string[],
  seen: PageSeen[],
): Promise<Record<string, number>> {
  const pageUrls = new Set(pages.map((p) => url + p));
  const origin = new URL(url).origin;
  const out: Record<string, number> = {};
  for (const link of new Set(seen.flatMap((p) => p.links))) {
    const target = link.split("#")[0];
    if (!target.startsWith(`${origin}/`) || pageUrls.has(target) || target in out) continue;
    out[target] = (await context.request.get(target, { maxRedirects: 0 })).status();
  }
  return out;
}

if (import.meta.main) {
  const [planFile, outFile] = Deno.args;
  const plan: Plan = JSON.parse(await Deno.readTextFile(planFile));
  const seen = await observe(plan);
  await Deno.writeTextFile(outFile, JSON.stringify(seen, null, 2));
}
