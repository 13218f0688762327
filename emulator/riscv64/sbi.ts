/**
 * The firmware: a Supervisor Binary Interface implementation in the role OpenSBI plays on
 * QEMU's virt board, written in TypeScript.
 *
 * It follows "RISC-V Supervisor Binary Interface Specification" v2.0 (cited "SBI §n").
 * Every S-mode `ecall` reaches {@link SbiFirmware.call} (the board installs it as
 * `hart.firmware`), which reads the calling convention of SBI §3: a7 = extension id (EID),
 * a6 = function id (FID), a0..a5 = arguments; it answers in a0 (an SBI error code) and a1
 * (a value). Bad arguments get the error the specification names; nothing throws.
 *
 * Extensions: BASE (§4), TIME (§6), IPI (§7), RFENCE (§8), HSM (§9), SRST (§10) and DBCN
 * (§12). The legacy extensions (EIDs 0x00 to 0x0F, §5) answer SBI_ERR_NOT_SUPPORTED in a0,
 * and `probe_extension` reports them absent: their replacements above are all present.
 *
 * ## M-mode, simplified
 *
 * There is no M-mode software: the firmware is TypeScript, and its "M-mode" is the set of
 * handlers below, called when the CLINT raises a machine-level interrupt. They do what
 * OpenSBI's trap handler does:
 *
 * - **Timer.** `set_timer` clears the hart's supervisor timer interrupt, arms the hart's
 *   M-mode timer interrupt (OpenSBI sets mie.MTIE) and writes the hart's `mtimecmp` in the
 *   CLINT. While MTIP is high and the timer is armed, the firmware disarms it (clears
 *   MTIE) and raises the supervisor timer interrupt (IRQ_S_TIMER, mip.STIP).
 * - **IPI.** `send_ipi` records a supervisor-IPI event for each target and writes its
 *   `msip` in the CLINT. The target's MSIP handler clears `msip` and turns the event into
 *   the supervisor software interrupt (IRQ_S_SOFT, mip.SSIP). As on OpenSBI, a bare write
 *   to `msip` without an event gives the supervisor nothing (and S-mode cannot write it
 *   anyway: the CLINT is M-mode only).
 * - **Remote fences** are performed directly on the target harts (`fenceI`, `sfenceVma`)
 *   before the call returns. OpenSBI sends an IPI and waits for every target to finish,
 *   so the caller observes the same thing; kernel entries are atomic with respect to the
 *   other harts, so nothing can run on a target in between.
 *
 * The firmware owns RAM from 0x8000_0000 to 0x8020_0000 (the board protects it from
 * S-mode as OpenSBI's PMP does): addresses there are invalid for DBCN and HSM.
 *
 * @module
 */

import type { Machine } from "../core/machine.ts";
import type { IrqLine } from "../core/irq.ts";
import { hex } from "../core/memory.ts";
import {
  CSR_SATP,
  CSR_SSTATUS,
  IRQ_S_SOFT,
  IRQ_S_TIMER,
  SBI_ERR_ALREADY_AVAILABLE,
  SBI_ERR_FAILED,
  SBI_ERR_INVALID_ADDRESS,
  SBI_ERR_INVALID_PARAM,
  SBI_ERR_NOT_SUPPORTED,
  SBI_EXT_BASE,
  SBI_EXT_DBCN,
  SBI_EXT_HSM,
  SBI_EXT_IPI,
  SBI_EXT_RFENCE,
  SBI_EXT_SRST,
  SBI_EXT_TIME,
  SBI_SUCCESS,
  SSTATUS_SIE,
} from "./csr.ts";
import type { Hart } from "./hart_api.ts";
import { CLINT_MSIP, CLINT_MTIMECMP } from "./clint.ts";
import { UART_LSR, UART_LSR_DR, UART_LSR_THRE, UART_RBR, UART_THR } from "../devices/uart16550.ts";

