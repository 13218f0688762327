/**
 * ELF64 little-endian executables: a writer for the assemblers of both architectures and
 * a reader for loaders, that refuses a malformed file with a message saying what is wrong,
 * where, and what to check, and never with anything but {@link ElfError}.
 *
 * Field names and numbers are those of the System V ABI, "ELF-64 Object File Format"
 * (version 1.5) and the gABI chapters 4 (object files) and 5 (program loading):
 * `e_phoff`, `p_filesz`, `PT_LOAD`, `SHT_SYMTAB`, ...
 *
 * Addresses are JavaScript numbers: the reader refuses values beyond 2^53 (no user
 * program of either architecture lives there; canonical user addresses are below 2^47).
 *
 * @module
 */

/** e_machine of RISC-V (psABI). */
export const EM_RISCV = 243;
/** e_machine of x86-64. */
export const EM_X86_64 = 62;

/** e_type: an executable file. */
export const ET_EXEC = 2;
/** Program header type: a loadable segment. */
export const PT_LOAD = 1;
/** Segment permission: execute. */
export const PF_X = 1;
/** Segment permission: write. */
export const PF_W = 2;
/** Segment permission: read. */
export const PF_R = 4;
/** e_flags bit of RISC-V: the file uses the C extension (RISC-V ELF psABI). */
export const EF_RISCV_RVC = 0x1;

const ELF_HEADER_SIZE = 64;
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;

const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const SHT_PROGBITS = 1;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHT_NOBITS = 8;
const SHF_WRITE = 1;
const SHF_ALLOC = 2;
const SHF_EXECINSTR = 4;
const SHN_ABS = 0xfff1;
const STB_LOCAL = 0;
const STB_GLOBAL = 1;

const MACHINE_NAMES: Record<number, string> = {
  3: "i386",
  8: "MIPS",
  20: "PowerPC",
  21: "PowerPC64",
  40: "ARM",
  62: "x86-64",
  183: "AArch64",
  243: "RISC-V",
};

/** The largest memory size a segment may have: more is a corrupt file, not a program. */
export const ELF_MAX_SEGMENT = 64 * 2 ** 30;
/** The most program headers the reader accepts. */
export const ELF_MAX_PHNUM = 256;

/** A malformed or unsupported ELF file. */
export class ElfError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "ElfError";
  }
}

// ---- writing ---------------------------------------------------------------------------------

/** A segment to write: its bytes are loaded at `vaddr`, zero-filled up to `memsz`. */
export interface ElfSegmentSpec {
  /** Virtual address of the first byte. */
  vaddr: number;
  /** Size in memory (at least `data.length`; the rest is zeroed, like .bss). */
  memsz: number;
  /** PF_R | PF_W | PF_X. */
  flags: number;
  /** The bytes in the file. */
  data: Uint8Array;
  /** Alignment (a power of two; default 4096, a page). */
  align?: number;
  /** The section name to describe it with (default .text, .data or .rodata by flags). */
  name?: string;
}

/** A symbol to put in .symtab. */
export interface ElfSymbolSpec {
  /** Its name. */
  name: string;
  /** Its value (an address, or a constant). */
  value: number;
  /** Its size in bytes (default 0). */
  size?: number;
  /** Global binding (default local). */
  global?: boolean;
  /** A constant rather than an address: written with SHN_ABS (default: an address). */
  absolute?: boolean;
}

/** What {@link writeElf} needs. */
export interface ElfSpec {
  /** EM_RISCV or EM_X86_64. */
  machine: number;
  /** Entry point. */
  entry: number;
  /** The loadable segments, in address order. */
  segments: ElfSegmentSpec[];
  /** Symbols for .symtab (omit for none). */
  symbols?: ElfSymbolSpec[];
  /** e_flags (default 0). */
  flags?: number;
}

const align = (v: number, a: number) => Math.ceil(v / a) * a;

