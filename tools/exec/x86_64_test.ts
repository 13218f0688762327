import assert from "node:assert/strict";
import { assembleX86Elf } from "../../emulator/asm/x86/assemble_elf.ts";
import { EM_X86_64, PF_R, PF_X, writeElf } from "../../emulator/asm/elf.ts";
import { userProgramElf } from "../../emulator/asm/user_program_elf.ts";
import { Machine } from "../../emulator/core/machine.ts";
import { Trace } from "../../emulator/core/trace.ts";
import type { UserProgram } from "../../emulator/core/user_program.ts";
import type { X86Cpu } from "../../emulator/x86_64/cpu_api.ts";
import { X86Processor } from "../../emulator/x86_64/cpu.ts";
import { CR0_PG, CR4_PAE, EFER_LME, EFER_NXE, IA32_EFER } from "../../emulator/x86_64/regs.ts";
import { Prng } from "../../emulator/core/prng.ts";
import { execElf, ExecError, type ExecOptions } from "./exec.ts";
import { FrameAllocator } from "./frames.ts";
import { EBADF, EFAULT, ENOSYS } from "./linux.ts";
import { runElf } from "./testing.ts";
import { DIRECT_MAP, STACK_TOP, TSS_SEL, USER_CS, USER_DS, X86AddressSpace } from "./x86_64.ts";

/** Assembles NASM `source` into an ELF, runs it, and collects what it wrote per fd. */
function run(source: string, options: Partial<ExecOptions> = {}) {
  const { elf, asm } = assembleX86Elf(`bits 64\ndefault rel\nglobal _start\n${source}`);
  return { ...runElf(elf, options), asm };
}

/** Exits with `status` through exit_group. */
const EXIT = (status: number) => `mov edi, ${status}\n mov eax, 231\n syscall\n`;
/** Writes `len` bytes at `buf` to stdout. */
const WRITE = (buf: string, len: string) =>
  `mov eax, 1\n mov edi, 1\n lea rsi, [${buf}]\n mov edx, ${len}\n syscall\n`;

Deno.test("exec x86_64: write to stdout and stderr, exit with a status", () => {
  const { result, text } = run(`
    _start:
      mov eax, 1
      mov edi, 1
      lea rsi, [out]
      mov edx, 6
      syscall
      mov eax, 1
      mov edi, 2
      lea rsi, [err]
      mov edx, 4
      syscall
      mov edi, 7
      mov eax, 60
      syscall
    section .data
    out: db "hello", 10
    err: db "oops"
  `);
  assert.equal(result.how, "exit");
  assert.equal(result.status, 7);
  assert.equal(text(1), "hello\n");
  assert.equal(text(2), "oops");
  assert.ok(result.instret > 10 && result.timeNs > 0);
});

Deno.test("exec x86_64: syscall errors come back in rax as Linux returns them", () => {
  const { result, words, out } = run(`
    _start:
      lea rbx, [results]
      mov eax, 1
      mov edi, 3              ; a bad file descriptor
      lea rsi, [results]
      mov edx, 1
      syscall
      mov [rbx], rax
      mov eax, 1
      mov edi, 1              ; an unmapped buffer
      mov esi, 0x40
      mov edx, 5
      syscall
      mov [rbx + 8], rax
      mov eax, 1
      mov rsi, ${DIRECT_MAP}  ; kernel memory: mapped, but not for ring 3
      mov edx, 5
      syscall
      mov [rbx + 16], rax
      mov eax, 999            ; no such syscall
      syscall
      mov [rbx + 24], rax
      mov eax, 1
      mov edi, 1              ; count 0
      lea rsi, [results]
      xor edx, edx
      syscall
      mov [rbx + 32], rax
      mov eax, 1              ; a buffer that runs off the end of the data: partial
      lea rsi, [results + 4096 - 2]
      mov edx, 100
      syscall
      mov [rbx + 40], rax
      ${WRITE("results", "48")}
      ${EXIT(0)}
    section .bss
    results: resb 4096
  `);
  assert.equal(result.status, 0, result.message);
  assert.equal(
    out.filter((o) => o.fd === 1)[0].bytes.length,
    2,
    "the partial write copied 2 bytes",
  );
  assert.deepEqual(
    words(1).map((w) => Number(BigInt.asIntN(64, w))),
    [-EBADF, -EFAULT, -EFAULT, -ENOSYS, 0, 2],
  );
});

