/**
 * Names and numbers from the Intel 64 and IA-32 Architectures Software Developer's Manual
 * (SDM), used by the CPU, the platform, the assembler and the kernel alike, so that every
 * reader can look a name up in the manual.
 *
 * Citations are to the SDM's volumes: Vol. 1 (basic architecture), Vol. 2 (instruction
 * set reference), Vol. 3A (system programming), Vol. 4 (model-specific registers). Section
 * titles are given with the numbers because the numbering moves between editions.
 *
 * @module
 */

// ---- general-purpose registers (Vol. 1 §3.4.1.1, "General-Purpose Registers in 64-Bit
// Mode"), in the order the ModRM and REX encodings number them -------------------------

/** RAX (accumulator; syscall number and first result). */
export const RAX = 0;
/** RCX (count; SYSCALL saves RIP here). */
export const RCX = 1;
/** RDX (second result). */
export const RDX = 2;
/** RBX. */
export const RBX = 3;
/** RSP (stack pointer). */
export const RSP = 4;
/** RBP (frame pointer). */
export const RBP = 5;
/** RSI (source index; second argument). */
export const RSI = 6;
/** RDI (destination index; first argument). */
export const RDI = 7;
/** R8. */
export const R8 = 8;
/** R9. */
export const R9 = 9;
/** R10 (fourth syscall argument). */
export const R10 = 10;
/** R11 (SYSCALL saves RFLAGS here). */
export const R11 = 11;
/** R12. */
export const R12 = 12;
/** R13. */
export const R13 = 13;
/** R14. */
export const R14 = 14;
/** R15 (the TypeScript user-thread handle). */
export const R15 = 15;

/** The 64-bit register names in encoding order, for messages and disassembly. */
export const REG_NAMES: readonly string[] = [
  "rax",
  "rcx",
  "rdx",
  "rbx",
  "rsp",
  "rbp",
  "rsi",
  "rdi",
  "r8",
  "r9",
  "r10",
  "r11",
  "r12",
  "r13",
  "r14",
  "r15",
];

// ---- segment registers (Vol. 3A §3.4.2, "Segment Selectors") -----------------------------

/** ES, in the Sreg encoding of ModRM.reg. */
export const SEG_ES = 0;
/** CS. */
export const SEG_CS = 1;
/** SS. */
export const SEG_SS = 2;
/** DS. */
export const SEG_DS = 3;
/** FS (its base is IA32_FS_BASE: thread-local storage). */
export const SEG_FS = 4;
/** GS (its base is IA32_GS_BASE: per-CPU data after SWAPGS). */
export const SEG_GS = 5;

/** Selector fields: RPL (bits 1:0), TI (bit 2: 1 = LDT), index (bits 15:3). */
export const SELECTOR_RPL_MASK = 3;
/** See {@link SELECTOR_RPL_MASK}. */
export const SELECTOR_TI = 1 << 2;

// ---- RFLAGS (Vol. 1 §3.4.3, "EFLAGS Register"; Vol. 3A §2.3, "System Flags") -------------

/** Carry flag. */
export const RFLAGS_CF = 1 << 0;
/** Bit 1 is reserved and always reads 1. */
export const RFLAGS_FIXED = 1 << 1;
/** Parity flag: the low byte of the result has an even number of ones. */
export const RFLAGS_PF = 1 << 2;
/** Auxiliary carry flag: carry or borrow out of bit 3. */
export const RFLAGS_AF = 1 << 4;
/** Zero flag. */
export const RFLAGS_ZF = 1 << 6;
/** Sign flag. */
export const RFLAGS_SF = 1 << 7;
/** Trap flag (single-step). */
export const RFLAGS_TF = 1 << 8;
/** Interrupt enable flag. */
export const RFLAGS_IF = 1 << 9;
/** Direction flag (string instructions count down when set). */
export const RFLAGS_DF = 1 << 10;
/** Overflow flag. */
export const RFLAGS_OF = 1 << 11;
/** I/O privilege level, bits 13:12. */
export const RFLAGS_IOPL = 3 << 12;
/** Nested task. */
export const RFLAGS_NT = 1 << 14;
/** Resume flag. */
export const RFLAGS_RF = 1 << 16;
/** Virtual-8086 mode. */
export const RFLAGS_VM = 1 << 17;
/** Alignment check (with CR0.AM). */
export const RFLAGS_AC = 1 << 18;
/** Virtual interrupt flag. */
export const RFLAGS_VIF = 1 << 19;
/** Virtual interrupt pending. */
export const RFLAGS_VIP = 1 << 20;
/** ID flag: software can toggle it iff CPUID exists. */
export const RFLAGS_ID = 1 << 21;
/** The six arithmetic status flags. */
export const RFLAGS_STATUS = RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF |
  RFLAGS_OF;

