/**
 * The sleep queue: threads waiting for a time, ordered by when they wake (earliest first;
 * threads waking at the same time in the order they went to sleep). The scheduler arms the
 * timer for the earlier of the next tick and the first wake-up, so a sleeper wakes on time
 * rather than at the next tick.
 *
 * A sorted array: insertion finds its place by binary search. Sleepers are few, and the
 * first one is what the timer path reads.
 *
 * @module
 */

/** What the queue needs of a sleeper. */
export interface Sleeper {
  /** When it wakes (ns). */
  wakeAt: number;
}

/** Threads ordered by wake time. */
export class SleepQueue<T extends Sleeper> {
  readonly #queue: T[] = [];

  /** How many sleep. */
  get size(): number {
    return this.#queue.length;
  }

  /** When the first sleeper wakes, or Infinity. */
  earliest(): number {
    return this.#queue.length ? this.#queue[0].wakeAt : Infinity;
  }

  /** Adds `t` after every sleeper that wakes no later than it. */
  insert(t: T): void {
    const q = this.#queue;
    let lo = 0, hi = q.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (q[mid].wakeAt <= t.wakeAt) lo = mid + 1;
      else hi = mid;
    }
    q.splice(lo, 0, t);
  }

  /** Removes `t` (it was killed); false if it was not there. */
  remove(t: T): boolean {
    const i = this.#queue.indexOf(t);
    if (i < 0) return false;
    this.#queue.splice(i, 1);
    return true;
  }

  /** Takes out, in order, every sleeper due at or before `now`. */
  takeDue(now: number): readonly T[] {
    const q = this.#queue;
    let n = 0;
    while (n < q.length && q[n].wakeAt <= now) n++;
    return n === 0 ? EMPTY : q.splice(0, n);
  }
}

/** What `takeDue` returns when nobody is due (nothing allocated on the common path). */
const EMPTY: readonly never[] = [];
