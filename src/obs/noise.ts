/**
 * Observation noise laws with the same standard deviation σ (spec §2.3): Gaussian N(0, σ²),
 * Laplace(scale σ/√2), Uniform(±√3σ), and the shifted LogNormal of shape s:
 * LogNormal(m = −s²/2 + ln(σ/√(e^{s²}−1)), s) − σ/√(e^{s²}−1) (zero mean, std σ).
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { Rng } from "../rng.ts";

/** A zero-mean noise law; its std is given when drawing. */
export type NoiseLaw =
  | { kind: "gaussian" }
  | { kind: "laplace" }
  | { kind: "uniform" }
  | { kind: "lognormal"; shape: number };

/**
 * Draws `n` values of `law` with zero mean and standard deviation `std`.
 *
 * @example
 * ```ts
 * import { sampleNoise } from "@soad/soad/internal";
 * import { Rng } from "@soad/soad";
 * const e = sampleNoise({ kind: "laplace" }, 0.1, 4, new Rng(1));
 * console.log(e.length); // 4
 * ```
 */
export function sampleNoise(law: NoiseLaw, std: number, n: number, rng: Rng): Float64Array {
  if (!(std >= 0 && Number.isFinite(std))) {
    throw new InvalidArgumentError(`noise std must be finite and ≥ 0, got ${std}`);
  }
  if (!(Number.isInteger(n) && n >= 0)) {
    throw new InvalidArgumentError(`noise count must be a non-negative integer, got ${n}`);
  }
  const out = new Float64Array(n);
  switch (law?.kind) {
    case "gaussian":
      for (let i = 0; i < n; i++) out[i] = std * rng.normal();
      break;
    case "laplace": {
      const b = std / Math.SQRT2;
      for (let i = 0; i < n; i++) {
        let u = rng.uniform() - 0.5;
        while (u === -0.5) u = rng.uniform() - 0.5;
        out[i] = -b * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
      }
      break;
    }
    case "uniform": {
      const a = Math.sqrt(3) * std;
      for (let i = 0; i < n; i++) out[i] = a * (2 * rng.uniform() - 1);
      break;
    }
    case "lognormal": {
      const s = law.shape;
      if (!(s > 0 && Number.isFinite(s))) {
        throw new InvalidArgumentError(`lognormal shape must be finite and > 0, got ${s}`);
      }
      const shift = std / Math.sqrt(Math.expm1(s * s));
      const m = -s * s / 2 + Math.log(shift);
      for (let i = 0; i < n; i++) out[i] = Math.exp(m + s * rng.normal()) - shift;
      break;
    }
    default:
      throw new InvalidArgumentError(
        `unknown noise law ${
          JSON.stringify(law)
        }; expected gaussian, laplace, uniform or lognormal`,
      );
  }
  return out;
}
