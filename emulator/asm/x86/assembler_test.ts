/**
 * The NASM language the assembler reads, and the encodings where NASM differs from GNU as
 * on purpose (the vectors in asm_vectors_test.ts hold the rest to GNU as). Expected bytes
 * come from the NASM manual's own examples where it gives them (§3.3, §3.7, §12.2), else
 * from the SDM's encoding tables.
 */
import assert from "node:assert/strict";
import { userProgramStub } from "../user_program_elf.ts";
import { assembleX86, DEFAULT_ORIGIN, X86AsmError } from "./assembler.ts";

/** The bytes of the image as hex pairs joined by spaces. */
function hex(source: string, origin = 0x401000): string {
  return [...assembleX86(source, { origin }).bytes].map((b) => b.toString(16).padStart(2, "0"))
    .join(" ");
}

/** The error assembling `source` gives. */
function error(source: string): X86AsmError {
  try {
    assembleX86(source);
  } catch (e) {
    if (e instanceof X86AsmError) return e;
    throw e;
  }
  throw new Error(`no error for:\n${source}`);
}

Deno.test("x86 asm: NASM's shortest mov r64, imm and what strict and sizes keep (§12.2)", () => {
  assert.equal(hex("mov rax, 1"), "b8 01 00 00 00", "mov rax,1 assembles as mov eax,1");
  assert.equal(hex("mov r9, 0xffffffff"), "41 b9 ff ff ff ff");
  assert.equal(hex("mov rax, -1"), "48 c7 c0 ff ff ff ff", "sign-extended imm32");
  assert.equal(hex("mov rax, 0x100000000"), "48 b8 00 00 00 00 01 00 00 00");
  assert.equal(hex("mov rax, strict qword 1"), "48 b8 01 00 00 00 00 00 00 00");
  assert.equal(hex("mov rax, strict dword 1"), "48 c7 c0 01 00 00 00");
  // A label's value is an address: the full 10-byte form, or 7 with dword.
  assert.equal(hex("x: mov rax, x"), "48 b8 00 10 40 00 00 00 00 00");
  assert.equal(hex("x: mov rax, qword x"), "48 b8 00 10 40 00 00 00 00 00");
  assert.equal(hex("x: mov rax, dword x"), "48 c7 c0 00 10 40 00");
  assert.equal(hex("x: mov eax, x"), "b8 00 10 40 00");
  // ...but a difference of labels is a constant, which takes the short forms.
  assert.equal(hex("a: nop\nb: add rax, b - a"), "90 48 83 c0 01");
  assert.equal(hex("a: add rax, a"), "48 05 00 10 40 00");
  assert.equal(hex("a: push a"), "68 00 10 40 00");
  assert.equal(hex("push strict dword 5"), "68 05 00 00 00");
});

Deno.test("x86 asm: int 3 is CD 03 and int3 is CC, as NASM assembles them", () => {
  assert.equal(hex("int 3"), "cd 03");
  assert.equal(hex("int3"), "cc");
  assert.equal(hex("int1"), "f1");
});

