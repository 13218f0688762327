import assert from "node:assert/strict";
import { newTrap, TrapRecord } from "./trap.ts";

/** A port's record with one register of its own. */
class TestTrap extends TrapRecord {
  code = 0;
  get cause(): string {
    return `code ${this.code}`;
  }
}

Deno.test("trap: a port's record starts at rest, as newTrap's does", () => {
  const t = new TestTrap();
  const { cause: _cause, ...neutral } = newTrap();
  const { code: _code, ...fields } = { ...t };
  assert.deepEqual(fields, neutral);
  assert.equal(t.cause, "code 0");
});

Deno.test("trap: clear starts a new trap at a pc, forgetting the last one's address", () => {
  const t = new TestTrap();
  t.kind = "page_fault";
  t.address = 0x4000_0000n;
  t.hasAddress = true;
  t.access = "write";
  t.clear(0x1_0008n);
  assert.equal(t.pc, 0x1_0008n);
  assert.equal(t.address, 0n);
  assert.equal(t.hasAddress, false);
  assert.equal(t.access, "read");
  assert.equal(t.kind, "page_fault", "the kind is the decoder's to set");
});
