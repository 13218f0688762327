/**
 * `deno task site`: builds the course site into site/dist (or `--out DIR`), with Astro run by
 * Deno. A chapter the site cannot render (a missing figure, a link to a file that does not
 * exist) stops the build with the chapter's line and what to check.
 *
 * ```
 * deno task site [--out DIR]
 * ```
 *
 * Prefer an `--out` inside the repository (site/dist, .cache/...): the pages are rendered by
 * chunks written there, which import the site's npm packages through the repository's
 * package.json.
 *
 * @module
 */

import { parseArgs } from "node:util";
import process from "node:process";
import { resolve } from "node:path";
import { DIST_DIR, SITE_DIR } from "./config.ts";

/** Builds the site into `outDir`; throws with Astro's message when the build fails. */
export async function buildSite(outDir: string = DIST_DIR): Promise<void> {
  // Astro asks the network about telemetry unless told not to; the build must run offline.
  process.env.ASTRO_TELEMETRY_DISABLED = "1";
  const { build } = await import("astro");
  await build({ root: SITE_DIR, outDir: resolve(outDir), logLevel: "warn" });
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { out: { type: "string" } } });
  const outDir = values.out ?? DIST_DIR;
  const started = performance.now();
  try {
    await buildSite(outDir);
  } catch (e) {
    const err = e as Error & { hint?: string; loc?: { file?: string; line?: number } };
    console.error(`site: the build failed: ${err.message}`);
    if (err.loc?.file) {
      console.error(`  at ${err.loc.file}${err.loc.line ? `:${err.loc.line}` : ""}`);
    }
    if (err.hint) console.error(`  hint: ${err.hint}`);
    Deno.exit(1);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`site: built ${outDir} in ${seconds} s`);
  // Astro leaves timers behind; the build is done.
  Deno.exit(0);
}