/** The specification version implemented: 2.0, as (major << 24) | minor (SBI §4.1). */
export const SBI_SPEC_VERSION = (2 << 24) | 0;
/**
 * This implementation's id (SBI §4.9 registers 0 to 11: BBL, OpenSBI, ...). 0x5453 ("TS")
 * is not registered; a kernel must not take it for OpenSBI.
 */
export const SBI_IMPL_ID = 0x5453;
/** This implementation's version. */
export const SBI_IMPL_VERSION = 1;

/** BASE function ids (SBI §4). */
export const SBI_BASE_GET_SPEC_VERSION = 0;
/** See {@link SBI_BASE_GET_SPEC_VERSION}. */
export const SBI_BASE_GET_IMPL_ID = 1;
/** See {@link SBI_BASE_GET_SPEC_VERSION}. */
export const SBI_BASE_GET_IMPL_VERSION = 2;
/** See {@link SBI_BASE_GET_SPEC_VERSION}. */
export const SBI_BASE_PROBE_EXTENSION = 3;
/** See {@link SBI_BASE_GET_SPEC_VERSION}. */
export const SBI_BASE_GET_MVENDORID = 4;
/** See {@link SBI_BASE_GET_SPEC_VERSION}. */
export const SBI_BASE_GET_MARCHID = 5;
/** See {@link SBI_BASE_GET_SPEC_VERSION}. */
export const SBI_BASE_GET_MIMPID = 6;

/** TIME function id (SBI §6.1). */
export const SBI_TIME_SET_TIMER = 0;
/** IPI function id (SBI §7.1). */
export const SBI_IPI_SEND_IPI = 0;
/** RFENCE function ids (SBI §8). */
export const SBI_RFENCE_REMOTE_FENCE_I = 0;
/** See {@link SBI_RFENCE_REMOTE_FENCE_I}. */
export const SBI_RFENCE_REMOTE_SFENCE_VMA = 1;
/** See {@link SBI_RFENCE_REMOTE_FENCE_I}. */
export const SBI_RFENCE_REMOTE_SFENCE_VMA_ASID = 2;
/** HSM function ids (SBI §9). */
export const SBI_HSM_HART_START = 0;
/** See {@link SBI_HSM_HART_START}. */
export const SBI_HSM_HART_STOP = 1;
/** See {@link SBI_HSM_HART_START}. */
export const SBI_HSM_HART_GET_STATUS = 2;
/** See {@link SBI_HSM_HART_START}. */
export const SBI_HSM_HART_SUSPEND = 3;
/** SRST function id (SBI §10.1). */
export const SBI_SRST_SYSTEM_RESET = 0;
/** DBCN function ids (SBI §12). */
export const SBI_DBCN_CONSOLE_WRITE = 0;
/** See {@link SBI_DBCN_CONSOLE_WRITE}. */
export const SBI_DBCN_CONSOLE_READ = 1;
/** See {@link SBI_DBCN_CONSOLE_WRITE}. */
export const SBI_DBCN_CONSOLE_WRITE_BYTE = 2;

/** HSM hart states (SBI §9, Table "HSM Hart States"). */
export const SBI_HSM_STATE_STARTED = 0;
/** See {@link SBI_HSM_STATE_STARTED}. */
export const SBI_HSM_STATE_STOPPED = 1;
/** See {@link SBI_HSM_STATE_STARTED}. */
export const SBI_HSM_STATE_START_PENDING = 2;
/** See {@link SBI_HSM_STATE_STARTED}. */
export const SBI_HSM_STATE_STOP_PENDING = 3;
/** See {@link SBI_HSM_STATE_STARTED}. */
export const SBI_HSM_STATE_SUSPENDED = 4;

/** Default retentive suspend (SBI §9.4): not supported here, see `#hartSuspend`. */
export const SBI_HSM_SUSPEND_RET_DEFAULT = 0x0000_0000;
/** Default non-retentive suspend. */
export const SBI_HSM_SUSPEND_NON_RET_DEFAULT = 0x8000_0000;

