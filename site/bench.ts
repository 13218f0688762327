/**
 * The site's figure for `deno task bench`: `site.build_seconds`, the wall time of a whole
 * `deno task site` (a fresh Deno process building every page and the search index), as a
 * writer waits for it. Host code.
 *
 * @module
 */

import { SITE_DIR } from "./config.ts";

/**
 * Seconds to build the site into a temporary folder, in a fresh process. Throws with the
 * build's output when it fails.
 */
export async function measureBuildSeconds(): Promise<number> {
  // Inside the repository, as site/dist is: the build's chunks import the site's npm
  // packages from where they are written.
  const cache = `${SITE_DIR}/../.cache`;
  await Deno.mkdir(cache, { recursive: true });
  const out = await Deno.makeTempDir({ dir: cache, prefix: "site-bench-" });
  try {
    const started = performance.now();
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", `${SITE_DIR}/build.ts`, "--out", out],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const seconds = (performance.now() - started) / 1000;
    if (!result.success) {
      const text = new TextDecoder().decode(result.stderr) +
        new TextDecoder().decode(result.stdout);
      throw new Error(`site: the build failed:\n${text}`);
    }
    return seconds;
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}
