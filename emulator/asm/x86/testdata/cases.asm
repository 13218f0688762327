; Hand-written cases for the x86-64 assembler: every instruction and operand form not
; covered systematically by generated_cases.asm. regenerate.ts asks GNU as for the bytes
; of each case line (see cases.ts for what a case is and how it is spelled for GNU as);
; asm_vectors_test.ts checks that our assembler gives the same bytes.
bits 64
section .text
global start
start:
; ---- moves -------------------------------------------------------------------------
        mov rax, rbx
        mov r15, [r14]
        mov [rsp + 8], r11
        mov al, [rbx]
        mov [rbx], spl
        mov r8b, dil
        mov ah, bl
        mov bh, ch
        mov ax, [rbp - 2]
        mov word [rax], 0x1234
        mov byte [rdi], 0xff
        mov dword [rdi], -1
        mov qword [rdi], 0x7fffffff
        mov qword [rdi + rcx*8], -0x80000000
        mov rax, -1
        mov rax, -0x80000000
        mov r9, -5
        mov eax, 0x12345678
        mov r15d, 1
        mov ax, 0xffff
        mov r12w, 7
        mov cl, 0x80
        mov r11b, -1
        mov ax, ds
        mov eax, fs
        mov ecx, gs
        mov [rax], es
        mov word [rbx + 4], ss
        mov ds, ax
        mov es, ecx
        mov fs, r8w
        mov gs, word [rdi]
        mov ss, rax
        mov cr0, rax
        mov cr3, r15
        mov cr4, rbx
        mov cr2, rdx
        mov cr8, rcx
        mov rax, cr0
        mov r10, cr3
        mov rdx, cr8
        mov dr7, rax
        mov rax, dr6
        mov dr0, r9
        movabs rax, 0x1122334455667788
        movabs r13, 0x8000000000000000
        mov al, [qword 0x1122334455667788]
        mov eax, [qword 0x1122334455667788]
        mov rax, [qword 0x1122334455667788]
        mov [qword 0xfedcba9876543210], ax
        mov [qword 0xfedcba9876543210], rax
        movabs al, [0x1122334455667788]
        movzx eax, bh
        movzx r8d, dil
        movzx ax, byte [rsi]
        movsx eax, ah
        movsx rdx, word [rax + rbx]
        movsxd r11, r12d
        lea rax, [rax]
        lea rsp, [rsp + 8]
        lea eax, [rax + rax*2]
        lea rcx, [rbx + rsi*8 - 1]
        lea ax, [rdi]
        lea r8, [0x400]
; ---- addressing ---------------------------------------------------------------------
        mov rax, [rbp]
        mov rax, [r13]
        mov rax, [rsp]
        mov rax, [r12]
        mov rax, [rbp + 0]
        mov rax, [rbp + rax]
        mov rax, [r13 + r13*2]
        mov rax, [rcx + rax*1]
        mov rax, [rax*4]
        mov rax, [r15*8 + 0x10]
        mov rax, [rax + 127]
        mov rax, [rax + 128]
        mov rax, [rax - 128]
        mov rax, [rax - 129]
        mov rax, [rax + 0x7fffffff]
        mov rax, [rax - 0x80000000]
        mov eax, [eax]
        mov eax, [ebp + esi*4 + 8]
        mov eax, [r15d]
        mov rax, [fs: 0x28]
        mov rax, [gs: 0]
        mov rax, [fs: rax + 8]
        mov [gs: rbx*8 + 16], rdx
        mov eax, [es: rbx]
        mov eax, [cs: rbx]
        mov eax, [ds: rbp]
        lea rax, [rel start]
        lea rdi, [rel data_here]
        mov rax, [rel data_here]
        mov [rel data_here], r9d
        add qword [rel data_here], 5
        cmp byte [rel data_here], 0x7f
        mov dword [rel data_here], 0x12345678
        inc qword [rel start]
; ---- ALU odds and ends ---------------------------------------------------------------
        add al, 1
        add ax, 1
        add eax, 1
        add rax, 1
        add eax, 0x100
        add rax, 0x100
        add ax, 0xffff
        add eax, 0xffffffff
        add rax, -1
        sub rsp, 8
        sub rsp, 0x1000
        and rax, -16
        and esp, 0xfffffff0
        or byte [rbx], 0x80
        xor eax, eax
        xor r8d, r8d
        cmp rax, rbx
        cmp qword [rbp - 8], 0
        test al, al
        test rax, rax
        test eax, 0x100
        test al, 0x80
        test rdi, 1
        test rax, [rbx]
        test [rbx], rax
        test word [rax], 0x8000
        adc rax, 0
        sbb ecx, ecx
        neg rax
        not ecx
        inc r10
        dec byte [rsp]
        imul rax, rbx, 8
        imul eax, ecx, 0x12345
        imul rax, [rbx], -3
        imul r9, 200
        mul rcx
        div qword [rbx]
        idiv r8d
        cbw
        cwde
        cdqe
        cwd
        cdq
        cqo
        shl rax, 1
        sal rax, 1
        sal ecx, 4
        sar rdx, cl
        shr r9d, 31
        rol ax, 8
        rcr byte [rdi], 1
        shld rax, rbx, 3
        shrd [rdi], ecx, cl
