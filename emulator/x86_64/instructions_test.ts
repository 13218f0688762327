/**
 * Instruction semantics beyond the arithmetic flags (those are in flags_vectors_test.ts):
 * the stack and control transfers, conditions, moves and extensions, atomics, bit
 * addressing in memory, string instructions, addressing forms and prefixes, and the
 * faults instructions raise (#DE, #GP and #SS for non-canonical addresses, #UD).
 * Each case is a few bytes of machine code with the instruction in a comment, run in
 * ring 3 until the int3 (CC) that ends it.
 */

import assert from "node:assert/strict";
import {
  EXC_DB,
  EXC_DE,
  EXC_GP,
  EXC_PF,
  EXC_SS,
  EXC_UD,
  IA32_FS_BASE,
  PF_I,
  PF_U,
  R13,
  R8,
  RAX,
  RBP,
  RBX,
  RCX,
  RDI,
  RDX,
  RFLAGS_AC,
  RFLAGS_DF,
  RFLAGS_ID,
  RFLAGS_IF,
  RFLAGS_IOPL,
  RSI,
  RSP,
} from "./regs.ts";
import { bytes, USER_SS, X86TestBench } from "./testing.ts";

const CODE = 0x40_0000;
const DATA = 0x60_0000;
const STACK = 0x7fff_f000;

/** A bench with code at CODE, 8 KiB of data at DATA and a stack below STACK. */
function bench() {
  const t = new X86TestBench();
  t.mapUser(DATA, 0x2000, { exec: false });
  t.stack(STACK);
  const r = t.cpu.regs;
  /** Runs `hex` (which must end in cc) from CODE with RSP = STACK; returns the trap. */
  const run = (hex: string, rflags?: number) => {
    t.code(CODE, bytes(hex));
    return t.runUser(CODE, { rsp: STACK, rflags });
  };
  const u64 = (k: number) => BigInt.asUintN(64, r[k]);
  const mem64 = (va: number) => t.peek64(t.userPhys(va));
  const setMem64 = (va: number, v: bigint) => t.poke64(t.userPhys(va), v);
  return { t, r, run, u64, mem64, setMem64 };
}

Deno.test("stack: push and pop, 64 and 16 bits, immediates, RSP itself", () => {
  const { r, run, u64, mem64 } = bench();
  r[RAX] = 0x1122_3344_5566_7788n;
  run("50 5b cc"); // push rax; pop rbx
  assert.equal(r[RBX], r[RAX]);
  run("6a ff 58 cc"); // push -1 (imm8, sign-extended); pop rax
  assert.equal(u64(RAX), 0xffff_ffff_ffff_ffffn);
  run("68 78 56 34 12 5a cc"); // push 0x12345678; pop rdx
  assert.equal(r[RDX], 0x1234_5678n);
  r[RAX] = 0xaaaa_bbbbn;
  run("66 50 66 59 cc"); // push ax; pop cx (16-bit)
  assert.equal(r[RCX] & 0xffffn, 0xbbbbn);
  run("54 cc"); // push rsp: pushes the value before the push
  assert.equal(mem64(STACK - 8), BigInt(STACK));
  assert.equal(run("54 5c cc").rsp, BigInt(STACK), "push rsp; pop rsp"); // the frame's RSP
  r[RAX] = 0x99n;
  run("50 8f 44 24 f8 cc"); // push rax; pop qword [rsp-8]: the address uses the new RSP
  assert.equal(mem64(STACK - 8), 0x99n);
});

Deno.test("control: call, ret, ret imm16, indirect call and jmp, leave, enter", () => {
  const { r, run, u64, setMem64 } = bench();
  // call +5; int3 (skipped); (target:) pop rax; int3
  run("e8 01 00 00 00 cc 58 cc");
  assert.equal(u64(RAX), BigInt(CODE + 5), "call pushes the return address");
  // call +2; int3; int3; (target:) ret 8 ... the int3 at CODE+5 runs after the return
  assert.equal(run("e8 02 00 00 00 cc cc c2 08 00").rsp, BigInt(STACK + 8), "ret 8");
  r[RAX] = BigInt(CODE + 4);
  run("ff d0 cc cc 5b cc"); // call rax; int3; int3; (at +4:) pop rbx; int3
  assert.equal(u64(RBX), BigInt(CODE + 2));
  setMem64(DATA, BigInt(CODE + 3));
  r[RDI] = BigInt(DATA);
  run("ff 27 cc 48 c7 c0 07 00 00 00 cc"); // jmp [rdi]; int3; mov rax, 7; int3
  assert.equal(r[RAX], 7n);
  r[RBP] = 0x1234n;
  assert.equal(run("c8 20 00 00 c9 cc").rsp, BigInt(STACK), "enter 32, 0; leave");
  assert.equal(r[RBP], 0x1234n);
  r[RBP] = BigInt(STACK - 0x100);
  assert.equal(run("c8 10 00 00 cc").rsp, BigInt(STACK - 8 - 16), "enter 16, 0");
  assert.equal(u64(RBP), BigInt(STACK - 8));
});

