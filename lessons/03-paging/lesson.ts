/**
 * Lesson 03, paging: the graded cases of the page tables (PageTables / PageTablesFactory,
 * kernel/components.ts), one factory per hardware format: x86-64 4-level paging (the
 * reference: arch/x86_64/paging.ts) and Sv48 (arch/riscv64/sv48.ts), both over the one
 * radix-tree walk of kernel/mm/page_tables.ts.
 *
 * The grader never believes the tables' own `translate`. After each operation it asks the
 * CPU: the MMU's own walk of the tables in RAM (lessons/harness/mmu.ts, `walk`), and real
 * accesses at user and supervisor privilege through the CPU's TLB (`access`), compared with
 * the grader's model of what should be mapped (address, page size, permissions). A missing
 * TLB flush shows as an access that still succeeds through a stale entry after the tables
 * stopped allowing it: each case that plants such an entry puts it in a TLB slot that the
 * code under test's own memory accesses never use, so nothing but a flush can drop it.
 *
 * Table frames come from a frame ledger (lessons/harness/frames.ts): frames painted with
 * junk, counted, and made to run dry where a case wants it.
 *
 * @module
 */

import { formatSize, hex } from "../../emulator/core/memory.ts";
import { createSv48PageTables } from "../../arch/riscv64/sv48.ts";
import { createX86PageTables } from "../../arch/x86_64/paging.ts";
import {
  OutOfMemory,
  type PageFlags,
  type PageTables,
  type PageTablesFactory,
} from "../../kernel/components.ts";
import type { CaseContext } from "../harness/context.ts";
import { defineLesson, exercise } from "../harness/define.ts";
import { checkCleanRun } from "../harness/system.ts";
import { type FrameLedger, frameLedger } from "../harness/frames.ts";
import { type Access, type MmuProbe, mmuProbe, type WalkView } from "../harness/mmu.ts";
import type { createSv48PageTables as studentSv48 } from "./exercise/sv48.ts";
import type { createX86PageTables as studentX86 } from "./exercise/x86_64.ts";

type Components = { x86_64: PageTablesFactory; sv48: PageTablesFactory };
type T = CaseContext<Components>;

const F = 4096;
const MiB = 2 ** 20;
const GiB = 2 ** 30;

// ---- permissions ---------------------------------------------------------------------------

/** Shorthand for PageFlags. */
function flags(spec: string): PageFlags {
  return {
    write: spec.includes("w"),
    execute: spec.includes("x"),
    user: spec.includes("u"),
    global: spec.includes("g"),
    device: spec.includes("d"),
  };
}

/** PageFlags in the chapter's shorthand: "rw-u--". */
function showFlags(f: PageFlags): string {
  return `r${f.write ? "w" : "-"}${f.execute ? "x" : "-"}${f.user ? "u" : "-"}${
    f.global ? "g" : "-"
  }${f.device ? "d" : "-"}`;
}

const ACCESSES: readonly Access[] = ["read", "write", "execute"];

/**
 * Whether the CPU allows an access to a page mapped with `f`, as each board is set up:
 * the PC with CR0.WP = 1 and no SMEP or SMAP (a supervisor may read, and write and fetch
 * where R/W and XD allow, even a user page: SDM Vol. 3A §4.6.1); RISC-V with sstatus.SUM =
 * MXR = 0 (S-mode touches no U page at all, U-mode only U pages: §10.3.1 "Memory
 * Protection").
 */
function allowed(arch: string, f: PageFlags, access: Access, user: boolean): boolean {
  const kind = access === "read" ? true : access === "write" ? f.write : f.execute;
  if (user) return f.user && kind;
  if (arch === "riscv64") return !f.user && kind;
  return kind;
}

// ---- the grader's handle on one board ------------------------------------------------------

/** What a case works with: the tables under test, the probe, the ledger. */
interface Rig {
  t: T;
  pt: PageTables;
  probe: MmuProbe;
  ledger: FrameLedger;
  /** RAM past the ledger's window, where mappings point: the code under test never reads it. */
  data: number;
  /** TLB slots the code under test's own PhysMem accesses can fill (the ledger's frames). */
  busy: Set<number>;
}

/** The student's factory (or the reference) for the case's architecture, over a ledger. */
function rig(t: T, frames = 512): Rig {
  const probe = mmuProbe(t.board);
  const ledger = frameLedger(t.board, { frames, align: 4 * MiB });
  const factory = t.arch === "x86_64" ? t.impl.x86_64 : t.impl.sv48;
  const pt = factory({ mem: t.mem, pmm: ledger.pmm, tlb: probe.tlb });
  const busy = new Set<number>();
  for (let i = 0; i < ledger.frames; i++) busy.add(probe.physTlbSlot(ledger.base + i * F));
  return { t, pt, probe, ledger, data: ledger.base + ledger.frames * F, busy };
}

/** `count` pages from `from` up whose TLB slot in `asid` no ledger frame's access can fill. */
function quietPages(r: Rig, asid: number, from: bigint, count: number): bigint[] {
  const out: bigint[] = [];
  for (let va = from; out.length < count; va += BigInt(F)) {
    if (!r.busy.has(r.probe.tlbSlot(va, asid))) out.push(va);
  }
  return out;
}

/** The walk the CPU made, one line per entry, for a failure's evidence. */
function walkLines(w: WalkView): string[] {
  return [
    ...w.steps.map((s) =>
      `  ${s.name.padEnd(12)} at ${hex(s.pteAddress)} = ${
        s.pte === undefined ? "(no RAM)" : hex(s.pte)
      }`
    ),
    `  the CPU: ${w.explanation}`,
  ];
}

/** What the grader expects at a page: a mapping, or nothing. */
interface Expect {
  pa: number;
  pageSize: number;
  flags: PageFlags;
}

/**
 * Checks with the CPU's walk that `va` (4 KiB-aligned) is mapped as `e` says, or not at
 * all; `accesses` of the six (access, privilege) pairs are checked against the permissions.
 */
