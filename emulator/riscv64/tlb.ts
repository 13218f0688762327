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
 * - `fast`: what the interpreter's U-mode fast path reads, {@link FAST_STRIDE} int32s per
 *   entry in one array (one bounds check, integer compares only): the page address as
 *   two halves (`FAST_TAG_LO`, `FAST_TAG_HI`), the ASID under which a U-mode load may use
 *   the entry without further checks (`FAST_LOAD`: R, U and A set, and RAM) or else
 *   TLB_EMPTY, the same for a store (`FAST_STORE`: W, U, A and D set, and RAM), and the
 *   page's RAM-buffer offset (`FAST_BASE`). The fast path asks for the current ASID, so it
 *   never uses a global entry (U-mode reaches global pages, which are rare, and pages it
 *   may read only through MXR, through the full lookup);
 * - `page`: the virtual address of the page (signed, a multiple of 4096, which the hot
 *   path computes as `va - (va & 4095)` without dividing); NaN marks an empty entry, and
 *   NaN compares unequal to everything, so an empty entry never hits;
 * - `asid`: the address-space identifier of the satp the entry was filled under,
 *   {@link TLB_GLOBAL} for a global mapping (G set on the leaf or on any table above it),
 *   {@link TLB_BARE} for the identity "translations" of satp.MODE = Bare, or
 *   {@link TLB_EMPTY};
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
/** int32s per entry in `Tlb.fast`, and the offsets of its fields. */
export const FAST_STRIDE = 8;
/** See {@link FAST_STRIDE}. */
export const FAST_TAG_LO = 0;
/** See {@link FAST_STRIDE}. */
export const FAST_TAG_HI = 1;
/** See {@link FAST_STRIDE}. */
export const FAST_LOAD = 2;
/** See {@link FAST_STRIDE}. */
export const FAST_STORE = 3;
/** See {@link FAST_STRIDE}. */
export const FAST_BASE = 4;
/** PTE bits a U-mode load needs (R, U, A; Sv39/Sv48 bit numbers). */
const USER_LOAD = (1 << 1) | (1 << 4) | (1 << 6);
/** PTE bits a U-mode store needs under Svade (W, U, A, D). */
const USER_STORE = (1 << 2) | (1 << 4) | (1 << 6) | (1 << 7);
/** `asid` of an empty entry: it equals no address space's tag. */
export const TLB_EMPTY = -3;
/** Flag in `perm`: the page is a device (or RAM out of the fast path's reach). */
export const TLB_IO = 1 << 8;

/** One hart's TLB for one kind of access. */
export class Tlb {
  /** Virtual address of each entry's page, NaN when empty. */
  readonly page: Float64Array = new Float64Array(TLB_ENTRIES).fill(NaN);
  /** The interpreter's view of each entry (see the module comment). */
  readonly fast: Int32Array = new Int32Array(TLB_ENTRIES * FAST_STRIDE).fill(TLB_EMPTY);
  /** ASID of each entry, or TLB_GLOBAL, TLB_BARE or TLB_EMPTY. */
  readonly asid: Int32Array = new Int32Array(TLB_ENTRIES).fill(TLB_EMPTY);
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
    const f = i * FAST_STRIDE, ram = delta === delta;
    this.fast[f + FAST_TAG_LO] = page | 0;
    this.fast[f + FAST_TAG_HI] = Math.floor(page / 2 ** 32) | 0;
    this.fast[f + FAST_LOAD] = ram && (perm & USER_LOAD) === USER_LOAD ? asid : TLB_EMPTY;
    this.fast[f + FAST_STORE] = ram && (perm & USER_STORE) === USER_STORE ? asid : TLB_EMPTY;
    this.fast[f + FAST_BASE] = ram ? delta + page : -1;
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
    this.asid[i] = TLB_EMPTY;
    this.fast[i * FAST_STRIDE + FAST_LOAD] = TLB_EMPTY;
    this.fast[i * FAST_STRIDE + FAST_STORE] = TLB_EMPTY;
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
      this.drop(i);
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
