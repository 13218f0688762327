; Lines the assembler must refuse, one case per line, each assembled on its own.
; regenerate.ts records GNU as's verdict on each (rejects_verdicts.txt); asm_vectors_test.ts
; checks that ours is an error too, whose message contains the text after "expect:".
; A line GNU as accepts says why ours refuses it after "gas accepts:".
        mov eax, rbx                    ; expect: operand sizes do not match
        add r8w, ecx                    ; expect: operand sizes do not match
        mov ah, sil                     ; expect: ah cannot be used in an instruction that needs a REX prefix
        mov ah, r8b                     ; expect: needs a REX prefix
        add bh, [r8]                    ; expect: needs a REX prefix
        movzx rax, ah                   ; expect: needs a REX prefix
        push eax                        ; expect: cannot take a 32-bit operand
        pop ecx                         ; expect: cannot take a 32-bit operand
        jmp eax                         ; expect: cannot take a 32-bit operand
        call ecx                        ; expect: cannot take a 32-bit operand
        push dword [rax]                ; expect: cannot take a 32-bit operand
        mov rax, [rsp*2]                ; expect: rsp cannot be an index register
        mov rax, [rsp + rsp]            ; expect: rsp cannot be an index register
        mov rax, [rax*3 + rbx]          ; expect: scale of an index must be 1, 2, 4 or 8
        mov rax, [rax*2 + rbx*2]        ; expect: only one register of an address can be scaled
        mov rax, [rax + rbx + rcx]      ; expect: at most two registers
        mov rax, [eax + rbx]            ; expect: different sizes
        mov rax, [ax]                   ; expect: 16-bit addressing
        mov [rax], [rbx]                ; expect: invalid combination of operands
        lea rax, rbx                    ; expect: invalid combination of operands
        add rax, 0x100000000            ; expect: does not fit in the 32-bit immediate
        cmp qword [rax], 0x80000000     ; expect: does not fit in the 32-bit immediate
        int 256                         ; expect: does not fit
        ret 0x10000                     ; expect: does not fit
        shl rax, 256                    ; expect: does not fit
        inc [rax]                       ; expect: operation size not specified
        mov [rax], 1                    ; expect: operation size not specified
        movzx eax, [rax]                ; expect: operation size not specified
        bswap ax                        ; expect: invalid combination of operands
        mov eax, cr0                    ; expect: invalid combination of operands
        push cs                         ; expect: invalid combination of operands
        pop ds                          ; expect: invalid combination of operands
        add rax                         ; expect: add takes 2 operands, not 1
        ret 1, 2                        ; expect: ret takes no or 1 operands, not 2
        movx rax, 1                     ; expect: unknown instruction
        mov rax, [rip + 8]              ; gas accepts: NASM has no rip register in addresses
        mov rax, qword ptr [rbx]        ; gas accepts: "ptr" is GNU as syntax
        mov cs, ax                      ; gas accepts: cs cannot be loaded with mov
        mov cr1, rax                    ; gas accepts: cr1 does not exist
