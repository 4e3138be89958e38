/**
 * What every cell of an evaluation grid shares: the normalised test windows it reads
 * ({@link ExperimentData}) and the sampler's run configuration ({@link ExperimentConfig}, part of a
 * results file's identity), with its defaults and validation.
 * @module
 */

import { SPEC_CLIP_SCALE, SPEC_SIGMA_X, SPEC_TAU } from "../diffusion/sampler_defaults.ts";
import {
  checkSparseSampler,
  observedFraction,
  sparseApplies,
  type SparseSampler,
} from "../diffusion/sparse_sampler.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { PointPrior } from "../assim/baselines.ts";
import { SIGMA_OBS } from "../obs/observe.ts";

/**
 * Normalised test windows: what a cell reads (`storeExperimentData` makes one from a store).
 *
 * @example
 * ```ts
 * import type { ExperimentData } from "@soad/soad";
 * const data: ExperimentData = {
 *   count: 1, length: 9, height: 8, width: 8, normalisation: { offset: [0, 0], std: [1, 1] },
 *   window: () => new Float32Array(9 * 2 * 8 * 8),
 * };
 * console.log(data.window(0).length); // 1152
 * ```
 */
export interface ExperimentData {
  /** Number of test windows. */
  count: number;
  /** Snapshots per window T. */
  length: number;
  /** Grid rows. */
  height: number;
  /** Grid columns. */
  width: number;
  /** Per-layer normalisation x = (q − offset)/std (used to run the QG forecast in physical units). */
  normalisation: { offset: number[]; std: number[] };
  /** Test window `i` (0-based within the test split), normalised, `[T, 2, H, W]`. */
  window(i: number): Float32Array;
  /**
   * Per-layer mean and std of the training data in normalised units: when given, every cell also
   * scores the climatology and the observation-only pointwise Bayes baselines (`baselines.ts`).
   */
  climatology?: PointPrior;
}

/** Run configuration shared by every cell (part of the results file's identity). */
export interface ExperimentConfig {
  /** Window length L (default 9). */
  frames?: number;
  /** Sampler steps K (default 256). */
  steps?: number;
  /** Langevin corrections M (default 5). */
  corrections?: number;
  /**
   * Langevin step scale τ (default 0.25, the spec's). Kept in the resolved configuration (and so in
   * a results file's identity) only when it differs from 0.25, so earlier results files resume.
   */
  tau?: number;
  /**
   * Re-evaluate the score before every Langevin correction (`SamplerOptions.refresh`; costs M more
   * network evaluations a step). Default false: the spec's sampler, whose M corrections reuse one
   * evaluation. Kept in the resolved configuration only when true, so earlier results files resume.
   */
  refresh?: boolean;
  /**
   * SOAD's background also enters the likelihood (`AssimilateOptions.backgroundLikelihood`).
   * Default false: the spec's FDC-only background. Kept in the resolved configuration only when
   * true, so earlier results files resume.
   */
  backgroundLikelihood?: boolean;
  /**
   * σx of SOAD's closed-form likelihood coefficient (`AssimilateOptions.sigmaX`; default 1, the
   * spec's). Kept in the resolved configuration only when it differs from 1, so earlier results
   * files resume.
   */
  sigmaX?: number;
  /**
   * κ of SOAD's likelihood clip (`AssimilateOptions.clipScale`; default 1, the spec's). Kept in
   * the resolved configuration only when it differs from 1, so earlier results files resume.
   */
  clipScale?: number;
  /**
   * κ of the SDA baseline's likelihood clip (default 1, the spec's): SDA's cells use it, SOAD's
   * `clipScale`. Kept in the resolved configuration only when it differs from 1.
   */
  sdaClipScale?: number;
  /**
   * SOAD's cells whose observations cover less of the grid than `sparse.below` (the densest
   * operator's mask) run with its K, τ, σx and κ instead (`SamplerDefaults.sparse`, a prior's
   * metadata). Absent: one setting for every cell. Kept in the resolved configuration only when
   * given, so earlier results files resume.
   */
  sparse?: SparseSampler;
  /** The same for the SDA baseline's cells (its `clipScale` replaces `sdaClipScale`; no σx). */
  sdaSparse?: SparseSampler;
  /** Start time of the sampler's grid (default 1, the spec; `SamplerOptions.tMax`). */
  tMax?: number;
  /** Ensemble size S (default 1, as the paper). */
  samples?: number;
  /** Observation noise std σo (default 0.1). */
  sigmaObs?: number;
  /** QG steps of the unknown-background forecast (default 95). */
  forecastSteps?: number;
  /** Record the step-wise RMSE of the Tweedie estimate (default true). */
  stepwise?: boolean;
}

/**
 * Defaults of {@link ExperimentConfig}, resolved (`tau` only where it is not the spec's 0.25,
 * `sigmaX`, `clipScale` and `sdaClipScale` only where they are not 1, `refresh` and
 * `backgroundLikelihood` only where they are true, `sparse` and `sdaSparse` only where given).
 */
export type ResolvedExperimentConfig =
  & Required<Omit<ExperimentConfig, ExperimentOptionalKey>>
  & Pick<ExperimentConfig, ExperimentOptionalKey>;

/**
 * The options of {@link ExperimentConfig} a resolved configuration (a results file's identity)
 * holds only where they are set to other than the spec's value.
 */
export type ExperimentOptionalKey =
  | "tau"
  | "sigmaX"
  | "clipScale"
  | "sdaClipScale"
  | "refresh"
  | "backgroundLikelihood"
  | "sparse"
  | "sdaSparse";