// ---- control registers (Vol. 3A §2.5, "Control Registers") ------------------------------

/** CR0.PE: protection enable. */
export const CR0_PE = 1 << 0;
/** CR0.MP: monitor coprocessor. */
export const CR0_MP = 1 << 1;
/** CR0.EM: emulation (no x87). */
export const CR0_EM = 1 << 2;
/** CR0.TS: task switched. */
export const CR0_TS = 1 << 3;
/** CR0.ET: extension type (reads 1). */
export const CR0_ET = 1 << 4;
/** CR0.NE: numeric error. */
export const CR0_NE = 1 << 5;
/** CR0.WP: write protect (supervisor writes obey R/W = 0). */
export const CR0_WP = 1 << 16;
/** CR0.AM: alignment mask. */
export const CR0_AM = 1 << 18;
/** CR0.NW: not write-through. */
export const CR0_NW = 1 << 29;
/** CR0.CD: cache disable. */
export const CR0_CD = 1 << 30;
/** CR0.PG: paging (bit 31). */
export const CR0_PG = 2 ** 31;

/** CR3 bit 3: page-level write-through (when CR4.PCIDE = 0). */
export const CR3_PWT = 1 << 3;
/** CR3 bit 4: page-level cache disable (when CR4.PCIDE = 0). */
export const CR3_PCD = 1 << 4;
/** CR3 bits 11:0: the process-context identifier when CR4.PCIDE = 1 (Vol. 3A §4.10.1). */
export const CR3_PCID_MASK = 0xfff;
/** Bit 63 of a value written to CR3: do not flush the new PCID's entries (Vol. 3A §4.10.4.1). */
export const CR3_NOFLUSH = 1n << 63n;

/** CR4.VME. */
export const CR4_VME = 1 << 0;
/** CR4.PVI. */
export const CR4_PVI = 1 << 1;
/** CR4.TSD: RDTSC is privileged. */
export const CR4_TSD = 1 << 2;
/** CR4.DE: debugging extensions. */
export const CR4_DE = 1 << 3;
/** CR4.PSE: page size extensions (ignored by 4-level paging). */
export const CR4_PSE = 1 << 4;
/** CR4.PAE: physical address extension (required by long mode). */
export const CR4_PAE = 1 << 5;
/** CR4.MCE: machine-check enable. */
export const CR4_MCE = 1 << 6;
/** CR4.PGE: global pages. */
export const CR4_PGE = 1 << 7;
/** CR4.PCE: RDPMC allowed in ring 3. */
export const CR4_PCE = 1 << 8;
/** CR4.OSFXSR. */
export const CR4_OSFXSR = 1 << 9;
/** CR4.OSXMMEXCPT. */
export const CR4_OSXMMEXCPT = 1 << 10;
/** CR4.UMIP: SGDT, SIDT, SLDT, SMSW, STR are privileged. */
export const CR4_UMIP = 1 << 11;
/** CR4.LA57: 5-level paging (not supported: setting it raises #GP). */
export const CR4_LA57 = 1 << 12;
/** CR4.FSGSBASE: RDFSBASE and friends (not supported). */
export const CR4_FSGSBASE = 1 << 16;
/** CR4.PCIDE: process-context identifiers. */
export const CR4_PCIDE = 1 << 17;
/** CR4.OSXSAVE. */
export const CR4_OSXSAVE = 1 << 18;
/** CR4.SMEP: supervisor-mode execution prevention (not supported). */
export const CR4_SMEP = 1 << 20;
/** CR4.SMAP: supervisor-mode access prevention (not supported). */
export const CR4_SMAP = 1 << 21;