Deno.test("conditions: all 16 condition codes after CMP, through SETcc and Jcc", () => {
  const { r, run } = bench();
  const values = [
    0n,
    1n,
    0x7fff_ffff_ffff_ffffn,
    0x8000_0000_0000_0000n,
    0xffff_ffff_ffff_ffffn,
    5n,
  ];
  const s = (v: bigint) => BigInt.asIntN(64, v);
  for (const a of values) {
    for (const b of values) {
      const d = BigInt.asUintN(64, a - b);
      const cf = a < b, zf = a === b, sf = s(d) < 0n;
      const of = s(a) - s(b) !== s(d);
      const pf = [...(d & 0xffn).toString(2)].filter((c) => c === "1").length % 2 === 0;
      const conds = [
        of,
        !of,
        cf,
        !cf,
        zf,
        !zf,
        cf || zf,
        !cf && !zf,
        sf,
        !sf,
        pf,
        !pf,
        sf !== of,
        sf === of,
        zf || sf !== of,
        !zf && sf === of,
      ];
      r[RAX] = BigInt.asIntN(64, a);
      r[RBX] = BigInt.asIntN(64, b);
      for (let cc = 0; cc < 16; cc++) {
        // cmp rax, rbx; setcc cl; int3
        run(`48 39 d8 0f ${(0x90 + cc).toString(16)} c1 cc`);
        assert.equal(r[RCX] & 0xffn, conds[cc] ? 1n : 0n, `setcc ${cc} a=${a} b=${b}`);
        // cmp rax, rbx; jcc +2; mov cl, 0; int3  (cl = 1 before)
        r[RCX] = 1n;
        run(`48 39 d8 ${(0x70 + cc).toString(16)} 02 b1 00 cc`);
        assert.equal(r[RCX] & 0xffn, conds[cc] ? 1n : 0n, `jcc ${cc} a=${a} b=${b}`);
      }
    }
  }
});

Deno.test("conditions: CMOVcc writes 32-bit registers always and reads its memory operand always", () => {
  const { r, run } = bench();
  r[RAX] = -1n;
  r[RBX] = 5n;
  run("31 c9 0f 45 c3 cc"); // xor ecx, ecx (ZF = 1); cmovnz eax, ebx (not taken)
  assert.equal(r[RAX], 0xffff_ffffn, "a 32-bit cmov zero-extends even when not taken");
  r[RDI] = 0x90_0000n;
  const trap = run("31 c9 48 0f 45 07 cc"); // cmovnz rax, [rdi] (not taken, unmapped)
  assert.equal(trap.vector, EXC_PF, "the source is read whatever the condition");
});

