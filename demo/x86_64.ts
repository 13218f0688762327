/**
 * A throwaway demo kernel for the x86-64 PC: the counterpart of demo/riscv64.ts, just
 * enough to show the machine working end to end until the real kernel (kernel/, arch/)
 * exists, and obviously temporary. It
 *
 * 1. prints a banner, the memory map and the ACPI tables it finds over COM1,
 * 2. builds its own GDT (with user segments and a TSS), IDT and 4-level page tables,
 * 3. runs one user program in ring 3, answering its `syscall`s (write, exit),
 * 4. takes a local-APIC timer interrupt while the program computes, and
 * 5. powers off through the debug-exit port.
 *
 * Everything goes through the CPU the way real kernel code would: `lgdt`, `ltr`,
 * `wrmsr`, `out`, loads and stores through the MMU at direct-map addresses, `iretq`.
 *
 * @module
 */

import { assembleX86 } from "../emulator/asm/x86/assembler.ts";
import type { Machine } from "../emulator/core/machine.ts";
import { hex } from "../emulator/core/memory.ts";
import { MEMMAP_TYPE_NAMES, MEMMAP_USABLE } from "../emulator/core/bootinfo.ts";
import type { X86Cpu } from "../emulator/x86_64/cpu_api.ts";
import { HHDM_OFFSET, KERNEL_VIRT_BASE } from "../emulator/x86_64/firmware.ts";
import {
  EFER_SCE,
  EXCEPTION_NAMES,
  IA32_APIC_BASE,
  IA32_EFER,
  IA32_FMASK,
  IA32_LSTAR,
  IA32_STAR,
  PTE_NX,
  PTE_P,
  PTE_U,
  PTE_W,
  RAX,
  RDI,
  RDX,
  RFLAGS_IF,
  RSI,
  RSP,
  TSC_HZ,
} from "../emulator/x86_64/regs.ts";

/** Where the board enters the demo kernel. */
export const DEMO_ENTRY = KERNEL_VIRT_BASE;
/** The size the demo claims for its kernel image. */
export const DEMO_IMAGE_SIZE = 0x10_0000;
/**
 * The debug-exit value the demo writes when all went well: the port turns it into exit
 * status (0x10 << 1) | 1 = 33, QEMU's usual "success" convention with isa-debug-exit.
 */
export const DEMO_SUCCESS_VALUE = 0x10;

const SYSCALL_ENTRY = KERNEL_VIRT_BASE + 0x100n;
const VECTOR_BASE = KERNEL_VIRT_BASE + 0x1000n; // vector v's entry at VECTOR_BASE + 16 v
const TIMER_VECTOR = 0x20;
const COM1 = 0x3f8, DEBUG_EXIT = 0xf4;
// GDT layout: SYSRET loads SS = STAR[63:48] + 8 and CS = STAR[63:48] + 16.
const KERNEL_CS = 0x08, KERNEL_DS = 0x10, USER_DS = 0x18 | 3, USER_CS = 0x20 | 3, TSS_SEL = 0x28;
const USER_TEXT = 0x40_0000, USER_STACK_TOP = 0x7fff_0000;
// x2APIC registers (Intel SDM Vol. 3A, 11.12.1.2): MSR 0x800 + offset / 16.
const X2APIC_SVR = 0x80f, X2APIC_EOI = 0x80b, X2APIC_LVT_TIMER = 0x832;
const X2APIC_TIMER_INITIAL = 0x838, X2APIC_TIMER_DIVIDE = 0x83e;

/** The user program: says hello, computes long enough to be interrupted, prints, exits. */
const USER_PROGRAM = `
    bits 64
    global _start
_start:
    mov eax, 1                  ; write(1, hello, len)
    mov edi, 1
    lea rsi, [rel hello]
    mov edx, hello_end - hello
    syscall
    mov ecx, 3000000            ; sum 1..3000000
    xor ebx, ebx
.sum:
    add rbx, rcx
    dec ecx
    jnz .sum
    lea rdi, [rel result]       ; the sum's low 32 bits in hex
    mov ecx, 8
.hex:
    mov eax, ebx
    shr eax, 28
    lea rsi, [rel digits]
    mov al, [rsi + rax]
    mov [rdi], al
    inc rdi
    shl ebx, 4
    dec ecx
    jnz .hex
    mov eax, 1
    mov edi, 1
    lea rsi, [rel done]
    mov edx, done_end - done
    syscall
    mov eax, 60                 ; exit(0)
    xor edi, edi
    syscall
hello:  db "user: hello from ring 3, through 4-level paging", 10
hello_end:
done:   db "user: sum of 1..3000000 = 0x"
result: db "????????", 10
done_end:
digits: db "0123456789abcdef"
`;

