/**
 * Lesson 02, physical memory: the graded cases of the physical memory manager
 * (PhysicalMemoryManager / PmmFactory, kernel/components.ts; the reference is anos's stack
 * of free runs, kernel/mm/pmm.ts).
 *
 * The grader never believes the PMM. Every frame it hands out is checked against the
 * memory map the firmware wrote, then filled with a pattern (its first word written through
 * the CPU, so a frame the CPU cannot reach faults as on hardware); the patterns are checked
 * again and again, so two users of one frame, or a PMM that keeps its own data in a frame
 * it handed out, show up as a frame that changed. Memory the PMM was told to leave alone
 * (the firmware's, the kernel's, the boot information) is copied before and compared after.
 *
 * @module
 */

import { hex } from "../../emulator/core/memory.ts";
import {
  MEMMAP_BOOTLOADER_RECLAIMABLE,
  MEMMAP_RESERVED,
  MEMMAP_TYPE_NAMES,
  MEMMAP_USABLE,
  type MemoryRegion,
} from "../../emulator/core/bootinfo.ts";
import type { PhysicalMemoryManager, PmmFactory } from "../../kernel/components.ts";
import { createStackPmm } from "../../kernel/mm/pmm.ts";
import type { CaseContext } from "../harness/context.ts";
import { defineLesson, exercise } from "../harness/define.ts";
import { checkCleanRun } from "../harness/system.ts";
import { CaseFailure } from "../harness/failure.ts";
import type { createPmm } from "./exercise/pmm.ts";

type T = CaseContext<{ pmm: PmmFactory }>;

const F = 4096;
const MiB = 2 ** 20;

/** The accessed (5) and dirty (6) bits of an x86-64 page-table entry (SDM vol. 3A §4.8). */
const PTE_A_D = 0x60;

/** What the grader paints free RAM with, to see what the PMM writes. */
const PAINT = 0xa5;

/** A small board: exhausting it takes a few thousand allocations. */
const SMALL = { memory: 8 * MiB };

// ---- the memory map, as the grader reads it -------------------------------------------------

/** A usable region rounded inwards to whole frames. */
interface Usable {
  base: number;
  end: number;
}

/** The usable frames of a map: each region rounded inwards to whole frames. */
function usableOf(map: readonly MemoryRegion[]): Usable[] {
  return map.filter((r) => r.type === MEMMAP_USABLE)
    .map((r) => ({ base: Math.ceil(r.base / F) * F, end: Math.floor((r.base + r.length) / F) * F }))
    .filter((r) => r.end > r.base);
}

function framesIn(usable: readonly Usable[]): number {
  return usable.reduce((n, r) => n + (r.end - r.base) / F, 0);
}

/** The bookkeeping a PMM may keep for itself: 1/256 of the memory, plus two frames. */
function allowance(frames: number): number {
  return Math.floor(frames / 256) + 2;
}

function describeMap(map: readonly MemoryRegion[]): string[] {
  return [
    "the memory map the PMM was given:",
    ...map.map((r) =>
      `  ${hex(r.base).padStart(13)}..${hex(r.base + r.length).padEnd(13)} ` +
      `${MEMMAP_TYPE_NAMES[r.type] ?? `type ${r.type}`}`
    ),
  ];
}

/**
 * Turns parts of the usable regions into reserved ones, as firmware that keeps some RAM for
 * itself does: `holes` of 1 to 8 frames, some not frame-aligned.
 */
function withHoles(t: T, map: readonly MemoryRegion[], holes: number): MemoryRegion[] {
  let out = map.map((r) => ({ ...r }));
  for (let i = 0; i < holes; i++) {
    const big = out.filter((r) => r.type === MEMMAP_USABLE && r.length >= 64 * F);
    const r = big[t.rng.range(0, big.length - 1)];
    const start = r.base + t.rng.range(4, Math.floor(r.length / F) - 16) * F +
      (i % 2 ? t.rng.range(1, 4000) : 0);
    const length = t.rng.range(1, 8) * F - (i % 3 === 1 ? t.rng.range(1, 2000) : 0);
    out = out.flatMap((x) =>
      x !== r ? [x] : [
        { base: x.base, length: start - x.base, type: MEMMAP_USABLE },
        { base: start, length, type: MEMMAP_RESERVED },
        { base: start + length, length: x.base + x.length - start - length, type: MEMMAP_USABLE },
      ]
    );
  }
  return out;
}

