/**
 * Page tables as a radix tree, for any format that has the shape both of the course's MMUs
 * walk: four levels of 512 eight-byte entries in 4 KiB frames, each level indexed by 9 bits
 * of the virtual address, below them a 12-bit page offset.
 *
 * ```
 *  63      48 47      39 38      30 29      21 20      12 11         0
 * | sign ext | root     | level    | level    | last     | page offset |
 * ```
 *
 * An entry is invalid (nothing there), a pointer to the next table, or a leaf that maps a
 * page: at the last level a 4 KiB page, one level up a 2 MiB page, two up a 1 GiB page.
 * This module is the algorithm (walk, map, unmap, protect, translate, free); how an entry
 * encodes "valid", "leaf", the permissions and the address is the format's ({@link
 * PteFormat}): arch/riscv64/sv48.ts for Sv48, arch/x86_64/paging.ts for x86-64 4-level
 * paging. Each format numbers its levels as its manual does (Sv48 from 0, the x86-64 port
 * from 1), and the messages use those numbers.
 *
 * The higher half (root entries 256 to 511, addresses from 0xffff_8000_0000_0000) is the
 * kernel's. The kernel's root gets a next-level table for each of those 256 entries when it
 * is created, and every user root copies the 256 pointers: so a kernel mapping made later,
 * anywhere in the higher half, is seen by every address space at once.
 *
 * TLB maintenance: removing or changing a present leaf is followed by an invalidation of
 * that page in its address space (through TlbControl; a global leaf through the kernel's
 * ASID 0, which drops it everywhere); adding a leaf where none was needs nothing, because
 * neither MMU caches a translation that faulted.
 *
 * @module
 */

import {
  KERNEL_ASID,
  type Mapping,
  OutOfMemory,
  type PageFlags,
  type PageTableFormat,
  type PageTables,
  type PageTablesDeps,
} from "../components.ts";
import { hex } from "../format.ts";
import { PAGE_SIZE } from "./phys.ts";

/** Levels of tables: the root, two in between, the last. */
export const LEVELS = 4;
/** Entries in a table: 9 bits of the virtual address index it. */
export const ENTRIES_PER_TABLE = 512;
/** The first root entry of the higher half, the kernel's. */
export const KERNEL_ENTRY = 256;

/** A table pointer allows writes (through it, to what the levels below allow). */
export const ALLOW_WRITE = 1;
/** A table pointer allows user-mode accesses. */
export const ALLOW_USER = 2;
/** A table pointer allows instruction fetches. */
export const ALLOW_EXECUTE = 4;
/** A table pointer that restricts nothing. */
export const ALLOW_ALL: number = ALLOW_WRITE | ALLOW_USER | ALLOW_EXECUTE;

/** What a format's messages call its parts. */
export interface PteFormatNames {
  /** The scheme: "Sv48", "4-level paging". */
  readonly scheme: string;
  /** The root table, with its article: "a root page table", "a PML4". */
  readonly root: string;
  /** A table a higher-half root entry points at: "a higher-half PDPT". */
  readonly kernelTable: string;
  /** How an address that passes the canonical check is called: "canonical Sv48". */
  readonly canonical: string;
  /** Said after "is not 2 MiB-aligned" of a physical address: the limit, if any. */
  readonly physicalLimit: string;
  /** The entry at `level`, a leaf or not: "level-1 leaf PTE", "PDE". */
  entry(level: number, leaf: boolean): string;
}

/**
 * One page-table format: how its entries encode what the walk needs. Levels are numbered as
 * the format's manual numbers them, from {@link leafLevel} (the table of 4 KiB pages) up to
 * `leafLevel + 3` (the root).
 */
