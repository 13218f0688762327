/**
 * Interrupt and exception delivery in 64-bit mode, and the ways back: IRETQ, SYSCALL and
 * SYSRET (SDM Vol. 3A §6.14, "Exception and Interrupt Handling in 64-bit Mode"; §6.15,
 * "Exception and Interrupt Reference"; Vol. 2, IRET, SYSCALL, SYSRET; §5.8.8).
 *
 * Everything the CPU consults is read from memory when it is needed, with supervisor
 * privilege and through paging: the IDT gate, the GDT descriptor of the gate's code
 * segment, the TSS for RSP0 or an IST stack. Each check the SDM lists is made in its order
 * and raises its fault with its error code. A fault while delivering an exception becomes
 * a double fault by the rules of Table 6-5, and a fault while delivering the double fault
 * is a triple fault, which stops the machine with a message that says what went wrong.
 *
 * The hosted model adds one rule: a gate into ring 0 must point at a registered kernel
 * entry; otherwise the machine stops and names the vector and the address.
 *
 * @module
 */

import { hex } from "../core/memory.ts";
import { canonicalNumber, FAULT, u64, type X86Processor } from "./cpu.ts";
import {
  describeDescriptor,
  describeGate,
  type Descriptor,
  isCode,
  isWritableData,
  parseDescriptor,
  parseGate,
} from "./descriptors.ts";
import { describePfError } from "./paging.ts";
import {
  EFER_SCE,
  EXC_DE,
  EXC_DF,
  EXC_GP,
  EXC_NP,
  EXC_PF,
  EXC_SS,
  EXC_TS,
  EXC_UD,
  GATE_INTERRUPT64,
  GATE_TRAP64,
  R11,
  RCX,
  RFLAGS_IF,
  RFLAGS_IOPL,
  RFLAGS_NT,
  RFLAGS_RF,
  RFLAGS_TF,
  RFLAGS_VIF,
  RFLAGS_VIP,
  RSP,
  SEG_CS,
  SEG_SS,
  SYS_TSS64_AVAILABLE,
  TSS_IST1,
  TSS_RSP0,
  vectorName,
} from "./regs.ts";

/** Kinds of event. A fault inside the CPU: the pushed RIP is the faulting instruction. */
export const EV_EXCEPTION = 0;
/** INT n, INT3: the gate's DPL is checked; the pushed RIP is the next instruction. */
export const EV_SOFTWARE = 1;
/** An interrupt from the local APIC. */
export const EV_EXTERNAL = 2;
/** A non-maskable interrupt. */
export const EV_NMI = 3;
/** INT1 (ICEBP): like a hardware debug exception, no DPL check. */
export const EV_ICEBP = 4;

/** Vectors of the contributory class (Table 6-4). */
function contributory(v: number): boolean {
  return v === EXC_DE || (v >= EXC_TS && v <= EXC_GP);
}

/** Whether a second exception during delivery of the first makes a double fault (Table 6-5). */
function isDoubleFault(first: number, firstKind: number, second: number): boolean {
  if (firstKind !== EV_EXCEPTION) return false; // interrupts are benign
  if (contributory(first)) return contributory(second);
  if (first === EXC_PF) return contributory(second) || second === EXC_PF;
  return false;
}

/**
 * Delivers an event through the IDT: on return the CPU is at the handler (or the machine
 * has stopped, signalled by a thrown STOPPED). `error` is the error code to push, -1 for
 * none. `returnIp` is the RIP to push; `faultIp` is the instruction's own address, pushed
 * for an exception raised while delivering the event.
 */