// ---- what the grader watches ------------------------------------------------------------------

/**
 * Copies of the RAM the PMM must leave alone, to compare later. In the firmware's page
 * tables (on the PC), the accessed and dirty bits of each entry are the MMU's to set.
 */
class Untouchable {
  readonly #copies: { base: number; bytes: Uint8Array; what: string }[] = [];
  readonly #tables: Set<number>;

  constructor(private readonly t: T, map: readonly MemoryRegion[]) {
    this.#tables = new Set(t.board.mmuTableFrames());
    for (const r of map) {
      if (r.type === MEMMAP_USABLE) continue;
      const what = MEMMAP_TYPE_NAMES[r.type] ?? `type ${r.type}`;
      // A huge region: its first and last 64 KiB, where a PMM that overruns would write.
      const pieces = r.length <= 16 * MiB ? [[r.base, r.length]] : [
        [r.base, 64 * 1024],
        [r.base + r.length - 64 * 1024, 64 * 1024],
      ];
      for (const [base, length] of pieces) {
        const bytes = t.board.ram.readBytes(base, length);
        if (bytes) this.#copies.push({ base, bytes, what });
      }
    }
  }

  /** Stops watching [base, end): the PMM was given it (reclaimed memory). */
  release(base: number, end: number): void {
    for (let i = this.#copies.length - 1; i >= 0; i--) {
      const c = this.#copies[i];
      if (c.base >= base && c.base + c.bytes.length <= end) this.#copies.splice(i, 1);
    }
  }

  /** The first byte that changed, ignoring the MMU's accessed and dirty bits; -1 if none. */
  #firstChange(base: number, before: Uint8Array, now: Uint8Array): number {
    for (let j = 0; j < now.length; j++) {
      if (now[j] === before[j]) continue;
      const pa = base + j;
      const mask = pa % 8 === 0 && this.#tables.has(pa - (pa % F)) ? ~PTE_A_D & 0xff : 0xff;
      if (((now[j] ^ before[j]) & mask) !== 0) return j;
    }
    return -1;
  }

  /** Fails the case if any of it changed. */
  check(): void {
    for (const c of this.#copies) {
      const now = this.t.board.ram.readBytes(c.base, c.bytes.length)!;
      const i = this.#firstChange(c.base, c.bytes, now);
      if (i >= 0) {
        throw new CaseFailure(
          `memory the PMM must leave alone changed: ${hex(c.base + i)} is ${c.what}`,
          {
            expected: `byte at ${hex(c.base + i)} = 0x${
              c.bytes[i].toString(16)
            } (as the firmware left it)`,
            saw: `0x${now[i].toString(16)}`,
            hardware: ["only MEMMAP_USABLE memory may be handed out or used for bookkeeping"],
          },
        );
      }
    }
  }
}

/** Word `i` of the pattern the grader writes into the frame at `pa`: different in every frame. */
function patternWord(pa: number, tag: number, i: number): number {
  return (Math.imul(pa / F, 0x9e37_79b1) + Math.imul(i, 0x85eb_ca6b) + tag) >>> 0;
}

/** The whole pattern of the frame at `pa`. */
function pattern(pa: number, tag: number): Uint8Array {
  const words = new Uint32Array(F / 4);
  for (let i = 0; i < words.length; i++) words[i] = patternWord(pa, tag, i);
  return new Uint8Array(words.buffer);
}

