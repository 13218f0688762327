/**
 * Control registers, model-specific registers and CPUID: the CPU's configuration as the
 * kernel programs it (SDM Vol. 3A §2.5, "Control Registers"; §4.10.4, "Invalidation of
 * TLBs and Paging-Structure Caches"; Vol. 4 for the MSRs; Vol. 2A, CPUID).
 *
 * Every function raises #GP(0) through `cpu.raise` for what the SDM forbids: reserved
 * bits, invalid combinations (CR0.PG without CR4.PAE in long mode, CR4.PCIDE with a
 * nonzero PCID in CR3), non-canonical base addresses, unknown MSRs.
 *
 * @module
 */

import { hex } from "../core/memory.ts";
import { canonicalNumber, type X86Processor } from "./cpu.ts";
import {
  CR0_AM,
  CR0_CD,
  CR0_EM,
  CR0_ET,
  CR0_MP,
  CR0_NE,
  CR0_NW,
  CR0_PE,
  CR0_PG,
  CR0_TS,
  CR0_WP,
  CR3_NOFLUSH,
  CR3_PCID_MASK,
  CR4_DE,
  CR4_LA57,
  CR4_MCE,
  CR4_OSFXSR,
  CR4_OSXMMEXCPT,
  CR4_PAE,
  CR4_PCE,
  CR4_PCIDE,
  CR4_PGE,
  CR4_PSE,
  CR4_TSD,
  CR4_UMIP,
  EFER_LMA,
  EFER_LME,
  EFER_NXE,
  EFER_SCE,
  EXC_GP,
  EXC_UD,
  IA32_CSTAR,
  IA32_EFER,
  IA32_FMASK,
  IA32_FS_BASE,
  IA32_GS_BASE,
  IA32_KERNEL_GS_BASE,
  IA32_LSTAR,
  IA32_MISC_ENABLE,
  IA32_PAT,
  IA32_STAR,
  IA32_TIME_STAMP_COUNTER,
  IA32_TSC_AUX,
  MAXPHYADDR,
  TSC_HZ,
} from "./regs.ts";

/** TSC ticks per nanosecond of virtual time. */
export const TSC_PER_NS = TSC_HZ / 1e9;

/** CR0 bits software may set (the others are reserved: #GP). ET reads 1 always. */
const CR0_SUPPORTED = CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM |
  CR0_NW | CR0_CD | CR0_PG;
/** CR4 bits this CPU implements (setting others raises #GP, as for an absent feature). */
const CR4_SUPPORTED = CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE |
  CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_UMIP | CR4_PCIDE;
/** EFER bits this CPU implements. */
const EFER_SUPPORTED = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;

/** #GP(0) with the reason in words. */
function gp(cpu: X86Processor, why: string): never {
  cpu.faultWhy = why;
  cpu.raise(EXC_GP, 0);
}

/** `mov rax, crN`. */
export function readCr(cpu: X86Processor, n: number): bigint {
  switch (n) {
    case 0:
      return BigInt(cpu.cr0 >>> 0);
    case 2:
      return BigInt.asUintN(64, BigInt(cpu.cr2));
    case 3:
      return cpu.cr3;
    case 4:
      return BigInt(cpu.cr4);
    case 8:
      return BigInt(cpu.apic?.readTpr ? cpu.apic.readTpr() & 0xf : cpu.cr8);
  }
  cpu.raise(EXC_UD);
}

/** `mov crN, rax`, with the SDM's checks and TLB effects. */
export function writeCr(cpu: X86Processor, n: number, raw: bigint): void {
  const value = BigInt.asUintN(64, raw);
  switch (n) {
    case 0:
      return writeCr0(cpu, value);
    case 2:
      cpu.cr2 = Number(BigInt.asIntN(64, value));
      if (!Number.isSafeInteger(cpu.cr2)) cpu.cr2 = 0;
      return;
    case 3:
      return writeCr3(cpu, value);
    case 4:
      return writeCr4(cpu, value);
    case 8:
      if (value >> 4n) gp(cpu, `CR8 ${hex(value)} sets reserved bits 63:4`);
      if (cpu.apic?.writeTpr) cpu.apic.writeTpr(Number(value));
      else cpu.cr8 = Number(value);
      cpu.loopBudget = 0;
      return;
  }
  cpu.raise(EXC_UD);
}

