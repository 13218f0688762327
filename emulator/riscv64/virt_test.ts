import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { encode } from "../asm/riscv/encode.ts";
import { CpuFault } from "../core/hosted.ts";
import { formatEvent, Trace } from "../core/trace.ts";
import {
  BOOTINFO_MAGIC,
  CPU_FLAG_BOOT,
  MEMMAP_BOOTLOADER_RECLAIMABLE,
  MEMMAP_KERNEL_AND_MODULES,
  MEMMAP_RESERVED,
  MEMMAP_USABLE,
  readBootInfo,
} from "../core/bootinfo.ts";
import type { Machine } from "../core/machine.ts";
import { UART_FCR, UART_IER, UART_IER_RDI, UART_IIR, UART_LSR } from "../devices/uart16550.ts";
import { CLINT_MTIME } from "./clint.ts";
import {
  CSR_SCAUSE,
  CSR_SEPC,
  CSR_SIE,
  CSR_SIP,
  CSR_SSTATUS,
  CSR_STVEC,
  CSR_TIME,
  EXC_ECALL_U,
  EXC_LOAD_ACCESS,
  IRQ_S_TIMER,
  SBI_ERR_ALREADY_AVAILABLE,
  SBI_ERR_INVALID_PARAM,
  SBI_EXT_DBCN,
  SBI_EXT_HSM,
  SBI_EXT_IPI,
  SBI_EXT_SRST,
  SBI_EXT_TIME,
  SBI_SUCCESS,
  SCAUSE_INTERRUPT,
  SIP_SEIP,
  SIP_SSIP,
  SIP_STIP,
  SSTATUS_SIE,
  SSTATUS_SPP,
} from "./csr.ts";
import {
  SBI_HSM_STATE_STOPPED,
  SBI_HSM_STATE_SUSPENDED,
  SBI_HSM_SUSPEND_NON_RET_DEFAULT,
} from "./sbi.ts";
import { cellsOf, findNode, propertyOf, readFdt, stringsOf } from "./dtb.ts";
import { type Hart, PRIV_S } from "./hart_api.ts";
import {
  PLIC_CONTEXT_BASE,
  PLIC_CONTEXT_STRIDE,
  PLIC_ENABLE_BASE,
  PLIC_ENABLE_STRIDE,
} from "./plic.ts";
import {
  createVirt,
  VIRT_CLINT_BASE,
  VIRT_FIRMWARE_SIZE,
  VIRT_ISA,
  VIRT_KERNEL_BASE,
  VIRT_PLIC_BASE,
  VIRT_RAM_BASE,
  VIRT_UART0_BASE,
  VIRT_UART0_IRQ,
  type VirtOptions,
} from "./virt.ts";

function board(extra: Partial<VirtOptions> = {}) {
  return createVirt({
    memory: 64 * 2 ** 20,
    harts: 2,
    kernel: { size: 0x3_0000 },
    modules: [{ name: "/initrd.tar", data: new Uint8Array([1, 2, 3, 4, 5]) }],
    cmdline: "console=ttyS0 quiet",
    ...extra,
  });
}

Deno.test("virt: the memory map has QEMU's addresses", () => {
  assert.equal(VIRT_RAM_BASE, 0x8000_0000);
  assert.equal(VIRT_UART0_BASE, 0x1000_0000);
  assert.equal(VIRT_UART0_IRQ, 10);
  assert.equal(VIRT_CLINT_BASE, 0x0200_0000);
  assert.equal(VIRT_PLIC_BASE, 0x0c00_0000);
  assert.equal(VIRT_KERNEL_BASE, 0x8020_0000);
  const { machine } = board();
  assert.match(machine.bus.describe(0x1000_0005), /^uart0\+0x5$/);
  assert.match(machine.bus.describe(0x0c20_1004), /^plic\+/);
  assert.match(machine.bus.describe(0x0200_bff8), /^clint\+/);
  assert.equal(machine.bus.describe(VIRT_KERNEL_BASE), "RAM");
});

