/**
 * RISC-V benchmark programs for `deno task bench`: static Linux executables that run
 * unchanged under the exec layer and under `qemu-riscv64` (see bench.ts).
 *
 * @module
 */

import { assembleRiscvElf } from "../../emulator/asm/riscv/assemble_elf.ts";

/**
 * The ALU loop as a static Linux program that runs `iterations` times and exits: the
 * body of emulator/riscv64/bench.ts's ALU loop (11 instructions an iteration) with its
 * branch comparing against a bound instead of zero, so the count is the same.
 */
export function riscvAluElf(iterations: number): Uint8Array {
  return assembleRiscvElf(`
    .globl _start
_start:
    li s1, ${iterations}
    li t0, 0
    li t1, 1
1:  add t2, t0, t1
    xor t3, t2, t0
    slli t4, t3, 3
    srli t5, t4, 2
    and t6, t5, t2
    or a0, t6, t1
    sltu a1, a0, t2
    sub a2, a0, a1
    addi t0, t0, 1
    addi t1, t1, 3
    bne t0, s1, 1b
    li a0, 0
    li a7, 93
    ecall
`).elf;
}

/** Instructions per iteration of {@link riscvAluElf}'s loop. */
export const RISCV_ALU_LOOP = 11;
