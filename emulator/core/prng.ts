/**
 * A seeded pseudo-random number generator: xoshiro128** (Blackman and Vigna, 2018),
 * seeded through SplitMix32 so that every seed, even 0, gives a well-mixed state.
 *
 * DESIGN.md principle 4 forbids `Math.random` in the emulator: every choice that looks
 * random (quantum lengths, the order in which CPUs run) is drawn from one of these, so a
 * run replays exactly from its seed.
 *
 * @module
 */

/** The state of a xoshiro128** generator: four 32-bit words. */
export class Prng {
  #s0 = 0;
  #s1 = 0;
  #s2 = 0;
  #s3 = 0;

  /** Creates a generator from any integer seed (only the low 32 bits count). */
  constructor(seed: number) {
    let z = seed >>> 0;
    const next = () => {
      // SplitMix32: a different constant stream for each state word.
      z = (z + 0x9e3779b9) >>> 0;
      let t = z ^ (z >>> 16);
      t = Math.imul(t, 0x21f0aaad);
      t ^= t >>> 15;
      t = Math.imul(t, 0x735a2d97);
      return (t ^ (t >>> 15)) >>> 0;
    };
    this.#s0 = next();
    this.#s1 = next();
    this.#s2 = next();
    this.#s3 = next();
  }

  /** The next 32 random bits, as an unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** A uniformly drawn integer in [lo, hi] (both inclusive, hi - lo < 2^32). */
  range(lo: number, hi: number): number {
    const span = hi - lo + 1;
    if (span <= 1) return lo;
    // Rejection sampling keeps the distribution exactly uniform.
    const limit = Math.floor(0x1_0000_0000 / span) * span;
    let v = this.nextU32();
    while (v >= limit) v = this.nextU32();
    return lo + (v % span);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
