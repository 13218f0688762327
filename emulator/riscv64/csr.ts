/**
 * Names and numbers from the RISC-V privileged specification (version 20240411), used by
 * the hart, the board, the firmware and the kernel alike, so that every reader can look
 * a name up in the manual.
 *
 * Section numbers below refer to "The RISC-V Instruction Set Manual, Volume II:
 * Privileged Architecture".
 *
 * @module
 */

// ---- CSR addresses (Table 2.2 to 2.5) ------------------------------------------------

/** Supervisor status register (§10.1.1). */
export const CSR_SSTATUS = 0x100;
/** Supervisor interrupt-enable register (§10.1.3). */
export const CSR_SIE = 0x104;
/** Supervisor trap vector base address (§10.1.2). */
export const CSR_STVEC = 0x105;
/** Supervisor counter enable (§10.1.5). */
export const CSR_SCOUNTEREN = 0x106;
/** Supervisor environment configuration (§10.1.10). */
export const CSR_SENVCFG = 0x10a;
/** Supervisor scratch register (§10.1.6). */
export const CSR_SSCRATCH = 0x140;
/** Supervisor exception program counter (§10.1.7). */
export const CSR_SEPC = 0x141;
/** Supervisor trap cause (§10.1.8). */
export const CSR_SCAUSE = 0x142;
/** Supervisor trap value (§10.1.9). */
export const CSR_STVAL = 0x143;
/** Supervisor interrupt pending (§10.1.3). */
export const CSR_SIP = 0x144;
/** Supervisor timer compare, from the Sstc extension. */
export const CSR_STIMECMP = 0x14d;
/** Supervisor address translation and protection (§10.1.11). */
export const CSR_SATP = 0x180;
/** Cycle counter, user read-only (Zicntr). */
export const CSR_CYCLE = 0xc00;
/** Real-time counter, user read-only (Zicntr). */
export const CSR_TIME = 0xc01;
/** Instructions-retired counter, user read-only (Zicntr). */
export const CSR_INSTRET = 0xc02;

// ---- stvec, scounteren, senvcfg fields ------------------------------------------------

/** stvec.MODE (bits 1:0, §10.1.2): every trap goes to BASE. */
export const STVEC_MODE_DIRECT = 0;
/** stvec.MODE: interrupts go to BASE + 4 × cause, exceptions to BASE. */
export const STVEC_MODE_VECTORED = 1;
/** scounteren.CY (§10.1.5): U-mode may read `cycle`. */
export const SCOUNTEREN_CY = 1 << 0;
/** scounteren.TM: U-mode may read `time`. */
export const SCOUNTEREN_TM = 1 << 1;
/** scounteren.IR: U-mode may read `instret`. */
export const SCOUNTEREN_IR = 1 << 2;
/** senvcfg.FIOM (§10.1.10): fences on memory also order I/O. */
export const SENVCFG_FIOM = 1n << 0n;

// ---- sstatus fields (§10.1.1) ---------------------------------------------------------

/** Supervisor interrupt enable. */
export const SSTATUS_SIE = 1n << 1n;
/** Supervisor previous interrupt enable. */
export const SSTATUS_SPIE = 1n << 5n;
/** U-mode endianness (read-only 0: little-endian). */
export const SSTATUS_UBE = 1n << 6n;
/** Supervisor previous privilege: 0 = U, 1 = S. */
export const SSTATUS_SPP = 1n << 8n;
/** Permit supervisor user memory access. */
export const SSTATUS_SUM = 1n << 18n;
/** Make executable readable. */
export const SSTATUS_MXR = 1n << 19n;
/** XLEN of U-mode: read-only 2 (64-bit), bits 33:32. */
export const SSTATUS_UXL_64 = 2n << 32n;

// ---- interrupts: bit numbers in sip and sie, and scause codes with the interrupt bit --

/** Supervisor software interrupt (an IPI). */
export const IRQ_S_SOFT = 1;
/** Supervisor timer interrupt. */
export const IRQ_S_TIMER = 5;
/** Supervisor external interrupt (from the PLIC). */
export const IRQ_S_EXT = 9;
/** The sip/sie bit of each supervisor interrupt. */
export const SIP_SSIP = 1n << 1n;
/** See {@link SIP_SSIP}. */
export const SIP_STIP = 1n << 5n;
/** See {@link SIP_SSIP}. */
export const SIP_SEIP = 1n << 9n;
/** The interrupt bit of scause (bit XLEN-1). */
export const SCAUSE_INTERRUPT = 1n << 63n;

// ---- exception codes in scause (Table 3.6 and §10.1.8) --------------------------------

/** Instruction address misaligned. */
export const EXC_INST_MISALIGNED = 0;
/** Instruction access fault. */
export const EXC_INST_ACCESS = 1;
/** Illegal instruction. */
export const EXC_ILLEGAL_INST = 2;
/** Breakpoint (ebreak). */
export const EXC_BREAKPOINT = 3;
/** Load address misaligned. */
export const EXC_LOAD_MISALIGNED = 4;
/** Load access fault. */
export const EXC_LOAD_ACCESS = 5;
/** Store/AMO address misaligned. */
export const EXC_STORE_MISALIGNED = 6;
/** Store/AMO access fault. */
export const EXC_STORE_ACCESS = 7;
/** Environment call from U-mode. */
export const EXC_ECALL_U = 8;
/** Environment call from S-mode. */
export const EXC_ECALL_S = 9;
/** Instruction page fault. */
export const EXC_INST_PAGE_FAULT = 12;
/** Load page fault. */
export const EXC_LOAD_PAGE_FAULT = 13;
/** Store/AMO page fault. */
export const EXC_STORE_PAGE_FAULT = 15;

