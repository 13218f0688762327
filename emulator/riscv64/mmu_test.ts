import assert from "node:assert/strict";
import {
  CSR_SSTATUS,
  EXC_BREAKPOINT,
  EXC_INST_ACCESS,
  EXC_INST_PAGE_FAULT,
  EXC_LOAD_ACCESS,
  EXC_LOAD_PAGE_FAULT,
  EXC_STORE_ACCESS,
  EXC_STORE_PAGE_FAULT,
  makeSatp,
  PTE_A,
  PTE_D,
  PTE_G,
  PTE_R,
  PTE_U,
  PTE_V,
  PTE_W,
  PTE_X,
  SATP_MODE_SV48,
  SSTATUS_MXR,
  SSTATUS_SUM,
} from "./csr.ts";
import { type Access, PRIV_S, PRIV_U } from "./hart_api.ts";
import type { RiscvHart } from "./hart.ts";
import {
  PageTables,
  RAM_BASE,
  RW_KERNEL,
  RW_USER,
  RWX_USER,
  RX_USER,
  Testbench,
  type TrapRecord,
} from "./testing.ts";

/** Where the test programs run (virtual) and live (physical). */
const CODE_VA = 0x1_0000;
const CODE_PA = RAM_BASE;
/** A data page, and where its frames are. */
const DATA_VA = 0x40_0000;
const FRAME = RAM_BASE + 0x20_0000;
const POOL = RAM_BASE + 0x80_0000;

const PROGRAMS: Record<Access, string> = {
  read: "ld a0, 0(a1)\nebreak",
  write: "sd a0, 0(a1)\nebreak",
  execute: "jr a1",
};

interface Setup {
  tb: Testbench;
  pt: PageTables;
  h: RiscvHart;
}

/** A bench with page tables of `levels`, the test program mapped at CODE_VA. */
function setup(levels: 3 | 4, access: Access = "read"): Setup {
  const tb = new Testbench();
  const pt = new PageTables(tb, levels, POOL);
  pt.map(CODE_VA, CODE_PA, RX_USER);
  tb.load(PROGRAMS[access], CODE_VA, CODE_PA);
  const h = tb.harts[0];
  h.csrw(0x180, pt.satp());
  return { tb, pt, h };
}

/** Runs the program for `access` at `va` in U-mode; returns the trap. */
function userAccess(s: Setup, va: bigint, asid = 0): TrapRecord {
  s.tb.enterUser(0, CODE_VA, s.pt.satp(asid));
  s.h.x[11] = va;
  s.tb.run(100_000);
  return s.tb.traps[0];
}

const FAULT: Record<Access, number> = {
  read: EXC_LOAD_PAGE_FAULT,
  write: EXC_STORE_PAGE_FAULT,
  execute: EXC_INST_PAGE_FAULT,
};
const ACCESS_FAULT: Record<Access, number> = {
  read: EXC_LOAD_ACCESS,
  write: EXC_STORE_ACCESS,
  execute: EXC_INST_ACCESS,
};

/** Writes an `ebreak` where a fetch should land, so a successful fetch ends at once. */
function plantEbreak(tb: Testbench, pa: number) {
  tb.write(pa, [0x73, 0x00, 0x10, 0x00]);
}

/**
 * Checks one rule both ways: a U-mode access that must fault with `code` (or succeed
 * when `code` is undefined), and translate() whose explanation must match.
 */
function expectRule(
  s: Setup,
  access: Access,
  va: number,
  code: number | undefined,
  explanation: RegExp,
  priv: 0 | 1 = PRIV_U,
  label = "",
) {
  const tr = s.h.translate(BigInt.asUintN(64, BigInt(va)), access, priv);
  assert.equal(tr.fault, code, `${label} translate: ${tr.explanation}`);
  assert.match(tr.explanation, explanation);
  if (priv !== PRIV_U) return;
  const t = userAccess(s, BigInt.asUintN(64, BigInt(va)));
  if (code === undefined) {
    assert.equal(t.code, EXC_BREAKPOINT, `${access} at ${va.toString(16)} should succeed`);
  } else {
    assert.equal(t.code, code, `${access} at ${va.toString(16)}: ${tr.explanation}`);
    assert.equal(t.stval, BigInt.asUintN(64, BigInt(va)), "stval = the faulting address");
    if (access === "execute") assert.equal(t.sepc, BigInt.asUintN(64, BigInt(va)));
    else assert.equal(t.sepc, BigInt(CODE_VA), "sepc = the faulting instruction");
  }
}