/** SRST reset types (SBI §10.1). */
export const SBI_SRST_TYPE_SHUTDOWN = 0;
/** See {@link SBI_SRST_TYPE_SHUTDOWN}. */
export const SBI_SRST_TYPE_COLD_REBOOT = 1;
/** See {@link SBI_SRST_TYPE_SHUTDOWN}. */
export const SBI_SRST_TYPE_WARM_REBOOT = 2;
/** SRST reset reasons. */
export const SBI_SRST_REASON_NONE = 0;
/** See {@link SBI_SRST_REASON_NONE}. */
export const SBI_SRST_REASON_SYSTEM_FAILURE = 1;

/** Names of the extensions, for traces. */
const EXTENSION_NAMES: Readonly<Record<number, string>> = {
  [SBI_EXT_BASE]: "BASE",
  [SBI_EXT_TIME]: "TIME",
  [SBI_EXT_IPI]: "IPI",
  [SBI_EXT_RFENCE]: "RFENCE",
  [SBI_EXT_HSM]: "HSM",
  [SBI_EXT_SRST]: "SRST",
  [SBI_EXT_DBCN]: "DBCN",
};

/** Names of the functions, for traces. */
const FUNCTION_NAMES: Readonly<Record<number, readonly string[]>> = {
  [SBI_EXT_BASE]: [
    "get_spec_version",
    "get_impl_id",
    "get_impl_version",
    "probe_extension",
    "get_mvendorid",
    "get_marchid",
    "get_mimpid",
  ],
  [SBI_EXT_TIME]: ["set_timer"],
  [SBI_EXT_IPI]: ["send_ipi"],
  [SBI_EXT_RFENCE]: ["remote_fence_i", "remote_sfence_vma", "remote_sfence_vma_asid"],
  [SBI_EXT_HSM]: ["hart_start", "hart_stop", "hart_get_status", "hart_suspend"],
  [SBI_EXT_SRST]: ["system_reset"],
  [SBI_EXT_DBCN]: ["console_write", "console_read", "console_write_byte"],
};

/**
 * The most bytes one console_write or console_read moves. The calls may do partial
 * transfers (SBI §12.1, §12.2), and this bounds the host time one call can take.
 */
export const SBI_DBCN_MAX_BYTES = 0x1_0000;
/** A remote sfence.vma over more pages than this flushes everything instead (as OpenSBI). */
const RFENCE_PAGE_LIMIT = 64;
/** 2^64 - 1: "the whole address space" as an RFENCE size, "all harts" as a mask base. */
const ALL_ONES = 0xffff_ffff_ffff_ffffn;

/** An SBI call's answer: a0 (error) and a1 (value). */
interface SbiRet {
  error: number;
  value: bigint;
}

/** Where the firmware finds the devices it drives. */
export interface SbiFirmwareOptions {
  /** The machine: its bus, harts (`cpus`), trace, power-off and reset. */
  machine: Machine<Hart>;
  /** Physical address of the CLINT. */
  clintBase: number;
  /** Physical address of the console 16550 (byte registers, stride 1). */
  uartBase: number;
}

/** The SBI firmware of one machine. See the module comment. */
export class SbiFirmware {
  readonly #machine: Machine<Hart>;
  readonly #clintBase: number;
  readonly #uartBase: number;
  /** Per hart id: the M-mode timer interrupt is armed (mie.MTIE). */
  readonly #mtie = new Map<number, boolean>();
  /** Per hart id: the CLINT's MTIP level. */
  readonly #mtipLevel = new Map<number, boolean>();
  /** Per hart id: a supervisor IPI waits to be delivered. */
  readonly #ipiPending = new Map<number, boolean>();
  /** Per hart id: in a non-retentive suspend. */
  readonly #suspended = new Map<number, boolean>();

  /** Builds the firmware; wire its {@link mtipLine} and {@link msipLine} to the CLINT. */
  constructor(options: SbiFirmwareOptions) {
    this.#machine = options.machine;
    this.#clintBase = options.clintBase;
    this.#uartBase = options.uartBase;
  }

