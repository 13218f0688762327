import assert from "node:assert/strict";
import { Bus } from "../core/bus.ts";
import { Ram } from "../core/memory.ts";
import {
  ACPI_OEM_ID,
  type AcpiConfig,
  buildAcpiTables,
  MADT_CPU_ENABLED,
  MADT_INTERRUPT_OVERRIDE,
  MADT_IO_APIC,
  MADT_LOCAL_APIC,
  MADT_LOCAL_X2APIC,
  MPS_INTI_ACTIVE_HIGH,
  MPS_INTI_EDGE,
  readAcpi,
} from "./acpi.ts";

const BASE = 0x8_0000;

const config: AcpiConfig = {
  localApicAddress: 0xfee0_0000,
  madtFlags: 0,
  cpus: [
    { uid: 0, apicId: 0, flags: MADT_CPU_ENABLED },
    { uid: 1, apicId: 1, flags: MADT_CPU_ENABLED },
  ],
  ioapics: [{ id: 0, address: 0xfec0_0000, gsiBase: 0 }],
  overrides: [{ bus: 0, source: 0, gsi: 2, flags: MPS_INTI_ACTIVE_HIGH | MPS_INTI_EDGE }],
  hpet: { blockId: 0x8086_a201, address: 0xfed0_0000, number: 0, minTick: 128, protection: 0 },
  ecam: [{ base: 0xb000_0000, segment: 0, startBus: 0, endBus: 255 }],
};

/** Builds the tables into 1 MiB of RAM; returns the bus and the layout. */
function laidOut(c: AcpiConfig = config) {
  const bus = new Bus(new Ram(1 << 20));
  bus.addRam(0, 1 << 20);
  const layout = buildAcpiTables(c, BASE);
  assert.ok(bus.writeBytes(BASE, layout.bytes));
  return { bus, layout };
}

function sum(bytes: Uint8Array): number {
  return bytes.reduce((s, b) => (s + b) & 0xff, 0);
}

Deno.test("acpi: what is built reads back the same", () => {
  const { bus, layout } = laidOut();
  const t = readAcpi(bus, layout.rsdp);
  assert.equal(t.rsdp.revision, 2);
  assert.equal(t.rsdp.oemId, ACPI_OEM_ID);
  assert.deepEqual(t.tables.map((h) => h.signature), ["APIC", "HPET", "MCFG"]);
  assert.equal(t.madt!.localApicAddress, 0xfee0_0000);
  assert.deepEqual(t.madt!.cpus, config.cpus);
  assert.deepEqual(t.madt!.ioapics, config.ioapics);
  assert.deepEqual(t.madt!.overrides, config.overrides);
  assert.deepEqual(t.madt!.types, [
    MADT_LOCAL_APIC,
    MADT_LOCAL_APIC,
    MADT_IO_APIC,
    MADT_INTERRUPT_OVERRIDE,
  ]);
  const { header: _h, ...hpet } = t.hpet!;
  assert.deepEqual(hpet, config.hpet);
  assert.deepEqual(t.mcfg!.segments, config.ecam);
});

Deno.test("acpi: every table sums to zero and sits where the pointers say", () => {
  const { bus, layout } = laidOut();
  const at = (pa: number, n: number) => bus.readBytes(pa, n)!;
  const rsdp = at(layout.rsdp, 36);
  assert.equal(new TextDecoder().decode(rsdp.subarray(0, 8)), "RSD PTR ");
  assert.equal(sum(rsdp.subarray(0, 20)), 0, "the ACPI 1.0 checksum");
  assert.equal(sum(rsdp), 0, "the extended checksum");
  assert.equal(rsdp[15], 2, "revision 2");
  const dv = new DataView(rsdp.buffer);
  assert.equal(dv.getUint32(16, true), layout.tables.RSDT);
  assert.equal(dv.getUint32(20, true), 36);
  assert.equal(Number(dv.getBigUint64(24, true)), layout.tables.XSDT);
  for (const sig of ["XSDT", "RSDT", "APIC", "HPET", "MCFG"]) {
    const pa = layout.tables[sig];
    const len = new DataView(at(pa, 8).buffer).getUint32(4, true);
    assert.equal(sum(at(pa, len)), 0, `${sig} checksum`);
    assert.equal(new TextDecoder().decode(at(pa, 4)), sig);
    assert.equal(pa % 16, 0, `${sig} aligned`);
  }
});

Deno.test("acpi: APIC IDs above 254 get Processor Local x2APIC structures", () => {
  const { bus, layout } = laidOut({
    ...config,
    cpus: [{ uid: 0, apicId: 0, flags: 1 }, { uid: 1, apicId: 300, flags: 1 }],
  });
  const madt = readAcpi(bus, layout.rsdp).madt!;
  assert.deepEqual(madt.types.slice(0, 2), [MADT_LOCAL_APIC, MADT_LOCAL_X2APIC]);
  assert.deepEqual(madt.cpus[1], { uid: 1, apicId: 300, flags: 1 });
});

