/**
 * The course site: Astro with Starlight, rendering the chapters in lessons/ (see loader.ts),
 * with the Markdown conventions of lessons/README.md (plugins/).
 *
 * Built by `deno task site` (site/build.ts), served with live reload by `deno task site:dev`.
 *
 * @module
 */

import { defineConfig } from "astro/config";
import starlight from "@astrojs/starlight";
import { unified } from "@astrojs/markdown-remark";
import {
  BASE,
  COURSE_DESCRIPTION,
  COURSE_TITLE,
  LESSONS_DIR,
  REPO_ROOT,
  REPOSITORY,
  SITE_URL,
} from "./config.ts";
import { listChapters } from "./lessons.ts";
import { remarkGithubAlerts } from "./plugins/alerts.ts";
import { ARCH_SYNC_KEY, DEFAULT_ARCH, remarkArchTabs } from "./plugins/arch_tabs.ts";
import { rehypeInlineFigures } from "./plugins/figures.ts";
import { rehypeRewriteLinks } from "./plugins/links.ts";

/** The chapters, by lesson number: the sidebar lists them in this order. */
const chapters = listChapters(LESSONS_DIR);

/**
 * Until the reader picks an architecture, groups show x86_64 whatever their order
 * (lessons/README.md): Starlight's Tabs restore the stored choice, so store the default.
 */
const defaultArchScript = `try{const k="starlight-synced-tabs__${ARCH_SYNC_KEY}";` +
  `localStorage.getItem(k)||localStorage.setItem(k,"${DEFAULT_ARCH}")}catch{}`;

export default defineConfig({
  // The published address, for canonical links and the sitemap (none without it).
  site: SITE_URL,
  base: BASE,
  trailingSlash: "always",
  // The toolbar is for developing apps; writers of chapters need none.
  devToolbar: { enabled: false },
  // Starlight's Tabs use satteri, whose native binding is found beside the package. Bundled
  // into the build's chunks it would be looked for there, and Deno's node_modules (one folder
  // per package, as pnpm's) has no copy to find: so it is loaded from node_modules instead.
  vite: { ssr: { external: ["satteri"] } },
  markdown: {
    processor: unified({
      remarkPlugins: [remarkGithubAlerts, remarkArchTabs],
      rehypePlugins: [
        rehypeInlineFigures,
        [rehypeRewriteLinks, {
          repoRoot: REPO_ROOT,
          base: BASE,
          repository: REPOSITORY,
          chapters: new Set(chapters.map((c) => c.dir)),
        }],
      ],
    }),
  },
  integrations: [
    starlight({
      title: COURSE_TITLE,
      description: COURSE_DESCRIPTION,
      social: REPOSITORY.configured
        ? [{ icon: "github", label: "The course's repository", href: REPOSITORY.url }]
        : [],
      sidebar: [
        { label: "The course", link: "/" },
        // Each entry's label is the chapter's `sidebar.label` (site/loader.ts).
        ...(chapters.length
          ? [{ label: "Lessons", items: chapters.map((c) => ({ slug: c.route })) }]
          : []),
      ],
      // Starlight's asides, heading links and the like also apply to the chapters in lessons/.
      markdown: { processedDirs: [LESSONS_DIR] },
      customCss: ["./src/styles/course.css"],
      components: { MarkdownContent: "./src/components/MarkdownContent.astro" },
      head: [{ tag: "script", content: defaultArchScript }],
      // src/pages/404.astro lists the lessons instead.
      disable404Route: true,
      ...(REPOSITORY.configured
        // A chapter's file path is ../lessons/NN-slug/README.md from site/; the browser
        // resolves the "..".
        ? { editLink: { baseUrl: `${REPOSITORY.url}/edit/${REPOSITORY.branch}/site/` } }
        : {}),
      lastUpdated: false,
      pagination: true,
    }),
  ],
});