/** A string table under construction. */
class StringTable {
  readonly parts: number[] = [0];
  readonly #index = new Map<string, number>();
  add(s: string): number {
    const known = this.#index.get(s);
    if (known !== undefined) return known;
    const at = this.parts.length;
    this.parts.push(...new TextEncoder().encode(s), 0);
    this.#index.set(s, at);
    return at;
  }
  bytes(): Uint8Array {
    return new Uint8Array(this.parts);
  }
}

interface SectionRecord {
  name: number;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  align: number;
  entsize: number;
}

/**
 * Writes a static ET_EXEC file: ELF header, program headers, each segment's bytes at a
 * file offset congruent to its address modulo its alignment (gABI ch. 5, "Program
 * Header"), then section headers describing the segments, .symtab and .strtab, so that
 * readelf and objdump show names. Throws ElfError for segments that are not in order,
 * overlap, or whose data exceeds memsz.
 */
export function writeElf(spec: ElfSpec): Uint8Array {
  const segs = spec.segments;
  segs.forEach((s, i) => {
    const a = s.align ?? 4096;
    if (s.data.length > s.memsz) {
      throw new ElfError(
        `segment ${i}: ${s.data.length} bytes of data exceed its memsz ${s.memsz}`,
      );
    }
    if (!Number.isInteger(Math.log2(a))) {
      throw new ElfError(`segment ${i}: alignment ${a} is not a power of two`);
    }
    if (i > 0 && s.vaddr < segs[i - 1].vaddr + segs[i - 1].memsz) {
      throw new ElfError(
        `segment ${i} at 0x${s.vaddr.toString(16)} overlaps or precedes segment ${i - 1}`,
      );
    }
  });

  // File layout: headers, then segment data at congruent offsets.
  const phoff = ELF_HEADER_SIZE;
  let cursor = phoff + PHDR_SIZE * segs.length;
  const offsets = segs.map((s) => {
    const a = s.align ?? 4096;
    const off = align(cursor - (s.vaddr % a), a) + (s.vaddr % a);
    cursor = off + s.data.length;
    return off;
  });

  // Sections: one per segment (plus .bss for a zero-filled tail), .symtab, .strtab, .shstrtab.
  const shstr = new StringTable();
  const sections: SectionRecord[] = [
    {
      name: 0,
      type: 0,
      flags: 0,
      addr: 0,
      offset: 0,
      size: 0,
      link: 0,
      info: 0,
      align: 0,
      entsize: 0,
    },
  ];
  const segmentSection: number[] = [];
  segs.forEach((s, i) => {
    const name = s.name ?? (s.flags & PF_X ? ".text" : s.flags & PF_W ? ".data" : ".rodata");
    const flags = SHF_ALLOC | (s.flags & PF_W ? SHF_WRITE : 0) |
      (s.flags & PF_X ? SHF_EXECINSTR : 0);
    segmentSection.push(sections.length);
    if (s.data.length > 0 || s.memsz === 0) {
      sections.push({
        name: shstr.add(name),
        type: SHT_PROGBITS,
        flags,
        addr: s.vaddr,
        offset: offsets[i],
        size: s.data.length,
        link: 0,
        info: 0,
        align: 1,
        entsize: 0,
      });
    }
    if (s.memsz > s.data.length) {
      sections.push({
        name: shstr.add(".bss"),
        type: SHT_NOBITS,
        flags: SHF_ALLOC | SHF_WRITE,
        addr: s.vaddr + s.data.length,
        offset: offsets[i] + s.data.length,
        size: s.memsz - s.data.length,
        link: 0,
        info: 0,
        align: 1,
        entsize: 0,
      });
    }
  });

  // .symtab: the null symbol, locals, then globals (gABI: sh_info = first non-local).
  const strtab = new StringTable();
  const symbols = [...(spec.symbols ?? [])].sort((a, b) => Number(!!a.global) - Number(!!b.global));
  const symtab = new Uint8Array(SYM_SIZE * (symbols.length + 1));
  const sdv = new DataView(symtab.buffer);
  const shndxOf = (sym: ElfSymbolSpec): number => {
    if (sym.absolute) return SHN_ABS;
    const i = segs.findIndex((s) => sym.value >= s.vaddr && sym.value <= s.vaddr + s.memsz);
    return i < 0 ? SHN_ABS : segmentSection[i];
  };
  symbols.forEach((sym, k) => {
    const o = SYM_SIZE * (k + 1);
    sdv.setUint32(o, strtab.add(sym.name), true);
    sdv.setUint8(o + 4, (sym.global ? STB_GLOBAL : STB_LOCAL) << 4);
    sdv.setUint16(o + 6, shndxOf(sym), true);
    sdv.setBigUint64(o + 8, BigInt.asUintN(64, BigInt(sym.value)), true);
    sdv.setBigUint64(o + 16, BigInt(sym.size ?? 0), true);
  });
  const firstGlobal = 1 + symbols.filter((s) => !s.global).length;
  const strBytes = strtab.bytes();

  const symtabOff = align(cursor, 8);
  const strtabOff = symtabOff + symtab.length;
  const symtabIndex = sections.length;
  sections.push({
    name: shstr.add(".symtab"),
    type: SHT_SYMTAB,
    flags: 0,
    addr: 0,
    offset: symtabOff,
    size: symtab.length,
    link: symtabIndex + 1,
    info: firstGlobal,
    align: 8,
    entsize: SYM_SIZE,
  });
  sections.push({
    name: shstr.add(".strtab"),
    type: SHT_STRTAB,
    flags: 0,
    addr: 0,
    offset: strtabOff,
    size: strBytes.length,
    link: 0,
    info: 0,
    align: 1,
    entsize: 0,
  });
  const shstrIndex = sections.length;
  const shstrName = shstr.add(".shstrtab");
  const shstrOff = strtabOff + strBytes.length;
  const shstrBytes = shstr.bytes();
  sections.push({
    name: shstrName,
    type: SHT_STRTAB,
    flags: 0,
    addr: 0,
    offset: shstrOff,
    size: shstrBytes.length,
    link: 0,
    info: 0,
    align: 1,
    entsize: 0,
  });
  const shoff = align(shstrOff + shstrBytes.length, 8);
  const total = shoff + SHDR_SIZE * sections.length;

  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  const u64 = (o: number, v: number) => dv.setBigUint64(o, BigInt.asUintN(64, BigInt(v)), true);
  // ELF header (gABI ch. 4, "ELF Header").
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0); // magic, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, SYSV
  dv.setUint16(16, ET_EXEC, true);
  dv.setUint16(18, spec.machine, true);
  dv.setUint32(20, 1, true);
  u64(24, spec.entry);
  u64(32, phoff);
  u64(40, shoff);
  dv.setUint32(48, spec.flags ?? 0, true);
  dv.setUint16(52, ELF_HEADER_SIZE, true);
  dv.setUint16(54, PHDR_SIZE, true);
  dv.setUint16(56, segs.length, true);
  dv.setUint16(58, SHDR_SIZE, true);
  dv.setUint16(60, sections.length, true);
  dv.setUint16(62, shstrIndex, true);
  // Program headers.
  segs.forEach((s, i) => {
    const o = phoff + PHDR_SIZE * i;
    dv.setUint32(o, PT_LOAD, true);
    dv.setUint32(o + 4, s.flags, true);
    u64(o + 8, offsets[i]);
    u64(o + 16, s.vaddr);
    u64(o + 24, s.vaddr);
    u64(o + 32, s.data.length);
    u64(o + 40, s.memsz);
    u64(o + 48, s.align ?? 4096);
    out.set(s.data, offsets[i]);
  });
  out.set(symtab, symtabOff);
  out.set(strBytes, strtabOff);
  out.set(shstrBytes, shstrOff);
  sections.forEach((s, i) => {
    const o = shoff + SHDR_SIZE * i;
    dv.setUint32(o, s.name, true);
    dv.setUint32(o + 4, s.type, true);
    u64(o + 8, s.flags);
    u64(o + 16, s.addr);
    u64(o + 24, s.offset);
    u64(o + 32, s.size);
    dv.setUint32(o + 40, s.link, true);
    dv.setUint32(o + 44, s.info, true);
    u64(o + 48, s.align);
    u64(o + 56, s.entsize);
  });
  return out;
}

