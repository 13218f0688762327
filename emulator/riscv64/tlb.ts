/**
 * The translation lookaside buffer: a cache of leaf PTEs, one per hart and per kind of
 * access (the hart keeps one for instruction fetch and one for loads and stores).
 *
 * ## Structure
 *
 * Direct-mapped: entry `(va >>> 12) & (TLB_ENTRIES - 1)` (the low bits of the virtual page
 * number) holds the translation of one 4 KiB virtual page, so a lookup is one index and
 * two compares, and nothing is allocated. A
 * superpage is cached one 4 KiB piece at a time; each piece remembers its leaf's level so
 * that `sfence.vma` by address removes every piece of the superpage (§10.2.1: the fence
 * covers "the leaf page table entry" mapping the address, wherever it is cached).
 *
 * Each entry holds what a hit needs without walking again:
 *
 * - `page`: the virtual address of the page (signed, a multiple of 4096, which the hot
 *   path computes as `va - (va & 4095)` without dividing); NaN marks an empty entry, and
 *   NaN compares unequal to everything, so an empty entry never hits;
 * - `asid`: the address-space identifier of the satp the entry was filled under,
 *   {@link TLB_GLOBAL} for a global mapping (G set on the leaf or on any table above it),
 *   or {@link TLB_BARE} for the identity "translations" of satp.MODE = Bare;
 * - `perm`: the leaf PTE's bits 7:0 (V R W X U G A D), plus {@link TLB_IO} when the page is
 *   not ordinary RAM, so the hot path can test the permission bits and "is RAM" at once;
 * - `delta`: for RAM, the RAM-buffer offset of the page minus its virtual address, so the
 *   buffer offset of `va` is `va + delta` (NaN for other pages);
 * - `paDelta`: the physical address of the page minus its virtual address.
 *
 * ## Staleness
 *
 * Entries are never refreshed from memory: a PTE rewritten in RAM goes on being used
 * until `sfence.vma` removes the entry (or a conflicting fill evicts it), exactly the
 * stale-translation behaviour §10.2.1 permits and that kernels must guard against.
 * Writing satp does not flush: entries of other ASIDs simply stop matching.
 *
 * ASIDLEN is 16 ({@link ASIDLEN}): every satp.ASID value is distinct.
 *
 * @module
 */

/** Entries per TLB (a power of two): 1024 entries map 4 MiB with 4 KiB pages. */
export const TLB_ENTRIES = 1024;
/** Mask that selects the entry for a VPN. */
export const TLB_MASK = TLB_ENTRIES - 1;
/** Implemented ASID bits (§10.1.11 ASIDLEN): all 16 bits of satp.ASID. */
export const ASIDLEN = 16;
/** `asid` of an entry that matches every address space (a G mapping). */
export const TLB_GLOBAL = -1;
/** `asid` of an identity entry filled while satp.MODE was Bare. */
export const TLB_BARE = -2;
/** Flag in `perm`: the page is a device (or RAM out of the fast path's reach). */
export const TLB_IO = 1 << 8;

/** One hart's TLB for one kind of access. */
export class Tlb {
  /** Virtual address of each entry's page, NaN when empty. */
  readonly page: Float64Array = new Float64Array(TLB_ENTRIES).fill(NaN);
  /** ASID of each entry, or TLB_GLOBAL, or TLB_BARE. */
  readonly asid: Int32Array = new Int32Array(TLB_ENTRIES);
  /** Leaf PTE bits 7:0, plus TLB_IO. */
  readonly perm: Uint16Array = new Uint16Array(TLB_ENTRIES);
  /** RAM-buffer offset minus virtual address, per entry (NaN for TLB_IO pages). */
  readonly delta: Float64Array = new Float64Array(TLB_ENTRIES);
  /** Physical address minus virtual address, per entry. */
  readonly paDelta: Float64Array = new Float64Array(TLB_ENTRIES);
  /** The leaf's level: 0 for a 4 KiB page, 1 for 2 MiB, 2 for 1 GiB, 3 for 512 GiB. */
  readonly level: Uint8Array = new Uint8Array(TLB_ENTRIES);

  /**
   * The index of the entry that translates the page at `page` in the address space
   * `asid`, or -1. `globalTag` is TLB_GLOBAL in paged modes (global entries match too)
   * and TLB_BARE in Bare mode, where `asid` is TLB_BARE as well.
   */
  lookup(page: number, asid: number, globalTag: number): number {
    const i = tlbIndex(page);
    if (this.page[i] !== page) return -1;
    const a = this.asid[i];
    return a === asid || a === globalTag ? i : -1;
  }

  /** Fills the entry for the page at `page`, evicting whatever was there. */
  fill(
    page: number,
    asid: number,
    perm: number,
    delta: number,
    paDelta: number,
    level: number,
  ): number {
    const i = tlbIndex(page);
    this.page[i] = page;
    this.asid[i] = asid;
    this.perm[i] = perm;
    this.delta[i] = delta;
    this.paDelta[i] = paDelta;
    this.level[i] = level;
    return i;
  }

  /** Empties one entry (a permission check failed on it: the caller walks again). */
  drop(i: number): void {
    this.page[i] = NaN;
  }

  /**
   * `sfence.vma` (§10.2.1). `va` undefined means every address; `asid` undefined means
   * every address space, including global mappings; with an `asid`, global mappings stay.
   * Returns how many entries were removed.
   */
  flush(va?: number, asid?: number): number {
    let n = 0;
    for (let i = 0; i < TLB_ENTRIES; i++) {
      const page = this.page[i];
      if (page !== page) continue; // empty (NaN)
      const a = this.asid[i];
      if (asid !== undefined && (a === TLB_GLOBAL || a !== asid)) continue;
      if (va !== undefined && !covers(page, this.level[i], va)) continue;
      this.page[i] = NaN;
      n++;
    }
    return n;
  }

  /** How many entries are filled (for tests and the `tlb` trace). */
  count(): number {
    let n = 0;
    for (let i = 0; i < TLB_ENTRIES; i++) if (this.page[i] === this.page[i]) n++;
    return n;
  }
}

/** The entry a page (or any address in it) maps to: the low bits of its page number. */
export function tlbIndex(va: number): number {
  return (va >>> 12) & TLB_MASK;
}

/** Whether the entry for the 4 KiB page at `page`, cut from a level-`level` leaf, maps `va`. */
function covers(page: number, level: number, va: number): boolean {
  const size = 4096 * 2 ** (9 * level); // the leaf's size
  return Math.floor(page / size) === Math.floor(va / size);
}