/** Registers the demo kernel's entry points on `machine`. */
export function installDemoKernel(machine: Machine<X86Cpu>): void {
  const kernel = new DemoKernel();
  machine.kernelText.register(DEMO_ENTRY, "demo_boot", (cpu) => kernel.boot(cpu));
  machine.kernelText.register(SYSCALL_ENTRY, "demo_syscall", (cpu) => kernel.syscall(cpu));
  for (let v = 0; v < 256; v++) {
    machine.kernelText.register(
      VECTOR_BASE + BigInt(16 * v),
      `demo_vector_${v}`,
      (cpu) => kernel.interrupt(cpu, v),
    );
  }
}

class DemoKernel {
  #nextFrame = 0;
  #frameEnd = 0;
  #kernelStackTop = 0n;
  #timerInterrupts = 0;
  #bootTsc = 0n;

  boot(cpu: X86Cpu): void {
    const info = Number(cpu.regs[RDI]);
    this.#bootTsc = cpu.rdtsc();
    this.print(cpu, "\ndemo kernel: a temporary stand-in until kernel/ exists\n");
    this.print(cpu, `demo: booted on the PC, boot information at ${hex(info)}\n`);

    // The memory map, from the boot-information block (see emulator/core/bootinfo.ts).
    const count = Number(this.read(cpu, info + 56, 4)), map = Number(this.read(cpu, info + 48, 8));
    for (let i = 0; i < count; i++) {
      const base = Number(this.read(cpu, map + 24 * i, 8));
      const length = Number(this.read(cpu, map + 24 * i + 8, 8));
      const type = Number(this.read(cpu, map + 24 * i + 16, 4));
      this.print(
        cpu,
        `demo: memory ${hex(base)}..${hex(base + length)} ${MEMMAP_TYPE_NAMES[type]}\n`,
      );
      // Page frames come from the largest usable region: a bump allocator will do.
      if (type === MEMMAP_USABLE && length > this.#frameEnd - this.#nextFrame) {
        this.#nextFrame = base;
        this.#frameEnd = base + length;
      }
    }
    this.listAcpiTables(cpu, Number(this.read(cpu, info + 24, 8)));

    // Page tables: a new PML4 that shares the firmware's kernel half (entries 256-511:
    // the direct map and the kernel image) and maps the user program in the lower half.
    const oldPml4 = Number(cpu.readCr(3) & 0x000f_ffff_ffff_f000n);
    const pml4 = this.frame(cpu);
    for (let i = 256; i < 512; i++) {
      this.write(cpu, pml4 + 8 * i, 8, this.read(cpu, oldPml4 + 8 * i, 8));
    }
    const program = assembleX86(USER_PROGRAM, { origin: USER_TEXT });
    for (let off = 0; off < program.bytes.length; off += 4096) {
      const frame = this.frame(cpu);
      program.bytes.subarray(off, off + 4096).forEach((b, i) =>
        this.write(cpu, frame + i, 1, BigInt(b))
      );
      this.map(cpu, pml4, USER_TEXT + off, frame, BigInt(PTE_W | PTE_U)); // text and data share a page
    }
    this.map(cpu, pml4, USER_STACK_TOP - 4096, this.frame(cpu), BigInt(PTE_W | PTE_U) | PTE_NX);
    cpu.writeCr(3, BigInt(pml4));
    this.print(cpu, `demo: 4-level paging with our own PML4 at ${hex(pml4)}\n`);

    this.loadDescriptorTables(cpu);
    // SYSCALL: EFER.SCE, the selectors in STAR, the entry in LSTAR, IF cleared on entry.
    cpu.wrmsr(IA32_EFER, cpu.rdmsr(IA32_EFER) | BigInt(EFER_SCE));
    cpu.wrmsr(IA32_STAR, (BigInt(USER_DS - 8 - 3) << 48n) | (BigInt(KERNEL_CS) << 32n));
    cpu.wrmsr(IA32_LSTAR, SYSCALL_ENTRY);
    cpu.wrmsr(IA32_FMASK, BigInt(RFLAGS_IF));

    // The local APIC timer in x2APIC mode, one-shot. Its frequency is not told to anyone
    // (a real kernel calibrates it against the HPET); any count will do for a demo.
    cpu.wrmsr(IA32_APIC_BASE, cpu.rdmsr(IA32_APIC_BASE) | (3n << 10n)); // EN | EXTD
    cpu.wrmsr(X2APIC_SVR, 0x1ffn); // software enable, spurious vector 0xff
    cpu.wrmsr(X2APIC_TIMER_DIVIDE, 0b1011n); // divide by 1
    cpu.wrmsr(X2APIC_LVT_TIMER, BigInt(TIMER_VECTOR));
    cpu.wrmsr(X2APIC_TIMER_INITIAL, 300_000n);
    this.print(cpu, "demo: local APIC timer armed (one-shot), entering ring 3\n");

    // Into ring 3 through an interrupt frame on the kernel stack: SS, RSP, RFLAGS, CS, RIP.
    const frame = [program.entry, USER_CS, RFLAGS_IF | 2, USER_STACK_TOP, USER_DS];
    const sp = this.#kernelStackTop - 40n;
    frame.forEach((v, i) => cpu.store(sp + BigInt(8 * i), 8, BigInt(v)));
    cpu.regs[RSP] = sp;
    cpu.iretq();
  }