function expectAt(
  r: Rig,
  root: number,
  va: bigint,
  e: Expect | undefined,
  what: string,
  accesses: readonly [Access, boolean][] = ALL_PAIRS,
): void {
  const { t, probe } = r;
  const probeVa = va + 0x18n;
  if (e === undefined) {
    for (const user of [false, true]) {
      const w = probe.walk(root, probeVa, "read", user);
      if (w.pa !== undefined) {
        t.fail(`${what}: ${hex(va)} should map nothing, but the CPU's walk reaches ${hex(w.pa)}`, {
          expected: "a page fault: no valid leaf",
          saw: `${user ? "user" : "supervisor"} read of ${hex(probeVa)} -> ${hex(w.pa)}`,
          hardware: walkLines(w),
        });
      }
    }
    return;
  }
  const w = probe.walk(root, probeVa, "read", e.flags.user);
  const want = e.pa + 0x18;
  if (w.pa !== want || w.pageSize !== e.pageSize) {
    t.fail(`${what}: the CPU does not translate ${hex(va)} as mapped`, {
      expected: `${hex(probeVa)} -> ${hex(want)} in a ${formatSize(e.pageSize)} page (${
        showFlags(e.flags)
      })`,
      saw: w.pa === undefined ? "a fault" : `${hex(w.pa)} in a ${formatSize(w.pageSize ?? 0)} page`,
      hardware: walkLines(w),
    });
  }
  for (const [access, user] of accesses) {
    const a = probe.walk(root, probeVa, access, user);
    const should = allowed(t.arch, e.flags, access, user);
    if ((a.pa !== undefined) !== should) {
      t.fail(
        `${what}: a ${user ? "user" : "supervisor"} ${access} of ${hex(va)} (mapped ${
          showFlags(e.flags)
        }) ${should ? "faults" : "is allowed"}`,
        {
          expected: should ? "allowed" : "a page fault",
          saw: a.pa !== undefined ? `allowed, to ${hex(a.pa)}` : "a page fault",
          hardware: walkLines(a),
        },
      );
    }
  }
}

const ALL_PAIRS: readonly [Access, boolean][] = ACCESSES.flatMap((
  a,
) => [[a, false], [a, true]] as [Access, boolean][]);

/**
 * Makes a real access through the CPU (its TLB first) and checks it against what the
 * tables should allow now; an access that succeeds only through a stale TLB entry is the
 * missing flush, and the failure says so with the entry and the walk.
 */
function expectAccess(
  r: Rig,
  root: number,
  asid: number,
  va: bigint,
  access: Access,
  user: boolean,
  should: boolean,
  what: string,
  flushesFrom: number,
): void {
  const { t, probe } = r;
  const a = probe.access(root, asid, va, access, user);
  if (a.ok === should) return;
  const w = probe.walk(root, va, access, user);
  const who = `a ${user ? "user" : "supervisor"} ${access} of ${hex(va)} in address space ${asid}`;
  if (a.ok && a.tlbHit && w.pa === undefined) {
    t.fail(
      `${what}: ${who} still works through a stale TLB entry: the tables no longer allow it, ` +
        `but the TLB still holds the old translation (a missing or wrong flush)`,
      {
        expected: "a page fault, after a flush of the page in its address space",
        saw: `the CPU used its TLB entry for the page: ${a.explanation}`,
        hardware: [
          `the TLB entry: page ${hex(va & ~0xfffn)}, address space ${asid} (or global), ` +
          `to ${hex((a.pa ?? 0) - Number(va & 0xfffn))}`,
          "the walk of the tables now:",
          ...walkLines(w),
          `your code called: ${probe.describeFlushes(flushesFrom)}`,
        ],
      },
    );
  }
  t.fail(`${what}: ${who} ${should ? "faults" : "is allowed"}`, {
    expected: should ? "allowed" : "a page fault",
    saw: a.explanation,
    hardware: walkLines(w),
  });
}

/** Checks that `e` is a RangeError that names `va` (in hex, `_` separators optional). */
function namesAddress(t: T, e: unknown, va: bigint | number, call: string): void {
  t.check(e instanceof RangeError, `${call} threw, but not a RangeError`, {
    expected: `a RangeError naming ${hex(va)}`,
    saw: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
  });
  const text = (e as Error).message.toLowerCase().replaceAll("_", "");
  const want = `0x${BigInt.asUintN(64, BigInt(va)).toString(16)}`;
  t.check(text.includes(want), `${call}: the RangeError does not name the address`, {
    expected: `a message containing ${hex(va)} (or ${want})`,
    saw: (e as Error).message,
  });
}

/** Checks that `ledger` has exactly `n` frames out. */
function framesOut(t: T, ledger: FrameLedger, n: number, when: string): void {
  t.equal(ledger.outstanding(), n, `frames held from the PMM ${when}`, {
    hardware: [
      "the PMM's last calls:",
      ...ledger.log.slice(-6).map((e) =>
        e.op === "allocate"
          ? `  allocate(${e.frames}) = ${e.pa === undefined ? "undefined (refused)" : hex(e.pa)}`
          : `  free(${hex(e.pa!)}, ${e.frames})`
      ),
    ],
  });
}

/** The kernel root, a user root sharing its higher half, and the frames they took. */
function roots(r: Rig): { kernel: number; user: number } {
  const kernel = r.pt.createRoot();
  const user = r.pt.createRoot(kernel);
  return { kernel, user };
}

const USER_RW = flags("wu");
const USER_RX = flags("xu");
const USER_RO = flags("u");
const KERNEL_RW = flags("wg");
const KERNEL_RX = flags("xg");

/** The first address of the kernel's half. */
const KERNEL_HALF = 0xffff_8000_0000_0000n;
/** A kernel address far from the direct map, for the cases' kernel pages. */
const KERNEL_VA = 0xffff_c000_0000_0000n;

// ---- the cases -----------------------------------------------------------------------------

/** createRoot: a zeroed root, the kernel's 256 higher-half tables, shared by user roots. */
function caseCreateRoot(t: T): void {
  const r = rig(t);
  const kernel = r.pt.createRoot();
  t.check(r.ledger.isHeld(kernel), `createRoot() returned ${hex(kernel)}, not a PMM frame`, {
    expected: `a frame the PMM handed out (${hex(r.ledger.base)} up)`,
  });
  framesOut(t, r.ledger, 257, "after createRoot(): the root and one table per higher-half entry");
  const user = r.pt.createRoot(kernel);
  framesOut(t, r.ledger, 258, "after createRoot(kernel): one frame, the root");
  for (const root of [kernel, user]) {
    for (let i = 0; i < 512; i++) {
      const pte = t.board.ram.read(root + i * 8, 8)!;
      const k = t.board.ram.read(kernel + i * 8, 8)!;
      if (i < 256 && pte !== 0n) {
        t.fail(`the root at ${hex(root)} has junk in lower-half entry ${i}`, {
          expected: "0 (the PMM's frames are not zeroed: zero a table before you use it)",
          saw: `${hex(pte)} at ${hex(root + i * 8)}`,
        });
      }
      if (i >= 256 && root === user && pte !== k) {
        t.fail(`the user root's entry ${i} is not the kernel root's`, {
          expected: `${hex(k)} (copied from the kernel root at ${hex(kernel)})`,
          saw: `${hex(pte)} at ${hex(root + i * 8)}`,
        });
      }
    }
  }
  // The CPU walks the kernel's entries to empty tables: a fault one level down.
  for (const va of [KERNEL_HALF, KERNEL_VA, 0xffff_ffff_ffff_f000n]) {
    const w = r.probe.walk(user, va, "read", false);
    t.check(w.pa === undefined && w.steps.length === 2, `the walk of ${hex(va)}`, {
      expected: "a valid root entry pointing at an empty table: a fault at the second level",
      saw: w.pa !== undefined ? `mapped to ${hex(w.pa)}` : `${w.steps.length} entries read`,
      hardware: walkLines(w),
    });
  }
  expectAt(r, user, 0x40_0000n, undefined, "a new root");
}

