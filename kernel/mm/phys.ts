/**
 * Physical memory as the kernel reaches it: through the higher-half direct map of the CPU
 * running the current kernel entry (see kernel/README.md). The kernel names memory by
 * physical address everywhere; only this interface turns an address into loads and stores.
 *
 * The arch layer implements it with real loads and stores through the MMU at
 * `HHDM_BASE + pa`; tests and lesson graders may implement it over a plain buffer.
 *
 * @module
 */

/** Where the direct map of all RAM starts, on both architectures. */
export const HHDM_BASE = 0xffff_8000_0000_0000n;

/** Where the kernel maps device registers (uncached): `DEVICE_BASE + physical address`. */
export const DEVICE_BASE = 0xffff_c000_0000_0000n;

/** The size of a page frame. */
export const PAGE_SIZE = 4096;

/** Byte-addressed access to physical memory. */
export interface PhysMem {
  /** Loads `size` (1, 2, 4 or 8) bytes at physical address `pa`, zero-extended. */
  read(pa: number, size: number): bigint;
  /** Stores the low `size` bytes of `value` at `pa`. */
  write(pa: number, size: number, value: bigint): void;
  /** Fills `length` bytes at `pa` with zeros (a whole frame, typically). */
  zero(pa: number, length: number): void;
  /** Copies `length` bytes out of physical memory at `pa`. */
  readBytes(pa: number, length: number): Uint8Array;
  /** Copies `bytes` into physical memory at `pa`. */
  writeBytes(pa: number, bytes: Uint8Array): void;
}