/** The grader's books: every frame handed out, checked and filled, and the PMM under test. */
class Books {
  /** Allocated runs: base to frame count. */
  readonly runs = new Map<number, number>();
  /** Allocated frames: frame number to the base of its run. */
  readonly owner = new Map<number, number>();
  /** Every frame number ever handed out (the grader wrote into each). */
  readonly everHanded = new Set<number>();
  readonly usable: Usable[];
  readonly untouchable: Untouchable;
  #tag = 1;
  readonly #tags = new Map<number, number>();

  constructor(
    readonly t: T,
    readonly map: readonly MemoryRegion[],
    readonly pmm: PhysicalMemoryManager,
  ) {
    this.usable = usableOf(map);
    this.untouchable = new Untouchable(t, map);
  }

  /** Frames allocated now. */
  get allocatedFrames(): number {
    return this.owner.size;
  }

  /** Calls allocate(frames); checks and fills what comes back. */
  allocate(frames = 1): number | undefined {
    const call = frames === 1 ? "allocate()" : `allocate(${frames})`;
    const pa = frames === 1 ? this.pmm.allocate() : this.pmm.allocate(frames);
    if (pa === undefined) return undefined;
    this.accept(pa, frames, call);
    return pa;
  }

  /** Checks a run the PMM handed out, then records it and writes its pattern. */
  accept(pa: unknown, frames: number, call: string): void {
    const t = this.t;
    if (typeof pa !== "number" || !Number.isSafeInteger(pa) || pa % F !== 0) {
      t.fail(`${call} returned ${JSON.stringify(pa)}, not the address of a 4 KiB frame`, {
        expected: "a multiple of 4096, or undefined when nothing is free",
      });
    }
    const a = pa as number, end = a + frames * F;
    const home = this.usable.find((r) => a >= r.base && end <= r.end);
    if (!home) {
      t.fail(`${call} returned ${hex(a)}: ${hex(a)}..${hex(end)} is not inside one usable region`, {
        expected: "frames wholly inside a MEMMAP_USABLE region of the map",
        hardware: describeMap(this.map),
      });
    }
    for (let i = 0; i < frames; i++) {
      const other = this.owner.get(a / F + i);
      if (other !== undefined) {
        t.fail(
          `${call} returned ${hex(a)}, but the frame at ${hex(a + i * F)} is already allocated ` +
            `(in the run at ${hex(other)} of ${this.runs.get(other)} frame(s), not freed)`,
          { expected: "a frame that is free" },
        );
      }
    }
    this.runs.set(a, frames);
    const tag = this.#tag++;
    for (let i = 0; i < frames; i++) {
      const frame = a + i * F;
      this.owner.set(frame / F, a);
      this.everHanded.add(frame / F);
      this.#tags.set(frame / F, tag);
      this.#fill(frame, tag);
    }
  }