/**
 * Fills in the defaults and validates.
 *
 * @example
 * ```ts
 * import { resolveExperimentConfig } from "@soad/soad/internal";
 * console.log(resolveExperimentConfig({ steps: 64 }).frames); // 9
 * ```
 */
export function resolveExperimentConfig(c: ExperimentConfig = {}): ResolvedExperimentConfig {
  const r: ResolvedExperimentConfig = {
    frames: c.frames ?? 9,
    steps: c.steps ?? 256,
    corrections: c.corrections ?? 5,
    tMax: c.tMax ?? 1,
    samples: c.samples ?? 1,
    sigmaObs: c.sigmaObs ?? SIGMA_OBS,
    forecastSteps: c.forecastSteps ?? 95,
    stepwise: c.stepwise ?? true,
    ...(c.tau === undefined || c.tau === SPEC_TAU ? {} : { tau: c.tau }),
    ...(c.sigmaX === undefined || c.sigmaX === SPEC_SIGMA_X ? {} : { sigmaX: c.sigmaX }),
    ...(c.clipScale === undefined || c.clipScale === SPEC_CLIP_SCALE
      ? {}
      : { clipScale: c.clipScale }),
    ...(c.sdaClipScale === undefined || c.sdaClipScale === SPEC_CLIP_SCALE
      ? {}
      : { sdaClipScale: c.sdaClipScale }),
    ...(c.refresh ? { refresh: true } : {}),
    ...(c.sparse ? { sparse: checkSparseSampler(c.sparse, "sparse") } : {}),
    ...(c.sdaSparse ? { sdaSparse: checkSparseSampler(c.sdaSparse, "sdaSparse") } : {}),
    ...(c.backgroundLikelihood ? { backgroundLikelihood: true } : {}),
  };
  for (const k of ["frames", "steps", "samples", "forecastSteps"] as const) {
    if (!(Number.isInteger(r[k]) && r[k] >= 1)) {
      throw new InvalidArgumentError(`${k} must be a positive integer, got ${r[k]}`);
    }
  }
  if (!(Number.isInteger(r.corrections) && r.corrections >= 0)) {
    throw new InvalidArgumentError(`corrections must be an integer ≥ 0, got ${r.corrections}`);
  }
  for (const k of ["refresh", "backgroundLikelihood"] as const) {
    if (c[k] !== undefined && typeof c[k] !== "boolean") {
      throw new InvalidArgumentError(`${k} must be a boolean, got ${c[k]}`);
    }
  }
  if (r.tau !== undefined && !(r.tau > 0 && Number.isFinite(r.tau))) {
    throw new InvalidArgumentError(`tau must be finite and > 0, got ${r.tau}`);
  }
  for (const k of ["sigmaX", "clipScale", "sdaClipScale"] as const) {
    const v = r[k];
    if (v !== undefined && !(v > 0 && Number.isFinite(v))) {
      throw new InvalidArgumentError(`${k} must be finite and > 0, got ${v}`);
    }
  }
  if (r.sdaSparse?.sigmaX !== undefined) {
    throw new InvalidArgumentError(
      "sdaSparse.sigmaX: σx is SOAD's likelihood coefficient; the SDA baseline has none",
    );
  }
  if (!(r.tMax > 0 && r.tMax <= 1)) {
    throw new InvalidArgumentError(`tMax must be in (0, 1], got ${r.tMax}`);
  }
  if (!(r.sigmaObs > 0 && Number.isFinite(r.sigmaObs))) {
    throw new InvalidArgumentError(`sigmaObs must be finite and > 0, got ${r.sigmaObs}`);
  }
  return r;
}

/**
 * The configuration one cell runs with: `c`, with the method's sparse settings (`sparse` for SOAD,
 * `sdaSparse` for SDA) in place of its K, τ, σx and κ where the cell's observations cover less of
 * the grid than their threshold (the densest mask, `observedFraction`; a SOAD cell with a
 * background, setting I, is never sparse).
 *
 * @example
 * ```ts
 * import { cellSampler, resolveExperimentConfig } from "@soad/soad/internal";
 * import { strideMask } from "@soad/soad";
 * const c = resolveExperimentConfig({ steps: 128, sparse: { below: 0.1, steps: 64 } });
 * console.log(cellSampler(c, "soad", [strideMask(64, 64, 4)]).steps); // 64
 * ```
 */
export function cellSampler(
  c: ResolvedExperimentConfig,
  method: "soad" | "sda",
  masks: readonly { height: number; width: number; indices: ArrayLike<number> }[],
  background = false,
): ResolvedExperimentConfig & { sparseSampler?: true } {
  const sparse = method === "soad" ? c.sparse : c.sdaSparse;
  const fraction = observedFraction(masks, method === "soad" && background);
  if (!sparse || !sparseApplies({ sparse }, fraction)) return c;
  const out: ResolvedExperimentConfig & { sparseSampler?: true } = { ...c, sparseSampler: true };
  if (sparse.steps !== undefined) out.steps = sparse.steps;
  if (sparse.tau !== undefined) out.tau = sparse.tau;
  if (method === "soad") {
    if (sparse.sigmaX !== undefined) out.sigmaX = sparse.sigmaX;
    if (sparse.clipScale !== undefined) out.clipScale = sparse.clipScale;
  } else if (sparse.clipScale !== undefined) {
    out.sdaClipScale = sparse.clipScale;
  }
  return out;
}
