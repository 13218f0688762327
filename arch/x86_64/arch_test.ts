import assert from "node:assert/strict";
import {
  MEMMAP_ACPI_RECLAIMABLE,
  MEMMAP_BOOTLOADER_RECLAIMABLE,
  MEMMAP_KERNEL_AND_MODULES,
  MEMMAP_RESERVED,
  MEMMAP_USABLE,
} from "../../emulator/core/bootinfo.ts";
import { parseGate } from "../../emulator/x86_64/descriptors.ts";
import { IOREGSEL, IOWIN } from "../../emulator/x86_64/ioapic.ts";
import { APIC_LVT_TIMER, APIC_SVR } from "../../emulator/x86_64/lapic.ts";
import {
  CR4_PCIDE,
  CR4_PGE,
  EFER_NXE,
  EFER_SCE,
  IA32_EFER,
  IA32_FMASK,
  IA32_LSTAR,
  IA32_STAR,
  RFLAGS_IF,
} from "../../emulator/x86_64/regs.ts";
import type { KernelBootInfo } from "../../kernel/bootinfo.ts";
import { HHDM_BASE } from "../../kernel/mm/phys.ts";
import type { AcpiInfo } from "./acpi.ts";
import { bootSystem } from "./boot.ts";
import { GDT_SIZE, GDT_TSS, STAR } from "./descriptors.ts";
import { acpiPlatform, directMapRanges } from "./platform.ts";
import { SYSCALL_ENTRY, vectorEntry } from "./traps.ts";

/** A system with one program that spins, run 100 µs into its life: the hardware to inspect. */
function running() {
  const sys = bootSystem({
    cmdline: "tick_hz=10000",
    programs: [{ name: "spin", assembly: "_start: jmp _start" }],
  });
  assert.equal(sys.machine.run(100_000).kind, "paused");
  return sys;
}

Deno.test("x86 port: the CPU holds the kernel's GDT, TSS, IDT and SYSCALL MSRs", () => {
  const sys = running();
  const cpu = sys.board.cpus[0], bus = sys.machine.bus;
  assert.equal(cpu.readCr(4) & BigInt(CR4_PCIDE | CR4_PGE), BigInt(CR4_PCIDE | CR4_PGE));
  assert.equal(cpu.rdmsr(IA32_EFER) & BigInt(EFER_NXE | EFER_SCE), BigInt(EFER_NXE | EFER_SCE));
  assert.equal(cpu.rdmsr(IA32_STAR), STAR);
  assert.equal(cpu.rdmsr(IA32_LSTAR), SYSCALL_ENTRY);
  assert.ok((cpu.rdmsr(IA32_FMASK) & BigInt(RFLAGS_IF)) !== 0n, "SYSCALL clears IF");
  assert.equal(cpu.sgdt().limit, GDT_SIZE - 1);
  assert.equal(cpu.str(), GDT_TSS);
  const idt = cpu.sidt();
  assert.equal(idt.limit, 256 * 16 - 1);
  const idtPa = Number(idt.base - HHDM_BASE);
  for (let v = 0; v < 256; v++) {
    const w = (o: number) => Number(bus.read(idtPa + 16 * v + o, 4)!);
    const g = parseGate(w(0), w(4), w(8));
    assert.equal(g.offsetBig, vectorEntry(v), `vector ${v}`);
    assert.equal(g.present, true);
    assert.equal(g.dpl, v === 3 || v === 0x69 ? 3 : 0, `vector ${v}'s DPL`);
    assert.equal(g.ist, v === 8 ? 1 : v === 2 ? 2 : 0, `vector ${v}'s IST`);
    assert.ok(sys.machine.kernelText.lookup(g.offsetBig), `vector ${v}'s entry is registered`);
  }
});

