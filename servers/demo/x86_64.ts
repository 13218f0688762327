/**
 * The built-in machine-code demo programs for x86-64, as NASM source: the same two programs
 * as riscv64.ts, computing the same numbers, for the PC. The boot assembles them (with the
 * course's assembler) into flat images for the kernel's fixed load address, 0x10000, where
 * they start with RDI = their argument and RSP at the top of their stack.
 *
 * They report through `debug_write` (syscall 1: RAX = number, RDI/RSI = buffer/length,
 * result in RAX) with the `syscall` instruction, which clobbers RCX and R11 (they hold the
 * return RIP and RFLAGS), as the kernel's register ABI says (kernel/README.md).
 *
 * @module
 */

/** The load address the sources are written for (the kernel's USER_IMAGE_BASE). */
export const DEMO_ORIGIN_X86_64 = 0x10000;

/**
 * Routines both programs use: `puts` (RDI = NUL-terminated string) and `putu` (RDI = an
 * unsigned number, printed in decimal), each one debug_write.
 */
const LIBRARY = `
    section .text
; puts(rdi = string): writes it up to its NUL.
puts:
    mov   rsi, rdi
.scan:
    cmp   byte [rsi], 0
    je    .found
    inc   rsi
    jmp   .scan
.found:
    sub   rsi, rdi              ; the length
    mov   eax, 1                ; debug_write(rdi, rsi)
    syscall
    ret

; putu(rdi = value): writes it in decimal.
putu:
    lea   r8, [rel digits_end]
    mov   rax, rdi
    mov   r9, 10
.digit:
    xor   edx, edx
    div   r9                    ; rax = quotient, rdx = the digit
    add   dl, '0'
    dec   r8
    mov   [r8], dl
    test  rax, rax
    jnz   .digit
    mov   rdi, r8
    lea   rsi, [rel digits_end]
    sub   rsi, r8
    mov   eax, 1                ; debug_write(rdi, rsi)
    syscall
    ret

    section .data
digits:     times 20 db '0'
digits_end:
newline:    db 10, 0
`;

/**
 * `compute-a`: the sum of the squares of 1 to 7.2 million (mod 2^64), in six rounds of 1.2
 * million terms (about 6 ms of virtual time each), printing the running sum after each.
 */
export const COMPUTE_A_SOURCE_X86_64 = `
    bits 64
ROUNDS equ 6
TERMS  equ 1200000
    section .text
    global _start
_start:
    xor   r12d, r12d            ; the round
    xor   r13d, r13d            ; the sum
    xor   r14d, r14d            ; the last term of the previous round
.round:
    inc   r12
    mov   ecx, TERMS
.term:
    lea   rax, [r14 + rcx]      ; the term: r14 + TERMS down to r14 + 1
    imul  rax, rax
    add   r13, rax
    dec   rcx
    jnz   .term
    add   r14, TERMS
    lea   rdi, [rel msg_round]
    call  puts
    mov   rdi, r12
    call  putu
    lea   rdi, [rel msg_sum]
    call  puts
    mov   rdi, r13
    call  putu
    lea   rdi, [rel newline]
    call  puts
    cmp   r12, ROUNDS
    jne   .round
    lea   rdi, [rel msg_done]
    call  puts
    xor   edi, edi
    mov   eax, 2                ; exit(0)
    syscall

    section .data
msg_round:  db "round ", 0
msg_sum:    db ": sum of squares = ", 0
msg_done:   db "done", 10, 0
${LIBRARY}`;

/**
 * `compute-b`: six rounds of an xorshift64 generator (1 million steps a round, about 11 ms),
 * printing each round's state.
 */
export const COMPUTE_B_SOURCE_X86_64 = `
    bits 64
ROUNDS equ 6
STEPS  equ 1000000
    section .text
    global _start
_start:
    xor   r12d, r12d            ; the round
    mov   r13, 88172645463325252 ; the generator's state
.round:
    inc   r12
    mov   ecx, STEPS
.step:
    mov   rax, r13              ; x ^= x << 13; x ^= x >> 7; x ^= x << 17
    shl   rax, 13
    xor   r13, rax
    mov   rax, r13
    shr   rax, 7
    xor   r13, rax
    mov   rax, r13
    shl   rax, 17
    xor   r13, rax
    dec   ecx
    jnz   .step
    lea   rdi, [rel msg_round]
    call  puts
    mov   rdi, r12
    call  putu
    lea   rdi, [rel msg_state]
    call  puts
    mov   rdi, r13
    call  putu
    lea   rdi, [rel newline]
    call  puts
    cmp   r12, ROUNDS
    jne   .round
    lea   rdi, [rel msg_done]
    call  puts
    xor   edi, edi
    mov   eax, 2                ; exit(0)
    syscall

    section .data
msg_round:  db "round ", 0
msg_state:  db ": xorshift state = ", 0
msg_done:   db "done", 10, 0
${LIBRARY}`;
