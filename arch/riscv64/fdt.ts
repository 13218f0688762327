/**
 * The kernel's flattened-devicetree reader: just enough of the Devicetree Specification
 * v0.4, chapter 5 (cited "DT §n"), to find what the firmware says about the board.
 *
 * The blob is read out of RAM through PhysMem (its header first, to learn its size), then
 * parsed from those bytes into a tree of nodes whose properties are kept as raw big-endian
 * bytes. Every offset and length is checked against the blob: a malformed devicetree is an
 * Error that says what is wrong and where, never a read past the end.
 *
 * ```
 * header (DT §5.2): magic 0xd00dfeed, totalsize, off_dt_struct, off_dt_strings, ...
 * structure block (DT §5.4): FDT_BEGIN_NODE name | FDT_PROP len nameoff value
 *                            | FDT_END_NODE | FDT_NOP ... FDT_END, all 4-byte aligned
 * strings block (DT §5.5): NUL-terminated property names
 * ```
 *
 * @module
 */

import { hex } from "../../kernel/format.ts";
import type { PhysMem } from "../../kernel/mm/phys.ts";

/** The header's magic (DT §5.2). */
export const FDT_MAGIC = 0xd00d_feed;
/** Size of the header. */
export const FDT_HEADER_SIZE = 40;
/** The largest blob the kernel accepts: a board's devicetree is a few KiB. */
export const FDT_MAX_SIZE = 1 << 20;
/** Structure-block tokens (DT §5.4.1). */
export const FDT_BEGIN_NODE = 1;
/** See {@link FDT_BEGIN_NODE}. */
export const FDT_END_NODE = 2;
/** See {@link FDT_BEGIN_NODE}. */
export const FDT_PROP = 3;
/** See {@link FDT_BEGIN_NODE}. */
export const FDT_NOP = 4;
/** See {@link FDT_BEGIN_NODE}. */
export const FDT_END = 9;

/** A node of the tree. The root's name is "". */
export interface FdtNode {
  /** The node name with its unit address: "serial@10000000". */
  name: string;
  /** Its full path: "/soc/serial@10000000". */
  path: string;
  /** Properties by name, their values as raw bytes. */
  props: Map<string, Uint8Array>;
  /** Child nodes, in blob order. */
  children: FdtNode[];
  /** The parent node (undefined for the root). */
  parent: FdtNode | undefined;
}

/** Reads the devicetree at physical address `pa` out of RAM and parses it. */
export function readFdt(mem: PhysMem, pa: number): { root: FdtNode; size: number } {
  const header = mem.readBytes(pa, FDT_HEADER_SIZE);
  const dv = new DataView(header.buffer, header.byteOffset);
  if (dv.getUint32(0) !== FDT_MAGIC) {
    throw new Error(
      `devicetree at ${hex(pa)}: no magic 0xd00dfeed (found ${hex(dv.getUint32(0))})`,
    );
  }
  const size = dv.getUint32(4);
  if (size < FDT_HEADER_SIZE || size > FDT_MAX_SIZE) {
    throw new Error(`devicetree at ${hex(pa)}: totalsize ${size} is not plausible`);
  }
  return { root: parseFdt(mem.readBytes(pa, size), `devicetree at ${hex(pa)}`), size };
}

