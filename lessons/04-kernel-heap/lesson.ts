/**
 * Lesson 04, the kernel heap: the graded cases of the fixed-block allocator
 * (FixedBlockAllocator / FixedBlockFactory) and the slab allocator (SlabAllocator / SlabCache
 * / SlabFactory), kernel/components.ts; the references are kernel/mm/fixed_block.ts and
 * kernel/mm/slab.ts.
 *
 * The grader never believes the allocators. They get their frames from a frame ledger
 * (harness/frames.ts): a PMM that keeps the grader's own books of what it handed out, paints
 * every frame with junk, and can be made to run dry. Every object handed out must lie inside
 * frames the allocator took from that PMM and still holds; the grader fills it with a pattern
 * different in every object and checks every pattern after every step, so two objects that
 * overlap, or an allocator that keeps its books in an object it handed out, show up as an
 * object that changed. Statistics are compared with the ledger's traffic, never taken on trust.
 *
 * @module
 */

import { hex } from "../../emulator/core/memory.ts";
import type {
  AllocatorStats,
  FixedBlockAllocator,
  FixedBlockFactory,
  SlabAllocator,
  SlabCache,
  SlabFactory,
} from "../../kernel/components.ts";
import { createFixedBlockAllocator } from "../../kernel/mm/fixed_block.ts";
import { createSlabAllocator } from "../../kernel/mm/slab.ts";
import type { CaseContext } from "../harness/context.ts";
import { defineLesson, exercise } from "../harness/define.ts";
import { checkCleanRun } from "../harness/system.ts";
import { type FrameLedger, frameLedger } from "../harness/frames.ts";
import { instrumentObject } from "../harness/instrument.ts";
import type { createFixedBlockAllocator as createFixedBlockExercise } from "./exercise/fixed_block.ts";
import type { createSlabAllocator as createSlabExercise } from "./exercise/slab.ts";

type Components = { fixedBlock: FixedBlockFactory; slab: SlabFactory };
type T = CaseContext<Components>;

const F = 4096;

/** Objects must be aligned to this: they hold u64 fields (and the free list's links). */
const ALIGN = 8;

/** The frames a case's ledger has: far more than any case needs, unless it runs dry on purpose. */
const LEDGER_FRAMES = 512;

// ---- the grader's books -----------------------------------------------------------------------

/** An object the grader holds: where, how big, whose, and the bytes it wrote there. */
interface Held {
  pa: number;
  size: number;
  owner: string;
  bytes: Uint8Array;
}

