/**
 * The kernel's ACPI reader: "just enough ACPI", as anos says. From the RSDP the boot
 * information points at, it finds the root table (the XSDT, or the RSDT of an ACPI 1.0
 * firmware), checks every table it touches, and decodes the two it needs:
 *
 * - the MADT (signature "APIC", ACPI 6.5 §5.2.12): the local APIC address, the CPUs (their
 *   local APIC ids), the I/O APICs, and the interrupt source overrides that say which GSI
 *   each ISA IRQ arrives at;
 * - the HPET table (IA-PC HPET Specification 1.0a §3.2.4): where the HPET's registers are,
 *   to calibrate the local APIC timer against.
 *
 * Citations "ACPI §n" are to the ACPI Specification 6.5. Every multi-byte field is
 * little-endian. A firmware's tables are input the kernel cannot trust: each signature,
 * length and checksum is checked before a field is used, every pointer must lead into RAM,
 * and anything wrong is an Error that names the table, its address and what is wrong, which
 * the kernel turns into a panic at boot.
 *
 * @module
 */

import { hex } from "../../kernel/format.ts";
import type { PhysMem } from "../../kernel/mm/phys.ts";

/** The RSDP's signature (ACPI §5.2.5.3). */
export const RSDP_SIGNATURE = "RSD PTR ";
/** Bytes of the ACPI 1.0 RSDP, which its first checksum covers. */
export const RSDP_V1_SIZE = 20;
/** Bytes of the ACPI 2.0+ RSDP, which its extended checksum covers. */
export const RSDP_V2_SIZE = 36;
/** Bytes of the system description table header (ACPI §5.2.6). */
export const SDT_HEADER_SIZE = 36;
/** The longest table this reader believes (a larger length is a corrupt header). */
export const SDT_MAX_LENGTH = 1 << 20;

/** MADT structure types (ACPI §5.2.12, Table 5.21). */
export const MADT_LOCAL_APIC = 0;
/** I/O APIC (§5.2.12.3). */
export const MADT_IO_APIC = 1;
/** Interrupt Source Override (§5.2.12.5). */
export const MADT_INTERRUPT_OVERRIDE = 2;
/** Local APIC Address Override (§5.2.12.8): a 64-bit local APIC address. */
export const MADT_LOCAL_APIC_OVERRIDE = 5;
/** Processor Local x2APIC (§5.2.12.12). */
export const MADT_LOCAL_X2APIC = 9;
/** Local APIC flags bit 0: Enabled (§5.2.12.2, Table 5.23). */
export const MADT_CPU_ENABLED = 1;
/** MPS INTI flags (§5.2.12.5, Table 5.26): polarity bits 1:0, 3 = active low. */
export const MPS_INTI_POLARITY_MASK = 3;
/** Active low. */
export const MPS_INTI_ACTIVE_LOW = 3;
/** MPS INTI flags: trigger mode bits 3:2, 3 = level. */
export const MPS_INTI_TRIGGER_MASK = 3 << 2;
/** Level-triggered. */
export const MPS_INTI_LEVEL = 3 << 2;

/** A table's header, as read and checked. */
export interface AcpiTableHeader {
  /** Four characters. */
  signature: string;
  /** Where it is. */
  address: number;
  /** Its length in bytes, header included. */
  length: number;
  /** Its revision. */
  revision: number;
  /** The OEM ID (6 characters, trailing spaces removed). */
  oemId: string;
}

/** A processor the MADT lists. */
export interface MadtCpu {
  /** Its ACPI processor UID. */
  uid: number;
  /** Its local APIC id. */
  apicId: number;
  /** Whether it is enabled (usable now). */
  enabled: boolean;
}

/** An I/O APIC the MADT lists. */
export interface MadtIoApic {
  /** Its I/O APIC id. */
  id: number;
  /** Its register page. */
  address: number;
  /** The GSI of its input 0. */
  gsiBase: number;
}

