/**
 * The course site's settings, in one place: its title, where the repository lives (links to
 * source files point there), where the chapters are, and the URL path it is served under.
 *
 * Runs inside Astro (under Deno's Node compatibility) and in Deno's tests: node: modules only.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import process from "node:process";

/** The course's name, shown in the header, the landing page and every page's title. */
export const COURSE_TITLE = "Build a capability microkernel, test-first";

/** One line about the course, for the landing page and the pages' meta description. */
export const COURSE_DESCRIPTION =
  "Build an anos-style capability microkernel, lesson by lesson and test-first, on an emulated " +
  "x86-64 PC and RISC-V board that ship with the course.";

/**
 * Where links to repository files point: `<url>/blob/<branch>/<path>`.
 *
 * The repository's public address is not known yet, so this is a placeholder. Set
 * `COURSE_REPOSITORY_URL` (and `COURSE_REPOSITORY_BRANCH`, default `main`) when building the
 * site for publication, or change the default here.
 */
export const REPOSITORY = {
  url: (process.env.COURSE_REPOSITORY_URL ?? "https://github.com/OWNER/REPOSITORY").replace(
    /\/+$/,
    "",
  ),
  branch: process.env.COURSE_REPOSITORY_BRANCH ?? "main",
  /** Whether `url` was configured (the header shows a GitHub link only then). */
  configured: process.env.COURSE_REPOSITORY_URL !== undefined,
};

/**
 * The URL path the site is served under (`/` at a domain's root, `/course/` under a
 * project's GitHub Pages). Set `COURSE_SITE_BASE` to build for a subpath.
 */
export const BASE = normalizeBase(process.env.COURSE_SITE_BASE ?? "/");

/**
 * The site's published address (`https://example.org`), from `COURSE_SITE_URL`: Astro needs
 * it for canonical links and the sitemap. Without it there is no sitemap (the build says so).
 */
export const SITE_URL: string | undefined = process.env.COURSE_SITE_URL;

/** The repository's root folder. */
export const REPO_ROOT: string = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

/** The folder holding the lessons (`lessons/NN-slug/README.md`). */
export const LESSONS_DIR: string = `${REPO_ROOT}/lessons`;

/** The folder the built site is written to. */
export const DIST_DIR: string = fileURLToPath(new URL("dist", import.meta.url));

/** The site's folder (Astro's project root). */
export const SITE_DIR: string = fileURLToPath(new URL(".", import.meta.url)).replace(/\/$/, "");

/** `base` with exactly one leading and one trailing slash. */
export function normalizeBase(base: string): string {
  const trimmed = base.replace(/^\/+|\/+$/g, "");
  return trimmed === "" ? "/" : `/${trimmed}/`;
}
