import assert from "node:assert/strict";
import { archOf, main } from "./asm.ts";
import { execElf } from "./exec/exec.ts";

function run(elf: string): { text: string; status: number } {
  let text = "";
  const r = execElf(Deno.readFileSync(elf), {
    args: [elf],
    output: (_fd, b) => (text += new TextDecoder().decode(b)),
  });
  return { text, status: r.status };
}

Deno.test("asm: a RISC-V .s file becomes an ELF that exec runs", () => {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(
    `${dir}/hi.s`,
    `.globl _start\n_start: li a7, 64\n li a0, 1\n la a1, m\n li a2, 3\n ecall\n` +
      ` li a7, 93\n li a0, 7\n ecall\nm: .ascii "hi\\n"\n`,
  );
  assert.equal(main([`${dir}/hi.s`], () => {}), 0);
  assert.deepEqual(run(`${dir}/hi.elf`), { text: "hi\n", status: 7 });
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("asm: an x86-64 .asm file becomes an ELF that exec runs, -o names it", () => {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(
    `${dir}/hi.asm`,
    `bits 64\nglobal _start\n_start: mov eax, 1\n mov edi, 1\n lea rsi, [rel m]\n mov edx, 3\n` +
      ` syscall\n mov eax, 60\n mov edi, 5\n syscall\nm: db "yo", 10\n`,
  );
  assert.equal(main([`${dir}/hi.asm`, "-o", `${dir}/out.elf`], () => {}), 0);
  assert.deepEqual(run(`${dir}/out.elf`), { text: "yo\n", status: 5 });
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("asm: errors name the file, line and column; unknown kinds ask for --arch", () => {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${dir}/bad.s`, "_start:\n  addi a0, a0, 5000\n");
  let err = "";
  assert.equal(main([`${dir}/bad.s`], (s) => (err += s)), 1);
  assert.match(err, /bad\.s: line 2, column \d+: .*5000/);
  err = "";
  assert.equal(main([`${dir}/prog.txt`], (s) => (err += s)), 2);
  assert.match(err, /say --arch riscv64 or --arch x86_64/);
  assert.equal(archOf("x.S"), "riscv64");
  assert.equal(archOf("x.nasm"), "x86_64");
  assert.equal(archOf("x.txt", "x86_64"), "x86_64");
  assert.equal(archOf("x.s", "arm"), undefined);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("asm: an x86-64 error names the file, line and column too", () => {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${dir}/bad.asm`, "bits 64\n_start:\n  mov al, 300x\n");
  let err = "";
  assert.equal(main([`${dir}/bad.asm`], (s) => (err += s)), 1);
  assert.match(err, /^[^\n]*bad\.asm: line 3, column \d+: /);
  Deno.removeSync(dir, { recursive: true });
});
