import assert from "node:assert/strict";
import { respond } from "./serve.ts";

/** A built site in miniature. */
function site(): string {
  const root = Deno.makeTempDirSync({ prefix: "site-serve-" });
  Deno.mkdirSync(`${root}/lessons/01-boot-serial`, { recursive: true });
  Deno.mkdirSync(`${root}/pagefind`);
  Deno.writeTextFileSync(`${root}/index.html`, "<h1>home</h1>");
  Deno.writeTextFileSync(`${root}/404.html`, "<h1>no such page</h1>");
  Deno.writeTextFileSync(`${root}/lessons/01-boot-serial/index.html`, "<h1>lesson 1</h1>");
  Deno.writeTextFileSync(`${root}/pagefind/pagefind.js`, "export {}");
  Deno.writeTextFileSync(`${root}/pagefind/wasm.en.pagefind`, "\0");
  return root;
}

Deno.test("serve: pages, assets, redirects and misses as a static host serves them", async (t) => {
  const root = site();
  const get = async (path: string, base = "/") => {
    const res = await respond(root, base, path);
    return {
      status: res.status,
      type: res.headers.get("content-type"),
      location: res.headers.get("location"),
      body: await res.text(),
    };
  };
  await t.step("a folder serves its index.html", async () => {
    assert.deepEqual(await get("/"), {
      status: 200,
      type: "text/html; charset=utf-8",
      location: null,
      body: "<h1>home</h1>",
    });
    assert.equal((await get("/lessons/01-boot-serial/")).body, "<h1>lesson 1</h1>");
  });
  await t.step("a folder without its slash is redirected to it", async () => {
    const r = await get("/lessons/01-boot-serial");
    assert.equal(r.status, 301);
    assert.equal(r.location, "/lessons/01-boot-serial/");
  });
  await t.step("files get their content type", async () => {
    assert.equal((await get("/pagefind/pagefind.js")).type, "text/javascript; charset=utf-8");
    assert.equal((await get("/pagefind/wasm.en.pagefind")).type, "application/octet-stream");
  });
  await t.step("a miss gets 404.html with status 404", async () => {
    assert.deepEqual(await get("/lessons/99-nothing/"), {
      status: 404,
      type: "text/html; charset=utf-8",
      location: null,
      body: "<h1>no such page</h1>",
    });
  });
  await t.step("nothing outside the site is served", async () => {
    assert.equal((await get("/../../etc/passwd")).status, 403);
    assert.equal((await get("/lessons/../../x")).status, 403);
  });
  await t.step("under a base path, only the base is served", async () => {
    assert.equal(
      (await get("/course/lessons/01-boot-serial/", "/course/")).body,
      "<h1>lesson 1</h1>",
    );
    assert.equal((await get("/lessons/01-boot-serial/", "/course/")).status, 404);
  });
  Deno.removeSync(root, { recursive: true });
});
