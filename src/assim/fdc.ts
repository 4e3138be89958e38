/**
 * The forward-diffusion corrector of SOAD (spec §5.1): with r = σ(t)/μ(t), for every operator
 * with r > σo overwrite its observed entries P_k z ← μ(y_k + sqrt(r² − σo²)·ξ); with a background
 * and r > σb overwrite frame 0, channels 0..1: z ← μ(x_b + sqrt(r² − σb²)·ξ). ξ ~ N(0, I) fresh.
 * @module
 */

import { alpha, sigma } from "../diffusion/schedule.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { NormalSource } from "./normal.ts";
import type { PlannedObservation } from "./plan.ts";

/** A background for frame 0, channels 0..1 (layout `[2, H, W]`, i.e. sample indices 0..2HW−1). */
export interface PlannedBackground {
  /** x_b. */
  values: Float32Array;
  /** σb. */
  sigma: number;
}

/** What the FDC overwrites. */
export interface FdcConfig {
  /** Observations in augmented space. */
  observations: PlannedObservation[];
  /** Optional background. */
  background?: PlannedBackground;
}

/**
 * Applies the FDC in place to every active sample of `z` (`batch` samples of `per` entries).
 * Returns how many replacements (operators + background) were active at t.
 *
 * @example
 * ```ts
 * import { applyFdc } from "@soad/soad/internal";
 * import { NormalSource } from "@soad/soad/internal";
 * const z = new Float32Array(4);
 * const obs = [{ index: new Int32Array([1]), y: new Float32Array([2]), sigma: 0.1 }];
 * console.log(applyFdc(z, 1, 4, 0.01, { observations: obs }, new NormalSource(0)), z[0]); // 0 0
 * ```
 */
export function applyFdc(
  z: Float32Array,
  batch: number,
  per: number,
  t: number,
  config: FdcConfig,
  rng: NormalSource,
  active?: Uint8Array,
): number {
  const mu = alpha(t), r = sigma(t) / mu;
  let n = 0;
  for (const o of config.observations) {
    if (!(r > o.sigma)) continue;
    n++;
    const k = Math.sqrt(r * r - o.sigma * o.sigma);
    for (let b = 0; b < batch; b++) {
      const off = b * per, skip = active !== undefined && !active[b];
      for (let j = 0; j < o.index.length; j++) {
        const v = mu * (o.y[j] + k * rng.next());
        if (!skip) z[off + o.index[j]] = v;
      }
    }
  }
  const bg = config.background;
  if (bg && r > bg.sigma) {
    n++;
    if (bg.values.length > per) {
      throw new InvalidArgumentError(
        `background has ${bg.values.length} values, more than a sample`,
      );
    }
    const k = Math.sqrt(r * r - bg.sigma * bg.sigma);
    for (let b = 0; b < batch; b++) {
      const off = b * per, skip = active !== undefined && !active[b];
      for (let j = 0; j < bg.values.length; j++) {
        const v = mu * (bg.values[j] + k * rng.next());
        if (!skip) z[off + j] = v;
      }
    }
  }
  return n;
}

/**
 * Number of steps of a K-step run at which the FDC replaces observations of std `sigmaObs`
 * (r(t_{i+1}) > σo); 244 of 256 for σo = 0.1.
 *
 * @example
 * ```ts
 * import { fdcActiveSteps } from "@soad/soad/internal";
 * console.log(fdcActiveSteps(256, 0.1)); // 244
 * ```
 */
export function fdcActiveSteps(steps: number, sigmaObs: number): number {
  let n = 0;
  for (let i = 0; i < steps; i++) {
    const s = 1 - (i + 1) / steps;
    if (sigma(s) / alpha(s) > sigmaObs) n++;
  }
  return n;
}

/**
 * The background as an observation of what the FDC overwrites (frame 0, channels 0..1: sample
 * indices 0..2HW−1) with error σb, for the likelihood ℒ (`AssimilateOptions.backgroundLikelihood`).
 *
 * @example
 * ```ts
 * import { backgroundObservation } from "@soad/soad/internal";
 * const o = backgroundObservation({ values: new Float32Array([0.5, -0.5]), sigma: 0.1 });
 * console.log([...o.index], o.sigma); // [ 0, 1 ] 0.1
 * ```
 */
export function backgroundObservation(background: PlannedBackground): PlannedObservation {
  return {
    index: Int32Array.from(background.values, (_, i) => i),
    y: background.values,
    sigma: background.sigma,
  };
}
