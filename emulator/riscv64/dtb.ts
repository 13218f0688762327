/**
 * The flattened devicetree (FDT, "DTB"): a writer, and a small reader for tests and tools.
 *
 * The format is chapter 5 of the Devicetree Specification v0.4 (cited "DT §n"). A blob is
 *
 * ```
 * struct fdt_header {          // DT §5.2, every field a big-endian u32
 *   magic;                     //  0  FDT_MAGIC
 *   totalsize;                 //  4  bytes of the whole blob
 *   off_dt_struct;             //  8  offset of the structure block
 *   off_dt_strings;            // 12  offset of the strings block
 *   off_mem_rsvmap;            // 16  offset of the memory reservation block
 *   version;                   // 20  FDT_VERSION (17)
 *   last_comp_version;         // 24  FDT_LAST_COMP_VERSION (16)
 *   boot_cpuid_phys;           // 28  the boot CPU's `reg` (hart id)
 *   size_dt_strings;           // 32
 *   size_dt_struct;            // 36
 * };
 * ```
 *
 * followed by the memory reservation block (DT §5.3: big-endian u64 pairs { address, size },
 * 8-byte aligned, ended by a pair of zeros), the structure block (DT §5.4: 4-byte aligned
 * tokens FDT_BEGIN_NODE + name, FDT_PROP + { len, nameoff } + value, FDT_END_NODE, FDT_NOP,
 * and one final FDT_END) and the strings block (DT §5.5: the property names, each
 * NUL-terminated, referenced by offset).
 *
 * A tree is plain data: {@link DtNode} with its properties as raw bytes, and encoders for
 * the value types of DT §2.2.4 (`<u32>` cells, `<u64>`, `<string>`, `<stringlist>`, empty).
 *
 * @module
 */

/** Header magic (DT §5.2). */
export const FDT_MAGIC = 0xd00d_feed;
/** The version this writer produces. */
export const FDT_VERSION = 17;
/** The oldest version a version-17 blob is compatible with. */
export const FDT_LAST_COMP_VERSION = 16;
/** Size of `struct fdt_header`. */
export const FDT_HEADER_SIZE = 40;
/** Structure block token: start of a node, followed by its name (DT §5.4.1). */
export const FDT_BEGIN_NODE = 0x1;
/** Structure block token: end of a node. */
export const FDT_END_NODE = 0x2;
/** Structure block token: a property, followed by { len, nameoff } and the value. */
export const FDT_PROP = 0x3;
/** Structure block token: nothing (ignored by readers). */
export const FDT_NOP = 0x4;
/** Structure block token: end of the structure block. */
export const FDT_END = 0x9;

/** One property: its name and its value as big-endian bytes. */
export interface DtProperty {
  /** The name, e.g. `compatible` or `#address-cells`. */
  name: string;
  /** The value, encoded (see {@link u32}, {@link u64}, {@link str}). */
  value: Uint8Array;
}

/** One node. The root's name is the empty string. */
export interface DtNode {
  /** `node-name@unit-address`, e.g. `serial@10000000`. */
  name: string;
  /** Its properties, in order. */
  properties: DtProperty[];
  /** Its children, in order. */
  children: DtNode[];
}

/** One entry of the memory reservation block. */
export interface DtReservation {
  /** Physical address. */
  address: bigint;
  /** Size in bytes. */
  size: bigint;
}

/** A whole devicetree blob's contents. */
export interface Fdt {
  /** The root node. */
  root: DtNode;
  /** The memory reservation block, without its terminating zero entry. */
  reservations: DtReservation[];
  /** `boot_cpuid_phys`. */
  bootCpuId: number;
}

// ---- value encoders (DT §2.2.4) -------------------------------------------------------------

/** `<u32>` cells, big-endian. */
export function u32(...cells: number[]): Uint8Array {
  const out = new Uint8Array(4 * cells.length);
  const dv = new DataView(out.buffer);
  cells.forEach((c, i) => dv.setUint32(4 * i, c >>> 0));
  return out;
}

