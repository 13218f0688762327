/**
 * Several CPUs on one machine: each has its own TLB (so a page-table change needs a
 * flush on every CPU that may cache it: the reason for TLB shoot-downs), its own
 * decoded-instruction cache and compiled blocks (which must notice code another CPU
 * wrote), and they interleave deterministically by seed.
 */

import assert from "node:assert/strict";
import { RAX, RBX, RDI } from "./regs.ts";
import { bytes, X86TestBench } from "./testing.ts";

const CODE = 0x40_0000;
const DATA = 0x60_0000;

/** A bench with two CPUs (CPU 1 is started through SIPI when it first enters ring 3). */
function twoCpus(seed = 1) {
  const t = new X86TestBench({ cpus: 2, seed, jitThreshold: 8 });
  return { t, c0: t.cpus[0], c1: t.cpus[1] };
}

Deno.test("smp: each CPU has its own TLB: INVLPG on one leaves the other's entry stale", () => {
  const { t, c0, c1 } = twoCpus();
  t.code(CODE, bytes("cc"));
  t.runUser(CODE, { cpu: 1 }); // starts CPU 1 (SIPI, its trampoline), which traps at once
  const a = t.alloc(1), b = t.alloc(1);
  t.poke64(a, 0xan);
  t.poke64(b, 0xbn);
  const leaf = t.mapPhys(0x50_0000n, a, 4096);
  assert.equal(c0.load(0x50_0000n, 8), 0xan);
  assert.equal(c1.load(0x50_0000n, 8), 0xan);
  t.poke64(leaf, (t.peek64(leaf) & 0xfffn) | BigInt(b));
  c0.invlpg(0x50_0000n);
  assert.equal(c0.load(0x50_0000n, 8), 0xbn);
  assert.equal(c1.load(0x50_0000n, 8), 0xan, "CPU 1 still uses its stale entry");
  c1.invlpg(0x50_0000n); // the shoot-down
  assert.equal(c1.load(0x50_0000n, 8), 0xbn);
});

Deno.test("smp: code one CPU writes is what another CPU runs next, compiled blocks included", () => {
  const { t, c0, c1 } = twoCpus();
  // Shared code (writable): 1: add rax, 1 ; jmp 1b  -- CPU 1 spins in it, compiled.
  t.mapUser(CODE, 0x1000);
  t.writeUser(CODE, bytes("48 83 c0 01 eb fa"));
  // CPU 0's program, a page further: wait, then patch the add's immediate to 100.
  // 1: dec ebx; jnz 1b; mov byte [rdi], 100; 2: jmp 2b
  t.writeUser(CODE + 0x100, bytes("ff cb 75 fc c6 07 64 eb fe"));
  t.mapUser(DATA, 0x1000, { exec: false });
  c0.regs[RBX] = 20_000n;
  c0.regs[RDI] = BigInt(CODE + 3); // the immediate of "add rax, 1"
  c1.regs[RAX] = 0n;
  t.enterUser(CODE + 0x100, { cpu: 0 });
  t.enterUser(CODE, { cpu: 1 });
  t.run(200_000);
  const before = c1.regs[RAX];
  assert.ok(before > 1000n, "CPU 1 ran its loop");
  t.run(200_000);
  const gained = c1.regs[RAX] - before;
  assert.equal(gained % 100n, 0n, "after the patch, every iteration adds 100");
  assert.ok(gained > 0n);
});

Deno.test("smp: the interleaving depends on the seed, and replays exactly with it", () => {
  const run = (seed: number) => {
    const { t, c0, c1 } = twoCpus(seed);
    t.mapUser(CODE, 0x1000);
    // Both CPUs increment the shared counter with lock xadd and record what they saw.
    // 1: mov eax, 1; lock xadd [rdi], eax; mov [rsi+rcx*4], eax; inc ecx; cmp ecx, 200; jne 1b; 2: jmp 2b
    t.writeUser(
      CODE,
      bytes("b8 01 00 00 00 f0 0f c1 07 89 04 8e ff c1 81 f9 c8 00 00 00 75 ea eb fe"),
    );
    t.mapUser(DATA, 0x2000, { exec: false });
    for (const [cpu, log] of [[c0, DATA + 0x400], [c1, DATA + 0x800]] as const) {
      cpu.regs[RDI] = BigInt(DATA);
      cpu.regs[6] = BigInt(log);
      cpu.regs[1] = 0n;
      t.enterUser(CODE, { cpu: cpu.index });
    }
    t.run(100_000);
    assert.equal(t.peek64(t.userPhys(DATA)) & 0xffff_ffffn, 400n, "no increment lost");
    return [...t.readUser(DATA + 0x400, 800)].join(",");
  };
  assert.equal(run(3), run(3));
  const seeds = [1, 2, 3, 4, 5].map(run);
  assert.ok(new Set(seeds).size > 1, "different seeds interleave differently");
});
