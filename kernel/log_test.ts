import assert from "node:assert/strict";
import { KernelLog } from "./log.ts";

function log(capacity?: number) {
  const clock = { now: 1_234_567_890, cpu: 0 };
  const l = new KernelLog({ nowNs: () => clock.now, cpuIndex: () => clock.cpu }, capacity);
  const console: string[] = [];
  return { l, clock, console, attach: () => l.attach((t) => console.push(t)) };
}

Deno.test("log: records carry the virtual time, the CPU and the level", () => {
  const { l, clock, console, attach } = log();
  attach();
  l.info("pmm: ready");
  clock.cpu = 3;
  clock.now = 5_000;
  l.warn("two\nlines");
  assert.deepEqual(console, [
    "[    1.234567] cpu0 info  pmm: ready\n",
    "[    0.000005] cpu3 warn  two\n[    0.000005] cpu3 warn  lines\n",
  ]);
});

Deno.test("log: records below the console level reach only the ring; user output always shows", () => {
  const { l, console, attach } = log();
  attach();
  l.consoleLevel = "warn";
  l.debug("quiet");
  l.info("also quiet");
  l.user("prog[2]: hello");
  l.error("loud");
  assert.equal(console.length, 2);
  assert.match(console[0], /info {2}prog\[2\]: hello/);
  assert.match(console[1], /error loud/);
  assert.match(l.text(), /debug quiet\n.*info {2}also quiet\n.*hello\n.*loud\n$/);
});

Deno.test("log: what is logged before the console exists waits for it", () => {
  const { l, console, attach } = log();
  l.info("early");
  assert.equal(console.length, 0);
  attach();
  assert.equal(console.length, 1);
  assert.match(console[0], /early/);
});

Deno.test("log: the ring keeps the newest bytes", () => {
  const { l } = log(64);
  for (let i = 0; i < 10; i++) l.info(`message ${i}`);
  const text = l.text();
  assert.equal(text.length, 64);
  assert.ok(text.endsWith("info  message 9\n"), text);
  assert.equal(l.tail(5).length, 5);
  assert.equal(new TextDecoder().decode(l.tail(5)), "e 9\n".padStart(5, "g"));
});