/** map: 4 KiB pages, each permission, checked by every kind of access at both privileges. */
function caseMap(t: T): void {
  const r = rig(t);
  const { kernel, user } = roots(r);
  const cases: [number, bigint, PageFlags][] = [
    [user, 0x40_0000n, USER_RW],
    [user, 0x40_1000n, USER_RX],
    [user, 0x40_2000n, USER_RO],
    [user, 0x7f_0000_0000n, flags("wxu")],
    [kernel, KERNEL_VA, KERNEL_RW],
    [kernel, KERNEL_VA + 0x1000n, KERNEL_RX],
    [user, 0x80_0000n, flags("w")], // a kernel-only page in a user root's lower half
  ];
  cases.forEach(([root, va, f], i) => {
    r.pt.map(root, root === kernel ? 0 : 5, va, r.data + i * F, F, f);
  });
  cases.forEach(([root, va, f], i) => {
    const e = { pa: r.data + i * F, pageSize: F, flags: f };
    const what = `map(${hex(va)}, ${showFlags(f)})`;
    expectAt(r, root, va, e, what);
    // Kernel pages are seen, with the same permissions, through the user root.
    if (root === kernel) expectAt(r, user, va, e, `${what}, through a user root`);
  });
  // The pages around them stay unmapped.
  for (const va of [0x3f_f000n, 0x40_3000n, 0x7f_0000_1000n, KERNEL_VA + 0x2000n]) {
    expectAt(r, va >= KERNEL_HALF ? kernel : user, va, undefined, "a page next to a mapped one");
  }
}

/** translate: the tables' own answer agrees with the CPU's walk. */
function caseTranslate(t: T): void {
  const r = rig(t);
  const { kernel, user } = roots(r);
  const pages: [bigint, PageFlags][] = [
    [0x1000n, USER_RW],
    [0x2000n, USER_RX],
    [0x3_4567_8000n, USER_RO],
    [0x5000n, flags("wx")],
  ];
  pages.forEach(([va, f], i) => r.pt.map(user, 3, va, r.data + i * F, F, f));
  r.pt.map(kernel, 0, KERNEL_VA, r.data + 8 * F, F, KERNEL_RX);
  const probes = [
    ...pages.map(([va]) => va + 0x123n),
    KERNEL_VA + 0xff8n,
    0x3000n,
    0x3_4567_9000n,
    KERNEL_VA + 0x1000n,
    0xffff_9000_0000_0000n,
  ];
  for (const va of probes) {
    const got = r.pt.translate(user, va);
    const w = r.probe.walk(user, va, "read", false);
    const wu = r.probe.walk(user, va, "read", true);
    const pa = w.pa ?? wu.pa;
    if (pa === undefined) {
      t.equal(got, undefined, `translate(user root, ${hex(va)}): the CPU finds no mapping`, {
        hardware: walkLines(w),
      });
      continue;
    }
    t.check(got !== undefined, `translate(user root, ${hex(va)}) returned undefined`, {
      expected: `the CPU's translation, ${hex(pa)}`,
      hardware: walkLines(w.pa !== undefined ? w : wu),
    });
    t.equal(got!.pa, pa, `translate(user root, ${hex(va)}).pa against the CPU's walk`);
    t.equal(got!.pageSize, F, `translate(user root, ${hex(va)}).pageSize`);
    const f = got!.flags;
    const cpu = {
      write: r.probe.walk(user, va, "write", f.user).pa !== undefined,
      execute: r.probe.walk(user, va, "execute", f.user).pa !== undefined,
      user: wu.pa !== undefined,
    };
    t.equal(
      { write: f.write, execute: f.execute, user: f.user },
      cpu,
      `translate(user root, ${hex(va)}).flags against what the CPU allows`,
    );
  }
  t.equal(r.pt.translate(user, 0x0000_8000_0000_0000n), undefined, "translate of a non-canonical");
}

/** unmap: the page faults at once, through the TLB too; a stale entry is a failure. */
function caseUnmap(t: T): void {
  const r = rig(t);
  const { kernel, user } = roots(r);
  const [a, b, c] = quietPages(r, 5, 0x60_0000n, 3);
  const [k] = quietPages(r, 5, KERNEL_VA, 1);
  r.pt.map(user, 5, a, r.data, F, USER_RW);
  r.pt.map(user, 5, b, r.data + F, F, USER_RW);
  r.pt.map(user, 5, c, r.data + 2 * F, F, USER_RX);
  r.pt.map(kernel, 0, k, r.data + 3 * F, F, KERNEL_RW);
  // The CPU uses them, so its TLB caches them (the kernel page as a global entry).
  for (
    const [va, acc, u] of [[a, "write", true], [b, "read", true], [c, "execute", true], [
      k,
      "write",
      false,
    ]] as const
  ) {
    expectAccess(r, user, 5, va, acc, u, true, "before unmap", 0);
    t.check(r.probe.cached(5, va, acc), `the CPU's TLB did not cache ${hex(va)}`);
  }
  const from = r.probe.flushes.length;
  t.equal(r.pt.unmap(user, 5, a, F), 1, `unmap(${hex(a)}, 4 KiB) returns the pages unmapped`);
  expectAt(r, user, a, undefined, "after unmap");
  expectAccess(r, user, 5, a, "write", true, false, `unmap(${hex(a)})`, from);
  expectAccess(r, user, 5, b, "read", true, true, `unmap(${hex(a)}) left the next page`, from);
  // Two pages at once, with a hole between them.
  const f2 = r.probe.flushes.length;
  t.equal(r.pt.unmap(user, 5, b, Number(c - b) + F), 2, `unmap of ${hex(b)}..${hex(c + 4096n)}`);
  expectAccess(r, user, 5, b, "read", true, false, `unmap(${hex(b)}, ...)`, f2);
  expectAccess(r, user, 5, c, "execute", true, false, `unmap(..., ${hex(c)})`, f2);
  // A kernel (global) page: gone from every address space.
  const f3 = r.probe.flushes.length;
  t.equal(r.pt.unmap(kernel, 0, k, F), 1, `unmap(kernel root, ${hex(k)})`);
  expectAt(r, user, k, undefined, "a kernel page after unmap, through the user root");
  expectAccess(r, user, 5, k, "write", false, false, `unmap(kernel root, ${hex(k)})`, f3);
  t.equal(r.pt.unmap(user, 5, a, F), 0, "unmap of a page that is not mapped returns 0");
}