export function deliverEvent(
  cpu: X86Processor,
  vector: number,
  kind: number,
  error: number,
  returnIp: number,
  faultIp = returnIp,
): void {
  let v = vector, k = kind, err = error, ip = returnIp;
  const history: string[] = [];
  for (;;) {
    cpu.faultWhy = "";
    try {
      enter(cpu, v, k, err, ip);
      return;
    } catch (e) {
      if (e !== FAULT) throw e;
    }
    const second = cpu.fVector, secondErr = cpu.fError;
    const why = cpu.faultWhy || describeFault(cpu, second, secondErr);
    history.push(
      `${vectorName(second)}${secondErr >= 0 ? `(${hex(secondErr)})` : ""} while delivering ` +
        `${vectorName(v)}: ${why}`,
    );
    if (cpu.machine.trace.trap) {
      cpu.machine.trace.emit("trap", cpu.index, {
        event: "fault during delivery",
        vector: second,
        error: secondErr,
        while: v,
        why,
      });
    }
    if (v === EXC_DF || history.length > 4) {
      cpu.machineCheck(
        `triple fault (the CPU would shut down and the board reset): ${history.join("; then ")}` +
          ` (check the IDT, the TSS and its RSP0/IST stacks, and that they are mapped)`,
      );
    }
    if (isDoubleFault(v, k, second)) {
      cpu.machine.report(cpu.index, `double fault: ${history[history.length - 1]}`);
      v = EXC_DF;
      err = 0;
    } else {
      v = second;
      err = secondErr;
    }
    k = EV_EXCEPTION;
    ip = faultIp;
  }
}

function describeFault(cpu: X86Processor, v: number, err: number): string {
  if (v === EXC_PF) {
    return `page fault at ${hex(u64(cpu.cr2))} (${describePfError(err)}): ` +
      cpu.translate(u64(cpu.cr2), err & 2 ? "write" : "read", 0).explanation;
  }
  return vectorName(v);
}

/** Raises `vector` with `error`, recording `why` for messages. */
function fail(cpu: X86Processor, vector: number, error: number, why: string): never {
  cpu.faultWhy = why;
  cpu.raise(vector, error);
}