  /** Writes the frame's pattern: the first word through the CPU, the rest over the bus. */
  #fill(frame: number, tag: number): void {
    const bytes = pattern(frame, tag);
    try {
      this.t.board.cpuMem.write(frame, 8, new DataView(bytes.buffer).getBigUint64(0, true));
    } catch (e) {
      this.t.fail(`the CPU cannot write the frame at ${hex(frame)} that the PMM handed out`, {
        saw: e instanceof Error ? e.message : String(e),
      });
    }
    this.t.board.ram.writeBytes(frame + 8, bytes.subarray(8));
  }

  /** Fails the case if an allocated frame no longer holds its pattern. */
  checkFrame(frame: number): void {
    const tag = this.#tags.get(frame / F)!;
    const got = this.t.board.ram.readBytes(frame, F)!;
    const words = new Uint32Array(got.buffer, got.byteOffset, F / 4);
    let w = 0;
    while (w < words.length && words[w] === patternWord(frame, tag, w)) w++;
    if (w === words.length) return;
    const want = pattern(frame, tag);
    const i = w * 4;
    const base = this.owner.get(frame / F)!;
    const at = i & ~15;
    const row = (b: Uint8Array) =>
      [...b.subarray(at, at + 16)].map((x) => x.toString(16).padStart(2, "0")).join(" ");
    this.t.fail(
      `the frame at ${hex(frame)} (allocated in the run at ${hex(base)}) changed after it was ` +
        `handed out: something else wrote into it (the PMM's own data, or a second user of ` +
        `the frame)`,
      {
        expected: `${hex(frame + at)}: ${row(want)}`,
        saw: `${hex(frame + at)}: ${row(got)}`,
      },
    );
  }

  /** Checks every allocated frame and the untouchable memory. */
  checkAll(): void {
    for (const n of this.owner.keys()) this.checkFrame(n * F);
    this.untouchable.check();
  }

  /** Frees a whole run through the PMM, after checking it was not disturbed. */
  free(base: number): void {
    const frames = this.runs.get(base)!;
    for (let i = 0; i < frames; i++) this.checkFrame(base + i * F);
    if (frames === 1) this.pmm.free(base);
    else this.pmm.free(base, frames);
    this.runs.delete(base);
    for (let i = 0; i < frames; i++) {
      this.owner.delete(base / F + i);
      this.#tags.delete(base / F + i);
    }
  }

  /** Checks stats() against the books. */
  checkStats(when: string): { total: number; free: number } {
    const s = this.pmm.stats();
    const t = this.t;
    for (const k of ["total", "free", "allocatedFrames", "runs"] as const) {
      const v = s?.[k];
      t.check(
        typeof v === "number" && Number.isSafeInteger(v) && v >= 0,
        `stats().${k} ${when} is not a count`,
        { saw: JSON.stringify(s) },
      );
    }
    t.equal(s.allocatedFrames, this.allocatedFrames, `stats().allocatedFrames ${when}`);
    t.equal(
      s.free,
      s.total - this.allocatedFrames * F,
      `stats().free ${when} (total - allocated)`,
      {
        hardware: [`stats() = ${JSON.stringify(s)}`],
      },
    );
    t.check(
      (s.runs > 0) === (s.free > 0),
      `stats().runs is ${s.runs} while ${s.free} bytes are free ${when}`,
      { expected: "at least one run while memory is free, none when nothing is" },
    );
    return s;
  }

  /** Allocates single frames until the PMM says no; returns how many it gave. */
  exhaust(): number {
    const limit = framesIn(this.usable) + 1;
    let n = 0;
    for (; n < limit; n++) if (this.allocate() === undefined) return n;
    this.t.fail(`allocate() handed out ${limit} frames, more than the ${limit - 1} usable ones`);
  }
}

/** A PMM over `map` (the board's, unless given), with the grader's books. */
function books(t: T, map: readonly MemoryRegion[] = t.board.memoryMap): Books {
  const copy = map.map((r) => ({ ...r }));
  return new Books(t, map, t.impl.pmm(t.mem, copy));
}

/** Checks that exhausting handed out what was usable, bookkeeping aside. */
function checkExhausted(t: T, b: Books, handed: number): void {
  const usable = framesIn(b.usable);
  const s = b.checkStats("once allocate() returned undefined");
  t.equal(s.free, 0, "stats().free once allocate() returned undefined");
  t.equal(handed * F, s.total, "the frames handed out, in bytes, against stats().total");
  t.check(
    handed >= usable - allowance(usable),
    `only ${handed} of the ${usable} usable frames were handed out before allocate() returned ` +
      `undefined: bookkeeping may take at most ${allowance(usable)} (1/256 and two frames)`,
    { hardware: describeMap(b.map) },
  );
}

// ---- the lesson ----------------------------------------------------------------------------