  /** The `hart.firmware` hook: handles one S-mode `ecall` on `hart`. */
  readonly call = (hart: Hart): void => {
    const x = hart.x;
    const eid = BigInt.asUintN(64, x[17]);
    const fid = BigInt.asUintN(64, x[16]);
    const args = [10, 11, 12, 13, 14, 15].map((r) => BigInt.asUintN(64, x[r]));
    const legacy = eid <= 0x0fn;
    // EIDs and FIDs are 32-bit numbers (SBI §3): anything wider names nothing.
    const ret = legacy || eid > 0xffff_ffffn || fid > 0xffff_ffffn
      ? NOT_SUPPORTED
      : this.#dispatch(hart, Number(eid), Number(fid), args);
    if (this.#machine.trace.firmware) this.#trace(hart, eid, fid, args, ret);
    if (ret === KEEP_REGISTERS) return;
    x[10] = BigInt(ret.error);
    if (!legacy) x[11] = BigInt.asIntN(64, ret.value);
  };

  /** The M-mode timer interrupt input of hart `hartId` (wire it to the CLINT's MTIP). */
  mtipLine(hartId: number): IrqLine {
    return {
      set: (level) => {
        this.#mtipLevel.set(hartId, level);
        this.#deliverTimer(hartId);
      },
    };
  }

  /** The M-mode software interrupt input of hart `hartId` (wire it to the CLINT's MSIP). */
  msipLine(hartId: number): IrqLine {
    return {
      set: (level) => {
        if (level) this.#handleMsip(hartId);
      },
    };
  }

  /** The HSM state of hart `hartId` (SBI_HSM_STATE_*), or undefined when there is none. */
  hsmState(hartId: number): number | undefined {
    const hart = this.#hart(hartId);
    if (!hart) return undefined;
    if (this.#suspended.get(hartId)) {
      if (hart.state === "idle") return SBI_HSM_STATE_SUSPENDED;
      this.#suspended.delete(hartId); // woken: it resumed at resume_addr
    }
    return hart.state === "stopped" ? SBI_HSM_STATE_STOPPED : SBI_HSM_STATE_STARTED;
  }

  #hart(hartId: number | bigint): Hart | undefined {
    if (typeof hartId === "bigint") {
      if (hartId > 0xffff_ffffn) return undefined;
      hartId = Number(hartId);
    }
    return this.#machine.cpus.find((h) => h.hartId === hartId);
  }