/** The 64-bit interrupt entry sequence (§6.14.2 to §6.14.5). */
function enter(cpu: X86Processor, vector: number, kind: number, error: number, returnIp: number) {
  const ext = kind === EV_SOFTWARE ? 0 : 1;
  const idtErr = vector * 8 + 2 + ext;
  const where = `IDT vector ${vector} (${vectorName(vector)})`;
  if (vector * 16 + 15 > cpu.idtrLimit) {
    fail(cpu, EXC_GP, idtErr, `${where} lies beyond the IDT limit ${hex(cpu.idtrLimit)}`);
  }
  const gateVa = cpu.idtrBase + vector * 16;
  const [w0, w1, w2] = cpu.asSupervisor(() => [
    cpu.ld32(gateVa),
    cpu.ld32(gateVa + 4),
    cpu.ld32(gateVa + 8),
  ]);
  const gate = parseGate(w0, w1, w2);
  const gateText = `${where}: the gate at ${hex(u64(gateVa))} is a ${describeGate(gate)}`;
  if (gate.type !== GATE_INTERRUPT64 && gate.type !== GATE_TRAP64) {
    fail(cpu, EXC_GP, idtErr, gateText);
  }
  if (kind === EV_SOFTWARE && gate.dpl < cpu.cplN) {
    fail(cpu, EXC_GP, vector * 8 + 2, `${gateText}; INT from ring ${cpu.cplN} needs DPL 3`);
  }
  if (!gate.present) fail(cpu, EXC_NP, idtErr, gateText);
  const sel = gate.selector;
  if ((sel & 0xfffc) === 0) fail(cpu, EXC_GP, ext, `${gateText}; its selector is null`);
  const desc = readDescriptor(cpu, sel, ext, gateText);
  const selErr = (sel & 0xfffc) + ext;
  const descText = `${gateText}; GDT entry ${hex(sel)} is a ${describeDescriptor(desc)}`;
  if (!isCode(desc) || desc.dpl > cpu.cplN) fail(cpu, EXC_GP, selErr, descText);
  if (!desc.present) fail(cpu, EXC_NP, selErr, descText);
  if (!desc.long || desc.db) fail(cpu, EXC_GP, selErr, `${descText} (not a 64-bit code segment)`);
  const newCpl = (desc.type & 4) ? cpu.cplN : desc.dpl;
  if (newCpl !== 0 && newCpl !== 3) {
    cpu.machineCheck(`${descText}: rings 1 and 2 are not supported`);
  }
  if (Number.isNaN(gate.offset)) fail(cpu, EXC_GP, ext, `${gateText}: target not canonical`);
  if (newCpl === 0 && !cpu.machine.kernelText.lookup(gate.offsetBig)) {
    cpu.machineCheck(
      `${where} points at ${hex(gate.offsetBig)}, where no kernel code is registered ` +
        `(the gate at ${hex(u64(gateVa))}; check the address written there against the ` +
        `kernel's entry points)`,
    );
  }

  // The stack: an IST stack if the gate names one, RSP0 on a change to ring 0, else the
  // current stack; aligned down to 16 bytes.
  let rspBig: bigint;
  let stackText: string;
  if (gate.ist) {
    rspBig = readTss(cpu, TSS_IST1 + 8 * (gate.ist - 1), ext, `IST${gate.ist} for ${where}`);
    stackText = `IST${gate.ist}`;
  } else if (newCpl < cpu.cplN) {
    rspBig = readTss(cpu, TSS_RSP0 + 8 * newCpl, ext, `RSP${newCpl} for ${where}`);
    stackText = `RSP${newCpl} from the TSS`;
  } else {
    rspBig = cpu.regs[RSP];
    stackText = "the current stack";
  }
  const rsp0 = canonicalNumber(rspBig);
  if (rsp0 === undefined) {
    fail(cpu, EXC_SS, ext, `${stackText} (${hex(BigInt.asUintN(64, rspBig))}) is not canonical`);
  }
  const rsp = Math.floor(rsp0 / 16) * 16;
  const frame = [
    BigInt(cpu.sel[SEG_SS]),
    BigInt.asUintN(64, cpu.regs[RSP]),
    BigInt(cpu.rflagsN()),
    BigInt(cpu.sel[SEG_CS]),
    u64(returnIp),
  ];
  if (error >= 0) frame.push(BigInt(error));
  const top = rsp - 8 * frame.length;
  if (top < -(2 ** 47)) fail(cpu, EXC_SS, ext, `the frame below ${stackText} is not canonical`);
  cpu.asSupervisor(() => {
    // Check both ends before writing anything, so a fault leaves memory as it was.
    try {
      cpu.xlate(top, 1);
      cpu.xlate(rsp - 8, 1);
    } catch (e) {
      if (e === FAULT && cpu.fVector === EXC_PF) {
        cpu.faultWhy = `pushing the ${where} frame on ${stackText} at ${hex(u64(top))}: ` +
          cpu.translate(u64(cpu.cr2), "write", 0).explanation;
      }
      throw e;
    }
    for (let k = 0; k < frame.length; k++) cpu.stB(rsp - 8 * (k + 1), 8, frame[k]);
  });

  // Commit: the new privilege, CS and SS, RSP, RFLAGS and RIP.
  const fromCpl = cpu.cplN, fromIp = returnIp;
  cpu.sel[SEG_CS] = (sel & 0xfffc) | newCpl;
  if (newCpl < cpu.cplN || gate.ist) {
    if (newCpl < cpu.cplN) cpu.sel[SEG_SS] = newCpl; // a null selector with RPL = new CPL
  }
  cpu.regs[RSP] = BigInt(top);
  let clear = RFLAGS_TF | RFLAGS_NT | RFLAGS_RF;
  if (gate.type === GATE_INTERRUPT64) clear |= RFLAGS_IF;
  cpu.flagsCtl &= ~clear;
  cpu.setCpl(newCpl as 0 | 3);
  cpu.ip = gate.offset;
  cpu.via = where;
  cpu.loopBudget = 0;
  if (cpu.machine.trace.trap) {
    cpu.machine.trace.emit("trap", cpu.index, {
      vector,
      name: vectorName(vector),
      error,
      rip: hex(u64(fromIp)),
      from: fromCpl,
      handler: hex(gate.offsetBig),
      stack: hex(u64(top)),
    });
  }
}

/** Reads 8 bytes of the TSS at offset `off`; #TS when TR has no TSS or it is too short. */
function readTss(cpu: X86Processor, off: number, ext: number, what: string): bigint {
  if (cpu.trLimit < off + 7) {
    fail(
      cpu,
      EXC_TS,
      (cpu.trSel & 0xfffc) + ext,
      cpu.trLimit === 0
        ? `no TSS is loaded (TR = ${hex(cpu.trSel)}: the kernel must ltr a TSS) to find ${what}`
        : `the TSS limit ${hex(cpu.trLimit)} does not reach ${what} at offset ${off}`,
    );
  }
  return cpu.asSupervisor(() => cpu.ldB(cpu.trBase + off, 8));
}