Deno.test("moves: narrow writes keep the upper bits, 32-bit writes clear them, extensions", () => {
  const { r, run, u64 } = bench();
  r[RAX] = -1n;
  run("b0 12 cc"); // mov al, 0x12
  assert.equal(u64(RAX), 0xffff_ffff_ffff_ff12n);
  run("b4 34 cc"); // mov ah, 0x34
  assert.equal(u64(RAX), 0xffff_ffff_ffff_3412n);
  run("66 b8 78 56 cc"); // mov ax, 0x5678
  assert.equal(u64(RAX), 0xffff_ffff_ffff_5678n);
  run("b8 01 00 00 00 cc"); // mov eax, 1
  assert.equal(u64(RAX), 1n);
  r[RBX] = 0x80n;
  run("48 0f be c3 cc"); // movsx rax, bl
  assert.equal(u64(RAX), 0xffff_ffff_ffff_ff80n);
  r[RBX] = 0x8000_0000n;
  run("48 63 c3 cc"); // movsxd rax, ebx
  assert.equal(u64(RAX), 0xffff_ffff_8000_0000n);
  r[RBX] = 0xff80n;
  run("0f b7 c3 cc"); // movzx eax, bx
  assert.equal(u64(RAX), 0xff80n);
  r[RAX] = 0x1234_5678_9abc_def0n;
  run("48 0f c8 cc"); // bswap rax
  assert.equal(u64(RAX), 0xf0de_bc9a_7856_3412n);
  run("0f c8 cc"); // bswap eax (of 0x78563412; clears the upper half)
  assert.equal(u64(RAX), 0x1234_5678n);
  const sx: [string, bigint, bigint][] = [
    ["66 98", 0x80n, 0xff80n], // cbw
    ["98", 0x8000n, 0xffff_8000n], // cwde
    ["48 98", 0x8000_0000n, 0xffff_ffff_8000_0000n], // cdqe
  ];
  for (const [code, a, want] of sx) {
    r[RAX] = a;
    run(`${code} cc`);
    assert.equal(u64(RAX) & (want > 0xffffn ? -1n : 0xffffn) & 0xffff_ffff_ffff_ffffn, want, code);
  }
  r[RAX] = -5n;
  r[RDX] = 0n;
  run("48 99 cc"); // cqo
  assert.equal(u64(RDX), 0xffff_ffff_ffff_ffffn);
  r[RAX] = 0x8000n;
  r[RDX] = 0n;
  run("66 99 cc"); // cwd
  assert.equal(r[RDX] & 0xffffn, 0xffffn);
});

Deno.test("atomics: xchg, cmpxchg, xadd, cmpxchg8b/16b, lock", () => {
  const { r, run, mem64, setMem64, t } = bench();
  r[RDI] = BigInt(DATA);
  setMem64(DATA, 10n);
  r[RAX] = 10n;
  r[RCX] = 20n;
  run("f0 48 0f b1 0f cc"); // lock cmpxchg [rdi], rcx: equal
  assert.equal(mem64(DATA), 20n);
  assert.equal(t.traps.at(-1)!.rflags & 0x40n, 0x40n, "ZF = 1");
  r[RAX] = 10n;
  run("f0 48 0f b1 0f cc"); // not equal: rax = [rdi]
  assert.equal(r[RAX], 20n);
  assert.equal(t.traps.at(-1)!.rflags & 0x40n, 0n);
  r[RAX] = 5n;
  run("f0 48 0f c1 07 cc"); // lock xadd [rdi], rax
  assert.equal(mem64(DATA), 25n);
  assert.equal(r[RAX], 20n);
  r[RAX] = 1n;
  run("48 87 07 cc"); // xchg [rdi], rax
  assert.equal(mem64(DATA), 1n);
  assert.equal(r[RAX], 25n);
  r[R8] = 7n;
  r[RAX] = 8n;
  run("49 90 cc"); // xchg r8, rax (not a nop)
  assert.deepEqual([r[R8], r[RAX]], [8n, 7n]);
  setMem64(DATA + 16, 0x1111n);
  setMem64(DATA + 24, 0x2222n);
  r[RDI] = BigInt(DATA + 16);
  r[RAX] = 0x1111n;
  r[RDX] = 0x2222n;
  r[RBX] = 0x3333n;
  r[RCX] = 0x4444n;
  run("f0 48 0f c7 0f cc"); // lock cmpxchg16b [rdi]
  assert.deepEqual([mem64(DATA + 16), mem64(DATA + 24)], [0x3333n, 0x4444n]);
  r[RDI] = BigInt(DATA + 8);
  assert.equal(run("48 0f c7 0f cc").vector, EXC_GP, "cmpxchg16b needs 16-byte alignment");
  assert.equal(run("f0 01 d8 cc").vector, EXC_UD, "lock add eax, ebx: no memory operand");
});

Deno.test("bits in memory: BT/BTS with a register offset address beyond the operand", () => {
  const { r, run, t } = bench();
  const pa = t.userPhys(DATA);
  t.machine.ram.u8.fill(0, pa, pa + 64);
  r[RDI] = BigInt(DATA + 32);
  r[RAX] = 100n; // bit 100 from [rdi]: byte 12, bit 4
  run("48 0f ab 07 cc"); // bts [rdi], rax
  assert.equal(t.machine.ram.u8[pa + 32 + 12], 0x10);
  r[RAX] = -1n; // bit -1: the top bit of the quadword below [rdi]
  run("48 0f ab 07 cc");
  assert.equal(t.machine.ram.u8[pa + 31], 0x80);
  run("0f ba 2f 44 cc"); // bts dword [rdi], 68: an immediate wraps within the operand (bit 4)
  assert.equal(t.machine.ram.u8[pa + 32], 0x10);
  r[RAX] = 100n;
  run("48 0f a3 07 cc"); // bt [rdi], rax
  assert.equal(t.traps.at(-1)!.rflags & 1n, 1n, "CF = the tested bit");
});