Deno.test("x86 port: the local APIC is on, its timer armed; the I/O APIC masks all but routes COM1", () => {
  const sys = running();
  const lapic = sys.board.lapics[0];
  assert.equal(lapic.readRegister(APIC_SVR) & 0x1ff, 0x1ff, "enabled, spurious vector 0xff");
  assert.equal(lapic.readRegister(APIC_LVT_TIMER) & 0x7_00ff, 0x4_0020, "TSC-deadline, 0x20");
  const io = sys.board.ioapic;
  const entry = (pin: number) => {
    io.write(IOREGSEL, 4, BigInt(0x10 + 2 * pin), -1);
    const low = io.read(IOWIN, 4, -1)!;
    io.write(IOREGSEL, 4, BigInt(0x11 + 2 * pin), -1);
    return (io.read(IOWIN, 4, -1)! << 32n) | low;
  };
  assert.equal(entry(4), 0x1_0034n, "COM1 (GSI 4): vector 0x34, to APIC 0, masked");
  for (let pin = 0; pin < 24; pin++) {
    if (pin !== 4) assert.equal(entry(pin) & 0x1_0000n, 0x1_0000n, `GSI ${pin} masked`);
  }
});

const map = (entries: [number, number, number][]) =>
  ({
    memoryMap: entries.map(([base, length, type]) => ({ base, length, type })),
  }) as KernelBootInfo;

Deno.test("x86 platform: the direct map covers RAM the memory map names, merged, not reserved", () => {
  const boot = map([
    [0, 0x1000, MEMMAP_RESERVED],
    [0x1000, 0x9_f000, MEMMAP_USABLE],
    [0xa_0000, 0x6_0000, MEMMAP_RESERVED],
    [0x10_0000, 0x10_0000, MEMMAP_USABLE],
    [0x20_0000, 0x4_1000, MEMMAP_KERNEL_AND_MODULES],
    [0x24_1000, 0x1000, MEMMAP_ACPI_RECLAIMABLE],
    [0x24_2000, 0x1_8000, MEMMAP_BOOTLOADER_RECLAIMABLE],
    [0x25_a000, 0xfda_6000, MEMMAP_USABLE],
    [0xb000_0000, 0x1000_0000, MEMMAP_RESERVED],
  ]);
  assert.deepEqual(directMapRanges(boot), [
    { base: 0x1000, length: 0x9_f000 },
    { base: 0x10_0000, length: 0xff0_0000 },
  ]);
});

Deno.test("x86 platform: ACPI without what the kernel needs is an error that says so", () => {
  const header = { signature: "XSDT", address: 0x1000, length: 52, revision: 1, oemId: "X" };
  const acpi = (change: (a: AcpiInfo) => void): AcpiInfo => {
    const a: AcpiInfo = {
      rsdp: 0xe_0000,
      revision: 2,
      oemId: "X",
      root: header,
      tables: [],
      madt: {
        header: { ...header, signature: "APIC" },
        localApicAddress: 0xfee0_0000,
        flags: 0,
        cpus: [{ uid: 0, apicId: 0, enabled: true }],
        ioapics: [{ id: 0, address: 0xfec0_0000, gsiBase: 0 }],
        overrides: [],
      },
      hpet: { header: { ...header, signature: "HPET" }, blockId: 0, address: 0xfed0_0000 },
    };
    change(a);
    return a;
  };
  const boot = map([[0x10_0000, 0x100_0000, MEMMAP_USABLE]]);
  const p = acpiPlatform(acpi(() => {}), boot);
  assert.deepEqual(p.devices.map((d) => d.name), ["lapic", "ioapic0", "hpet"]);
  assert.deepEqual(p.com1, { gsi: 4, activeLow: false, level: false });
  assert.throws(() => acpiPlatform(acpi((a) => (a.hpet = undefined)), boot), /lists no HPET table/);
  assert.throws(
    () => acpiPlatform(acpi((a) => (a.madt.cpus[0].enabled = false)), boot),
    /no enabled CPU/,
  );
  assert.throws(() => acpiPlatform(acpi((a) => (a.madt.ioapics = [])), boot), /no I\/O APIC/);
});
