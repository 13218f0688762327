/**
 * A throwaway demo kernel for the RISC-V `virt` board: just enough to show the machine
 * working end to end until the real kernel (kernel/, arch/) exists, and obviously
 * temporary. It
 *
 * 1. prints a banner and the memory map it reads from the devicetree over the UART,
 * 2. builds Sv48 page tables in RAM and turns paging on,
 * 3. runs one user program in U-mode, answering its `ecall`s (write, exit),
 * 4. takes a timer interrupt while the program computes, and
 * 5. shuts the machine down through SBI SRST.
 *
 * Everything goes through the hart the way real kernel code would: CSRs with
 * `csrr`/`csrw`, memory with `load`/`store`, the firmware with `ecall`.
 *
 * @module
 */

import { assembleRiscv } from "../emulator/asm/riscv/assembler.ts";
import {
  CSR_SATP,
  CSR_SCAUSE,
  CSR_SEPC,
  CSR_SIE,
  CSR_SSTATUS,
  CSR_STVAL,
  CSR_STVEC,
  CSR_TIME,
  EXC_ECALL_U,
  EXCEPTION_NAMES,
  IRQ_S_TIMER,
  makeSatp,
  PTE_A,
  PTE_D,
  PTE_R,
  PTE_U,
  PTE_V,
  PTE_W,
  PTE_X,
  SATP_MODE_SV48,
  SBI_EXT_SRST,
  SBI_EXT_TIME,
  SCAUSE_INTERRUPT,
  SIP_STIP,
  SSTATUS_SPIE,
  SSTATUS_SPP,
  SSTATUS_SUM,
  TIMEBASE_HZ,
} from "../emulator/riscv64/csr.ts";
import type { Hart } from "../emulator/riscv64/hart_api.ts";
import { VIRT_KERNEL_BASE, VIRT_UART0_BASE } from "../emulator/riscv64/virt.ts";
import type { Machine } from "../emulator/core/machine.ts";
import { formatSize, hex } from "../emulator/core/memory.ts";

/** Where the board enters the demo kernel (its physical load address). */
export const DEMO_ENTRY = BigInt(VIRT_KERNEL_BASE);
/** Where the demo's trap handler is registered (written to stvec). */
export const DEMO_TRAP = BigInt(VIRT_KERNEL_BASE + 0x100);
/** The size the demo claims for its kernel image. */
export const DEMO_IMAGE_SIZE = 0x10_0000;

const USER_TEXT = 0x1_0000;
const USER_STACK_TOP = 0x8000_0000;

/** The user program: says hello, computes long enough to be interrupted, prints, exits. */
const USER_PROGRAM = `
    .text
    .globl _start
_start:
    li    a7, 64              # write(1, hello, len)
    li    a0, 1
    la    a1, hello
    li    a2, hello_end - hello
    ecall
    li    t0, 3000000         # sum 1..3000000: about 9 ms of virtual time
    li    t1, 0
1:  add   t1, t1, t0
    addi  t0, t0, -1
    bnez  t0, 1b
    la    a1, result          # write the sum's low 32 bits in hex
    li    t2, 8
2:  srli  t3, t1, 28
    andi  t3, t3, 15
    la    t4, digits
    add   t4, t4, t3
    lbu   t4, 0(t4)
    sb    t4, 0(a1)
    addi  a1, a1, 1
    slli  t1, t1, 4
    addi  t2, t2, -1
    bnez  t2, 2b
    li    a7, 64
    li    a0, 1
    la    a1, done
    li    a2, done_end - done
    ecall
    li    a7, 93              # exit(0)
    li    a0, 0
    ecall
    .data
hello:  .ascii "user: hello from U-mode, through Sv48 paging\\n"
hello_end:
done:   .ascii "user: sum of 1..3000000 = 0x"
result: .ascii "????????\\n"
done_end:
digits: .ascii "0123456789abcdef"
`;

/** Registers the demo kernel's entry points on `machine`. */
export function installDemoKernel(machine: Machine<Hart>): void {
  const kernel = new DemoKernel();
  machine.kernelText.register(DEMO_ENTRY, "demo_boot", (hart) => kernel.boot(hart));
  machine.kernelText.register(DEMO_TRAP, "demo_trap", (hart) => kernel.trap(hart));
}

class DemoKernel {
  #nextFrame = 0;
  #timerInterrupts = 0;
  #bootTime = 0n;