/** An interrupt source override: ISA IRQ `source` arrives at `gsi` with `flags`. */
export interface MadtOverride {
  /** The bus (0: ISA). */
  bus: number;
  /** The ISA IRQ. */
  source: number;
  /** The global system interrupt. */
  gsi: number;
  /** MPS INTI flags: polarity and trigger mode. */
  flags: number;
}

/** The MADT, decoded. */
export interface Madt {
  /** Its header. */
  header: AcpiTableHeader;
  /** The local APICs' physical address (after any 64-bit override). */
  localApicAddress: number;
  /** The MADT's flags (bit 0: PC-AT compatible 8259s installed). */
  flags: number;
  /** The processors, in table order. */
  cpus: MadtCpu[];
  /** The I/O APICs. */
  ioapics: MadtIoApic[];
  /** The interrupt source overrides. */
  overrides: MadtOverride[];
}

/** The HPET table, decoded. */
export interface HpetTable {
  /** Its header. */
  header: AcpiTableHeader;
  /** The event timer block ID (the HPET's capabilities register, bits 31:0). */
  blockId: number;
  /** The register block's physical address. */
  address: number;
}

/** What the kernel learnt from ACPI. */
export interface AcpiInfo {
  /** The RSDP's address. */
  rsdp: number;
  /** The RSDP's revision (0 for ACPI 1.0, 2 for 2.0 and later). */
  revision: number;
  /** The OEM ID in the RSDP. */
  oemId: string;
  /** The root table used: the XSDT, or the RSDT. */
  root: AcpiTableHeader;
  /** Every table the root lists, checked. */
  tables: AcpiTableHeader[];
  /** The MADT. */
  madt: Madt;
  /** The HPET table, if there is one. */
  hpet: HpetTable | undefined;
}

/** Says whether [pa, pa + length) is RAM the kernel may read (from the memory map). */
export type RamCheck = (pa: number, length: number) => boolean;

/**
 * Reads the tables from the RSDP at `rsdp`. `isRam` says which physical ranges may be read:
 * a pointer anywhere else is a corrupt table, not a load. Throws an Error naming the table,
 * where it is, and what is wrong.
 */
export function readAcpi(mem: PhysMem, rsdp: number, isRam: RamCheck): AcpiInfo {
  const bytes = (pa: number, length: number, what: string): DataView => {
    if (!Number.isSafeInteger(pa) || pa <= 0 || !isRam(pa, length)) {
      throw new Error(`ACPI: ${what} at ${hex(pa)} (${length} bytes) is not in RAM`);
    }
    const b = mem.readBytes(pa, length);
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  };

  const r = bytes(rsdp, RSDP_V1_SIZE, "the RSDP");
  if (text(r, 0, 8) !== RSDP_SIGNATURE) {
    throw new Error(`ACPI: no RSDP signature "RSD PTR " at ${hex(rsdp)}`);
  }
  if (sum(r) !== 0) {
    throw new Error(
      `ACPI: the RSDP at ${hex(rsdp)} has a wrong checksum (its first 20 bytes sum to ` +
        `${hex(sum(r))}, not 0 modulo 256)`,
    );
  }
  const revision = r.getUint8(15);
  const oemId = text(r, 9, 6).trimEnd();
  let root: AcpiTableHeader, entries: number[];
  if (revision >= 2) {
    const full = bytes(rsdp, RSDP_V2_SIZE, "the RSDP");
    if (full.getUint32(20, true) < RSDP_V2_SIZE) {
      throw new Error(
        `ACPI: the RSDP at ${hex(rsdp)} gives a length of ${full.getUint32(20, true)}`,
      );
    }
    if (sum(full) !== 0) {
      throw new Error(`ACPI: the RSDP at ${hex(rsdp)} has a wrong extended checksum (36 bytes)`);
    }
    const [h, dv] = table(bytes, safeAddress(full.getBigUint64(24, true), "XSDT"), "XSDT");
    root = h;
    entries = pointers(dv, 8, "XSDT");
  } else {
    const [h, dv] = table(bytes, r.getUint32(16, true), "RSDT");
    root = h;
    entries = pointers(dv, 4, "RSDT");
  }

  const tables: AcpiTableHeader[] = [];
  let madt: Madt | undefined, hpet: HpetTable | undefined;
  entries.forEach((pa, i) => {
    const [h, dv] = table(bytes, pa, undefined, `${root.signature} entry ${i}`);
    tables.push(h);
    if (h.signature === "APIC") madt = decodeMadt(h, dv);
    if (h.signature === "HPET") hpet = decodeHpet(h, dv);
  });
  if (!madt) {
    throw new Error(
      `ACPI: the ${root.signature} at ${hex(root.address)} lists no MADT ("APIC"): the ` +
        `kernel cannot find the CPUs, the local APIC or the I/O APIC`,
    );
  }
  return { rsdp, revision, oemId, root, tables, madt, hpet };
}

