/**
 * The grader of lesson 03 catches real mistakes: page tables with one bug each (the
 * mistakes students make: a missing or misdirected TLB flush, tables that are not zeroed,
 * table entries that restrict what the leaf allows, a leaf the hart refuses, a translate
 * that disagrees with the MMU, a plain Error where OutOfMemory belongs, a destroyRoot that
 * leaks, a map that overwrites) must fail the case about that bug, on the boards where the
 * bug exists, while the reference passes everything (tests/lessons_test.ts).
 */

import assert from "node:assert/strict";
import { SV48 } from "../../arch/riscv64/sv48.ts";
import { tableEntry, X86_4LEVEL } from "../../arch/x86_64/paging.ts";
import { PTE_A } from "../../emulator/riscv64/csr.ts";
import type { PageTables, PageTablesDeps, PageTablesFactory } from "../../kernel/components.ts";
import { createPageTables, type PteFormat } from "../../kernel/mm/page_tables.ts";
import { assertFailsOn, failingCases, type Failures } from "../harness/grader_testing.ts";
import { runLesson } from "../harness/run.ts";
import lesson from "./lesson.ts";

type Bug = (deps: PageTablesDeps, format: PteFormat) => PageTables;

/** The reference over `format` and `deps`, each possibly altered by the bug. */
const reference: Bug = (deps, format) => createPageTables(format, deps);

/** The cases `bug` fails, with the architectures each fails on. */
function failures(bug: Bug, only?: string): Failures {
  const x86_64: PageTablesFactory = (deps) => bug(deps, X86_4LEVEL);
  const sv48: PageTablesFactory = (deps) => bug(deps, SV48);
  return failingCases(lesson, { x86_64, sv48 }, only);
}

const UNMAP = "unmap takes effect at once: no stale TLB entry lets the CPU through";
const PROTECT = "protect takes effect at once: a write to a page made read-only faults";
const MAP = "map makes 4 KiB pages the CPU translates, with the permissions asked for";

Deno.test("lesson 03 grader: tables that never flush the TLB fail unmap and protect, through a stale entry", () => {
  const noFlush: Bug = (deps, format) =>
    reference({ ...deps, tlb: { flushPage() {}, flushAsid() {}, flushAll() {} } }, format);
  const failed = failures(noFlush, "takes effect at once");
  assertFailsOn(failed, UNMAP);
  assertFailsOn(failed, PROTECT);
  const runs = runLesson(lesson, {
    x86_64: (deps: PageTablesDeps) => noFlush(deps, X86_4LEVEL),
    sv48: (deps: PageTablesDeps) => noFlush(deps, SV48),
  }, { which: "exercise", seed: 1, arches: ["riscv64"], only: "unmap takes effect" });
  const f = runs[0].failure!;
  assert.match(f.message, /still works through a stale TLB entry/);
  assert.ok(f.hardware?.some((l) => /your code called: no TLB flush at all/.test(l)));
  assert.ok(f.hardware?.some((l) => /level-0 PTE/.test(l)), "the walk is shown");
});

Deno.test("lesson 03 grader: flushing a global kernel page in one address space only fails", () => {
  const oneSpace: Bug = (deps, format) =>
    reference({
      ...deps,
      tlb: { ...deps.tlb, flushPage: (va, asid) => deps.tlb.flushPage(va, asid === 0 ? 5 : asid) },
    }, format);
  assertFailsOn(failures(oneSpace, "unmap takes effect"), UNMAP);
});

Deno.test("lesson 03 grader: tables that are not zeroed fail, with the junk shown", () => {
  const unzeroed: Bug = (deps, format) =>
    reference({ ...deps, mem: { ...deps.mem, zero() {} } }, format);
  const failed = failures(unzeroed, "createRoot");
  assertFailsOn(failed, "createRoot gives a zeroed root whose higher half every user root shares");
});

Deno.test("lesson 03 grader: entries that restrict or break what the leaf allows fail map", () => {
  // x86-64: a table pointer without U/S, so every user access faults at that level (§4.6).
  const noUserPointer: Bug = (deps, format) =>
    reference(
      deps,
      format === X86_4LEVEL ? { ...format, pointer: (t) => tableEntry(t, false) } : format,
    );
  let failed = failures(noUserPointer, "map makes");
  assertFailsOn(failed, MAP, ["x86_64"]);
  // Sv48: a leaf without A, which a Svade hart refuses.
  const noAccessed: Bug = (deps, format) =>
    reference(
      deps,
      format === SV48
        ? { ...format, leaf: (pa, f, l) => format.leaf(pa, f, l) & ~BigInt(PTE_A) }
        : format,
    );
  failed = failures(noAccessed, "map makes");
  assertFailsOn(failed, MAP, ["riscv64"]);
  assertFailsOn(
    failures(noAccessed, "Sv48 entries"),
    "Sv48 entries: pointers are V alone; leaves carry A, and D when writable",
    ["riscv64"],
  );
});

Deno.test("lesson 03 grader: a translate that disagrees with the MMU fails", () => {
  const offByOne: Bug = (deps, format) => {
    const pt = reference(deps, format);
    return {
      ...pt,
      translate(root, va) {
        const m = pt.translate(root, va);
        return m && { ...m, pa: m.pa + 4096 };
      },
    };
  };
  assertFailsOn(
    failures(offByOne, "translate agrees"),
    "translate agrees with the CPU's walk: address, page size, permissions",
  );
});

Deno.test("lesson 03 grader: running out with a plain Error, or a leaking destroyRoot, fails", () => {
  const plainError: Bug = (deps, format) =>
    reference({
      ...deps,
      pmm: {
        ...deps.pmm,
        allocate(n) {
          const pa = deps.pmm.allocate(n);
          if (pa === undefined) throw new Error("no memory");
          return pa;
        },
      },
    }, format);
  assertFailsOn(
    failures(plainError, "running out"),
    "running out of frames throws OutOfMemory and leaves whole tables, no frame lost",
  );
  const leaky: Bug = (deps, format) => {
    const pt = reference(deps, format);
    return { ...pt, destroyRoot: (root) => deps.pmm.free(root) };
  };
  assertFailsOn(
    failures(leaky, "destroyRoot"),
    "destroyRoot frees the user half's tables and the root, and nothing of the kernel's",
  );
});

Deno.test("lesson 03 grader: a map that silently replaces a mapping fails the refusals and the stress", () => {
  const overwrite: Bug = (deps, format) => {
    const pt = reference(deps, format);
    return {
      ...pt,
      map(root, asid, va, pa, size, flags, pageSize) {
        pt.unmap(root, asid, va, size);
        pt.map(root, asid, va, pa, size, flags, pageSize);
      },
    };
  };
  const failed = failures(overwrite, "refused");
  assertFailsOn(
    failed,
    "misaligned, non-canonical and already-mapped addresses are refused, naming them",
  );
  assertFailsOn(
    failures(overwrite, "seeded random"),
    "seeded random map, unmap and protect over 4096 pages agree with the CPU",
  );
});
