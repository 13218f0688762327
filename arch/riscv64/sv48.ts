/**
 * The reference page tables for Sv48 (lesson 03): four levels of 512 eight-byte PTEs, as
 * the privileged specification defines them (§10.3.1 "Addressing and Memory Protection",
 * §10.5 "Sv48"), in frames of RAM that the hart's MMU walks.
 *
 * ```
 *  47      39 38      30 29      21 20      12 11         0     a virtual address
 * | VPN[3]   | VPN[2]   | VPN[1]   | VPN[0]   | page offset |
 *
 *  63   54 53                                10 9 8 7 6 5 4 3 2 1 0     a PTE
 * | 0     | PPN                                |RSW|D|A|G|U|X|W|R|V|
 * ```
 *
 * A PTE with V = 1 and R = W = X = 0 points at the next level; one with R or X set is a leaf,
 * at level 0 (a 4 KiB page), 1 (a 2 MiB megapage) or 2 (a 1 GiB gigapage). Leaves carry A,
 * and D when writable, from the start: this hart follows Svade and faults on a leaf whose A
 * (or, for a store, D) is clear, rather than setting them itself.
 *
 * The higher half (VPN[3] = 256 to 511, addresses from 0xffff_8000_0000_0000) is the
 * kernel's. The kernel's root gets a next-level table for each of those 256 entries when it
 * is created, and every user root copies the 256 pointers: so a kernel mapping made later,
 * anywhere in the higher half, is seen by every address space at once.
 *
 * TLB maintenance follows §10.2.1: removing or changing a present leaf is followed by
 * `sfence.vma va, asid` (through TlbControl); adding a leaf where none was needs no fence,
 * because the hart caches no invalid entries.
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
  PTE_A,
  PTE_D,
  PTE_G,
  PTE_PPN_SHIFT,
  PTE_R,
  PTE_U,
  PTE_V,
  PTE_W,
  PTE_X,
} from "../../emulator/riscv64/csr.ts";

/** Sv48 has four levels; the root is level 3. */
export const SV48_LEVELS = 4;
/** PTEs per table. */
export const PTES_PER_TABLE = 512;
/** The first root entry of the higher half. */
export const SV48_KERNEL_ENTRY = 256;
/** The page sizes a leaf at level 0, 1 and 2 maps. */
export const SV48_PAGE_SIZES: readonly number[] = [PAGE_SIZE, 2 ** 21, 2 ** 30];

/** Virtual addresses are 48 bits, sign-extended to 64 (§10.5). */
const VA_BITS = 48n;
/** PTE bits 53:10 hold the PPN. */
const PPN_MASK = (1n << 44n) - 1n;

/** The size of the pages a leaf at `level` maps. */
function levelSize(level: number): number {
  return 2 ** (12 + 9 * level);
}

/** VPN[level] of `va`. */
function vpn(va: bigint, level: number): number {
  return Number((va >> BigInt(12 + 9 * level)) & 511n);
}

/** The table (or page) a PTE points at. */
function ptePa(pte: bigint): number {
  return Number((pte >> PTE_PPN_SHIFT) & PPN_MASK) * PAGE_SIZE;
}

function isLeaf(pte: bigint): boolean {
  return (pte & BigInt(PTE_R | PTE_X)) !== 0n;
}

/** The leaf PTE for `pa` with `flags`: always R, A; W with D; X; U; G. */
export function leafPte(pa: number, flags: PageFlags): bigint {
  let bits = PTE_V | PTE_R | PTE_A;
  if (flags.write) bits |= PTE_W | PTE_D;
  if (flags.execute) bits |= PTE_X;
  if (flags.user) bits |= PTE_U;
  if (flags.global) bits |= PTE_G;
  return (BigInt(pa / PAGE_SIZE) << PTE_PPN_SHIFT) | BigInt(bits);
}

/** The PageFlags a leaf PTE grants. */
export function pteFlags(pte: bigint): PageFlags {
  const b = Number(pte & 0xffn);
  return {
    write: (b & PTE_W) !== 0,
    execute: (b & PTE_X) !== 0,
    user: (b & PTE_U) !== 0,
    global: (b & PTE_G) !== 0,
    device: false,
  };
}

/** Whether `va` is a canonical Sv48 address (bits 63 to 47 all equal). */
export function isCanonicalSv48(va: bigint): boolean {
  const top = BigInt.asUintN(64, va) >> (VA_BITS - 1n);
  return top === 0n || top === (1n << (65n - VA_BITS)) - 1n;
}

