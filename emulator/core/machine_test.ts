import assert from "node:assert/strict";
import { type Cpu, type CpuState, Machine } from "./machine.ts";

/** A CPU that "executes" one instruction per nanosecond and logs its quanta. */
class CountingCpu implements Cpu {
  state: CpuState = "running";
  timeNs = 0;
  instret = 0;
  pending = false;
  constructor(
    readonly index: number,
    readonly log: string[],
    readonly idleAfter = Infinity,
  ) {}
  run(untilNs: number): void {
    const n = untilNs - this.timeNs;
    this.log.push(`${this.index}:${this.timeNs}+${n}`);
    this.instret += n;
    this.timeNs = untilNs;
    if (this.instret >= this.idleAfter) this.state = "idle";
  }
  nowNs(): number {
    return this.timeNs;
  }
  wakeable(): boolean {
    return this.pending;
  }
}

function interleaving(seed: number): string[] {
  const log: string[] = [];
  const m = new Machine<CountingCpu>({ memory: 1 << 20, seed });
  for (let i = 0; i < 4; i++) m.cpus.push(new CountingCpu(i, log));
  assert.deepEqual(m.run(50_000), { kind: "paused" });
  return log;
}

Deno.test("machine: the same seed interleaves the CPUs identically", () => {
  assert.deepEqual(interleaving(7), interleaving(7));
});

Deno.test("machine: another seed gives another interleaving", () => {
  assert.notDeepEqual(interleaving(7), interleaving(8));
});

Deno.test("machine: CPUs stay within one quantum of each other", () => {
  const log: string[] = [];
  const m = new Machine<CountingCpu>({ memory: 1 << 20, seed: 3 });
  for (let i = 0; i < 4; i++) m.cpus.push(new CountingCpu(i, log));
  m.run(100_000);
  const times = m.cpus.map((c) => c.timeNs);
  assert.ok(Math.max(...times) - Math.min(...times) <= 2000, `skew: ${times}`);
  assert.ok(Math.min(...times) >= 100_000 - 2000);
});

Deno.test("machine: a quantum ends at the next device event, which fires on time", () => {
  const log: string[] = [];
  const m = new Machine<CountingCpu>({ memory: 1 << 20, quantumMinNs: 5000, quantumMaxNs: 5000 });
  m.cpus.push(new CountingCpu(0, log));
  let firedAt = -1;
  m.events.schedule(1234, () => (firedAt = m.now()));
  m.run(10_000);
  assert.equal(firedAt, 1234);
  assert.equal(log[0], "0:0+1234");
});

Deno.test("machine: idle CPUs jump to the next event and wake on an interrupt", () => {
  const log: string[] = [];
  const m = new Machine<CountingCpu>({ memory: 1 << 20 });
  const cpu = new CountingCpu(0, log, 100);
  m.cpus.push(cpu);
  m.events.schedule(1_000_000, () => (cpu.pending = true));
  m.run(1_000_000);
  assert.equal(cpu.state, "running");
  assert.equal(cpu.timeNs, 1_000_000);
});

Deno.test("machine: when nothing can ever happen it stops with a deadlock, not a hang", () => {
  const m = new Machine<CountingCpu>({ memory: 1 << 20 });
  m.cpus.push(new CountingCpu(0, [], 10));
  const r = m.run();
  assert.equal(r.kind, "deadlock");
  assert.match((r as { message: string }).message, /waits for an interrupt/);
});

Deno.test("machine: an exception escaping a CPU becomes a machine check", () => {
  const m = new Machine<CountingCpu>({ memory: 1 << 20 });
  const cpu = new CountingCpu(0, []);
  cpu.run = () => {
    throw new TypeError("boom");
  };
  m.cpus.push(cpu);
  const r = m.run();
  assert.equal(r.kind, "error");
  assert.match((r as { message: string }).message, /TypeError: boom/);
  assert.equal(m.run().kind, "error", "a stopped machine stays stopped");
});

Deno.test("machine: a CPU that makes no progress is reported", () => {
  const m = new Machine<CountingCpu>({ memory: 1 << 20 });
  const cpu = new CountingCpu(0, []);
  cpu.run = () => {};
  m.cpus.push(cpu);
  const r = m.run();
  assert.equal(r.kind, "error");
  assert.match((r as { message: string }).message, /no progress/);
});

Deno.test("machine: power-off carries the guest's exit code", () => {
  const m = new Machine<CountingCpu>({ memory: 1 << 20 });
  const cpu = new CountingCpu(0, []);
  cpu.run = (until) => {
    cpu.timeNs = until;
    m.powerOff(3);
  };
  m.cpus.push(cpu);
  const r = m.run();
  assert.deepEqual(r, { kind: "shutdown", code: 3, message: "the guest powered the machine off" });
});

Deno.test("machine: a CPU that ran past the pause time still lets now() advance", () => {
  // One long kernel entry can carry a CPU far past `untilNs`; a host that keeps calling
  // run(now() + slice) must see time move on every call, or it would spin forever.
  const m = new Machine<CountingCpu>({ memory: 1 << 20 });
  const cpu = new CountingCpu(0, []);
  cpu.run = () => {
    cpu.timeNs += 1_000_000; // far beyond any slice
  };
  m.cpus.push(cpu);
  assert.deepEqual(m.run(10), { kind: "paused" });
  for (let i = 0; i < 5; i++) {
    const before = m.now();
    assert.deepEqual(m.run(before + 10), { kind: "paused" });
    assert.equal(m.now(), before + 10);
  }
});
