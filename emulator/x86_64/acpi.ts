/**
 * ACPI tables: what the PC's firmware lays in RAM to describe the machine, and a reader
 * that parses them back (for tests, tools and graders; the kernel has its own parser).
 *
 * Formats are those of the ACPI Specification 6.5, chapter 5 (cited "ACPI §n"), the
 * IA-PC HPET Specification 1.0a §3.2.4 for the HPET table, and the PCI Firmware
 * Specification 3.3 §4.1.2 for MCFG. Every multi-byte field is little-endian.
 *
 * ## The tables this board provides
 *
 * | table | what it says                                                                |
 * | ----- | --------------------------------------------------------------------------- |
 * | RSDP  | revision 2: the RSDT and XSDT addresses, both checksums (ACPI §5.2.5.3)     |
 * | XSDT  | 64-bit pointers to the tables below (ACPI §5.2.8)                           |
 * | RSDT  | the same, as 32-bit pointers, for readers that predate ACPI 2.0 (§5.2.7)    |
 * | APIC  | the MADT: the local APIC address, one Processor Local APIC (or x2APIC, for  |
 * |       | IDs above 254) per CPU, each I/O APIC with its GSI base, and the interrupt  |
 * |       | source overrides (ISA IRQ 0 to GSI 2, as on every PC) (ACPI §5.2.12)       |
 * | HPET  | the event timer block ID and the HPET's base address (HPET §3.2.4)          |
 * | MCFG  | one ECAM segment: base, segment group, bus range (PCI Firmware §4.1.2)      |
 *
 * There is no FADT or DSDT: nothing on this board is described in AML, the kernel needs
 * neither, and `iasl -d` disassembles the tables above without them. (Power-off is the
 * debug-exit port, not ACPI sleep states.)
 *
 * Every table carries the standard header (ACPI §5.2.6) with OEM ID {@link ACPI_OEM_ID},
 * and a checksum byte that makes the bytes of the table sum to zero modulo 256.
 *
 * @module
 */

import type { Bus } from "../core/bus.ts";
import { hex } from "../core/memory.ts";

/** The OEM ID in every table (6 characters). */
export const ACPI_OEM_ID = "DENOPC";
/** The OEM table ID in every table (8 characters). */
export const ACPI_OEM_TABLE_ID = "EMULATOR";
/** The creator ID ("ASL compiler ID") in every table. */
export const ACPI_CREATOR_ID = "DENO";

/** The RSDP's signature (ACPI §5.2.5.3). */
export const RSDP_SIGNATURE = "RSD PTR ";
/** Size of a revision-2 RSDP. */
export const RSDP_SIZE = 36;
/** Size of the system description table header (ACPI §5.2.6). */
export const SDT_HEADER_SIZE = 36;

/** MADT: Processor Local APIC structure (ACPI §5.2.12.2). */
export const MADT_LOCAL_APIC = 0;
/** MADT: I/O APIC structure (ACPI §5.2.12.3). */
export const MADT_IO_APIC = 1;
/** MADT: Interrupt Source Override structure (ACPI §5.2.12.5). */
export const MADT_INTERRUPT_OVERRIDE = 2;
/** MADT: Local APIC NMI structure (ACPI §5.2.12.7). */
export const MADT_LOCAL_APIC_NMI = 4;
/** MADT: Processor Local x2APIC structure (ACPI §5.2.12.12). */
export const MADT_LOCAL_X2APIC = 9;
/** MADT flags bit 0: PCAT_COMPAT, dual 8259s are installed (not on this board). */
export const MADT_PCAT_COMPAT = 1;
/** Local APIC flags bit 0: the processor is enabled. */
export const MADT_CPU_ENABLED = 1;
/** Local APIC flags bit 1: online capable (only with Enabled = 0). */
export const MADT_CPU_ONLINE_CAPABLE = 2;

/** MPS INTI flags (ACPI §5.2.12.5, Table 5.26): polarity conforms to the bus. */
export const MPS_INTI_POLARITY_CONFORMS = 0;
/** MPS INTI flags: active high. */
export const MPS_INTI_ACTIVE_HIGH = 1;
/** MPS INTI flags: active low. */
export const MPS_INTI_ACTIVE_LOW = 3;
/** MPS INTI flags: trigger mode conforms to the bus (bits 3:2 = 0). */
export const MPS_INTI_TRIGGER_CONFORMS = 0 << 2;
/** MPS INTI flags: edge-triggered. */
export const MPS_INTI_EDGE = 1 << 2;
/** MPS INTI flags: level-triggered. */
export const MPS_INTI_LEVEL = 3 << 2;