Deno.test("acpi: the reader names what is wrong", async (t) => {
  type Where = (tables: Record<string, number>) => number;
  /** Writes one byte; with `rebalance`, fixes the checksum of the table at that address. */
  const corrupt = (where: Where, value: number, rebalance?: Where) => {
    const { bus, layout } = laidOut();
    const at = where(layout.tables);
    const old = Number(bus.read(at, 1));
    bus.write(at, 1, BigInt(value));
    if (rebalance) {
      const c = rebalance(layout.tables) + 9;
      bus.write(c, 1, BigInt((Number(bus.read(c, 1)) + old - value) & 0xff));
    }
    return () => readAcpi(bus, layout.rsdp);
  };
  await t.step("no RSDP", () => {
    const { bus } = laidOut();
    assert.throws(() => readAcpi(bus, BASE + 16), /no RSDP signature "RSD PTR " at 0x8_0010/);
  });
  await t.step("the first RSDP checksum", () => {
    assert.throws(corrupt((x) => x.RSDP + 9, 0x41), /checksum over its first 20 bytes/);
  });
  await t.step("the extended RSDP checksum", () => {
    assert.throws(corrupt((x) => x.RSDP + 33, 1), /extended checksum/);
  });
  await t.step("a table's checksum", () => {
    assert.throws(corrupt((x) => x.APIC + 40, 1), /the APIC at 0x8_.* wrong checksum/);
  });
  await t.step("an XSDT pointer outside RAM", () => {
    assert.throws(corrupt((x) => x.XSDT + 36 + 7, 0x10, (x) => x.XSDT), /is not in RAM/);
  });
  await t.step("the XSDT's signature", () => {
    assert.throws(corrupt((x) => x.XSDT, 0x52), /expected the XSDT at .* found "RSDT"/);
  });
  await t.step("a MADT structure that overruns the table", () => {
    assert.throws(
      corrupt((x) => x.APIC + 44 + 1, 200, (x) => x.APIC),
      /MADT structure at offset 44 \(type 0\) has length 200/,
    );
  });
});

Deno.test("acpi: tables must be 16-byte aligned and below 4 GiB", () => {
  assert.throws(() => buildAcpiTables(config, BASE + 8), /align them to 16 bytes/);
  assert.throws(() => buildAcpiTables(config, 2 ** 32), /below 4 GiB/);
});

const iasl = (() => {
  try {
    return new Deno.Command("iasl", { args: ["-v"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "acpi: iasl -d disassembles every table and agrees (skipped without acpica-tools)",
  ignore: !iasl,
  fn() {
    const { layout } = laidOut();
    const dir = Deno.makeTempDirSync();
    try {
      const dsl: Record<string, string> = {};
      // iasl reads tables with the standard header; a bare RSDP file it refuses, so the
      // RSDP is checked by the tests above instead.
      for (const [sig, pa] of Object.entries(layout.tables)) {
        if (sig === "RSDP") continue;
        const off = pa - BASE;
        const len = new DataView(layout.bytes.buffer).getUint32(off + 4, true);
        const file = `${dir}/${sig.toLowerCase()}.dat`;
        Deno.writeFileSync(file, layout.bytes.subarray(off, off + len));
        const out = new Deno.Command("iasl", { args: ["-d", file], cwd: dir }).outputSync();
        assert.ok(out.success, `iasl -d ${sig}: ${new TextDecoder().decode(out.stderr)}`);
        dsl[sig] = Deno.readTextFileSync(file.replace(/\.dat$/, ".dsl"));
        assert.doesNotMatch(dsl[sig], /Incorrect|Invalid|should be/i, `${sig}: ${dsl[sig]}`);
      }
      const field = (sig: string, name: string) => {
        const m = new RegExp(`${name}\\s*:\\s*(\\S+)`).exec(dsl[sig]);
        assert.ok(m, `${sig} has no field ${name}`);
        return m[1];
      };
      assert.equal(field("APIC", "Local Apic Address"), "FEE00000");
      assert.match(dsl.APIC, /Local Apic ID : 01/);
      assert.match(dsl.APIC, /Processor Enabled : 1/);
      assert.match(dsl.APIC, /\[I\/O APIC\][\s\S]*Address : FEC00000/);
      assert.match(
        dsl.APIC,
        /\[Interrupt Source Override\][\s\S]*Source : 00\s[\s\S]*Interrupt : 00000002/,
      );
      assert.match(dsl.HPET, /Address : 00000000FED00000/);
      assert.match(dsl.HPET, /Hardware Block ID : 8086A201/);
      assert.match(dsl.HPET, /Space ID : 00 \[SystemMemory\]/);
      assert.match(dsl.MCFG, /Base Address : 00000000B0000000/);
      assert.match(dsl.MCFG, /End Bus Number : FF/);
      assert.match(dsl.XSDT, /ACPI Table Address\s+2 : /);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
