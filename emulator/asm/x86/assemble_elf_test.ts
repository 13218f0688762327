import assert from "node:assert/strict";
import { EM_X86_64, PF_R, PF_W, PF_X, readElf } from "../elf.ts";
import { assembleX86Elf } from "./assemble_elf.ts";

/** A program that prints a computed line and exits with a computed status. */
const HELLO = `
bits 64
default rel
global _start

section .text
_start:
    lea rsi, [message]
    mov eax, 1              ; write(1, message, len)
    mov edi, 1
    mov edx, len
    syscall
    ; sum of 1..10 into the status, through a loop and the data segment
    xor ecx, ecx
    mov qword [total], 0
.loop:
    inc ecx
    add [total], rcx
    cmp ecx, 10
    jne .loop
    mov rdi, [total]
    mov eax, 231            ; exit_group(55)
    syscall

section .rodata
message: db "hello from NASM syntax", 10
len equ $ - message

section .bss
total: resq 1
`;

function installed(command: string, args = ["--version"]): boolean {
  try {
    return new Deno.Command(command, { args, stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

Deno.test("assembleX86Elf: a static EM_X86_64 executable laid out as ld lays one out", () => {
  const { elf, asm } = assembleX86Elf(HELLO);
  const image = readElf(elf, { machine: EM_X86_64 });
  assert.equal(image.entry, asm.symbols.get("_start"));
  assert.equal(image.entry, 0x401000);
  assert.deepEqual(image.segments.map((s) => [s.vaddr, s.flags]), [
    [0x401000, PF_R | PF_X],
    [0x402000, PF_R | PF_W],
  ]);
  const [text, data] = image.segments;
  assert.equal(text.memsz, asm.sections[1].address + asm.sections[1].size - 0x401000);
  assert.equal(data.data.length, 0, ".bss only: no file bytes");
  assert.equal(data.memsz, 8);
  const sym = (name: string) => image.symbols.find((s) => s.name === name)!;
  assert.equal(sym("_start").global, true);
  assert.equal(sym("_start.loop").global, false);
  assert.equal(sym("len").value, 23);
  assert.equal(sym("total").value, 0x402000);
});

Deno.test({
  name: "assembleX86Elf: readelf accepts the file (needs binutils' readelf)",
  ignore: !installed("readelf"),
  async fn() {
    const path = await Deno.makeTempFile({ suffix: ".elf" });
    try {
      await Deno.writeFile(path, assembleX86Elf(HELLO).elf);
      const out = await new Deno.Command("readelf", { args: ["-h", "-l", "-s", "-W", path] })
        .output();
      const text = new TextDecoder().decode(out.stdout);
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      assert.equal(new TextDecoder().decode(out.stderr), "", "no warnings");
      assert.match(text, /Machine:\s+Advanced Micro Devices X86-64/);
      assert.match(text, /Entry point address:\s+0x401000/);
      assert.match(text, /LOAD .* 0x0000000000401000 .* R E/);
      assert.match(text, /GLOBAL DEFAULT .* _start/);
    } finally {
      await Deno.remove(path);
    }
  },
});

Deno.test({
  name: "assembleX86Elf: the program behaves the same on the host's QEMU (needs qemu-x86_64)",
  ignore: !installed("qemu-x86_64"),
  async fn() {
    const path = await Deno.makeTempFile({ suffix: ".elf" });
    try {
      await Deno.writeFile(path, assembleX86Elf(HELLO).elf, { mode: 0o755 });
      const out = await new Deno.Command("qemu-x86_64", { args: [path] }).output();
      assert.equal(new TextDecoder().decode(out.stdout), "hello from NASM syntax\n");
      assert.equal(out.code, 55);
    } finally {
      await Deno.remove(path);
    }
  },
});