Deno.test("x86 asm: NASM's effective-address algebra (§3.3)", () => {
  assert.equal(hex("mov eax, [rbx*2]"), "8b 04 1b", "[rbx*2] is [rbx + rbx]");
  assert.equal(hex("mov eax, [nosplit rbx*2]"), "8b 04 5d 00 00 00 00");
  assert.equal(hex("mov eax, [rbx*5]"), "8b 04 9b", "[rbx*5] is [rbx + rbx*4]");
  assert.equal(hex("mov eax, [rbx*3 + 8]"), "8b 44 5b 08");
  assert.equal(hex("mov eax, [(rbx + 1) * 4]"), "8b 04 9d 04 00 00 00");
  assert.equal(hex("mov eax, [8 + rbx - 4 + rcx * 2]"), "8b 44 4b 04");
  assert.equal(hex("mov eax, [rcx*2 + rbx]"), "8b 04 4b", "the unscaled register is the base");
  assert.equal(hex("mov eax, [rax + rsp]"), "8b 04 04", "rsp cannot be an index: it is the base");
  assert.equal(hex("mov eax, [byte rax]"), "8b 40 00", "[byte rax] forces a zero disp8");
  assert.equal(hex("mov eax, [dword rax + 3]"), "8b 80 03 00 00 00");
  assert.equal(hex("K equ 8\nmov eax, [rax*K + K]"), "8b 04 c5 08 00 00 00");
  assert.match(error("mov eax, [rax*rbx]").message, /two registers cannot be multiplied/);
  assert.match(error("mov eax, [rax - rbx]").message, /can only be added/);
  assert.match(error("mov eax, [rip + 8]").message, /NASM has no rip register.*\[rel label\]/);
  assert.match(error("mov eax, dword ptr [rax]").message, /"ptr" is GNU as syntax/);
  assert.match(
    error("mov eax, fs:[rax]").message,
    /segment override inside the brackets: \[fs:rax\]/,
  );
  assert.match(error("mov eax, [byte rax + 200]").message, /does not fit in the byte asked for/);
});

Deno.test("x86 asm: rel, abs and default rel (§3.3, §7.2.1)", () => {
  // RIP-relative: disp32 = target - the address of the next instruction.
  assert.equal(hex("x: lea rax, [rel x]"), "48 8d 05 f9 ff ff ff");
  assert.equal(hex("x: lea rax, [x]"), "48 8d 04 25 00 10 40 00", "absolute by default");
  assert.equal(hex("default rel\nx: lea rax, [x]"), "48 8d 05 f9 ff ff ff");
  assert.equal(hex("default rel\nx: lea rax, [abs x]"), "48 8d 04 25 00 10 40 00");
  assert.equal(
    hex("default rel\nmov rax, [fs: 0x28]"),
    "64 48 8b 04 25 28 00 00 00",
    "fs: stays absolute",
  );
  assert.equal(hex("default rel\nx: mov rax, [rel fs: x]"), "64 48 8b 05 f8 ff ff ff");
  assert.equal(hex("default rel\ndefault abs\nx: lea rax, [x]"), "48 8d 04 25 00 10 40 00");
  // The immediate after a RIP-relative operand counts in "the next instruction".
  assert.equal(hex("x: mov dword [rel x], 5"), "c7 05 f6 ff ff ff 05 00 00 00");
  assert.equal(hex("mov al, [qword 0x1122334455667788]"), "a0 88 77 66 55 44 33 22 11");
  assert.match(error("default rel\nmov al, [qword 0x10]").message, /write \[abs qword \.\.\.\]/);
  assert.match(error("x: mov eax, [rel x + rax]").message, /cannot have base or index registers/);
  assert.match(error("mov eax, [0x80000000]").message, /does not fit in a sign-extended 32-bit/);
});