/**
 * Reads the GDT descriptor `sel` names (8 bytes; `wide` for the 16-byte system
 * descriptors, whose second half is returned in `upper`). #GP(selector + ext) when it is
 * beyond the limit or in an LDT.
 */
export function readDescriptor(
  cpu: X86Processor,
  sel: number,
  ext: number,
  context: string,
  wide = false,
): Descriptor & { upper: number; at: number } {
  const err = (sel & 0xfffc) + ext;
  if (sel & 4) fail(cpu, EXC_GP, err, `${context}: selector ${hex(sel)} refers to an LDT (none)`);
  const index = sel >> 3;
  const end = index * 8 + (wide ? 15 : 7);
  if (end > cpu.gdtrLimit) {
    fail(
      cpu,
      EXC_GP,
      err,
      `${context}: selector ${hex(sel)} is beyond the GDT limit ${hex(cpu.gdtrLimit)}`,
    );
  }
  const at = cpu.gdtrBase + index * 8;
  const [lo, hi, upper] = cpu.asSupervisor(() => [
    cpu.ld32(at),
    cpu.ld32(at + 4),
    wide ? cpu.ld32(at + 8) : 0,
  ]);
  return { ...parseDescriptor(lo, hi), upper, at };
}

/** IRET/IRETQ (Vol. 2, IRET): pops RIP, CS, RFLAGS, RSP and SS (items of `size` bytes). */
export function iretq(cpu: X86Processor, size: number): void {
  const rsp = canonicalNumber(cpu.regs[RSP]);
  if (rsp === undefined) fail(cpu, EXC_SS, 0, "iretq: RSP is not canonical");
  const item = (k: number) => cpu.ldB(rsp + k * size, size);
  const ripV = item(0), csV = item(1), flV = item(2), rspV = item(3), ssV = item(4);
  const cs = Number(csV & 0xffffn), ss = Number(ssV & 0xffffn);
  const newCpl = cs & 3;
  const cpl = cpu.cplN;
  const frameText = `iretq frame at ${hex(u64(rsp))} (RIP ${hex(ripV)}, CS ${hex(cs)}, ` +
    `RFLAGS ${hex(flV)}, RSP ${hex(rspV)}, SS ${hex(ss)})`;
  if ((cs & 0xfffc) === 0) fail(cpu, EXC_GP, 0, `${frameText}: CS is null`);
  if (newCpl < cpl) {
    fail(cpu, EXC_GP, cs & 0xfffc, `${frameText}: returns to ring ${newCpl} from ring ${cpl}`);
  }
  const desc = readDescriptor(cpu, cs, 0, frameText);
  const descText = `${frameText}: CS is a ${describeDescriptor(desc)}`;
  const conforming = (desc.type & 4) !== 0;
  if (!isCode(desc) || (conforming ? desc.dpl > newCpl : desc.dpl !== newCpl)) {
    fail(cpu, EXC_GP, cs & 0xfffc, descText);
  }
  if (!desc.present) fail(cpu, EXC_NP, cs & 0xfffc, descText);
  if (!desc.long || desc.db) {
    fail(cpu, EXC_GP, cs & 0xfffc, `${descText} (compatibility mode is not supported)`);
  }
  if (newCpl !== 0 && newCpl !== 3) {
    fail(cpu, EXC_GP, cs & 0xfffc, `${descText} (rings 1 and 2 are not supported)`);
  }
  if ((ss & 0xfffc) === 0) {
    // A null SS is allowed only when returning to a 64-bit ring other than 3.
    if (newCpl === 3 || (ss & 3) !== newCpl) fail(cpu, EXC_GP, 0, `${frameText}: SS is null`);
  } else {
    if ((ss & 3) !== newCpl) {
      fail(cpu, EXC_GP, ss & 0xfffc, `${frameText}: SS.RPL differs from CS.RPL`);
    }
    const sd = readDescriptor(cpu, ss, 0, frameText);
    const ssText = `${frameText}: SS is a ${describeDescriptor(sd)}`;
    if (!isWritableData(sd) || sd.dpl !== newCpl) fail(cpu, EXC_GP, ss & 0xfffc, ssText);
    if (!sd.present) fail(cpu, EXC_SS, ss & 0xfffc, ssText);
  }
  const ip = canonicalNumber(ripV);
  if (ip === undefined) fail(cpu, EXC_GP, 0, `${frameText}: RIP is not canonical`);

  // RFLAGS: ring 0 may change everything; elsewhere IOPL stays, and IF changes only when
  // CPL <= IOPL.
  const cur = cpu.rflagsN();
  let f = Number(flV & 0xffff_ffffn);
  let keep = 0;
  if (cpl > 0) {
    keep |= RFLAGS_IOPL;
    if (cpl > ((cur & RFLAGS_IOPL) >> 12)) keep |= RFLAGS_IF;
  }
  if (cpl > 0) keep |= RFLAGS_VIF | RFLAGS_VIP;
  f = (f & ~keep) | (cur & keep);

  cpu.sel[SEG_CS] = cs;
  cpu.sel[SEG_SS] = ss;
  cpu.regs[RSP] = rspV;
  cpu.setRflagsN(f);
  cpu.setCpl(newCpl as 0 | 3);
  cpu.ip = ip;
  cpu.nmiBlocked = false;
  cpu.loopBudget = 0;
  if (cpu.machine.trace.kernel) {
    cpu.machine.trace.emit("kernel", cpu.index, {
      return: "iretq",
      rip: hex(ripV),
      cpl: newCpl,
    });
  }
}

