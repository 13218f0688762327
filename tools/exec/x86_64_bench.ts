/**
 * x86-64 benchmark programs for `deno task bench`: an ALU loop and a memory loop as static
 * Linux executables (assembled from NASM source), which run unchanged under the exec layer
 * and under `qemu-x86_64`, so that the two speeds can be compared side by side. The loop
 * bodies are those of emulator/x86_64/bench.ts (which measures the bare CPU), with a
 * bounded count and an exit.
 *
 * ```ts
 * import { measureExecMips, measureQemuMips, x86AluElf, X86_ALU_LOOP } from "./x86_64_bench.ts";
 * const ours = measureExecMips(x86AluElf, X86_ALU_LOOP, 20_000_000);
 * const qemu = await measureQemuMips(x86AluElf, X86_ALU_LOOP);   // undefined without QEMU
 * ```
 *
 * The measuring itself is in bench.ts, shared with the RISC-V programs.
 *
 * @module
 */

import { assembleX86Elf } from "../../emulator/asm/x86/assemble_elf.ts";
import { measureExecMips, measureQemuMips } from "./bench.ts";

/** Instructions per iteration of {@link x86AluElf}'s loop. */
export const X86_ALU_LOOP = 5;
/** Instructions per iteration of {@link x86MemElf}'s loop. */
export const X86_MEM_LOOP = 7;

/** Instructions outside the loop (set-up and exit) of both programs, at most. */
export const X86_BENCH_OVERHEAD = 8;

/** The ALU loop, `iterations` times (32- and 64-bit register arithmetic, a branch), then exit(0). */
export function x86AluElf(iterations: number): Uint8Array {
  return assembleX86Elf(`
    bits 64
    global _start
    _start:
        mov esi, ${iterations}
        mov eax, 1
        xor ecx, ecx
        mov edx, 3
    .loop:
        add eax, ecx
        xor edx, eax
        add rbx, rdx
        sub esi, 1
        jnz .loop
        mov eax, 231            ; exit_group(0)
        xor edi, edi
        syscall
  `).elf;
}

/**
 * The memory loop, `iterations` times: a 64-bit load, add and store through 4-level paging
 * over 64 KiB of .bss (16 pages, TLB hits after the first pass), then exit(0).
 */
export function x86MemElf(iterations: number): Uint8Array {
  return assembleX86Elf(`
    bits 64
    default rel
    global _start
    _start:
        mov esi, ${iterations}
        lea rdi, [buffer]
        mov edx, 3
    .loop:
        mov rax, [rdi + rcx*8]
        add rax, rdx
        mov [rdi + rcx*8], rax
        add ecx, 1
        and ecx, 0x1fff
        dec esi
        jnz .loop
        mov eax, 231
        xor edi, edi
        syscall
    section .bss
    buffer: resq 0x2000
  `).elf;
}

if (import.meta.main) {
  const row = (name: string, v: number | undefined) =>
    console.log(
      `${name.padEnd(28)} ${
        v === undefined ? "n/a (qemu-x86_64 missing)" : `${v.toFixed(0)} MIPS`
      }`,
    );
  row("x86_64.exec_alu_mips", measureExecMips(x86AluElf, X86_ALU_LOOP));
  row("x86_64.exec_mem_mips", measureExecMips(x86MemElf, X86_MEM_LOOP, 10_000_000));
  row("x86_64.qemu_alu_mips", await measureQemuMips(x86AluElf, X86_ALU_LOOP, "qemu-x86_64"));
  row("x86_64.qemu_mem_mips", await measureQemuMips(x86MemElf, X86_MEM_LOOP, "qemu-x86_64"));
}