/** Reads and checks the table at `pa` (signature `expect`, when given). */
function table(
  bytes: (pa: number, length: number, what: string) => DataView,
  pa: number,
  expect: string | undefined,
  what = `the ${expect}`,
): [AcpiTableHeader, DataView] {
  const h = bytes(pa, SDT_HEADER_SIZE, `${what}'s header`);
  const signature = text(h, 0, 4);
  if (expect && signature !== expect) {
    throw new Error(`ACPI: expected the ${expect} at ${hex(pa)}, found signature "${signature}"`);
  }
  const length = h.getUint32(4, true);
  if (length < SDT_HEADER_SIZE || length > SDT_MAX_LENGTH) {
    throw new Error(
      `ACPI: the ${signature} at ${hex(pa)} (${what}) gives a length of ${length} bytes ` +
        `(a table is ${SDT_HEADER_SIZE} to ${SDT_MAX_LENGTH} bytes)`,
    );
  }
  const dv = bytes(pa, length, `the ${signature}`);
  if (sum(dv) !== 0) {
    throw new Error(
      `ACPI: the ${signature} at ${hex(pa)} has a wrong checksum (its ${length} bytes sum to ` +
        `${hex(sum(dv))}, not 0 modulo 256)`,
    );
  }
  const header = {
    signature,
    address: pa,
    length,
    revision: h.getUint8(8),
    oemId: text(h, 10, 6).trimEnd(),
  };
  return [header, dv];
}

/** The table pointers after a root table's header: `size` bytes each. */
function pointers(dv: DataView, size: 4 | 8, name: string): number[] {
  const out: number[] = [];
  for (let off = SDT_HEADER_SIZE; off + size <= dv.byteLength; off += size) {
    out.push(
      size === 4
        ? dv.getUint32(off, true)
        : safeAddress(dv.getBigUint64(off, true), `${name} entry ${out.length}`),
    );
  }
  return out;
}

/** Decodes the MADT's interrupt controller structures (ACPI §5.2.12). */
function decodeMadt(header: AcpiTableHeader, dv: DataView): Madt {
  const where = `the MADT at ${hex(header.address)}`;
  if (dv.byteLength < 44) throw new Error(`ACPI: ${where} is ${dv.byteLength} bytes (< 44)`);
  const madt: Madt = {
    header,
    localApicAddress: dv.getUint32(36, true),
    flags: dv.getUint32(40, true),
    cpus: [],
    ioapics: [],
    overrides: [],
  };
  for (let off = 44; off < dv.byteLength;) {
    const type = dv.getUint8(off), length = off + 1 < dv.byteLength ? dv.getUint8(off + 1) : 0;
    const need = MADT_MIN_LENGTH[type] ?? 2;
    if (length < need || off + length > dv.byteLength) {
      throw new Error(
        `ACPI: ${where}: the structure at offset ${off} (type ${type}) has length ${length}, ` +
          `which ${length < need ? `is less than its ${need} bytes` : "runs past the table"}`,
      );
    }
    decodeMadtEntry(madt, type, dv, off);
    off += length;
  }
  return madt;
}