Deno.test("strings: rep movs, rep stos, repe cmps, repne scas, lods, the direction flag", () => {
  const { r, run, t } = bench();
  const pa = t.userPhys(DATA);
  const u8 = t.machine.ram.u8;
  for (let k = 0; k < 16; k++) u8[pa + k] = k + 1;
  Object.assign(r, {});
  r[RSI] = BigInt(DATA);
  r[RDI] = BigInt(DATA + 0x100);
  r[RCX] = 16n;
  run("f3 a4 cc"); // rep movsb
  assert.deepEqual([...u8.slice(pa + 0x100, pa + 0x110)], [...u8.slice(pa, pa + 16)]);
  assert.deepEqual([r[RCX], r[RSI], r[RDI]], [0n, BigInt(DATA + 16), BigInt(DATA + 0x110)]);
  r[RAX] = 0x0102_0304_0506_0708n;
  r[RDI] = BigInt(DATA + 0x200);
  r[RCX] = 3n;
  run("f3 48 ab cc"); // rep stosq
  assert.equal(t.peek64(pa + 0x210), 0x0102_0304_0506_0708n);
  assert.equal(r[RDI], BigInt(DATA + 0x218));
  u8[pa + 0x105] = 99; // a difference at index 5
  r[RSI] = BigInt(DATA);
  r[RDI] = BigInt(DATA + 0x100);
  r[RCX] = 16n;
  run("f3 a6 cc"); // repe cmpsb: stops after the mismatch
  assert.equal(r[RCX], 10n);
  assert.equal(r[RSI], BigInt(DATA + 6));
  r[RAX] = 9n;
  r[RDI] = BigInt(DATA);
  r[RCX] = 16n;
  run("f2 ae cc"); // repne scasb for 9
  assert.equal(r[RDI], BigInt(DATA + 9), "RDI is one past the match");
  r[RSI] = BigInt(DATA + 3);
  run("fd ac fc cc", 0x202); // std; lodsb; cld
  assert.equal(r[RAX] & 0xffn, 4n);
  assert.equal(r[RSI], BigInt(DATA + 2), "DF = 1 counts down");
  r[RCX] = 0n;
  r[RDI] = BigInt(DATA + 0x300);
  run("f3 aa cc"); // rep stosb with RCX = 0 does nothing
  assert.equal(r[RDI], BigInt(DATA + 0x300));
  r[RCX] = 0x1_0000_0002n; // with 67, ECX = 2 counts
  r[RDI] = BigInt(DATA + 0x400);
  run("67 f3 aa cc"); // rep stosb [edi]
  assert.equal(r[RCX], 0x0n, "a 32-bit count is written back as ECX (zero-extended)");
});

Deno.test("strings: a long rep stops at the quantum and continues; a fault keeps the progress", () => {
  const { r, run, t } = bench();
  r[RAX] = 0x5an;
  r[RDI] = BigInt(DATA);
  r[RCX] = 0x2000n + 0x100n; // runs past the 8 KiB mapping
  const trap = run("f3 aa cc");
  assert.equal(trap.vector, EXC_PF);
  assert.equal(trap.rip, BigInt(CODE), "RIP stays on the rep stosb");
  assert.equal(r[RCX], 0x100n, "RCX counts the bytes not yet stored");
  assert.equal(r[RDI], BigInt(DATA + 0x2000));
  assert.equal(t.machine.ram.u8[t.userPhys(DATA + 0x1fff)], 0x5a);
});