Deno.test("exec x86_64: exit and exit_group keep the low 8 bits of the status", () => {
  assert.equal(run(`_start: mov edi, 300\n mov eax, 60\n syscall`).result.status, 44);
  assert.equal(run(`_start: mov rdi, -1\n mov eax, 231\n syscall`).result.status, 255);
});

Deno.test("exec x86_64: argc, argv, envp and auxv are where the ABI says", () => {
  // Writes argv[1], argv[argc] (0), envp[0]'s first byte, the AT_PAGESZ and AT_ENTRY values,
  // rsp % 16 and every register but rsp at entry (all zero), then exits with argc.
  const { result, text, words } = run(
    `
    _start:
      lea rbx, [regs]
      mov [rbx], rax
      mov [rbx + 8], rcx
      mov [rbx + 16], rdx
      mov [rbx + 24], rsi
      mov [rbx + 32], rdi
      mov [rbx + 40], rbp
      mov [rbx + 48], r8
      mov [rbx + 56], r15
      mov r12, [rsp]              ; argc
      mov rsi, [rsp + 16]         ; argv[1]
      xor edx, edx
    .len:
      cmp byte [rsi + rdx], 0
      je .write
      inc rdx
      jmp .len
    .write:
      mov eax, 1
      mov edi, 1
      syscall
      lea rax, [rsp + 8 + r12*8] ; &argv[argc]
      mov rcx, [rax]
      mov [rbx + 64], rcx
      mov rcx, [rax + 8]          ; envp[0]
      movzx ecx, byte [rcx]
      mov [rbx + 72], rcx
      lea rax, [rax + 8]
    .env:
      add rax, 8
      cmp qword [rax - 8], 0
      jne .env                    ; rax = auxv
    .aux:
      mov rcx, [rax]
      cmp rcx, 6                  ; AT_PAGESZ
      jne .notpage
      mov rcx, [rax + 8]
      mov [rbx + 80], rcx
    .notpage:
      cmp rcx, 9                  ; AT_ENTRY
      jne .next
      mov rcx, [rax + 8]
      mov [rbx + 88], rcx
    .next:
      add rax, 16
      cmp qword [rax - 16], 0
      jne .aux
      mov rcx, rsp
      and rcx, 15
      mov [rbx + 96], rcx
      ${WRITE("regs", "104")}
      mov rdi, r12
      mov eax, 60
      syscall
    section .bss
    regs: resq 13
  `,
    { args: ["prog", "hello", "world"], env: ["X=1"] },
  );
  assert.equal(result.status, 3, result.message);
  assert.equal(text(1).slice(0, 5), "hello");
  const w = words(1);
  assert.deepEqual(w.slice(0, 8), [0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n], "registers are zero at entry");
  assert.equal(w[8], 0n, "argv[argc] is NULL");
  assert.equal(w[9], BigInt("X".charCodeAt(0)));
  assert.equal(w[10], 4096n, "AT_PAGESZ");
  assert.equal(w[11], 0x401000n, "AT_ENTRY is _start");
  assert.equal(w[12], 0n, "rsp is 16-byte aligned at _start");
});