  syscall(cpu: X86Cpu): void {
    const nr = cpu.regs[RAX];
    if (nr === 1n && cpu.regs[RDI] === 1n) {
      const buf = cpu.regs[RSI], len = cpu.regs[RDX];
      let text = "";
      for (let i = 0n; i < len; i++) text += String.fromCharCode(Number(cpu.load(buf + i, 1)));
      this.print(cpu, text);
      cpu.regs[RAX] = len;
      return cpu.sysretq();
    }
    if (nr === 60n) {
      this.print(
        cpu,
        `demo: user program exited with status ${cpu.regs[RDI]} after ${cpu.instret} `,
      );
      this.print(
        cpu,
        `instructions and ${this.#timerInterrupts} timer interrupt(s); powering off\n`,
      );
      return cpu.outb(DEBUG_EXIT, cpu.regs[RDI] === 0n ? DEMO_SUCCESS_VALUE : 1);
    }
    cpu.regs[RAX] = -38n; // ENOSYS
    cpu.sysretq();
  }

  interrupt(cpu: X86Cpu, vector: number): void {
    const sp = cpu.regs[RSP];
    if (vector === TIMER_VECTOR) {
      this.#timerInterrupts++;
      const ms = Number(cpu.rdtsc() - this.#bootTsc) / (TSC_HZ / 1000);
      this.print(
        cpu,
        `demo: timer interrupt at ${ms.toFixed(3)} ms; user rip ${hex(cpu.load(sp, 8))}\n`,
      );
      cpu.wrmsr(X2APIC_EOI, 0n);
      return cpu.iretq();
    }
    // Exceptions 8, 10-14 and 17 push an error code before RIP.
    const hasError = [8, 10, 11, 12, 13, 14, 17].includes(vector);
    const rip = cpu.load(sp + (hasError ? 8n : 0n), 8);
    const what = EXCEPTION_NAMES[vector] ?? `vector ${vector}`;
    this.print(cpu, `demo: ${what} at rip ${hex(rip)}, cr2 ${hex(cpu.readCr(2))}; powering off\n`);
    cpu.outb(DEBUG_EXIT, 1);
  }

  /** GDT with kernel and user segments and a TSS; an IDT of 256 interrupt gates. */
  loadDescriptorTables(cpu: X86Cpu): void {
    const gdt = this.frame(cpu), tss = this.frame(cpu), idt = this.frame(cpu);
    this.#kernelStackTop = HHDM_OFFSET + BigInt(this.frame(cpu) + 4096);
    const code64 = 0x0020_9a00_0000_0000n, data = 0x0000_9200_0000_0000n, dpl3 = 0x6000_0000_0000n;
    const descriptors = [0n, code64, data, data | dpl3, code64 | dpl3];
    descriptors.forEach((d, i) => this.write(cpu, gdt + 8 * i, 8, d));
    // The 16-byte TSS descriptor (type 9, present), limit 103, base = the TSS's address.
    const base = HHDM_OFFSET + BigInt(tss);
    const low = 103n | ((base & 0xff_ffffn) << 16n) | (0x89n << 40n) |
      (((base >> 24n) & 0xffn) << 56n);
    this.write(cpu, gdt + TSS_SEL, 8, low);
    this.write(cpu, gdt + TSS_SEL + 8, 8, base >> 32n);
    this.write(cpu, tss + 4, 8, this.#kernelStackTop); // TSS.RSP0
    cpu.lgdt(HHDM_OFFSET + BigInt(gdt), 8 * 7 - 1);
    cpu.loadCs(KERNEL_CS);
    cpu.loadSegment("ss", KERNEL_DS);
    cpu.ltr(TSS_SEL);
    for (let v = 0; v < 256; v++) {
      const target = VECTOR_BASE + BigInt(16 * v);
      const lo = (target & 0xffffn) | (BigInt(KERNEL_CS) << 16n) | (0x8en << 40n) |
        (((target >> 16n) & 0xffffn) << 48n); // present, DPL 0, 64-bit interrupt gate
      this.write(cpu, idt + 16 * v, 8, lo);
      this.write(cpu, idt + 16 * v + 8, 8, (target >> 32n) & 0xffff_ffffn);
    }
    cpu.lidt(HHDM_OFFSET + BigInt(idt), 256 * 16 - 1);
  }

  listAcpiTables(cpu: X86Cpu, rsdp: number): void {
    const xsdt = Number(this.read(cpu, rsdp + 24, 8));
    const tables = (Number(this.read(cpu, xsdt + 4, 4)) - 36) / 8;
    const names = [];
    for (let i = 0; i < tables; i++) {
      const table = Number(this.read(cpu, xsdt + 36 + 8 * i, 8));
      let sig = "";
      for (let j = 0; j < 4; j++) sig += String.fromCharCode(Number(this.read(cpu, table + j, 1)));
      names.push(`${sig} at ${hex(table)}`);
    }
    this.print(cpu, `demo: ACPI RSDP at ${hex(rsdp)}, XSDT lists ${names.join(", ")}\n`);
  }

  /** Writes to COM1, waiting for LSR.THRE as a driver must. */
  print(cpu: X86Cpu, text: string): void {
    for (const ch of new TextEncoder().encode(text)) {
      while ((cpu.inb(COM1 + 5) & 0x20) === 0) { /* LSR.THRE */ }
      cpu.outb(COM1, ch);
    }
  }

  /** Physical memory through the firmware's direct map. */
  read(cpu: X86Cpu, pa: number, size: number): bigint {
    return cpu.load(HHDM_OFFSET + BigInt(pa), size);
  }

  write(cpu: X86Cpu, pa: number, size: number, value: bigint): void {
    cpu.store(HHDM_OFFSET + BigInt(pa), size, value);
  }

  /** A zeroed 4 KiB frame. */
  frame(cpu: X86Cpu): number {
    const pa = this.#nextFrame;
    if (pa + 4096 > this.#frameEnd) throw new Error("demo: out of page frames");
    this.#nextFrame += 4096;
    for (let i = 0; i < 4096; i += 8) this.write(cpu, pa + i, 8, 0n);
    return pa;
  }

  /** Maps the 4 KiB page at va to pa in the tree at `pml4`. */
  map(cpu: X86Cpu, pml4: number, va: number, pa: number, flags: bigint): void {
    let table = pml4;
    for (let level = 3; level > 0; level--) {
      const slot = table + 8 * (Math.floor(va / 2 ** (12 + 9 * level)) % 512);
      let entry = this.read(cpu, slot, 8);
      if ((entry & BigInt(PTE_P)) === 0n) {
        entry = BigInt(this.frame(cpu)) | BigInt(PTE_P | PTE_W | PTE_U);
        this.write(cpu, slot, 8, entry);
      }
      table = Number(entry & 0x000f_ffff_ffff_f000n);
    }
    const leaf = BigInt(pa) | flags | BigInt(PTE_P);
    this.write(cpu, table + 8 * (Math.floor(va / 4096) % 512), 8, leaf);
  }
}