/** protect: fewer rights take effect at once (TLB included); more rights too. */
function caseProtect(t: T): void {
  const r = rig(t);
  const { kernel, user } = roots(r);
  const [a, b] = quietPages(r, 9, 0x60_0000n, 2);
  const [k] = quietPages(r, 9, KERNEL_VA, 1);
  r.pt.map(user, 9, a, r.data, F, USER_RW);
  r.pt.map(user, 9, b, r.data + F, F, flags("xu"));
  r.pt.map(kernel, 0, k, r.data + 2 * F, F, KERNEL_RW);
  expectAccess(r, user, 9, a, "write", true, true, "before protect", 0);
  expectAccess(r, user, 9, b, "execute", true, true, "before protect", 0);
  expectAccess(r, user, 9, k, "write", false, true, "before protect", 0);
  let from = r.probe.flushes.length;
  t.equal(r.pt.protect(user, 9, a, F, USER_RO), 1, `protect(${hex(a)}, read-only) returns 1`);
  expectAccess(r, user, 9, a, "write", true, false, `protect(${hex(a)}, read-only)`, from);
  expectAccess(r, user, 9, a, "read", true, true, `protect(${hex(a)}, read-only)`, from);
  expectAt(r, user, a, { pa: r.data, pageSize: F, flags: USER_RO }, "after protect");
  from = r.probe.flushes.length;
  t.equal(r.pt.protect(user, 9, b, F, flags("wu")), 1, `protect(${hex(b)}, rw, no execute)`);
  expectAccess(r, user, 9, b, "execute", true, false, `protect(${hex(b)}, no execute)`, from);
  expectAccess(r, user, 9, b, "write", true, true, `protect(${hex(b)}, writable)`, from);
  from = r.probe.flushes.length;
  t.equal(r.pt.protect(kernel, 0, k, F, flags("g")), 1, `protect(kernel ${hex(k)}, read-only)`);
  expectAccess(r, user, 9, k, "write", false, false, `protect(kernel ${hex(k)})`, from);
  // Taking away U: the page becomes the kernel's.
  from = r.probe.flushes.length;
  t.equal(r.pt.protect(user, 9, a, F, flags("")), 1, `protect(${hex(a)}, kernel-only)`);
  expectAccess(r, user, 9, a, "read", true, false, `protect(${hex(a)}, kernel-only)`, from);
  t.equal(r.pt.protect(user, 9, a, F, flags("")), 0, "protect that changes nothing returns 0");
}

/** Large pages: 2 MiB and 1 GiB leaves, aligned, one entry for the whole page. */
function caseLargePages(t: T): void {
  const r = rig(t);
  const { kernel, user } = roots(r);
  const twoMiBPa = Math.ceil(r.data / (2 * MiB)) * 2 * MiB;
  const va2 = 0x4000_0000n + 0x20_0000n;
  r.pt.map(user, 4, va2, twoMiBPa, 2 * MiB, USER_RW, 2 * MiB);
  // A gigapage over the first GiB that holds RAM (0 on the PC, 0x8000_0000 on virt).
  const ramGiB = Math.floor(r.data / GiB) * GiB;
  const va1 = 0x80_0000_0000n;
  r.pt.map(user, 4, va1, ramGiB, GiB, flags("u"), GiB);
  r.pt.map(kernel, 0, KERNEL_VA, ramGiB, GiB, KERNEL_RW, GiB);
  const big = (va: bigint, pa: number, size: number, f: PageFlags, levels: number) => {
    // Offsets whose physical address is RAM: the RISC-V walk also checks that (PMA).
    const offsets = [0, F, size / 2 + 0x3000, size - F, r.data - pa + 0x5000]
      .filter((off) => off >= 0 && off < size && t.board.ram.isRam(pa + off, 8));
    for (const off of offsets) {
      const e = { pa: pa + off, pageSize: size, flags: f };
      expectAt(r, user, va + BigInt(off), e, `a ${formatSize(size)} page at ${hex(va)}`);
    }
    const w = r.probe.walk(user, va + BigInt(offsets[offsets.length - 1]), "read", f.user);
    t.equal(
      w.steps.length,
      levels,
      `the entries the CPU reads to reach the leaf of the ${formatSize(size)} page at ${hex(va)}`,
      { hardware: walkLines(w) },
    );
  };
  big(va2, twoMiBPa, 2 * MiB, USER_RW, 3);
  big(va1, ramGiB, GiB, flags("u"), 2);
  big(KERNEL_VA, ramGiB, GiB, KERNEL_RW, 2);
  const m = r.pt.translate(user, va2 + 0x1_2345n);
  t.equal(m && { pa: m.pa, pageSize: m.pageSize }, {
    pa: twoMiBPa + 0x1_2345,
    pageSize: 2 * MiB,
  }, `translate(${hex(va2 + 0x1_2345n)}) of a 2 MiB page`);
  // Misaligned: the address, the physical address, the size.
  for (
    const [va, pa, named] of [
      [0x4000_0000n + 0x1000n, twoMiBPa, 0x4000_1000n],
      [0x4060_0000n, twoMiBPa + F, twoMiBPa + F],
    ] as [bigint, number, bigint | number][]
  ) {
    const e = t.throws(
      () => r.pt.map(user, 4, va, pa, 2 * MiB, USER_RW, 2 * MiB),
      `map(${hex(va)} -> ${hex(pa)}, a 2 MiB page) is misaligned but was accepted`,
    );
    namesAddress(t, e, named, `map(${hex(va)} -> ${hex(pa)}, 2 MiB)`);
  }
  // A 4 KiB page inside a 2 MiB one.
  const e = t.throws(
    () => r.pt.map(user, 4, va2 + 0x5000n, r.data, F, USER_RW),
    `map(${hex(va2 + 0x5000n)}) inside the 2 MiB page at ${hex(va2)} was accepted`,
  );
  t.check(e instanceof RangeError, "mapping inside a large page must throw a RangeError");
  // Unmap the whole large page: gone, flushed.
  const [probeVa] = [va2 + 0x1000n];
  expectAccess(r, user, 4, probeVa, "write", true, true, "a 2 MiB page before unmap", 0);
  const from = r.probe.flushes.length;
  t.equal(r.pt.unmap(user, 4, va2, 2 * MiB), 1, `unmap of the 2 MiB page returns 1`);
  expectAt(r, user, va2 + 0x1000n, undefined, "the 2 MiB page after unmap");
  const stale = r.probe.access(user, 4, probeVa, "write", true);
  if (stale.ok) {
    t.fail(`after unmap of the 2 MiB page at ${hex(va2)}, the CPU still writes ${hex(probeVa)}`, {
      expected: "a page fault (flush the page: one flush of its address drops a large page)",
      saw: stale.explanation,
      hardware: [`your code called: ${r.probe.describeFlushes(from)}`],
    });
  }
}

