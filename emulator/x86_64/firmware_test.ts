import assert from "node:assert/strict";
import {
  CPU_FLAG_BOOT,
  MEMMAP_ACPI_RECLAIMABLE,
  MEMMAP_BOOTLOADER_RECLAIMABLE,
  MEMMAP_KERNEL_AND_MODULES,
  MEMMAP_RESERVED,
  MEMMAP_USABLE,
  type MemoryRegion,
  readBootInfo,
} from "../core/bootinfo.ts";
import { Bus } from "../core/bus.ts";
import { Ram } from "../core/memory.ts";
import { type AcpiConfig, readAcpi } from "./acpi.ts";
import type { X86Cpu } from "./cpu_api.ts";
import {
  BOOT_STACK_SIZE,
  buildMemoryMap,
  enterKernel,
  FIRMWARE_GDT,
  type FirmwareInput,
  formatMemoryMap,
  GDT_KERNEL_CODE,
  GDT_KERNEL_DATA,
  HHDM_OFFSET,
  KERNEL_VIRT_BASE,
  layOutFirmware,
} from "./firmware.ts";
import { IA32_EFER, RDI, RSP } from "./regs.ts";

const GiB = 2 ** 30, MiB = 2 ** 20;
const LOW_TOP = 0xb000_0000;

/** A bus with `memory` bytes of RAM laid out as on the PC: low RAM, then RAM at 4 GiB. */
function pcBus(memory: number) {
  const bus = new Bus(new Ram(memory));
  const low = Math.min(memory, LOW_TOP);
  const ram = [{ base: 0, size: low }];
  bus.addRam(0, low);
  if (memory > low) {
    bus.addRam(4 * GiB, memory - low, low);
    ram.push({ base: 4 * GiB, size: memory - low });
  }
  return { bus, ram };
}

const acpi: AcpiConfig = {
  localApicAddress: 0xfee0_0000,
  madtFlags: 0,
  cpus: [{ uid: 0, apicId: 0, flags: 1 }],
  ioapics: [{ id: 0, address: 0xfec0_0000, gsiBase: 0 }],
  overrides: [],
};

const reserved: MemoryRegion[] = [
  { base: 0, length: 0x1000, type: MEMMAP_RESERVED },
  { base: 0xa_0000, length: 0x6_0000, type: MEMMAP_RESERVED },
  { base: 0xb000_0000, length: 0x1000_0000, type: MEMMAP_RESERVED },
  { base: 0xfec0_0000, length: 0x140_0000, type: MEMMAP_RESERVED },
];

function input(memory = 256 * MiB, over: Partial<FirmwareInput> = {}): FirmwareInput {
  const { bus, ram } = pcBus(memory);
  return {
    bus,
    ram,
    reserved,
    kernel: { phys: 2 * MiB, size: 3 * MiB + 5, image: new Uint8Array([0xf4, 0xeb, 0xfd]) },
    modules: [
      { name: "/boot/initrd.tar", data: new Uint8Array(5000).fill(7) },
      { name: "/boot/system.elf", data: new Uint8Array([1, 2, 3]) },
    ],
    cmdline: "console=ttyS0",
    acpi,
    cpus: [{ index: 0, hwId: 0, flags: CPU_FLAG_BOOT }, { index: 1, hwId: 1, flags: 0 }],
    ...over,
  };
}

/** An independent 4-level walk (SDM Vol. 3A §4.5) over the tables in RAM. */
function walk(bus: Bus, cr3: number, va: bigint) {
  let table = cr3;
  let flags = 0b111n; // P, W, U accumulate as the AND of every level
  let nx = 0n;
  for (let level = 4; level >= 1; level--) {
    const shift = BigInt(12 + 9 * (level - 1));
    const pte = bus.read(table + Number((va >> shift) & 511n) * 8, 8)!;
    if (!(pte & 1n)) return undefined;
    flags &= pte & 0b111n;
    nx |= pte >> 63n;
    const base = Number(pte & 0x000f_ffff_ffff_f000n);
    if (level === 1 || (level <= 3 && pte & 0x80n)) {
      const size = 2 ** (12 + 9 * (level - 1));
      const pa = base - (base % size) + Number(va % BigInt(size));
      return { pa, size, writable: (flags & 2n) !== 0n, user: (flags & 4n) !== 0n, nx: nx === 1n };
    }
    table = base;
  }
  return undefined;
}

