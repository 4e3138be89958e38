/**
 * A fast standard-normal source for the sampler: the Marsaglia–Tsang ziggurat (128 layers) on
 * top of the seeded {@link Rng}, with the layer index and the value taken from disjoint bits of
 * one 32-bit draw (7 + 25 bits). About 5× faster than Box–Muller; deterministic per seed.
 * @module
 */

import { Rng } from "../rng.ts";

const KN = new Float64Array(128);
const WN = new Float64Array(128);
const FN = new Float64Array(128);
const R = 3.442619855899;
{
  const m = 2 ** 24;
  let dn = R, tn = dn;
  const vn = 9.91256303526217e-3;
  const q = vn / Math.exp(-0.5 * dn * dn);
  KN[0] = (dn / q) * m;
  KN[1] = 0;
  WN[0] = q / m;
  WN[127] = dn / m;
  FN[0] = 1;
  FN[127] = Math.exp(-0.5 * dn * dn);
  for (let i = 126; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(vn / dn + Math.exp(-0.5 * dn * dn)));
    KN[i + 1] = (dn / tn) * m;
    tn = dn;
    FN[i] = Math.exp(-0.5 * dn * dn);
    WN[i] = dn / m;
  }
}

/**
 * Seeded standard-normal draws (ziggurat).
 *
 * @example
 * ```ts
 * import { NormalSource } from "@soad/soad/internal";
 * const n = new NormalSource(3);
 * const a = new Float32Array(4);
 * n.fill(a);
 * console.log(a.every(Number.isFinite)); // true
 * ```
 */
export class NormalSource {
  readonly #rng: Rng;

  /**
   * Seeds the generator.
   * @param seed any integer
   */
  constructor(seed: number) {
    this.#rng = new Rng(seed);
  }

  /** One N(0, 1) draw. */
  next(): number {
    const rng = this.#rng;
    for (;;) {
      const u = rng.nextUint32() | 0;
      const iz = u & 127;
      const j = u >> 7; // signed 25-bit
      if (Math.abs(j) < KN[iz]) return j * WN[iz];
      if (iz === 0) {
        let x: number, y: number;
        do {
          x = -Math.log(1 - rng.uniform()) / R;
          y = -Math.log(1 - rng.uniform());
        } while (y + y < x * x);
        return j > 0 ? R + x : -R - x;
      }
      const x = j * WN[iz];
      if (FN[iz] + rng.uniform() * (FN[iz - 1] - FN[iz]) < Math.exp(-0.5 * x * x)) return x;
    }
  }

  /** Fills `out` with N(0, 1) draws. */
  fill(out: Float32Array | Float64Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.next();
  }
}