// ---- what the tables describe --------------------------------------------------------------

/** A processor, as the MADT lists it. */
export interface AcpiCpu {
  /** ACPI processor UID. */
  uid: number;
  /** Local APIC ID. */
  apicId: number;
  /** `MADT_CPU_*` flags. */
  flags: number;
}

/** An I/O APIC, as the MADT lists it. */
export interface AcpiIoApic {
  /** Its ID. */
  id: number;
  /** Its register page. */
  address: number;
  /** The GSI of its first input. */
  gsiBase: number;
}

/** An interrupt source override: ISA IRQ `source` arrives at `gsi`. */
export interface AcpiOverride {
  /** Bus: 0 = ISA. */
  bus: number;
  /** The ISA IRQ. */
  source: number;
  /** The global system interrupt it is wired to. */
  gsi: number;
  /** MPS INTI flags (polarity and trigger mode). */
  flags: number;
}

/** The HPET table's contents (HPET §3.2.4). */
export interface AcpiHpet {
  /** Event timer block ID: bits 31:0 of the HPET's capabilities register. */
  blockId: number;
  /** The register block's physical address (in system memory space). */
  address: number;
  /** HPET sequence number. */
  number: number;
  /** Main counter minimum clock tick in periodic mode. */
  minTick: number;
  /** Page protection and OEM attribute. */
  protection: number;
}

/** One MCFG allocation: a PCI segment's ECAM window. */
export interface AcpiEcamSegment {
  /** ECAM base address. */
  base: number;
  /** PCI segment group number. */
  segment: number;
  /** First bus decoded. */
  startBus: number;
  /** Last bus decoded. */
  endBus: number;
}

/** What the firmware's tables describe. */
export interface AcpiConfig {
  /** The local APICs' physical address. */
  localApicAddress: number;
  /** MADT flags (`MADT_PCAT_COMPAT` or 0). */
  madtFlags: number;
  /** The processors. */
  cpus: AcpiCpu[];
  /** The I/O APICs. */
  ioapics: AcpiIoApic[];
  /** Interrupt source overrides. */
  overrides: AcpiOverride[];
  /** The HPET, if any. */
  hpet?: AcpiHpet;
  /** ECAM segments, if any. */
  ecam?: AcpiEcamSegment[];
}

/** Where the tables went. */
export interface AcpiLayout {
  /** The bytes, to copy to `base`. */
  bytes: Uint8Array;
  /** The RSDP's physical address (= base). */
  rsdp: number;
  /** Each table's physical address, by signature. */
  tables: Record<string, number>;
}

// ---- building ------------------------------------------------------------------------------

/** A little-endian byte writer that grows as needed. */
class Writer {
  bytes = new Uint8Array(256);
  length = 0;