/** SYSCALL from ring 3 (Vol. 2, SYSCALL): `nextIp` is the instruction after it. */
export function syscall(cpu: X86Processor, nextIp: number): void {
  if ((cpu.efer & EFER_SCE) === 0) {
    fail(cpu, EXC_UD, -1, "syscall with EFER.SCE = 0 (the kernel has not enabled SYSCALL)");
  }
  const flags = cpu.rflagsN();
  const r = cpu.r32;
  r[RCX * 2] = nextIp | 0;
  r[RCX * 2 + 1] = Math.floor(nextIp / 4294967296);
  r[R11 * 2] = flags & ~RFLAGS_RF;
  r[R11 * 2 + 1] = 0;
  const base = cpu.starSyscall;
  cpu.sel[SEG_CS] = base & 0xfffc;
  cpu.sel[SEG_SS] = (base + 8) & 0xffff;
  cpu.setRflagsN(flags & ~cpu.fmask & ~RFLAGS_RF);
  cpu.setCpl(0);
  cpu.ip = cpu.lstar;
  cpu.via = "IA32_LSTAR (syscall)";
  cpu.loopBudget = 0;
  if (cpu.machine.trace.trap) {
    cpu.machine.trace.emit("trap", cpu.index, {
      event: "syscall",
      rax: hex(BigInt.asUintN(64, cpu.regs[0])),
      rip: hex(u64(nextIp)),
    });
  }
}

/** SYSRET with REX.W (Vol. 2, SYSRET). A non-canonical RCX is #GP(0) in ring 0 (Intel). */
export function sysretq(cpu: X86Processor): void {
  if ((cpu.efer & EFER_SCE) === 0) fail(cpu, EXC_UD, -1, "sysretq with EFER.SCE = 0");
  if (cpu.cplN !== 0) fail(cpu, EXC_GP, 0, "sysretq outside ring 0");
  const r = cpu.r32;
  const hi = r[RCX * 2 + 1];
  if (((hi + 0x8000) >>> 16) !== 0) {
    fail(
      cpu,
      EXC_GP,
      0,
      `RCX = ${
        hex(BigInt.asUintN(64, cpu.regs[RCX]))
      } is not canonical: Intel CPUs raise #GP(0) in ` +
        `ring 0, after RSP already holds the user's stack pointer (the SYSRET pitfall); ` +
        `check RCX or return with iretq`,
    );
  }
  const ip = hi * 4294967296 + (r[RCX * 2] >>> 0);
  const base = cpu.starSysret;
  cpu.sel[SEG_CS] = ((base + 16) | 3) & 0xffff;
  cpu.sel[SEG_SS] = ((base + 8) | 3) & 0xffff;
  cpu.setRflagsN((r[R11 * 2] & 0x3c7fd7) | 2);
  cpu.setCpl(3);
  cpu.ip = ip;
  cpu.loopBudget = 0;
  if (cpu.machine.trace.kernel) {
    cpu.machine.trace.emit("kernel", cpu.index, { return: "sysretq", rip: hex(u64(ip)) });
  }
}