Deno.test("x86 asm: jumps take the short form when they reach, the near form otherwise", () => {
  assert.equal(hex("jmp $"), "eb fe");
  assert.equal(hex("a: jz a"), "74 fe");
  assert.equal(hex("jmp b\nb: ret"), "eb 00 c3");
  assert.equal(hex("jmp near b\nb: ret"), "e9 00 00 00 00 c3");
  assert.equal(hex("jmp short b\nb: ret"), "eb 00 c3");
  assert.equal(hex("call b\nb: ret"), "e8 00 00 00 00 c3");
  // 127 bytes away is short; 128 is near.
  assert.equal(hex("jmp b\ntimes 127 nop\nb: ret").slice(0, 5), "eb 7f");
  assert.equal(hex("jmp b\ntimes 128 nop\nb: ret").slice(0, 14), "e9 80 00 00 00");
  assert.equal(hex("b: times 126 nop\njmp b").slice(-5), "eb 80");
  assert.equal(hex("b: times 127 nop\njmp b").slice(-14), "e9 7c ff ff ff");
  // A chain: the second jump needs the near form, which pushes the first one's target
  // out of reach (127 bytes away while the second is short, 129 once it is near).
  assert.equal(
    hex("jz c\njz d\ntimes 123 nop\nc: nop\ntimes 4 nop\nd: ret").slice(0, 35),
    "0f 84 81 00 00 00 0f 84 80 00 00 00",
  );
  assert.equal(hex("jmp 0x401000"), "eb fe", "an absolute target is reached relatively");
  assert.match(
    error("jmp short b\ntimes 200 nop\nb: ret").message,
    /200 bytes away: a short jump reaches -128 to 127 bytes \(remove `short`/,
  );
  assert.match(error("loop b\ntimes 200 nop\nb: ret").message, /a short jump reaches/);
  assert.match(error("jmp far x").message, /far jumps and calls are not available/);
});

Deno.test("x86 asm: times repeats instructions and data, $ is each repetition's start", () => {
  assert.equal(hex("times 3 nop"), "90 90 90");
  assert.equal(hex("times 2 jmp $"), "eb fe eb fe");
  assert.equal(hex("times 2 db 1, 2"), "01 02 01 02");
  assert.equal(hex("times 0 db 1\ndb 9"), "09");
  // The boot-sector idiom: pad to an offset fixed by $ - $$.
  const pad = assembleX86("jmp x\nx: db 1\ntimes 16 - ($ - $$) db 0\ndw 0xaa55");
  assert.equal(pad.bytes.length, 18);
  assert.deepEqual([...pad.bytes.subarray(16)], [0x55, 0xaa]);
  assert.match(error("times -1 nop").message, /times count -1 is negative/);
  assert.match(error("times 2 section .data").message, /times needs an instruction|times repeats/);
});

Deno.test("x86 asm: labels, local labels, equ and symbols", () => {
  const r = assembleX86(`
    main:                      ; a label with a colon
    .loop: dec ecx             ; main.loop
      jnz .loop
    other                      ; a label without one
    .loop: jmp main.loop       ; other.loop, and main.loop by its full name
    value equ 6 * 7
    size equ end - main
    end:
  `);
  assert.equal(r.symbols.get("main"), DEFAULT_ORIGIN);
  assert.equal(r.symbols.get("main.loop"), DEFAULT_ORIGIN);
  assert.equal(r.symbols.get("other.loop"), DEFAULT_ORIGIN + 4);
  assert.equal(r.symbols.get("value"), 42);
  assert.equal(r.symbols.get("size"), 6);
  assert.deepEqual([...r.bytes], [0xff, 0xc9, 0x75, 0xfc, 0xeb, 0xfa]);
  assert.equal(r.entry, DEFAULT_ORIGIN, "no _start: the entry is the origin");
  assert.equal(assembleX86("nop\n_start: ret").entry, DEFAULT_ORIGIN + 1);
  assert.equal(hex("mov eax, later\nlater equ 5"), "b8 05 00 00 00", "a forward equ");
  assert.equal(hex("$mov: jmp $mov"), "eb fe", "$ escapes a reserved word");
  assert.match(error("a: nop\na: nop").message, /a is defined twice/);
  assert.match(error(".x: nop").message, /local label \.x has no label before it/);
  assert.match(error("a equ b\nb equ a\nmov eax, a").message, /defined in terms of itself/);
  assert.match(error("equ 5").message, /equ needs a label/);
  assert.match(error("jmp nowhere").message, /symbol nowhere is not defined/);
  assert.match(error("main: nop\nx: jmp .loop\nmain.loop: ret").message, /did you mean main\.loop/);
});

Deno.test("x86 asm: sections are laid out .text, .rodata, .data, .bss from the origin", () => {
  const r = assembleX86(`
    section .data
    d: dq 1
    section .text
    global _start
    _start: ret
    section .bss
    b: resq 2
    section .rodata
    ro: db "ro"
    [section .text]
    nop
  `);
  const [text, rodata, data, bss] = r.sections;
  assert.deepEqual(r.sections.map((s) => [s.name, s.size]), [
    [".text", 2],
    [".rodata", 2],
    [".data", 8],
    [".bss", 16],
  ]);
  assert.equal(text.address, DEFAULT_ORIGIN);
  assert.equal(rodata.address, DEFAULT_ORIGIN + 16, "sections start 16-byte aligned");
  assert.equal(data.address, DEFAULT_ORIGIN + 32);
  assert.equal(bss.address, DEFAULT_ORIGIN + 48);
  assert.equal(r.symbols.get("b"), bss.address);
  assert.deepEqual([...r.bytes.subarray(0, 2)], [0xc3, 0x90]);
  assert.equal(r.bytes.length, 64, "the image runs to the end of .bss, which is zeros");
  assert.deepEqual([...r.globals], ["_start"]);
  assert.equal(text.flags, 5);
  assert.equal(data.flags, 6);
  const paged = assembleX86("ret\nsection .data\ndb 1", { dataAlign: 4096 });
  assert.equal(paged.sections[2].address, DEFAULT_ORIGIN + 4096);
  assert.match(error("section .init\nnop").message, /only \.text, \.rodata, \.data and \.bss/);
  assert.match(error("section .bss\nnop").message, /\.bss holds no bytes/);
  assert.match(error("global nothere").message, /global nothere is declared but never defined/);
  assert.match(error("extern printf").message, /no linker/);
  assert.equal(assembleX86("org 0x7c00\njmp $").origin, 0x7c00);
  assert.match(error("nop\norg 0x7c00").message, /org must come once, before any code/);
});

Deno.test("x86 asm: db, dw, dd, dq with numbers, strings, floats and ? (§3.2.1)", () => {
  assert.equal(hex("db 1, -1, 'a', \"bc\", `\\n`"), "01 ff 61 62 63 0a");
  assert.equal(
    hex("db 'semi;colon', 0"),
    "73 65 6d 69 3b 63 6f 6c 6f 6e 00",
    "; in a string is text",
  );
  assert.equal(hex("db 'a, b'"), "61 2c 20 62", ", in a string does not split");
  assert.equal(hex("dw 0x1234, 'a', 'abc'"), "34 12 61 00 61 62 63 00");
  assert.equal(
    hex("dd 0x12345678, 'ninechars'"),
    "78 56 34 12 6e 69 6e 65 63 68 61 72 73 00 00 00",
  );
  assert.equal(hex("dq -2"), "fe ff ff ff ff ff ff ff");
  assert.equal(hex("dd 1.5"), "00 00 c0 3f");
  assert.equal(hex("dq 1.5"), "00 00 00 00 00 00 f8 3f");
  assert.equal(hex("dw ?"), "00 00");
  assert.equal(hex("x: dq x"), "00 10 40 00 00 00 00 00");
  assert.match(error("db 256").message, /value 256 does not fit in a byte \(db\)/);
  assert.match(error("dw 0x10000").message, /does not fit in 2 bytes/);
  assert.match(error("db 1.5").message, /cannot hold a floating-point number/);
  assert.match(error("db").message, /needs at least one value/);
  assert.match(error("dt 1.0").message, /not supported/);
});

Deno.test("x86 asm: resb and friends, align and alignb", () => {
  const r = assembleX86("section .bss\na: resb 3\nb: resw 1\nc: resd 1\nd: resq 2\ne:");
  const base = r.sections[3].address;
  assert.deepEqual(["a", "b", "c", "d", "e"].map((s) => r.symbols.get(s)! - base), [
    0,
    3,
    5,
    9,
    25,
  ]);
  assert.equal(hex("nop\nalign 4\nret"), "90 90 90 90 c3", "align pads code with nop");
  assert.equal(hex("db 1\nalign 4, db 0\ndb 2"), "01 00 00 00 02");
  assert.equal(hex("ret\nalign 8\nalign 8\nret"), "c3 90 90 90 90 90 90 90 c3");
  const b = assembleX86("section .bss\nx: resb 1\nalignb 16\ny: resb 1");
  assert.equal(b.symbols.get("y")! - b.symbols.get("x")!, 16);
  assert.ok(assembleX86("section .data\ndb 1\nalign 64\nz: db 2").symbols.get("z")! % 64 === 0);
  assert.match(error("align 3").message, /alignment 3 is not a power of two/);
  assert.match(error("resb -1").message, /count -1 is negative/);
});

Deno.test("x86 asm: prefixes, segment words, and lines that are only prefixes", () => {
  assert.equal(hex("lock inc dword [rax]"), "f0 ff 00");
  assert.equal(hex("rep movsb"), "f3 a4");
  assert.equal(hex("fs lodsb"), "64 ac");
  assert.equal(hex("o64 sysret"), "48 0f 07");
  assert.equal(hex("sysretq"), "48 0f 07");
  assert.equal(hex("sysret"), "0f 07", "SYSRET without REX.W returns to 32-bit code");
  assert.equal(hex("sysexit"), "0f 35");
  assert.equal(hex("o16 nop"), "66 90");
  assert.equal(hex("rep"), "f3", "a prefix alone on a line is its byte (NASM §3.1)");
  assert.match(error("lock section .text").message, /must be followed by an instruction/);
});

Deno.test("x86 asm: the TypeScript program stub assembles to user_program_elf's bytes", () => {
  const stub = assembleX86("_start: ts.start\n.1: syscall\nts.resume\njmp .1");
  assert.deepEqual([...stub.bytes], [...userProgramStub("x86_64").subarray(0, 10)]);
});

Deno.test("x86 asm: source lines: comments, continuations, brackets, case", () => {
  assert.equal(hex("MOV EAX, 1 ; upper case mnemonics and registers"), "b8 01 00 00 00");
  assert.equal(hex("mov eax, \\\n 1"), "b8 01 00 00 00", "a backslash continues the line");
  assert.equal(hex("[bits 64]\n[default rel]\nx: lea rax, [x]"), "48 8d 05 f9 ff ff ff");
  assert.equal(hex("use64\nnop"), "90");
  assert.match(error("bits 32").message, /64-bit code only/);
  assert.match(error("db 'open").message, /no closing '/);
  assert.match(error("mov eax, [rax").message, /never closed|must end with '\]'/);
});

Deno.test("x86 asm: errors name the line and column and say what is wrong", () => {
  const e = error("nop\n    mov eax, rbx");
  assert.equal(e.line, 2);
  assert.equal(e.column, 5);
  assert.equal(e.reason, "operand sizes do not match: mov eax, rbx");
  assert.match(
    e.message,
    /^line 2, column 5: operand sizes do not match: mov eax, rbx\n {2}\s+mov eax, rbx\n {2}\s+\^$/,
  );
  const imm = error("add al, 300");
  assert.equal(imm.column, 9, "the column of the operand at fault");
  assert.match(
    imm.reason,
    /value 300 \(0x12c\) does not fit in the 8-bit immediate of add: add al, 300/,
  );
  assert.match(
    error("add rax, 0x80000000").reason,
    /64-bit operations take a sign-extended 32-bit/,
  );
  assert.match(error("inc [rax]").reason, /operation size not specified/);
  assert.match(error("push eax").reason, /push cannot take a 32-bit operand in 64-bit mode/);
  assert.match(error("mov ah, r8b").reason, /ah cannot be used in an instruction that needs a REX/);
  assert.match(error("frob eax").reason, /unknown instruction "frob"/);
  assert.match(error("x: fadd st0, st1").reason, /x87 floating point is not supported/);
  assert.match(error("x: addps xmm0, xmm1").reason, /SSE and AVX instructions are not supported/);
  assert.match(error("mov cr5, rax").reason, /cr5 does not exist/);
  assert.match(error("mov cs, ax").reason, /cs cannot be loaded with mov/);
  assert.match(error("nop eax, 1").reason, /nop takes no or 1 operands, not 2/);
  assert.match(error("mov eax, [ax]").reason, /16-bit addressing does not exist in 64-bit mode/);
  assert.match(error("mov eax, qword rbx").reason, /cannot be applied to register rbx/);
});
