/**
 * GCC's code on the emulated CPU: testdata/gcc/prog.c, a freestanding program that
 * exercises the integer instruction set GCC emits, compiled at -O0, -O1, -O2, -Os and
 * -O2 -mpopcnt -mlzcnt (testdata/gcc/gen_gcc.sh), must print exactly what it printed when
 * it ran natively on the host, and exit with the same status. The bench's kernel serves
 * the three Linux system calls the program uses: write, exit and arch_prctl(ARCH_SET_FS).
 */

import assert from "node:assert/strict";
import { X86TestBench } from "./testing.ts";
import { IA32_FS_BASE, RAX, RDI, RDX, RSI } from "./regs.ts";

const dir = new URL("./testdata/gcc/", import.meta.url);
const VARIANTS = ["O0", "O1", "O2", "Os", "O2-popcnt-lzcnt"];

/** Runs an ELF image to its exit syscall; returns what it wrote and its status. */
function runProgram(
  elf: Uint8Array,
  jit = true,
): { out: string; status: number; instructions: number } {
  const t = new X86TestBench({ memory: 32 * 2 ** 20, jit, jitThreshold: 64 });
  const entry = t.loadElf(elf);
  let out = "";
  let status = -1;
  t.onSyscall = (_trap, cpu) => {
    const r = cpu.regs;
    const nr = Number(r[RAX]);
    switch (nr) {
      case 1: { // write(fd, buf, count)
        const buf = BigInt.asUintN(64, r[RSI]), n = Number(r[RDX]);
        for (let k = 0n; k < BigInt(n); k++) {
          out += String.fromCharCode(Number(cpu.load(buf + k, 1)));
        }
        r[RAX] = BigInt(n);
        return "resume";
      }
      case 60: // exit(status)
        status = Number(r[RDI] & 0xffn);
        return "stop";
      case 158: // arch_prctl(ARCH_SET_FS, addr)
        if (r[RDI] !== 0x1002n) break;
        cpu.wrmsr(IA32_FS_BASE, r[RSI]);
        r[RAX] = 0n;
        return "resume";
    }
    r[RAX] = -38n; // ENOSYS
    return "resume";
  };
  t.runUser(entry, { rsp: t.stack(0x7fff_f000, 0x10000), limitNs: 200_000_000 });
  return { out, status, instructions: t.cpu.instret };
}

Deno.test("gcc O2: the interpreter alone and with compiled blocks run the same instructions", async () => {
  const elf = await Deno.readFile(new URL("O2.elf", dir));
  const a = runProgram(elf, false), b = runProgram(elf, true);
  assert.equal(a.out, b.out);
  assert.equal(a.instructions, b.instructions, "the same instruction count, to the instruction");
});

for (const v of VARIANTS) {
  Deno.test(`gcc ${v}: prog.c prints what it printed on the host`, async () => {
    const elf = await Deno.readFile(new URL(`${v}.elf`, dir));
    const want = await Deno.readTextFile(new URL(`${v}.out`, dir));
    const status = Number((await Deno.readTextFile(new URL(`${v}.status`, dir))).trim());
    const got = runProgram(elf);
    assert.equal(got.out, want);
    assert.equal(got.status, status);
    assert.ok(got.instructions > 100_000, `only ${got.instructions} instructions ran`);
  });
}