/** LTR (Vol. 2, LTR): loads an available 64-bit TSS and marks its descriptor busy. */
export function loadTr(cpu: X86Processor, sel: number): void {
  if ((sel & 0xfffc) === 0) fail(cpu, EXC_GP, 0, "ltr of a null selector");
  const d = readDescriptor(cpu, sel, 0, "ltr", true);
  const text = `ltr ${hex(sel)}: GDT entry is a ${describeDescriptor(d)}`;
  if (d.s || d.type !== SYS_TSS64_AVAILABLE) fail(cpu, EXC_GP, sel & 0xfffc, text);
  if (!d.present) fail(cpu, EXC_NP, sel & 0xfffc, text);
  const base = canonicalNumber((BigInt(d.upper >>> 0) << 32n) | BigInt(d.base));
  if (base === undefined) fail(cpu, EXC_GP, sel & 0xfffc, `${text}: base not canonical`);
  cpu.asSupervisor(() => {
    const typeByte = cpu.ld8(d.at + 5);
    cpu.st8(d.at + 5, typeByte | 2); // type 9 -> 11: busy
  });
  cpu.trSel = sel;
  cpu.trBase = base;
  cpu.trLimit = d.limit;
}

/** MOV to SS, DS, ES, FS or GS (Vol. 2, MOV, "Operation" for segment registers). */
export function loadDataSegment(
  cpu: X86Processor,
  seg: "ss" | "ds" | "es" | "fs" | "gs",
  sel: number,
): void {
  const idx = ["es", "cs", "ss", "ds", "fs", "gs"].indexOf(seg);
  const cpl = cpu.cplN;
  const err = sel & 0xfffc;
  if ((sel & 0xfffc) === 0) {
    // A null selector: fine for DS, ES, FS, GS; for SS only below ring 3 with RPL = CPL.
    if (seg === "ss" && (cpl === 3 || (sel & 3) !== cpl)) {
      fail(cpu, EXC_GP, 0, `mov ss, ${hex(sel)}: null SS in ring ${cpl}`);
    }
    cpu.sel[idx] = sel;
    return;
  }
  const d = readDescriptor(cpu, sel, 0, `mov ${seg}, ${hex(sel)}`);
  const text = `mov ${seg}, ${hex(sel)}: GDT entry is a ${describeDescriptor(d)}`;
  if (seg === "ss") {
    if ((sel & 3) !== cpl || d.dpl !== cpl || !isWritableData(d)) fail(cpu, EXC_GP, err, text);
    if (!d.present) fail(cpu, EXC_SS, err, text);
  } else {
    const readableCode = isCode(d) && (d.type & 2) !== 0;
    const data = d.s && !isCode(d);
    const conforming = isCode(d) && (d.type & 4) !== 0;
    if (!data && !readableCode) fail(cpu, EXC_GP, err, text);
    if (!conforming && d.dpl < Math.max(cpl, sel & 3)) fail(cpu, EXC_GP, err, text);
    if (!d.present) fail(cpu, EXC_NP, err, text);
  }
  cpu.sel[idx] = sel;
  if (seg === "fs") cpu.fsBase = d.base;
  if (seg === "gs") cpu.gsBase = d.base;
}

/** Loads CS with a present 64-bit code segment of DPL = CPL (a far jump in a real kernel). */
export function loadCsSelector(cpu: X86Processor, sel: number): void {
  if ((sel & 0xfffc) === 0) fail(cpu, EXC_GP, 0, "load of a null CS");
  const d = readDescriptor(cpu, sel, 0, `load cs ${hex(sel)}`);
  const text = `load cs ${hex(sel)}: GDT entry is a ${describeDescriptor(d)}`;
  if (!isCode(d) || d.dpl !== cpu.cplN || !d.long || d.db) fail(cpu, EXC_GP, sel & 0xfffc, text);
  if (!d.present) fail(cpu, EXC_NP, sel & 0xfffc, text);
  cpu.sel[SEG_CS] = (sel & 0xfffc) | cpu.cplN;
}