/** The smallest length of each MADT structure type this reader decodes. */
const MADT_MIN_LENGTH: Readonly<Record<number, number>> = {
  [MADT_LOCAL_APIC]: 8,
  [MADT_IO_APIC]: 12,
  [MADT_INTERRUPT_OVERRIDE]: 10,
  [MADT_LOCAL_APIC_OVERRIDE]: 12,
  [MADT_LOCAL_X2APIC]: 16,
};

function decodeMadtEntry(madt: Madt, type: number, dv: DataView, off: number): void {
  switch (type) {
    case MADT_LOCAL_APIC:
      madt.cpus.push({
        uid: dv.getUint8(off + 2),
        apicId: dv.getUint8(off + 3),
        enabled: (dv.getUint32(off + 4, true) & MADT_CPU_ENABLED) !== 0,
      });
      break;
    case MADT_LOCAL_X2APIC:
      madt.cpus.push({
        apicId: dv.getUint32(off + 4, true),
        enabled: (dv.getUint32(off + 8, true) & MADT_CPU_ENABLED) !== 0,
        uid: dv.getUint32(off + 12, true),
      });
      break;
    case MADT_IO_APIC:
      madt.ioapics.push({
        id: dv.getUint8(off + 2),
        address: dv.getUint32(off + 4, true),
        gsiBase: dv.getUint32(off + 8, true),
      });
      break;
    case MADT_INTERRUPT_OVERRIDE:
      madt.overrides.push({
        bus: dv.getUint8(off + 2),
        source: dv.getUint8(off + 3),
        gsi: dv.getUint32(off + 4, true),
        flags: dv.getUint16(off + 8, true),
      });
      break;
    case MADT_LOCAL_APIC_OVERRIDE:
      madt.localApicAddress = safeAddress(dv.getBigUint64(off + 4, true), "the local APIC");
      break;
    default:
      // Other structures (NMI sources, GIC entries, ...) are not needed here.
  }
}

/** Decodes the HPET description table (HPET §3.2.4, Table 3). */
function decodeHpet(header: AcpiTableHeader, dv: DataView): HpetTable {
  const where = `the HPET table at ${hex(header.address)}`;
  if (dv.byteLength < 56) throw new Error(`ACPI: ${where} is ${dv.byteLength} bytes (< 56)`);
  // The base address is a Generic Address Structure (ACPI §5.2.3.2): space 0 = memory.
  const space = dv.getUint8(40);
  if (space !== 0) {
    throw new Error(`ACPI: ${where} puts the HPET in address space ${space}, not memory (0)`);
  }
  return {
    header,
    blockId: dv.getUint32(36, true),
    address: safeAddress(dv.getBigUint64(44, true), "the HPET"),
  };
}

/** Where ISA IRQ `irq` arrives: its GSI and whether it is active low and level-triggered. */
export function isaIrq(
  madt: Madt,
  irq: number,
): { gsi: number; activeLow: boolean; level: boolean } {
  const o = madt.overrides.find((x) => x.bus === 0 && x.source === irq);
  if (!o) return { gsi: irq, activeLow: false, level: false }; // ISA: edge, active high
  return {
    gsi: o.gsi,
    activeLow: (o.flags & MPS_INTI_POLARITY_MASK) === MPS_INTI_ACTIVE_LOW,
    level: (o.flags & MPS_INTI_TRIGGER_MASK) === MPS_INTI_LEVEL,
  };
}

function safeAddress(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new Error(`ACPI: ${what}'s address ${hex(v)} is not a physical address`);
  }
  return Number(v);
}

function text(dv: DataView, off: number, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(dv.getUint8(off + i));
  return s;
}

/** The bytes' sum modulo 256: every ACPI checksum makes it 0. */
function sum(dv: DataView): number {
  let s = 0;
  for (let i = 0; i < dv.byteLength; i++) s = (s + dv.getUint8(i)) & 0xff;
  return s;
}
