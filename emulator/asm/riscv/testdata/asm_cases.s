# Assembler cases checked against GNU as (regenerate.sh writes asm_vectors.txt).
# Every instruction or data line is a case; labels stay on lines of their own.
# Keep everything in .text: the vectors compare .text bytes.
	.text
	.globl _start
_start:
	.option norvc
	# ---- pseudo-instructions without compression
	nop
	li a0, 0
	li a0, 2047
	li a0, -2048
	li a0, 2048
	li a0, 0x7ffff800
	li a0, 0x80000000
	li a0, -0x80000000
	li a0, 0xffffffff
	li a0, 0x123456789abcdef0
	li t0, 0xfffffffffffff800
	li s11, 0x8000000000000000
	li a1, 'a'
	li a2, 1 + 2 & 3
	li a3, 2 * 3 + 1 << 2
	li a4, -5 >> 1
	li a5, ~0
	li a6, (1 << 40) | 0x55
	li a7, 100 / 7 * 7 + 100 % 7
	li t1, -100 / 7
	li t2, 0b1011 ^ 0x0f
	li t3, 010
	mv a0, a1
	mv a0, zero
	not a0, a1
	neg a0, a1
	negw a0, a1
	sext.w a0, a1
	seqz a0, a1
	snez a0, a1
	sltz a0, a1
	sgtz a0, a1
	ret
	jr a0
	jalr a0
	jalr t0, a0
	jalr a0, 8
	jalr ra, 12(a0)
	jr 4(a1)
	csrr a0, sstatus
	csrr a1, satp
	csrr a2, 0x7c0
	csrw stvec, a0
	csrw sscratch, 5
	csrs sstatus, a1
	csrsi sie, 2
	csrc sip, a2
	csrci sstatus, 8
	csrwi sepc, 31
	csrrw a0, scause, a1
	csrrs a0, stval, zero
	csrrci a0, mstatus, 3
	rdcycle a0
	rdtime a1
	rdinstret a2
	fence
	fence rw, rw
	fence r, w
	fence iorw, o
	fence.i
	fence.tso
	sfence.vma
	sfence.vma a0
	sfence.vma a0, a1
	ecall
	ebreak
	unimp
	wfi
	sret
	mret
	lr.d a0, (a1)
	lr.w.aq a0, 0(a1)
	sc.d.rl a2, a3, (a4)
	amoswap.w.aqrl a0, a1, (a2)
	amoadd.d a0, a1, 0(sp)
	mul a0, a1, a2
	mulhsu a0, a1, a2
	divuw a0, a1, a2
	remw t0, t1, t2
	lw a0, 8(sp)
	ld s0, -8(s0)
	lbu a1, 0(a0)
	lhu a1, (a0)
	lwu t6, 2047(t5)
	sb zero, -2048(t6)
	sh a0, 2(sp)
	sd ra, 24(sp)
	addi a0, a0, %lo(0x12345678)
	lui a0, %hi(0x12345678)
	lui a0, %hi(0x12345fff)
	lui a0, %hi(_start)
	addi a0, a0, %lo(_start)
	ld a1, %lo(far_data)(a0)
	# ---- labels, numeric local labels, expressions with symbols
	.equ SIZE, 64
	.equ MASK, SIZE - 1
	.set SHIFTED, SIZE << 4
	li a0, SIZE
	li a1, MASK
	li a2, SHIFTED
	addi sp, sp, -SIZE
	andi a0, a0, MASK
1:
	addi a0, a0, 1
	bnez a0, 1b
	beqz a0, 1f
	j 1f
	call 1f
	tail 1f
	jal 1f
	jal t0, 1f
1:
	la a0, msg
	lla a1, msg
	lw a2, msg
	ld a3, msg
	sw a2, msg, t0
	sd a3, msg, t1
2:
	auipc a0, %pcrel_hi(msg)
	addi a0, a0, %pcrel_lo(2b)
	lw a1, %pcrel_lo(2b)(a0)
	sw a1, %pcrel_lo(2b)(a0)
	beq a0, a1, 2b
	bne a0, zero, 2b
	blt a0, a1, 2b
	bge a0, a1, 2b
	bltu a0, a1, 2b
	bgeu a0, a1, 2b
	bgt a0, a1, 2b
	ble a0, a1, 2b
	bgtu a0, a1, 2b
	bleu a0, a1, 2b
	blez a0, 2b
	bgez a0, 2b
	bltz a0, 2b
	bgtz a0, 2b
	# ---- data in .text, strings, fills