  #room(n: number): number {
    while (this.length + n > this.bytes.length) {
      const b = new Uint8Array(this.bytes.length * 2);
      b.set(this.bytes);
      this.bytes = b;
    }
    const at = this.length;
    this.length += n;
    return at;
  }
  u8(v: number): this {
    this.bytes[this.#room(1)] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    return this.u8(v).u8(v >> 8);
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16(v >>> 16);
  }
  u64(v: number | bigint): this {
    const b = BigInt(v);
    return this.u32(Number(b & 0xffff_ffffn)).u32(Number((b >> 32n) & 0xffff_ffffn));
  }
  text(s: string, n: number): this {
    for (let i = 0; i < n; i++) this.u8(i < s.length ? s.charCodeAt(i) : 0x20);
    return this;
  }
  align(n: number): this {
    while (this.length % n) this.u8(0);
    return this;
  }
  result(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

/** The checksum byte that makes `bytes` sum to zero modulo 256. */
export function acpiChecksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return (0x100 - sum) & 0xff;
}

/** Builds a table: the header (ACPI §5.2.6) over `body`, with length and checksum set. */
export function buildTable(signature: string, revision: number, body: Uint8Array): Uint8Array {
  const w = new Writer();
  w.text(signature, 4).u32(SDT_HEADER_SIZE + body.length).u8(revision).u8(0);
  w.text(ACPI_OEM_ID, 6).text(ACPI_OEM_TABLE_ID, 8).u32(1);
  w.text(ACPI_CREATOR_ID, 4).u32(1);
  const table = new Uint8Array(SDT_HEADER_SIZE + body.length);
  table.set(w.result());
  table.set(body, SDT_HEADER_SIZE);
  table[9] = acpiChecksum(table);
  return table;
}

/** The MADT (ACPI §5.2.12), revision 5. */
export function buildMadt(config: AcpiConfig): Uint8Array {
  const w = new Writer();
  w.u32(config.localApicAddress).u32(config.madtFlags);
  for (const c of config.cpus) {
    if (c.apicId < 0xff && c.uid < 0x100) {
      w.u8(MADT_LOCAL_APIC).u8(8).u8(c.uid).u8(c.apicId).u32(c.flags);
    } else {
      w.u8(MADT_LOCAL_X2APIC).u8(16).u16(0).u32(c.apicId).u32(c.flags).u32(c.uid);
    }
  }
  for (const io of config.ioapics) {
    w.u8(MADT_IO_APIC).u8(12).u8(io.id).u8(0).u32(io.address).u32(io.gsiBase);
  }
  for (const o of config.overrides) {
    w.u8(MADT_INTERRUPT_OVERRIDE).u8(10).u8(o.bus).u8(o.source).u32(o.gsi).u16(o.flags);
  }
  return buildTable("APIC", 5, w.result());
}

/** The HPET description table (HPET §3.2.4), revision 1. */
export function buildHpetTable(h: AcpiHpet): Uint8Array {
  const w = new Writer();
  w.u32(h.blockId);
  // Base address as a Generic Address Structure (ACPI §5.2.3.2): system memory, 64 bits.
  w.u8(0).u8(64).u8(0).u8(0).u64(h.address);
  w.u8(h.number).u16(h.minTick).u8(h.protection);
  return buildTable("HPET", 1, w.result());
}

/** The MCFG table (PCI Firmware §4.1.2), revision 1. */
export function buildMcfg(segments: AcpiEcamSegment[]): Uint8Array {
  const w = new Writer();
  w.u64(0); // reserved
  for (const s of segments) w.u64(s.base).u16(s.segment).u8(s.startBus).u8(s.endBus).u32(0);
  return buildTable("MCFG", 1, w.result());
}

/** A revision-2 RSDP (ACPI §5.2.5.3) with both checksums. */
export function buildRsdp(rsdt: number, xsdt: number): Uint8Array {
  const w = new Writer();
  w.text(RSDP_SIGNATURE, 8).u8(0).text(ACPI_OEM_ID, 6).u8(2).u32(rsdt);
  w.u32(RSDP_SIZE).u64(xsdt).u8(0).u8(0).u8(0).u8(0);
  const b = w.result();
  b[8] = acpiChecksum(b.subarray(0, 20));
  b[32] = acpiChecksum(b);
  return b;
}

/**
 * Lays out every table for physical address `base` (16-byte aligned): the RSDP first, then
 * the XSDT, the RSDT and the tables they point to, each 16-byte aligned.
 */
export function buildAcpiTables(config: AcpiConfig, base: number): AcpiLayout {
  if (base % 16 !== 0) throw new RangeError(`ACPI tables at ${hex(base)}: align them to 16 bytes`);
  const tables: Uint8Array[] = [buildMadt(config)];
  if (config.hpet) tables.push(buildHpetTable(config.hpet));
  if (config.ecam?.length) tables.push(buildMcfg(config.ecam));
  const align = (n: number) => Math.ceil(n / 16) * 16;
  const n = tables.length;
  const xsdtAt = base + align(RSDP_SIZE);
  const rsdtAt = xsdtAt + align(SDT_HEADER_SIZE + 8 * n);
  let cursor = rsdtAt + align(SDT_HEADER_SIZE + 4 * n);
  const addresses = tables.map((t) => {
    const at = cursor;
    cursor += align(t.length);
    return at;
  });
  if (cursor > 2 ** 32) throw new RangeError("ACPI tables must lie below 4 GiB (the RSDT)");
  const xsdtBody = new Writer(), rsdtBody = new Writer();
  for (const a of addresses) {
    xsdtBody.u64(a);
    rsdtBody.u32(a);
  }
  const placed: [number, Uint8Array][] = [
    [base, buildRsdp(rsdtAt, xsdtAt)],
    [xsdtAt, buildTable("XSDT", 1, xsdtBody.result())],
    [rsdtAt, buildTable("RSDT", 1, rsdtBody.result())],
    ...tables.map((t, i): [number, Uint8Array] => [addresses[i], t]),
  ];
  const bytes = new Uint8Array(cursor - base);
  const where: Record<string, number> = {};
  for (const [at, t] of placed) {
    bytes.set(t, at - base);
    where[at === base ? "RSDP" : String.fromCharCode(...t.subarray(0, 4))] = at;
  }
  return { bytes, rsdp: base, tables: where };
}

// ---- reading -------------------------------------------------------------------------------

/** A table's header, as read. */
export interface AcpiTableHeader {
  /** Where it is. */
  address: number;
  /** Four characters. */
  signature: string;
  /** Length in bytes, header included. */
  length: number;
  /** Revision. */
  revision: number;
  /** OEM ID. */
  oemId: string;
  /** OEM table ID. */
  oemTableId: string;
}

/** The RSDP, as read. */
export interface AcpiRsdp {
  /** Where it is. */
  address: number;
  /** Revision (2 for ACPI 2.0 and later). */
  revision: number;
  /** OEM ID. */
  oemId: string;
  /** The RSDT's address. */
  rsdt: number;
  /** The XSDT's address (revision 2 and later). */
  xsdt: number;
}

/** The MADT, decoded. */
export interface AcpiMadt {
  /** Its header. */
  header: AcpiTableHeader;
  /** Local interrupt controller address. */
  localApicAddress: number;
  /** Flags. */
  flags: number;
  /** Processor Local APIC and x2APIC structures. */
  cpus: AcpiCpu[];
  /** I/O APIC structures. */
  ioapics: AcpiIoApic[];
  /** Interrupt source overrides. */
  overrides: AcpiOverride[];
  /** Every structure's type, in order (to see what else is there). */
  types: number[];
}

/** The tables found from an RSDP. */
export interface AcpiTables {
  /** The RSDP. */
  rsdp: AcpiRsdp;
  /** Every table the XSDT points to, checksums verified. */
  tables: AcpiTableHeader[];
  /** The MADT, if present. */
  madt?: AcpiMadt;
  /** The HPET table, if present. */
  hpet?: AcpiHpet & { header: AcpiTableHeader };
  /** The MCFG table, if present. */
  mcfg?: { header: AcpiTableHeader; segments: AcpiEcamSegment[] };
}

/** What `readAcpi` needs of physical memory. */
export type AcpiMemory = Pick<Bus, "readBytes">;

/**
 * Finds and checks the tables from the RSDP at `rsdp`: signatures, lengths and checksums,
 * the XSDT's pointers, then decodes the MADT, HPET and MCFG. Throws an Error naming the
 * table, the address and what is wrong.
 */
export function readAcpi(mem: AcpiMemory, rsdp: number): AcpiTables {
  const bytes = (pa: number, len: number, what: string): DataView => {
    const b = mem.readBytes(pa, len);
    if (!b) throw new Error(`ACPI: ${what} at ${hex(pa)}+${len} is not in RAM`);
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  };
  const text = (dv: DataView, off: number, n: number) =>
    String.fromCharCode(...new Uint8Array(dv.buffer, dv.byteOffset + off, n));
  const sum = (dv: DataView) =>
    acpiChecksum(new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength));

  const r = bytes(rsdp, 20, "the RSDP");
  if (text(r, 0, 8) !== RSDP_SIGNATURE) {
    throw new Error(`ACPI: no RSDP signature "RSD PTR " at ${hex(rsdp)}`);
  }
  if (sum(r) !== 0) {
    throw new Error(`ACPI: the RSDP's checksum over its first 20 bytes is wrong (${hex(rsdp)})`);
  }
  const revision = r.getUint8(15);
  const info: AcpiRsdp = {
    address: rsdp,
    revision,
    oemId: text(r, 9, 6),
    rsdt: r.getUint32(16, true),
    xsdt: 0,
  };
  if (revision < 2) throw new Error(`ACPI: RSDP revision ${revision} has no XSDT (expected 2)`);
  const full = bytes(rsdp, RSDP_SIZE, "the RSDP");
  if (full.getUint32(20, true) < RSDP_SIZE) {
    throw new Error(`ACPI: the RSDP's length field says ${full.getUint32(20, true)} (< 36)`);
  }
  if (sum(full) !== 0) {
    throw new Error(`ACPI: the RSDP's extended checksum over 36 bytes is wrong (${hex(rsdp)})`);
  }
  info.xsdt = Number(full.getBigUint64(24, true));

  const table = (pa: number, expect?: string): [AcpiTableHeader, DataView] => {
    const h = bytes(pa, SDT_HEADER_SIZE, "a table header");
    const signature = text(h, 0, 4);
    if (expect && signature !== expect) {
      throw new Error(`ACPI: expected the ${expect} at ${hex(pa)}, found "${signature}"`);
    }
    const length = h.getUint32(4, true);
    if (length < SDT_HEADER_SIZE || length > 1 << 20) {
      throw new Error(`ACPI: the ${signature} at ${hex(pa)} claims a length of ${length} bytes`);
    }
    const dv = bytes(pa, length, `the ${signature}`);
    if (sum(dv) !== 0) {
      throw new Error(`ACPI: the ${signature} at ${hex(pa)} has a wrong checksum`);
    }
    return [{
      address: pa,
      signature,
      length,
      revision: h.getUint8(8),
      oemId: text(h, 10, 6),
      oemTableId: text(h, 16, 8),
    }, dv];
  };

  const [, xsdt] = table(info.xsdt, "XSDT");
  const result: AcpiTables = { rsdp: info, tables: [] };
  for (let off = SDT_HEADER_SIZE; off + 8 <= xsdt.byteLength; off += 8) {
    const [header, dv] = table(Number(xsdt.getBigUint64(off, true)));
    result.tables.push(header);
    if (header.signature === "APIC") result.madt = decodeMadt(header, dv);
    if (header.signature === "HPET") result.hpet = decodeHpet(header, dv);
    if (header.signature === "MCFG") result.mcfg = decodeMcfg(header, dv);
  }
  return result;
}

