/**
 * What the devicetree says about the board, as the kernel needs it: RAM, the harts, the
 * console UART, the timer's frequency, the PLIC, and whether the harts have Sstc.
 *
 * It follows the bindings QEMU's `virt` board uses (and Linux reads): `/memory` nodes
 * (`device_type = "memory"`), `/reserved-memory` children with `no-map`, `/cpus` with
 * `timebase-frequency` and `cpu@N` nodes (`reg` = hart id, `riscv,isa-extensions`),
 * `/chosen/stdout-path` naming the console (else the first `ns16550a`), and the PLIC
 * (`riscv,plic0`, with `riscv,ndev`).
 *
 * @module
 */

import type { PhysRange, Platform } from "../../kernel/arch.ts";
import { formatHz, formatSize, hex } from "../../kernel/format.ts";
import { PAGE_SIZE } from "../../kernel/mm/phys.ts";
import {
  allNodes,
  type FdtNode,
  findPath,
  isCompatible,
  reg,
  stringProp,
  strings,
  u32Prop,
} from "./fdt.ts";

/** The platform, plus what only RISC-V needs. */
export interface RiscvPlatform extends Platform {
  /** Whether every hart implements Sstc (stimecmp), so the kernel need not ask the SBI. */
  sstc: boolean;
}

/** Reads the platform out of a parsed devicetree. Throws an Error naming what is missing. */
export function devicetreePlatform(root: FdtNode, source: string): RiscvPlatform {
  const fail = (why: string): never => {
    throw new Error(`${source}: ${why}`);
  };

  // RAM, minus the regions the firmware keeps for itself ("no-map": not even mapped).
  const ram = allNodes(root)
    .filter((n) => stringProp(n, "device_type") === "memory")
    .flatMap(reg)
    .filter((r) => r.length > 0);
  if (ram.length === 0) fail("no /memory node with a reg property");
  const noMap = (findPath(root, "/reserved-memory")?.children ?? [])
    .filter((n) => n.props.has("no-map"))
    .flatMap(reg);
  const memory = subtract(ram, noMap).sort((a, b) => a.base - b.base);

  const cpusNode = findPath(root, "/cpus") ?? fail("no /cpus node");
  const timerHz = u32Prop(cpusNode, "timebase-frequency") ??
    fail("/cpus has no timebase-frequency");
  const cpuNodes = cpusNode.children.filter((n) => stringProp(n, "device_type") === "cpu")
    .filter((n) => (stringProp(n, "status") ?? "okay") === "okay");
  if (cpuNodes.length === 0) fail("/cpus has no cpu node whose status is okay");
  const cpus = cpuNodes.map((n, index) => ({
    index,
    hwId: u32Prop(n, "reg") ?? fail(`${n.path} has no reg (hart id)`),
  }));
  const sstc = cpuNodes.every((n) => {
    const ext = n.props.get("riscv,isa-extensions");
    return ext
      ? strings(ext).includes("sstc")
      : /_sstc(_|$)/.test(stringProp(n, "riscv,isa") ?? "");
  });

  const uart = consoleNode(root) ?? fail("no console: /chosen/stdout-path and no ns16550a node");
  const [uartReg] = reg(uart);
  if (!uartReg) fail(`${uart.path} has no reg`);
  const clockHz = u32Prop(uart, "clock-frequency") ?? fail(`${uart.path} has no clock-frequency`);
  const irq = u32Prop(uart, "interrupts") ?? 0;

  const devices = [{ name: "uart0", base: uartReg.base, length: pageRound(uartReg.length) }];
  const notes: string[] = [];
  const plic = allNodes(root).find((n) => isCompatible(n, "riscv,plic0"));
  if (plic) {
    const [r] = reg(plic);
    if (r) {
      devices.push({ name: "plic", base: r.base, length: pageRound(r.length) });
      notes.push(`PLIC at ${hex(r.base)}, ${u32Prop(plic, "riscv,ndev") ?? "?"} sources`);
    }
  }
  const clint = allNodes(root).find((n) => isCompatible(n, "riscv,clint0"));
  if (clint) {
    notes.push(
      `CLINT at ${hex(reg(clint)[0]?.base ?? 0)} (M-mode only: timers and IPIs go through the SBI)`,
    );
  }
  notes.push(
    `${cpus.length} hart(s), timebase ${formatHz(timerHz)}, Sstc ${sstc ? "present" : "absent"}`,
  );

  return {
    source,
    memory,
    cpus,
    console: {
      name: `ns16550a at ${hex(uartReg.base)}, ${formatSize(uartReg.length)}`,
      clockHz,
      irq,
    },
    timerHz,
    devices,
    notes,
    sstc,
  };
}

/** The console: the node /chosen/stdout-path names (without ":options"), else an ns16550a. */
function consoleNode(root: FdtNode): FdtNode | undefined {
  const chosen = findPath(root, "/chosen");
  const path = chosen && stringProp(chosen, "stdout-path")?.split(":")[0];
  return (path ? findPath(root, path) : undefined) ??
    allNodes(root).find((n) => isCompatible(n, "ns16550a"));
}

/** `ranges` minus `holes`, as disjoint pieces. */
function subtract(ranges: PhysRange[], holes: PhysRange[]): PhysRange[] {
  let out = ranges.map((r) => ({ ...r }));
  for (const h of holes) {
    out = out.flatMap((r) => {
      const end = r.base + r.length, hEnd = h.base + h.length;
      if (hEnd <= r.base || h.base >= end) return [r];
      const pieces = [];
      if (h.base > r.base) pieces.push({ base: r.base, length: h.base - r.base });
      if (hEnd < end) pieces.push({ base: hEnd, length: end - hEnd });
      return pieces;
    });
  }
  return out;
}

function pageRound(n: number): number {
  return Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
}