// ---- reading ---------------------------------------------------------------------------------

/** A PT_LOAD segment as read. */
export interface ElfSegment {
  /** Virtual address. */
  readonly vaddr: number;
  /** Size in memory. */
  readonly memsz: number;
  /** PF_R | PF_W | PF_X. */
  readonly flags: number;
  /** Where its bytes start in the file. */
  readonly offset: number;
  /** Its bytes in the file (p_filesz of them); the rest up to memsz is zero. */
  readonly data: Uint8Array;
  /** p_align. */
  readonly align: number;
}

/** A symbol of .symtab. */
export interface ElfSymbol {
  /** Its name ("" for unnamed). */
  readonly name: string;
  /** st_value. */
  readonly value: number;
  /** st_size. */
  readonly size: number;
  /** Whether its binding is global or weak. */
  readonly global: boolean;
  /** st_info's type: 0 none, 1 object, 2 function, 3 section, 4 file. */
  readonly type: number;
  /** st_shndx. */
  readonly section: number;
}

/** An executable as a loader sees it. */
export interface ElfImage {
  /** e_machine. */
  readonly machine: number;
  /** e_entry. */
  readonly entry: number;
  /** e_flags. */
  readonly flags: number;
  /** The PT_LOAD segments, in file order. */
  readonly segments: readonly ElfSegment[];
  /** Where the program headers are in the file, and their count (for AT_PHDR, AT_PHNUM). */
  readonly phoff: number;
  /** e_phnum. */
  readonly phnum: number;
  /** The virtual address of the program headers when a segment loads them, else undefined. */
  readonly phdrAddress: number | undefined;
  /** Symbols of .symtab (empty when there is none), without the null symbol. */
  readonly symbols: readonly ElfSymbol[];
}

