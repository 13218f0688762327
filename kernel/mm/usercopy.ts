/**
 * Copying to and from user memory. Every pointer a user program passes the kernel goes
 * through these helpers, which walk the caller's page tables in software (PageTables
 * translate) and refuse any byte not mapped user-accessible with the permission the copy
 * needs: a bad pointer is E_FAULT for the caller, never a kernel fault.
 *
 * The kernel then reads or writes the bytes through the direct map, at the physical address
 * the walk found: it never dereferences a user address itself (on RISC-V it never needs
 * sstatus.SUM; on x86-64, SMAP can stay on).
 *
 * @module
 */

import type { Kernel } from "../kernel.ts";
import type { AddressSpace } from "./address_space.ts";
import { PAGE_SIZE } from "./phys.ts";

/** User addresses are below 2^47 on both architectures (Sv48 and 4-level paging). */
export const USER_TOP = 1n << 47n;

/**
 * Calls `chunk(pa, offset, n)` for each piece of [va, va + length) within one page, after
 * checking the whole range; false (and no call) when any page is not mapped for the user
 * with the permission `write` asks for.
 */
function userPieces(
  k: Kernel,
  space: AddressSpace,
  va: bigint,
  length: number,
  write: boolean,
  chunk: (pa: number, offset: number, n: number) => void,
): boolean {
  if (length === 0) return true;
  if (va < 0n || va + BigInt(length) > USER_TOP) return false;
  const pieces: [number, number, number][] = [];
  for (let off = 0; off < length;) {
    const at = va + BigInt(off);
    const n = Math.min(length - off, PAGE_SIZE - Number(at % BigInt(PAGE_SIZE)));
    const m = k.pageTables.translate(space.root, at);
    if (!m || !m.flags.user || (write && !m.flags.write)) return false;
    pieces.push([m.pa, off, n]);
    off += n;
  }
  for (const [pa, off, n] of pieces) chunk(pa, off, n);
  return true;
}

/** Copies `length` bytes in from user address `va`; undefined when they are not all readable. */
export function copyIn(
  k: Kernel,
  space: AddressSpace,
  va: bigint,
  length: number,
): Uint8Array | undefined {
  const out = new Uint8Array(length);
  const ok = userPieces(k, space, va, length, false, (pa, off, n) => {
    out.set(k.arch.mem.readBytes(pa, n), off);
  });
  return ok ? out : undefined;
}

/** Copies `bytes` out to user address `va`; false (nothing written) when not all writable. */
export function copyOut(k: Kernel, space: AddressSpace, va: bigint, bytes: Uint8Array): boolean {
  return userPieces(k, space, va, bytes.length, true, (pa, off, n) => {
    k.arch.mem.writeBytes(pa, bytes.subarray(off, off + n));
  });
}
