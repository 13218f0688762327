/**
 * A small static file server for the built site, on loopback: what a static host does
 * (`/lessons/01-boot-serial/` serves that folder's index.html, a missing page gets 404.html
 * with status 404), so that the browser test sees the site as readers will.
 *
 * Host code (Deno's server and file APIs).
 *
 * @module
 */

import { extname, join, normalize } from "node:path";

/** Content types of the files a Starlight build writes. */
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".wasm": "application/wasm",
  ".txt": "text/plain; charset=utf-8",
  ".xml": "application/xml",
  // Pagefind's index files.
  ".pf_meta": "application/octet-stream",
  ".pf_index": "application/octet-stream",
  ".pf_fragment": "application/octet-stream",
  ".pagefind": "application/octet-stream",
};

/** A running server. */
export interface SiteServer {
  /** The site's address: `http://127.0.0.1:PORT/BASE`. */
  url: string;
  /** Every path requested, with its status, in order. */
  requests: { path: string; status: number }[];
  /** Stops the server. */
  close(): Promise<void>;
}

/** Serves `root` (a built site) under `base` on 127.0.0.1, on a free port. */
export function serveSite(root: string, base = "/"): SiteServer {
  const requests: SiteServer["requests"] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const path = decodeURIComponent(new URL(req.url).pathname);
      const res = await respond(root, base, path);
      requests.push({ path, status: res.status });
      return res;
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}${base}`,
    requests,
    close: () => server.shutdown(),
  };
}

/** The response a static host gives for `path` (decoded) of a site built into `root`. */
export async function respond(root: string, base: string, path: string): Promise<Response> {
  if (!path.startsWith(base)) return await notFound(root);
  const rel = normalize(path.slice(base.length));
  if (rel.startsWith("..")) return new Response("forbidden", { status: 403 });
  let file = join(root, rel);
  try {
    if ((await Deno.stat(file)).isDirectory) {
      if (!path.endsWith("/")) {
        return new Response(null, { status: 301, headers: { location: `${path}/` } });
      }
      file = join(file, "index.html");
    }
    const body = await Deno.readFile(file);
    const type = TYPES[extname(file)] ?? "application/octet-stream";
    return new Response(body, { headers: { "content-type": type } });
  } catch {
    return await notFound(root);
  }
}

async function notFound(root: string): Promise<Response> {
  try {
    const body = await Deno.readFile(join(root, "404.html"));
    return new Response(body, { status: 404, headers: { "content-type": TYPES[".html"] } });
  } catch {
    return new Response("not found", { status: 404 });
  }
}