function writeCr0(cpu: X86Processor, value: bigint): void {
  if (value >> 32n) gp(cpu, `CR0 ${hex(value)} sets reserved bits 63:32`);
  const v = Number(value) | CR0_ET;
  if (v & ~CR0_SUPPORTED) gp(cpu, `CR0 ${hex(value)} sets reserved bits`);
  if ((v & CR0_PG) && !(v & CR0_PE)) gp(cpu, "CR0.PG = 1 needs CR0.PE = 1");
  if ((v & CR0_NW) && !(v & CR0_CD)) gp(cpu, "CR0.NW = 1 needs CR0.CD = 1");
  const wasPg = (cpu.cr0 & CR0_PG) !== 0, pg = (v & CR0_PG) !== 0;
  if (pg && !wasPg && (cpu.efer & EFER_LME)) {
    // Activating long mode needs PAE (Vol. 3A §10.8.5, "Initializing IA-32e Mode").
    if (!(cpu.cr4 & CR4_PAE)) gp(cpu, "enabling paging with EFER.LME = 1 needs CR4.PAE = 1");
    cpu.efer |= EFER_LMA;
  }
  if (!pg && wasPg) {
    if (cpu.efer & EFER_LMA) gp(cpu, "turning paging off in 64-bit mode (leaving long mode)");
    cpu.traceFlush("cr0.pg=0", cpu.tlb.flushAll(), "all");
  }
  cpu.cr0 = v >>> 0;
  cpu.updateNeed();
}

function writeCr3(cpu: X86Processor, value: bigint): void {
  const pcide = (cpu.cr4 & CR4_PCIDE) !== 0;
  const noFlush = pcide && (value & CR3_NOFLUSH) !== 0n;
  const v = pcide ? value & ~CR3_NOFLUSH : value;
  if (v >> BigInt(MAXPHYADDR)) gp(cpu, `CR3 ${hex(v)} sets bits above MAXPHYADDR (${MAXPHYADDR})`);
  cpu.cr3 = v;
  cpu.pml4 = Number(v & ~0xfffn);
  cpu.setPcid(pcide ? Number(v & BigInt(CR3_PCID_MASK)) : 0);
  if (!noFlush) {
    cpu.traceFlush("mov cr3", cpu.tlb.flushNonGlobal(cpu.pcid), `non-global, pcid ${cpu.pcid}`);
  }
  cpu.loopBudget = 0;
}

function writeCr4(cpu: X86Processor, value: bigint): void {
  if (value >> 32n) gp(cpu, `CR4 ${hex(value)} sets reserved bits 63:32`);
  const v = Number(value);
  if ((v & CR4_LA57) !== 0) gp(cpu, "CR4.LA57: 5-level paging is not supported");
  if (v & ~CR4_SUPPORTED) gp(cpu, `CR4 ${hex(value)} sets bits of features this CPU lacks`);
  if ((cpu.efer & EFER_LMA) && !(v & CR4_PAE)) gp(cpu, "clearing CR4.PAE in 64-bit mode");
  const old = cpu.cr4;
  // Setting PCIDE needs CR3[11:0] = 0 and long mode (Vol. 3A §4.10.1).
  if ((v & CR4_PCIDE) && !(old & CR4_PCIDE)) {
    if ((cpu.cr3 & 0xfffn) !== 0n) gp(cpu, "setting CR4.PCIDE needs CR3[11:0] = 0");
    if (!(cpu.efer & EFER_LMA)) gp(cpu, "setting CR4.PCIDE needs long mode");
  }
  cpu.cr4 = v;
  // Changing PGE, or clearing PCIDE, invalidates everything, globals included (§4.10.4.1).
  if (((old ^ v) & CR4_PGE) || ((old & CR4_PCIDE) && !(v & CR4_PCIDE))) {
    cpu.traceFlush("mov cr4", cpu.tlb.flushAll(), "all, global included");
  }
  if (!(v & CR4_PCIDE)) cpu.setPcid(0);
  cpu.loopBudget = 0;
}

