/**
 * The reference page tables for x86-64 (lesson 03): 4-level paging, as the Intel SDM
 * defines it (Vol. 3A §4.5, "4-Level Paging and 5-Level Paging", Tables 4-15 to 4-20), in
 * frames of RAM that the CPU's MMU walks from CR3.
 *
 * ```
 *  47     39 38     30 29     21 20     12 11         0     a linear address
 * | PML4    | PDPT    | PD      | PT      | page offset |
 *
 *  63 62   52 51        12 11  9 8 7 6 5 4 3 2 1 0           an entry
 * |XD| avail |  address   |avail|G|PS|D|A|PCD|PWT|U/S|R/W|P|
 * ```
 *
 * An entry with P = 1 in the PML4 (level 4) always points at a page-directory-pointer
 * table. One in a PDPT (level 3) or page directory (level 2) maps a 1 GiB or 2 MiB page
 * when PS = 1, and otherwise points at the next table; one in a page table (level 1) maps
 * a 4 KiB page. The MMU combines the permissions of every level it passes (§4.6): a write
 * needs R/W = 1 everywhere, a user access U/S = 1 everywhere, and a fetch XD = 0 everywhere
 * (XD is bit 63, honoured with EFER.NXE = 1). So the tables that point at other tables are
 * permissive (R/W = 1, and U/S = 1 in the user half) and each leaf says what is allowed.
 *
 * Leaves get P, R/W when writable, U/S when user, G when global (with CR4.PGE), XD unless
 * executable, and PCD | PWT for device memory (PAT entry 3 of the power-on PAT: uncached,
 * §11.12.4). The MMU sets the accessed and dirty flags itself as it uses a leaf (§4.8), so
 * they start clear, and `protect` keeps what the MMU recorded.
 *
 * The higher half (PML4 entries 256 to 511, addresses from 0xffff_8000_0000_0000) is the
 * kernel's. The kernel's root gets a PDPT for each of those 256 entries when it is created,
 * and every user root copies the 256 pointers: a kernel mapping made later, anywhere in the
 * higher half, is seen by every address space at once.
 *
 * TLB maintenance follows §4.10.4: removing or changing a present leaf is followed by an
 * invalidation of that page in its address space (INVLPG or INVPCID, through TlbControl;
 * global leaves through the kernel's ASID 0, which drops them everywhere); adding a leaf
 * where none was needs nothing, because the CPU caches no translation that faulted (§4.10.3).
 *
 * @module
 */

import {
  KERNEL_ASID,
  type Mapping,
  OutOfMemory,
  type PageFlags,
  type PageTables,
  type PageTablesDeps,
} from "../../kernel/components.ts";
import { hex } from "../../kernel/format.ts";
import { PAGE_SIZE } from "../../kernel/mm/phys.ts";
import {
  MAXPHYADDR,
  PAGE_SIZE_1G,
  PAGE_SIZE_2M,
  PTE_A,
  PTE_D,
  PTE_G,
  PTE_NX,
  PTE_P,
  PTE_PCD,
  PTE_PS,
  PTE_PWT,
  PTE_U,
  PTE_W,
} from "../../emulator/x86_64/regs.ts";

/** 4-level paging: the PML4 is level 4, a page table level 1. */
export const X86_LEVELS = 4;
/** Entries per table. */
export const ENTRIES_PER_TABLE = 512;
/** The first PML4 entry of the higher half. */
export const X86_KERNEL_ENTRY = 256;
/** The page sizes a leaf at level 1, 2 and 3 maps. */
export const X86_PAGE_SIZES: readonly number[] = [PAGE_SIZE, PAGE_SIZE_2M, PAGE_SIZE_1G];

/** The SDM's name of an entry at each level (index = level). */
export const ENTRY_NAMES: readonly string[] = ["", "PTE", "PDE", "PDPTE", "PML4E"];

/** Bits 51:12 of an entry that points at a table or maps a 4 KiB page. */
const ADDRESS_MASK = ((1n << 52n) - 1n) & ~0xfffn;
/** The flags the MMU writes (§4.8): kept by `protect`, ignored when comparing leaves. */
const MMU_FLAGS = BigInt(PTE_A | PTE_D);

/** The size of the pages a leaf at `level` maps. */
function levelSize(level: number): number {
  return X86_PAGE_SIZES[level - 1];
}

/** The index into the level-`level` table of `va`. */
function tableIndex(va: bigint, level: number): number {
  return Number((va >> BigInt(12 + 9 * (level - 1))) & 511n);
}

/** The table an entry that is not a leaf points at. */
function tableAddress(pte: bigint): number {
  return Number(pte & ADDRESS_MASK);
}