Deno.test("exec x86_64: the CPU's state is what the kernel wrote (asked of the hardware)", () => {
  // sgdt, sidt, str and reading segment registers work in ring 3 (CR4.UMIP is clear): the
  // program reports what the CPU holds, and SYSCALL's rcx and r11, and RFLAGS at entry.
  const { result, words } = run(`
    _start:
      pushfq
      pop r13
      lea rbx, [buf]
      sgdt [rbx]
      sidt [rbx + 16]
      str ax
      mov [rbx + 32], ax
      mov ax, cs
      mov [rbx + 40], ax
      mov ax, ss
      mov [rbx + 48], ax
      mov [rbx + 56], r13
      mov rax, 999
      syscall
    after:
      mov [rbx + 64], rcx
      mov [rbx + 72], r11
      ${WRITE("buf", "80")}
      ${EXIT(0)}
    section .bss
    buf: resq 10
  `);
  assert.equal(result.status, 0, result.message);
  const w = words(0);
  const gdtLimit = Number(w[0] & 0xffffn), gdtBase = (w[0] >> 16n) | ((w[1] & 0xffffn) << 48n);
  const idtLimit = Number(w[2] & 0xffffn), idtBase = (w[2] >> 16n) | ((w[3] & 0xffffn) << 48n);
  assert.equal(gdtLimit, 79, "ten GDT entries, as Linux's GDT_ENTRIES up to the TSS");
  assert.equal(idtLimit, 4095, "256 gates of 16 bytes");
  assert.ok(gdtBase >= DIRECT_MAP && idtBase >= DIRECT_MAP, "the tables live in the direct map");
  assert.equal(Number(w[4] & 0xffffn), TSS_SEL);
  assert.equal(Number(w[5] & 0xffffn), USER_CS);
  assert.equal(Number(w[6] & 0xffffn), USER_DS);
  assert.equal(w[7] & 0x200n, 0x200n, "IF is set in ring 3");
  assert.equal(w[9], w[7], "r11 holds RFLAGS after syscall");
  assert.ok(w[8] > 0x401000n && w[8] < 0x402000n, "rcx holds the return address");
});

Deno.test("exec x86_64: registers survive a syscall except rax, rcx and r11", () => {
  const { result, words } = run(`
    _start:
      mov rbx, 0x1111
      mov rdx, 2
      mov rsi, 3
      mov rdi, 4
      mov rbp, 5
      mov r8, 6
      mov r9, 7
      mov r10, 8
      mov r12, 9
      mov r15, 10
      mov eax, 999
      syscall
      lea rax, [buf]
      mov [rax], rbx
      mov [rax + 8], rdx
      mov [rax + 16], rsi
      mov [rax + 24], rdi
      mov [rax + 32], rbp
      mov [rax + 40], r8
      mov [rax + 48], r9
      mov [rax + 56], r10
      mov [rax + 64], r12
      mov [rax + 72], r15
      ${WRITE("buf", "80")}
      ${EXIT(0)}
    section .bss
    buf: resq 10
  `);
  assert.equal(result.status, 0, result.message);
  assert.deepEqual(words(0), [0x1111n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n]);
});