export default defineLesson<{ pmm: PmmFactory }>({
  number: 2,
  title: "Physical memory",
  components: {
    pmm: {
      interface: "PmmFactory (kernel/components.ts)",
      kernelKey: "pmm",
      exercise: exercise<typeof createPmm>("exercise/pmm.ts", "createPmm"),
      reference: createStackPmm,
    },
  },
  cases: [
    {
      name: "allocate hands out a usable 4 KiB frame that the CPU can write",
      points: 2,
      anchor: "step-3-allocating-a-frame",
      arch: "both",
      run(t) {
        const b = books(t);
        const pa = b.allocate();
        t.check(pa !== undefined, "allocate() returned undefined with all of RAM free");
        t.note(`the first frame: ${hex(pa!)}`);
        b.checkAll();
      },
    },
    {
      name: "frames never overlap each other, the PMM's own data, or reserved memory",
      points: 3,
      anchor: "step-2-the-stack-in-ram",
      arch: "both",
      run(t) {
        const b = books(t);
        for (let i = 0; i < 400; i++) {
          t.check(b.allocate() !== undefined, `allocate() returned undefined after ${i} frames`);
          if (i % 100 === 99) b.checkAll();
        }
        b.checkStats("after 400 allocations");
        b.checkAll();
      },
    },
    {
      name: "keeps its free runs in RAM, in frames it never hands out",
      points: 2,
      anchor: "step-2-the-stack-in-ram",
      arch: "both",
      board: SMALL,
      run(t) {
        // Paint usable RAM, so that whatever the PMM writes shows.
        const usable = usableOf(t.board.memoryMap);
        for (const r of usable) {
          t.board.ram.writeBytes(r.base, new Uint8Array(r.end - r.base).fill(PAINT));
        }
        const b = books(t);
        for (let i = 0; i < 60; i++) b.allocate(t.rng.range(1, 3));
        for (const pa of [...b.runs.keys()].filter((_, i) => i % 3 === 0)) b.free(pa);
        const written: number[] = [];
        for (const r of usable) {
          for (let pa = r.base; pa < r.end; pa += F) {
            if (b.everHanded.has(pa / F)) continue;
            const bytes = t.board.ram.readBytes(pa, F)!;
            if (bytes.some((x) => x !== PAINT)) written.push(pa);
          }
        }
        t.check(
          written.length > 0,
          "the PMM wrote nothing to RAM: its free runs must live in RAM, in memory it takes " +
            "from the map for itself",
          {
            hardware: [`every free frame still holds the grader's paint (0x${PAINT.toString(16)})`],
          },
        );
        t.note(`its books are in ${written.length} frame(s), from ${hex(written[0])}`);
        // Handing out everything must never hand out those frames: their contents would be
        // overwritten by the grader's patterns, and the PMM would lose its runs.
        b.exhaust();
        const handedBooks = written.filter((pa) => b.owner.has(pa / F));
        if (handedBooks.length) {
          t.fail(`the PMM handed out ${hex(handedBooks[0])}, a frame that holds its own books`);
        }
        b.checkAll();
      },
    },
    {
      name: "allocating until empty hands out every usable frame once, then undefined",
      points: 3,
      anchor: "step-3-allocating-a-frame",
      arch: "both",
      board: SMALL,
      run(t) {
        const b = books(t);
        const handed = b.exhaust();
        checkExhausted(t, b, handed);
        t.equal(b.pmm.allocate(), undefined, "allocate() once more, when nothing is free");
        t.equal(b.pmm.allocate(2), undefined, "allocate(2) when nothing is free");
        b.checkAll();
      },
    },
    {
      name: "freed frames come back: free everything, then allocate it all again",
      points: 2,
      anchor: "step-4-freeing-frames",
      arch: "both",
      board: SMALL,
      run(t) {
        const b = books(t);
        const first = b.exhaust();
        const frames = [...b.runs.keys()];
        for (let i = frames.length - 1; i > 0; i--) {
          const j = t.rng.range(0, i);
          [frames[i], frames[j]] = [frames[j], frames[i]];
        }
        for (const pa of frames) b.free(pa);
        const s = b.checkStats("after every frame was freed");
        t.equal(s.free, s.total, "stats().free after every frame was freed");
        const again = b.exhaust();
        t.equal(again, first, "frames handed out the second time");
        t.equal(
          [...b.runs.keys()].sort((x, y) => x - y).map((pa) => hex(pa)),
          frames.sort((x, y) => x - y).map((pa) => hex(pa)),
          "the same frames, the second time",
        );
        b.checkAll();
      },
    },
    {
      name: "runs of several frames are contiguous, inside one region, and apart",
      points: 3,
      anchor: "step-5-runs-of-frames",
      arch: "both",
      run(t) {
        const b = books(t);
        const sizes = [2, 3, 5, 8, 16, 64, 100, 1, 256, 7];
        for (let round = 0; round < 3; round++) {
          for (const n of sizes) {
            const pa = b.allocate(n + t.rng.range(0, 3));
            t.check(pa !== undefined, `allocate(${n}) returned undefined with most of RAM free`);
          }
        }
        b.checkStats("after runs of several frames");
        b.checkAll();
      },
    },
    {
      name: "a run never straddles a hole in the memory map",
      points: 3,
      anchor: "holes-in-the-map",
      arch: "both",
      board: SMALL,
      run(t) {
        const map = withHoles(t, t.board.memoryMap, 6);
        const b = books(t, map);
        // Runs of 3 to 20 frames until none fits: each lands between two holes or is refused.
        for (let i = 0; i < 10_000; i++) {
          if (b.allocate(t.rng.range(3, 20)) === undefined && b.allocate(3) === undefined) break;
        }
        b.checkStats("after runs between holes");
        b.checkAll();
      },
    },
    {
      name: "usable regions that do not start or end on a frame are rounded inwards",
      points: 2,
      anchor: "step-1-usable-frames",
      arch: "both",
      run(t) {
        // A map of a few ragged usable regions in the board's RAM; the rest reserved.
        const ram = t.board.memoryMap.find((r) => r.type === MEMMAP_USABLE && r.length >= 4 * MiB)!;
        const map: MemoryRegion[] = [];
        let at = ram.base;
        for (let i = 0; i < 6; i++) {
          const start = at + t.rng.range(1, 3) * F + t.rng.range(1, F - 1);
          const length = t.rng.range(8, 40) * F + t.rng.range(1, F - 1);
          map.push({ base: at, length: start - at, type: MEMMAP_RESERVED });
          map.push({ base: start, length, type: MEMMAP_USABLE });
          at = start + length;
        }
        map.push({ base: at, length: ram.base + ram.length - at, type: MEMMAP_RESERVED });
        const b = books(t, map);
        checkExhausted(t, b, b.exhaust());
        b.checkAll();
      },
    },
    {
      name: "statistics add up through allocations and frees",
      points: 2,
      anchor: "step-6-statistics",
      arch: "both",
      run(t) {
        const b = books(t);
        const s0 = b.checkStats("right after the PMM was built");
        const usable = framesIn(b.usable) * F;
        t.check(
          s0.total <= usable && s0.total >= usable - allowance(usable / F) * F,
          `stats().total is ${s0.total}: it must be the usable memory (${usable} bytes) less ` +
            `the bookkeeping (at most ${allowance(usable / F)} frames)`,
          { hardware: describeMap(b.map) },
        );
        for (let i = 0; i < 300; i++) {
          if (b.runs.size && t.rng.range(0, 2) === 0) {
            const all = [...b.runs.keys()];
            b.free(all[t.rng.range(0, all.length - 1)]);
          } else b.allocate(t.rng.range(1, 4));
          const s = b.checkStats(`after step ${i + 1}`);
          t.equal(s.total, s0.total, `stats().total after step ${i + 1} (it never changes here)`);
        }
      },
    },
    {
      name: "bootloader-reclaimable memory is handed out only once it is freed to the PMM",
      points: 2,
      anchor: "step-8-reclaimable-memory",
      arch: "both",
      board: SMALL,
      run(t) {
        // Bootloader-reclaimable memory the grader made: it holds "boot information" until
        // the kernel (the grader) has read it. (The board's own holds the page tables the CPU
        // is using now, on the PC: the kernel reclaims it only after switching to its own.)
        const board = t.board.memoryMap;
        const big = board.find((r) => r.type === MEMMAP_USABLE && r.length >= 2 * MiB)!;
        const frames = t.rng.range(8, 40);
        const base = big.base + t.rng.range(16, 256) * F;
        const end = base + frames * F;
        const map: MemoryRegion[] = board.flatMap((r) =>
          r !== big ? [{ ...r }] : [
            { base: r.base, length: base - r.base, type: MEMMAP_USABLE },
            { base, length: end - base, type: MEMMAP_BOOTLOADER_RECLAIMABLE },
            { base: end, length: r.base + r.length - end, type: MEMMAP_USABLE },
          ]
        );
        t.board.ram.writeBytes(
          base,
          Uint8Array.from({ length: end - base }, () => t.rng.range(0, 255)),
        );
        const b = books(t, map);
        b.exhaust(); // accept() checks that none of it is reclaimable
        for (const pa of [...b.runs.keys()]) b.free(pa);
        const s0 = b.checkStats("once everything was freed");
        // The kernel has read what was there: the frames are free memory now.
        b.untouchable.release(base, end);
        b.usable.push({ base, end });
        b.pmm.free(base, frames);
        const s = b.checkStats("after the reclaimable frames were freed");
        t.equal(s.total, s0.total + frames * F, "stats().total grows by the reclaimed memory");
        const handed = b.exhaust();
        t.equal(handed * F, s.total, "bytes handed out after the reclaim, against stats().total");
        const got = [...b.runs.keys()].filter((pa) => pa >= base && pa < end);
        t.equal(got.length, frames, "reclaimed frames handed out once everything was allocated");
        b.checkAll();
      },
    },
    {
      name: "a run freed frame by frame comes back whole",
      points: 2,
      anchor: "step-7-coalescing",
      arch: "both",
      board: SMALL,
      run(t) {
        const b = books(t);
        b.exhaust();
        // 64 neighbouring frames, freed one by one in a random order.
        const frames = [...b.runs.keys()].sort((x, y) => x - y);
        let start = -1;
        for (let i = t.rng.range(0, frames.length - 65); i + 64 <= frames.length; i++) {
          if (frames[i + 63] === frames[i] + 63 * F) {
            start = i;
            break;
          }
        }
        t.check(start >= 0, "the grader found no 64 neighbouring frames to free");
        const run = frames.slice(start, start + 64);
        for (let i = run.length - 1; i > 0; i--) {
          const j = t.rng.range(0, i);
          [run[i], run[j]] = [run[j], run[i]];
        }
        for (const pa of run) b.free(pa);
        const pa = b.allocate(64);
        t.equal(
          pa === undefined ? "undefined" : hex(pa),
          hex(frames[start]),
          "allocate(64) when the only 64 free frames are neighbours",
        );
        b.checkAll();
      },
    },
    {
      name: "the worst fragmentation, freeing every other frame, loses nothing",
      points: 2,
      anchor: "step-7-coalescing",
      arch: "both",
      board: SMALL,
      run(t) {
        const b = books(t);
        const handed = b.exhaust();
        const frames = [...b.runs.keys()].sort((x, y) => x - y);
        // The longest stretch of neighbouring frames it handed out.
        let longest = 1, current = 1;
        for (let i = 1; i < frames.length; i++) {
          current = frames[i] === frames[i - 1] + F ? current + 1 : 1;
          longest = Math.max(longest, current);
        }
        for (let i = 0; i < frames.length; i += 2) b.free(frames[i]);
        b.checkStats("with every other frame free");
        for (let i = 1; i < frames.length; i += 2) b.free(frames[i]);
        const s = b.checkStats("with everything free again");
        t.equal(s.free, handed * F, "stats().free once everything was freed");
        const pa = b.allocate(longest);
        t.check(pa !== undefined, `allocate(${longest}) returned undefined with all memory free`, {
          expected: `the ${longest} neighbouring frames it handed out one by one before`,
        });
        b.checkAll();
      },
    },
    {
      name: "asking for more than is free returns undefined and changes nothing",
      points: 1,
      anchor: "step-5-runs-of-frames",
      arch: "both",
      board: SMALL,
      run(t) {
        const b = books(t);
        const s = b.checkStats("right after the PMM was built");
        t.equal(b.pmm.allocate(s.total / F + 1), undefined, `allocate(${s.total / F + 1})`);
        t.equal(b.pmm.allocate(2 ** 30), undefined, "allocate(2^30)");
        b.checkStats("after refused allocations");
        t.check(b.allocate() !== undefined, "allocate() after a refused allocation");
        b.checkAll();
      },
    },
    {
      name: "seeded random allocations and frees agree with the grader's books",
      points: 4,
      anchor: "the-free-run-stack",
      arch: "both",
      run(t) {
        const b = books(t, withHoles(t, t.board.memoryMap, 3));
        for (let step = 1; step <= 3000; step++) {
          const roll = t.rng.range(0, 99);
          if (roll < 45 || b.runs.size === 0) {
            const n = roll < 30 ? 1 : t.rng.range(2, roll < 40 ? 16 : 300);
            const pa = b.allocate(n);
            if (pa === undefined && n === 1) {
              const s = b.checkStats(`when allocate() returned undefined at step ${step}`);
              t.equal(s.free, 0, `stats().free when allocate() returned undefined at step ${step}`);
            }
          } else {
            const all = [...b.runs.keys()];
            b.free(all[t.rng.range(0, all.length - 1)]);
          }
          if (step % 500 === 0) {
            b.checkStats(`after step ${step}`);
            b.checkAll();
          }
        }
        t.note(`${b.runs.size} runs (${b.allocatedFrames} frames) allocated at the end`);
      },
    },
    {
      name: "on a PC with RAM above 4 GiB, nothing below 1 MiB or in the PCI hole is handed out",
      points: 3,
      anchor: "the-pc",
      arch: "x86_64",
      // 2.75 GiB of low RAM and 8 MiB above 4 GiB; RAM costs nothing until touched.
      board: { memory: 0xb000_0000 + 8 * MiB },
      run(t) {
        // Keep the case small: the firmware's map, with most of the big low region reserved.
        const map: MemoryRegion[] = t.board.memoryMap.flatMap((r) => {
          if (r.type !== MEMMAP_USABLE || r.length < 64 * MiB) return [{ ...r }];
          const keep = 2 * MiB;
          return [
            { base: r.base, length: keep, type: MEMMAP_USABLE },
            { base: r.base + keep, length: r.length - 2 * keep, type: MEMMAP_RESERVED },
            { base: r.base + r.length - keep, length: keep, type: MEMMAP_USABLE },
          ];
        });
        t.check(
          map.some((r) => r.type === MEMMAP_USABLE && r.base >= 0x1_0000_0000),
          "the board has no RAM above 4 GiB (a harness problem)",
        );
        const b = books(t, map);
        const handed = b.exhaust();
        checkExhausted(t, b, handed);
        const high = [...b.runs.keys()].filter((pa) => pa >= 0x1_0000_0000).length;
        t.check(high > 0, "no frame above 4 GiB was handed out", { hardware: describeMap(map) });
        t.note(`${handed} frames, ${high} of them above 4 GiB`);
        b.checkAll();
      },
    },
    {
      name: "the kernel boots, runs and powers off with your PMM",
      points: 3,
      anchor: "the-interface",
      arch: "both",
      system: true,
      run(t) {
        // The kernel takes frames for its page tables, stacks and heap, reclaims the
        // bootloader's memory, and checks every answer of the PMM (kernel/guard.ts).
        checkCleanRun(t, t.boot(), [/pmm: [\d.]+ MiB free of [\d.]+ MiB in \d+ run\(s\)/]);
      },
    },
  ],
});