Deno.test("virt: hart 0 enters the kernel with a0 = hartid, a1 = DTB, a2 = boot info", () => {
  const { harts, dtbAddress, bootInfoAddress } = board({
    kernel: { size: 0x1000, entry: 0x8020_0040 },
  });
  assert.equal(harts[0].state, "running");
  assert.equal(harts[0].pc, 0x8020_0040n);
  assert.equal(harts[0].priv, PRIV_S);
  assert.deepEqual([...harts[0].x.subarray(10, 13)], [
    0n,
    BigInt(dtbAddress),
    BigInt(bootInfoAddress),
  ]);
  assert.equal(harts[1].state, "stopped", "the other harts wait for HSM hart_start");
  assert.ok(harts.every((h) => h.firmware !== undefined), "every hart has the firmware");
});

Deno.test("virt: the boot information describes RAM, the kernel, modules and CPUs", () => {
  const { machine, bootInfo, bootInfoAddress, dtbAddress } = board();
  const info = readBootInfo(machine.bus, bootInfoAddress);
  assert.equal(machine.bus.read(bootInfoAddress, 8), BOOTINFO_MAGIC);
  assert.deepEqual(info, bootInfo);
  assert.equal(info.dtb, dtbAddress);
  assert.equal(info.cmdline, "console=ttyS0 quiet");
  assert.deepEqual(info.cpus, [
    { index: 0, hwId: 0, flags: CPU_FLAG_BOOT },
    { index: 1, hwId: 1, flags: 0 },
  ]);
  assert.equal(info.kernelPhys, VIRT_KERNEL_BASE);
  assert.equal(info.kernelSize, 0x3_0000);
  assert.deepEqual(info.modules, [{ base: 0x8023_0000, length: 5, name: "/initrd.tar" }]);
  assert.deepEqual([...machine.bus.readBytes(0x8023_0000, 5)!], [1, 2, 3, 4, 5]);
  const ramEnd = VIRT_RAM_BASE + 64 * 2 ** 20;
  const types = info.memoryMap.map((r) => r.type);
  assert.deepEqual(types, [
    MEMMAP_RESERVED,
    MEMMAP_KERNEL_AND_MODULES,
    MEMMAP_USABLE,
    MEMMAP_BOOTLOADER_RECLAIMABLE,
  ]);
  // Sorted, contiguous, covering RAM exactly, page-aligned.
  let at = VIRT_RAM_BASE;
  for (const r of info.memoryMap) {
    assert.equal(r.base, at);
    assert.equal(r.base % 4096, 0);
    at += r.length;
  }
  assert.equal(at, ramEnd);
  assert.deepEqual(info.memoryMap[0], {
    base: VIRT_RAM_BASE,
    length: VIRT_FIRMWARE_SIZE,
    type: MEMMAP_RESERVED,
  });
  assert.equal(info.memoryMap[1].base + info.memoryMap[1].length, 0x8023_1000);
  const reclaim = info.memoryMap[3];
  assert.ok(dtbAddress >= reclaim.base && bootInfoAddress < ramEnd, "both at the top of RAM");
});