/** `<u64>` values, each as two cells (high, low), big-endian. */
export function u64(...values: (bigint | number)[]): Uint8Array {
  const out = new Uint8Array(8 * values.length);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => dv.setBigUint64(8 * i, BigInt.asUintN(64, BigInt(v))));
  return out;
}

/** `<string>` or `<stringlist>`: each string NUL-terminated. */
export function str(...strings: string[]): Uint8Array {
  const enc = new TextEncoder();
  const parts = strings.map((s) => enc.encode(s));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length + 1;
  }
  return out;
}

/** An empty value (a boolean property such as `interrupt-controller`). */
export function empty(): Uint8Array {
  return new Uint8Array(0);
}

/** What {@link node} accepts for a property value. */
export type DtValue = Uint8Array | string | string[] | number | number[] | true;

/**
 * Builds a node from a record of properties: a string becomes `<string>`, a string array
 * `<stringlist>`, a number or number array `<u32>` cells, `true` an empty property, and
 * bytes are taken as they are.
 */
export function node(
  name: string,
  properties: Record<string, DtValue>,
  children: DtNode[] = [],
): DtNode {
  const encode = (v: DtValue): Uint8Array => {
    if (v instanceof Uint8Array) return v;
    if (v === true) return empty();
    if (typeof v === "string") return str(v);
    if (typeof v === "number") return u32(v);
    if (v.length > 0 && typeof v[0] === "string") return str(...(v as string[]));
    return u32(...(v as number[]));
  };
  return {
    name,
    properties: Object.entries(properties).map(([k, v]) => ({ name: k, value: encode(v) })),
    children,
  };
}

// ---- value decoders ---------------------------------------------------------------------------

/** Decodes `<u32>` cells. */
export function cellsOf(value: Uint8Array): number[] {
  const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
  return Array.from({ length: value.length >> 2 }, (_, i) => dv.getUint32(4 * i));
}

/** Decodes a `<stringlist>` (or a single `<string>`, as a list of one). */
export function stringsOf(value: Uint8Array): string[] {
  const dec = new TextDecoder();
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    if (value[i] === 0) {
      out.push(dec.decode(value.subarray(start, i)));
      start = i + 1;
    }
  }
  return out;
}

/** The property `name` of `n`, or undefined. */
export function propertyOf(n: DtNode, name: string): Uint8Array | undefined {
  return n.properties.find((p) => p.name === name)?.value;
}

/** The node at `path` (`/`, `/cpus/cpu@0`), or undefined. */
export function findNode(root: DtNode, path: string): DtNode | undefined {
  let at: DtNode | undefined = root;
  for (const part of path.split("/").filter((p) => p !== "")) {
    at = at.children.find((c) => c.name === part);
    if (!at) return undefined;
  }
  return at;
}

// ---- the writer --------------------------------------------------------------------------------