/** Builds Sv48 page tables over `deps` (see the module comment). */
export function createSv48PageTables({ mem, pmm, tlb }: PageTablesDeps): PageTables {
  const newTable = (what: string): number => {
    const pa = pmm.allocate(1);
    if (pa === undefined) throw new OutOfMemory(what);
    mem.zero(pa, PAGE_SIZE);
    return pa;
  };
  const read = (table: number, i: number) => mem.read(table + i * 8, 8);
  const write = (table: number, i: number, pte: bigint) => mem.write(table + i * 8, 8, pte);
  const pointer = (table: number) => (BigInt(table / PAGE_SIZE) << PTE_PPN_SHIFT) | BigInt(PTE_V);

  /**
   * The table at `level` that holds `va`'s entry, creating the tables above it when
   * `create`; undefined when one is missing (and not created). Throws a RangeError when a
   * leaf above `level` already maps `va`.
   */
  const tableFor = (root: number, va: bigint, level: number, create: boolean) => {
    let table = root;
    for (let l = SV48_LEVELS - 1; l > level; l--) {
      const i = vpn(va, l);
      const pte = read(table, i);
      if ((pte & BigInt(PTE_V)) === 0n) {
        if (!create) return undefined;
        const next = newTable(`a level-${l - 1} page table for ${hex(va)}`);
        write(table, i, pointer(next));
        table = next;
      } else if (isLeaf(pte)) {
        throw new RangeError(
          `${hex(va)} is already mapped by a ${sizeName(l)} page (level-${l} leaf PTE ` +
            `${hex(pte)} at ${hex(table + i * 8)})`,
        );
      } else table = ptePa(pte);
    }
    return table;
  };

  /** Finds the leaf that maps `va`: its table, index and level, or the level of the hole. */
  const findLeaf = (root: number, va: bigint) => {
    let table = root;
    for (let level = SV48_LEVELS - 1; level >= 0; level--) {
      const i = vpn(va, level);
      const pte = read(table, i);
      if ((pte & BigInt(PTE_V)) === 0n) return { table, i, level, pte: undefined };
      if (isLeaf(pte)) return { table, i, level, pte };
      if (level === 0) return { table, i, level, pte: undefined }; // a pointer at level 0
      table = ptePa(pte);
    }
    throw new Error("unreachable");
  };

  /** Calls `leaf` for every leaf in [va, va + size), stepping over holes; returns the count. */
  const eachLeaf = (
    root: number,
    va: bigint,
    size: number,
    what: string,
    leaf: (table: number, i: number, pte: bigint, at: bigint) => boolean,
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
        if (leaf(f.table, f.i, f.pte, base)) n++;
      }
      at = base + step;
    }
    return n;
  };

  const freeSubtree = (table: number, level: number) => {
    if (level > 0) {
      for (let i = 0; i < PTES_PER_TABLE; i++) {
        const pte = read(table, i);
        if ((pte & BigInt(PTE_V)) !== 0n && !isLeaf(pte)) freeSubtree(ptePa(pte), level - 1);
      }
    }
    pmm.free(table, 1);
  };

  return {
    format: "sv48",
    pageSizes: SV48_PAGE_SIZES,

    createRoot(kernelFrom?: number): number {
      const root = newTable("a root page table");
      for (let i = SV48_KERNEL_ENTRY; i < PTES_PER_TABLE; i++) {
        if (kernelFrom === undefined) {
          write(root, i, pointer(newTable("a higher-half page table")));
        } else write(root, i, read(kernelFrom, i));
      }
      return root;
    },

    map(root, asid, va, pa, size, flags, pageSize = PAGE_SIZE): void {
      const level = SV48_PAGE_SIZES.indexOf(pageSize);
      if (level < 0) {
        throw new RangeError(`page size ${pageSize}: Sv48 maps 4 KiB, 2 MiB and 1 GiB pages`);
      }
      checkRange(va, size, pageSize, "map");
      if (!Number.isSafeInteger(pa) || pa < 0 || pa % pageSize !== 0 || pa + size > 2 ** 56) {
        throw new RangeError(`map: physical address ${hex(pa)} is not ${sizeName(level)}-aligned`);
      }
      void asid; // adding a leaf where none was needs no TLB maintenance
      for (let off = 0; off < size; off += pageSize) {
        const at = BigInt.asUintN(64, va) + BigInt(off);
        const table = tableFor(root, at, level, true)!;
        const i = vpn(at, level);
        const old = read(table, i);
        if ((old & BigInt(PTE_V)) !== 0n) {
          throw new RangeError(
            `${hex(at)} is already mapped (level-${level} PTE ${hex(old)} at ${
              hex(table + i * 8)
            })`,
          );
        }
        write(table, i, leafPte(pa + off, flags));
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
      return eachLeaf(root, va, size, "protect", (table, i, pte, at) => {
        const next = leafPte(ptePa(pte), flags);
        if (next === pte) return false;
        write(table, i, next);
        tlb.flushPage(at, flags.global || (pte & BigInt(PTE_G)) ? KERNEL_ASID : asid);
        return true;
      });
    },

    translate(root: number, va: bigint): Mapping | undefined {
      if (!isCanonicalSv48(va)) return undefined;
      const f = findLeaf(root, BigInt.asUintN(64, va));
      if (f.pte === undefined) return undefined;
      const pageSize = levelSize(f.level);
      const base = ptePa(f.pte);
      if (base % pageSize !== 0) return undefined; // a misaligned superpage: the MMU faults
      return {
        pa: base + Number(BigInt.asUintN(64, va) % BigInt(pageSize)),
        pageSize,
        flags: pteFlags(f.pte),
      };
    },

    destroyRoot(root: number): void {
      for (let i = 0; i < SV48_KERNEL_ENTRY; i++) {
        const pte = read(root, i);
        if ((pte & BigInt(PTE_V)) !== 0n && !isLeaf(pte)) freeSubtree(ptePa(pte), 2);
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
  if (!isCanonicalSv48(v) || !isCanonicalSv48(last) || (v >> 47n) !== (last >> 47n)) {
    throw new RangeError(
      `${what}: [${hex(v)}, ${hex(last + 1n)}) is not canonical Sv48 (bits 63..47 must all ` +
        `equal bit 47, and a range cannot cross from the user half into the kernel half)`,
    );
  }
}

function sizeName(level: number): string {
  return ["4 KiB", "2 MiB", "1 GiB", "512 GiB"][level];
}
