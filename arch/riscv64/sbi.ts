/**
 * Calling the SBI firmware from the kernel (RISC-V Supervisor Binary Interface v2.0, cited
 * "SBI §n"): `ecall` from S-mode with a7 = extension id, a6 = function id, a0..a5 the
 * arguments; the firmware answers with an error code in a0 and a value in a1 (SBI §3).
 *
 * The kernel calls the SBI in the middle of a kernel entry, while the interrupted user
 * thread's registers are still in the hart, so a call saves a0..a7 first and puts them back
 * after: the user thread never sees the kernel's calls.
 *
 * @module
 */

import type { Hart } from "../../emulator/riscv64/hart_api.ts";

/** BASE extension (SBI §4): function ids. */
export const SBI_BASE_PROBE_EXTENSION = 3;
/** TIME extension (SBI §6): set_timer(stime_value). */
export const SBI_TIME_SET_TIMER = 0;
/** SRST extension (SBI §10): system_reset(type, reason). */
export const SBI_SRST_SYSTEM_RESET = 0;
/** system_reset types. */
export const SBI_SRST_TYPE_SHUTDOWN = 0;
/** system_reset reasons. */
export const SBI_SRST_REASON_NONE = 0;
/** See {@link SBI_SRST_REASON_NONE}. */
export const SBI_SRST_REASON_SYSTEM_FAILURE = 1;
/** DBCN extension (SBI §12): console_write_byte(byte). */
export const SBI_DBCN_CONSOLE_WRITE_BYTE = 2;

/** An SBI call's answer. */
export interface SbiResult {
  /** a0: SBI_SUCCESS (0) or a negative error code. */
  error: number;
  /** a1. */
  value: bigint;
}

/** Calls extension `eid`, function `fid` with `args` on `hart`, keeping a0..a7 intact. */
export function sbiCall(hart: Hart, eid: number, fid: number, ...args: bigint[]): SbiResult {
  const x = hart.x;
  const saved = x.slice(10, 18);
  x[17] = BigInt(eid);
  x[16] = BigInt(fid);
  for (let i = 0; i < 6; i++) x[10 + i] = args[i] ?? 0n;
  hart.ecall();
  const result = { error: Number(x[10]), value: x[11] };
  x.set(saved, 10);
  return result;
}
