import assert from "node:assert/strict";
import { type LoadStore, MmuPhysMem } from "./phys.ts";

/** A CPU over 64 bytes of "virtual" memory at 0x1000, recording each access's size. */
function fakeCpu() {
  const bytes = new Uint8Array(64);
  const sizes: number[] = [];
  const at = (va: bigint, size: number) => {
    const i = Number(va) - 0x1000;
    if (i < 0 || i + size > bytes.length) throw new RangeError(`fault at ${va}`);
    sizes.push(size);
    return i;
  };
  const cpu: LoadStore = {
    load(va, size) {
      const i = at(va, size);
      let v = 0n;
      for (let b = size - 1; b >= 0; b--) v = (v << 8n) | BigInt(bytes[i + b]);
      return v;
    },
    store(va, size, value) {
      const i = at(va, size);
      for (let b = 0; b < size; b++) bytes[i + b] = Number((value >> BigInt(8 * b)) & 0xffn);
    },
  };
  return { cpu, bytes, sizes };
}

Deno.test("phys: every access goes through the CPU at offset + pa", () => {
  const { cpu, bytes } = fakeCpu();
  const mem = new MmuPhysMem(() => cpu, 0x1000n);
  mem.write(8, 8, 0x1122_3344_5566_7788n);
  assert.equal(bytes[8], 0x88);
  assert.equal(mem.read(12, 4), 0x1122_3344n);
  mem.offset = 0x0800n; // the same memory, seen at another offset
  assert.equal(mem.read(0x808, 2), 0x7788n);
  assert.throws(() => mem.read(0, 8), /fault/, "a wrong offset faults, as a wrong map would");
});

Deno.test("phys: copies and fills go a doubleword at a time where aligned", () => {
  const { cpu, bytes, sizes } = fakeCpu();
  const mem = new MmuPhysMem(() => cpu, 0x1000n);
  const data = Uint8Array.from({ length: 21 }, (_, i) => i + 1);
  mem.writeBytes(5, data); // 5..7 bytewise, 8..23 two doublewords, 24..25 bytewise
  assert.deepEqual(sizes, [1, 1, 1, 8, 8, 1, 1]);
  assert.deepEqual(bytes.slice(5, 26), data);
  sizes.length = 0;
  assert.deepEqual(mem.readBytes(5, 21), data);
  assert.deepEqual(sizes, [1, 1, 1, 8, 8, 1, 1]);
  sizes.length = 0;
  mem.zero(6, 12); // 6..7, 8..15, 16..17
  assert.deepEqual(sizes, [1, 1, 8, 1, 1]);
  assert.deepEqual([...bytes.slice(4, 19)], [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 14]);
});
