/**
 * Guest physical memory: one flat `ArrayBuffer` with typed-array views over it.
 *
 * A large `ArrayBuffer` costs no host memory until a page of it is touched (measured in
 * DESIGN.md), so a 4 GiB guest costs only what the guest writes. The views let the CPUs
 * read aligned words without a function call: `i32` for instruction fetch, `i64` for
 * aligned doublewords, `dv` for anything unaligned.
 *
 * @module
 */

/** The smallest and largest RAM sizes a machine accepts. */
export const RAM_MIN = 1 << 20;
/** 64 GiB: the largest RAM a machine accepts (host memory is only used when touched). */
export const RAM_MAX = 64 * 2 ** 30;

/** The default RAM size of both boards: 256 MiB. */
export const RAM_DEFAULT = 256 * 2 ** 20;

/** Guest RAM. Offsets are relative to the start of the buffer, not physical addresses. */
export class Ram {
  /** Size in bytes. */
  readonly size: number;
  /** The backing buffer. */
  readonly buffer: ArrayBuffer;
  /** Byte view. */
  readonly u8: Uint8Array;
  /** Aligned 16-bit view (little-endian host assumed, checked at start-up). */
  readonly u16: Uint16Array;
  /** Aligned 32-bit view, signed (instruction fetch, loads that sign-extend). */
  readonly i32: Int32Array;
  /** Aligned 64-bit view. */
  readonly i64: BigInt64Array;
  /** Any width at any alignment, little-endian. */
  readonly dv: DataView;

  /** Allocates `size` bytes of zeroed RAM; `size` must be a multiple of 4 KiB. */
  constructor(size: number) {
    if (!Number.isInteger(size) || size < RAM_MIN || size > RAM_MAX || size % 4096 !== 0) {
      throw new RangeError(
        `RAM size ${size} bytes is not usable: give a multiple of 4 KiB between 1 MiB and 64 GiB`,
      );
    }
    this.size = size;
    this.buffer = new ArrayBuffer(size);
    this.u8 = new Uint8Array(this.buffer);
    this.u16 = new Uint16Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
    this.i64 = new BigInt64Array(this.buffer);
    this.dv = new DataView(this.buffer);
  }
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error("the emulator needs a little-endian host");
}

/**
 * Parses a memory size such as `256M`, `4G`, `512MiB` or a plain byte count.
 * Returns undefined when the text is not a size.
 */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+)\s*([KMG]?)(?:i?B)?$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = { "": 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 }[m[2].toUpperCase()]!;
  return Number(m[1]) * unit;
}

/** Formats a byte count the way a boot log does: `256 MiB`, `4 KiB`, `1.5 GiB`. */
export function formatSize(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes, i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

/** Formats an address or value as `0x` + hex, grouping by 4 digits for readability. */
export function hex(value: number | bigint, digits = 0): string {
  let v = typeof value === "bigint" ? BigInt.asUintN(64, value) : value;
  if (typeof v === "number" && v < 0) v = BigInt.asUintN(64, BigInt(v));
  const s = v.toString(16).padStart(digits, "0");
  return "0x" + s.replace(/\B(?=([0-9a-f]{4})+$)/g, "_");
}
