/**
 * A small seeded pseudo-random generator (xoshiro128**, seeded through splitmix32) used for
 * initial conditions, masks, noise and data shuffling, so that every result is reproducible
 * from an integer seed on every platform.
 * @module
 */

import { InvalidArgumentError } from "./errors.ts";

function splitmix32(state: number): [number, number] {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [state, z >>> 0];
}

/**
 * Seeded generator of uniform, normal and integer draws.
 *
 * @example
 * ```ts
 * import { Rng } from "@soad/soad";
 * const rng = new Rng(42);
 * const u = rng.uniform(); // in [0, 1)
 * const z = rng.normal(); // standard normal
 * console.log(u >= 0 && u < 1, Number.isFinite(z));
 * ```
 */
export class Rng {
  #s = new Uint32Array(4);
  #spare: number | null = null;

  /**
   * Seeds the generator.
   * @param seed any integer (or finite number; it is truncated to 32 bits)
   */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < -(2 ** 31) || seed > 2 ** 32 - 1) {
      throw new InvalidArgumentError(
        `Rng seed must be a 32-bit integer (-2^31 .. 2^32 - 1), got ${seed}`,
      );
    }
    let st = seed | 0;
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(st);
      st = next;
      this.#s[i] = out;
    }
    if ((this.#s[0] | this.#s[1] | this.#s[2] | this.#s[3]) === 0) this.#s[0] = 1;
  }

  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal draw (Box–Muller, the spare value is cached). */
  normal(): number {
    if (this.#spare !== null) {
      const v = this.#spare;
      this.#spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Uniform integer in [0, n), unbiased. */
  int(n: number): number {
    if (!(Number.isInteger(n) && n > 0 && n <= 2 ** 32)) {
      throw new InvalidArgumentError(`Rng.int expects an integer n in 1..2^32, got ${n}`);
    }
    const limit = 2 ** 32 - (2 ** 32 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