msg:
	.ascii "Hello, world!\n"
	.asciz "tab\there"
	.string "quote\" backslash\\ nul\0 octal\101 hex\x42"
	.byte 1, 2, 0xff, -1, 'z'
	.half 0x1234, -2
	.short 7
	.word 0xdeadbeef, msg - _start
	.long -1
	.dword 0x0123456789abcdef
	.quad msg
	.zero 3
	.space 4, 0x55
	.fill 2, 4, 0x1234
	.balign 4
	.word SIZE * 2, MASK
	# ---- alignment padding in code, without and with rvc
	.balign 8
	addi a0, a0, 1
	.p2align 4
	addi a0, a0, 2
	.option rvc
	addi a0, a0, 3
	.align 3
	addi a0, a0, 4
	.balign 16
	.byte 7
	.balign 4
	nop
	# ---- compression of written forms
	li a0, 5
	li a0, 31
	li a0, -32
	li a0, 32
	li zero, 1
	li t0, 0x800
	li a0, 0x123456789abcdef0
	li a0, 0xffffffff
	li a0, 0x80000000
	mv a0, a1
	mv a0, zero
	mv zero, a0
	mv sp, a0
	sext.w a0, a0
	sext.w a0, a1
	ret
	jr a0
	jalr a0
	jalr ra, 0(a0)
	jalr zero, 0(a0)
	nop
	ebreak
	unimp
	addi sp, sp, -64
	addi sp, sp, 8
	addi a0, sp, 16
	addi a0, a0, 0
	addi zero, zero, 0
	addi a0, zero, 7
	addi a0, a0, %lo(0x10)
	add a0, a0, a1
	add a0, a1, a0
	add a0, zero, a1
	add a0, a1, zero
	sub a0, a0, a1
	sub a0, a1, a0
	and a0, a1, a0
	or s0, s0, s1
	xor a5, a4, a5
	addw a0, a0, a1
	subw a0, a0, a1
	andi a0, a0, -1
	slli a0, a0, 12
	srli a0, a0, 63
	srai s1, s1, 1
	slli t0, t0, 0
	lw a0, 4(a1)
	ld a0, 8(sp)
	sw a0, 124(a1)
	sd s0, 504(sp)
	lw a0, 128(a1)
	lui a0, 1
	lui a0, 0xfffff
	lui sp, 1
	lui a0, %hi(SIZE)
	addiw a0, a0, 1
	addiw a0, a1, 1
	# ---- branch relaxation with rvc
3:
	beqz a0, 3b
	bnez a5, 3b
	beqz a6, 3b
	beq a0, zero, 3b
	beq zero, a0, 3b
	bne a0, a1, 3b
	j 3b
	jal 3b
	jal zero, 3b
	beqz a0, 4f
	bnez s1, 4f
	bltu a0, a1, 4f
	j 4f
	j 5f
	.zero 200
4:
	nop
	beqz a0, 3b
	bnez a0, 6f
	bge a0, a1, 6f
	beqz t0, 6f
	.zero 300
5:
	c.nop
	.zero 4000
6:
	beqz a0, 5b
	blt a0, a1, 5b
	j 5b
	.option norvc
	beqz a0, 5b
	blt a0, a1, 5b
	j 5b
	beqz a0, 3b
	.option push
	.option rvc
	j 3b
	.option pop
	j 3b
	# ---- explicit compressed instructions and .insn
	.option rvc
	c.li a0, 1
	c.addi16sp sp, 32
	c.lwsp a0, 4(sp)
	c.j .+4
	.option norvc
	.insn r 0x33, 0, 0, a0, a1, a2
	.insn r CUSTOM_0, 1, 2, a0, a1, a2
	.insn i OP_IMM, 0, a0, a1, 5
	.insn i LOAD, 3, a0, 8(sp)
	.insn s STORE, 3, a0, 16(sp)
	.insn u LUI, a0, 0x12345
	.insn b BRANCH, 0, a0, a1, 6b
	.insn j JAL, ra, 6b
	.insn 0x0000000b
	.insn 0x0000100b
	.insn 4, 0x13
far_data:
	.dword far_data
