import assert from "node:assert/strict";
import { Bus } from "../../emulator/core/bus.ts";
import { Ram } from "../../emulator/core/memory.ts";
import {
  acpiChecksum,
  type AcpiConfig,
  buildAcpiTables,
  buildRsdp,
  buildTable,
  MADT_CPU_ENABLED,
  readAcpi as emulatorReadAcpi,
} from "../../emulator/x86_64/acpi.ts";
import { pcAcpiConfig } from "../../emulator/x86_64/pc.ts";
import { busPhysMem } from "../common/bus_mem.ts";
import { isaIrq, readAcpi } from "./acpi.ts";

const BASE = 0x10_0000; // where the tables go in a 4 MiB RAM
const RAM_SIZE = 4 << 20;

/** RAM holding `bytes` at BASE, a PhysMem over it, and a RAM check over all of it. */
function memory(bytes: Uint8Array) {
  const bus = new Bus(new Ram(RAM_SIZE));
  bus.addRam(0, RAM_SIZE);
  bus.writeBytes(BASE, bytes);
  const mem = busPhysMem(bus);
  const isRam = (pa: number, n: number) => pa >= 0 && pa + n <= RAM_SIZE;
  return { bus, mem, isRam };
}

/** The PC's tables for `cpus` CPUs, laid out at BASE. */
function pcTables(cpus = 2, change?: (c: AcpiConfig) => void) {
  const config = pcAcpiConfig(Array.from({ length: cpus }, (_, i) => ({ apicId: i })));
  change?.(config);
  return buildAcpiTables(config, BASE);
}

/** Rewrites the checksum byte of the table at `at` (offset in `bytes`) after a change. */
function fixChecksum(bytes: Uint8Array, at: number): void {
  const length = new DataView(bytes.buffer).getUint32(at + 4, true);
  bytes[at + 9] = 0;
  bytes[at + 9] = acpiChecksum(bytes.subarray(at, at + length));
}

Deno.test("acpi: the PC's tables decode as the firmware wrote them", () => {
  const layout = pcTables(4);
  const { mem, isRam, bus } = memory(layout.bytes);
  const info = readAcpi(mem, BASE, isRam);
  assert.equal(info.revision, 2);
  assert.equal(info.oemId, "DENOPC");
  assert.equal(info.root.signature, "XSDT");
  assert.equal(info.root.address, layout.tables.XSDT);
  assert.deepEqual(info.tables.map((t) => t.signature), ["APIC", "HPET", "MCFG"]);
  assert.equal(info.madt.localApicAddress, 0xfee0_0000);
  assert.deepEqual(info.madt.cpus.map((c) => c.apicId), [0, 1, 2, 3]);
  assert.ok(info.madt.cpus.every((c) => c.enabled));
  assert.deepEqual(info.madt.ioapics, [{ id: 0, address: 0xfec0_0000, gsiBase: 0 }]);
  assert.deepEqual(info.hpet?.address, 0xfed0_0000);
  assert.deepEqual(isaIrq(info.madt, 0), { gsi: 2, activeLow: false, level: false });
  assert.deepEqual(isaIrq(info.madt, 4), { gsi: 4, activeLow: false, level: false });
  // The emulator's own reader (written separately, for graders) agrees.
  const theirs = emulatorReadAcpi(bus, BASE);
  assert.deepEqual(info.madt.overrides, theirs.madt!.overrides);
  assert.deepEqual(
    info.madt.cpus.map((c) => [c.uid, c.apicId]),
    theirs.madt!.cpus.map((c) => [c.uid, c.apicId]),
  );
});

Deno.test("acpi: x2APIC entries, disabled CPUs and a level, active-low override", () => {
  const layout = pcTables(2, (c) => {
    c.cpus.push({ uid: 300, apicId: 0x1_0000, flags: MADT_CPU_ENABLED });
    c.cpus.push({ uid: 3, apicId: 3, flags: 0 });
    c.overrides.push({ bus: 0, source: 9, gsi: 20, flags: 0b1111 });
  });
  const { mem, isRam } = memory(layout.bytes);
  const { madt } = readAcpi(mem, BASE, isRam);
  assert.deepEqual(madt.cpus.slice(2), [
    { uid: 300, apicId: 0x1_0000, enabled: true },
    { uid: 3, apicId: 3, enabled: false },
  ]);
  assert.deepEqual(isaIrq(madt, 9), { gsi: 20, activeLow: true, level: true });
});

Deno.test("acpi: an ACPI 1.0 RSDP leads to the RSDT", () => {
  const layout = pcTables(1);
  const bytes = layout.bytes.slice();
  const v1 = buildRsdp(layout.tables.RSDT, 0).slice(0, 20);
  v1[15] = 0; // revision 0
  v1[8] = 0;
  v1[8] = acpiChecksum(v1);
  bytes.set(v1, 0);
  const { mem, isRam } = memory(bytes);
  const info = readAcpi(mem, BASE, isRam);
  assert.equal(info.revision, 0);
  assert.equal(info.root.signature, "RSDT");
  assert.deepEqual(info.tables.map((t) => t.signature), ["APIC", "HPET", "MCFG"]);
});

