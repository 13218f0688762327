import assert from "node:assert/strict";
import { assembleRiscvElf } from "../../emulator/asm/riscv/assemble_elf.ts";
import { EM_RISCV, PF_R, PF_X, writeElf } from "../../emulator/asm/elf.ts";
import { userProgramElf } from "../../emulator/asm/user_program_elf.ts";
import { Trace } from "../../emulator/core/trace.ts";
import type { UserProgram } from "../../emulator/core/user_program.ts";
import { execElf, ExecError, type ExecOptions } from "./exec.ts";
import { EBADF, EFAULT, ENOSYS } from "./linux.ts";
import { STACK_TOP } from "./riscv64.ts";
import { runElf } from "./testing.ts";

/** Assembles `source` into an ELF, runs it, and collects what it wrote per fd. */
function run(source: string, options: Partial<ExecOptions> & { compressed?: boolean } = {}) {
  const { elf, asm } = assembleRiscvElf(source, { compressed: options.compressed });
  return { ...runElf(elf, options), asm };
}

/** The tail that writes `len` bytes at `buf` to stdout, then exits with a0 = `status`. */
const EXIT = (status: number) => `li a0, ${status}\n li a7, 93\n ecall\n`;

Deno.test("exec riscv64: write to stdout and stderr, exit with a status", () => {
  const { result, text } = run(`
    _start:
      li a0, 1
      la a1, out
      li a2, 6
      li a7, 64
      ecall
      li a0, 2
      la a1, err
      li a2, 4
      ecall
      ${EXIT(7)}
    .data
    out: .ascii "hello\\n"
    err: .ascii "oops"
  `);
  assert.deepEqual(result.how, "exit");
  assert.equal(result.status, 7);
  assert.equal(text(1), "hello\n");
  assert.equal(text(2), "oops");
  assert.ok(result.instret > 10 && result.timeNs > 0);
});

Deno.test("exec riscv64: syscall errors come back in a0 as Linux returns them", () => {
  // Each result is stored in a table that the program writes out at the end.
  const { result, out } = run(`
    _start:
      la s0, results
      li a7, 64
      li a0, 3              # a bad file descriptor
      la a1, results
      li a2, 1
      ecall
      sd a0, 0(s0)
      li a0, 1              # an unmapped buffer
      li a1, 0x40
      li a2, 5
      ecall
      sd a0, 8(s0)
      li a0, 1              # a buffer in kernel space (not U)
      li a1, -4096
      li a2, 5
      ecall
      sd a0, 16(s0)
      li a7, 999            # no such syscall
      ecall
      sd a0, 24(s0)
      li a7, 64
      li a0, 1              # count 0
      la a1, results
      li a2, 0
      ecall
      sd a0, 32(s0)
      li a0, 1              # a buffer that runs off the end of the data page: partial
      li a1, 0x11ffe
      li a2, 100
      ecall
      sd a0, 40(s0)
      li a0, 1
      la a1, results
      li a2, 48
      ecall
      ${EXIT(0)}
    .data
    results: .zero 48
  `);
  assert.equal(result.status, 0, result.message);
  const written = out.filter((o) => o.fd === 1);
  assert.equal(written[0].bytes.length, 2, "the partial write copied what was mapped");
  const dv = new DataView(written[1].bytes.buffer);
  const values = Array.from({ length: 6 }, (_, i) => Number(dv.getBigInt64(8 * i, true)));
  assert.deepEqual(values, [-EBADF, -EFAULT, -EFAULT, -ENOSYS, 0, 2]);
});

Deno.test("exec riscv64: exit and exit_group keep the low 8 bits of the status", () => {
  assert.equal(run(`_start: li a0, 300\n li a7, 93\n ecall`).result.status, 44);
  assert.equal(run(`_start: li a0, -1\n li a7, 94\n ecall`).result.status, 255);
});

