/**
 * The translation lookaside buffer of one CPU, tagged by PCID (SDM Vol. 3A §4.10,
 * "Caching Translation Information").
 *
 * A two-way set-associative table of TLB_SETS sets. The set is chosen by the low bits of
 * the 4-KiB virtual page number mixed with the PCID (`setOf`), so two address spaces that
 * use the same addresses keep their entries side by side. The memory fast path looks only
 * at way 0; the slow path also looks at way 1 and promotes what it finds there; a fill
 * installs in way 0 and moves the previous way-0 entry to way 1. Each entry caches one
 * 4-KiB piece of a translation: a 2-MiB or 1-GiB page fills one entry per 4-KiB piece that
 * is used, and remembers the page it came from so that INVLPG anywhere in the large page
 * drops every piece (§4.10.2.3).
 *
 * An entry keeps the permissions the walk found (R/W, U/S and XD combined over every
 * level, and the dirty flag), not a decision: CR0.WP and the CPL are applied at each access,
 * as the SDM says (§4.10.2.2). Entries live until a flush removes them or other pages
 * take their set, so a page-table change the kernel does not flush stays invisible:
 * the stale translation is used, as on hardware.
 *
 * The typed arrays are public because the CPU's memory fast path reads them directly.
 *
 * @module
 */

/** Number of sets (a power of two); each has two ways. */
export const TLB_SETS = 1024;
/** Number of entries: way 0 of set s is entry s, way 1 is entry s + TLB_SETS. */
export const TLB_ENTRIES = 2 * TLB_SETS;
const MASK = TLB_SETS - 1;

/** The PCID's contribution to the set index (a multiplicative hash; 0 for PCID 0). */
export function pcidHash(pcid: number): number {
  return Math.imul(pcid, 0x9e37) & MASK;
}

/** Permission bits of an entry (`perm`). Writes allowed at every level (R/W = 1). */
export const TLB_W = 1 << 0;
/** User-mode accesses allowed at every level (U/S = 1). */
export const TLB_U = 1 << 1;
/** Instruction fetches allowed (XD = 0 at every level, or EFER.NXE = 0). */
export const TLB_X = 1 << 2;
/** The dirty flag is already set in the entry that maps the page. */
export const TLB_D = 1 << 3;
/** The page is RAM (the memory fast path may use `off`); otherwise a device. */
export const TLB_RAM = 1 << 4;
/**
 * The CPU has no decoded instructions from this page, so stores need not look for them.
 * Cleared when the page becomes a code page (see `icache.ts`).
 */
export const TLB_NOCODE = 1 << 5;
/** The mapping is global (G = 1 with CR4.PGE = 1): it matches every PCID. */
export const TLB_G = 1 << 6;

/** `tag` value of a global entry. */
export const TAG_GLOBAL: number = -1;
/** `tag` value of an invalid entry. */
const TAG_INVALID = -2;

/** The TLB. */
export class Tlb {
  /**
   * Counts the flushes: anything that may change what an address translates to moves
   * it (the CPU's interpreter keeps its code page while it stays the same).
   */
  gen = 0;
  /** The 4-KiB virtual page number (va / 4096, floor; negative in the upper half). */
  readonly vpn: Float64Array = new Float64Array(TLB_ENTRIES).fill(NaN);
  /** The PCID the entry matches, TAG_GLOBAL for a global entry, or -2 when invalid. */
  readonly tag: Int32Array = new Int32Array(TLB_ENTRIES).fill(TAG_INVALID);
  /** The PCID that was current when the entry was filled (global entries keep theirs). */
  readonly pcid: Int32Array = new Int32Array(TLB_ENTRIES);
  /** TLB_* permission bits. */
  readonly perm: Int32Array = new Int32Array(TLB_ENTRIES);
  /** RAM buffer offset of the 4-KiB frame (RAM pages), or its physical address (devices). */
  readonly off: Float64Array = new Float64Array(TLB_ENTRIES);
  /** Physical address of the 4-KiB frame. */
  readonly frame: Float64Array = new Float64Array(TLB_ENTRIES);
  /** Virtual address where the page this piece belongs to starts. */
  readonly pageBase: Float64Array = new Float64Array(TLB_ENTRIES);
  /** That page's size: 4 KiB, 2 MiB or 1 GiB. */
  readonly pageSize: Float64Array = new Float64Array(TLB_ENTRIES);
  /** The set of a virtual page number under a PCID (way 0's entry index). */
  static setOf(vpn: number, pcid: number): number {
    return (vpn ^ pcidHash(pcid)) & MASK;
  }

