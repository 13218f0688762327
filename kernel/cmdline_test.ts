import assert from "node:assert/strict";
import { parseCmdline } from "./cmdline.ts";

Deno.test("cmdline: defaults, known keys, and unknown words ignored", () => {
  assert.deepEqual(parseCmdline("").options, {
    tickHz: 100,
    sliceTicks: 1,
    logLevel: "info",
    asids: undefined,
    timer: "auto",
  });
  const { options, warnings } = parseCmdline(
    "console=ttyS0 tick_hz=1000  slice_ticks=3 loglevel=debug asids=16 timer=platform quiet",
  );
  assert.deepEqual(options, {
    tickHz: 1000,
    sliceTicks: 3,
    logLevel: "debug",
    asids: 16,
    timer: "platform",
  });
  assert.deepEqual(warnings, []);
});

Deno.test("cmdline: bad values keep the default and say why", () => {
  const { options, warnings } = parseCmdline("tick_hz=fast asids=1 loglevel=loud timer=hpet");
  assert.equal(options.tickHz, 100);
  assert.equal(options.asids, undefined);
  assert.equal(options.logLevel, "info");
  assert.equal(options.timer, "auto");
  assert.equal(warnings.length, 4);
  assert.match(warnings[0], /tick_hz=fast: give an integer from 1 to 1000000/);
  assert.match(warnings[2], /loglevel=loud: give one of debug, info, warn, error/);
});