/** The pattern of object number `tag`: `size` bytes, different in every object. */
function pattern(tag: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = (Math.imul(tag, 0x9e37_79b1) ^ 0x5bd1_e995) >>> 0;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Sixteen bytes of `b` from `at`, as hex pairs. */
function row(b: Uint8Array, at: number): string {
  return [...b.subarray(at, at + 16)].map((x) => x.toString(16).padStart(2, "0")).join(" ");
}

/**
 * The grader's books: the ledger (the PMM the code under test gets) and every object handed
 * out and not freed, with the pattern written into it.
 */
class HeapBooks {
  readonly live = new Map<number, Held>();
  /** Frame number to the objects that touch it: overlaps are looked for there only. */
  readonly #byFrame = new Map<number, Set<Held>>();
  #tag = 0;

  constructor(readonly t: T, readonly ledger: FrameLedger) {}

  /** Live objects of `owner`. */
  count(owner: string): number {
    let n = 0;
    for (const h of this.live.values()) if (h.owner === owner) n++;
    return n;
  }

  /**
   * Checks what `call` returned for an object of `size` bytes of `owner`: an aligned address,
   * inside frames the allocator took from the PMM and holds, overlapping no live object, and
   * zeroed when `zeroed`. Then records it and fills it with its pattern.
   */
  accept(pa: unknown, size: number, owner: string, call: string, zeroed: boolean): number {
    const t = this.t;
    if (typeof pa !== "number" || !Number.isSafeInteger(pa) || pa < 0) {
      t.fail(`${call} returned ${JSON.stringify(pa)}, not a physical address`, {
        expected: "the object's physical address, or undefined when the PMM has no frame",
      });
    }
    const a = pa as number;
    if (a % ALIGN !== 0) {
      t.fail(`${call} returned ${hex(a)}, which is not ${ALIGN}-byte aligned`, {
        expected: `an address that is a multiple of ${ALIGN}: objects hold u64 fields`,
      });
    }
    if (this.ledger.allocationOf(a, size) === undefined) {
      const held = this.ledger.heldFrames();
      t.fail(
        `${call} returned ${hex(a)}, but ${hex(a)}..${hex(a + size)} is not inside frames ` +
          `the allocator took from the PMM and still holds`,
        {
          expected: "every byte of the object inside one allocation pmm.allocate() returned",
          hardware: [
            `the PMM's window: ${hex(this.ledger.base)}..${
              hex(this.ledger.base + this.ledger.frames * F)
            }`,
            `frames the allocator holds now (${held.length}): ${
              held.slice(0, 8).map((pa) => hex(pa)).join(", ")
            }${held.length > 8 ? ", ..." : ""}`,
          ],
        },
      );
    }
    for (let f = Math.floor(a / F); f <= Math.floor((a + size - 1) / F); f++) {
      for (const h of this.#byFrame.get(f) ?? []) {
        if (a < h.pa + h.size && h.pa < a + size) {
          t.fail(
            `${call} returned ${hex(a)}, which overlaps the ${h.size}-byte object at ` +
              `${hex(h.pa)} (${h.owner}), handed out and not freed`,
            {
              expected: `${size} bytes that no live object uses`,
              saw: `${hex(a)}..${hex(a + size)} and ${hex(h.pa)}..${hex(h.pa + h.size)} overlap`,
            },
          );
        }
      }
    }
    if (zeroed) {
      const got = t.board.ram.readBytes(a, size)!;
      const i = got.findIndex((b) => b !== 0);
      if (i >= 0) {
        const at = i & ~15;
        t.fail(`${call} returned ${hex(a)}, an object that is not zeroed: byte ${i} is not 0`, {
          expected: `${hex(a + at)}: ${row(new Uint8Array(16), 0)}`,
          saw: `${hex(a + at)}: ${row(got, at)}`,
          hardware: [
            `new frames from the PMM hold junk (0xa5); a freed object holds what was written ` +
            `into it`,
          ],
        });
      }
    }
    const held: Held = { pa: a, size, owner, bytes: pattern(++this.#tag, size) };
    this.live.set(a, held);
    for (let f = Math.floor(a / F); f <= Math.floor((a + size - 1) / F); f++) {
      const s = this.#byFrame.get(f) ?? new Set();
      s.add(held);
      this.#byFrame.set(f, s);
    }
    t.board.ram.writeBytes(a, held.bytes);
    return a;
  }

  /** Fails the case if the object at `pa` no longer holds its pattern. */
  checkObject(h: Held): void {
    const got = this.t.board.ram.readBytes(h.pa, h.size)!;
    let i = 0;
    while (i < h.size && got[i] === h.bytes[i]) i++;
    if (i === h.size) return;
    const at = i & ~15;
    this.t.fail(
      `the ${h.size}-byte object at ${hex(h.pa)} (${h.owner}) changed at byte ${i} while it ` +
        `was handed out: something else wrote into it (the allocator's own data, or another ` +
        `object that overlaps it)`,
      {
        expected: `${hex(h.pa + at)}: ${row(h.bytes, at)}`,
        saw: `${hex(h.pa + at)}: ${row(got, at)}`,
      },
    );
  }

  /** Checks every live object: each frame read once, the objects compared inside it. */
  checkAll(): void {
    for (const [f, objects] of this.#byFrame) {
      if (objects.size === 0) continue;
      const frame = this.t.board.ram.readBytes(f * F, F)!;
      for (const h of objects) {
        const off = h.pa - f * F;
        if (off < 0 || off + h.size > F) {
          if (off >= 0) this.checkObject(h); // it spans frames: checked on its own, once
          continue;
        }
        const want = h.bytes;
        for (let i = 0; i < want.length; i++) {
          if (frame[off + i] !== want[i]) {
            this.checkObject(h);
            break;
          }
        }
      }
    }
  }

  /** Checks the object at `pa` and forgets it: the code under test is about to free it. */
  release(pa: number): Held {
    const h = this.live.get(pa)!;
    this.checkObject(h);
    this.live.delete(pa);
    for (let f = Math.floor(pa / F); f <= Math.floor((pa + h.size - 1) / F); f++) {
      this.#byFrame.get(f)!.delete(h);
    }
    return h;
  }

  /** How many PMM calls the ledger has seen: to tell which a call made. */
  get mark(): number {
    return this.ledger.log.length;
  }

  /** Whether a pmm.allocate since `mark` was refused. */
  refusedSince(mark: number): boolean {
    return this.ledger.log.slice(mark).some((e) => e.op === "allocate" && e.pa === undefined);
  }

  /** The allocations (their first frames) holding live objects of `owner`. */
  allocationsOf(owner: string): Set<number> {
    const out = new Set<number>();
    for (const h of this.live.values()) {
      if (h.owner === owner) out.add(this.ledger.allocationOf(h.pa, h.size)!);
    }
    return out;
  }

  /** One line on the PMM traffic so far, for failures. */
  traffic(): string {
    const allocs = this.ledger.log.filter((e) => e.op === "allocate" && e.pa !== undefined);
    const frees = this.ledger.log.filter((e) => e.op === "free");
    return `the PMM handed out ${allocs.reduce((n, e) => n + e.frames, 0)} frame(s) and got ` +
      `${frees.reduce((n, e) => n + e.frames, 0)} back: ${this.ledger.outstanding()} held now`;
  }
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/** A new ledger and books for a case. */
function books(t: T, frames = LEDGER_FRAMES): HeapBooks {
  return new HeapBooks(t, frameLedger(t.board, { frames }));
}

// ---- the fixed-block allocator, graded ---------------------------------------------------------

/** What the grader wraps: a fixed-block allocator, or one cache of a slab allocator. */
type HeapAllocator = FixedBlockAllocator | SlabCache;

/**
 * An allocator under test with the grader's books: what it hands out is checked and filled
 * with a pattern, what it frees is checked first.
 */
class Graded<A extends HeapAllocator> {
  constructor(
    readonly b: HeapBooks,
    /** The allocator under test. */
    readonly impl: A,
    /** The size of what it hands out. */
    readonly size: number,
    /** The allocator, in messages: "the 64-byte allocator", `cache "thread"`. */
    readonly label: string,
    /** One of its objects, in messages: "a block of the 64-byte allocator". */
    readonly owner: string,
    /** Its allocate call, in messages: `fixedBlock(64).allocate()`. */
    readonly call: string,
    /** Whether what it hands out must be zeroed (slab objects are). */
    readonly zeroed: boolean,
  ) {}

  /** allocate(): checks and fills what comes back; undefined only when the PMM said no. */
  allocate(): number | undefined {
    const mark = this.b.mark;
    const pa = this.impl.allocate();
    if (pa === undefined) {
      this.b.t.check(
        this.b.refusedSince(mark),
        `allocate() of ${this.label} returned undefined, but the PMM never refused it a frame`,
        {
          expected: "undefined only when pmm.allocate() returned undefined",
          hardware: [this.b.traffic()],
        },
      );
      return undefined;
    }
    return this.b.accept(pa, this.size, this.owner, this.call, this.zeroed);
  }

  /** Frees a live object, after checking it was not disturbed. */
  free(pa: number): void {
    this.b.release(pa);
    this.impl.free(pa);
  }

  /** A live object, drawn with the case's generator. */
  pick(): number | undefined {
    const mine = [...this.b.live.values()].filter((h) => h.owner === this.owner);
    return mine.length ? mine[this.b.t.rng.range(0, mine.length - 1)].pa : undefined;
  }

  /** The allocator's own statistics. */
  stats(): AllocatorStats {
    return this.impl.stats();
  }
}

/** The fixed-block allocator under test, for blocks of `size` bytes, with the grader's books. */
function blocks(b: HeapBooks, size: number): Graded<FixedBlockAllocator> {
  const label = `the ${size}-byte allocator`;
  const fba = b.t.impl.fixedBlock(b.t.mem, b.ledger.pmm, size);
  return new Graded(
    b,
    fba,
    size,
    label,
    `a block of ${label}`,
    `fixedBlock(${size}).allocate()`,
    false,
  );
}

/**
 * Checks the statistics of `all` (allocators sharing one ledger) against the books: each
 * `inUse` is the live blocks the grader holds, each `frames` at least the frames its live
 * blocks lie in, and the frames together what the ledger has handed out and not had back.
 */
function checkStats(
  b: HeapBooks,
  all: readonly { owner: string; stats(): { inUse: number; frames: number } }[],
  when: string,
): void {
  const t = b.t;
  let frames = 0;
  for (const a of all) {
    const s = a.stats();
    for (const k of ["inUse", "frames"] as const) {
      t.check(isCount(s?.[k]), `stats().${k} of ${a.owner}s ${when} is not a count`, {
        saw: JSON.stringify(s),
      });
    }
    t.equal(s.inUse, b.count(a.owner), `stats().inUse of ${a.owner}s ${when}`);
    const need = b.allocationsOf(a.owner).size;
    t.check(
      s.frames >= need,
      `stats().frames of ${a.owner}s ${when} is ${s.frames}, but its live objects lie in ${need} ` +
        `frame(s) from the PMM`,
    );
    frames += s.frames;
  }
  t.equal(frames, b.ledger.outstanding(), `the frames the allocators report holding ${when}`, {
    hardware: [b.traffic()],
  });
}

// ---- the slab allocator, graded ----------------------------------------------------------------

/** Cache `name` of `slab`, for objects of `size` bytes, with the grader's books. */
function cacheOf(b: HeapBooks, slab: SlabAllocator, name: string, size: number): Graded<SlabCache> {
  const label = `cache "${name}"`;
  const cache = instrumentObject(slab.createCache(name, size), label);
  return new Graded(b, cache, size, label, `an object of ${label}`, `${label}.allocate()`, true);
}

/** A slab allocator and caches of `sizes`, named after what a kernel keeps in them. */
function caches(b: HeapBooks, sizes: readonly number[]): Graded<SlabCache>[] {
  const slab = b.t.impl.slab(b.t.mem, b.ledger.pmm);
  const names = ["thread", "process", "endpoint", "capability", "region", "timer", "irq"];
  return sizes.map((size, i) =>
    cacheOf(b, slab, `${names[i % names.length]}${i >= names.length ? i : ""}`, size)
  );
}

/** The stats of caches, for checkStats; also checks each cache's slab count. */
function checkCacheStats(b: HeapBooks, all: readonly Graded<SlabCache>[], when: string): void {
  checkStats(b, all, when);
  for (const c of all) {
    const s = c.impl.stats();
    b.t.check(
      isCount(s.slabs) && s.slabs <= s.frames && (s.slabs === 0) === (s.frames === 0),
      `stats().slabs of ${c.label} ${when} is ${JSON.stringify(s.slabs)} with ${s.frames} ` +
        `frame(s) held`,
      {
        expected:
          "a count of slabs, each made of one frame or more: 0 exactly when no frame is held",
      },
    );
  }
}

/** Checks that no allocation from the PMM holds objects of two caches. */
function checkSeparate(b: HeapBooks): void {
  const whose = new Map<number, string>();
  for (const h of b.live.values()) {
    const a = b.ledger.allocationOf(h.pa, h.size)!;
    const other = whose.get(a);
    if (other !== undefined && other !== h.owner) {
      b.t.fail(
        `the frame at ${hex(a)} holds ${other} and ${h.owner} (at ${hex(h.pa)}): a slab ` +
          `belongs to one cache`,
        { expected: "each slab's objects all from one cache" },
      );
    }
    whose.set(a, h.owner);
  }
}

// ---- shared scenarios --------------------------------------------------------------------------

/** What both allocators look like to a scenario. */
interface Allocates {
  readonly owner: string;
  allocate(): number | undefined;
  free(pa: number): void;
  pick(): number | undefined;
}

/** Frees the live object at `pa` through whichever of `all` handed it out. */
function freeLive(b: HeapBooks, all: readonly Allocates[], pa: number): void {
  const owner = b.live.get(pa)!.owner;
  all.find((a) => a.owner === owner)!.free(pa);
}

/** Allocates `n` objects from `a`, checking every object after each; returns them. */
function fill(b: HeapBooks, a: Allocates, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const pa = a.allocate();
    b.t.check(pa !== undefined, `allocate() returned undefined with the PMM far from empty`, {
      hardware: [b.traffic()],
    });
    out.push(pa!);
    b.checkAll();
  }
  return out;
}

/** Shuffles in place with the case's generator. */
function shuffle<X>(t: T, xs: X[]): X[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = t.rng.range(0, i);
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/**
 * Frees every other object of `objects` (the ones at odd indexes), then allocates as many
 * again: the PMM must not be asked for a frame.
 */
function checkReuse(b: HeapBooks, a: Allocates, objects: number[]): void {
  const t = b.t;
  const freed = objects.filter((_, i) => i % 2 === 1);
  for (const pa of shuffle(t, [...freed])) a.free(pa);
  b.checkAll();
  const mark = b.mark;
  const again = fill(b, a, freed.length);
  const asked = b.ledger.log.slice(mark).filter((e) => e.op === "allocate").length;
  t.equal(asked, 0, `calls to pmm.allocate() while ${freed.length} freed objects were free`, {
    expected: "0: freed memory is handed out again before a new frame is taken",
  });
  // (The addresses need not be the freed ones: a frame may still have blocks never handed
  // out. But those are fewer than a frame's worth, and half of three frames' worth was freed.)
  const reused = again.filter((pa) => freed.includes(pa)).length;
  t.note(`${reused} of the ${freed.length} freed addresses handed out again`);
}

/**
 * Runs the PMM dry: allocates until `allocate()` says undefined (which it may only say once
 * the PMM refused it), checks that nothing changed, then frees one object and allocates again.
 */
function checkDry(b: HeapBooks, a: Allocates, all: () => void): void {
  const t = b.t;
  fill(b, a, 5);
  b.ledger.limit = b.ledger.outstanding();
  let n = 0;
  while (a.allocate() !== undefined) {
    t.check(++n <= F, `allocate() kept handing out objects with the PMM dry (${n} of them)`);
  }
  t.note(`${n} more object(s) from frames already held, then undefined`);
  t.equal(a.allocate(), undefined, "allocate() a second time with the PMM dry");
  b.checkAll();
  all();
  const pa = a.pick()!;
  a.free(pa);
  const again = a.allocate();
  t.equal(again === undefined ? "undefined" : hex(again), hex(pa), "allocate() after one free");
  b.ledger.limit = b.ledger.frames;
  fill(b, a, 3);
  all();
}

/**
 * Seeded random allocations and frees on `all` (sharing one ledger), with a spell of a dry
 * PMM in the middle; every object checked after every step; everything freed at the end.
 */
function stress(b: HeapBooks, all: Allocates[], steps: number, stats: (when: string) => void) {
  const t = b.t;
  for (let step = 1; step <= steps; step++) {
    if (step === Math.floor(steps / 2)) b.ledger.limit = b.ledger.outstanding() + 1;
    if (step === Math.floor(steps / 2) + 100) b.ledger.limit = b.ledger.frames;
    const a = all[t.rng.range(0, all.length - 1)];
    const pa = a.pick();
    if (pa === undefined || t.rng.range(0, 99) < 55) a.allocate();
    else a.free(pa);
    b.checkAll();
    if (step % 10 === 0) stats(`after step ${step}`);
  }
  t.note(`${b.live.size} objects live at the end, in ${b.ledger.outstanding()} frame(s)`);
  for (const pa of shuffle(t, [...b.live.keys()])) freeLive(b, all, pa);
  stats("after everything was freed");
  t.equal(b.ledger.outstanding(), 0, "frames still held after every object was freed", {
    hardware: [b.traffic()],
  });
}

/**
 * The bad frees a case tries on `a`: each must throw a RangeError and change nothing.
 * `frees` lists [what, address].
 */
function checkRefusals(b: HeapBooks, frees: [string, number][], free: (pa: number) => void) {
  const t = b.t;
  for (const [what, pa] of frees) {
    const mark = b.mark;
    const e = t.throws(() => free(pa), `free(${hex(pa)}) of ${what} returned`, {
      expected: "a RangeError naming the address",
    });
    t.check(
      e instanceof RangeError,
      `free(${hex(pa)}) of ${what} threw ${e instanceof Error ? e.name : typeof e}, not a ` +
        `RangeError`,
    );
    t.equal(b.mark, mark, `calls to the PMM made by the refused free(${hex(pa)}) of ${what}`);
    b.checkAll();
  }
}

// ---- the lesson ------------------------------------------------------------------------------

export default defineLesson<Components>({
  number: 4,
  title: "The kernel heap",
  components: {
    fixedBlock: {
      interface: "FixedBlockFactory (kernel/components.ts)",
      kernelKey: "fixedBlock",
      exercise: exercise<typeof createFixedBlockExercise>(
        "exercise/fixed_block.ts",
        "createFixedBlockAllocator",
      ),
      reference: createFixedBlockAllocator,
    },
    slab: {
      interface: "SlabFactory (kernel/components.ts)",
      kernelKey: "slab",
      exercise: exercise<typeof createSlabExercise>("exercise/slab.ts", "createSlabAllocator"),
      reference: createSlabAllocator,
    },
  },
  cases: [
    {
      name: "a fixed-block allocator hands out aligned blocks inside a frame it took from the PMM",
      points: 2,
      anchor: "step-2-allocating-a-block",
      arch: "both",
      run(t) {
        const b = books(t);
        const a = blocks(b, 64);
        const pa = a.allocate();
        t.check(pa !== undefined, "allocate() returned undefined with the PMM full of frames");
        t.equal(a.impl.blockSize, 64, "blockSize");
        t.equal(b.ledger.outstanding(), 1, "frames taken from the PMM for one 64-byte block");
        checkStats(b, [a], "after one allocation");
        t.note(`the first block: ${hex(pa!)}`);
      },
    },
    {
      name: "blocks of sizes that do and do not divide a page never overlap",
      points: 3,
      anchor: "step-1-carving-a-frame-into-blocks",
      arch: "both",
      run(t) {
        const b = books(t);
        for (const size of [8, 24, 64, 200, 1360, 2048]) {
          const a = blocks(b, size);
          // Enough for three frames and a bit, whatever the layout.
          const n = Math.floor((3 * F) / size) + 2;
          fill(b, a, n);
          checkStats(b, [a], `after ${n} blocks of ${size} bytes`);
          t.check(
            n * size * 2 >= b.ledger.outstanding() * F - 2 * F,
            `${n} blocks of ${size} bytes took ${b.ledger.outstanding()} frames: less than ` +
              `half of the memory is used for blocks`,
            { expected: `about ${Math.ceil(n / Math.floor(F / size))} frame(s)` },
          );
          for (const pa of [...b.live.keys()]) a.free(pa);
        }
      },
    },
    {
      name: "freed blocks are handed out again before the PMM is asked for a frame",
      points: 2,
      anchor: "step-3-freeing-a-block-and-giving-frames-back",
      arch: "both",
      run(t) {
        for (const size of [40, 1000]) {
          const b = books(t);
          const a = blocks(b, size);
          const objects = fill(b, a, Math.floor((3 * F) / size));
          checkReuse(b, a, objects);
        }
      },
    },
    {
      name: "a frame whose blocks are all free goes back to the PMM: nothing leaks",
      points: 3,
      anchor: "step-3-freeing-a-block-and-giving-frames-back",
      arch: "both",
      run(t) {
        const b = books(t);
        const a = blocks(b, 120);
        const objects = fill(b, a, 150);
        const peak = b.ledger.outstanding();
        for (const pa of shuffle(t, objects)) {
          a.free(pa);
          b.checkAll();
          checkStats(b, [a], `after freeing ${hex(pa)}`);
        }
        t.equal(
          b.ledger.outstanding(),
          0,
          `frames held after freeing all 150 blocks (${peak} at most)`,
          {
            hardware: [b.traffic()],
          },
        );
        t.equal(b.ledger.pmm.stats().allocatedFrames, 0, "the PMM's allocatedFrames at the end");
      },
    },
    {
      name: "freeing a block twice, or an address it never handed out, throws a RangeError",
      points: 2,
      anchor: "step-4-refusing-bad-frees",
      arch: "both",
      run(t) {
        const b = books(t);
        const a = blocks(b, 64);
        const objects = fill(b, a, 70);
        const gone = objects[3];
        a.free(gone);
        const lone = blocks(b, 512);
        const [single] = fill(b, lone, 1);
        lone.free(single); // its frame goes back to the PMM
        checkRefusals(b, [
          ["a block already freed", gone],
          ["an address inside a live block", objects[5] + 8],
          ["an address that is not 8-byte aligned", objects[6] + 3],
          ["a frame the PMM never handed out", b.ledger.base + (b.ledger.frames - 1) * F],
          ["an address outside RAM", 0x7000_0000_0000],
        ], (pa) => a.impl.free(pa));
        checkRefusals(
          b,
          [["a block freed with its frame returned to the PMM", single]],
          (pa) => lone.impl.free(pa),
        );
        checkStats(b, [a, lone], "after the refused frees");
        fill(b, a, 3);
      },
    },
    {
      name: "when the PMM runs dry, allocate returns undefined and corrupts nothing",
      points: 2,
      anchor: "step-5-running-out",
      arch: "both",
      run(t) {
        for (const size of [48, 1360]) {
          const b = books(t);
          const a = blocks(b, size);
          checkDry(b, a, () => checkStats(b, [a], "with the PMM dry"));
        }
      },
    },
    {
      name: "seeded random allocations and frees of blocks agree with the grader's books",
      points: 3,
      anchor: "step-6-statistics",
      arch: "both",
      run(t) {
        const b = books(t);
        const sizes = [8, 24, 8 * t.rng.range(5, 120), 1360];
        const all = sizes.map((s) => blocks(b, s));
        stress(b, all, 1500, (when) => checkStats(b, all, when));
      },
    },
    {
      name: "a slab cache hands out zeroed, aligned objects inside a slab taken from the PMM",
      points: 2,
      anchor: "step-8-allocating-an-object",
      arch: "both",
      run(t) {
        const b = books(t);
        const [c] = caches(b, [200]);
        const pa = c.allocate();
        t.check(pa !== undefined, "allocate() returned undefined with the PMM full of frames");
        t.equal(c.impl.name, "thread", "the cache's name");
        t.equal(c.impl.objectSize, 200, "the cache's objectSize");
        t.equal(b.ledger.outstanding(), 1, "frames taken from the PMM for one 200-byte object");
        checkCacheStats(b, [c], "after one allocation");
        t.note(`the first object: ${hex(pa!)}`);
      },
    },
    {
      name: "caches of several sizes, some larger than a quarter page, keep their objects apart",
      points: 3,
      anchor: "step-7-a-cache-and-its-slabs",
      arch: "both",
      run(t) {
        const b = books(t);
        const sizes = [8, 24, 100, 200, 1100, 1500];
        const slab = t.impl.slab(t.mem, b.ledger.pmm);
        const all = sizes.map((size, i) => cacheOf(b, slab, `cache${i}`, size));
        const listed = slab.caches().map((c) => [c.name, c.objectSize]);
        t.equal(listed, sizes.map((s, i) => [`cache${i}`, s]), "caches(): names and sizes");
        // A slab's worth of each, and one more: each cache takes a second slab.
        for (const c of all) fill(b, c, Math.floor(F / c.size) + 1);
        checkSeparate(b);
        checkCacheStats(b, all, "after filling six caches");
      },
    },
    {
      name: "freed objects are handed out again, zeroed, before the PMM is asked for a frame",
      points: 2,
      anchor: "step-9-freeing-an-object",
      arch: "both",
      run(t) {
        const b = books(t);
        const all = caches(b, [72, 1100]);
        for (const c of all) checkReuse(b, c, fill(b, c, Math.floor((3 * F) / c.size)));
        checkCacheStats(b, all, "after the objects were reused");
      },
    },
    {
      name: "an empty slab goes back to the PMM: freeing everything leaves no frame held",
      points: 3,
      anchor: "step-9-freeing-an-object",
      arch: "both",
      run(t) {
        const b = books(t);
        const all = caches(b, [32, 376, 1500]);
        const start = b.ledger.pmm.stats();
        for (const c of all) fill(b, c, Math.floor((3 * F) / c.size));
        const objects = shuffle(t, [...b.live.values()].map((h) => h.pa));
        for (const pa of objects) {
          freeLive(b, all, pa);
          b.checkAll();
          checkCacheStats(b, all, `after freeing ${hex(pa)}`);
        }
        t.equal(b.ledger.pmm.stats(), start, "the PMM's statistics after every object was freed", {
          hardware: [b.traffic()],
        });
      },
    },
    {
      name:
        "freeing a foreign address, another cache's object, or an object twice throws a RangeError",
      points: 2,
      anchor: "step-10-refusing-bad-frees",
      arch: "both",
      run(t) {
        const b = books(t);
        const [x, y] = caches(b, [64, 64]);
        const xs = fill(b, x, 40), ys = fill(b, y, 3);
        x.free(xs[7]);
        checkRefusals(b, [
          ["an object already freed", xs[7]],
          [y.owner, ys[1]],
          ["an address inside a live object", xs[9] + 16],
          ["an address that is not aligned", xs[10] + 5],
          ["a frame the PMM never handed out", b.ledger.base + (b.ledger.frames - 1) * F],
        ], (pa) => x.impl.free(pa));
        checkCacheStats(b, [x, y], "after the refused frees");
        fill(b, x, 3);
      },
    },
    {
      name: "when the PMM runs dry, a cache's allocate returns undefined and corrupts nothing",
      points: 2,
      anchor: "step-5-running-out",
      arch: "both",
      run(t) {
        for (const size of [56, 1500]) {
          const b = books(t);
          const all = caches(b, [size]);
          checkDry(b, all[0], () => checkCacheStats(b, all, "with the PMM dry"));
        }
      },
    },
    {
      name:
        "seeded random allocations and frees across several caches agree with the grader's books",
      points: 4,
      anchor: "step-11-statistics",
      arch: "both",
      run(t) {
        const b = books(t);
        const all = caches(b, [16, 24, 8 * t.rng.range(4, 100) + t.rng.range(1, 7), 1100, 1500]);
        stress(b, all, 1500, (when) => {
          checkCacheStats(b, all, when);
          checkSeparate(b);
        });
      },
    },
    {
      name: "the kernel boots, runs and powers off with your heap",
      points: 2,
      anchor: "the-interface",
      arch: "both",
      system: true,
      run(t) {
        // The kernel takes its thread and process objects from your slab caches and its
        // address-space objects from your fixed-block allocator, and checks every answer
        // (kernel/guard.ts).
        checkCleanRun(t, t.boot());
      },
    },
  ],
});