Deno.test("addressing: RIP-relative, no base, RBP/R13 with displacement 0, FS, 32-bit wrap", () => {
  const { r, run, u64, setMem64, t } = bench();
  run("48 8d 05 10 00 00 00 cc"); // lea rax, [rip+0x10]
  assert.equal(u64(RAX), BigInt(CODE + 7 + 0x10));
  r[RBX] = 0x100n;
  run("48 8d 04 9d 08 00 00 00 cc"); // lea rax, [rbx*4+8] (no base)
  assert.equal(u64(RAX), 0x408n);
  r[RBP] = 0x1000n;
  r[R13] = 0x2000n;
  run("48 8d 45 00 cc"); // lea rax, [rbp+0]
  assert.equal(u64(RAX), 0x1000n);
  run("49 8d 45 00 cc"); // lea rax, [r13+0]
  assert.equal(u64(RAX), 0x2000n);
  r[RBX] = -1n;
  run("8d 43 02 cc"); // lea eax, [rbx+2]: 32-bit result
  assert.equal(u64(RAX), 1n);
  setMem64(DATA + 8, 0xfeedn);
  t.cpu.wrmsr(IA32_FS_BASE, BigInt(DATA));
  run("64 48 8b 04 25 08 00 00 00 cc"); // mov rax, fs:[8]
  assert.equal(u64(RAX), 0xfeedn);
  r[RBX] = 0xffff_ffffn;
  run("67 8d 43 01 cc"); // lea eax, [ebx+1]: wraps at 32 bits
  assert.equal(u64(RAX), 0n);
  r[RSI] = BigInt(DATA) - 8n;
  setMem64(DATA, 0x77n);
  run("8b 46 08 cc"); // mov eax, [rsi+8]
  assert.equal(u64(RAX), 0x77n);
});

Deno.test("faults: #DE, non-canonical #GP and #SS, a branch to a non-canonical target", () => {
  const { r, run } = bench();
  r[RCX] = 0n;
  let trap = run("48 f7 f1 cc"); // div rcx
  assert.equal(trap.vector, EXC_DE);
  assert.equal(trap.rip, BigInt(CODE));
  r[RAX] = 0n;
  r[RDX] = 1n;
  r[RCX] = 1n;
  assert.equal(run("48 f7 f1 cc").vector, EXC_DE, "quotient overflow");
  r[RAX] = 0x8000_0000_0000_0000n;
  r[RDX] = -1n;
  r[RCX] = -1n;
  assert.equal(run("48 f7 f9 cc").vector, EXC_DE, "idiv of -2^63 by -1");
  r[RDI] = 0x8000_0000_0000n;
  trap = run("48 8b 07 cc"); // mov rax, [rdi]
  assert.equal(trap.vector, EXC_GP);
  assert.equal(trap.errorCode, 0);
  r[RBP] = 0x8000_0000_0000n;
  assert.equal(run("48 8b 45 00 cc").vector, EXC_SS, "an RBP-based operand is a stack reference");
  r[RAX] = 0x8000_0000_0000n;
  trap = run("ff e0 cc"); // jmp rax
  assert.equal(trap.vector, EXC_GP);
  assert.equal(trap.rip, BigInt(CODE), "the fault is at the jmp");
  const t2 = bench();
  t2.r[RSP] = 0x8000_0000_0010n;
  t2.t.code(CODE, bytes("50 cc")); // push rax with a non-canonical RSP
  assert.equal(t2.t.runUser(CODE, { rsp: 0x8000_0000_0010 }).vector, EXC_SS);
});

Deno.test("code: self-modifying code runs its new bytes; an instruction may span two pages", () => {
  const t = new X86TestBench();
  t.mapUser(CODE, 0x2000); // writable code pages
  // mov byte [rip+1], 0x05 -> patches the immediate of the next "add eax, 1" to 5
  // c6 05 01 00 00 00 05 : mov byte ptr [rip+1], 5  (rip+1 = the immediate below)
  // 83 c0 01             : add eax, 1
  t.writeUser(CODE, bytes("31 c0 c6 05 02 00 00 00 05 83 c0 01 cc"));
  t.runUser(CODE);
  assert.equal(t.cpu.regs[RAX], 5n);
  t.writeUser(CODE + 0xffe, bytes("b8 2a 00 00 00 cc")); // mov eax, 42 across the boundary
  t.runUser(CODE + 0xffe);
  assert.equal(t.cpu.regs[RAX], 42n);
  // With the second page gone, the fetch faults at that page, RIP at the instruction.
  const t2 = new X86TestBench();
  t2.mapUser(CODE, 0x1000);
  t2.writeUser(CODE + 0xffe, bytes("b8 2a"));
  const trap = t2.runUser(CODE + 0xffe);
  assert.equal(trap.vector, EXC_PF);
  assert.equal(trap.cr2, BigInt(CODE + 0x1000));
  assert.equal(trap.errorCode, PF_U | PF_I);
  assert.equal(trap.rip, BigInt(CODE + 0xffe));
});

