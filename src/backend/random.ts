// The library's one seeded random source.
//
// tfjs draws from Math.random in `util.shuffle` and in every op or initializer given no seed, and it
// treats seed 0 as "no seed". Everything in recsys-ts that needs randomness (splits, negative
// sampling, masking, weight initialisation, batch order) takes an `Rng` explicitly instead, so that a
// notebook's numbers are identical from run to run. The generator is xoshiro128** (Blackman and
// Vigna), seeded through splitmix32: fast in 32-bit JS arithmetic and statistically sound.

/** Arrays that `Rng.shuffle` permutes in place. */
export type ShuffleableArray<T> = T[] | Int32Array | Uint32Array | Float32Array | Float64Array;

function splitmix32(state: number): [value: number, next: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [(z ^ (z >>> 16)) >>> 0, next];
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;

  /** @param seed any finite number; equal seeds give equal streams. */
  constructor(readonly seed: number) {
    if (!Number.isFinite(seed)) {
      throw new Error(`Rng: seed must be a finite number, got ${seed}`);
    }
    // Hash the seed's low word, high word and fraction into 32 bits, so that seeds like -1, 0.5 and
    // 2**32 differ from 0 and 1 (XOR-ing the words together made Rng(-1) equal Rng(0)).
    let state = 0;
    for (const word of [seed | 0, Math.floor(seed / 2 ** 32) | 0, Math.round((seed % 1) * 2 ** 31) | 0]) {
      state = splitmix32(state ^ word)[0];
    }
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [value, next] = splitmix32(state);
      words.push(value);
      state = next;
    }
    [this.s0, this.s1, this.s2, this.s3] = words;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform float in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) {
      throw new Error(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    // Rejection sampling: discard the top sliver of the 2^32 range that n does not divide.
    const limit = 4294967296 - (4294967296 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** A normal draw (Marsaglia's polar method; the pair's second value is kept for the next call). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const spare = this.spareNormal;
      this.spareNormal = null;
      return mean + std * spare;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const factor = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * factor;
    return mean + std * u * factor;
  }

  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<A extends ShuffleableArray<unknown>>(array: A): A {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }

  /**
   * A nonzero integer seed for a tfjs op or initializer (`tf.randomNormal(..., seed)`,
   * `tf.initializers.glorotNormal({ seed })`): tfjs reads 0 as "unseeded" and falls back to Math.random.
   */
  tfSeed(): number {
    return 1 + this.int(2147483646);
  }

  /** An independent generator, so that one consumer's draws do not shift another's. */
  fork(): Rng {
    return new Rng(this.nextUint32() * 4294967296 + this.nextUint32());
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