/** The higher half: mapped once in the kernel root, seen from every root. */
function caseHigherHalf(t: T): void {
  const r = rig(t);
  const kernel = r.pt.createRoot();
  const a = r.pt.createRoot(kernel);
  const b = r.pt.createRoot(kernel);
  // Kernel mappings made after the user roots exist, in far-apart parts of the higher half.
  const kvas = [KERNEL_HALF + 0x1000n, KERNEL_VA + 0x7000n, 0xffff_ffff_ffe0_0000n];
  kvas.forEach((va, i) => r.pt.map(kernel, 0, va, r.data + i * F, F, KERNEL_RW));
  r.pt.map(a, 1, 0x40_0000n, r.data + 8 * F, F, USER_RW);
  r.pt.map(b, 2, 0x40_0000n, r.data + 9 * F, F, USER_RO);
  kvas.forEach((va, i) => {
    for (const root of [a, b, kernel]) {
      expectAt(r, root, va, { pa: r.data + i * F, pageSize: F, flags: KERNEL_RW }, "shared");
    }
  });
  expectAt(r, a, 0x40_0000n, { pa: r.data + 8 * F, pageSize: F, flags: USER_RW }, "root A's");
  expectAt(r, b, 0x40_0000n, { pa: r.data + 9 * F, pageSize: F, flags: USER_RO }, "root B's");
  expectAt(r, kernel, 0x40_0000n, undefined, "the kernel root's lower half");
  // A user root's own view of the higher half changes nothing in the others.
  framesOut(
    t,
    r.ledger,
    257 + 2 + 3 * 2 + 2 * 3,
    "after 3 kernel pages (a page directory and a page table each) and 2 user pages (three " +
      "tables each)",
  );
}

/** destroyRoot: every user-half table and the root back to the PMM; the kernel's stay. */
function caseDestroyRoot(t: T): void {
  const r = rig(t);
  const { kernel, user } = roots(r);
  r.pt.map(kernel, 0, KERNEL_VA, r.data, F, KERNEL_RW);
  const afterKernel = r.ledger.outstanding();
  const vas = [0n, 0x40_0000n, 0x7fff_ffff_f000n, 0x1_0000_0000n, 0x1_0020_0000n];
  vas.forEach((va, i) => r.pt.map(user, 7, va, r.data + (i + 1) * F, F, USER_RW));
  r.pt.map(user, 7, 0x4000_0000n, 2 * MiB * 2, 2 * MiB, USER_RW, 2 * MiB);
  t.check(r.ledger.outstanding() > afterKernel, "mapping user pages took no table frames");
  const other = r.pt.createRoot(kernel);
  r.pt.destroyRoot(user);
  framesOut(
    t,
    r.ledger,
    afterKernel,
    "after destroyRoot(user): the user root and its tables freed, not the kernel's",
  );
  t.check(!r.ledger.isHeld(user), `destroyRoot did not free the root ${hex(user)}`);
  // The kernel's tables are intact and still shared.
  expectAt(r, other, KERNEL_VA, { pa: r.data, pageSize: F, flags: KERNEL_RW }, "after destroy");
  r.pt.destroyRoot(other);
  framesOut(t, r.ledger, afterKernel - 1, "after destroying a second user root");
}

/** Refusals: misaligned, non-canonical, crossing halves, already mapped. Nothing changes. */
function caseRefusals(t: T): void {
  const r = rig(t);
  const { user } = roots(r);
  r.pt.map(user, 2, 0x40_0000n, r.data, F, USER_RW);
  const held = r.ledger.outstanding();
  const refuse = (call: string, fn: () => unknown, named: bigint | number) => {
    const e = t.throws(fn, `${call} was accepted`);
    namesAddress(t, e, named, call);
  };
  refuse("map(0x40_1234, ...): a misaligned virtual address", () => {
    r.pt.map(user, 2, 0x40_1234n, r.data, F, USER_RW);
  }, 0x40_1234n);
  refuse(`map(0x41_0000 -> ${hex(r.data + 8)}): a misaligned physical address`, () => {
    r.pt.map(user, 2, 0x41_0000n, r.data + 8, F, USER_RW);
  }, r.data + 8);
  refuse("map(0x40_0000, ...) again: remapping an already-mapped page", () => {
    r.pt.map(user, 2, 0x40_0000n, r.data + F, F, USER_RO);
  }, 0x40_0000n);
  refuse("map(0x0000_8000_0000_0000, ...): a non-canonical address", () => {
    r.pt.map(user, 2, 0x0000_8000_0000_0000n, r.data, F, USER_RW);
  }, 0x0000_8000_0000_0000n);
  refuse("map(0x1234_0000_0000_0000, ...): a non-canonical address", () => {
    r.pt.map(user, 2, 0x1234_0000_0000_0000n, r.data, F, USER_RW);
  }, 0x1234_0000_0000_0000n);
  refuse("unmap(0x40_0800, ...): a misaligned address", () => {
    r.pt.unmap(user, 2, 0x40_0800n, F);
  }, 0x40_0800n);
  refuse("protect(0xffff_0000_0000_0000, ...): a non-canonical address", () => {
    r.pt.protect(user, 2, 0xffff_0000_0000_0000n, F, USER_RO);
  }, 0xffff_0000_0000_0000n);
  // Nothing changed: the page is as mapped, no table was taken.
  expectAt(r, user, 0x40_0000n, { pa: r.data, pageSize: F, flags: USER_RW }, "after refusals");
  for (const va of [0x41_0000n]) expectAt(r, user, va, undefined, "a refused map");
  t.equal(r.ledger.outstanding(), held, "frames held after the refused calls (no table taken)");
}