Deno.test("code: a branch into an unmapped page faults at the target, with I/D set", () => {
  for (
    const [what, hex] of [["jmp rel32", "e9 fb ff 0f 00"], ["jz rel32", "31 c0 0f 84 f8 ff 0f 00"]]
  ) {
    const { run } = bench();
    const trap = run(hex);
    assert.equal(trap.vector, EXC_PF, what);
    assert.equal(trap.rip, BigInt(CODE + 0x10_0000), `${what}: RIP is the target`);
    assert.equal(trap.cr2, BigInt(CODE + 0x10_0000));
    assert.equal(trap.errorCode, PF_U | PF_I);
  }
});

Deno.test("flags: PUSHF/POPF in ring 3 keep IF and IOPL; LAHF/SAHF; CMC", () => {
  const { r, run, t } = bench();
  const all = RFLAGS_IF | RFLAGS_IOPL | RFLAGS_DF | RFLAGS_AC | RFLAGS_ID | 0x8d5;
  r[RAX] = BigInt(all);
  run("50 9d 9c 5b fc cc", 0x202); // push rax; popf; pushf; pop rbx; cld
  const f = Number(r[RBX]);
  assert.equal(f & RFLAGS_IOPL, 0, "POPF in ring 3 keeps IOPL");
  assert.equal(f & RFLAGS_IF, RFLAGS_IF, "...and IF");
  assert.equal(
    f & (RFLAGS_DF | RFLAGS_AC | RFLAGS_ID | 0x8d5),
    RFLAGS_DF | RFLAGS_AC | RFLAGS_ID | 0x8d5,
  );
  r[RAX] = 0xd5n << 8n; // SF ZF AF PF CF in AH
  run("9e 9f cc"); // sahf; lahf
  assert.equal((r[RAX] >> 8n) & 0xffn, 0xd7n, "LAHF sets bit 1");
  run("f9 f5 cc"); // stc; cmc
  assert.equal(t.traps.at(-1)!.rflags & 1n, 0n);
});

Deno.test("misc: loop family, xlat, imul three-operand, the NOP forms, INT1, sreg loads", () => {
  const { r, run, u64, t } = bench();
  r[RCX] = 3n;
  r[RAX] = 0n;
  run("48 ff c0 e2 fb cc"); // 1: inc rax; loop 1b
  assert.deepEqual([r[RAX], r[RCX]], [3n, 0n]);
  r[RCX] = 0n;
  run("e3 02 b0 01 cc"); // jrcxz +2 (taken); mov al, 1
  assert.equal(r[RAX], 3n);
  t.writeUser(DATA + 7, new Uint8Array([0xab]));
  r[RBX] = BigInt(DATA);
  r[RAX] = 7n;
  run("d7 cc"); // xlat
  assert.equal(r[RAX] & 0xffn, 0xabn);
  r[RBX] = 7n;
  run("48 6b c3 fd cc"); // imul rax, rbx, -3
  assert.equal(u64(RAX), BigInt.asUintN(64, -21n));
  r[RAX] = 1n;
  run("0f 1f 44 00 00 f3 0f 1e fa f3 90 0f ae e8 0f ae f0 0f ae f8 90 cc"); // nops, endbr64, pause, fences
  assert.equal(r[RAX], 1n);
  assert.equal(run("f1").vector, EXC_DB, "INT1");
  assert.equal(run("ce").vector, EXC_UD, "INTO is invalid in 64-bit mode");
  r[RAX] = BigInt(USER_SS);
  run("8e d8 8c d9 cc"); // mov ds, ax; mov ecx, ds
  assert.equal(r[RCX], BigInt(USER_SS));
  r[RAX] = 0x08n;
  const trap = run("8e d8 cc"); // mov ds, kernel code selector (DPL 0)
  assert.equal(trap.vector, EXC_GP);
  assert.equal(trap.errorCode, 0x08);
});

Deno.test("system stores in ring 3: SGDT and STR work without UMIP and fault with it", () => {
  const { r, run, t } = bench();
  r[RDI] = BigInt(DATA);
  run("0f 01 07 0f 00 c8 cc"); // sgdt [rdi]; str eax
  assert.equal(t.machine.ram.dv.getUint16(t.userPhys(DATA), true), 0x37);
  assert.equal(t.peek64(t.userPhys(DATA) + 2), t.kva(t.tables.gdt));
  assert.equal(r[RAX], 0x28n);
  t.cpu.writeCr(4, t.cpu.readCr(4) | (1n << 11n));
  assert.equal(run("0f 01 07 cc").vector, EXC_GP, "CR4.UMIP");
});