/** `rdmsr`. */
export function rdmsr(cpu: X86Processor, msr: number): bigint {
  const base = (n: number) => BigInt.asUintN(64, BigInt(n));
  switch (msr >>> 0) {
    case IA32_TIME_STAMP_COUNTER:
      return cpu.tsc();
    case IA32_EFER:
      return BigInt(cpu.efer);
    case IA32_STAR:
      return cpu.star;
    case IA32_LSTAR:
      return base(cpu.lstar);
    case IA32_CSTAR:
      return base(cpu.cstar);
    case IA32_FMASK:
      return BigInt(cpu.fmask >>> 0);
    case IA32_FS_BASE:
      return base(cpu.fsBase);
    case IA32_GS_BASE:
      return base(cpu.gsBase);
    case IA32_KERNEL_GS_BASE:
      return base(cpu.kernelGsBase);
    case IA32_TSC_AUX:
      return BigInt(cpu.tscAux >>> 0);
    case IA32_PAT:
      return cpu.pat;
    case IA32_MISC_ENABLE:
      return cpu.miscEnable;
  }
  const v = cpu.msrHook?.rdmsr(cpu, msr >>> 0);
  if (v === undefined) gp(cpu, `rdmsr ${hex(msr >>> 0)}: no such MSR`);
  return BigInt.asUintN(64, v);
}

/** `wrmsr`. */
export function wrmsr(cpu: X86Processor, msr: number, value: bigint): void {
  const v = BigInt.asUintN(64, value);
  const canonical = (): number => {
    const n = canonicalNumber(v);
    if (n === undefined) gp(cpu, `wrmsr ${hex(msr >>> 0)}: ${hex(v)} is not canonical`);
    return n;
  };
  switch (msr >>> 0) {
    case IA32_TIME_STAMP_COUNTER:
      cpu.tscOffset = v - BigInt(Math.floor(cpu.nowNs() * TSC_PER_NS));
      return;
    case IA32_EFER: {
      const n = Number(v);
      if (v >> 32n || (n & ~EFER_SUPPORTED)) gp(cpu, `EFER ${hex(v)} sets reserved bits`);
      // LME cannot change while paging is on; LMA is read-only.
      if ((cpu.cr0 & CR0_PG) && ((n ^ cpu.efer) & EFER_LME)) {
        gp(cpu, "EFER.LME cannot change while CR0.PG = 1");
      }
      cpu.efer = (n & ~EFER_LMA) | (cpu.efer & EFER_LMA);
      cpu.updateNeed();
      return;
    }
    case IA32_STAR:
      cpu.setStar(v);
      return;
    case IA32_LSTAR:
      cpu.lstar = canonical();
      return;
    case IA32_CSTAR:
      cpu.cstar = canonical();
      return;
    case IA32_FMASK:
      if (v >> 32n) gp(cpu, "IA32_FMASK bits 63:32 are reserved");
      cpu.fmask = Number(v);
      return;
    case IA32_FS_BASE:
      cpu.fsBase = canonical();
      return;
    case IA32_GS_BASE:
      cpu.gsBase = canonical();
      return;
    case IA32_KERNEL_GS_BASE:
      cpu.kernelGsBase = canonical();
      return;
    case IA32_TSC_AUX:
      if (v >> 32n) gp(cpu, "IA32_TSC_AUX bits 63:32 are reserved");
      cpu.tscAux = Number(v);
      return;
    case IA32_PAT:
      for (let k = 0n; k < 64n; k += 8n) {
        const t = Number((v >> k) & 0xffn);
        if (t === 2 || t === 3 || t > 7) gp(cpu, `IA32_PAT entry ${t} is a reserved type`);
      }
      cpu.pat = v;
      return;
    case IA32_MISC_ENABLE:
      cpu.miscEnable = v;
      return;
  }
  if (!cpu.msrHook?.wrmsr(cpu, msr >>> 0, v)) gp(cpu, `wrmsr ${hex(msr >>> 0)}: no such MSR`);
  cpu.loopBudget = 0;
}

/** The brand string, CPUID leaves 80000002H-80000004H. */
export const BRAND = "Course x86-64 CPU (emulated) @ 2.40GHz";

/** The highest basic and extended leaves. */
const MAX_BASIC = 0x16;
const MAX_EXT = 0x8000_0008;

