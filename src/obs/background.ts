/**
 * Background priors for frame 0 (spec §2.4): known (truth of frame 0 + N(0, σb²)) and unknown
 * (a 1-day QG forecast of the previous day's truth, perturbed by 0.01·ξ, run on the window's own
 * grid from a fresh forward-Euler start for 95 steps of 900 s — the resolution mismatch and the
 * 15-minute shortfall of the paper's code — then re-normalised).
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { QGModel } from "../qg/model.ts";
import type { Rng } from "../rng.ts";
import { checkFrames, type NumericArray } from "./operator.ts";

/** Default background std σb (normalised units). */
export const SIGMA_BACKGROUND = 0.1;

/** Per-layer normalisation of q (spec §1.2): q_normalised = q / std. */
export const Q_STD: readonly [number, number] = [9.7e-6, 1.19e-6];

/**
 * x_b = x_true[frame 0] + σb·ξ, layout `[2, H, W]`.
 *
 * @example
 * ```ts
 * import { knownBackground } from "@soad/soad";
 * import { Rng } from "@soad/soad";
 * const xb = knownBackground(new Float32Array(3 * 2 * 4 * 4), 3, 4, 4, new Rng(0));
 * console.log(xb.length); // 32
 * ```
 */
export function knownBackground(
  truth: NumericArray,
  frames: number,
  height: number,
  width: number,
  rng: Rng,
  sigmaB: number = SIGMA_BACKGROUND,
): Float32Array {
  checkFrames("truth", truth, frames, 2, height, width);
  if (!(sigmaB >= 0 && Number.isFinite(sigmaB))) {
    throw new InvalidArgumentError(`background sigma must be finite and ≥ 0, got ${sigmaB}`);
  }
  const n = 2 * height * width;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = truth[i] + sigmaB * rng.normal();
  return out;
}

/** Options of {@link unknownBackground}. */
export interface UnknownBackgroundOptions {
  /** Random source of the initial perturbation. */
  rng: Rng;
  /** Std of the perturbation of the previous day's state (normalised), default 0.01. */
  perturbation?: number;
  /** Model steps, default 95 (the code's 96 scan iterations keep the 95th step). */
  steps?: number;
  /** Time step in seconds, default 900. */
  dt?: number;
}

/**
 * x_b = F(x_prev + 0.01·ξ): a QG forecast from the previous day's normalised state `[2, H, W]`
 * (de-normalised by {@link Q_STD}, run, re-normalised). H = W, a power of two in 16..1024.
 *
 * @example
 * ```ts
 * import { unknownBackground } from "@soad/soad";
 * import { Rng } from "@soad/soad";
 * const prev = new Float32Array(2 * 16 * 16).map((_, i) => Math.sin(i / 7));
 * const xb = unknownBackground(prev, 16, 16, { rng: new Rng(0), steps: 2 });
 * console.log(xb.length); // 512
 * ```
 */
export function unknownBackground(
  previous: NumericArray,
  height: number,
  width: number,
  options: UnknownBackgroundOptions,
): Float32Array {
  checkFrames("previous state", previous, 1, 2, height, width);
  if (height !== width) {
    throw new InvalidArgumentError(`the QG forecast needs a square grid, got ${height}x${width}`);
  }
  const eps = options.perturbation ?? 0.01;
  const steps = options.steps ?? 95;
  const R = height * width;
  const q = new Float64Array(2 * R);
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < R; i++) {
      q[c * R + i] = (previous[c * R + i] + eps * options.rng.normal()) * Q_STD[c];
    }
  }
  const model = new QGModel({ nx: width, dt: options.dt ?? 900 });
  model.setQ(q);
  model.step(steps);
  const out = model.q;
  const xb = new Float32Array(2 * R);
  for (let c = 0; c < 2; c++) for (let i = 0; i < R; i++) xb[c * R + i] = out[c * R + i] / Q_STD[c];
  return xb;
}