function decodeMadt(header: AcpiTableHeader, dv: DataView): AcpiMadt {
  const madt: AcpiMadt = {
    header,
    localApicAddress: dv.getUint32(36, true),
    flags: dv.getUint32(40, true),
    cpus: [],
    ioapics: [],
    overrides: [],
    types: [],
  };
  let off = 44;
  while (off + 2 <= dv.byteLength) {
    const type = dv.getUint8(off), len = dv.getUint8(off + 1);
    if (len < 2 || off + len > dv.byteLength) {
      throw new Error(
        `ACPI: MADT structure at offset ${off} (type ${type}) has length ${len}, which ` +
          `does not fit the table's ${dv.byteLength} bytes`,
      );
    }
    madt.types.push(type);
    if (type === MADT_LOCAL_APIC && len >= 8) {
      madt.cpus.push({
        uid: dv.getUint8(off + 2),
        apicId: dv.getUint8(off + 3),
        flags: dv.getUint32(off + 4, true),
      });
    } else if (type === MADT_LOCAL_X2APIC && len >= 16) {
      madt.cpus.push({
        apicId: dv.getUint32(off + 4, true),
        flags: dv.getUint32(off + 8, true),
        uid: dv.getUint32(off + 12, true),
      });
    } else if (type === MADT_IO_APIC && len >= 12) {
      madt.ioapics.push({
        id: dv.getUint8(off + 2),
        address: dv.getUint32(off + 4, true),
        gsiBase: dv.getUint32(off + 8, true),
      });
    } else if (type === MADT_INTERRUPT_OVERRIDE && len >= 10) {
      madt.overrides.push({
        bus: dv.getUint8(off + 2),
        source: dv.getUint8(off + 3),
        gsi: dv.getUint32(off + 4, true),
        flags: dv.getUint16(off + 8, true),
      });
    }
    off += len;
  }
  return madt;
}

function decodeHpet(header: AcpiTableHeader, dv: DataView): AcpiTables["hpet"] {
  if (dv.byteLength < 56) throw new Error(`ACPI: the HPET table is ${dv.byteLength} bytes (< 56)`);
  return {
    header,
    blockId: dv.getUint32(36, true),
    address: Number(dv.getBigUint64(44, true)),
    number: dv.getUint8(52),
    minTick: dv.getUint16(53, true),
    protection: dv.getUint8(55),
  };
}

function decodeMcfg(header: AcpiTableHeader, dv: DataView): AcpiTables["mcfg"] {
  const segments: AcpiEcamSegment[] = [];
  for (let off = 44; off + 16 <= dv.byteLength; off += 16) {
    segments.push({
      base: Number(dv.getBigUint64(off, true)),
      segment: dv.getUint16(off + 8, true),
      startBus: dv.getUint8(off + 10),
      endBus: dv.getUint8(off + 11),
    });
  }
  return { header, segments };
}