Deno.test("exec riscv64: argc, argv, envp and auxv are where the ABI says", () => {
  // Writes argv[1], then exits with argc + 16 * (sp % 16) + 64 * (AT_PAGESZ found).
  const { result, text } = run(
    `
    _start:
      ld s0, 0(sp)          # argc
      ld a1, 16(sp)         # argv[1]
      mv a2, zero
    1: add t0, a1, a2       # strlen(argv[1])
      lbu t0, 0(t0)
      beqz t0, 2f
      addi a2, a2, 1
      j 1b
    2: li a0, 1
      li a7, 64
      ecall
      slli t1, s0, 3        # envp = sp + 8 * (argc + 2)
      add t1, t1, sp
      addi t1, t1, 16
    3: ld t2, 0(t1)         # skip envp to its NULL
      addi t1, t1, 8
      bnez t2, 3b
      li s1, 0
    4: ld t2, 0(t1)         # auxv: look for AT_PAGESZ (6) = 4096
      beqz t2, 5f
      ld t3, 8(t1)
      addi t1, t1, 16
      li t4, 6
      bne t2, t4, 4b
      li t4, 4096
      bne t3, t4, 4b
      li s1, 64
      j 4b
    5: andi t0, sp, 15
      slli t0, t0, 4
      add a0, s0, t0
      add a0, a0, s1
      li a7, 93
      ecall
  `,
    { args: ["prog", "argument-one", "two"], env: ["HOME=/", "X=1"] },
  );
  assert.equal(text(1), "argument-one");
  assert.equal(result.status, 3 + 64, "argc 3, sp 16-aligned, AT_PAGESZ 4096");
});

Deno.test("exec riscv64: faults kill the program with Linux's signal and a QEMU-like message", async (t) => {
  const cases: [string, string, number, RegExp][] = [
    [
      "load from address 0",
      "li t0, 0\n ld t1, 0(t0)",
      139,
      /signal 11 \(Segmentation fault\) - load page fault at pc 0x1_0004, address 0x0: .*not valid/,
    ],
    [
      "store into the code",
      "la t0, _start\n sw zero, 0(t0)",
      139,
      /signal 11 .* store\/AMO page fault .* address 0x1_0000: .*W=0/,
    ],
    [
      "jump into data",
      "la t0, data\n jr t0",
      139,
      /signal 11 .* instruction page fault at pc 0x1_1000/,
    ],
    [
      "an illegal instruction",
      ".word 0xffffffff",
      132,
      /signal 4 \(Illegal instruction\) - illegal instruction at pc 0x1_0000/,
    ],
    ["a breakpoint", "ebreak", 133, /signal 5 \(Trace\/breakpoint trap\) - breakpoint/],
    [
      "a misaligned atomic",
      "la t0, data\n addi t0, t0, 1\n amoadd.w t1, t1, (t0)",
      135,
      /signal 7 \(Bus error\) - store\/AMO address misaligned/,
    ],
  ];
  for (const [name, code, status, message] of cases) {
    await t.step(name, () => {
      const { result } = run(`_start: ${code}\n ${EXIT(0)}\n .data\ndata: .dword 0\n`);
      assert.equal(result.how, "signal");
      assert.equal(result.status, status);
      assert.equal(result.signal, status - 128);
      assert.match(result.message!, message);
    });
  }
});

Deno.test("exec riscv64: misaligned loads and stores are emulated, as Linux does", () => {
  const { result, out } = run(
    `
    _start:
      la s0, buf
      li t0, 0x8877665544332211
      sd t0, 1(s0)          # misaligned store
      ld t1, 1(s0)          # misaligned load
      lh t2, 7(s0)          # bytes 77 88: 0x8877, sign-extended
      lw t3, 5(s0)          # bytes 55 66 77 88: 0x88776655, sign-extended
      addi s1, s0, 3
      c.lw a3, 0(s1)        # compressed, misaligned
      sub a0, t1, t0        # 0 when the round trip worked
      sd a0, 16(s0)
      sd t2, 24(s0)
      sd t3, 32(s0)
      sd a3, 40(s0)
      li a0, 1
      mv a1, s0
      li a2, 48
      li a7, 64
      ecall
      ${EXIT(0)}
    .data
    buf: .zero 48
  `,
    { compressed: true },
  );
  assert.equal(result.status, 0, result.message);
  const dv = new DataView(out[0].bytes.buffer);
  assert.equal(dv.getBigUint64(1, true), 0x8877665544332211n);
  assert.deepEqual(
    [2, 3, 4, 5].map((i) => dv.getBigInt64(8 * i, true)),
    [0n, BigInt.asIntN(16, 0x8877n), BigInt.asIntN(32, 0x88776655n), 0x66554433n],
  );
});

Deno.test("exec riscv64: a program that never ends stops at the time limit", () => {
  const { result } = run("_start: j _start", { limitNs: 100_000 });
  assert.equal(result.how, "timeout");
  assert.equal(result.status, 124);
  assert.match(result.message!, /stopped after 100000 ns of virtual time \(pc 0x1_0000\)/);
});

Deno.test("exec riscv64: a program bigger than RAM is refused with advice", () => {
  const { result } = run("_start: ret\n .bss\n .zero 0x200000\n", { memory: 2 ** 20 });
  assert.equal(result.how, "error");
  assert.match(
    result.message!,
    /^exec: out of memory: all 1 MiB of RAM are in use \(give the machine more with --mem\)/,
  );
});

