/**
 * Observations y = H(x_true) + ε restricted to the observed frames and the spatial mask
 * (spec §2.2–2.3), singly or as multi-operator stacks (setting III).
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { Rng } from "../rng.ts";
import { observedFrames } from "./frames.ts";
import { checkMask, randomMask, type SpatialMask, strideMask } from "./mask.ts";
import { type NoiseLaw, sampleNoise } from "./noise.ts";
import { checkFrames, type NumericArray, type ObservationOperator } from "./operator.ts";

/** Default observation noise std σo (normalised units). */
export const SIGMA_OBS = 0.1;

/** One operator's observations. */
export interface Observation {
  /** The operator H. */
  operator: ObservationOperator;
  /** The spatial mask (shared by every observed frame and channel of the operator). */
  mask: SpatialMask;
  /** Observed frame indices (increasing). */
  frames: number[];
  /** y, layout `[frames.length, operator.outChannels, mask.indices.length]`. */
  values: Float32Array;
  /** Noise std the assimilator assumes (σo). */
  sigma: number;
}

/** Options of {@link observe}. */
export interface ObserveOptions {
  /** The operator. */
  operator: ObservationOperator;
  /** The mask. */
  mask: SpatialMask;
  /** Time interval N (frames 0, N, 2N, … < L); ignored when `frames` is given. Default 1. */
  interval?: number;
  /** Explicit observed frames. */
  frames?: number[];
  /** Noise std (default 0.1). */
  sigma?: number;
  /** Noise law (default Gaussian). */
  noise?: NoiseLaw;
  /** Random source of the noise. */
  rng: Rng;
}

/**
 * Observes a truth window `[L, 2, H, W]` (normalised q).
 *
 * @example
 * ```ts
 * import { observe } from "@soad/soad";
 * import { strideMask } from "@soad/soad";
 * import { sin3x } from "@soad/soad";
 * import { Rng } from "@soad/soad";
 * const x = new Float32Array(9 * 2 * 8 * 8);
 * const o = observe(x, 9, 8, 8, { operator: sin3x, mask: strideMask(8, 8, 2), interval: 4, rng: new Rng(0) });
 * console.log(o.frames, o.values.length); // [0, 4, 8] 96
 * ```
 */
export function observe(
  truth: NumericArray,
  frames: number,
  height: number,
  width: number,
  options: ObserveOptions,
): Observation {
  const { operator, mask, rng } = options;
  const sigma = options.sigma ?? SIGMA_OBS;
  if (!(sigma > 0 && Number.isFinite(sigma))) {
    throw new InvalidArgumentError(`observation sigma must be finite and > 0, got ${sigma}`);
  }
  checkFrames("truth", truth, frames, 2, height, width);
  checkMask(mask, height, width);
  const obsFrames = options.frames ?? observedFrames(frames, options.interval ?? 1);
  for (const f of obsFrames) {
    if (!(Number.isInteger(f) && f >= 0 && f < frames)) {
      throw new InvalidArgumentError(`observed frame ${f} is outside 0..${frames - 1}`);
    }
  }
  const R = height * width;
  const sel = new Float64Array(obsFrames.length * 2 * R);
  obsFrames.forEach((f, i) => {
    for (let j = 0; j < 2 * R; j++) sel[i * 2 * R + j] = truth[f * 2 * R + j];
  });
  const h = operator.apply(sel, obsFrames.length, height, width);
  const co = operator.outChannels, np = mask.indices.length;
  const values = new Float32Array(obsFrames.length * co * np);
  const eps = sampleNoise(options.noise ?? { kind: "gaussian" }, sigma, values.length, rng);
  for (let fc = 0; fc < obsFrames.length * co; fc++) {
    for (let p = 0; p < np; p++) {
      values[fc * np + p] = h[fc * R + mask.indices[p]] + eps[fc * np + p];
    }
  }
  return { operator, mask, frames: obsFrames, values, sigma };
}

/** Options of {@link observeStack}. */
export interface ObserveStackOptions {
  /** Operators, in order. */
  operators: ObservationOperator[];
  /** Random ratio p: each operator draws its own mask, in operator order. */
  ratio?: number;
  /** Uniform stride s: one mask shared by every operator. */
  stride?: number;
  /** Time interval N (default 1). */
  interval?: number;
  /** Noise std (default 0.1). */
  sigma?: number;
  /** Noise law (default Gaussian). */
  noise?: NoiseLaw;
  /** Random source (masks, then noise, operator by operator). */
  rng: Rng;
}

/**
 * Observations of several operators at once (setting III), with masks as in spec §2.2.
 *
 * @example
 * ```ts
 * import { observeStack } from "@soad/soad";
 * import { arctan3x, sin3x } from "@soad/soad";
 * import { Rng } from "@soad/soad";
 * const x = new Float32Array(3 * 2 * 8 * 8);
 * const obs = observeStack(x, 3, 8, 8, { operators: [arctan3x, sin3x], ratio: 0.25, rng: new Rng(0) });
 * console.log(obs.length, obs[0].mask.indices.length); // 2 16
 * ```
 */
export function observeStack(
  truth: NumericArray,
  frames: number,
  height: number,
  width: number,
  options: ObserveStackOptions,
): Observation[] {
  const { operators, ratio, stride, rng } = options;
  if ((ratio === undefined) === (stride === undefined)) {
    throw new InvalidArgumentError("give exactly one of ratio (random mask) or stride (uniform)");
  }
  if (operators.length === 0) throw new InvalidArgumentError("no operators given");
  const shared = stride !== undefined ? strideMask(height, width, stride) : undefined;
  const masks = operators.map(() => shared ?? randomMask(height, width, ratio!, rng));
  return operators.map((operator, k) =>
    observe(truth, frames, height, width, {
      operator,
      mask: masks[k],
      interval: options.interval,
      sigma: options.sigma,
      noise: options.noise,
      rng,
    })
  );
}
