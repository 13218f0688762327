import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import type { LoaderContext } from "astro/loaders";
import { lessonsLoader } from "./loader.ts";

Deno.test("loader: one entry per chapter, titled and ordered from it, rendered where it lives", async () => {
  const root = Deno.makeTempDirSync({ prefix: "site-loader-" });
  const lessons = `${root}/lessons`;
  Deno.mkdirSync(`${lessons}/02-physical-memory`, { recursive: true });
  Deno.mkdirSync(`${lessons}/01-boot-serial`, { recursive: true });
  Deno.writeTextFileSync(
    `${lessons}/01-boot-serial/README.md`,
    "# Boot and the serial console\n\nHello.\n",
  );
  Deno.writeTextFileSync(
    `${lessons}/02-physical-memory/README.md`,
    "# Physical memory\n\nFrames.\n",
  );

  const stored: Record<string, unknown>[] = [];
  const rendered: { body: string; file?: string }[] = [];
  const context = {
    config: { root: pathToFileURL(`${root}/site/`) },
    store: { clear: () => stored.splice(0), set: (e: Record<string, unknown>) => stored.push(e) },
    parseData: ({ data }: { data: unknown }) => Promise.resolve(data),
    renderMarkdown: (body: string, options?: { fileURL?: URL }) => {
      rendered.push({ body, file: options?.fileURL?.pathname });
      return Promise.resolve({ html: `<p>${body.trim()}</p>` });
    },
    generateDigest: (text: string) => `digest of ${text.length}`,
    logger: { info: () => {}, error: () => {} },
  } as unknown as LoaderContext;

  await lessonsLoader(lessons).load(context);
  assert.deepEqual(stored.map((e) => [e.id, e.data, e.filePath]), [
    [
      "lessons/01-boot-serial",
      {
        title: "Boot and the serial console",
        sidebar: { order: 1, label: "01 · Boot and the serial console" },
      },
      "../lessons/01-boot-serial/README.md",
    ],
    [
      "lessons/02-physical-memory",
      { title: "Physical memory", sidebar: { order: 2, label: "02 · Physical memory" } },
      "../lessons/02-physical-memory/README.md",
    ],
  ]);
  // The body loses its title line (shown above the page) and keeps its line numbers.
  assert.deepEqual(rendered, [
    { body: "\n\nHello.\n", file: `${lessons}/01-boot-serial/README.md` },
    { body: "\n\nFrames.\n", file: `${lessons}/02-physical-memory/README.md` },
  ]);
  assert.deepEqual(stored[0].rendered, { html: "<p>Hello.</p>" });
  Deno.removeSync(root, { recursive: true });
});