/** The edges of each half: page 0, the last user page, the first and last kernel pages. */
function caseEdges(t: T): void {
  const r = rig(t);
  const { kernel, user } = roots(r);
  const top = 0x7fff_ffff_f000n;
  r.pt.map(user, 3, 0n, r.data, F, USER_RO);
  r.pt.map(user, 3, top, r.data + F, F, USER_RW);
  r.pt.map(kernel, 0, KERNEL_HALF, r.data + 2 * F, F, KERNEL_RW);
  r.pt.map(kernel, 0, 0xffff_ffff_ffff_f000n, r.data + 3 * F, F, KERNEL_RX);
  expectAt(r, user, 0n, { pa: r.data, pageSize: F, flags: USER_RO }, "page 0");
  expectAt(r, user, top, { pa: r.data + F, pageSize: F, flags: USER_RW }, "the last user page");
  expectAt(r, user, KERNEL_HALF, {
    pa: r.data + 2 * F,
    pageSize: F,
    flags: KERNEL_RW,
  }, "the first kernel page");
  expectAt(r, user, 0xffff_ffff_ffff_f000n, {
    pa: r.data + 3 * F,
    pageSize: F,
    flags: KERNEL_RX,
  }, "the last page of all");
  expectAt(r, user, top - 0x1000n, undefined, "below the last user page");
  expectAt(r, user, KERNEL_HALF + 0x1000n, undefined, "above the first kernel page");
  // A range that runs off the top of the user half is refused whole.
  const e = t.throws(
    () => r.pt.map(user, 3, top - 0x1000n, r.data, 3 * F, USER_RW),
    `map(${hex(top - 0x1000n)}, 12 KiB) runs past the user half's end but was accepted`,
  );
  t.check(e instanceof RangeError, "a range that leaves the canonical half: a RangeError");
  expectAt(r, user, top - 0x1000n, undefined, "a refused range that crossed the top");
  t.equal(r.pt.unmap(user, 3, top, F), 1, "unmap of the last user page");
  t.equal(r.pt.unmap(user, 3, 0n, F), 1, "unmap of page 0");
  expectAt(r, user, 0n, undefined, "page 0 after unmap");
}

/** OutOfMemory: thrown when the PMM runs dry, with the tables whole and no frame lost. */
function caseOutOfMemory(t: T): void {
  const r = rig(t);
  const { kernel, user } = roots(r);
  r.pt.map(user, 6, 0x40_0000n, r.data, F, USER_RW);
  const held = r.ledger.outstanding();
  const isOom = (e: unknown, call: string) =>
    t.check(e instanceof OutOfMemory, `${call} threw, but not OutOfMemory`, {
      expected: "new OutOfMemory(...) from kernel/components.ts",
      saw: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
    });
  // No frame at all: a new root.
  r.ledger.limit = held;
  isOom(t.throws(() => r.pt.createRoot(kernel), "createRoot with no frame left"), "createRoot");
  framesOut(t, r.ledger, held, "after a createRoot that ran out");
  // A kernel root needs 257 frames: with fewer, what it took comes back.
  r.ledger.limit = held + t.rng.range(1, 256);
  isOom(t.throws(() => r.pt.createRoot(), "a kernel createRoot with too few frames"), "createRoot");
  framesOut(t, r.ledger, held, "after a kernel createRoot that ran out halfway");
  // One frame, where three new tables are needed (a new root entry).
  r.ledger.limit = held + 1;
  const far = 0x7f00_0000_0000n;
  isOom(
    t.throws(() => r.pt.map(user, 6, far, r.data, F, USER_RW), "map with one frame left"),
    "map",
  );
  expectAt(r, user, far, undefined, "the map that ran out");
  for (const va of [far + 0x20_0000n, far + 0x4000_0000n, far + 0x1000n]) {
    expectAt(r, user, va, undefined, "next to the map that ran out (a table left with junk?)");
  }
  expectAt(r, user, 0x40_0000n, { pa: r.data, pageSize: F, flags: USER_RW }, "mapped before");
  // A range that crosses into a second page table: the first part fits, the rest does not.
  r.ledger.limit = r.ledger.outstanding();
  const start = 0x5f_e000n; // two pages in 0x40_0000's table, two in the next one
  isOom(
    t.throws(() => r.pt.map(user, 6, start, r.data, 4 * F, USER_RW), "map across tables"),
    "map",
  );
  for (let i = 0; i < 4; i++) {
    const va = start + BigInt(i * F);
    const w = r.probe.walk(user, va, "read", true);
    if (w.pa !== undefined && w.pa !== r.data + i * F) {
      t.fail(`after the map that ran out, ${hex(va)} maps ${hex(w.pa)}`, {
        expected: `${hex(r.data + i * F)} or nothing`,
        hardware: walkLines(w),
      });
    }
  }
  // With frames again, the range can be cleared and mapped whole.
  r.ledger.limit = r.ledger.frames;
  r.pt.unmap(user, 6, start, 4 * F);
  r.pt.map(user, 6, start, r.data, 4 * F, USER_RW);
  for (let i = 0; i < 4; i++) {
    const va = start + BigInt(i * F);
    expectAt(r, user, va, { pa: r.data + i * F, pageSize: F, flags: USER_RW }, "mapped again");
  }
  r.pt.destroyRoot(user);
  framesOut(t, r.ledger, 257, "after destroyRoot(user): no frame lost to the failed maps");
}

