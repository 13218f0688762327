import assert from "node:assert/strict";
import {
  BOOTINFO_MAGIC,
  CPU_FLAG_BOOT,
  MEMMAP_BOOTLOADER_RECLAIMABLE,
  MEMMAP_KERNEL_AND_MODULES,
  MEMMAP_RESERVED,
  MEMMAP_USABLE,
  readBootInfo,
} from "../core/bootinfo.ts";
import type { CpuState, Machine } from "../core/machine.ts";
import { UART_IER, UART_IER_RDI, UART_LSR } from "../devices/uart16550.ts";
import { CLINT_MTIME } from "./clint.ts";
import { IRQ_S_EXT } from "./csr.ts";
import { cellsOf, findNode, propertyOf, readFdt, stringsOf } from "./dtb.ts";
import { type Access, type Hart, PRIV_S, type Privilege, type Translation } from "./hart_api.ts";
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

/** A hart that records what the board and devices do to it (it never runs code). */
class StubHart implements Hart {
  state: CpuState = "stopped";
  timeNs = 0;
  instret = 0;
  readonly x = new BigInt64Array(32);
  pc = 0n;
  priv: Privilege = PRIV_S;
  firmware: ((hart: Hart) => void) | undefined;
  readonly sip = new Map<number, boolean>();
  constructor(readonly machine: Machine<Hart>, readonly index: number) {}
  get hartId(): number {
    return this.index;
  }
  run(untilNs: number): void {
    this.timeNs = untilNs;
  }
  nowNs(): number {
    return this.timeNs;
  }
  wakeable(): boolean {
    return false;
  }
  csrr(): bigint {
    return 0n;
  }
  csrw(): void {}
  csrs(): void {}
  csrc(): void {}
  sret(): void {}
  wfi(): void {}
  sfenceVma(): void {}
  fenceI(): void {}
  ecall(): void {
    this.firmware?.(this);
  }
  load(_va: bigint, _size: number): bigint {
    return 0n;
  }
  store(): void {}
  translate(_va: bigint, _access: Access, _priv: Privilege): Translation {
    throw new Error("not used");
  }
  setInterruptPending(irq: number, level: boolean): void {
    this.sip.set(irq, level);
  }
  start(pc: bigint, opaque: bigint): void {
    this.state = "running";
    this.pc = pc;
    this.x[10] = BigInt(this.hartId);
    this.x[11] = opaque;
  }
  stop(): void {
    this.state = "stopped";
  }
}

const stub = (m: Machine<Hart>, i: number) => new StubHart(m, i);

function board(extra: Partial<VirtOptions> = {}) {
  return createVirt({
    memory: 64 * 2 ** 20,
    harts: 2,
    kernel: { size: 0x3_0000 },
    modules: [{ name: "/initrd.tar", data: new Uint8Array([1, 2, 3, 4, 5]) }],
    cmdline: "console=ttyS0 quiet",
    hart: stub,
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
    assert.equal(VIRT_ISA, "rv64imac_zicsr_zifencei_zicntr_sstc");
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
      assert.match(dts, /riscv,isa = "rv64imac_zicsr_zifencei_zicntr_sstc";/);
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
  const hart0 = harts[0] as StubHart;
  bus.write(VIRT_PLIC_BASE + 4 * VIRT_UART0_IRQ, 4, 1n);
  bus.write(VIRT_PLIC_BASE + PLIC_ENABLE_BASE + PLIC_ENABLE_STRIDE * 1, 4, 1n << 10n);
  bus.write(VIRT_UART0_BASE + UART_IER, 1, BigInt(UART_IER_RDI));
  uart.receive("q");
  assert.equal(plic.isPending(VIRT_UART0_IRQ), true);
  assert.equal(hart0.sip.get(IRQ_S_EXT), true);
  assert.equal(bus.read(VIRT_PLIC_BASE + PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE + 4, 4), 10n);
  assert.equal(hart0.sip.get(IRQ_S_EXT), false, "claimed");
  assert.equal(bus.read(VIRT_UART0_BASE, 1), 0x71n);
  bus.write(VIRT_PLIC_BASE + PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE + 4, 4, 10n);
  assert.equal(hart0.sip.get(IRQ_S_EXT), false, "the line is low: nothing more");
  assert.equal((harts[1] as StubHart).sip.get(IRQ_S_EXT), undefined);
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