  boot(hart: Hart): void {
    const dtb = Number(hart.x[11]);
    this.#bootTime = hart.csrr(CSR_TIME);
    this.print(hart, "\ndemo kernel: a temporary stand-in until kernel/ exists\n");
    this.print(hart, `demo: hart ${hart.x[10]} booted, devicetree at ${hex(dtb)}\n`);
    const memory = findMemory(hart, dtb);
    for (const m of memory) {
      this.print(
        hart,
        `demo: memory ${hex(m.base)}..${hex(m.base + m.size)} (${formatSize(m.size)})\n`,
      );
    }

    // Page frames for the tables come after the kernel image: a bump allocator will do.
    this.#nextFrame = VIRT_KERNEL_BASE + DEMO_IMAGE_SIZE;
    const root = this.frame(hart);
    // The kernel keeps running on identity-mapped RAM and the UART page, supervisor only.
    for (const m of memory) {
      for (let pa = VIRT_KERNEL_BASE; pa < m.base + m.size; pa += 0x20_0000) {
        this.map(hart, root, pa, pa, PTE_R | PTE_W, 1); // 2 MiB megapages
      }
    }
    this.map(hart, root, VIRT_UART0_BASE, VIRT_UART0_BASE, PTE_R | PTE_W, 0);

    // The user program: text and data pages with U set, and a stack page.
    const program = assembleRiscv(USER_PROGRAM, { origin: USER_TEXT });
    for (let off = 0; off < program.bytes.length; off += 4096) {
      const frame = this.frame(hart);
      const chunk = program.bytes.subarray(off, off + 4096);
      chunk.forEach((b, i) => hart.store(BigInt(frame + i), 1, BigInt(b)));
      this.map(hart, root, USER_TEXT + off, frame, PTE_R | PTE_W | PTE_X | PTE_U, 0);
    }
    this.map(hart, root, USER_STACK_TOP - 4096, this.frame(hart), PTE_R | PTE_W | PTE_U, 0);

    hart.csrw(CSR_SATP, makeSatp(SATP_MODE_SV48, 1, root / 4096));
    hart.sfenceVma();
    this.print(hart, `demo: Sv48 paging on, root table at ${hex(root)}\n`);

    hart.csrw(CSR_STVEC, DEMO_TRAP);
    hart.csrs(CSR_SIE, SIP_STIP);
    const now = hart.csrr(CSR_TIME);
    sbi(hart, SBI_EXT_TIME, 0, [now + BigInt(TIMEBASE_HZ / 1000) * 2n]); // in 2 ms
    this.print(hart, "demo: timer armed for 2 ms, entering user mode\n");

    hart.csrc(CSR_SSTATUS, SSTATUS_SPP); // return to U-mode
    hart.csrs(CSR_SSTATUS, SSTATUS_SPIE); // with interrupts enabled
    hart.csrw(CSR_SEPC, BigInt(program.entry));
    hart.x[2] = BigInt(USER_STACK_TOP);
    hart.sret();
  }