/** Seeded random map, unmap and protect over 4096 pages, against the model and the CPU. */
function caseRandom(t: T): void {
  const r = rig(t);
  const { kernel, user } = roots(r);
  const ASID = 11;
  const REGION = 512; // pages: one last-level table each
  // Six user regions and two kernel ones, scattered over the halves.
  const starts: bigint[] = [];
  while (starts.length < 6) {
    const va = BigInt(t.rng.range(0, 0x3f_ffff)) << 21n; // anywhere in the user half
    if (!starts.includes(va)) starts.push(va);
  }
  starts.push(KERNEL_VA + (BigInt(t.rng.range(0, 0xffff)) << 21n));
  starts.push(0xffff_f000_0000_0000n + (BigInt(t.rng.range(0, 0xffff)) << 21n));
  const kernelRegion = (g: number) => g >= 6;
  const model = new Map<bigint, Expect>();
  const vaOf = (g: number, i: number) => starts[g] + BigInt(i * F);
  const dataPages = 1024;
  const randomFlags = (g: number): PageFlags =>
    kernelRegion(g)
      ? { ...flags("g"), write: t.rng.range(0, 1) === 1, execute: t.rng.range(0, 1) === 1 }
      : { ...flags("u"), write: t.rng.range(0, 1) === 1, execute: t.rng.range(0, 1) === 1 };
  const check = (va: bigint, what: string) => {
    const pair = ALL_PAIRS[t.rng.range(0, ALL_PAIRS.length - 1)];
    expectAt(r, user, va, model.get(va), what, [pair]);
  };
  const ops = 260;
  let maps = 0, unmaps = 0, protects = 0, refused = 0;
  for (let op = 0; op < ops; op++) {
    const g = t.rng.range(0, starts.length - 1);
    const root = kernelRegion(g) ? kernel : user;
    const asid = kernelRegion(g) ? 0 : ASID;
    const len = t.rng.range(1, 24);
    const first = t.rng.range(0, REGION - len);
    const vas = Array.from({ length: len }, (_, i) => vaOf(g, first + i));
    const kind = t.rng.range(0, 9);
    const what = (call: string) => `operation ${op + 1}, ${call}`;
    if (kind < 5) {
      if (vas.some((va) => model.has(va))) {
        // Remapping: refused when it starts on a mapped page (nothing changes).
        const at = vas.find((va) => model.has(va))!;
        const call = `map(${hex(at)}) over a mapped page`;
        t.throws(
          () => r.pt.map(root, asid, at, r.data, F, randomFlags(g)),
          `${what(call)}: accepted`,
        );
        refused++;
        check(at, what(call));
        continue;
      }
      const pa = r.data + t.rng.range(0, dataPages - len) * F;
      const f = randomFlags(g);
      r.pt.map(root, asid, vas[0], pa, len * F, f);
      vas.forEach((va, i) => model.set(va, { pa: pa + i * F, pageSize: F, flags: f }));
      maps++;
      for (const va of vas) check(va, what(`map(${hex(vas[0])}, ${len} pages, ${showFlags(f)})`));
      continue;
    }
    // Unmap or protect: first let the CPU cache a page of the range, to catch a stale entry.
    const mapped = vas.filter((va) => model.has(va));
    const planted = mapped.length > 0 ? mapped[t.rng.range(0, mapped.length - 1)] : undefined;
    let plantedAccess: [Access, boolean] | undefined;
    if (planted !== undefined) {
      const e = model.get(planted)!;
      plantedAccess = ALL_PAIRS.find(([a, u]) => allowed(t.arch, e.flags, a, u))!;
      r.probe.access(user, ASID, planted, plantedAccess[0], plantedAccess[1]);
    }
    const from = r.probe.flushes.length;
    let call: string;
    if (kind < 8) {
      call = `unmap(${hex(vas[0])}, ${len} pages)`;
      const n = r.pt.unmap(root, asid, vas[0], len * F);
      t.equal(n, mapped.length, `${what(call)} returns the pages it unmapped`);
      for (const va of vas) model.delete(va);
      unmaps++;
    } else {
      const f = randomFlags(g);
      call = `protect(${hex(vas[0])}, ${len} pages, ${showFlags(f)})`;
      const changed = mapped.filter((va) => {
        const o = model.get(va)!.flags;
        return o.write !== f.write || o.execute !== f.execute;
      }).length;
      const n = r.pt.protect(root, asid, vas[0], len * F, f);
      t.equal(n, changed, `${what(call)} returns the pages whose permissions changed`);
      for (const va of mapped) model.set(va, { ...model.get(va)!, flags: f });
      protects++;
    }
    if (planted !== undefined) {
      const [a, u] = plantedAccess!;
      const e = model.get(planted);
      const should = e !== undefined && allowed(t.arch, e.flags, a, u);
      expectAccess(r, user, ASID, planted, a, u, should, what(call), from);
    }
    for (const va of vas) check(va, what(call));
    for (let k = 0; k < 4; k++) {
      check(vaOf(t.rng.range(0, starts.length - 1), t.rng.range(0, REGION - 1)), what(call));
    }
  }
  // The whole pool, against the model; the tables' own translate on a sample.
  for (let g = 0; g < starts.length; g++) {
    for (let i = 0; i < REGION; i++) check(vaOf(g, i), "at the end of the sequence");
  }
  for (let k = 0; k < 64; k++) {
    const va = vaOf(t.rng.range(0, starts.length - 1), t.rng.range(0, REGION - 1));
    const e = model.get(va);
    const m = r.pt.translate(user, va + 0x10n);
    t.equal(
      m && { pa: m.pa, pageSize: m.pageSize, write: m.flags.write, execute: m.flags.execute },
      e && { pa: e.pa + 0x10, pageSize: F, write: e.flags.write, execute: e.flags.execute },
      `translate(${hex(va + 0x10n)}) at the end, against the model`,
    );
  }
  t.note(
    `${maps} maps, ${unmaps} unmaps, ${protects} protects, ${refused} refused remaps; ` +
      `${model.size} pages mapped at the end, ${r.ledger.outstanding()} frames of tables`,
  );
  r.pt.destroyRoot(user);
  t.check(r.ledger.outstanding() >= 257, "destroyRoot freed the kernel's tables");
}

/** x86-64: table entries let through what leaves allow; PCD for devices; G for global. */
function caseX86Bits(t: T): void {
  const r = rig(t);
  const { kernel, user } = roots(r);
  r.pt.map(user, 1, 0x40_0000n, r.data, F, flags("wxu"));
  r.pt.map(kernel, 0, KERNEL_VA, r.data + F, F, flags("wgd"));
  r.pt.map(kernel, 0, KERNEL_VA + 0x1000n, r.data + 2 * F, F, flags("g"));
  const w = r.probe.walk(user, 0x40_0000n, "read", true);
  const names = ["PML4E", "PDPTE", "PDE", "PTE"];
  w.steps.forEach((s, i) => {
    const pte = s.pte ?? 0n;
    if (i < 3) {
      t.check(
        (pte & 0x7n) === 0x7n && (pte & (1n << 63n)) === 0n,
        `the ${names[i]} on the way to a user page restricts it`,
        {
          expected: "P, R/W and U/S set and XD clear in every entry that points at a table " +
            "(SDM Vol. 3A §4.6: the MMU combines every level's rights)",
          saw: `${hex(pte)} at ${hex(s.pteAddress)}`,
        },
      );
    }
  });
  const leaf = (va: bigint) => {
    const s = r.probe.walk(user, va, "read", false).steps;
    return s[s.length - 1].pte ?? 0n;
  };
  const dev = leaf(KERNEL_VA);
  t.check((dev & 0x10n) !== 0n, "a device page's PTE has PCD (bit 4) set", {
    expected: "PCD = 1 (uncached: SDM Vol. 3A §4.9, §11.12.3)",
    saw: hex(dev),
  });
  t.check((dev & 0x100n) !== 0n, "a global page's PTE has G (bit 8) set", { saw: hex(dev) });
  const ro = leaf(KERNEL_VA + 0x1000n);
  t.check((ro & (1n << 63n)) !== 0n, "a page that is not executable has XD (bit 63) set", {
    saw: hex(ro),
  });
  const u = leaf(0x40_0000n);
  t.check((u & 0x100n) === 0n, "a user page's PTE has G clear", { saw: hex(u) });
}