/** Four ASCII characters as a little-endian register value. */
function ascii(s: string, at: number): number {
  let v = 0;
  for (let k = 3; k >= 0; k--) v = (v << 8) | (s.charCodeAt(at + k) || 0);
  return v >>> 0;
}

/**
 * CPUID (Vol. 2A, CPUID, Tables 3-8 to 3-17): what this CPU reports, and it reports only
 * what it implements. Notable bits: x2APIC, TSC-deadline, PCID and INVPCID, NX, SYSCALL,
 * 1-GiB pages, RDTSCP, invariant TSC, LZCNT, POPCNT, BMI1 (for TZCNT; the VEX-encoded BMI1
 * instructions are not implemented and raise #UD with a message), CMPXCHG16B, LAHF/SAHF.
 * No x87, SSE or AVX: the course compiles with -mgeneral-regs-only.
 */
export function cpuid(
  cpu: X86Processor,
  leaf: number,
  sub: number,
): [number, number, number, number] {
  switch (leaf) {
    case 0:
      // "GenuineIntel": this CPU follows Intel where vendors differ (SYSRET's #GP).
      return [MAX_BASIC, ascii("Genu", 0), ascii("ntel", 0), ascii("ineI", 0)];
    case 1: {
      const eax = 0x000906ea; // family 6, model 0x9E, stepping 10
      const ebx = ((cpu.apicId & 0xff) << 24) | (1 << 16) | (8 << 8);
      const ecx = (1 << 13) | (1 << 17) | (1 << 21) | (1 << 23) | (1 << 24); // CX16 PCID x2APIC POPCNT TSC-deadline
      const edx = (1 << 4) | (1 << 5) | (1 << 6) | (1 << 8) | (1 << 9) | (1 << 13) | (1 << 15) |
        (1 << 16) | (1 << 19); // TSC MSR PAE CX8 APIC PGE CMOV PAT CLFSH
      return [eax, ebx >>> 0, ecx >>> 0, edx >>> 0];
    }
    case 7:
      // EBX bit 3 BMI1 (TZCNT), bit 10 INVPCID.
      return sub === 0 ? [0, (1 << 3) | (1 << 10), 0, 0] : [0, 0, 0, 0];
    case 0xb: {
      // x2APIC topology: one thread per core, one core per "package" level shown.
      const id = cpu.apicId >>> 0;
      if (sub === 0) return [0, 1, (1 << 8) | sub, id];
      if (sub === 1) {
        const n = cpu.machine.cpus.length;
        return [Math.ceil(Math.log2(Math.max(1, n))), n, (2 << 8) | sub, id];
      }
      return [0, 0, sub, id];
    }
    case 0x15:
      // TSC = crystal * EBX / EAX = 100 MHz * 24 / 1 = 2.4 GHz.
      return [1, 24, 100_000_000, 0];
    case 0x16:
      return [2400, 2400, 100, 0];
    case 0x8000_0000:
      return [MAX_EXT, 0, 0, 0];
    case 0x8000_0001:
      // ECX: LAHF/SAHF (0), LZCNT (5). EDX: SYSCALL (11), NX (20), 1-GiB pages (26),
      // RDTSCP (27), long mode (29).
      return [
        0,
        0,
        1 | (1 << 5),
        ((1 << 11) | (1 << 20) | (1 << 26) | (1 << 27) | (1 << 29)) >>> 0,
      ];
    case 0x8000_0002:
    case 0x8000_0003:
    case 0x8000_0004: {
      const at = (leaf - 0x8000_0002) * 16;
      return [ascii(BRAND, at), ascii(BRAND, at + 4), ascii(BRAND, at + 8), ascii(BRAND, at + 12)];
    }
    case 0x8000_0007:
      return [0, 0, 0, 1 << 8]; // invariant TSC
    case 0x8000_0008:
      return [(48 << 8) | MAXPHYADDR, 0, 0, 0];
  }
  return [0, 0, 0, 0];
}

/** A description of a control-register value for messages ("CR0.PG = 1, CR0.WP = 1"). */
export function describeCr0(v: number): string {
  const names: [number, string][] = [[CR0_PE, "PE"], [CR0_WP, "WP"], [CR0_PG, "PG"]];
  return `${hex(v)} (${names.map(([b, n]) => `${n}=${v & b ? 1 : 0}`).join(" ")})`;
}