for (const levels of [3, 4] as const) {
  const mode = levels === 3 ? "Sv39" : "Sv48";

  Deno.test(`${mode}: a 4 KiB mapping translates loads, stores and fetches`, () => {
    for (const access of ["read", "write", "execute"] as Access[]) {
      const s = setup(levels, access);
      s.pt.map(DATA_VA, FRAME, RWX_USER);
      plantEbreak(s.tb, FRAME + 0x10);
      s.tb.writeU64(FRAME + 0x10, 0x0010_0073n | (0x1234n << 32n)); // ebreak, then data
      expectRule(s, access, DATA_VA + 0x10, undefined, /maps it to 0x8020_0010/);
      if (access === "write") assert.equal(s.tb.read(FRAME + 0x10, 8), 0n, "a0 was stored");
      if (access === "read") assert.equal(s.h.x[10], 0x1234_0010_0073n);
    }
  });

  Deno.test(`${mode}: each invalid or reserved PTE is a page fault of the access type`, () => {
    for (const access of ["read", "write", "execute"] as Access[]) {
      const cases: [string, (pt: PageTables) => void, RegExp][] = [
        ["V=0", (pt) => pt.map(DATA_VA, FRAME, RWX_USER & ~PTE_V), /is not valid \(V=0\)/],
        [
          "W without R",
          (pt) => pt.map(DATA_VA, FRAME, PTE_V | PTE_W | PTE_U | PTE_A | PTE_D),
          /W=1 with R=0, a reserved encoding/,
        ],
        ...[54, 60, 61, 62, 63].map((bit): [string, (pt: PageTables) => void, RegExp] => [
          `bit ${bit} set`,
          (pt) =>
            pt.setPte(
              DATA_VA,
              0,
              (BigInt(FRAME / 4096) << 10n) | BigInt(RWX_USER) | (1n << BigInt(bit)),
            ),
          /sets bits 63:54 \(N, PBMT, reserved\)/,
        ]),
        ...[PTE_A, PTE_D, PTE_U].map((flag): [string, (pt: PageTables) => void, RegExp] => [
          `non-leaf with ${flag}`,
          (pt) => {
            pt.map(DATA_VA, FRAME, RWX_USER);
            pt.setPte(DATA_VA, 1, pt.pte(DATA_VA, 1) | BigInt(flag));
          },
          /sets A, D or U, which are reserved in non-leaf PTEs/,
        ]),
        [
          "a pointer at level 0",
          (pt) => pt.map(DATA_VA, FRAME, PTE_V),
          /at level 0 is a pointer \(R=X=0\): there is no level below/,
        ],
      ];
      for (const [name, build, why] of cases) {
        const s = setup(levels, access);
        build(s.pt);
        expectRule(s, access, DATA_VA, FAULT[access], why, PRIV_U, name);
      }
    }
  });

  Deno.test(`${mode}: permissions R, W, X and U, with SUM and MXR`, async (t) => {
    const cases: [string, number, Access, 0 | 1, number, number | undefined, RegExp][] = [
      // name, PTE flags, access, privilege, sstatus bits, fault, explanation
      [
        "U load from an X-only page",
        PTE_X | PTE_U,
        "read",
        0,
        0,
        EXC_LOAD_PAGE_FAULT,
        /not readable/,
      ],
      ["U load from an X-only page with MXR", PTE_X | PTE_U, "read", 0, 1, undefined, /maps it/],
      [
        "U store to a read-only page",
        PTE_R | PTE_U,
        "write",
        0,
        0,
        EXC_STORE_PAGE_FAULT,
        /not writable/,
      ],
      [
        "U fetch from a non-X page",
        PTE_R | PTE_U,
        "execute",
        0,
        0,
        EXC_INST_PAGE_FAULT,
        /not executable/,
      ],
      [
        "U load from a supervisor page",
        PTE_R | PTE_W,
        "read",
        0,
        0,
        EXC_LOAD_PAGE_FAULT,
        /supervisor page \(U=0\)/,
      ],
      [
        "U fetch from a supervisor page",
        PTE_R | PTE_X,
        "execute",
        0,
        0,
        EXC_INST_PAGE_FAULT,
        /supervisor page/,
      ],
      ["S load from a user page", PTE_R | PTE_U, "read", 1, 0, EXC_LOAD_PAGE_FAULT, /SUM=0/],
      ["S load from a user page with SUM", PTE_R | PTE_U, "read", 1, 2, undefined, /maps it/],
      [
        "S store to a user page with SUM",
        PTE_R | PTE_W | PTE_U,
        "write",
        1,
        2,
        undefined,
        /maps it/,
      ],
      [
        "S fetch from a user page even with SUM",
        PTE_R | PTE_X | PTE_U,
        "execute",
        1,
        2,
        EXC_INST_PAGE_FAULT,
        /never executes user pages/,
      ],
      ["S load from a supervisor X-only page with MXR", PTE_X, "read", 1, 1, undefined, /maps it/],
    ];
    for (const [name, flags, access, priv, bits, fault, why] of cases) {
      await t.step(name, () => {
        const s = setup(levels, access);
        s.pt.map(DATA_VA, FRAME, PTE_V | PTE_A | PTE_D | flags);
        plantEbreak(s.tb, FRAME);
        s.h.csrw(CSR_SSTATUS, (bits & 1 ? SSTATUS_MXR : 0n) | (bits & 2 ? SSTATUS_SUM : 0n));
        s.h.csrw(0x180, s.pt.satp());
        expectRule(s, access, DATA_VA, fault, why, priv);
        if (priv === PRIV_S && access !== "execute") {
          // The same through the kernel's own load and store.
          s.h.priv = PRIV_S;
          const go = () =>
            access === "read" ? s.h.load(BigInt(DATA_VA), 8) : s.h.store(BigInt(DATA_VA), 8, 1n);
          if (fault === undefined) go();
          else assert.throws(go, (e: unknown) => (e as { code: number }).code === fault);
        }
      });
    }
  });

  Deno.test(`${mode}: Svade: A = 0 faults any access, D = 0 faults stores only`, () => {
    for (const access of ["read", "write", "execute"] as Access[]) {
      const s = setup(levels, access);
      s.pt.map(DATA_VA, FRAME, RWX_USER & ~PTE_A);
      expectRule(s, access, DATA_VA, FAULT[access], /has A=0 \(this hart implements Svade/);
      const d = setup(levels, access);
      d.pt.map(DATA_VA, FRAME, RWX_USER & ~PTE_D);
      plantEbreak(d.tb, FRAME);
      if (access === "write") expectRule(d, access, DATA_VA, FAULT[access], /D=0 on a store/);
      else expectRule(d, access, DATA_VA, undefined, /maps it/);
      // The hart never writes A or D itself.
      assert.equal(d.pt.pte(DATA_VA, 0) & BigInt(PTE_D), 0n);
    }
  });

  Deno.test(`${mode}: superpages map the low bits of the address, and must be aligned`, () => {
    const sizes = levels === 4 ? [1, 2, 3] : [1, 2];
    for (const level of sizes) {
      const size = 2 ** (12 + 9 * level);
      const va = size * 3; // a superpage-aligned virtual address
      const pa = level === 3 ? 0 : RAM_BASE; // 512 GiB pages: only the first covers RAM
      const s = setup(levels);
      s.pt.map(va, pa, RW_USER, level);
      const offset = RAM_BASE - pa + 0x12_3458;
      s.tb.writeU64(pa + offset, 0xabcdn);
      expectRule(s, "read", va + offset, undefined, new RegExp(`level-${level} PTE`));
      assert.equal(s.h.x[10], 0xabcdn);
      // Misaligned: the PPN has a bit set below the superpage's size.
      const m = setup(levels);
      m.pt.map(va, pa + 4096 * (level === 1 ? 1 : 512), RW_USER, level);
      expectRule(m, "read", va, EXC_LOAD_PAGE_FAULT, /superpage whose PPN is not aligned/);
    }
  });

  Deno.test(`${mode}: a non-canonical address faults before any PTE is read`, () => {
    const bits = levels === 3 ? 39 : 48;
    for (const access of ["read", "write", "execute"] as Access[]) {
      for (const va of [2 ** (bits - 1), -(2 ** (bits - 1)) - 4096, 2 ** 52]) {
        const s = setup(levels, access);
        const tr = s.h.translate(BigInt.asUintN(64, BigInt(va)), access, PRIV_U);
        assert.equal(tr.steps.length, 0);
        expectRule(s, access, va, FAULT[access], new RegExp(`bits 63..${bits} must all equal`));
      }
    }
    // The exact stval for an address no float64 can hold.
    const s = setup(levels);
    const t = userAccess(s, 0x8000_0000_0000_0008n);
    assert.equal(t.code, EXC_LOAD_PAGE_FAULT);
    assert.equal(t.stval, 0x8000_0000_0000_0008n);
  });

  Deno.test(`${mode}: a PTE that is not in RAM is an access fault`, () => {
    for (const access of ["read", "write", "execute"] as Access[]) {
      const s = setup(levels, access);
      // Point the data mapping's level-1 table at a physical address with nothing there.
      s.pt.map(DATA_VA, FRAME, RWX_USER);
      s.pt.setPte(DATA_VA, 1, (0x2000_0000n << 10n) | BigInt(PTE_V));
      expectRule(s, access, DATA_VA, ACCESS_FAULT[access], /is not RAM/);
    }
    // And a root table that is not RAM faults every address, code included.
    const tb = new Testbench();
    tb.enterUser(0, CODE_VA, makeSatp(levels === 3 ? 8 : 9, 0, 0x1000));
    tb.run();
    assert.equal(tb.traps[0].code, EXC_INST_ACCESS);
  });

  Deno.test(`${mode}: the walk is traced PTE by PTE`, () => {
    const s = setup(levels);
    s.pt.map(DATA_VA, FRAME, RW_USER);
    s.tb.machine.trace.enable("walk");
    userAccess(s, BigInt(DATA_VA));
    const walks = s.tb.machine.trace.events.filter((e) => e.kind === "walk");
    // The fetch walk, then the data walk: `levels` PTE reads each.
    assert.equal(walks.length, 2 * levels);
    const last = walks[walks.length - 1].data;
    assert.equal(last.level, 0);
    assert.equal(
      last.pte_addr,
      `0x${s.pt.pteAddress(DATA_VA, 0).toString(16).replace(/\B(?=([0-9a-f]{4})+$)/g, "_")}`,
    );
    assert.match(String(last.pte), /^0x2008_00d7$/);
  });
}

Deno.test("Sv48: a global leaf or a global table makes every mapping below it global", () => {
  const tb = new Testbench();
  const pt = new PageTables(tb, 4, POOL);
  pt.map(DATA_VA, FRAME, RW_KERNEL | PTE_G);
  const h = tb.harts[0];
  h.priv = PRIV_S;
  h.csrw(0x180, makeSatp(SATP_MODE_SV48, 7, POOL / 4096));
  h.load(BigInt(DATA_VA), 8);
  assert.equal(h.dtlb.asid[(DATA_VA >>> 12) & 1023], -1, "filled as global");
  pt.map(DATA_VA + 4096, FRAME, RW_KERNEL);
  pt.setPte(DATA_VA, 1, pt.pte(DATA_VA, 1) | BigInt(PTE_G));
  h.load(BigInt(DATA_VA + 4096), 8);
  assert.equal(h.dtlb.asid[((DATA_VA + 4096) >>> 12) & 1023], -1, "G on the table above");
});
