/**
 * Compiled blocks (jit.ts) must be indistinguishable from the interpreter: the same
 * registers, flags, faults and instruction counts; invalidated when their code changes;
 * bound to the virtual address they were compiled for; interruptible.
 */

import assert from "node:assert/strict";
import type { ApicLink } from "./cpu_api.ts";
import { EXC_PF, RAX, RBX, RCX, RDI, RSI } from "./regs.ts";
import { bytes, X86TestBench } from "./testing.ts";

const CODE = 0x40_0000;
const DATA = 0x60_0000;

/** Runs `hex` from CODE on a bench with or without block compilation. */
function run(jit: boolean, hex: string, setup: (t: X86TestBench) => void = () => {}) {
  const t = new X86TestBench({ jit, jitThreshold: 8 });
  t.mapUser(CODE, 0x1000); // writable code, for the self-modifying case
  t.writeUser(CODE, bytes(hex));
  setup(t);
  const trap = t.runUser(CODE);
  const regs = [...t.cpu.regs].slice(0, 8);
  return { t, trap, regs, instret: t.cpu.instret, blocks: countBlocks(t) };
}

function countBlocks(t: X86TestBench): number {
  let n = 0;
  for (let off = 0; off < 64; off++) {
    // The decoded instructions of the code page, through the CPU's cache.
    const page = t.cpu.icache.page(t.userPhys(CODE) - 0);
    if (page[off]?.block) n++;
  }
  return n;
}

Deno.test("jit: a fault in the middle of a compiled block is as precise as in the interpreter", () => {
  // 1: inc eax; cmp eax, ebx; mov ecx, [rdi+rax*8]; jne 1b  -- runs off the mapped data.
  const hex = "ff c0 39 d8 8b 0c c7 75 f7";
  const setup = (t: X86TestBench) => {
    t.mapUser(DATA, 0x2000, { exec: false });
    t.cpu.regs[RDI] = BigInt(DATA);
    t.cpu.regs[RBX] = 100_000n;
  };
  const a = run(false, hex, setup), b = run(true, hex, setup);
  assert.equal(a.blocks, 0);
  assert.ok(b.blocks > 0, "the loop was compiled");
  assert.equal(b.trap.vector, EXC_PF);
  assert.deepEqual(
    { rip: b.trap.rip, rflags: b.trap.rflags, err: b.trap.errorCode, cr2: b.trap.cr2 },
    { rip: a.trap.rip, rflags: a.trap.rflags, err: a.trap.errorCode, cr2: a.trap.cr2 },
  );
  assert.equal(b.trap.rip, BigInt(CODE + 4), "RIP at the faulting load");
  assert.deepEqual(b.regs, a.regs);
  assert.equal(b.instret, a.instret);
  assert.equal(b.regs[RAX], 1024n);
});

Deno.test("jit: code that rewrites a compiled block runs its new bytes", () => {
  // start: mov ecx, 100
  // loop:  add eax, 1 ; dec ecx ; jnz loop
  //        test ebx, ebx ; jnz done
  //        mov byte [rip - 16], 5   (the immediate of "add eax, 1") ; inc ebx ; jmp start
  // done:  int3
  const hex = "b9 64 00 00 00 83 c0 01 ff c9 75 f9 85 db 75 0b c6 05 f0 ff ff ff 05 ff c3 eb e5 cc";
  for (const jit of [false, true]) {
    const r = run(jit, hex);
    assert.equal(r.regs[RAX], 600n, `jit ${jit}`);
    assert.equal(r.regs[RBX], 1n);
  }
});

Deno.test("jit: a block is bound to the virtual address it was compiled for", () => {
  // 1: lea rax, [rip + 0]; dec ecx; jnz 1b; int3 -- the same page mapped at two addresses.
  const t = new X86TestBench({ jitThreshold: 8 });
  const pa = t.mapUser(CODE, 0x1000);
  t.writeUser(CODE, bytes("48 8d 05 00 00 00 00 ff c9 75 f5 cc"));
  t.mapPhys(0x50_0000n, pa, 0x1000);
  t.cpu.regs[RCX] = 100n;
  t.runUser(CODE);
  assert.equal(t.cpu.regs[RAX], BigInt(CODE + 7));
  t.cpu.regs[RCX] = 100n;
  t.runUser(0x50_0000);
  assert.equal(t.cpu.regs[RAX], 0x50_0007n, "RIP-relative from the second mapping");
});

Deno.test("jit: a compiled endless loop still lets an interrupt in", () => {
  const t = new X86TestBench({ jitThreshold: 8 });
  const apic: ApicLink & { pending: number } = {
    pending: -1,
    pendingVector() {
      return this.pending;
    },
    acknowledge() {
      this.pending = -1;
    },
  };
  t.cpu.apic = apic;
  t.code(CODE, bytes("ff c0 eb fc")); // 1: inc eax; jmp 1b
  t.machine.events.schedule(200_000, () => (apic.pending = 0x44));
  const trap = t.runUser(CODE);
  assert.equal(trap.vector, 0x44);
  assert.ok(t.cpu.regs[RAX] > 10_000n, "the loop ran compiled for a while");
  assert.ok(
    trap.rip === BigInt(CODE) || trap.rip === BigInt(CODE + 2),
    "taken at an instruction boundary",
  );
});

Deno.test("jit: loads, stores, calls and pushes give the interpreter's results", () => {
  // A checksum loop over an array, with a call per element:
  // 1: mov rax, [rsi+rcx*8] ; call f ; add rbx, rax ; push rbx ; pop rdx ; inc ecx ;
  //    cmp ecx, 64 ; jne 1b ; int3
  // f: lea rax, [rax+rax*2+7] ; shl rax, 3 ; xor rax, rcx ; ret
  const hex = "48 8b 04 ce e8 0d 00 00 00 48 01 c3 53 5a ff c1 83 f9 40 75 eb cc" +
    " 48 8d 44 40 07 48 c1 e0 03 48 31 c8 c3";
  const setup = (t: X86TestBench) => {
    t.mapUser(DATA, 0x1000, { exec: false });
    for (let k = 0; k < 64; k++) t.poke64(t.userPhys(DATA + 8 * k), BigInt(k * k + 1));
    t.cpu.regs[RSI] = BigInt(DATA);
  };
  const results = [false, true].map((jit) => {
    const rs = [];
    for (let pass = 0; pass < 3; pass++) rs.push(run(jit, hex, setup).regs[RBX]);
    return rs;
  });
  assert.deepEqual(results[1], results[0]);
  assert.notEqual(results[0][0], 0n);
});
