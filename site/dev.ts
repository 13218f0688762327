/**
 * `deno task site:dev`: serves the course site with live reload while you write. A change to a
 * chapter or a figure reloads its page; a new or removed lesson folder (which changes the
 * sidebar, read when the server starts) restarts the server.
 *
 * ```
 * deno task site:dev [--port N] [--host]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import process from "node:process";
import { LESSONS_DIR, SITE_DIR } from "./config.ts";
import { listChapters } from "./lessons.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { port: { type: "string", default: "4321" }, host: { type: "boolean", default: false } },
});

process.env.ASTRO_TELEMETRY_DISABLED = "1";
const { dev } = await import("astro");

/** The set of lessons, which the sidebar is built from. */
const lessonSet = () => listChapters(LESSONS_DIR).map((c) => c.dir).join(",");

const start = () =>
  dev({ root: SITE_DIR, server: { port: Number(values.port), host: values.host } });

let server = await start();
let lessons = lessonSet();

// Restarts when the set of lesson folders changes (checked after each burst of changes).
let pending: ReturnType<typeof setTimeout> | undefined;
for await (const _event of Deno.watchFs(LESSONS_DIR, { recursive: true })) {
  clearTimeout(pending);
  pending = setTimeout(async () => {
    const now = lessonSet();
    if (now === lessons) return;
    lessons = now;
    console.log("site: the lessons changed; restarting");
    await server.stop();
    server = await start();
  }, 300);
}