/** The page a leaf at `level` maps (a large page's PAT bit 12 is not part of it). */
function pageAddress(pte: bigint, level: number): number {
  return Number(pte & ADDRESS_MASK & ~BigInt(levelSize(level) - 1));
}

/**
 * Whether an entry sets bits the MMU reserves at `level` (§4.5, Tables 4-15 to 4-20), which
 * makes it fault (#PF with RSVD) however present it is: address bits at or above
 * MAXPHYADDR, PS in a PML4E, and the address bits below a large page's alignment (bit 12
 * is the large page's PAT bit, not an address bit).
 */
function reservedBits(pte: bigint, level: number): boolean {
  if ((pte & ADDRESS_MASK) >> BigInt(MAXPHYADDR)) return true;
  if (level === 4) return (pte & BigInt(PTE_PS)) !== 0n;
  if (!isLeaf(pte, level) || level === 1) return false;
  return (pte & BigInt(levelSize(level) - 1) & ~0x1fffn) !== 0n;
}

function isPresent(pte: bigint): boolean {
  return (pte & BigInt(PTE_P)) !== 0n;
}

/** Whether a present entry at `level` maps a page (rather than pointing at a table). */
function isLeaf(pte: bigint, level: number): boolean {
  return level === 1 || ((level === 2 || level === 3) && (pte & BigInt(PTE_PS)) !== 0n);
}

/** The leaf entry that maps `pa` at `level` with `flags` (PS for 2 MiB and 1 GiB pages). */
export function leafEntry(pa: number, flags: PageFlags, level = 1): bigint {
  let bits = PTE_P;
  if (flags.write) bits |= PTE_W;
  if (flags.user) bits |= PTE_U;
  if (flags.global) bits |= PTE_G;
  if (flags.device) bits |= PTE_PCD | PTE_PWT;
  if (level > 1) bits |= PTE_PS;
  const entry = BigInt(pa) | BigInt(bits);
  return flags.execute ? entry : entry | PTE_NX;
}

/** The entry that points at the table at `table`; `user` for the lower half. */
export function tableEntry(table: number, user: boolean): bigint {
  return BigInt(table) | BigInt(PTE_P | PTE_W | (user ? PTE_U : 0));
}

/** Whether `va` is canonical for 48-bit linear addresses (bits 63 to 47 all equal). */
export function isCanonical48(va: bigint): boolean {
  const top = BigInt.asUintN(64, va) >> 47n;
  return top === 0n || top === (1n << 17n) - 1n;
}