  /**
   * Finds the entry for `vpn` visible under `pcid`; returns its index, always way 0 (an
   * entry found in way 1 is swapped into way 0 first), or -1.
   */
  find(vpn: number, pcid: number): number {
    const s = Tlb.setOf(vpn, pcid);
    let t = this.tag[s];
    if (this.vpn[s] === vpn && (t === pcid || t === TAG_GLOBAL)) return s;
    const w = s + TLB_SETS;
    t = this.tag[w];
    if (this.vpn[w] === vpn && (t === pcid || t === TAG_GLOBAL)) {
      this.#swap(s, w);
      return s;
    }
    return -1;
  }

  /** Whether an entry for `vpn` is visible under `pcid`, without touching anything. */
  holds(vpn: number, pcid: number): boolean {
    const s = Tlb.setOf(vpn, pcid);
    for (const e of [s, s + TLB_SETS]) {
      const t = this.tag[e];
      if (this.vpn[e] === vpn && (t === pcid || t === TAG_GLOBAL)) return true;
    }
    return false;
  }

  #swap(a: number, b: number): void {
    for (
      const arr of [
        this.vpn,
        this.tag,
        this.pcid,
        this.perm,
        this.off,
        this.frame,
        this.pageBase,
        this.pageSize,
      ]
    ) {
      const x = arr[a];
      arr[a] = arr[b];
      arr[b] = x;
    }
  }

  /** Installs an entry (replacing whatever held its slot). */
  fill(
    vpn: number,
    pcid: number,
    global: boolean,
    perm: number,
    off: number,
    frame: number,
    pageBase: number,
    pageSize: number,
  ): number {
    const s = Tlb.setOf(vpn, pcid);
    // The way-0 entry moves to way 1 (whatever was there is evicted).
    this.#drop(s + TLB_SETS);
    this.#swap(s, s + TLB_SETS);
    this.vpn[s] = vpn;
    this.tag[s] = global ? TAG_GLOBAL : pcid;
    this.pcid[s] = pcid;
    this.perm[s] = perm | (global ? TLB_G : 0);
    this.off[s] = off;
    this.frame[s] = frame;
    this.pageBase[s] = pageBase;
    this.pageSize[s] = pageSize;
    return s;
  }

  /** Whether slot `s` holds a valid entry. */
  valid(s: number): boolean {
    return this.tag[s] !== TAG_INVALID;
  }

  #drop(s: number): void {
    this.tag[s] = TAG_INVALID;
    this.vpn[s] = NaN;
  }

  /** Drops every entry, global ones included. Returns how many were valid. */
  flushAll(): number {
    return this.#flushWhere(() => true);
  }

  /** Drops every non-global entry of `pcid` (or of every PCID when `pcid` is -1). */
  flushNonGlobal(pcid: number): number {
    return this.#flushWhere((s) =>
      (this.perm[s] & TLB_G) === 0 && (pcid < 0 || this.pcid[s] === pcid)
    );
  }

  /**
   * Drops the entries for the page containing `va`: those of `pcid` and, when
   * `includeGlobal`, global ones of any PCID (INVLPG; INVPCID type 0 excludes globals).
   */
  flushPage(va: number, pcid: number, includeGlobal: boolean): number {
    // A page can sit in several sets (large pages, global copies filled under different
    // PCIDs), so every entry is checked: 2048 comparisons, cheap next to a page walk.
    return this.#flushWhere((s) =>
      va >= this.pageBase[s] && va < this.pageBase[s] + this.pageSize[s] &&
      ((this.perm[s] & TLB_G) !== 0 ? includeGlobal : this.pcid[s] === pcid)
    );
  }

  /** Clears TLB_NOCODE in the entries that map the RAM frame at buffer offset `ramOff`. */
  markCode(ramOff: number): void {
    for (let s = 0; s < TLB_ENTRIES; s++) {
      if (this.tag[s] !== TAG_INVALID && (this.perm[s] & TLB_RAM) && this.off[s] === ramOff) {
        this.perm[s] &= ~TLB_NOCODE;
      }
    }
  }

  /** Drops the entry in slot `s` (a page fault on a stale entry drops it, §4.10.4.1). */
  dropSlot(s: number): void {
    this.gen++;
    this.#drop(s);
  }

  /** How many entries are valid (for tests and traces). */
  count(): number {
    let n = 0;
    for (let s = 0; s < TLB_ENTRIES; s++) if (this.tag[s] !== TAG_INVALID) n++;
    return n;
  }

  #flushWhere(pred: (s: number) => boolean): number {
    this.gen++;
    let n = 0;
    for (let s = 0; s < TLB_ENTRIES; s++) {
      if (this.tag[s] !== TAG_INVALID && pred(s)) {
        this.#drop(s);
        n++;
      }
    }
    return n;
  }
}