  #dispatch(hart: Hart, eid: number, fid: number, a: bigint[]): SbiRet | typeof KEEP_REGISTERS {
    switch (eid) {
      case SBI_EXT_BASE:
        return this.#base(fid, a);
      case SBI_EXT_TIME:
        return fid === SBI_TIME_SET_TIMER ? this.#setTimer(hart, a[0]) : NOT_SUPPORTED;
      case SBI_EXT_IPI:
        return fid === SBI_IPI_SEND_IPI ? this.#sendIpi(a[0], a[1]) : NOT_SUPPORTED;
      case SBI_EXT_RFENCE:
        return this.#rfence(fid, a);
      case SBI_EXT_HSM:
        return this.#hsm(hart, fid, a);
      case SBI_EXT_SRST:
        return fid === SBI_SRST_SYSTEM_RESET ? this.#systemReset(a[0], a[1]) : NOT_SUPPORTED;
      case SBI_EXT_DBCN:
        return this.#dbcn(fid, a);
      default:
        return NOT_SUPPORTED;
    }
  }

  // ---- BASE (SBI §4) ----

  #base(fid: number, a: bigint[]): SbiRet {
    switch (fid) {
      case SBI_BASE_GET_SPEC_VERSION:
        return ok(BigInt(SBI_SPEC_VERSION));
      case SBI_BASE_GET_IMPL_ID:
        return ok(BigInt(SBI_IMPL_ID));
      case SBI_BASE_GET_IMPL_VERSION:
        return ok(BigInt(SBI_IMPL_VERSION));
      case SBI_BASE_PROBE_EXTENSION:
        return ok(a[0] <= 0xffff_ffffn && Number(a[0]) in EXTENSION_NAMES ? 1n : 0n);
      case SBI_BASE_GET_MVENDORID:
      case SBI_BASE_GET_MARCHID:
      case SBI_BASE_GET_MIMPID:
        return ok(0n); // 0: "not implemented", as the privileged spec allows for these CSRs
      default:
        return NOT_SUPPORTED;
    }
  }

  // ---- TIME (SBI §6) and the M-mode timer interrupt ----

  #setTimer(hart: Hart, stime: bigint): SbiRet {
    const id = hart.hartId;
    hart.setInterruptPending(IRQ_S_TIMER, false); // OpenSBI: csr_clear(mip, MIP_STIP)
    this.#mtie.set(id, true); // csr_set(mie, MIP_MTIE)
    this.#machine.bus.write(this.#clintBase + CLINT_MTIMECMP + 8 * id, 8, stime);
    this.#deliverTimer(id); // MTIP may already be high: the interrupt is level-triggered
    return ok(0n);
  }

  /** M-mode timer interrupt: if MTIP is high and armed, disarm it and raise STIP. */
  #deliverTimer(hartId: number): void {
    if (!this.#mtipLevel.get(hartId) || !this.#mtie.get(hartId)) return;
    this.#mtie.set(hartId, false);
    this.#hart(hartId)?.setInterruptPending(IRQ_S_TIMER, true);
  }

  // ---- IPI (SBI §7) and the M-mode software interrupt ----

  /** The hart ids named by a hart mask (SBI §3.1.1), or undefined if one is invalid. */
  #targets(mask: bigint, base: bigint): Hart[] | undefined {
    if (base === ALL_ONES) return [...this.#machine.cpus];
    const out: Hart[] = [];
    for (let i = 0n; i < 64n; i++) {
      if (((mask >> i) & 1n) === 0n) continue;
      const hart = this.#hart(base + i);
      if (!hart) return undefined;
      out.push(hart);
    }
    return out;
  }

  #sendIpi(mask: bigint, base: bigint): SbiRet {
    const targets = this.#targets(mask, base);
    if (!targets) return err(SBI_ERR_INVALID_PARAM);
    for (const t of targets) {
      this.#ipiPending.set(t.hartId, true);
      this.#machine.bus.write(this.#clintBase + CLINT_MSIP + 4 * t.hartId, 4, 1n);
    }
    return ok(0n);
  }

  /** M-mode software interrupt: clear msip, then deliver the pending supervisor IPI. */
  #handleMsip(hartId: number): void {
    this.#machine.bus.write(this.#clintBase + CLINT_MSIP + 4 * hartId, 4, 0n);
    if (!this.#ipiPending.get(hartId)) return;
    this.#ipiPending.set(hartId, false);
    this.#hart(hartId)?.setInterruptPending(IRQ_S_SOFT, true);
  }

  // ---- RFENCE (SBI §8) ----

  #rfence(fid: number, a: bigint[]): SbiRet {
    if (fid > SBI_RFENCE_REMOTE_SFENCE_VMA_ASID) return NOT_SUPPORTED; // HFENCE: no H extension
    const targets = this.#targets(a[0], a[1]);
    if (!targets) return err(SBI_ERR_INVALID_PARAM);
    if (fid === SBI_RFENCE_REMOTE_FENCE_I) {
      for (const t of targets) t.fenceI();
      return ok(0n);
    }
    const [start, size] = [a[2], a[3]];
    const all = (start === 0n && size === 0n) || size === ALL_ONES;
    if (!all && start + size > 1n << 64n) return err(SBI_ERR_INVALID_ADDRESS); // wraps around
    const asid = fid === SBI_RFENCE_REMOTE_SFENCE_VMA_ASID ? Number(a[4] & 0xffffn) : undefined;
    const pages = all ? Infinity : Number((size + 4095n) >> 12n);
    for (const t of targets) {
      if (pages > RFENCE_PAGE_LIMIT) t.sfenceVma(undefined, asid);
      else for (let p = 0; p < pages; p++) t.sfenceVma(start + BigInt(p) * 4096n, asid);
    }
    return ok(0n);
  }

  // ---- HSM (SBI §9) ----

  #hsm(hart: Hart, fid: number, a: bigint[]): SbiRet | typeof KEEP_REGISTERS {
    switch (fid) {
      case SBI_HSM_HART_START: {
        const target = this.#hart(a[0]);
        if (!target) return err(SBI_ERR_INVALID_PARAM);
        if (this.hsmState(target.hartId) !== SBI_HSM_STATE_STOPPED) {
          return err(SBI_ERR_ALREADY_AVAILABLE);
        }
        if (!this.#executable(a[1])) return err(SBI_ERR_INVALID_ADDRESS);
        target.start(a[1], a[2]);
        return ok(0n);
      }
      case SBI_HSM_HART_STOP:
        this.#suspended.delete(hart.hartId);
        hart.stop();
        return ok(0n);
      case SBI_HSM_HART_GET_STATUS: {
        const target = this.#hart(a[0]);
        return target ? ok(BigInt(this.hsmState(target.hartId)!)) : err(SBI_ERR_INVALID_PARAM);
      }
      case SBI_HSM_HART_SUSPEND:
        return this.#hartSuspend(hart, Number(a[0] & 0xffff_ffffn), a[1], a[2]);
      default:
        return NOT_SUPPORTED;
    }
  }

  /**
   * hart_suspend. Only the default non-retentive suspend is offered: the hart waits for
   * an interrupt enabled in sie (whatever sstatus.SIE says) and resumes at `resumeAddr` with
   * satp = 0, sstatus.SIE = 0, a0 = hartid and a1 = `opaque`. A retentive suspend would
   * have to return into the middle of a TypeScript kernel entry, which cannot block: it
   * answers SBI_ERR_NOT_SUPPORTED (the kernel uses `wfi` instead).
   */
  #hartSuspend(hart: Hart, type: number, resumeAddr: bigint, opaque: bigint) {
    if (type === SBI_HSM_SUSPEND_RET_DEFAULT) return err(SBI_ERR_NOT_SUPPORTED);
    if (type !== SBI_HSM_SUSPEND_NON_RET_DEFAULT) return err(SBI_ERR_INVALID_PARAM);
    if (!this.#executable(resumeAddr)) return err(SBI_ERR_INVALID_ADDRESS);
    hart.csrc(CSR_SSTATUS, SSTATUS_SIE);
    hart.csrw(CSR_SATP, 0n);
    hart.x[10] = BigInt(hart.hartId);
    hart.x[11] = BigInt.asIntN(64, opaque);
    this.#suspended.set(hart.hartId, true);
    hart.wfi(resumeAddr);
    return KEEP_REGISTERS;
  }

  /** Whether S-mode may execute at physical address `pa` with the MMU off: RAM it owns. */
  #executable(pa: bigint): boolean {
    return pa <= BigInt(Number.MAX_SAFE_INTEGER) && this.#machine.bus.ramOffset(Number(pa)) >= 0;
  }

  // ---- SRST (SBI §10) ----

  #systemReset(typeArg: bigint, reasonArg: bigint): SbiRet {
    const type = Number(typeArg & 0xffff_ffffn), reason = Number(reasonArg & 0xffff_ffffn);
    if (type > SBI_SRST_TYPE_WARM_REBOOT) return err(SBI_ERR_INVALID_PARAM); // reserved, vendor
    if (reason > SBI_SRST_REASON_SYSTEM_FAILURE) return err(SBI_ERR_INVALID_PARAM);
    const why = reason === SBI_SRST_REASON_SYSTEM_FAILURE ? "system failure" : "no reason";
    if (type === SBI_SRST_TYPE_SHUTDOWN) {
      this.#machine.powerOff(reason, `SBI system_reset: shutdown (${why})`);
    } else {
      const kind = type === SBI_SRST_TYPE_COLD_REBOOT ? "cold" : "warm";
      this.#machine.reset(`SBI system_reset: ${kind} reboot (${why})`);
    }
    return ok(0n);
  }

  // ---- DBCN (SBI §12), through the console UART's registers ----

  #dbcn(fid: number, a: bigint[]): SbiRet {
    if (fid === SBI_DBCN_CONSOLE_WRITE_BYTE) {
      return this.#putc(Number(a[0] & 0xffn)) ? ok(0n) : err(SBI_ERR_FAILED);
    }
    if (fid !== SBI_DBCN_CONSOLE_WRITE && fid !== SBI_DBCN_CONSOLE_READ) return NOT_SUPPORTED;
    const [n, lo, hi] = a;
    // The range must be RAM S-mode may access (SBI §3.1.2). §12 names INVALID_PARAM for
    // a range that breaks the rule, as OpenSBI returns.
    if (n === 0n) return ok(0n);
    if (hi !== 0n || n > 1n << 32n || lo + n > BigInt(Number.MAX_SAFE_INTEGER)) {
      return err(SBI_ERR_INVALID_PARAM);
    }
    const base = Number(lo);
    if (this.#machine.bus.ramOffset(base, Number(n)) < 0) return err(SBI_ERR_INVALID_PARAM);
    const len = Math.min(Number(n), SBI_DBCN_MAX_BYTES);
    const bus = this.#machine.bus;
    if (bus.read(this.#uartBase + UART_LSR, 1) === undefined) return err(SBI_ERR_FAILED);
    let done = 0;
    if (fid === SBI_DBCN_CONSOLE_WRITE) {
      // Non-blocking: write while the transmitter has room.
      while (done < len && this.#putc(Number(bus.read(base + done, 1)), false)) done++;
    } else {
      while (done < len) {
        const lsr = bus.read(this.#uartBase + UART_LSR, 1);
        if (lsr === undefined || (lsr & BigInt(UART_LSR_DR)) === 0n) break;
        bus.write(base + done, 1, bus.read(this.#uartBase + UART_RBR, 1) ?? 0n);
        done++;
      }
    }
    return ok(BigInt(done));
  }

  /**
   * Writes one byte to THR once LSR.THRE says there is room, as OpenSBI's uart8250 driver
   * does. `block` polls a bounded number of times; false when the UART never had room.
   */
  #putc(byte: number, block = true): boolean {
    const bus = this.#machine.bus;
    for (let tries = block ? 1000 : 1; tries > 0; tries--) {
      const lsr = bus.read(this.#uartBase + UART_LSR, 1);
      if (lsr === undefined) return false;
      if (lsr & BigInt(UART_LSR_THRE)) return bus.write(this.#uartBase + UART_THR, 1, BigInt(byte));
    }
    return false;
  }

  // ---- tracing ----

  #trace(hart: Hart, eid: bigint, fid: bigint, a: bigint[], ret: SbiRet | typeof KEEP_REGISTERS) {
    const ext = EXTENSION_NAMES[Number(eid)] ?? (eid <= 0x0fn ? "legacy" : hex(eid));
    const fn = FUNCTION_NAMES[Number(eid)]?.[Number(fid)] ?? `fid ${fid}`;
    const data: Record<string, string | number> = { ext, fn };
    a.forEach((v, i) => (data[`a${i}`] = hex(v)));
    if (ret === KEEP_REGISTERS) data.result = "does not return";
    else {
      data.error = ret.error;
      data.value = hex(ret.value);
    }
    this.#machine.trace.emit("firmware", hart.index, data);
  }
}

/** Returned by a call that set a0 and a1 itself (a non-retentive suspend). */
const KEEP_REGISTERS: unique symbol = Symbol("keep registers");

const NOT_SUPPORTED: SbiRet = { error: SBI_ERR_NOT_SUPPORTED, value: 0n };

function ok(value: bigint): SbiRet {
  return { error: SBI_SUCCESS, value };
}

function err(error: number): SbiRet {
  return { error, value: 0n };
}