export interface PteFormat {
  /** The name `PageTables.format` gives. */
  readonly format: PageTableFormat;
  /** The number of the last level, whose leaves map 4 KiB pages. */
  readonly leafLevel: number;
  /** The page sizes a leaf maps, from the last level up: 4 KiB, 2 MiB, 1 GiB. */
  readonly pageSizes: readonly number[];
  /** Physical addresses are below 2^physicalAddressBits. */
  readonly physicalAddressBits: number;
  /** The bits the MMU itself sets in a leaf it uses (accessed, dirty); `protect` keeps them. */
  readonly mmuBits: bigint;
  /** What messages call things. */
  readonly names: PteFormatNames;

  /** Whether the entry is valid (present): the MMU looks at nothing else when it is not. */
  isValid(pte: bigint): boolean;
  /** Whether a valid entry at `level` maps a page, rather than pointing at a table. */
  isLeaf(pte: bigint, level: number): boolean;
  /** Whether a valid entry sets bits the MMU reserves at `level`, so that it faults. */
  isReserved(pte: bigint, level: number): boolean;
  /** Whether a leaf is global: in every address space, not flushed by a switch. */
  isGlobal(pte: bigint): boolean;
  /** The entry that points at the table at `table`; `user` in the lower half. */
  pointer(table: number, user: boolean): bigint;
  /** The leaf at `level` that maps the page at `pa` with `flags`. */
  leaf(pa: number, flags: PageFlags, level: number): bigint;
  /** The table a pointer points at. */
  tableAddress(pte: bigint): number;
  /** The page a leaf at `level` maps. */
  pageAddress(pte: bigint, level: number): number;
  /** The permissions a leaf grants by itself. */
  leafFlags(pte: bigint): PageFlags;
  /** What a pointer lets through to the levels below: ALLOW_* bits. */
  pointerAllows(pte: bigint): number;
}

/** Whether `va` is canonical for 48-bit virtual addresses: bits 63 to 47 all equal. */
export function isCanonical48(va: bigint): boolean {
  const top = BigInt.asUintN(64, va) >> 47n;
  return top === 0n || top === (1n << 17n) - 1n;
}