Deno.test("exec riscv64: the stack grows on demand, up to its limit", () => {
  // Touches one word every page for 1 MiB below sp, then reads the deepest one back.
  const deep = run(
    `_start: li t0, 256
      mv t1, sp
      li t2, 4096
    1: sub t1, t1, t2
      sd t0, 0(t1)
      addi t0, t0, -1
      bnez t0, 1b
      ld a0, 0(t1)
      li a7, 93
      ecall`,
    { memory: 4 * 2 ** 20 },
  );
  assert.equal(deep.result.status, 1, deep.result.message);
  // Beyond the stack limit, the fault is a fault.
  const over = run("_start: li t0, 0x900000\n sub t0, sp, t0\n sd zero, 0(t0)\n ret", {
    memory: 4 * 2 ** 20,
  });
  assert.equal(over.result.status, 139);
  // Running out of RAM while growing the stack kills the program with a clear message.
  const oom = run("_start: mv t1, sp\n li t2, 4096\n1: sub t1, t1, t2\n sd zero, 0(t1)\n j 1b", {
    memory: 2 ** 20,
    stackSize: 2 ** 21,
  });
  assert.equal(oom.result.status, 139);
  assert.match(oom.result.message!, /cannot grow the stack: out of memory/);
});

Deno.test("exec riscv64: segments that reach into the stack region are refused", () => {
  const top = STACK_TOP - 0x1000;
  const elf = writeElf({
    machine: EM_RISCV,
    entry: top,
    segments: [{
      vaddr: top,
      memsz: 16,
      flags: PF_R | PF_X,
      data: new Uint8Array([0x6f, 0, 0, 0]),
    }],
  });
  const r = execElf(elf, { args: ["x"], output: () => {}, limitNs: 100_000 });
  assert.equal(r.how, "error");
  assert.match(
    r.message!,
    /segments reach into the stack region .* \(at 0x7fff_ffff_e000\): link it lower/,
  );
});

Deno.test("exec riscv64: the kernel trace shows each syscall", () => {
  const trace = new Trace(100).enable("kernel");
  run(`_start: li a7, 64\n li a0, 5\n ecall\n ${EXIT(3)}`, { trace });
  const syscalls = trace.events.filter((e) => "syscall" in e.data).map((e) => e.data);
  assert.deepEqual(syscalls, [{ syscall: "write", result: String(-EBADF) }, {
    syscall: "exit",
    result: "exit 3",
  }]);
});

Deno.test("exec riscv64: the same seed gives the same run, byte for byte", () => {
  const src = `_start: rdtime a0\n rdcycle a1\n la t0, v\n sd a0, 0(t0)\n sd a1, 8(t0)
    li a0, 1\n mv a1, t0\n li a2, 16\n li a7, 64\n ecall\n ${EXIT(0)}\n .data\nv: .zero 16\n`;
  const a = run(src, { seed: 5 }).out[0].bytes, b = run(src, { seed: 5 }).out[0].bytes;
  assert.deepEqual(a, b);
});

Deno.test("exec riscv64: a TypeScript user program runs under the same Linux layer", () => {
  const hello: UserProgram = function* (ctx) {
    const text = new TextEncoder().encode("hi from TypeScript\n");
    const buf = Number(ctx.stackPointer) - 256;
    ctx.write(buf, text);
    const n = yield* ctx.syscall(64n, 1n, BigInt(buf), BigInt(text.length));
    yield* ctx.syscall(93n, n);
  };
  const out: Uint8Array[] = [];
  const result = execElf(userProgramElf("riscv64", "hello"), {
    args: ["hello"],
    programs: { hello },
    output: (_fd, b) => out.push(b.slice()),
    limitNs: 10_000_000,
  });
  assert.equal(new TextDecoder().decode(out[0]), "hi from TypeScript\n");
  assert.equal(result.status, 19, result.message);
});

Deno.test("exec: files that are not runnable RISC-V programs are refused with the reason", () => {
  const opts = { args: ["x"], output: () => {} };
  assert.throws(
    () => execElf(new Uint8Array(100), opts),
    (e) => e instanceof ExecError && /bad magic/.test(e.message),
  );
  const aarch64 = writeElf({
    machine: 183,
    entry: 0x10000,
    segments: [{ vaddr: 0x10000, memsz: 4, flags: PF_R | PF_X, data: new Uint8Array(4) }],
  });
  assert.throws(
    () => execElf(aarch64, opts),
    (e) => e instanceof ExecError && /e_machine at offset 0x12 is 183 \(AArch64\)/.test(e.message),
  );
});