Deno.test("acpi: corrupt tables are errors that name the table, the address and the fault", () => {
  const layout = pcTables(1);
  const madtAt = layout.tables.APIC - BASE, hpetAt = layout.tables.HPET - BASE;
  const xsdtAt = layout.tables.XSDT - BASE;
  const cases: [string, (b: Uint8Array, dv: DataView) => void, RegExp][] = [
    ["signature", (b) => (b[0] = 0x58), /no RSDP signature "RSD PTR " at 0x10_0000/],
    ["checksum", (b) => (b[8] ^= 1), /RSDP at 0x10_0000 has a wrong checksum/],
    ["extended checksum", (b) => (b[32] ^= 1), /wrong extended checksum/],
    [
      "XSDT outside RAM",
      (b, dv) => {
        dv.setBigUint64(24, 0x4000_0000n, true);
        b[32] = 0;
        b[32] = acpiChecksum(b.subarray(0, 36));
      },
      /ACPI: the XSDT's header at 0x4000_0000 \(36 bytes\) is not in RAM/,
    ],
    ["MADT checksum", (b) => (b[madtAt + 40] ^= 0xff), /the APIC at 0x\S+ has a wrong checksum/],
    [
      "XSDT entry into nowhere",
      (b, dv) => {
        dv.setBigUint64(xsdtAt + 36 + 8, 0xdead_0000n, true);
        fixChecksum(b, xsdtAt);
      },
      /XSDT entry 1's header at 0xdead_0000 .* is not in RAM/,
    ],
    [
      "absurd length",
      (_b, dv) => {
        dv.setUint32(hpetAt + 4, 0x7fff_ffff, true);
      },
      /the HPET at 0x\S+ \(XSDT entry 1\) gives a length of 2147483647 bytes/,
    ],
    [
      "MADT structure too short",
      (b) => {
        b[madtAt + 44 + 1] = 4; // the first Processor Local APIC claims 4 bytes
        fixChecksum(b, madtAt);
      },
      /the MADT at 0x\S+: the structure at offset 44 \(type 0\) has length 4, which is less/,
    ],
    [
      "MADT structure past the end",
      (b, dv) => {
        const length = dv.getUint32(madtAt + 4, true);
        b[madtAt + length - 10 + 1] = 200; // the override at the end claims 200 bytes
        fixChecksum(b, madtAt);
      },
      /has length 200, which runs past the table/,
    ],
    [
      "no MADT",
      (b) => {
        b.set(new TextEncoder().encode("APIX"), madtAt);
        fixChecksum(b, madtAt);
      },
      /lists no MADT \("APIC"\): the kernel cannot find the CPUs/,
    ],
    [
      "HPET in I/O space",
      (b) => {
        b[hpetAt + 40] = 1;
        fixChecksum(b, hpetAt);
      },
      /puts the HPET in address space 1, not memory/,
    ],
  ];
  for (const [name, corrupt, message] of cases) {
    const bytes = layout.bytes.slice();
    corrupt(bytes, new DataView(bytes.buffer));
    const { mem, isRam } = memory(bytes);
    assert.throws(() => readAcpi(mem, BASE, isRam), message, name);
  }
});

Deno.test("acpi: a table without its expected signature, and an RSDP outside RAM", () => {
  const layout = pcTables(1);
  const bytes = layout.bytes.slice();
  const dv = new DataView(bytes.buffer);
  dv.setBigUint64(24, BigInt(layout.tables.APIC), true); // the RSDP points at the MADT
  bytes[32] = 0;
  bytes[32] = acpiChecksum(bytes.subarray(0, 36));
  const { mem, isRam } = memory(bytes);
  assert.throws(
    () => readAcpi(mem, BASE, isRam),
    /expected the XSDT at 0x\S+, found signature "APIC"/,
  );
  assert.throws(() => readAcpi(mem, 0, isRam), /the RSDP at 0x0 \(20 bytes\) is not in RAM/);
});

Deno.test("acpi: a HPET table too short for its base address", () => {
  const layout = pcTables(1);
  const bytes = layout.bytes.slice();
  const hpetAt = layout.tables.HPET - BASE;
  const short = buildTable("HPET", 1, new Uint8Array(4)); // 40 bytes, well-formed otherwise
  bytes.set(short, hpetAt);
  const { mem, isRam } = memory(bytes);
  assert.throws(() => readAcpi(mem, BASE, isRam), /the HPET table at 0x\S+ is 40 bytes \(< 56\)/);
});
