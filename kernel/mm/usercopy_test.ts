import assert from "node:assert/strict";
import { MEMMAP_USABLE } from "../../emulator/core/bootinfo.ts";
import { createSv48PageTables } from "../../arch/riscv64/sv48.ts";
import type { Kernel } from "../kernel.ts";
import type { AddressSpace } from "./address_space.ts";
import { BufferPhysMem } from "./buffer_mem.ts";
import { createStackPmm } from "./pmm.ts";
import { copyIn, copyOut, USER_TOP } from "./usercopy.ts";

const RAM = 0x8000_0000;

/** A kernel with just what usercopy needs: memory and Sv48 page tables. */
function setup() {
  const mem = new BufferPhysMem(RAM, 4 << 20);
  const pmm = createStackPmm(mem, [{ base: RAM, length: 4 << 20, type: MEMMAP_USABLE }]);
  const noTlb = { flushPage() {}, flushAsid() {}, flushAll() {} };
  const pageTables = createSv48PageTables({ mem, pmm, tlb: noTlb });
  const k = { arch: { mem }, pageTables } as unknown as Kernel;
  const root = pageTables.createRoot();
  const space: AddressSpace = { root, object: 0, regions: [], asid: 1, asidGeneration: 1 };
  const user = { write: true, execute: false, user: true, global: false, device: false };
  // 0x10000: two writable pages; 0x20000: read-only; 0x30000: a supervisor page.
  pageTables.map(root, 1, 0x10000n, RAM + 0x30_0000, 0x2000, user);
  pageTables.map(root, 1, 0x20000n, RAM + 0x30_2000, 0x1000, { ...user, write: false });
  pageTables.map(root, 1, 0x30000n, RAM + 0x30_3000, 0x1000, { ...user, user: false });
  return { k, space, mem };
}

Deno.test("usercopy: copies through the user's page tables, across pages", () => {
  const { k, space, mem } = setup();
  const bytes = Uint8Array.from({ length: 100 }, (_, i) => i);
  assert.equal(copyOut(k, space, 0x10fd0n, bytes), true);
  assert.deepEqual(mem.readBytes(RAM + 0x30_0fd0, 100), bytes, "physically contiguous here");
  assert.deepEqual(copyIn(k, space, 0x10fd0n, 100), bytes);
  assert.deepEqual(copyIn(k, space, 0x20000n, 4), new Uint8Array(4), "read-only is readable");
  assert.deepEqual(copyIn(k, space, 0x10000n, 0), new Uint8Array(0));
});

Deno.test("usercopy: refuses what is not mapped for the user with the right permission", () => {
  const { k, space, mem } = setup();
  const four = new Uint8Array([1, 2, 3, 4]);
  assert.equal(copyOut(k, space, 0x20000n, four), false, "read-only");
  assert.equal(copyIn(k, space, 0x30000n, 4), undefined, "supervisor page");
  assert.equal(copyIn(k, space, 0x40000n, 4), undefined, "unmapped");
  assert.equal(copyIn(k, space, 0x11ffen, 4), undefined, "runs off the end of the mapping");
  assert.equal(copyOut(k, space, 0x1fffen, four), false, "into the read-only page");
  assert.equal(mem.read(RAM + 0x30_1ffe, 2), 0n, "and nothing was written before refusing");
  assert.equal(copyIn(k, space, USER_TOP - 2n, 4), undefined, "past the user half");
  assert.equal(copyIn(k, space, 0xffff_8000_0000_0000n, 4), undefined, "a kernel address");
});
