/**
 * Observations of a cycling experiment: one mask and one noise draw for the whole trajectory,
 * made by the same code as `observe` (so every method sees the same y), cut into the windows of
 * SOAD/SDA, and the observation of LETKF members (pooling, normalisation, then the operator).
 * @module
 */

import { averagePool } from "../data/pool.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { SpatialMask } from "../obs/mask.ts";
import { type Observation, observeStack, SIGMA_OBS } from "../obs/observe.ts";
import type { ObservationOperator } from "../obs/operator.ts";
import { Rng } from "../rng.ts";

import type { Normalisation } from "../diffusion/prior_info.ts";
/** Per-layer normalisation x_n = (q − offset) / std (the prior's; the type `loadPrior` returns). */
export type { Normalisation };

/** Options of {@link drawCycleObservations}. */
export interface CycleObservationOptions {
  /** The operator. */
  operator: ObservationOperator;
  /** Random mask ratio (one of ratio / stride). */
  ratio?: number;
  /** Uniform stride (one of ratio / stride). */
  stride?: number;
  /** Observe days 0, interval, 2·interval, … */
  interval: number;
  /** σo (normalised; default 0.1). */
  sigma?: number;
  /** Seed of the mask and the noise. */
  seed: number;
}

/**
 * Observations of days 0..days−1 of a normalised truth `[≥ days, 2, H, W]`: one Observation whose
 * frames are the observed days.
 *
 * @example
 * ```ts
 * import { drawCycleObservations } from "./cycle_obs.ts";
 * import { arctan3x } from "@soad/soad";
 * const o = drawCycleObservations(new Float32Array(4 * 2 * 8 * 8), 4, 8, 8, { operator: arctan3x, stride: 2, interval: 2, seed: 0 });
 * console.log(o.frames, o.values.length); // [0, 2] 32
 * ```
 */
export function drawCycleObservations(
  truth: Float32Array,
  days: number,
  height: number,
  width: number,
  opts: CycleObservationOptions,
): Observation {
  const frame = 2 * height * width;
  if (truth.length < days * frame) {
    throw new InvalidArgumentError(`truth has ${truth.length / frame} frames, ${days} days needed`);
  }
  return observeStack(truth.subarray(0, days * frame), days, height, width, {
    operators: [opts.operator],
    ratio: opts.ratio,
    stride: opts.stride,
    interval: opts.interval,
    sigma: opts.sigma ?? SIGMA_OBS,
    rng: new Rng(opts.seed),
  })[0];
}

/**
 * The observations of days start..start+frames−1 as an Observation of a window (frames relative
 * to `start`); undefined when none of those days is observed.
 *
 * @example
 * ```ts
 * import { drawCycleObservations, windowObservation } from "./cycle_obs.ts";
 * import { arctan3x } from "@soad/soad";
 * const o = drawCycleObservations(new Float32Array(12 * 2 * 4 * 4), 12, 4, 4, { operator: arctan3x, stride: 2, interval: 2, seed: 0 });
 * console.log(windowObservation(o, 3, 9)?.frames); // [1, 3, 5, 7]
 * ```
 */
export function windowObservation(
  obs: Observation,
  start: number,
  frames: number,
): Observation | undefined {
  const per = obs.operator.outChannels * obs.mask.indices.length;
  const sel = obs.frames.map((d, i) => [d, i]).filter(([d]) => d >= start && d < start + frames);
  if (sel.length === 0) return undefined;
  const values = new Float32Array(sel.length * per);
  sel.forEach(([, i], k) => values.set(obs.values.subarray(i * per, (i + 1) * per), k * per));
  return { ...obs, frames: sel.map(([d]) => d - start), values };
}

/**
 * The observation values of day `day` (`[outChannels, mask points]`), or undefined.
 *
 * @example
 * ```ts ignore
 * const y = dayValues(obs, 3);
 * ```
 */
export function dayValues(obs: Observation, day: number): Float32Array | undefined {
  const i = obs.frames.indexOf(day);
  if (i < 0) return undefined;
  const per = obs.operator.outChannels * obs.mask.indices.length;
  return obs.values.subarray(i * per, (i + 1) * per);
}

/**
 * Positions (x, y in metres) of the observations of one day, `[outChannels · points, 2]`: the
 * centres of the pooled cells of the mask (every output channel at the same point).
 *
 * @example
 * ```ts
 * import { observationPositions } from "./cycle_obs.ts";
 * import { strideMask } from "@soad/soad";
 * console.log(observationPositions(strideMask(2, 2, 2), 1, 2e6, 2e6)); // Float64Array(2) [500000, 500000]
 * ```
 */
export function observationPositions(
  mask: SpatialMask,
  channels: number,
  lengthX: number,
  lengthY: number,
): Float64Array {
  const np = mask.indices.length, out = new Float64Array(2 * channels * np);
  for (let c = 0; c < channels; c++) {
    for (let p = 0; p < np; p++) {
      const k = mask.indices[p], i = Math.floor(k / mask.width), j = k % mask.width;
      out[2 * (c * np + p)] = (j + 0.5) * lengthX / mask.width;
      out[2 * (c * np + p) + 1] = (i + 0.5) * lengthY / mask.height;
    }
  }
  return out;
}

/**
 * Pools simulation-grid states `[n, 2, ny, nx]` (physical) by `pool` and normalises them:
 * `[n, 2, ny/pool, nx/pool]` float32.
 *
 * @example
 * ```ts
 * import { poolNormalise } from "./cycle_obs.ts";
 * const x = poolNormalise(new Float64Array(2 * 4).fill(2), 2, 2, 2, { offset: [0, 1], std: [2, 1] });
 * console.log(x); // Float32Array(2) [1, 1]
 * ```
 */
export function poolNormalise(
  states: Float64Array,
  ny: number,
  nx: number,
  pool: number,
  norm: Normalisation,
): Float32Array {
  const n = states.length / (2 * ny * nx), R = (ny / pool) * (nx / pool);
  const out = new Float32Array(n * 2 * R);
  for (let k = 0; k < n; k++) {
    averagePool(
      states.subarray(k * 2 * ny * nx, (k + 1) * 2 * ny * nx),
      ny,
      nx,
      pool,
      2,
      out,
      k * 2 * R,
    );
  }
  for (let i = 0; i < out.length; i++) {
    const c = Math.floor(i / R) % 2;
    out[i] = (out[i] - norm.offset[c]) / norm.std[c];
  }
  return out;
}

/**
 * Each member observed: H applied to the pooled, normalised members `[n, 2, H, W]`, taken at the
 * mask, `[n, outChannels · points]` (float64).
 *
 * @example
 * ```ts
 * import { observeMembers } from "./cycle_obs.ts";
 * import { arctan3x } from "@soad/soad";
 * import { strideMask } from "@soad/soad";
 * const h = observeMembers(new Float32Array(2 * 2 * 2 * 2), 2, arctan3x, strideMask(2, 2, 2));
 * console.log(h.length); // 4
 * ```
 */
export function observeMembers(
  pooled: Float32Array,
  members: number,
  operator: ObservationOperator,
  mask: SpatialMask,
): Float64Array {
  const H = mask.height, W = mask.width, R = H * W;
  const co = operator.outChannels, np = mask.indices.length, m = co * np;
  const h = operator.apply(pooled, members, H, W);
  const out = new Float64Array(members * m);
  for (let a = 0; a < members; a++) {
    for (let c = 0; c < co; c++) {
      for (let p = 0; p < np; p++) out[a * m + c * np + p] = h[(a * co + c) * R + mask.indices[p]];
    }
  }
  return out;
}