/** CR8 bits 3:0: the task-priority class (TPR[7:4]). */
export const CR8_TPR_MASK = 0xf;

// ---- model-specific registers (Vol. 4, Table 2-2, "IA-32 Architectural MSRs") ------------

/** IA32_TIME_STAMP_COUNTER: the TSC. */
export const IA32_TIME_STAMP_COUNTER = 0x10;
/** IA32_APIC_BASE: the local APIC's base address and enable bits (the platform's). */
export const IA32_APIC_BASE = 0x1b;
/** IA32_MISC_ENABLE. */
export const IA32_MISC_ENABLE = 0x1a0;
/** IA32_PAT: page attribute table. */
export const IA32_PAT = 0x277;
/** IA32_TSC_DEADLINE: the LAPIC timer's TSC-deadline mode (the platform's). */
export const IA32_TSC_DEADLINE = 0x6e0;
/** The x2APIC register range, 0x800-0x8FF (the platform's). */
export const IA32_X2APIC_FIRST = 0x800;
/** See {@link IA32_X2APIC_FIRST}. */
export const IA32_X2APIC_LAST = 0x8ff;
/** IA32_EFER: extended feature enables (Vol. 3A §2.2.1, "Extended Feature Enable Register"). */
export const IA32_EFER = 0xc000_0080;
/** IA32_STAR: SYSCALL/SYSRET segment selectors (bits 47:32 and 63:48). */
export const IA32_STAR = 0xc000_0081;
/** IA32_LSTAR: the RIP SYSCALL jumps to in 64-bit mode. */
export const IA32_LSTAR = 0xc000_0082;
/** IA32_CSTAR: SYSCALL target from compatibility mode (stored, never used here). */
export const IA32_CSTAR = 0xc000_0083;
/** IA32_FMASK: RFLAGS bits SYSCALL clears (the SDM also calls it SFMASK). */
export const IA32_FMASK = 0xc000_0084;
/** IA32_FS_BASE: the FS segment base. */
export const IA32_FS_BASE = 0xc000_0100;
/** IA32_GS_BASE: the GS segment base. */
export const IA32_GS_BASE = 0xc000_0101;
/** IA32_KERNEL_GS_BASE: swapped with IA32_GS_BASE by SWAPGS. */
export const IA32_KERNEL_GS_BASE = 0xc000_0102;
/** IA32_TSC_AUX: what RDTSCP returns in ECX (the kernel stores the CPU number). */
export const IA32_TSC_AUX = 0xc000_0103;

/** EFER.SCE: SYSCALL/SYSRET enable. */
export const EFER_SCE = 1 << 0;
/** EFER.LME: long mode enable. */
export const EFER_LME = 1 << 8;
/** EFER.LMA: long mode active (read-only, set by the CPU when paging turns on). */
export const EFER_LMA = 1 << 10;
/** EFER.NXE: execute-disable bit (PTE bit 63) enable. */
export const EFER_NXE = 1 << 11;

// ---- exception and interrupt vectors (Vol. 3A §6.3.1, Table 6-1, "Protected-Mode
// Exceptions and Interrupts") ----------------------------------------------------------

