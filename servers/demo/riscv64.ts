/**
 * The built-in machine-code demo programs for RISC-V, as RV64 assembly source (GNU as
 * syntax). The boot assembles them (with the course's assembler) into flat images for the
 * kernel's fixed load address, 0x10000, where they start with a0 = their argument.
 *
 * Both compute in rounds long enough to be preempted several times, and report after each
 * round through `debug_write` (syscall 1, a7 = number, a0/a1 = buffer/length): their lines
 * interleave in the boot log because the timer preempts them, not because they yield.
 *
 * @module
 */

/** The load address the sources are written for (the kernel's USER_IMAGE_BASE). */
export const DEMO_ORIGIN = 0x10000;

/**
 * Routines both programs use: `puts` (a0 = NUL-terminated string) and `putu` (a0 = an
 * unsigned number, printed in decimal), each one debug_write.
 */
const LIBRARY = `
    .text
# puts(a0 = string): writes it up to its NUL.
puts:
    mv    t0, a0
1:  lbu   t1, 0(t0)
    beqz  t1, 2f
    addi  t0, t0, 1
    j     1b
2:  sub   a1, t0, a0
    li    a7, 1                 # debug_write(a0, a1)
    ecall
    ret

# putu(a0 = value): writes it in decimal.
putu:
    la    t0, digits_end
    mv    t1, t0
    li    t2, 10
1:  remu  t3, a0, t2
    divu  a0, a0, t2
    addi  t3, t3, 48            # '0'
    addi  t1, t1, -1
    sb    t3, 0(t1)
    bnez  a0, 1b
    mv    a0, t1
    sub   a1, t0, t1
    li    a7, 1                 # debug_write(a0, a1)
    ecall
    ret

    .data
digits:     .ascii "00000000000000000000"
digits_end:
newline:    .asciz "\\n"
`;

/**
 * `compute-a`: the sum of the squares of 1 to 7.2 million (mod 2^64), in six rounds of 1.2
 * million terms (about 7 ms of virtual time each), printing the running sum after each.
 */
export const COMPUTE_A_SOURCE = `
    .equ  ROUNDS, 6
    .equ  TERMS, 1200000
    .text
    .globl _start
_start:
    li    s1, 0                 # the round
    li    s2, 0                 # the sum
    li    s3, 0                 # the last term of the previous round
round:
    addi  s1, s1, 1
    li    t0, TERMS
1:  add   t2, s3, t0            # the term: s3 + TERMS down to s3 + 1
    mul   t1, t2, t2
    add   s2, s2, t1
    addi  t0, t0, -1
    bnez  t0, 1b
    li    t0, TERMS
    add   s3, s3, t0
    la    a0, msg_round
    call  puts
    mv    a0, s1
    call  putu
    la    a0, msg_sum
    call  puts
    mv    a0, s2
    call  putu
    la    a0, newline
    call  puts
    li    t0, ROUNDS
    bne   s1, t0, round
    la    a0, msg_done
    call  puts
    li    a0, 0
    li    a7, 2                 # exit(0)
    ecall

    .data
msg_round:  .asciz "round "
msg_sum:    .asciz ": sum of squares = "
msg_done:   .asciz "done\\n"
${LIBRARY}`;

/**
 * `compute-b`: six rounds of an xorshift64 generator (1 million steps a round, about 5 ms),
 * printing each round's state.
 */
export const COMPUTE_B_SOURCE = `
    .equ  ROUNDS, 6
    .equ  STEPS, 1000000
    .text
    .globl _start
_start:
    li    s1, 0                 # the round
    li    s2, 88172645463325252 # the generator's state
round:
    addi  s1, s1, 1
    li    t0, STEPS
1:  slli  t1, s2, 13            # x ^= x << 13; x ^= x >> 7; x ^= x << 17
    xor   s2, s2, t1
    srli  t1, s2, 7
    xor   s2, s2, t1
    slli  t1, s2, 17
    xor   s2, s2, t1
    addi  t0, t0, -1
    bnez  t0, 1b
    la    a0, msg_round
    call  puts
    mv    a0, s1
    call  putu
    la    a0, msg_state
    call  puts
    mv    a0, s2
    call  putu
    la    a0, newline
    call  puts
    li    t0, ROUNDS
    bne   s1, t0, round
    la    a0, msg_done
    call  puts
    li    a0, 0
    li    a7, 2                 # exit(0)
    ecall

    .data
msg_round:  .asciz "round "
msg_state:  .asciz ": xorshift state = "
msg_done:   .asciz "done\\n"
${LIBRARY}`;
