import assert from "node:assert/strict";
import { AsidAllocator, type AsidHolder } from "./asid.ts";

const space = (): AsidHolder => ({ asid: 0, asidGeneration: 0 });

Deno.test("asid: each space gets its own ASID, kept while the generation lasts", () => {
  const a = new AsidAllocator(16);
  const [x, y] = [space(), space()];
  assert.equal(a.assign(x), false);
  assert.equal(a.assign(y), false);
  assert.deepEqual([x.asid, y.asid], [1, 2], "0 is the kernel's");
  assert.equal(a.assign(x), false);
  assert.equal(x.asid, 1, "nothing changes for a space that has a current ASID");
});

Deno.test("asid: running out rolls the generation over and asks for a flush", () => {
  const a = new AsidAllocator(3); // ASIDs 1 and 2
  const [x, y, z] = [space(), space(), space()];
  a.assign(x);
  a.assign(y);
  assert.equal(a.assign(z), true, "the third space rolls over");
  assert.deepEqual([z.asid, z.asidGeneration, a.generation, a.rollovers], [1, 2, 2, 1]);
  assert.equal(a.assign(x), false, "x's old ASID is stale: it gets a fresh one, no rollover yet");
  assert.deepEqual([x.asid, x.asidGeneration], [2, 2]);
  assert.equal(a.assign(y), true);
  assert.throws(() => new AsidAllocator(1), /at least 2/);
});