/** Parses a blob. `where` names it in error messages. */
export function parseFdt(blob: Uint8Array, where = "devicetree"): FdtNode {
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const fail = (at: number, why: string): never => {
    throw new Error(`${where}: at offset ${hex(at)}: ${why}`);
  };
  const u32 = (at: number): number => {
    if (at < 0 || at + 4 > blob.length) fail(at, "runs past the end of the blob");
    return dv.getUint32(at);
  };
  const cstring = (at: number, limit: number): string => {
    let end = at;
    while (end < limit && blob[end] !== 0) end++;
    if (end >= limit) fail(at, "a string has no NUL before the end of its block");
    return new TextDecoder().decode(blob.subarray(at, end));
  };

  if (u32(0) !== FDT_MAGIC) fail(0, `no magic 0xd00dfeed (found ${hex(u32(0))})`);
  const total = u32(4), structOff = u32(8), stringsOff = u32(12), version = u32(20);
  const stringsSize = u32(32), structSize = u32(36);
  if (total > blob.length) fail(4, `totalsize ${total} is more than the ${blob.length} bytes read`);
  if (version < 16) fail(20, `version ${version}: this reader needs version 16 or later`);
  if (structOff + structSize > total || stringsOff + stringsSize > total) {
    fail(8, "the structure or strings block lies outside the blob");
  }
  const structEnd = structOff + structSize, stringsEnd = stringsOff + stringsSize;

  let root: FdtNode | undefined;
  let current: FdtNode | undefined;
  for (let p = structOff;;) {
    if (p >= structEnd) fail(p, "the structure block ends without FDT_END");
    const token = u32(p);
    p += 4;
    if (token === FDT_BEGIN_NODE) {
      const name = cstring(p, structEnd);
      p += (name.length + 4) & ~3;
      const path = current === undefined
        ? "/"
        : `${current.path === "/" ? "" : current.path}/${name}`;
      const node: FdtNode = { name, path, props: new Map(), children: [], parent: current };
      if (current) current.children.push(node);
      else if (root) fail(p, "a second root node");
      else root = node;
      current = node;
    } else if (token === FDT_END_NODE) {
      if (!current) fail(p - 4, "FDT_END_NODE outside any node");
      current = current!.parent;
    } else if (token === FDT_PROP) {
      if (!current) fail(p - 4, "a property outside any node");
      const len = u32(p), nameoff = u32(p + 4);
      if (p + 8 + len > structEnd) fail(p, `property of ${len} bytes runs past the block`);
      if (stringsOff + nameoff >= stringsEnd) {
        fail(p + 4, `name offset ${nameoff} is outside the strings`);
      }
      const name = cstring(stringsOff + nameoff, stringsEnd);
      current!.props.set(name, blob.slice(p + 8, p + 8 + len));
      p += 8 + ((len + 3) & ~3);
    } else if (token === FDT_NOP) {
      continue;
    } else if (token === FDT_END) {
      if (current) fail(p - 4, `FDT_END inside node ${current.path}`);
      if (!root) fail(p - 4, "no root node");
      return root!;
    } else {
      fail(p - 4, `unknown token ${hex(token)}`);
    }
  }
}

// ---- reading properties ------------------------------------------------------------------

/** A property's value as big-endian u32 cells. */
export function cells(value: Uint8Array): number[] {
  const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
  return Array.from({ length: Math.floor(value.length / 4) }, (_, i) => dv.getUint32(i * 4));
}

/** A property's value as a list of NUL-terminated strings. */
export function strings(value: Uint8Array): string[] {
  const text = new TextDecoder().decode(value);
  return text.split("\0").slice(0, text.endsWith("\0") ? -1 : undefined);
}

/** A u32 property of `node`, or undefined. */
export function u32Prop(node: FdtNode, name: string): number | undefined {
  const v = node.props.get(name);
  return v && v.length >= 4 ? cells(v)[0] : undefined;
}

/** A string property's first string, or undefined. */
export function stringProp(node: FdtNode, name: string): string | undefined {
  const v = node.props.get(name);
  return v ? strings(v)[0] : undefined;
}

/** Whether `node`'s `compatible` list includes `compat`. */
export function isCompatible(node: FdtNode, compat: string): boolean {
  const v = node.props.get("compatible");
  return v !== undefined && strings(v).includes(compat);
}

/** Every node under `root` (root included), depth first. */
export function allNodes(root: FdtNode): FdtNode[] {
  const out: FdtNode[] = [root];
  for (const c of root.children) out.push(...allNodes(c));
  return out;
}

/** The node at `path` ("/soc/serial@10000000"), or undefined. */
export function findPath(root: FdtNode, path: string): FdtNode | undefined {
  return allNodes(root).find((n) => n.path === path);
}

/**
 * `node`'s `reg` as (address, size) pairs, decoded with its parent's #address-cells and
 * #size-cells (DT §2.3.5: 2 and 1 when absent). Throws when a value does not fit a number.
 */
export function reg(node: FdtNode): { base: number; length: number }[] {
  const v = node.props.get("reg");
  if (!v) return [];
  const parent = node.parent;
  const ac = (parent && u32Prop(parent, "#address-cells")) ?? 2;
  const sc = (parent && u32Prop(parent, "#size-cells")) ?? 1;
  const c = cells(v);
  const join = (from: number, n: number) => {
    let x = 0;
    for (let i = 0; i < n; i++) x = x * 2 ** 32 + c[from + i];
    if (!Number.isSafeInteger(x)) throw new Error(`${node.path}: reg value is too large`);
    return x;
  };
  const out = [];
  const stride = ac + sc;
  if (stride === 0) return [];
  for (let i = 0; i + stride <= c.length; i += stride) {
    out.push({ base: join(i, ac), length: join(i + ac, sc) });
  }
  return out;
}
