/**
 * The reference run queue: anos's prioritised round robin. Four classes (realtime, high,
 * normal, idle), each of 255 levels (0 the highest); a thread's rank is its class, then its
 * level. The highest-ranked non-empty level runs first, and the threads of one level take
 * turns: `next` takes from the front, `enqueue` adds at the back.
 *
 * Finding the highest non-empty level is a bitmap search: one bit per level (4 × 255 bits
 * in 32 words of 32 bits), scanned with `Math.clz32`, so `next` costs the same however many
 * threads wait. Each level is a FIFO array.
 *
 * The queue remembers where it put each thread, so `remove` finds it even if the thread's
 * class or level changed while it waited (change them only while it is not queued, and
 * re-enqueue it).
 *
 * @module
 */

import type { RunQueue, SchedClass, Schedulable } from "../components.ts";

/** The classes, highest first: index 0 is realtime. */
export const SCHED_CLASSES: readonly SchedClass[] = ["realtime", "high", "normal", "idle"];
/** Levels per class: 0 (highest) to 254. */
export const SCHED_LEVELS = 255;

/** A thread's rank: 0 (realtime level 0) is the highest, 4 × 255 - 1 the lowest. */
export function rankOf(t: Schedulable): number {
  const c = SCHED_CLASSES.indexOf(t.schedClass);
  if (c < 0) throw new RangeError(`thread ${t.tid}: "${t.schedClass}" is not a scheduling class`);
  if (!Number.isInteger(t.priority) || t.priority < 0 || t.priority >= SCHED_LEVELS) {
    throw new RangeError(`thread ${t.tid}: priority ${t.priority} is not a level from 0 to 254`);
  }
  return c * SCHED_LEVELS + t.priority;
}

const RANKS = SCHED_CLASSES.length * SCHED_LEVELS;

/** Builds an empty run queue. */
export function createRunQueue<T extends Schedulable>(): RunQueue<T> {
  const levels: T[][] = Array.from({ length: RANKS }, () => []);
  const bitmap = new Uint32Array(Math.ceil(RANKS / 32));
  const where = new Map<T, number>();

  const highest = (): number => {
    for (let w = 0; w < bitmap.length; w++) {
      if (bitmap[w] !== 0) return w * 32 + Math.clz32(bitmap[w]);
    }
    return -1;
  };
  // Bit (31 - r % 32) of word r / 32 stands for rank r, so clz32 finds the lowest rank.
  const mark = (r: number) => (bitmap[r >> 5] |= 1 << (31 - (r & 31)));
  const unmark = (r: number) => (bitmap[r >> 5] &= ~(1 << (31 - (r & 31))));

  return {
    enqueue(thread: T): void {
      if (where.has(thread)) throw new RangeError(`thread ${thread.tid} is already queued`);
      const r = rankOf(thread);
      levels[r].push(thread);
      where.set(thread, r);
      mark(r);
    },

    remove(thread: T): boolean {
      const r = where.get(thread);
      if (r === undefined) return false;
      const level = levels[r];
      level.splice(level.indexOf(thread), 1);
      if (level.length === 0) unmark(r);
      where.delete(thread);
      return true;
    },

    next(): T | undefined {
      const r = highest();
      if (r < 0) return undefined;
      const level = levels[r];
      const thread = level.shift()!;
      if (level.length === 0) unmark(r);
      where.delete(thread);
      return thread;
    },

    outranks(current: T): boolean {
      const r = highest();
      return r >= 0 && r < rankOf(current);
    },

    get size(): number {
      return where.size;
    },
  };
}
