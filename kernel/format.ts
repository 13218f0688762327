/**
 * Number formatting for the kernel's log and messages, the kernel's own (a kernel carries its
 * own printf): addresses in hex grouped by four digits, sizes in binary units, times in
 * seconds as a boot log shows them.
 *
 * @module
 */

/** `0x` + hex, grouped by four digits: `0x8020_0000`. Negative numbers are shown as u64. */
export function hex(value: number | bigint): string {
  const v = typeof value === "bigint"
    ? BigInt.asUintN(64, value)
    : value < 0
    ? BigInt.asUintN(64, BigInt(value))
    : value;
  return "0x" + v.toString(16).replace(/\B(?=([0-9a-f]{4})+$)/g, "_");
}

/** A byte count in binary units: `256 MiB`, `4 KiB`, `1.5 GiB`, `100 bytes`. */
export function formatSize(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes, i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

/** Virtual time as a boot log shows it: seconds with six decimals, right-aligned: `   0.012345`. */
export function formatTime(ns: number): string {
  const us = Math.floor(ns / 1000);
  const s = Math.floor(us / 1_000_000);
  return `${String(s).padStart(5)}.${String(us % 1_000_000).padStart(6, "0")}`;
}

/** A frequency: `100 Hz`, `10 MHz`, `3.6864 MHz`. */
export function formatHz(hz: number): string {
  if (hz >= 1e9) return `${hz / 1e9} GHz`;
  if (hz >= 1e6) return `${hz / 1e6} MHz`;
  if (hz >= 1e3) return `${hz / 1e3} kHz`;
  return `${hz} Hz`;
}