/** Names of the exception codes, for messages. */
export const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  0: "instruction address misaligned",
  1: "instruction access fault",
  2: "illegal instruction",
  3: "breakpoint",
  4: "load address misaligned",
  5: "load access fault",
  6: "store/AMO address misaligned",
  7: "store/AMO access fault",
  8: "environment call from U-mode",
  9: "environment call from S-mode",
  12: "instruction page fault",
  13: "load page fault",
  15: "store/AMO page fault",
};

/** Names of the supervisor interrupts, for messages. */
export const INTERRUPT_NAMES: Readonly<Record<number, string>> = {
  1: "supervisor software interrupt",
  5: "supervisor timer interrupt",
  9: "supervisor external interrupt",
};

// ---- satp (§10.1.11) and page-table entries (§10.3 to §10.5) ---------------------------

/** satp.MODE: no translation. */
export const SATP_MODE_BARE = 0;
/** satp.MODE: Sv39, three levels. */
export const SATP_MODE_SV39 = 8;
/** satp.MODE: Sv48, four levels. */
export const SATP_MODE_SV48 = 9;
/** satp.MODE: Sv57 (not implemented by this hart: writing it leaves satp unchanged). */
export const SATP_MODE_SV57 = 10;
/** Builds a satp value from mode, ASID and the root table's physical page number. */
export function makeSatp(mode: number, asid: number, rootPpn: number): bigint {
  return (BigInt(mode) << 60n) | (BigInt(asid & 0xffff) << 44n) | BigInt(rootPpn);
}

/** Page size, and the page offset width. */
export const PAGE_SIZE = 4096;
/** Valid. */
export const PTE_V = 1 << 0;
/** Readable. */
export const PTE_R = 1 << 1;
/** Writable. */
export const PTE_W = 1 << 2;
/** Executable. */
export const PTE_X = 1 << 3;
/** Accessible to U-mode. */
export const PTE_U = 1 << 4;
/** Global mapping (in every address space). */
export const PTE_G = 1 << 5;
/** Accessed. */
export const PTE_A = 1 << 6;
/** Dirty. */
export const PTE_D = 1 << 7;
/** satp.MODE occupies bits 63:60. */
export const SATP_MODE_SHIFT = 60n;
/** satp.ASID occupies bits 59:44. */
export const SATP_ASID_SHIFT = 44n;
/** satp.PPN occupies bits 43:0. */
export const SATP_PPN_MASK = (1n << 44n) - 1n;
/** PTE bit 63, N: NAPOT translation (Svnapot; not implemented here, so reserved). */
export const PTE_N = 1n << 63n;
/** PTE bits 62:61, PBMT: page-based memory types (Svpbmt; not implemented, so reserved). */
export const PTE_PBMT = 3n << 61n;
/** PTE bits 63:54: reserved for future standard use when Svnapot and Svpbmt are absent. */
export const PTE_HIGH_RESERVED = 0x3ffn << 54n;
/** The PPN field of a PTE starts at bit 10. */
export const PTE_PPN_SHIFT = 10n;

// ---- the Supervisor Binary Interface (RISC-V SBI specification v2.0) -------------------

/** Base extension (§4). */
export const SBI_EXT_BASE = 0x10;
/** Timer extension, "TIME" (§6). */
export const SBI_EXT_TIME = 0x5449_4d45;
/** IPI extension, "sPI" (§7). */
export const SBI_EXT_IPI = 0x0073_5049;
/** RFENCE extension, "RFNC" (§8). */
export const SBI_EXT_RFENCE = 0x5246_4e43;
/** Hart state management, "HSM" (§9). */
export const SBI_EXT_HSM = 0x0048_534d;
/** System reset, "SRST" (§10). */
export const SBI_EXT_SRST = 0x5352_5354;
/** Debug console, "DBCN" (§12). */
export const SBI_EXT_DBCN = 0x4442_434e;

/** SBI error codes (§3.2), returned in a0. */
export const SBI_SUCCESS = 0;
/** See {@link SBI_SUCCESS}. */
export const SBI_ERR_FAILED = -1;
/** See {@link SBI_SUCCESS}. */
export const SBI_ERR_NOT_SUPPORTED = -2;
/** See {@link SBI_SUCCESS}. */
export const SBI_ERR_INVALID_PARAM = -3;
/** See {@link SBI_SUCCESS}. */
export const SBI_ERR_DENIED = -4;
/** See {@link SBI_SUCCESS}. */
export const SBI_ERR_INVALID_ADDRESS = -5;
/** See {@link SBI_SUCCESS}. */
export const SBI_ERR_ALREADY_AVAILABLE = -6;
/** See {@link SBI_SUCCESS}. */
export const SBI_ERR_ALREADY_STARTED = -7;
/** See {@link SBI_SUCCESS}. */
export const SBI_ERR_ALREADY_STOPPED = -8;

/** The frequency of the `time` CSR and the CLINT's mtime: 10 MHz, as on QEMU's virt. */
export const TIMEBASE_HZ = 10_000_000;
/** Nanoseconds per tick of `time`. */
export const NS_PER_TICK = 1e9 / TIMEBASE_HZ;