; ---- exchange and atomics -------------------------------------------------------------
        xchg rax, rbx
        xchg rbx, rax
        xchg r8, rax
        xchg eax, eax
        xchg ax, ax
        xchg ecx, [rdi]
        xchg [rdi], ecx
        xchg bl, cl
        xchg al, [rsi]
        lock add qword [rdi], 1
        lock xadd [rdi], eax
        lock cmpxchg [rsi], rcx
        lock cmpxchg [rsi], dl
        lock inc dword [rbx]
        lock bts qword [rax], 5
        lock add word [rax], 1
        lock add qword [fs: eax], r8
        cmpxchg8b [rdi]
        cmpxchg16b [rdi]
        lock cmpxchg16b [r8]
; ---- bits ------------------------------------------------------------------------------
        bsf rax, rcx
        bsr eax, [rdi]
        tzcnt rax, rbx
        lzcnt ecx, edx
        popcnt r8, [r9]
        popcnt ax, bx
        bswap eax
        bswap r8
        bt eax, 3
        bts qword [rdi], 63
        btr rcx, rdx
        btc word [rsi], 1
; ---- stack -----------------------------------------------------------------------------
        push rax
        push r15
        push qword [rbx]
        push word [rax]
        push 1
        push -200
        push 0x1234
        push fs
        push gs
        pop rbp
        pop r12
        pop qword [rsp + 8]
        pop fs
        pop gs
        pushfq
        popfq
        pushf
        popf
        leave
        enter 16, 0
        enter 0x1000, 3
; ---- control transfer ------------------------------------------------------------------
        call rax
        call r11
        call [rax]
        call qword [rel data_here]
        call start
        jmp rax
        jmp r14
        jmp [rbx + rcx*8]
        jmp qword [rsp]
        jmp start
        jmp fwd1
        jz start
        jnz fwd1
        jecxz fwd1
        jrcxz fwd1
        loop fwd1
        loopz fwd1
        loopnz fwd1
fwd1:
        ret
        ret 8
        retn
        retn 4
        ret 0x1000
        retf
        retf 16
        retfq
        int 0x80
        int 0x69
        int3
        int1
        icebp
        iretq
        iret
        iretd
        iretw
        syscall
        sysretq
        sysenter
; ---- strings ---------------------------------------------------------------------------
        movsb
        movsw
        movsd
        movsq
        cmpsb
        cmpsw
        cmpsd
        cmpsq
        stosb
        stosw
        stosd
        stosq
        lodsb
        lodsw
        lodsd
        lodsq
        scasb
        scasw
        scasd
        insb
        insw
        insd
        outsb
        outsw
        outsd
        rep movsb
        rep movsq
        rep stosb
        rep stosq
        repe cmpsb
        repz cmpsq
        repne scasb
        repnz scasq
        rep movsw
; ---- system ----------------------------------------------------------------------------
        cli
        sti
        hlt
        clc
        stc
        cmc
        cld
        std
        lahf
        sahf
        nop
        pause
        ud2
        cpuid
        rdtsc
        rdtscp
        rdmsr
        wrmsr
        rdpmc
        swapgs
        wbinvd
        invd
        clts
        lfence
        mfence
        sfence
        endbr64
        endbr32
        xlatb
        xlat
        lgdt [rax]
        lidt [rbx + 8]
        sgdt [rdi]
        sidt [rsp]
        lldt ax
        sldt word [rax]
        ltr ax
        ltr word [rsi]
        str ax
        str eax
        str word [rdi]
        invlpg [rax]
        invlpg [r15 + 0x1000]
        invpcid rax, [rbx]
        invpcid r10, [r11]
        clflush [rdi]
        in al, dx
        in ax, dx
        in eax, dx
        in al, 0x60
        in ax, 0x70
        in eax, 0xff
        out dx, al
        out dx, ax
        out dx, eax
        out 0x80, al
        out 0xe9, ax
        out 0xf4, eax
        nop word [rax + rax]
        nop dword [rax]
        nop qword [rax + rax*1 + 0]
        nop dword [rax + 0]
        nop word [rax + rax + 0x100]
; ---- data ------------------------------------------------------------------------------
data_here:
        db 1, 2, 3
        db "hello, world", 10, 0
        db 'single', "double"
        db -1, 0xff, 0x80
        dw 0x1234, -1
        dd 0x12345678, -2
        dq 0x123456789abcdef0, -3
        times 16 db 0xcc
        dq start
        dd 0