/** Options of {@link readElf}. */
export interface ReadElfOptions {
  /** The e_machine the caller can run; another one is refused. */
  machine?: number;
}

const hex = (v: number | bigint) => "0x" + v.toString(16);

/** Bounds-checked little-endian reads that fail with ElfError. */
class Reader {
  readonly dv: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  #check(off: number, size: number, what: string): void {
    if (off < 0 || off + size > this.bytes.length) {
      throw new ElfError(
        `${what} at offset ${
          hex(off)
        } lies outside the ${this.bytes.length}-byte file (is the file truncated?)`,
      );
    }
  }
  u8(off: number, what: string): number {
    this.#check(off, 1, what);
    return this.dv.getUint8(off);
  }
  u16(off: number, what: string): number {
    this.#check(off, 2, what);
    return this.dv.getUint16(off, true);
  }
  u32(off: number, what: string): number {
    this.#check(off, 4, what);
    return this.dv.getUint32(off, true);
  }
  /** A 64-bit value as a number, rounded if need be (symbol values may be any constant). */
  i64(off: number, what: string): number {
    this.#check(off, 8, what);
    return Number(this.dv.getBigInt64(off, true));
  }
  /** A u64 that must fit in a JavaScript number (below 2^53). */
  u64(off: number, what: string): number {
    this.#check(off, 8, what);
    const v = this.dv.getBigUint64(off, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new ElfError(
        `${what} at offset ${hex(off)} is ${hex(v)}, beyond 2^53: no user program lives there ` +
          `(is the file corrupt?)`,
      );
    }
    return Number(v);
  }
}