Deno.test("firmware: the memory map covers RAM exactly, sorted, typed as Limine's", () => {
  const inp = input();
  const fw = layOutFirmware(inp);
  const map = fw.bootInfo.memoryMap;
  for (let i = 1; i < map.length; i++) {
    assert.ok(map[i - 1].base + map[i - 1].length <= map[i].base, "sorted, no overlap");
  }
  const ramBytes = map.filter((m) => m.base < 256 * MiB).reduce((s, m) => s + m.length, 0);
  assert.equal(ramBytes, 256 * MiB, "every byte of RAM is in exactly one entry");
  const typeAt = (pa: number) => map.find((m) => pa >= m.base && pa < m.base + m.length)?.type;
  assert.equal(typeAt(0), MEMMAP_RESERVED, "the first page (IVT, BDA)");
  assert.equal(typeAt(0x1000), MEMMAP_USABLE);
  assert.equal(typeAt(0xb_8000), MEMMAP_RESERVED, "the VGA window and BIOS area");
  assert.equal(typeAt(MiB), MEMMAP_USABLE);
  assert.equal(typeAt(2 * MiB), MEMMAP_KERNEL_AND_MODULES);
  assert.equal(typeAt(fw.bootInfo.modules[1].base), MEMMAP_KERNEL_AND_MODULES);
  assert.equal(typeAt(fw.acpi.rsdp), MEMMAP_ACPI_RECLAIMABLE);
  assert.equal(typeAt(fw.pml4), MEMMAP_BOOTLOADER_RECLAIMABLE);
  assert.equal(typeAt(fw.bootInfoAddress), MEMMAP_BOOTLOADER_RECLAIMABLE);
  assert.equal(typeAt(256 * MiB - 1), MEMMAP_USABLE);
  assert.equal(typeAt(0xb000_0000), MEMMAP_RESERVED, "ECAM");
  assert.equal(typeAt(0xfee0_0000), MEMMAP_RESERVED, "the APIC page");
  assert.equal(typeAt(0xa000_0000), undefined, "no RAM and nothing reserved there");
  assert.match(formatMemoryMap(map), /0x0000_0020_0000-0x0000_0050_3fff kernel and modules/);
});

Deno.test("firmware: the boot information says where everything is", () => {
  const inp = input();
  const fw = layOutFirmware(inp);
  const info = readBootInfo(inp.bus, fw.bootInfoAddress);
  assert.deepEqual(info, fw.bootInfo);
  assert.equal(info.hhdmOffset, HHDM_OFFSET);
  assert.equal(info.kernelPhys, 2 * MiB);
  assert.equal(info.kernelVirt, KERNEL_VIRT_BASE);
  assert.equal(info.kernelSize, 3 * MiB + 4096, "rounded to pages");
  assert.equal(info.cmdline, "console=ttyS0");
  assert.equal(info.dtb, 0);
  assert.deepEqual(info.cpus.map((c) => c.hwId), [0, 1]);
  assert.deepEqual(info.modules.map((m) => [m.name, m.length]), [
    ["/boot/initrd.tar", 5000],
    ["/boot/system.elf", 3],
  ]);
  assert.equal(info.modules[0].base, 2 * MiB + 3 * MiB + 4096);
  assert.equal(info.modules[1].base % 4096, 0);
  assert.deepEqual(inp.bus.readBytes(info.modules[1].base, 3), new Uint8Array([1, 2, 3]));
  assert.deepEqual(inp.bus.readBytes(2 * MiB, 3), new Uint8Array([0xf4, 0xeb, 0xfd]));
  assert.equal(readAcpi(inp.bus, info.rsdp).madt!.ioapics[0].address, 0xfec0_0000);
});