Deno.test("exec x86_64: faults kill the program with Linux's signal and a QEMU-like message", async (t) => {
  const cases: [string, string, number, RegExp][] = [
    [
      "unmapped store",
      "mov qword [0x10], 1",
      139,
      /signal 11 \(Segmentation fault\) - #PF.*write of 0x10/,
    ],
    ["store into text", "mov byte [rel _start], 0", 139, /#PF.*write of 0x40_1000.*W = 0/],
    ["execute data (NX)", "lea rax, [data]\n call rax", 139, /execute of 0x40_2000.*XD/],
    ["ud2", "ud2", 132, /signal 4 \(Illegal instruction\) - #UD.*bytes 0f 0b/],
    ["int3", "int3", 133, /signal 5 \(Trace\/breakpoint trap\) - #BP/],
    [
      "divide by zero",
      "xor ecx, ecx\n div ecx",
      136,
      /signal 8 \(Floating point exception\) - #DE/,
    ],
    ["hlt in ring 3", "hlt", 139, /signal 11.*#GP.*bytes f4/],
    ["port I/O in ring 3", "mov dx, 0x3f8\n out dx, al", 139, /#GP.*bytes ee/],
    ["mov to cr3", "mov cr3, rax", 139, /#GP/],
    ["int 0x80 through a DPL-0 gate", "int 0x80", 139, /#GP.*error code 0x402/],
    ["non-canonical address", "mov rax, 0x800000000000\n mov rax, [rax]", 139, /#GP/],
  ];
  for (const [name, code, status, message] of cases) {
    await t.step(name, () => {
      const { result, text } = run(`
        _start:
          ${WRITE("msg", "6")}
          ${code}
          ${EXIT(0)}
        section .data
        data: db 0xc3
        msg: db "alive", 10
      `);
      assert.equal(text(1), "alive\n", "what was written before the fault comes out");
      assert.equal(result.how, "signal");
      assert.equal(result.status, status, result.message);
      assert.equal(result.signal, status - 128);
      assert.match(result.message!, message);
    });
  }
});

Deno.test("exec x86_64: the stack grows on demand, up to its limit", () => {
  // Touch 64 KiB below the initial stack: the pages appear as Linux would map them.
  const deep = run(`
    _start:
      mov rcx, 16
    .touch:
      sub rsp, 4096
      mov qword [rsp], rcx
      loop .touch
      ${EXIT(5)}
  `);
  assert.equal(deep.result.status, 5, deep.result.message);
  // With a 64 KiB stack limit, going 128 KiB down is a segmentation fault.
  const over = run(
    `
    _start:
      mov rcx, 32
    .touch:
      sub rsp, 4096
      mov qword [rsp], rcx
      loop .touch
      ${EXIT(5)}
  `,
    { stackSize: 64 * 1024 },
  );
  assert.equal(over.result.status, 139);
  assert.match(over.result.message!, new RegExp(`write of 0x7fff_fffe_`));
});

Deno.test("exec x86_64: segments that reach into the stack region are refused", () => {
  const top = STACK_TOP - 0x1000;
  const elf = writeElf({
    machine: EM_X86_64,
    entry: top,
    segments: [{ vaddr: top, memsz: 16, flags: PF_R | PF_X, data: new Uint8Array([0xeb, 0xfe]) }],
  });
  const r = execElf(elf, { args: ["x"], output: () => {}, limitNs: 100_000 });
  assert.equal(r.how, "error");
  assert.match(
    r.message!,
    /segments reach into the stack region .* \(at 0x7fff_ffff_e000\): link it lower/,
  );
});

Deno.test("exec x86_64: a program that never ends stops at the time limit", () => {
  const { result } = run(`_start: jmp _start`, { limitNs: 100_000 });
  assert.equal(result.how, "timeout");
  assert.equal(result.status, 124);
  assert.match(result.message!, /stopped after 100000 ns of virtual time \(rip 0x40_1000\)/);
});

Deno.test("exec x86_64: a program bigger than RAM is refused with advice", () => {
  const { result } = run(`_start: ${EXIT(0)}\nsection .bss\nbig: resb 8 * 1024 * 1024`, {
    memory: 4 * 2 ** 20,
  });
  assert.equal(result.how, "error");
  assert.match(result.message!, /out of memory.*give the machine more with --mem/);
});

Deno.test("exec x86_64: the kernel trace shows each syscall; the same seed gives the same run", () => {
  const trace = new Trace(0);
  trace.enable("kernel");
  const lines: string[] = [];
  trace.listen((e) => lines.push(JSON.stringify(e.data)));
  const src = `_start: ${WRITE("m", "2")} ${EXIT(9)}\nsection .data\nm: db "ok"`;
  const a = run(src, { trace });
  assert.equal(a.result.status, 9);
  assert.ok(lines.some((l) => l.includes('"entry":"exec_start"')));
  assert.ok(lines.some((l) => l.includes('"syscall":"write","result":"2"')));
  assert.ok(lines.some((l) => l.includes('"syscall":"exit_group","result":"exit 9"')));
  const b = run(src, { seed: 5 }), c = run(src, { seed: 5 });
  assert.deepEqual(
    { ...b.result, out: b.out },
    { ...c.result, out: c.out },
  );
});

Deno.test("exec x86_64: a TypeScript user program runs under the same Linux layer", () => {
  const text = "hi from TypeScript on x86-64\n";
  const hello: UserProgram = function* (ctx) {
    const buf = Number(ctx.stackPointer) - 256;
    ctx.write(buf, new TextEncoder().encode(text));
    const n = yield* ctx.syscall(1n, 1n, BigInt(buf), BigInt(text.length));
    const bad = yield* ctx.syscall(1n, 7n, BigInt(buf), 1n);
    yield* ctx.syscall(60n, n + BigInt.asUintN(8, bad));
  };
  const out: Uint8Array[] = [];
  const result = execElf(userProgramElf("x86_64", "hello"), {
    args: ["hello"],
    programs: { hello },
    output: (_fd, b) => out.push(b.slice()),
    limitNs: 10_000_000,
  });
  assert.equal(result.how, "exit", result.message);
  assert.equal(new TextDecoder().decode(out[0]), text);
  assert.equal(result.status, (text.length + (256 - EBADF)) & 0xff);
});

Deno.test("exec x86_64: the page tables map segments as the MMU reads them (U, W, XD)", () => {
  const machine = new Machine<X86Cpu>({ memory: 4 * 2 ** 20 });
  machine.bus.addRam(0, 4 * 2 ** 20);
  const cpu = new X86Processor(machine);
  const space = new X86AddressSpace(machine, new FrameAllocator(0x10_0000, 4 * 2 ** 20));
  space.mapDirect(4 * 2 ** 20);
  space.map(0x40_0000, 0x20_0000, { read: true, write: false, execute: true });
  space.map(0x40_1000, 0x20_1000, { read: true, write: true, execute: false });
  cpu.resetToStartup();
  cpu.wrmsr(IA32_EFER, BigInt(EFER_LME | EFER_NXE));
  cpu.writeCr(4, BigInt(CR4_PAE));
  cpu.writeCr(3, BigInt(space.pml4));
  assert.ok(cpu.readCr(0) & BigInt(CR0_PG));
  const t = (va: number | bigint, access: "read" | "write" | "execute", cpl: 0 | 3) =>
    cpu.translate(BigInt(va), access, cpl);
  assert.equal(t(0x40_0123, "execute", 3).pa, 0x20_0123);
  assert.equal(t(0x40_0123, "write", 3).fault, 14, "text is not writable");
  assert.equal(t(0x40_1008, "write", 3).pa, 0x20_1008);
  assert.equal(t(0x40_1008, "execute", 3).fault, 14, "data is not executable (XD)");
  assert.equal(t(DIRECT_MAP + 0x1234n, "read", 0).pa, 0x1234, "the direct map reaches RAM");
  assert.equal(t(DIRECT_MAP + 0x1234n, "read", 3).fault, 14, "the direct map is supervisor-only");
  assert.equal(t(DIRECT_MAP, "execute", 0).fault, 14, "the direct map is not executable");
  assert.equal(t(0x40_2000, "read", 3).fault, 14, "nothing else is mapped");
  assert.deepEqual(space.lookup(0x40_1fff), {
    pa: 0x20_1000,
    perms: { read: true, write: true, execute: false },
  });
  assert.throws(
    () => space.map(0x40_0001, 0, { read: true, write: false, execute: false }),
    /page-aligned/,
  );
});

Deno.test("exec CLI: deno task exec picks the x86-64 port from the ELF's e_machine", async () => {
  const elf = new URL("../../tests/diff/x86_64/args-O2.elf", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", new URL("../exec.ts", import.meta.url).pathname, elf, "a", "b"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 43);
  assert.match(new TextDecoder().decode(out.stdout), /^argc=3\nargv\[1\]=a\nargv\[2\]=b\n/);
  assert.equal(new TextDecoder().decode(out.stderr), "");
});

Deno.test("exec x86_64 fuzz: mangled programs end in a result or an ExecError, never a crash", () => {
  const { elf } = assembleX86Elf(`
    bits 64
    global _start
    _start:
      mov ecx, 50
    .l: push rcx
      lea rsi, [rsp]
      mov eax, 1
      mov edi, 1
      mov edx, 8
      syscall
      pop rcx
      loop .l
      ${EXIT(0)}
  `);
  const prng = new Prng(77);
  const hows = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const bytes = elf.slice();
    for (let f = prng.range(1, 6); f > 0; f--) {
      // Flips in the ELF header and program headers, or in the code.
      const at = prng.range(0, 1) ? prng.range(0, 0xb0) : prng.range(0x1000, 0x1040);
      bytes[at] = prng.range(0, 255);
    }
    try {
      const r = execElf(bytes, {
        args: ["f"],
        output: () => {},
        limitNs: 200_000,
        memory: 2 ** 24,
      });
      hows.add(r.how);
      assert.ok(r.how === "exit" || r.message, `case ${i}: ${r.how} without a message`);
    } catch (e) {
      if (!(e instanceof ExecError)) throw new Error(`case ${i}: ${e}`);
      hows.add("refused");
    }
  }
  assert.ok(hows.has("refused") && hows.has("signal") && hows.has("exit"), [...hows].join());
});