function machineName(m: number): string {
  return MACHINE_NAMES[m] ? `${m} (${MACHINE_NAMES[m]})` : String(m);
}

/**
 * Reads an ELF64 little-endian static executable. Throws {@link ElfError} (and nothing
 * else) when the file is malformed or not something a loader of this emulator can run.
 */
export function readElf(bytes: Uint8Array, options: ReadElfOptions = {}): ElfImage {
  const r = new Reader(bytes);
  if (bytes.length < ELF_HEADER_SIZE) {
    throw new ElfError(
      `the file is ${bytes.length} bytes, shorter than the 64-byte ELF64 header (is it truncated?)`,
    );
  }
  const magic = [...bytes.subarray(0, 4)];
  if (magic[0] !== 0x7f || magic[1] !== 0x45 || magic[2] !== 0x4c || magic[3] !== 0x46) {
    throw new ElfError(
      `bad magic at offset 0: ${magic.map((b) => b.toString(16).padStart(2, "0")).join(" ")}, ` +
        `expected 7f 45 4c 46 ("\\x7fELF"): this is not an ELF file`,
    );
  }
  const cls = bytes[4], data = bytes[5], version = bytes[6];
  if (cls !== 2) {
    throw new ElfError(
      `EI_CLASS at offset 0x4 is ${cls}${
        cls === 1 ? " (32-bit)" : ""
      }: only ELFCLASS64 (2) files are supported`,
    );
  }
  if (data !== 1) {
    throw new ElfError(
      `EI_DATA at offset 0x5 is ${data}${
        data === 2 ? " (big-endian)" : ""
      }: only little-endian (1) files are supported`,
    );
  }
  if (version !== 1) {
    throw new ElfError(`EI_VERSION at offset 0x6 is ${version}, expected 1 (EV_CURRENT)`);
  }
  const type = r.u16(16, "e_type");
  if (type !== ET_EXEC) {
    const why = type === 1
      ? "a relocatable object file: link it first"
      : type === 3
      ? "a shared object or position-independent executable: link with -static -no-pie"
      : "not an executable";
    throw new ElfError(`e_type at offset 0x10 is ${type}, ${why} (expected 2, ET_EXEC)`);
  }
  const machine = r.u16(18, "e_machine");
  if (options.machine !== undefined && machine !== options.machine) {
    throw new ElfError(
      `e_machine at offset 0x12 is ${machineName(machine)}, but this loader runs ${
        machineName(options.machine)
      } programs`,
    );
  }
  if (machine !== EM_RISCV && machine !== EM_X86_64) {
    throw new ElfError(
      `e_machine at offset 0x12 is ${
        machineName(machine)
      }: this emulator runs RISC-V (243) and x86-64 (62) programs`,
    );
  }
  if (r.u32(20, "e_version") !== 1) {
    throw new ElfError(`e_version at offset 0x14 is ${r.u32(20, "")}, expected 1`);
  }
  const entry = r.u64(24, "e_entry");
  const phoff = r.u64(32, "e_phoff");
  const shoff = r.u64(40, "e_shoff");
  const flags = r.u32(48, "e_flags");
  const phentsize = r.u16(54, "e_phentsize");
  const phnum = r.u16(56, "e_phnum");
  if (phnum === 0) {
    throw new ElfError(
      "e_phnum at offset 0x38 is 0: the file has no program headers, so nothing to load",
    );
  }
  if (phentsize !== PHDR_SIZE) {
    throw new ElfError(
      `e_phentsize at offset 0x36 is ${phentsize}, expected ${PHDR_SIZE} for ELF64`,
    );
  }
  if (phnum > ELF_MAX_PHNUM) {
    throw new ElfError(
      `e_phnum at offset 0x38 is ${phnum}: more than ${ELF_MAX_PHNUM} program headers is absurd`,
    );
  }
  if (phoff + phnum * PHDR_SIZE > bytes.length) {
    throw new ElfError(
      `the ${phnum} program headers at offset ${hex(phoff)} (e_phoff) end at ${
        hex(phoff + phnum * PHDR_SIZE)
      }, ` +
        `outside the ${bytes.length}-byte file (is it truncated?)`,
    );
  }

  const segments: ElfSegment[] = [];
  let phdrAddress: number | undefined;
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * PHDR_SIZE;
    const ptype = r.u32(o, `p_type of program header ${i}`);
    if (ptype === PT_INTERP || ptype === PT_DYNAMIC) {
      throw new ElfError(
        `program header ${i} at offset ${hex(o)} is ${
          ptype === PT_INTERP ? "PT_INTERP" : "PT_DYNAMIC"
        }: ` +
          `the program is dynamically linked; link it with -static`,
      );
    }
    if (ptype !== PT_LOAD) continue;
    const what = (f: string) => `${f} of segment ${i} (program header at ${hex(o)})`;
    const pflags = r.u32(o + 4, what("p_flags"));
    const offset = r.u64(o + 8, what("p_offset"));
    const vaddr = r.u64(o + 16, what("p_vaddr"));
    const filesz = r.u64(o + 32, what("p_filesz"));
    const memsz = r.u64(o + 40, what("p_memsz"));
    const palign = r.u64(o + 48, what("p_align"));
    if (filesz > memsz) {
      throw new ElfError(
        `segment ${i} (program header at ${hex(o)}): p_filesz ${hex(filesz)} exceeds p_memsz ${
          hex(memsz)
        }`,
      );
    }
    if (memsz > ELF_MAX_SEGMENT) {
      throw new ElfError(
        `segment ${i} (program header at ${hex(o)}): p_memsz ${
          hex(memsz)
        } is absurd (more than 64 GiB)`,
      );
    }
    if (vaddr + memsz > 2 ** 47) {
      throw new ElfError(
        `segment ${i} (program header at ${hex(o)}) at ${hex(vaddr)}+${
          hex(memsz)
        } reaches beyond ` +
          `the 2^47 bytes of user address space`,
      );
    }
    if (offset + filesz > bytes.length) {
      throw new ElfError(
        `segment ${i} (program header at ${hex(o)}): its ${filesz} file bytes at p_offset ${
          hex(offset)
        } ` +
          `run past the end of the ${bytes.length}-byte file (is it truncated?)`,
      );
    }
    if (palign > 1) {
      if (!Number.isInteger(Math.log2(palign))) {
        throw new ElfError(
          `segment ${i} (program header at ${hex(o)}): p_align ${palign} is not a power of two`,
        );
      }
      if (offset % palign !== vaddr % palign) {
        throw new ElfError(
          `segment ${i} (program header at ${hex(o)}): p_offset ${hex(offset)} and p_vaddr ${
            hex(vaddr)
          } ` +
            `differ modulo p_align ${hex(palign)}, so the file cannot be mapped page by page`,
        );
      }
    }
    for (const [j, s] of segments.entries()) {
      if (vaddr < s.vaddr + s.memsz && s.vaddr < vaddr + memsz) {
        throw new ElfError(
          `segment ${i} at ${hex(vaddr)}+${hex(memsz)} overlaps load segment ${j} at ${
            hex(s.vaddr)
          }+${hex(s.memsz)}`,
        );
      }
    }
    if (phoff >= offset && phoff + phnum * PHDR_SIZE <= offset + filesz) {
      phdrAddress = vaddr + (phoff - offset);
    }
    segments.push({
      vaddr,
      memsz,
      flags: pflags,
      offset,
      data: bytes.subarray(offset, offset + filesz),
      align: palign,
    });
  }
  if (!segments.length) throw new ElfError("the file has no PT_LOAD segment: nothing to load");
  if (!segments.some((s) => s.flags & PF_X && entry >= s.vaddr && entry < s.vaddr + s.memsz)) {
    throw new ElfError(
      `the entry point e_entry ${hex(entry)} (offset 0x18) lies in no executable segment: ` +
        `check the linker's entry symbol (_start) and the segments' PF_X flags`,
    );
  }
  const symbols = shoff ? readSymbols(r, shoff) : [];
  return { machine, entry, flags, segments, phoff, phnum, phdrAddress, symbols };
}