/** Builds page tables of `format` over `deps` (see the module comment). */
export function createPageTables(format: PteFormat, deps: PageTablesDeps): PageTables {
  const { mem, pmm, tlb } = deps;
  const LEAF = format.leafLevel, ROOT = format.leafLevel + LEVELS - 1;
  const names = format.names;

  /** The size of the page a leaf at `level` maps (or the span of a root entry). */
  const levelSize = (level: number) => 2 ** (12 + 9 * (level - LEAF));
  const sizeName = (level: number) => ["4 KiB", "2 MiB", "1 GiB", "512 GiB"][level - LEAF];
  /** The index of `va`'s entry in a table at `level`. */
  const index = (va: bigint, level: number) =>
    Number((va >> BigInt(12 + 9 * (level - LEAF))) & 511n);

  const newTable = (what: string): number => {
    const pa = pmm.allocate(1);
    if (pa === undefined) throw new OutOfMemory(what);
    mem.zero(pa, PAGE_SIZE);
    return pa;
  };
  const read = (table: number, i: number) => mem.read(table + i * 8, 8);
  const write = (table: number, i: number, pte: bigint) => mem.write(table + i * 8, 8, pte);

  /** Checks that [va, va + size) is aligned to `pageSize`, canonical, in one half. */
  const checkRange = (va: bigint, size: number, pageSize: number, what: string) => {
    if (!Number.isSafeInteger(size) || size <= 0 || size % pageSize !== 0) {
      throw new RangeError(`${what}: size ${size} is not a positive multiple of ${pageSize}`);
    }
    const v = BigInt.asUintN(64, va);
    if (v % BigInt(pageSize) !== 0n) {
      throw new RangeError(`${what}: ${hex(v)} is not aligned to ${pageSize}`);
    }
    const last = v + BigInt(size) - 1n;
    if (!isCanonical48(v) || !isCanonical48(last) || (v >> 47n) !== (last >> 47n)) {
      throw new RangeError(
        `${what}: [${hex(v)}, ${hex(last + 1n)}) is not ${names.canonical} (bits 63..47 must ` +
          `all equal bit 47, and a range cannot cross from the user half into the kernel half)`,
      );
    }
  };

  /**
   * The table at `level` that holds `va`'s entry, creating the tables above it when
   * `create`; undefined when one is missing (and not created). Throws a RangeError when a
   * leaf above `level` already maps `va`.
   */
  const tableFor = (root: number, va: bigint, level: number, create: boolean) => {
    let table = root;
    const user = va < 1n << 47n;
    for (let l = ROOT; l > level; l--) {
      const i = index(va, l);
      const pte = read(table, i);
      if (!format.isValid(pte)) {
        if (!create) return undefined;
        const next = newTable(`a level-${l - 1} page table for ${hex(va)}`);
        write(table, i, format.pointer(next, user));
        table = next;
      } else if (format.isLeaf(pte, l)) {
        throw new RangeError(
          `${hex(va)} is already mapped by a ${sizeName(l)} page (${names.entry(l, true)} ` +
            `${hex(pte)} at ${hex(table + i * 8)})`,
        );
      } else table = format.tableAddress(pte);
    }
    return table;
  };

  /**
   * Finds the leaf that maps `va` as the MMU would: its table, index and level, and what
   * the pointers above it allow; `pte` undefined (and `level` the level of the hole) when
   * nothing maps it.
   */
  const findLeaf = (root: number, va: bigint) => {
    let table = root, allowed = ALLOW_ALL;
    for (let level = ROOT; level >= LEAF; level--) {
      const i = index(va, level);
      const pte = read(table, i);
      if (!format.isValid(pte) || format.isReserved(pte, level)) {
        return { table, i, level, pte: undefined, allowed }; // the MMU's page fault
      }
      if (format.isLeaf(pte, level)) return { table, i, level, pte, allowed };
      if (level === LEAF) return { table, i, level, pte: undefined, allowed }; // a pointer here
      allowed &= format.pointerAllows(pte);
      table = format.tableAddress(pte);
    }
    throw new Error("unreachable");
  };

  /** Calls `leaf` for every leaf in [va, va + size), stepping over holes; returns the count. */
  const eachLeaf = (
    root: number,
    va: bigint,
    size: number,
    what: string,
    leaf: (table: number, i: number, pte: bigint, at: bigint, level: number) => boolean,
  ): number => {
    checkRange(va, size, PAGE_SIZE, what);
    va = BigInt.asUintN(64, va);
    const end = va + BigInt(size);
    let n = 0;
    for (let at = va; at < end;) {
      const f = findLeaf(root, at);
      const step = BigInt(levelSize(f.level));
      const base = at - (at % step);
      if (f.pte !== undefined) {
        if (base < va || base + step > end) {
          throw new RangeError(
            `${what} [${hex(va)}, ${hex(end)}) covers only part of the ${sizeName(f.level)} ` +
              `page at ${hex(base)}: a large page is changed whole or not at all`,
          );
        }
        if (leaf(f.table, f.i, f.pte, base, f.level)) n++;
      }
      at = base + step;
    }
    return n;
  };

  /** Frees the table at `level` and every table below it (not the pages they map). */
  const freeSubtree = (table: number, level: number) => {
    if (level > LEAF) {
      for (let i = 0; i < ENTRIES_PER_TABLE; i++) {
        const pte = read(table, i);
        if (format.isValid(pte) && !format.isLeaf(pte, level)) {
          freeSubtree(format.tableAddress(pte), level - 1);
        }
      }
    }
    pmm.free(table, 1);
  };

  /** The address space to invalidate a leaf in: a global one's is the kernel's, everywhere. */
  const flushAsid = (pte: bigint, asid: number) => format.isGlobal(pte) ? KERNEL_ASID : asid;

  return {
    format: format.format,
    pageSizes: format.pageSizes,

    createRoot(kernelFrom?: number): number {
      const root = newTable(names.root);
      if (kernelFrom !== undefined) {
        for (let i = KERNEL_ENTRY; i < ENTRIES_PER_TABLE; i++) write(root, i, read(kernelFrom, i));
        return root;
      }
      for (let i = KERNEL_ENTRY; i < ENTRIES_PER_TABLE; i++) {
        let table: number;
        try {
          table = newTable(names.kernelTable);
        } catch (e) {
          // Out of frames halfway: give back the tables made so far and the root, so a
          // refused root costs nothing.
          for (let j = KERNEL_ENTRY; j < i; j++) pmm.free(format.tableAddress(read(root, j)));
          pmm.free(root);
          throw e;
        }
        write(root, i, format.pointer(table, false));
      }
      return root;
    },

    map(root, asid, va, pa, size, flags, pageSize = PAGE_SIZE): void {
      const level = format.pageSizes.indexOf(pageSize) + LEAF;
      if (level < LEAF) {
        throw new RangeError(
          `page size ${pageSize}: ${names.scheme} maps 4 KiB, 2 MiB and 1 GiB pages`,
        );
      }
      checkRange(va, size, pageSize, "map");
      if (
        !Number.isSafeInteger(pa) || pa < 0 || pa % pageSize !== 0 ||
        pa + size > 2 ** format.physicalAddressBits
      ) {
        throw new RangeError(
          `map: physical address ${hex(pa)} is not ${sizeName(level)}-aligned` +
            names.physicalLimit,
        );
      }
      void asid; // adding a leaf where none was needs no TLB maintenance
      for (let off = 0; off < size; off += pageSize) {
        const at = BigInt.asUintN(64, va) + BigInt(off);
        const table = tableFor(root, at, level, true)!;
        const i = index(at, level);
        const old = read(table, i);
        if (format.isValid(old)) {
          throw new RangeError(
            `${hex(at)} is already mapped (${names.entry(level, false)} ${hex(old)} at ${
              hex(table + i * 8)
            })`,
          );
        }
        write(table, i, format.leaf(pa + off, flags, level));
      }
    },

    unmap(root, asid, va, size): number {
      return eachLeaf(root, va, size, "unmap", (table, i, pte, at) => {
        write(table, i, 0n);
        tlb.flushPage(at, flushAsid(pte, asid));
        return true;
      });
    },

    protect(root, asid, va, size, flags): number {
      const kept = format.mmuBits;
      return eachLeaf(root, va, size, "protect", (table, i, pte, at, level) => {
        const next = format.leaf(format.pageAddress(pte, level), flags, level) | (pte & kept);
        if ((next & ~kept) === (pte & ~kept)) return false;
        write(table, i, next);
        tlb.flushPage(at, flags.global ? KERNEL_ASID : flushAsid(pte, asid));
        return true;
      });
    },

    translate(root: number, va: bigint): Mapping | undefined {
      if (!isCanonical48(va)) return undefined;
      const v = BigInt.asUintN(64, va);
      const f = findLeaf(root, v);
      if (f.pte === undefined) return undefined;
      const pageSize = levelSize(f.level);
      const base = format.pageAddress(f.pte, f.level);
      if (base % pageSize !== 0) return undefined; // a misaligned large page: the MMU faults
      const flags = format.leafFlags(f.pte);
      flags.write &&= (f.allowed & ALLOW_WRITE) !== 0;
      flags.user &&= (f.allowed & ALLOW_USER) !== 0;
      flags.execute &&= (f.allowed & ALLOW_EXECUTE) !== 0;
      return { pa: base + Number(v % BigInt(pageSize)), pageSize, flags };
    },

    destroyRoot(root: number): void {
      for (let i = 0; i < KERNEL_ENTRY; i++) {
        const pte = read(root, i);
        if (format.isValid(pte) && !format.isLeaf(pte, ROOT)) {
          freeSubtree(format.tableAddress(pte), ROOT - 1);
        }
      }
      pmm.free(root, 1);
    },
  };
}
