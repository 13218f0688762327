# Instruction forms for the decoder test: assembled by GNU as, disassembled by objdump
# (gen_decode.sh), and the lengths compared with the emulator's decoder. One instruction
# per line; covers the integer instruction set GCC emits and every addressing form.
        .intel_syntax noprefix
        .text
# ---- ModRM/SIB addressing: every base, index and scale; no base; no index; RIP-relative;
# the RBP/R13 (no base with mod 0) and RSP/R12 (SIB needed) quirks
        mov rax, [rax]
        mov rax, [rcx]
        mov rax, [rsp]
        mov rax, [rbp]
        mov rax, [r12]
        mov rax, [r13]
        mov rax, [r15]
        mov rax, [rax+8]
        mov rax, [rax-128]
        mov rax, [rax+0x12345678]
        mov rax, [rbp-8]
        mov rax, [r13+0]
        mov rax, [rax+rcx]
        mov rax, [rax+rcx*2]
        mov rax, [rax+rcx*4+16]
        mov rax, [rax+rcx*8+0x1000]
        mov rax, [r8+r9*8]
        mov rax, [rsp+r12*2]
        mov rax, [rbp+r13*4]
        mov rax, [r13+rbp*1+4]
        mov rax, [rcx*8]
        mov rax, [rcx*8+0x40]
        mov rax, [r11*2-4]
        mov rax, ds:0x1000
        mov rax, [rip+0x100]
        mov rax, [rip-0x10]
        mov eax, [eax+ebx*2]
        mov eax, [rip+0]
        mov rax, fs:[0]
        mov rax, fs:[rax+8]
        mov rax, gs:[0x28]
        movabs rax, ds:0x1122334455667788
        movabs ds:0x1122334455667788, al
# ---- moves and extensions
        mov al, bl
        mov ah, bh
        mov spl, dil
        mov r8b, r15b
        mov ax, bx
        mov eax, ebx
        mov rax, rbx
        mov r9, r10
        mov byte ptr [rdi], 1
        mov word ptr [rdi], 0x1234
        mov dword ptr [rdi], 0x12345678
        mov qword ptr [rdi], -1
        mov al, 0x12
        mov ax, 0x1234
        mov eax, 0x12345678
        movabs rax, 0x1122334455667788
        mov r15d, 1
        movzx eax, bl
        movzx eax, bh
        movzx eax, word ptr [rdi]
        movzx rax, byte ptr [rdi]
        movsx eax, bl
        movsx rax, word ptr [rdi]
        movsxd rax, ebx
        movsxd rax, dword ptr [rdi+rcx*4]
        lea rax, [rip+0x10]
        lea eax, [rax+rax*2]
        lea r10, [r11+r12*8-1]
        cbw
        cwde
        cdqe
        cwd
        cdq
        cqo
        xchg rax, rbx
        xchg r8, rax
        xchg [rdi], ecx
        xchg bl, cl
        bswap eax
        bswap r12
        push rax
        push r15
        push qword ptr [rdi]
        push 1
        push 0x12345678
        push fs
        push gs
        pop rbx
        pop r14
        pop qword ptr [rsp+8]
        pop fs
        pushfq
        popfq
        lahf
        sahf
        enter 32, 0
        enter 16, 2
        leave
        xlatb
# ---- ALU
        add al, 1
        add eax, 1
        add rax, 0x12345678
        add rax, -1
        add byte ptr [rdi], cl
        add [rdi], rax
        add rax, [rdi]
        add r8, r9
        or ecx, edx
        adc rax, rbx
        sbb al, ah
        and dword ptr [rdi+4], 0xff
        sub rsp, 8
        sub rsp, 0x1000
        xor eax, eax
        xor r11d, r11d
        cmp rax, rbx
        cmp byte ptr [rdi], 0
        cmp ax, 0x1234
        test eax, eax
        test al, 1
        test rdi, 0x100
        test byte ptr [rdi], 0x80
        inc eax
        inc byte ptr [rdi]
        dec r12
        neg rax
        not dword ptr [rdi]
        lock add [rdi], eax
        lock inc qword ptr [rdi]
        lock xadd [rdi], rax
        lock cmpxchg [rdi], rcx
        lock bts dword ptr [rdi], 3
        lock cmpxchg16b [rdi]
        cmpxchg8b [rdi]
        cmpxchg bl, cl
        xadd eax, ebx
# ---- shifts and rotates
        shl eax, 1
        shl rax, cl
        shl rax, 63
        shr byte ptr [rdi], 4
        sar r9, 2
        rol ax, 1
        ror ecx, cl
        rcl rdx, 3
        rcr bl, 1
        shld eax, ebx, 4
        shld rax, rbx, cl
        shrd [rdi], rcx, 9
        shrd dx, ax, cl
# ---- multiply and divide
        mul rcx
        mul byte ptr [rdi]
        imul rbx
        imul eax, ebx
        imul rax, [rdi], 10
        imul ecx, edx, 1000
        imul r8, r9, -2
        div rcx
        div word ptr [rdi]
        idiv r10
        idiv byte ptr [rdi]
# ---- bit instructions
        bt eax, ebx
        bt dword ptr [rdi], 5
        bts rax, 63
        btr [rdi], rax
        btc eax, 1
        bsf eax, ebx
        bsr rax, [rdi]
        tzcnt eax, ebx
        lzcnt rax, rbx
        popcnt ecx, edx
        popcnt rax, [rdi]
# ---- control flow
        jmp .+2
        jmp .+0x100
        jmp rax
        jmp qword ptr [rdi+8]
        call .+0x1000
        call rax
        call qword ptr [rip+0x100]
        ret
        ret 16
        jz .+2
        jnz .+0x1000
        jl .-0x10
        jge .+0x80
        ja .+0x7f
        jbe .-0x80
        js .+4
        jno .+4
        jp .+4
        jrcxz .+2
        loop .-2
        loope .-2
        loopne .-2
        sete al
        setne byte ptr [rdi]
        setg r8b
        cmove rax, rbx
        cmovl eax, [rdi]
        cmovae r10, r11
# ---- strings
        movsb
        movsq
        rep movsb
        rep movsd
        rep stosq
        repe cmpsb
        repne scasb
        lodsb
        stosw
        rep stosb
# ---- no-operation forms and system
        nop
        nop eax
        nop dword ptr [rax+rax*1+0]
        nop word ptr cs:[rax+rax*1+0]
        endbr64
        pause
        lfence
        sfence
        mfence
        prefetcht0 [rdi]
        cpuid
        rdtsc
        rdtscp
        syscall
        int 0x80
        int3
        int1
        ud2
        hlt
        cli
        sti
        mov cr3, rax
        mov rax, cr2
        lgdt [rdi]
        lidt [rdi]
        ltr ax
        invlpg [rdi]
        wrmsr
        rdmsr
        in al, dx
        out 0x80, al
        swapgs
        sysretq
        iretq
        clflush [rdi]
        sgdt [rdi]
        str eax
        smsw eax