/** #DE: divide error. */
export const EXC_DE = 0;
/** #DB: debug. */
export const EXC_DB = 1;
/** NMI. */
export const EXC_NMI = 2;
/** #BP: breakpoint (INT3). */
export const EXC_BP = 3;
/** #OF: overflow (INTO). */
export const EXC_OF = 4;
/** #BR: BOUND range exceeded. */
export const EXC_BR = 5;
/** #UD: invalid opcode. */
export const EXC_UD = 6;
/** #NM: device not available. */
export const EXC_NM = 7;
/** #DF: double fault (error code 0). */
export const EXC_DF = 8;
/** #TS: invalid TSS. */
export const EXC_TS = 10;
/** #NP: segment not present. */
export const EXC_NP = 11;
/** #SS: stack-segment fault. */
export const EXC_SS = 12;
/** #GP: general protection. */
export const EXC_GP = 13;
/** #PF: page fault. */
export const EXC_PF = 14;
/** #MF: x87 floating-point error. */
export const EXC_MF = 16;
/** #AC: alignment check. */
export const EXC_AC = 17;
/** #MC: machine check. */
export const EXC_MC = 18;
/** #XM: SIMD floating-point exception. */
export const EXC_XM = 19;
/** #VE: virtualization exception. */
export const EXC_VE = 20;
/** #CP: control protection. */
export const EXC_CP = 21;

/** Names of the exception vectors, for messages. */
export const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  0: "#DE divide error",
  1: "#DB debug",
  2: "NMI",
  3: "#BP breakpoint",
  4: "#OF overflow",
  5: "#BR bound range exceeded",
  6: "#UD invalid opcode",
  7: "#NM device not available",
  8: "#DF double fault",
  10: "#TS invalid TSS",
  11: "#NP segment not present",
  12: "#SS stack-segment fault",
  13: "#GP general protection",
  14: "#PF page fault",
  16: "#MF x87 floating-point error",
  17: "#AC alignment check",
  18: "#MC machine check",
  19: "#XM SIMD floating-point exception",
  20: "#VE virtualization exception",
  21: "#CP control protection",
};

/** A vector's name for messages: "#PF page fault", or "vector 0x20". */
export function vectorName(vector: number): string {
  return EXCEPTION_NAMES[vector] ?? `vector ${"0x" + vector.toString(16)}`;
}

/** The vectors that push an error code (Vol. 3A §6.13, "Error Code"). */
export function hasErrorCode(vector: number): boolean {
  return vector === EXC_DF || (vector >= EXC_TS && vector <= EXC_PF) || vector === EXC_AC ||
    vector === EXC_CP;
}

/** Error-code bit EXT: the event was external to the program (Vol. 3A §6.13). */
export const ERR_EXT = 1 << 0;
/** Error-code bit IDT: the index refers to a gate in the IDT. */
export const ERR_IDT = 1 << 1;
/** Error-code bit TI: the index refers to the LDT (only when IDT = 0). */
export const ERR_TI = 1 << 2;

// ---- page-fault error code (Vol. 3A §4.7, "Page-Fault Exceptions") -----------------------

/** P: 0 = the page was not present, 1 = a protection violation. */
export const PF_P = 1 << 0;
/** W/R: the access was a write. */
export const PF_W = 1 << 1;
/** U/S: the access was a user-mode access. */
export const PF_U = 1 << 2;
/** RSVD: a reserved bit was set in some paging-structure entry. */
export const PF_RSVD = 1 << 3;
/** I/D: the access was an instruction fetch (reported when EFER.NXE = 1). */
export const PF_I = 1 << 4;

// ---- 4-level paging entries (Vol. 3A §4.5, Tables 4-15 to 4-20) -------------------------

/** Present. */
export const PTE_P = 1 << 0;
/** Read/write: 0 = writes not allowed. */
export const PTE_W = 1 << 1;
/** User/supervisor: 1 = user-mode accesses allowed. */
export const PTE_U = 1 << 2;
/** Page-level write-through. */
export const PTE_PWT = 1 << 3;
/** Page-level cache disable. */
export const PTE_PCD = 1 << 4;
/** Accessed. */
export const PTE_A = 1 << 5;
/** Dirty (in an entry that maps a page). */
export const PTE_D = 1 << 6;
/** Page size: in a PDPTE maps a 1-GiB page, in a PDE a 2-MiB page (reserved in a PML4E). */
export const PTE_PS = 1 << 7;
/** PAT bit of a 4-KiB PTE (bit 7). */
export const PTE_PAT = 1 << 7;
/** Global (in an entry that maps a page, with CR4.PGE = 1). */
export const PTE_G = 1 << 8;
/** PAT bit of a 2-MiB or 1-GiB page (bit 12). */
export const PTE_PAT_LARGE = 1 << 12;
/** Execute-disable (bit 63; reserved unless EFER.NXE = 1). */
export const PTE_NX = 1n << 63n;