/** Reads .symtab through the section headers; a malformed table is an ElfError. */
function readSymbols(r: Reader, shoff: number): ElfSymbol[] {
  const shentsize = r.u16(58, "e_shentsize");
  const shnum = r.u16(60, "e_shnum");
  if (shnum === 0) return [];
  if (shentsize !== SHDR_SIZE) {
    throw new ElfError(
      `e_shentsize at offset 0x3a is ${shentsize}, expected ${SHDR_SIZE} for ELF64`,
    );
  }
  if (shoff + shnum * SHDR_SIZE > r.bytes.length) {
    throw new ElfError(
      `the ${shnum} section headers at e_shoff ${
        hex(shoff)
      } run past the end of the ${r.bytes.length}-byte file`,
    );
  }
  const symtab = Array.from({ length: shnum }, (_, i) => shoff + i * SHDR_SIZE)
    .find((o) => r.u32(o + 4, "sh_type") === SHT_SYMTAB);
  if (symtab === undefined) return [];
  const off = r.u64(symtab + 24, "sh_offset of .symtab");
  const size = r.u64(symtab + 32, "sh_size of .symtab");
  const link = r.u32(symtab + 40, "sh_link of .symtab");
  const entsize = r.u64(symtab + 56, "sh_entsize of .symtab");
  if (entsize !== SYM_SIZE) {
    throw new ElfError(
      `.symtab (section header at ${hex(symtab)}) has sh_entsize ${entsize}, expected ${SYM_SIZE}`,
    );
  }
  if (off + size > r.bytes.length) {
    throw new ElfError(
      `.symtab at offset ${hex(off)}+${
        hex(size)
      } runs past the end of the ${r.bytes.length}-byte file`,
    );
  }
  if (link >= shnum) {
    throw new ElfError(`.symtab's sh_link ${link} names no section (there are ${shnum})`);
  }
  const strHdr = shoff + link * SHDR_SIZE;
  if (r.u32(strHdr + 4, "sh_type of the string table") !== SHT_STRTAB) {
    throw new ElfError(
      `.symtab's sh_link ${link} is not a string table (section header at ${hex(strHdr)})`,
    );
  }
  const strOff = r.u64(strHdr + 24, "sh_offset of .strtab");
  const strSize = r.u64(strHdr + 32, "sh_size of .strtab");
  if (strOff + strSize > r.bytes.length) {
    throw new ElfError(
      `.strtab at offset ${hex(strOff)}+${hex(strSize)} runs past the end of the file`,
    );
  }
  const strings = r.bytes.subarray(strOff, strOff + strSize);
  const decoder = new TextDecoder();
  const name = (at: number, where: number): string => {
    if (at >= strings.length) {
      throw new ElfError(
        `symbol at offset ${
          hex(where)
        }: st_name ${at} is outside .strtab (${strings.length} bytes)`,
      );
    }
    const end = strings.indexOf(0, at);
    if (end < 0) {
      throw new ElfError(
        `symbol at offset ${hex(where)}: its name in .strtab is not NUL-terminated`,
      );
    }
    return decoder.decode(strings.subarray(at, end));
  };
  const out: ElfSymbol[] = [];
  for (let o = off + SYM_SIZE; o + SYM_SIZE <= off + size; o += SYM_SIZE) {
    const info = r.u8(o + 4, "st_info");
    out.push({
      name: name(r.u32(o, "st_name"), o),
      global: info >> 4 !== STB_LOCAL,
      type: info & 0xf,
      section: r.u16(o + 6, "st_shndx"),
      value: r.i64(o + 8, "st_value"),
      size: r.i64(o + 16, "st_size"),
    });
  }
  return out;
}
