import assert from "node:assert/strict";
import { Bus } from "../core/bus.ts";
import { Machine } from "../core/machine.ts";
import { DEBUG_EXIT_PORT, DEBUG_EXIT_SIZE, DebugExit, debugExitStatus } from "./debug_exit.ts";

function setup() {
  const machine = new Machine({ memory: 1 << 20 });
  const io = new Bus(undefined, "I/O port space");
  io.map(DEBUG_EXIT_PORT, DEBUG_EXIT_SIZE, new DebugExit(machine));
  return { machine, io };
}

Deno.test("debug exit: a write of v powers off with status (v << 1) | 1, as QEMU", () => {
  const { machine, io } = setup();
  assert.ok(io.write(DEBUG_EXIT_PORT, 1, 0x10n, 0));
  assert.equal(machine.stopReason?.kind, "shutdown");
  assert.equal((machine.stopReason as { code: number }).code, 33);
  assert.match(
    (machine.stopReason as { message: string }).message,
    /cpu0 wrote 0x10 to the debug-exit port 0xf4: exit status 33/,
  );
  assert.deepEqual(machine.run(), machine.stopReason, "the machine stays off");
});

Deno.test("debug exit: every port and width of the block, value zero-extended", () => {
  assert.equal(debugExitStatus(0), 1);
  assert.equal(debugExitStatus(0xffff_ffff), 0x1_ffff_ffff);
  const { machine, io } = setup();
  assert.ok(io.write(DEBUG_EXIT_PORT, 4, 0xffff_ffffn, 1));
  assert.equal((machine.stopReason as { code: number }).code, 0x1_ffff_ffff);
  const other = setup();
  assert.ok(other.io.write(DEBUG_EXIT_PORT + 3, 1, 0x1ffn, 0), "the last port of the block");
  assert.equal((other.machine.stopReason as { code: number }).code, 0x1ff, "a byte: 0xff");
  assert.equal(io.read(DEBUG_EXIT_PORT, 1), 0n);
  assert.equal(io.read(DEBUG_EXIT_PORT + DEBUG_EXIT_SIZE, 1), undefined, "four ports only");
});

Deno.test("debug exit: the first write wins", () => {
  const { machine, io } = setup();
  io.write(DEBUG_EXIT_PORT, 1, 1n, 0);
  io.write(DEBUG_EXIT_PORT, 1, 2n, 0);
  assert.equal((machine.stopReason as { code: number }).code, 3);
});