/** MAXPHYADDR: physical-address width this CPU reports (CPUID.80000008H:EAX[7:0]). */
export const MAXPHYADDR = 46;
/** Linear-address width (CPUID.80000008H:EAX[15:8]): 48 bits, 4-level paging. */
export const LINEAR_ADDRESS_BITS = 48;
/** Page sizes. */
export const PAGE_SIZE = 4096;
/** A 2-MiB page (PDE with PS = 1). */
export const PAGE_SIZE_2M = 2 * 1024 * 1024;
/** A 1-GiB page (PDPTE with PS = 1). */
export const PAGE_SIZE_1G = 1024 * 1024 * 1024;

// ---- segment and gate descriptors (Vol. 3A §3.4.5, "Segment Descriptors"; §3.5, Table 3-2,
// "System-Segment and Gate-Descriptor Types"; §6.14.1, "64-Bit Mode IDT") ------------------

/** Descriptor access byte: S = 1 for code and data segments, 0 for system descriptors. */
export const DESC_S = 1 << 4;
/** Descriptor access byte: present. */
export const DESC_P = 1 << 7;
/** Code/data type bit 3: 1 = code. */
export const DESC_TYPE_CODE = 1 << 3;
/** Code type bit 2: conforming. Data type bit 2: expand-down. */
export const DESC_TYPE_CONFORMING = 1 << 2;
/** Code type bit 1: readable. Data type bit 1: writable. */
export const DESC_TYPE_RW = 1 << 1;
/** Type bit 0: accessed. */
export const DESC_TYPE_ACCESSED = 1 << 0;
/** Flags nibble (descriptor bits 55:52): L = 64-bit code segment (bit 53). */
export const DESC_L = 1n << 53n;
/** Flags nibble: D/B = 32-bit default operation size (bit 54; must be 0 with L = 1). */
export const DESC_DB = 1n << 54n;
/** Flags nibble: G = limit counted in 4-KiB units (bit 55). */
export const DESC_G = 1n << 55n;

/** System descriptor type: 64-bit TSS, available. */
export const SYS_TSS64_AVAILABLE = 0x9;
/** System descriptor type: 64-bit TSS, busy. */
export const SYS_TSS64_BUSY = 0xb;
/** System descriptor type: LDT. */
export const SYS_LDT = 0x2;
/** System descriptor type: 64-bit call gate. */
export const SYS_CALL_GATE64 = 0xc;
/** Gate type: 64-bit interrupt gate (clears IF). */
export const GATE_INTERRUPT64 = 0xe;
/** Gate type: 64-bit trap gate (leaves IF). */
export const GATE_TRAP64 = 0xf;

/** Size of an IDT gate in 64-bit mode. */
export const IDT_GATE_SIZE = 16;

// ---- the 64-bit TSS (Vol. 3A §8.7, "Task Management in 64-bit Mode", Figure 8-11) --------

/** Offset of RSP0 in the 64-bit TSS. */
export const TSS_RSP0 = 4;
/** Offset of IST1 (ISTn is at TSS_IST1 + 8 * (n - 1)). */
export const TSS_IST1 = 36;
/** Offset of the I/O map base address (16 bits). */
export const TSS_IOMAP_BASE = 102;
/** The smallest limit a 64-bit TSS may have (0x67: 104 bytes). */
export const TSS_MIN_LIMIT = 0x67;

// ---- time ----------------------------------------------------------------------------------

/**
 * The frequency of the time-stamp counter: 2.4 GHz of virtual time, invariant (it never
 * stops or changes rate). RDTSC = floor(ns * 2.4) + the offset written through
 * IA32_TIME_STAMP_COUNTER. CPUID leaf 15H reports it (crystal 100 MHz * 24 / 1).
 */
export const TSC_HZ = 2_400_000_000;