/** Builds x86-64 4-level page tables over `deps` (see the module comment). */
export function createX86PageTables({ mem, pmm, tlb }: PageTablesDeps): PageTables {
  const newTable = (what: string): number => {
    const pa = pmm.allocate(1);
    if (pa === undefined) throw new OutOfMemory(what);
    mem.zero(pa, PAGE_SIZE);
    return pa;
  };
  const read = (table: number, i: number) => mem.read(table + i * 8, 8);
  const write = (table: number, i: number, pte: bigint) => mem.write(table + i * 8, 8, pte);

  /**
   * The table at `level` that holds `va`'s entry, creating the tables above it when
   * `create`; undefined when one is missing (and not created). Throws a RangeError when a
   * large page above `level` already maps `va`.
   */
  const tableFor = (root: number, va: bigint, level: number, create: boolean) => {
    let table = root;
    const user = va < 1n << 47n;
    for (let l = X86_LEVELS; l > level; l--) {
      const i = tableIndex(va, l);
      const pte = read(table, i);
      if (!isPresent(pte)) {
        if (!create) return undefined;
        const next = newTable(`a level-${l - 1} page table for ${hex(va)}`);
        write(table, i, tableEntry(next, user));
        table = next;
      } else if (isLeaf(pte, l)) {
        throw new RangeError(
          `${hex(va)} is already mapped by a ${sizeName(l)} page (${ENTRY_NAMES[l]} ` +
            `${hex(pte)} at ${hex(table + i * 8)})`,
        );
      } else table = tableAddress(pte);
    }
    return table;
  };

  /**
   * Finds the leaf that maps `va` as the MMU would: its table, index, level and the
   * permissions of every level combined; `pte` undefined (and `level` the level of the
   * hole) when nothing maps it.
   */
  const findLeaf = (root: number, va: bigint) => {
    let table = root;
    let write = true, user = true, execute = true;
    for (let level = X86_LEVELS; level >= 1; level--) {
      const i = tableIndex(va, level);
      const pte = read(table, i);
      if (!isPresent(pte) || reservedBits(pte, level)) {
        return { table, i, level, pte: undefined, write, user, execute }; // the MMU's #PF
      }
      write &&= (pte & BigInt(PTE_W)) !== 0n;
      user &&= (pte & BigInt(PTE_U)) !== 0n;
      execute &&= (pte & PTE_NX) === 0n;
      if (isLeaf(pte, level)) return { table, i, level, pte, write, user, execute };
      table = tableAddress(pte);
    }
    throw new Error("unreachable: level 1 entries are always leaves");
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
      const step = BigInt(f.level === 4 ? 2 ** 39 : levelSize(f.level));
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
    if (level > 1) {
      for (let i = 0; i < ENTRIES_PER_TABLE; i++) {
        const pte = read(table, i);
        if (isPresent(pte) && !isLeaf(pte, level)) {
          freeSubtree(tableAddress(pte), level - 1);
        }
      }
    }
    pmm.free(table, 1);
  };

  return {
    format: "x86_64",
    pageSizes: X86_PAGE_SIZES,

    createRoot(kernelFrom?: number): number {
      const root = newTable("a PML4");
      for (let i = X86_KERNEL_ENTRY; i < ENTRIES_PER_TABLE; i++) {
        if (kernelFrom === undefined) {
          write(root, i, tableEntry(newTable("a higher-half PDPT"), false));
        } else write(root, i, read(kernelFrom, i));
      }
      return root;
    },

    map(root, asid, va, pa, size, flags, pageSize = PAGE_SIZE): void {
      const level = X86_PAGE_SIZES.indexOf(pageSize) + 1;
      if (level < 1) {
        throw new RangeError(
          `page size ${pageSize}: 4-level paging maps 4 KiB, 2 MiB and 1 GiB pages`,
        );
      }
      checkRange(va, size, pageSize, "map");
      if (
        !Number.isSafeInteger(pa) || pa < 0 || pa % pageSize !== 0 ||
        pa + size > 2 ** MAXPHYADDR
      ) {
        throw new RangeError(
          `map: physical address ${hex(pa)} is not ${sizeName(level)}-aligned below ` +
            `2^${MAXPHYADDR} (MAXPHYADDR)`,
        );
      }
      void asid; // adding a leaf where none was needs no TLB maintenance
      for (let off = 0; off < size; off += pageSize) {
        const at = BigInt.asUintN(64, va) + BigInt(off);
        const table = tableFor(root, at, level, true)!;
        const i = tableIndex(at, level);
        const old = read(table, i);
        if (isPresent(old)) {
          throw new RangeError(
            `${hex(at)} is already mapped (${ENTRY_NAMES[level]} ${hex(old)} at ${
              hex(table + i * 8)
            })`,
          );
        }
        write(table, i, leafEntry(pa + off, flags, level));
      }
    },

    unmap(root, asid, va, size): number {
      return eachLeaf(root, va, size, "unmap", (table, i, pte, at) => {
        write(table, i, 0n);
        tlb.flushPage(at, pte & BigInt(PTE_G) ? KERNEL_ASID : asid);
        return true;
      });
    },

    protect(root, asid, va, size, flags): number {
      return eachLeaf(root, va, size, "protect", (table, i, pte, at, level) => {
        const next = leafEntry(pageAddress(pte, level), flags, level) | (pte & MMU_FLAGS);
        if ((next & ~MMU_FLAGS) === (pte & ~MMU_FLAGS)) return false;
        write(table, i, next);
        tlb.flushPage(at, flags.global || (pte & BigInt(PTE_G)) ? KERNEL_ASID : asid);
        return true;
      });
    },

    translate(root: number, va: bigint): Mapping | undefined {
      if (!isCanonical48(va)) return undefined;
      const v = BigInt.asUintN(64, va);
      const f = findLeaf(root, v);
      if (f.pte === undefined) return undefined;
      const pageSize = levelSize(f.level);
      const base = pageAddress(f.pte, f.level);
      return {
        pa: base + Number(v % BigInt(pageSize)),
        pageSize,
        flags: {
          write: f.write,
          execute: f.execute,
          user: f.user,
          global: (f.pte & BigInt(PTE_G)) !== 0n,
          device: (f.pte & BigInt(PTE_PCD)) !== 0n,
        },
      };
    },

    destroyRoot(root: number): void {
      for (let i = 0; i < X86_KERNEL_ENTRY; i++) {
        const pte = read(root, i);
        if (isPresent(pte)) freeSubtree(tableAddress(pte), 3);
      }
      pmm.free(root, 1);
    },
  };
}

/** Checks that [va, va + size) is aligned to `pageSize`, canonical, in one half. */
function checkRange(va: bigint, size: number, pageSize: number, what: string): void {
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
      `${what}: [${hex(v)}, ${hex(last + 1n)}) is not canonical (bits 63..47 must all equal ` +
        `bit 47, and a range cannot cross from the user half into the kernel half)`,
    );
  }
}

function sizeName(level: number): string {
  return ["", "4 KiB", "2 MiB", "1 GiB", "512 GiB"][level];
}