/** Characters allowed in node names (DT §2.2.1, Table 2.1), plus `@` before a unit address. */
const NODE_NAME = /^[0-9A-Za-z,._+-]{1,31}(@[0-9A-Za-z,._+-]+)?$/;
/** Characters allowed in property names (DT §2.2.4.1, Table 2.2). */
const PROPERTY_NAME = /^[0-9A-Za-z,._+?#-]{1,31}$/;

/**
 * Flattens `fdt` into a version-17 blob. Throws a RangeError that names the node when the
 * tree breaks a rule of the specification (a bad name, two properties or children with
 * the same name): a bug in the board, not in the guest.
 */
export function writeFdt(fdt: Fdt): Uint8Array {
  const strings = new StringTable();
  const struct = new ByteWriter();
  emitNode(fdt.root, "/", true, struct, strings);
  struct.u32(FDT_END);

  const rsvOffset = FDT_HEADER_SIZE; // already 8-byte aligned
  const rsvSize = 16 * (fdt.reservations.length + 1);
  const structOffset = rsvOffset + rsvSize;
  const stringsOffset = structOffset + struct.length;
  const total = stringsOffset + strings.bytes.length;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  const header = [
    FDT_MAGIC,
    total,
    structOffset,
    stringsOffset,
    rsvOffset,
    FDT_VERSION,
    FDT_LAST_COMP_VERSION,
    fdt.bootCpuId,
    strings.bytes.length,
    struct.length,
  ];
  header.forEach((v, i) => dv.setUint32(4 * i, v >>> 0));
  fdt.reservations.forEach((r, i) => {
    dv.setBigUint64(rsvOffset + 16 * i, BigInt.asUintN(64, r.address));
    dv.setBigUint64(rsvOffset + 16 * i + 8, BigInt.asUintN(64, r.size));
  });
  out.set(struct.bytes(), structOffset);
  out.set(strings.bytes, stringsOffset);
  return out;
}

function emitNode(n: DtNode, path: string, isRoot: boolean, w: ByteWriter, s: StringTable): void {
  if (isRoot ? n.name !== "" : !NODE_NAME.test(n.name)) {
    throw new RangeError(`devicetree node "${n.name}" at ${path} has a name DT §2.2.1 forbids`);
  }
  w.u32(FDT_BEGIN_NODE);
  w.string(n.name);
  const seen = new Set<string>();
  for (const p of n.properties) {
    if (!PROPERTY_NAME.test(p.name)) {
      throw new RangeError(`devicetree property "${p.name}" of ${path} has a bad name`);
    }
    if (seen.has(p.name)) throw new RangeError(`${path} has two properties "${p.name}"`);
    seen.add(p.name);
    w.u32(FDT_PROP);
    w.u32(p.value.length);
    w.u32(s.offsetOf(p.name));
    w.bytesPadded(p.value);
  }
  const names = new Set<string>();
  for (const c of n.children) {
    if (names.has(c.name)) throw new RangeError(`${path} has two children "${c.name}"`);
    names.add(c.name);
    emitNode(c, path === "/" ? `/${c.name}` : `${path}/${c.name}`, false, w, s);
  }
  w.u32(FDT_END_NODE);
}

/** The strings block: each name once. */
class StringTable {
  #offsets = new Map<string, number>();
  #parts: number[] = [];

  offsetOf(name: string): number {
    let at = this.#offsets.get(name);
    if (at === undefined) {
      at = this.#parts.length;
      this.#offsets.set(name, at);
      this.#parts.push(...new TextEncoder().encode(name), 0);
    }
    return at;
  }

  get bytes(): Uint8Array {
    return new Uint8Array(this.#parts);
  }
}

/** A growing big-endian byte buffer that keeps 4-byte alignment for tokens. */
class ByteWriter {
  #buf = new Uint8Array(1024);
  #len = 0;

  get length(): number {
    return this.#len;
  }

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const bigger = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
    bigger.set(this.#buf.subarray(0, this.#len));
    this.#buf = bigger;
  }

  u32(v: number): void {
    this.#room(4);
    new DataView(this.#buf.buffer).setUint32(this.#len, v >>> 0);
    this.#len += 4;
  }

  /** Bytes, then zeros up to the next multiple of 4. */
  bytesPadded(b: Uint8Array): void {
    const padded = (b.length + 3) & ~3;
    this.#room(padded);
    this.#buf.set(b, this.#len);
    this.#buf.fill(0, this.#len + b.length, this.#len + padded);
    this.#len += padded;
  }

  /** A NUL-terminated string, padded to 4. */
  string(s: string): void {
    this.bytesPadded(str(s));
  }

  bytes(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

// ---- the reader ---------------------------------------------------------------------------------

/**
 * Decodes a blob. Throws a RangeError that says what is wrong and at which offset when the
 * blob is not a valid devicetree (bad magic, an offset outside the blob, an unbalanced
 * structure block, a name without its NUL): bad input is reported, never followed.
 */
export function readFdt(blob: Uint8Array): Fdt {
  const fail = (what: string): never => {
    throw new RangeError(`devicetree: ${what}`);
  };
  if (blob.length < FDT_HEADER_SIZE) fail(`${blob.length} bytes is shorter than the header`);
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const h = (i: number) => dv.getUint32(4 * i);
  if (h(0) !== FDT_MAGIC) fail(`magic is 0x${h(0).toString(16)}, not 0xd00dfeed`);
  const [total, offStruct, offStrings, offRsv, version, lastComp] = [
    h(1),
    h(2),
    h(3),
    h(4),
    h(5),
    h(6),
  ];
  const [bootCpuId, sizeStrings, sizeStruct] = [h(7), h(8), h(9)];
  if (total > blob.length) fail(`totalsize ${total} is larger than the ${blob.length}-byte blob`);
  if (version < 16 || lastComp > FDT_VERSION) {
    fail(`version ${version} (compatible with ${lastComp}) is not readable as version 17`);
  }
  const within = (off: number, size: number, what: string) => {
    if (off + size > total) fail(`${what} at ${off}+${size} lies outside totalsize ${total}`);
  };
  within(offStruct, sizeStruct, "structure block");
  within(offStrings, sizeStrings, "strings block");
  if (offRsv % 8 || offStruct % 4) fail("a block is misaligned (DT §5.6)");

  const reservations: DtReservation[] = [];
  for (let at = offRsv;; at += 16) {
    within(at, 16, "memory reservation entry");
    const address = dv.getBigUint64(at), size = dv.getBigUint64(at + 8);
    if (address === 0n && size === 0n) break;
    reservations.push({ address, size });
  }

  const end = offStruct + sizeStruct;
  let at = offStruct;
  const token = (): number => {
    if (at + 4 > end) fail(`structure block ends without FDT_END at offset ${at}`);
    const t = dv.getUint32(at);
    at += 4;
    return t;
  };
  const cString = (from: number, limit: number, what: string): string => {
    const nul = blob.indexOf(0, from);
    if (nul < 0 || nul >= limit) fail(`${what} at offset ${from} has no terminating NUL`);
    return new TextDecoder().decode(blob.subarray(from, nul));
  };

  const stack: DtNode[] = [];
  let root: DtNode | undefined;
  for (;;) {
    const t = token();
    if (t === FDT_NOP) continue;
    if (t === FDT_BEGIN_NODE) {
      if (root && stack.length === 0) fail(`a second root node at offset ${at - 4}`);
      const name = cString(at, end, "node name");
      at += (name.length + 1 + 3) & ~3;
      const n: DtNode = { name, properties: [], children: [] };
      if (stack.length) stack[stack.length - 1].children.push(n);
      else root = n;
      stack.push(n);
    } else if (t === FDT_PROP) {
      if (!stack.length) fail(`a property outside any node at offset ${at - 4}`);
      const len = token(), nameoff = token();
      if (at + len > end) fail(`property at offset ${at - 12} runs past the structure block`);
      if (nameoff >= sizeStrings) fail(`property name offset ${nameoff} is outside the strings`);
      const name = cString(offStrings + nameoff, offStrings + sizeStrings, "property name");
      stack[stack.length - 1].properties.push({ name, value: blob.slice(at, at + len) });
      at += (len + 3) & ~3;
    } else if (t === FDT_END_NODE) {
      if (!stack.pop()) fail(`FDT_END_NODE without a node at offset ${at - 4}`);
    } else if (t === FDT_END) {
      if (stack.length) fail(`FDT_END with ${stack.length} node(s) still open`);
      if (!root) fail("the structure block has no root node");
      return { root: root!, reservations, bootCpuId };
    } else {
      fail(`unknown token 0x${t.toString(16)} at offset ${at - 4}`);
    }
  }
}