Deno.test("virt: the devicetree in RAM describes the board", async (t) => {
  const { machine, dtb, dtbAddress } = board();
  const fdt = readFdt(machine.bus.readBytes(dtbAddress, dtb.length)!);
  const root = fdt.root;
  const cells = (path: string, prop: string) => cellsOf(propertyOf(findNode(root, path)!, prop)!);
  const strings = (path: string, prop: string) =>
    stringsOf(propertyOf(findNode(root, path)!, prop)!);
  await t.step("header and reservation", () => {
    assert.equal(fdt.bootCpuId, 0);
    assert.deepEqual(fdt.reservations, [{ address: 0x8000_0000n, size: 0x20_0000n }]);
  });
  await t.step("cpus", () => {
    assert.deepEqual(cells("/cpus", "timebase-frequency"), [10_000_000]);
    for (const h of [0, 1]) {
      assert.deepEqual(cells(`/cpus/cpu@${h}`, "reg"), [h]);
      assert.deepEqual(strings(`/cpus/cpu@${h}`, "riscv,isa"), [VIRT_ISA]);
      assert.deepEqual(strings(`/cpus/cpu@${h}`, "mmu-type"), ["riscv,sv48"]);
      assert.deepEqual(strings(`/cpus/cpu@${h}`, "device_type"), ["cpu"]);
      assert.deepEqual(strings(`/cpus/cpu@${h}/interrupt-controller`, "compatible"), [
        "riscv,cpu-intc",
      ]);
    }
    assert.equal(VIRT_ISA, "rv64imac_zicsr_zifencei_zicntr_sstc_svade");
  });
  await t.step("memory", () => {
    assert.deepEqual(cells("/memory@80000000", "reg"), [0, 0x8000_0000, 0, 64 * 2 ** 20]);
  });
  await t.step("chosen", () => {
    assert.deepEqual(strings("/chosen", "bootargs"), ["console=ttyS0 quiet"]);
    const stdout = strings("/chosen", "stdout-path")[0];
    assert.ok(findNode(root, stdout), `stdout-path ${stdout} names a node`);
  });
  await t.step("phandles link every interrupt to its controller", () => {
    const intc = (h: number) => cells(`/cpus/cpu@${h}/interrupt-controller`, "phandle")[0];
    const plic = cells("/soc/plic@c000000", "phandle")[0];
    assert.deepEqual(cells("/soc/serial@10000000", "interrupt-parent"), [plic]);
    assert.deepEqual(cells("/soc/serial@10000000", "interrupts"), [10]);
    assert.deepEqual(cells("/soc/plic@c000000", "interrupts-extended"), [
      intc(0),
      11,
      intc(0),
      9,
      intc(1),
      11,
      intc(1),
      9,
    ]);
    assert.deepEqual(cells("/soc/clint@2000000", "interrupts-extended"), [
      intc(0),
      3,
      intc(0),
      7,
      intc(1),
      3,
      intc(1),
      7,
    ]);
    const all = [
      intc(0),
      intc(1),
      plic,
      cells("/cpus/cpu@0", "phandle")[0],
      cells("/cpus/cpu@1", "phandle")[0],
    ];
    assert.equal(new Set(all).size, all.length, "phandles are unique");
    assert.deepEqual(cells("/cpus/cpu-map/cluster0/core1", "cpu"), cells("/cpus/cpu@1", "phandle"));
  });
  await t.step("devices", () => {
    assert.deepEqual(strings("/soc/clint@2000000", "compatible"), [
      "sifive,clint0",
      "riscv,clint0",
    ]);
    assert.deepEqual(strings("/soc/plic@c000000", "compatible"), [
      "sifive,plic-1.0.0",
      "riscv,plic0",
    ]);
    assert.deepEqual(cells("/soc/plic@c000000", "riscv,ndev"), [95]);
    assert.deepEqual(strings("/soc/serial@10000000", "compatible"), ["ns16550a"]);
    assert.deepEqual(cells("/soc/serial@10000000", "clock-frequency"), [3_686_400]);
    assert.deepEqual(cells("/soc/serial@10000000", "reg"), [0, 0x1000_0000, 0, 0x100]);
  });
});