  trap(hart: Hart): void {
    const scause = hart.csrr(CSR_SCAUSE);
    const code = Number(scause & ~SCAUSE_INTERRUPT);
    if (scause & SCAUSE_INTERRUPT) {
      if (code !== IRQ_S_TIMER) return this.fail(hart, `unexpected interrupt ${code}`);
      this.#timerInterrupts++;
      const ms = Number(hart.csrr(CSR_TIME) - this.#bootTime) / (TIMEBASE_HZ / 1000);
      this.print(
        hart,
        `demo: timer interrupt at ${ms.toFixed(3)} ms; user pc ${hex(hart.csrr(CSR_SEPC))}\n`,
      );
      sbi(hart, SBI_EXT_TIME, 0, [-1n]); // no further ticks: this clears the pending bit
      return hart.sret();
    }
    if (code !== EXC_ECALL_U) {
      const what = EXCEPTION_NAMES[code] ?? `exception ${code}`;
      return this.fail(
        hart,
        `${what} at pc ${hex(hart.csrr(CSR_SEPC))}, stval ${hex(hart.csrr(CSR_STVAL))}`,
      );
    }
    const [nr, a0, a1, a2] = [hart.x[17], hart.x[10], hart.x[11], hart.x[12]];
    hart.csrw(CSR_SEPC, hart.csrr(CSR_SEPC) + 4n);
    if (nr === 64n && a0 === 1n) {
      hart.csrs(CSR_SSTATUS, SSTATUS_SUM); // allow S-mode to read the user's buffer
      let text = "";
      for (let i = 0n; i < a2; i++) text += String.fromCharCode(Number(hart.load(a1 + i, 1)));
      hart.csrc(CSR_SSTATUS, SSTATUS_SUM);
      this.print(hart, text);
      hart.x[10] = a2;
      return hart.sret();
    }
    if (nr === 93n) {
      const instret = hart.instret;
      this.print(
        hart,
        `demo: user program exited with status ${a0} after ${instret} instructions `,
      );
      this.print(hart, `and ${this.#timerInterrupts} timer interrupt(s); shutting down\n`);
      sbi(hart, SBI_EXT_SRST, 0, [0n, a0 === 0n ? 0n : 1n]);
      return;
    }
    hart.x[10] = -38n; // ENOSYS
    hart.sret();
  }

  fail(hart: Hart, why: string): void {
    this.print(hart, `demo: ${why}; shutting down\n`);
    sbi(hart, SBI_EXT_SRST, 0, [0n, 1n]);
  }

  /** Writes text to the UART's transmit register, waiting for THRE as a driver must. */
  print(hart: Hart, text: string): void {
    for (const ch of new TextEncoder().encode(text)) {
      while ((hart.load(BigInt(VIRT_UART0_BASE + 5), 1) & 0x20n) === 0n) { /* LSR.THRE */ }
      hart.store(BigInt(VIRT_UART0_BASE), 1, BigInt(ch));
    }
  }

  /** A zeroed 4 KiB frame. */
  frame(hart: Hart): number {
    const pa = this.#nextFrame;
    this.#nextFrame += 4096;
    for (let i = 0; i < 4096; i += 8) hart.store(BigInt(pa + i), 8, 0n);
    return pa;
  }

  /** Maps va -> pa in the Sv48 tree at `root`, with a leaf at `leafLevel` (0: 4 KiB). */
  map(hart: Hart, root: number, va: number, pa: number, perms: number, leafLevel: number): void {
    let table = root;
    for (let level = 3; level > leafLevel; level--) {
      const slot = BigInt(table + vpn(va, level) * 8);
      let pte = hart.load(slot, 8);
      if ((pte & BigInt(PTE_V)) === 0n) {
        pte = (BigInt(this.frame(hart) / 4096) << 10n) | BigInt(PTE_V);
        hart.store(slot, 8, pte);
      }
      table = Number(pte >> 10n) * 4096;
    }
    // A and D preset: this hart follows Svade, which faults when they are clear.
    const leaf = (BigInt(pa / 4096) << 10n) | BigInt(perms | PTE_V | PTE_A | PTE_D);
    hart.store(BigInt(table + vpn(va, leafLevel) * 8), 8, leaf);
  }
}

function vpn(va: number, level: number): number {
  return Math.floor(va / 2 ** (12 + 9 * level)) % 512;
}

/** Calls the SBI, saving and restoring the argument registers the call uses. */
function sbi(hart: Hart, eid: number, fid: number, args: bigint[]): bigint {
  const saved = hart.x.slice(10, 18);
  hart.x[17] = BigInt(eid);
  hart.x[16] = BigInt(fid);
  args.forEach((a, i) => (hart.x[10 + i] = a));
  hart.ecall();
  const result = hart.x[10];
  hart.x.set(saved, 10);
  return result;
}

/** Reads the `reg` property of the devicetree's memory node(s): just enough FDT parsing. */
function findMemory(hart: Hart, dtb: number): { base: number; size: number }[] {
  const be32 = (a: number) => {
    const v = Number(hart.load(BigInt(a), 4));
    return ((v & 0xff) << 24 | (v & 0xff00) << 8 | (v >> 8) & 0xff00 | (v >>> 24)) >>> 0;
  };
  const string = (a: number) => {
    let s = "";
    for (let c; (c = Number(hart.load(BigInt(a++), 1))) !== 0;) s += String.fromCharCode(c);
    return s;
  };
  if (be32(dtb) !== 0xd00dfeed) throw new Error(`no devicetree magic at ${hex(dtb)}`);
  const structs = dtb + be32(dtb + 8), strings = dtb + be32(dtb + 12);
  const found: { base: number; size: number }[] = [];
  let node = "";
  for (let p = structs;;) {
    const token = be32(p);
    p += 4;
    if (token === 1) { // FDT_BEGIN_NODE
      node = string(p);
      p += (node.length + 4) & ~3;
    } else if (token === 3) { // FDT_PROP
      const len = be32(p), name = string(strings + be32(p + 4));
      if (node.startsWith("memory@") && name === "reg") {
        for (let i = 0; i < len; i += 16) {
          const cell = (o: number) => be32(p + 8 + i + o) * 2 ** 32 + be32(p + 12 + i + o);
          found.push({ base: cell(0), size: cell(8) });
        }
      }
      p += 8 + ((len + 3) & ~3);
    } else if (token === 9) { // FDT_END
      return found;
    }
  }
}