/** Sv48: pointers are V alone; leaves carry A (and D when writable) for a Svade hart. */
function caseSv48Bits(t: T): void {
  const r = rig(t);
  const { kernel, user } = roots(r);
  r.pt.map(user, 1, 0x40_0000n, r.data, F, USER_RW);
  r.pt.map(user, 1, 0x40_1000n, r.data + F, F, USER_RX);
  r.pt.map(kernel, 0, KERNEL_VA, r.data + 2 * F, F, KERNEL_RW);
  for (const [va, u] of [[0x40_0000n, true], [0x40_1000n, true], [KERNEL_VA, false]] as const) {
    const w = r.probe.walk(user, va, "read", u);
    w.steps.forEach((s, i) => {
      const pte = s.pte ?? 0n;
      if (i < 3) {
        t.check((pte & 0xffn) === 0x1n, `the level-${s.level} PTE on the way to ${hex(va)}`, {
          expected: "V alone among bits 7..0: R = W = X = 0 (a pointer); U, A, D, G clear " +
            "(reserved in a non-leaf PTE, privileged spec §10.3.1)",
          saw: `${hex(pte)} at ${hex(s.pteAddress)}`,
        });
      } else {
        t.check((pte & 0x40n) !== 0n, `the leaf of ${hex(va)} has A (bit 6) set`, {
          expected: "A = 1: this hart follows Svade, so a leaf with A = 0 faults (§10.3.2 step 7)",
          saw: hex(pte),
        });
        const writable = (pte & 0x4n) !== 0n;
        t.check(!writable || (pte & 0x80n) !== 0n, `the writable leaf of ${hex(va)} has D`, {
          expected: "D = 1 on a writable leaf (Svade: a store to a leaf with D = 0 faults)",
          saw: hex(pte),
        });
      }
    });
  }
  expectAccess(r, user, 1, 0x40_0000n, "write", true, true, "a store to a fresh user page", 0);
}

// ---- the lesson ----------------------------------------------------------------------------

export default defineLesson<Components>({
  number: 3,
  title: "Paging",
  components: {
    x86_64: {
      interface: "PageTablesFactory (kernel/components.ts), x86-64 4-level paging",
      kernelKey: "pageTables",
      kernelEntry: "x86_64",
      exercise: exercise<typeof studentX86>("exercise/x86_64.ts", "createX86PageTables"),
      reference: createX86PageTables,
    },
    sv48: {
      interface: "PageTablesFactory (kernel/components.ts), Sv48",
      kernelKey: "pageTables",
      kernelEntry: "sv48",
      exercise: exercise<typeof studentSv48>("exercise/sv48.ts", "createSv48PageTables"),
      reference: createSv48PageTables,
    },
  },
  cases: [
    {
      name: "createRoot gives a zeroed root whose higher half every user root shares",
      points: 2,
      anchor: "step-3-the-root-and-the-higher-half",
      arch: "both",
      run: caseCreateRoot,
    },
    {
      name: "map makes 4 KiB pages the CPU translates, with the permissions asked for",
      points: 3,
      anchor: "step-5-map",
      arch: "both",
      run: caseMap,
    },
    {
      name: "translate agrees with the CPU's walk: address, page size, permissions",
      points: 2,
      anchor: "step-6-translate",
      arch: "both",
      run: caseTranslate,
    },
    {
      name: "unmap takes effect at once: no stale TLB entry lets the CPU through",
      points: 4,
      anchor: "step-7-unmap-and-the-tlb",
      arch: "both",
      run: caseUnmap,
    },
    {
      name: "protect takes effect at once: a write to a page made read-only faults",
      points: 3,
      anchor: "step-8-protect",
      arch: "both",
      run: caseProtect,
    },
    {
      name: "2 MiB and 1 GiB pages: aligned, one leaf, unmapped whole",
      points: 3,
      anchor: "step-9-large-pages",
      arch: "both",
      run: caseLargePages,
    },
    {
      name: "kernel mappings made later are seen from every root that shares the higher half",
      points: 2,
      anchor: "step-3-the-root-and-the-higher-half",
      arch: "both",
      run: caseHigherHalf,
    },
    {
      name: "destroyRoot frees the user half's tables and the root, and nothing of the kernel's",
      points: 2,
      anchor: "step-10-destroyroot",
      arch: "both",
      run: caseDestroyRoot,
    },
    {
      name: "misaligned, non-canonical and already-mapped addresses are refused, naming them",
      points: 2,
      anchor: "step-5-map",
      arch: "both",
      run: caseRefusals,
    },
    {
      name: "page 0, the last user page and both ends of the kernel half map and fault exactly",
      points: 2,
      anchor: "step-1-the-virtual-address",
      arch: "both",
      run: caseEdges,
    },
    {
      name: "running out of frames throws OutOfMemory and leaves whole tables, no frame lost",
      points: 3,
      anchor: "step-11-running-out-of-frames",
      arch: "both",
      run: caseOutOfMemory,
    },
    {
      name: "seeded random map, unmap and protect over 4096 pages agree with the CPU",
      points: 6,
      anchor: "how-the-grader-checks",
      arch: "both",
      run: caseRandom,
    },
    {
      name: "the kernel boots, runs its programs and powers off with your page tables",
      points: 3,
      anchor: "the-interface",
      arch: "both",
      system: true,
      run(t) {
        // The kernel maps its image, the direct map of RAM and the devices with your tables,
        // switches the CPU to them, and builds each program's address space from its root:
        // a wrong entry is a page fault the kernel reports, or a program that never runs.
        checkCleanRun(t, t.boot(), [/vmm: paging on \(/]);
      },
    },
    {
      name: "x86-64 entries: tables allow what leaves allow; XD, G and PCD where asked",
      points: 2,
      anchor: "x86-64-4-level-paging",
      arch: "x86_64",
      run: caseX86Bits,
    },
    {
      name: "Sv48 entries: pointers are V alone; leaves carry A, and D when writable",
      points: 2,
      anchor: "risc-v-sv48",
      arch: "riscv64",
      run: caseSv48Bits,
    },
  ],
});