Deno.test("firmware: the direct map covers all RAM, with large pages, and nothing else", () => {
  const inp = input(4 * GiB);
  const fw = layOutFirmware(inp);
  const hhdm = (pa: number) => walk(inp.bus, fw.pml4, HHDM_OFFSET + BigInt(pa));
  assert.deepEqual(hhdm(0x1234), { pa: 0x1234, size: GiB, writable: true, user: false, nx: true });
  assert.equal(hhdm(GiB + 5)!.size, GiB);
  assert.deepEqual(hhdm(0xafff_fff8), {
    pa: 0xafff_fff8,
    size: 2 * MiB,
    writable: true,
    user: false,
    nx: true,
  });
  assert.equal(hhdm(0xb000_0000), undefined, "ECAM is not RAM: the kernel maps it");
  assert.equal(hhdm(0xfee0_0000), undefined, "nor the APIC");
  assert.equal(hhdm(4 * GiB)!.pa, 4 * GiB, "RAM above 4 GiB");
  assert.equal(hhdm(4 * GiB + 0x5000_0000 - 1)!.pa, 4 * GiB + 0x5000_0000 - 1);
  assert.equal(hhdm(4 * GiB + 0x5000_0000), undefined, "past the end of RAM");
  assert.equal(walk(inp.bus, fw.pml4, 0x20_0000n), undefined, "no identity map");
  assert.equal(walk(inp.bus, fw.pml4, 0n), undefined);
});

Deno.test("firmware: the kernel image is mapped at its link address, executable", () => {
  const inp = input();
  const fw = layOutFirmware(inp);
  const k = walk(inp.bus, fw.pml4, KERNEL_VIRT_BASE + 0x1234n)!;
  assert.deepEqual(k, {
    pa: 2 * MiB + 0x1234,
    size: 2 * MiB,
    writable: true,
    user: false,
    nx: false,
  });
  const last = walk(inp.bus, fw.pml4, KERNEL_VIRT_BASE + BigInt(3 * MiB))!;
  assert.deepEqual([last.pa, last.size], [5 * MiB, 4096], "the unaligned tail in 4 KiB pages");
  assert.equal(walk(inp.bus, fw.pml4, KERNEL_VIRT_BASE + BigInt(3 * MiB + 4096)), undefined);
});

Deno.test("firmware: a kernel at another link address and a 4 KiB-aligned place", () => {
  const inp = input(64 * MiB, {
    kernel: { phys: 0x30_1000, size: 8192, virt: 0xffff_ffff_c000_0000n },
  });
  const fw = layOutFirmware(inp);
  assert.equal(walk(inp.bus, fw.pml4, 0xffff_ffff_c000_1000n)!.pa, 0x30_2000);
  assert.equal(fw.bootInfo.kernelVirt, 0xffff_ffff_c000_0000n);
});

Deno.test("firmware: a Limine-style GDT and a stack with a zero return address", () => {
  const inp = input();
  const fw = layOutFirmware(inp);
  FIRMWARE_GDT.forEach((d, i) => assert.equal(inp.bus.read(fw.gdt + 8 * i, 8), d));
  const cs = FIRMWARE_GDT[GDT_KERNEL_CODE / 8];
  assert.equal((cs >> 53n) & 1n, 1n, "L = 1: a 64-bit code segment");
  assert.equal((cs >> 47n) & 1n, 1n, "present");
  const sp = walk(inp.bus, fw.pml4, fw.stackPointer)!;
  assert.ok(sp.writable && !sp.user);
  assert.equal(inp.bus.read(sp.pa, 8), 0n);
  assert.equal((sp.pa + 8) % 4096, 0, "the top of the stack is page-aligned");
  const type = fw.bootInfo.memoryMap.find((m) => sp.pa >= m.base && sp.pa < m.base + m.length);
  assert.equal(type?.type, MEMMAP_BOOTLOADER_RECLAIMABLE);
  assert.ok(sp.pa + 8 - BOOT_STACK_SIZE > fw.gdt, "64 KiB above the GDT");
});

