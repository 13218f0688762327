import assert from "node:assert/strict";
import { archGroups, fences, githubAnchor, headingAnchors } from "./markdown.ts";

Deno.test("markdown: anchors are GitHub's, repeats numbered, headings in code ignored", () => {
  assert.equal(githubAnchor("Sending a byte: LSR.THRE"), "sending-a-byte-lsrthre");
  assert.equal(githubAnchor("Step 3: Programming the line"), "step-3-programming-the-line");
  assert.equal(githubAnchor("The RISC-V `virt` board"), "the-risc-v-virt-board");
  assert.equal(githubAnchor("What `free(pa, n)` does"), "what-freepa-n-does");
  const md = "# Title\n\n## Step\n\n```sh\n# not a heading\n```\n\n## Step\n### Step\n";
  assert.deepEqual(headingAnchors(md), ["title", "step", "step-1", "step-2"]);
});

Deno.test("markdown: consecutive arch-tagged blocks form one tab group", () => {
  const md = [
    "Text.",
    "",
    "```ts x86_64",
    "a();",
    "```",
    "",
    "```ts riscv64",
    "b();",
    "```",
    "",
    "Between.",
    "",
    "```text riscv64",
    "alone",
    "```",
    "```ts",
    "plain",
    "```",
  ].join("\n");
  assert.equal(fences(md).length, 4);
  const { groups, problems } = archGroups(md);
  assert.deepEqual(problems, []);
  assert.equal(groups.length, 1, "the lone riscv64 block is not a group");
  assert.deepEqual(groups[0].map((b) => [b.lang, b.arch, b.code]), [
    ["ts", "x86_64", "a();"],
    ["ts", "riscv64", "b();"],
  ]);
});

Deno.test("markdown: a tab group's mistakes are named", () => {
  const md =
    "```ts x86_64\na\n```\n\n```ts x86_64\nb\n```\n\n```ts amd64\nc\n```\n```ts riscv64 extra\nd\n```\n";
  const { problems } = archGroups(md);
  assert.equal(problems.length, 3, problems.join("\n"));
  assert.match(problems[0], /two x86_64 blocks/);
  assert.match(problems[1], /must be x86_64 or riscv64/);
  assert.match(problems[2], /nothing may follow the architecture/);
});
