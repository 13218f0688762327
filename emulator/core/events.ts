/**
 * Virtual time and the event queue that device timers use.
 *
 * Time is a number of nanoseconds (a float64 counts whole nanoseconds exactly for 104
 * days). Events fire in time order, and events at the same time in the order they were
 * scheduled, so a run never depends on the host.
 *
 * @module
 */

/** A scheduled event; keep it to cancel the event. */
export interface TimerEvent {
  /** When it fires (ns). */
  readonly time: number;
  /** Scheduling order, to break ties. */
  readonly seq: number;
  /** What to do. */
  readonly fire: () => void;
  /** Set by `cancel`. */
  cancelled: boolean;
}

/** A binary min-heap of events ordered by (time, seq). */
export class EventQueue {
  #heap: TimerEvent[] = [];
  #seq = 0;
  #cancelled = 0;

  /** How many events are waiting (cancelled ones included until they surface). */
  get size(): number {
    return this.#heap.length;
  }

  /** Schedules `fire` at virtual time `time` (ns). */
  schedule(time: number, fire: () => void): TimerEvent {
    if (!Number.isFinite(time)) throw new RangeError(`event time ${time} is not a finite time`);
    const ev: TimerEvent = { time, seq: this.#seq++, fire, cancelled: false };
    const h = this.#heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
    return ev;
  }

  /**
   * Cancels an event; cancelling twice or after it fired does nothing. Cancelled events
   * stay in the heap until they surface, unless they come to outnumber the live ones: a
   * kernel that keeps moving its timer far ahead would otherwise grow the heap forever.
   */
  cancel(ev: TimerEvent | undefined): void {
    if (!ev || ev.cancelled) return;
    ev.cancelled = true;
    if (++this.#cancelled > 64 && this.#cancelled * 2 > this.#heap.length) this.#compact();
  }

  /** Drops every cancelled event and rebuilds the heap. */
  #compact(): void {
    const live = this.#heap.filter((e) => !e.cancelled).sort((a, b) => (before(a, b) ? -1 : 1));
    // A sorted array is a valid binary heap.
    this.#heap = live;
    this.#cancelled = 0;
  }

  /** The time of the next live event, or Infinity. */
  nextTime(): number {
    this.#dropCancelled();
    return this.#heap.length ? this.#heap[0].time : Infinity;
  }

  /** Fires, in order, every event due at or before `now`; returns how many fired. */
  runDue(now: number): number {
    let n = 0;
    for (;;) {
      this.#dropCancelled();
      const h = this.#heap;
      if (!h.length || h[0].time > now) return n;
      const ev = this.#pop();
      ev.cancelled = true; // fired: a later cancel() must not count it
      ev.fire();
      n++;
    }
  }

  #dropCancelled(): void {
    while (this.#heap.length && this.#heap[0].cancelled) {
      this.#pop();
      this.#cancelled--;
    }
  }

  #pop(): TimerEvent {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(a: TimerEvent, b: TimerEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