Deno.test("firmware: impossible layouts are refused with what does not fit", () => {
  assert.throws(
    () => layOutFirmware(input(256 * MiB, { kernel: { phys: 0x9_0000, size: 0x2_0000 } })),
    /the kernel image \(0x9_0000\.\.0xb_0000\) overlaps the reserved area at 0xa_0000/,
  );
  assert.throws(
    () => layOutFirmware(input(8 * MiB, { kernel: { phys: 2 * MiB, size: 6 * MiB - 4096 } })),
    /module \/boot\/initrd.tar .* does not fit in RAM/,
  );
  assert.throws(
    () => layOutFirmware(input(256 * MiB, { kernel: { phys: 2 * MiB + 1, size: 1 } })),
    /not 4 KiB-aligned/,
  );
});

Deno.test("firmware: buildMemoryMap merges neighbours and keeps reserved holes outside RAM", () => {
  const map = buildMemoryMap(
    [{ base: 0, size: 0x10_0000 }],
    [{ base: 0xf_0000, length: 0x2_0000, type: MEMMAP_RESERVED }],
    [
      { base: 0x1000, length: 0x1000, type: MEMMAP_BOOTLOADER_RECLAIMABLE },
      { base: 0x2000, length: 0x1000, type: MEMMAP_BOOTLOADER_RECLAIMABLE },
    ],
  );
  assert.deepEqual(map, [
    { base: 0, length: 0x1000, type: MEMMAP_USABLE },
    { base: 0x1000, length: 0x2000, type: MEMMAP_BOOTLOADER_RECLAIMABLE },
    { base: 0x3000, length: 0xe_d000, type: MEMMAP_USABLE },
    { base: 0xf_0000, length: 0x2_0000, type: MEMMAP_RESERVED },
  ]);
});

Deno.test("firmware: enterKernel programs the boot CPU as a loader's last steps would", () => {
  const inp = input();
  const fw = layOutFirmware(inp);
  const log: string[] = [];
  const regs = new BigInt64Array(16).fill(-1n);
  const cpu = {
    regs,
    rflags: 0x246n,
    writeCr: (n: number, v: bigint) => log.push(`cr${n}=${v.toString(16)}`),
    wrmsr: (m: number, v: bigint) => log.push(`wrmsr ${m.toString(16)}=${v.toString(16)}`),
    lgdt: (b: bigint, l: number) => log.push(`lgdt ${b.toString(16)} ${l}`),
    loadCs: (s: number) => log.push(`cs=${s}`),
    loadSegment: (seg: string, s: number) => log.push(`${seg}=${s}`),
    start: (rip: bigint, rdi: bigint) => {
      regs[RDI] = rdi;
      log.push(`start ${rip.toString(16)}`);
    },
  } as unknown as X86Cpu;
  enterKernel(cpu, fw, 0xffff_ffff_8000_1000n);
  assert.deepEqual(log, [
    "cr4=20",
    `wrmsr ${IA32_EFER.toString(16)}=900`,
    `cr3=${fw.pml4.toString(16)}`,
    "cr0=80010033",
    `lgdt ${(HHDM_OFFSET + BigInt(fw.gdt)).toString(16)} 55`,
    `cs=${GDT_KERNEL_CODE}`,
    ...["ss", "ds", "es", "fs", "gs"].map((s) => `${s}=${GDT_KERNEL_DATA}`),
    "start ffffffff80001000",
  ]);
  assert.equal(BigInt.asUintN(64, regs[RSP]), fw.stackPointer);
  assert.equal(regs[RDI], BigInt(fw.bootInfoAddress));
  assert.equal(regs[0], 0n, "other registers cleared");
  assert.equal(cpu.rflags, 2n, "IF = 0");
});