const DTC = (() => {
  try {
    return new Deno.Command("dtc", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "virt: Debian's dtc decodes the board's devicetree (skipped when dtc is not installed)",
  ignore: !DTC,
  async fn() {
    const { dtb } = board({ harts: 4 });
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeFile(`${dir}/virt.dtb`, dtb);
      const r = await new Deno.Command("dtc", {
        args: ["-I", "dtb", "-O", "dts", `${dir}/virt.dtb`],
      })
        .output();
      const dts = new TextDecoder().decode(r.stdout);
      assert.ok(r.success, new TextDecoder().decode(r.stderr));
      for (
        const n of [
          "cpu@3 {",
          "memory@80000000 {",
          "plic@c000000 {",
          "clint@2000000 {",
          "serial@10000000 {",
          "chosen {",
        ]
      ) {
        assert.ok(dts.includes(n), `dtc shows ${n}`);
      }
      assert.match(dts, /riscv,isa = "rv64imac_zicsr_zifencei_zicntr_sstc_svade";/);
      assert.match(dts, /timebase-frequency = <0x989680>;/);
      assert.match(dts, /riscv,ndev = <0x5f>;/);
      assert.match(dts, /compatible = "sifive,plic-1.0.0\\0riscv,plic0";/);
      assert.match(dts, /stdout-path = "\/soc\/serial@10000000";/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("virt: the firmware region faults for harts, as OpenSBI's PMP makes it", () => {
  const { machine } = board();
  assert.equal(machine.bus.read(VIRT_RAM_BASE, 8, 0), undefined);
  assert.equal(machine.bus.write(VIRT_RAM_BASE + 0x1000, 4, 1n, 1), false);
  assert.match(machine.bus.describe(VIRT_RAM_BASE + 0x10), /^firmware \(M-mode only\)\+0x10$/);
  assert.ok(machine.bus.write(VIRT_RAM_BASE + 8, 8, 0x1234n, -1), "the firmware itself may");
  assert.equal(machine.bus.read(VIRT_RAM_BASE + 8, 8, -1), 0x1234n);
  assert.equal(machine.bus.read(VIRT_CLINT_BASE + CLINT_MTIME, 8, 0), undefined, "and the CLINT");
});

Deno.test("virt: UART interrupts reach hart 0's SEIP through the PLIC's S-mode context", () => {
  const { machine, harts, uart, plic } = board();
  const bus = machine.bus;
  const seip = (h: number) => (harts[h].csrr(CSR_SIP) & SIP_SEIP) !== 0n;
  bus.write(VIRT_PLIC_BASE + 4 * VIRT_UART0_IRQ, 4, 1n);
  bus.write(VIRT_PLIC_BASE + PLIC_ENABLE_BASE + PLIC_ENABLE_STRIDE * 1, 4, 1n << 10n);
  bus.write(VIRT_UART0_BASE + UART_IER, 1, BigInt(UART_IER_RDI));
  uart.receive("q");
  assert.equal(plic.isPending(VIRT_UART0_IRQ), true);
  assert.equal(seip(0), true);
  assert.equal(bus.read(VIRT_PLIC_BASE + PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE + 4, 4), 10n);
  assert.equal(seip(0), false, "claimed");
  assert.equal(bus.read(VIRT_UART0_BASE, 1), 0x71n);
  bus.write(VIRT_PLIC_BASE + PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE + 4, 4, 10n);
  assert.equal(seip(0), false, "the line is low: nothing more");
  assert.equal(seip(1), false, "hart 1's context was not enabled");
  assert.equal(bus.read(VIRT_UART0_BASE + UART_LSR, 1), 0x60n);
});

Deno.test("virt: a kernel image is copied to the kernel base", () => {
  const image = new TextEncoder().encode("KERNEL");
  const { machine, bootInfo } = board({
    kernel: { size: 0, image, virtualBase: 0xffff_ffff_8000_0000n },
  });
  assert.deepEqual(machine.bus.readBytes(VIRT_KERNEL_BASE, 6), image);
  assert.equal(bootInfo.kernelSize, 6);
  assert.equal(bootInfo.kernelVirt, 0xffff_ffff_8000_0000n);
});

Deno.test("virt: 4 GiB of RAM and 16 harts", () => {
  const { machine, harts, bootInfo, dtbAddress } = board({ memory: 4 * 2 ** 30, harts: 16 });
  assert.equal(harts.length, 16);
  const last = bootInfo.memoryMap[bootInfo.memoryMap.length - 1];
  assert.equal(last.base + last.length, 0x1_8000_0000);
  assert.ok(dtbAddress > 0xffff_ffff, "the DTB is at the top, above 4 GiB");
  assert.equal(machine.bus.read(0x1_7fff_fff8, 8, 0), 0n, "the last doubleword is RAM");
});

Deno.test("virt: impossible boards are refused with the reason", () => {
  assert.throws(() => board({ harts: 0 }), /1 to 16 harts, not 0/);
  assert.throws(() => board({ harts: 17 }), /1 to 16 harts, not 17/);
  assert.throws(() => board({ memory: 1 << 20 }), /4 MiB/);
  assert.throws(
    () => board({ modules: [{ name: "/big", data: new Uint8Array(70 * 2 ** 20) }] }),
    /module \/big ends at .* give the board more memory/,
  );
  assert.throws(() => board({ kernel: { size: 63 * 2 ** 20 } }), /the kernel image ends at/);
  assert.throws(
    () => board({ kernel: { size: 62 * 2 ** 20 }, modules: [] }),
    /devicetree and boot information .* do not fit/,
  );
});

// ---- with the real hart: a tiny hosted kernel on the board ---------------------------------

/** The default board: real harts. */
function realBoard(extra: Partial<VirtOptions> = {}) {
  return createVirt({ memory: 64 * 2 ** 20, kernel: { size: 0x1_0000 }, ...extra });
}

/** A kernel's SBI call: a7 = eid, a6 = fid, a0.. = args; returns [a0, a1]. */
function sbi(h: Hart, eid: number, fid: number, ...args: (bigint | number)[]): [number, bigint] {
  h.x[17] = BigInt(eid);
  h.x[16] = BigInt(fid);
  args.forEach((a, i) => (h.x[10 + i] = BigInt.asIntN(64, BigInt(a))));
  h.ecall();
  return [Number(h.x[10]), h.x[11]];
}

const KMAIN = VIRT_KERNEL_BASE;
const TRAP = VIRT_KERNEL_BASE + 0x100;
const IDLE = VIRT_KERNEL_BASE + 0x200;
const SECOND = VIRT_KERNEL_BASE + 0x300;

/** Registers an idle loop at IDLE: wait for an interrupt, forever. */
function idle(m: Machine<Hart>): void {
  m.kernelText.register(IDLE, "idle", (h) => h.wfi(BigInt(IDLE)));
}

Deno.test("virt+hart: the kernel entry gets hartid, DTB and boot info, and reads them", () => {
  const board = realBoard({ cmdline: "root=/dev/ram" });
  const m = board.machine;
  const seen: bigint[] = [];
  m.kernelText.register(KMAIN, "kmain", (h) => {
    seen.push(h.x[10], h.x[11], h.x[12]);
    seen.push(h.load(h.x[11], 4)); // the DTB magic, big-endian in memory
    seen.push(h.load(h.x[12], 8)); // the boot information magic
    sbi(h, SBI_EXT_SRST, 0, 0, 0);
  });
  assert.equal(m.run().kind, "shutdown");
  assert.deepEqual(seen, [
    0n,
    BigInt(board.dtbAddress),
    BigInt(board.bootInfoAddress),
    0xedfe_0dd0n,
    BOOTINFO_MAGIC,
  ]);
});

Deno.test("virt+hart: SBI set_timer interrupts the kernel at the time it asked for", () => {
  const { machine: m } = realBoard();
  idle(m);
  let armed = 0n, cause = 0n, at = 0n;
  m.kernelText.register(KMAIN, "kmain", (h) => {
    h.csrw(CSR_STVEC, BigInt(TRAP));
    h.csrs(CSR_SIE, SIP_STIP);
    armed = h.csrr(CSR_TIME) + 5_000n; // 500 us from now
    assert.deepEqual(sbi(h, SBI_EXT_TIME, 0, armed), [SBI_SUCCESS, 0n]);
    h.csrs(CSR_SSTATUS, SSTATUS_SIE);
    h.wfi(BigInt(IDLE));
  });
  m.kernelText.register(TRAP, "trap", (h) => {
    cause = h.csrr(CSR_SCAUSE);
    at = h.csrr(CSR_TIME);
    sbi(h, SBI_EXT_SRST, 0, 0, 0);
  });
  const r = m.run();
  assert.equal(r.kind, "shutdown", JSON.stringify(r));
  assert.equal(cause, SCAUSE_INTERRUPT | BigInt(IRQ_S_TIMER));
  assert.ok(at >= armed && at <= armed + 1n, `taken at tick ${at}, armed for ${armed}`);
});

Deno.test("virt+hart: a UART interrupt arrives through the PLIC and is claimed and completed", () => {
  const board = realBoard();
  const m = board.machine;
  idle(m);
  const claim = BigInt(VIRT_PLIC_BASE + PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE * 1 + 4);
  let claimed = -1n, byte = -1n, at = 0;
  m.kernelText.register(KMAIN, "kmain", (h) => {
    h.csrw(CSR_STVEC, BigInt(TRAP));
    h.store(BigInt(VIRT_PLIC_BASE + 4 * VIRT_UART0_IRQ), 4, 1n); // priority 1
    h.store(BigInt(VIRT_PLIC_BASE + PLIC_ENABLE_BASE + PLIC_ENABLE_STRIDE * 1), 4, 1n << 10n);
    h.store(BigInt(VIRT_UART0_BASE + UART_IER), 1, BigInt(UART_IER_RDI));
    h.csrs(CSR_SIE, SIP_SEIP);
    h.csrs(CSR_SSTATUS, SSTATUS_SIE);
    h.wfi(BigInt(IDLE));
  });
  m.kernelText.register(TRAP, "trap", (h) => {
    at = m.now();
    claimed = h.load(claim, 4);
    byte = h.load(BigInt(VIRT_UART0_BASE), 1);
    h.store(claim, 4, claimed);
    sbi(h, SBI_EXT_SRST, 0, 0, 0);
  });
  m.events.schedule(50_000, () => board.uart.receive("k"));
  assert.equal(m.run().kind, "shutdown");
  assert.equal(claimed, 10n);
  assert.equal(byte, 0x6bn);
  assert.ok(at >= 50_000 && at < 51_000, `taken at ${at} ns`);
  assert.equal(board.plic.isClaimed(VIRT_UART0_IRQ), false, "completed");
});

Deno.test("virt+hart: an IPI through SBI reaches a hart started with HSM", () => {
  const { machine: m, firmware } = realBoard({ harts: 2 });
  idle(m);
  const log: string[] = [];
  m.kernelText.register(KMAIN, "kmain", (h) => {
    h.csrw(CSR_STVEC, BigInt(TRAP));
    assert.deepEqual(sbi(h, SBI_EXT_HSM, 0, 1, SECOND, 0x42), [SBI_SUCCESS, 0n]);
    assert.equal(sbi(h, SBI_EXT_HSM, 0, 1, SECOND, 0)[0], SBI_ERR_ALREADY_AVAILABLE);
    assert.equal(sbi(h, SBI_EXT_HSM, 0, 7, SECOND, 0)[0], SBI_ERR_INVALID_PARAM);
    h.csrs(CSR_SIE, SIP_STIP);
    sbi(h, SBI_EXT_TIME, 0, h.csrr(CSR_TIME) + 100n); // 10 us
    h.csrs(CSR_SSTATUS, SSTATUS_SIE);
    h.wfi(BigInt(IDLE));
  });
  m.kernelText.register(SECOND, "secondary", (h) => {
    log.push(`hart ${h.x[10]} started with ${h.x[11]}`);
    h.csrw(CSR_STVEC, BigInt(TRAP));
    h.csrs(CSR_SIE, SIP_SSIP);
    h.csrs(CSR_SSTATUS, SSTATUS_SIE);
    h.wfi(BigInt(IDLE));
  });
  m.kernelText.register(TRAP, "trap", (h) => {
    const cause = h.csrr(CSR_SCAUSE) & 0xffn;
    if (h.hartId === 0 && cause === BigInt(IRQ_S_TIMER)) {
      log.push(`hart 0 timer at ${m.now()}`);
      sbi(h, SBI_EXT_TIME, 0, -1);
      assert.deepEqual(sbi(h, SBI_EXT_IPI, 0, 0b10, 0), [SBI_SUCCESS, 0n]);
      sbi(h, SBI_EXT_HSM, 1); // hart_stop
      return;
    }
    log.push(`hart ${h.hartId} soft at ${m.now()}`);
    h.csrc(CSR_SIP, SIP_SSIP);
    log.push(`hart 0 status ${sbi(h, SBI_EXT_HSM, 2, 0)[1]}`);
    sbi(h, SBI_EXT_SRST, 0, 0, 0);
  });
  assert.equal(m.run().kind, "shutdown");
  assert.equal(log[0], "hart 1 started with 66");
  assert.match(log[1], /^hart 0 timer at 100\d\d$/);
  assert.match(log[2], /^hart 1 soft at 100\d\d$/);
  assert.equal(log[3], `hart 0 status ${SBI_HSM_STATE_STOPPED}`);
  assert.equal(firmware.hsmState(0), SBI_HSM_STATE_STOPPED);
});

Deno.test("virt+hart: a non-retentive suspend resumes at its address when the timer fires", () => {
  const { machine: m, firmware } = realBoard();
  const RESUME = VIRT_KERNEL_BASE + 0x400;
  let resumed: bigint[] = [];
  m.kernelText.register(KMAIN, "kmain", (h) => {
    h.csrw(CSR_STVEC, BigInt(TRAP));
    h.csrs(CSR_SIE, SIP_STIP);
    h.csrs(CSR_SSTATUS, SSTATUS_SIE);
    sbi(h, SBI_EXT_TIME, 0, 1_000n); // 100 us
    sbi(h, SBI_EXT_HSM, 3, SBI_HSM_SUSPEND_NON_RET_DEFAULT, RESUME, 0x77);
  });
  m.kernelText.register(RESUME, "resume", (h) => {
    resumed = [h.x[10], h.x[11], h.csrr(CSR_SSTATUS) & SSTATUS_SIE, BigInt(m.now())];
    sbi(h, SBI_EXT_SRST, 0, 0, 0);
  });
  m.kernelText.register(TRAP, "trap", () => {
    throw new Error("the wake-up interrupt must not be taken: SIE is 0 on resume");
  });
  assert.equal(m.run(50_000).kind, "paused");
  assert.equal(firmware.hsmState(0), SBI_HSM_STATE_SUSPENDED);
  assert.equal(m.run().kind, "shutdown");
  assert.deepEqual(resumed.slice(0, 3), [0n, 0x77n, 0n]);
  assert.ok(resumed[3] >= 100_000n && resumed[3] < 100_100n, `resumed at ${resumed[3]} ns`);
});

Deno.test("virt+hart: the UART's character timeout runs on the machine's clock", () => {
  const board = realBoard();
  const m = board.machine;
  idle(m);
  let iir = -1n, at = 0;
  m.kernelText.register(KMAIN, "kmain", (h) => {
    h.csrw(CSR_STVEC, BigInt(TRAP));
    h.store(BigInt(VIRT_PLIC_BASE + 4 * VIRT_UART0_IRQ), 4, 1n);
    h.store(BigInt(VIRT_PLIC_BASE + PLIC_ENABLE_BASE + PLIC_ENABLE_STRIDE * 1), 4, 1n << 10n);
    h.store(BigInt(VIRT_UART0_BASE + UART_FCR), 1, 0xc1n); // FIFOs on, trigger at 14 bytes
    h.store(BigInt(VIRT_UART0_BASE + UART_IER), 1, BigInt(UART_IER_RDI));
    h.csrs(CSR_SIE, SIP_SEIP);
    h.csrs(CSR_SSTATUS, SSTATUS_SIE);
    h.wfi(BigInt(IDLE));
  });
  m.kernelText.register(TRAP, "trap", (h) => {
    at = m.now();
    iir = h.load(BigInt(VIRT_UART0_BASE + UART_IIR), 1);
    sbi(h, SBI_EXT_SRST, 0, 0, 0);
  });
  m.events.schedule(10_000, () => board.uart.receive("a"));
  assert.equal(m.run().kind, "shutdown");
  assert.equal(iir, 0xccn, "FIFOs enabled, character timeout");
  const due = 10_000 + 4 * board.uart.characterTimeNs();
  assert.ok(at >= due && at < due + 1000, `taken at ${at} ns, due at ${due}`);
});

Deno.test("virt+hart: SRST shutdown gives the exit code; a reboot request resets", async (t) => {
  const cases: [number, number, string][] = [
    [0, 0, "shutdown 0"],
    [0, 1, "shutdown 1"],
    [1, 0, "reset"],
  ];
  for (const [type, reason, want] of cases) {
    await t.step(`type ${type} reason ${reason}`, () => {
      const { machine: m } = realBoard();
      m.kernelText.register(KMAIN, "kmain", (h) => {
        sbi(h, SBI_EXT_SRST, 0, type, reason);
        h.wfi(); // not reached as far as the machine is concerned: it has stopped
      });
      const r = m.run();
      assert.equal(r.kind === "shutdown" ? `shutdown ${r.code}` : r.kind, want);
    });
  }
});

Deno.test("virt+hart: the SBI console prints through UART0 to the host", () => {
  const out: number[] = [];
  const { machine: m } = realBoard({ transmit: (b) => out.push(b) });
  m.kernelText.register(KMAIN, "kmain", (h) => {
    const msg = new TextEncoder().encode("hello from S-mode\n");
    const buf = VIRT_KERNEL_BASE + 0x8000;
    msg.forEach((b, i) => h.store(BigInt(buf + i), 1, BigInt(b)));
    sbi(h, SBI_EXT_DBCN, 0, msg.length, buf, 0);
    sbi(h, SBI_EXT_SRST, 0, 0, 0);
  });
  assert.equal(m.run().kind, "shutdown");
  assert.equal(new TextDecoder().decode(new Uint8Array(out)), "hello from S-mode\n");
});

Deno.test("virt+hart: an S-mode access to the firmware's memory is an access fault", () => {
  const { machine: m } = realBoard();
  let fault: unknown;
  m.kernelText.register(KMAIN, "kmain", (h) => {
    try {
      h.load(BigInt(VIRT_RAM_BASE), 8);
    } catch (e) {
      fault = e;
    }
    sbi(h, SBI_EXT_SRST, 0, 0, 0);
  });
  m.run();
  assert.ok(fault instanceof CpuFault);
  assert.equal(fault.code, EXC_LOAD_ACCESS);
  assert.equal(fault.tval, BigInt(VIRT_RAM_BASE));
});

/**
 * Four harts each run a U-mode loop that adds to a shared counter with amoadd.w, then
 * make a syscall; the kernel stops each hart, and the last one powers the machine off.
 * Returns a hash of the whole trace and the final counter.
 */
function fourHartRun(seed: number): { hash: string; counter: bigint; events: number } {
  const trace = new Trace(0).enable("sched", "kernel", "firmware", "trap", "interrupt");
  const hash = createHash("sha256");
  let events = 0;
  trace.listen((e) => {
    hash.update(formatEvent(e) + "\n");
    events++;
  });
  const board = realBoard({ harts: 4, seed, trace });
  const m = board.machine;
  const CODE = VIRT_KERNEL_BASE + 0x1_0000;
  const COUNTER = VIRT_KERNEL_BASE + 0x2_0000;
  const ITERATIONS = 2000;
  const program = [
    encode("addi", 5, 0, ITERATIONS), //    li        t0, ITERATIONS
    encode("amoadd.w", 0, 6, 10), //     1: amoadd.w  zero, t1, (a0)
    encode("addi", 5, 5, -1), //            addi      t0, t0, -1
    encode("bne", 5, 0, -8), //             bnez      t0, 1b
    encode("ecall"), //                     ecall
  ];
  program.forEach((w, i) => m.bus.write(CODE + 4 * i, 4, BigInt(w)));
  let done = 0;
  const toUser = (h: Hart) => {
    h.csrw(CSR_STVEC, BigInt(TRAP));
    h.csrw(CSR_SEPC, BigInt(CODE));
    h.csrc(CSR_SSTATUS, SSTATUS_SPP);
    h.x[10] = BigInt(COUNTER);
    h.x[6] = 1n;
    h.sret();
  };
  m.kernelText.register(KMAIN, "kmain", (h) => {
    for (const id of [1, 2, 3]) sbi(h, SBI_EXT_HSM, 0, id, SECOND, 0);
    toUser(h);
  });
  m.kernelText.register(SECOND, "secondary", toUser);
  m.kernelText.register(TRAP, "trap", (h) => {
    assert.equal(h.csrr(CSR_SCAUSE), BigInt(EXC_ECALL_U));
    if (++done === 4) sbi(h, SBI_EXT_SRST, 0, 0, 0);
    else sbi(h, SBI_EXT_HSM, 1);
  });
  const r = m.run();
  assert.equal(r.kind, "shutdown", JSON.stringify(r));
  return { hash: hash.digest("hex"), counter: m.bus.read(COUNTER, 4)!, events };
}

Deno.test("virt+hart: a 4-hart run replays exactly from its seed, and another seed differs", () => {
  const a = fourHartRun(7), b = fourHartRun(7), c = fourHartRun(8);
  assert.equal(a.counter, 4n * 2000n, "amoadd.w is atomic across harts");
  assert.ok(a.events > 30, `${a.events} trace records`);
  assert.equal(a.hash, b.hash, "same seed, same trace");
  assert.notEqual(a.hash, c.hash, "another seed, another interleaving");
});
