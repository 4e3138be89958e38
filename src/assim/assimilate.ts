/**
 * The assimilation API: SOAD or the SDA baseline on a window, with an ensemble of S samples drawn
 * in one batched run (spec §5), validated inputs, and per-frame RMSE when the truth is given.
 * @module
 */

import type { Denoiser, WindowShape } from "../diffusion/denoiser.ts";
import { InvalidArgumentError } from "../errors.ts";
import {
  type AugmentedLayout,
  augmentedLayout,
  customLayout,
  type ModelName,
} from "../obs/layout.ts";
import type { Observation } from "../obs/observe.ts";
import { SIGMA_BACKGROUND } from "../obs/background.ts";
import { backgroundObservation } from "./fdc.ts";
import { ensembleStats, rmsePerFrame, stateChannels } from "./metrics.ts";
import { checkObservation, planObservations, type SampleGeometry } from "./plan.ts";
import { runSampler, type SampleReport, type StepInfo } from "./sampler.ts";
import { sdaNoise } from "./sda.ts";
import { checkPriorFit } from "./prior_fit.ts";
import type { TrainedFor } from "../diffusion/prior_info.ts";
import type { SamplerDefaults } from "../diffusion/sampler_defaults.ts";
import {
  observedFraction,
  samplerForDensity,
  SPARSE_SAMPLER_KEYS,
  sparseApplies,
} from "../diffusion/sparse_sampler.ts";
import { layoutForOperators } from "../obs/registry.ts";
import { Progress, type ProgressStream } from "../io/progress.ts";
import { soadNoise } from "./soad.ts";

/**
 * A prior as {@link assimilate} takes it: its network and what it was trained for (a `Prior`
 * from `loadPrior` is one).
 */
export interface AssimilationPrior {
  /** The noise predictor. */
  denoiser: Denoiser;
  /** What it was trained for (method, operators, grid, frames). */
  trainedFor: TrainedFor;
  /** Its sampler defaults (t-max, K, τ, σx, κ; other ones for sparse observations). */
  sampler: SamplerDefaults;
}

/** Options of {@link assimilate}. */
export interface AssimilateOptions {
  /**
   * The prior (from `loadPrior`): its denoiser, and the defaults of `method`, `layout`, `frames`,
   * `steps` and `tMax`. A prior whose method, operators or grid do not fit the observations is
   * refused unless `allowPriorMismatch`. Give `prior` or `denoiser`.
   */
  prior?: AssimilationPrior;
  /** The prior's noise predictor (U-Net or analytic) when no `prior` is given. */
  denoiser?: Denoiser;
  /** Run a `prior` whose method, operators or grid differ from the observations' (default false). */
  allowPriorMismatch?: boolean;
  /** Observations, one per operator. */
  observations: Observation[];
  /**
   * Background of frame 0, `[2, H, W]` normalised (used by SOAD only: its FDC, and its likelihood
   * where `backgroundLikelihood`).
   */
  background?: Float32Array;
  /** `"soad"` or `"sda"` (default: the prior's method; required with a bare `denoiser`). */
  method?: "soad" | "sda";
  /**
   * Channel layout of the denoiser's state (default: the prior's operators; without a prior,
   * SOAD → the model of the operators, SDA → C = 2).
   */
  layout?: AugmentedLayout;
  /** Window length L (default: the prior's frames, else 9). */
  frames?: number;
  /** Steps K (default: the prior's, else 256). */
  steps?: number;
  /** Langevin corrections M (default 5). */
  corrections?: number;
  /** Langevin step scale τ (default: the prior's, else 0.25, the spec's). */
  tau?: number;
  /** Ensemble size S (default 1). */
  samples?: number;
  /** Seed (default 0). */
  seed?: number;
  /** σb (default 0.1). */
  sigmaB?: number;
  /**
   * σx of the SOAD coefficient c(t) = (r²/2)/(σo² + σx² r²/(σx² + r²)) (default: the prior's
   * metadata, else 1, the spec's). Smaller σx trusts the denoised estimate more at mid noise.
   */
  sigmaX?: number;
  /** γ of the SDA baseline (default 0.1). */
  gamma?: number;
  /** Clip the likelihood coefficient (default true). */
  clip?: boolean;
  /**
   * κ of the likelihood clip c ← min(c, κ/max|∇ℒ|), SOAD and SDA alike (default: the prior's
   * metadata, else 1, the spec's). Larger κ lets the likelihood pull harder while the clip binds.
   */
  clipScale?: number;
  /** SOAD only: treat ∂ε̂/∂z as zero, no VJP (default false; see `SoadOptions.jacobianFree`). */
  jacobianFree?: boolean;
  /** Forward-diffusion corrector (default: on for SOAD, off for SDA). */
  fdc?: boolean;
  /** Refreshed Langevin corrector (default false, the code's stale corrector). */
  refresh?: boolean;
  /**
   * SOAD only: the background also enters the likelihood ℒ, as an observation of frame 0's q
   * channels with error σb, besides the FDC (default: the prior's metadata, else false: the FDC
   * only, the spec's code). The FDC alone stops at r = σb, after which the stale Langevin moves
   * over-disperse the background's frame (`assim_fdc_test`).
   */
  backgroundLikelihood?: boolean;
  /** Calibration option: bound on the Langevin step δ (default none). */
  maxLangevinStep?: number;
  /** Start time of the sampler's grid (default: the prior's, else 1, the spec; see `SamplerOptions.tMax`). */
  tMax?: number;
  /** The true state `[L, 2, H, W]`, for per-frame RMSE. */
  truth?: Float32Array;
  /** Progress callback. */
  onStep?: (info: StepInfo) => void;
  /**
   * A progress bar on stderr (or the stream given): default on when stderr is a terminal and no
   * `onStep` is given; `false` silences it.
   */
  progress?: boolean | ProgressStream;
}

/** Result of {@link assimilate}. */
export interface AssimilateResult {
  /** Samples `[S, L, C, H, W]` (all channels of the model's state). */
  samples: Float32Array;
  /** `[S, L, C, H, W]`. */
  shape: WindowShape;
  /** The layout used. */
  layout: AugmentedLayout;
  /** Ensemble mean of the state channels, `[L, 2, H, W]` (finite samples only). */
  mean: Float32Array;
  /** Ensemble spread (std) of the state channels, `[L, 2, H, W]`. */
  spread: Float32Array;
  /** One report per sample (NaN guard). */
  reports: SampleReport[];
  /** Per-frame RMSE of the ensemble mean (with `truth`). */
  rmseMean?: number[];
  /** Per-frame RMSE of every sample, `[S][L]` (with `truth`). */
  rmseSamples?: number[][];
  /** Π evaluations and wall time. */
  evaluations: number;
  /** Whether SOAD's likelihood held the background (see `AssimilateOptions.backgroundLikelihood`). */
  backgroundLikelihood: boolean;
  /**
   * Whether the prior's sparse-observation settings (`SamplerDefaults.sparse`) supplied a default
   * of this run: the observations cover less of the grid than their threshold, and an option did
   * not set every value they replace.
   */
  sparseSampler: boolean;
  /** Seconds. */
  seconds: number;
}

function stderrIsTerminal(): boolean {
  try {
    return Deno.stderr.isTerminal();
  } catch {
    return false;
  }
}

/**
 * The channel layout {@link assimilate} uses when none is given: SDA → the state (C = 2); SOAD →
 * the model of the one built-in operator, `full` for several, a custom layout otherwise.
 *
 * @example
 * ```ts
 * import { defaultLayout } from "@soad/soad/internal";
 * import { sin3x } from "@soad/soad";
 * import { strideMask } from "@soad/soad";
 * const o = { operator: sin3x, mask: strideMask(4, 4, 2), frames: [0], values: new Float32Array(8), sigma: 0.1 };
 * console.log(defaultLayout("soad", [o]).channels); // 4
 * ```
 */
export function defaultLayout(
  method: "soad" | "sda",
  observations: Pick<Observation, "operator">[],
): AugmentedLayout {
  if (method === "sda") return augmentedLayout("sda");
  const names = observations.map((o) => o.operator.name);
  const builtin = ["arctan3x", "sin3x", "vor2vel"];
  if (names.length === 1 && builtin.includes(names[0])) {
    return augmentedLayout(names[0] as ModelName);
  }
  if (names.every((n) => builtin.includes(n))) return augmentedLayout("full");
  return customLayout(observations.map((o) => o.operator));
}

/**
 * Assimilates observations into a window with SOAD or the SDA baseline (spec §5), drawing
 * `samples` posterior samples in one batched run; deterministic for a seed on one backend.
 *
 * @example
 * ```ts
 * import { assimilate } from "@soad/soad";
 * import { augmentedIdentityDenoiser } from "@soad/soad/internal";
 * import { strideMask } from "@soad/soad";
 * import { elementwiseOperator } from "@soad/soad";
 * const id = elementwiseOperator({ name: "id", f: (v) => v, df: () => 1 });
 * const obs = [{ operator: id, mask: strideMask(4, 4, 2), frames: [0], values: new Float32Array(8), sigma: 0.1 }];
 * const r = await assimilate({ denoiser: augmentedIdentityDenoiser(), observations: obs, method: "soad", frames: 1, steps: 16, samples: 2, seed: 0 });
 * console.log(r.shape, r.reports.every((x) => x.completed)); // [2, 1, 4, 4, 4] true
 * ```
 */
export async function assimilate(options: AssimilateOptions): Promise<AssimilateResult> {
  const { observations, prior } = options;
  if (
    prior !== undefined && options.denoiser !== undefined && options.denoiser !== prior.denoiser
  ) {
    throw new InvalidArgumentError(
      "give prior or denoiser, not both (the prior holds its denoiser)",
    );
  }
  const denoiser = options.denoiser ?? prior?.denoiser;
  const method = options.method ?? prior?.trainedFor.method;
  if (method !== "soad" && method !== "sda") {
    throw new InvalidArgumentError(`method must be "soad" or "sda", got ${JSON.stringify(method)}`);
  }
  if (options.sigmaB !== undefined && !(options.sigmaB > 0 && Number.isFinite(options.sigmaB))) {
    throw new InvalidArgumentError(
      `sigmaB (the background's error σb) must be finite and > 0, got ${options.sigmaB}; ` +
        `a background without error is an observation of every point: use a small σb`,
    );
  }
  if (!denoiser || typeof denoiser.denoise !== "function" || !denoiser.denoiseVjp) {
    throw new InvalidArgumentError(
      "give a prior (loadPrior) or a denoiser that implements denoise and denoiseVjp",
    );
  }
  if (options.jacobianFree && method !== "soad") {
    throw new InvalidArgumentError("jacobianFree is an option of the SOAD likelihood only");
  }
  if (!Array.isArray(observations) || observations.length === 0) {
    throw new InvalidArgumentError("observations must be a non-empty list");
  }
  const S = options.samples ?? 1;
  if (!(Number.isInteger(S) && S >= 1)) {
    throw new InvalidArgumentError(`samples must be a positive integer, got ${S}`);
  }
  const L = options.frames ?? prior?.trainedFor.frames ?? 9;
  const H = observations[0].mask?.height, W = observations[0].mask?.width;
  if (prior && !options.allowPriorMismatch) {
    checkPriorFit(prior.trainedFor, {
      method,
      operators: observations.map((o) => o.operator),
      height: H,
      width: W,
    });
  }
  // the prior's defaults for this density of observations (its sparse settings, if any and below;
  // SOAD's background observes all of frame 0, so with it nothing is sparse); a missing mask is
  // left to the checks below, which name it
  const fraction = prior?.sampler.sparse && observations.every((o) => o.mask?.indices)
    ? observedFraction(
      observations.map((o) => o.mask),
      method === "soad" && options.background !== undefined,
    )
    : 1;
  const ps = prior?.sampler.sparse;
  // true where at least one of them is not overridden by an explicit option
  const sparse = ps !== undefined && sparseApplies(prior!.sampler, fraction) &&
    SPARSE_SAMPLER_KEYS.some((k) => ps[k] !== undefined && options[k] === undefined);
  const sampler = prior ? samplerForDensity(prior.sampler, fraction) : undefined;
  const layout = options.layout ??
    (prior && method === "soad" &&
        observations.every((o) =>
          prior.trainedFor.operators.some((e) => e.name === o.operator.name)
        )
      ? layoutForOperators(
        prior.trainedFor.operators.map((o) => o.name),
        observations.map((o) => o.operator),
        prior.trainedFor.model,
      )
      : defaultLayout(method, observations));
  const geo: SampleGeometry = { frames: L, channels: layout.channels, height: H, width: W };
  const R = H * W;
  if (options.truth && options.truth.length !== L * 2 * R) {
    throw new InvalidArgumentError(
      `truth has ${options.truth.length} values, expected [L, 2, H, W] = ${L * 2 * R}`,
    );
  }
  const bg = options.background;
  if (bg) {
    if (bg.length !== 2 * R) {
      throw new InvalidArgumentError(
        `background has ${bg.length} values, expected [2, H, W] = ${2 * R}`,
      );
    }
    if (!bg.every(Number.isFinite)) {
      throw new InvalidArgumentError("background has non-finite values");
    }
  }
  let noise, fdcConfig, backgroundInLikelihood = false;
  if (method === "soad") {
    const planned = planObservations(observations, layout, geo);
    const background = bg ? { values: bg, sigma: options.sigmaB ?? SIGMA_BACKGROUND } : undefined;
    if (options.backgroundLikelihood && !background) {
      throw new InvalidArgumentError(
        "backgroundLikelihood: true needs a background; give one or drop the option",
      );
    }
    backgroundInLikelihood = background !== undefined &&
      (options.backgroundLikelihood ?? sampler?.backgroundLikelihood ?? false);
    const looks = backgroundInLikelihood
      ? [...planned, backgroundObservation(background!)]
      : planned;
    noise = soadNoise(denoiser, looks, {
      sigmaX: options.sigmaX ?? sampler?.sigmaX,
      clip: options.clip,
      clipScale: options.clipScale ?? sampler?.clipScale,
      jacobianFree: options.jacobianFree,
    });
    if (options.fdc ?? true) {
      fdcConfig = {
        observations: planned,
        background,
      };
    }
  } else {
    observations.forEach((o, k) => checkObservation(o, k, geo));
    noise = sdaNoise(denoiser, observations, {
      gamma: options.gamma,
      clip: options.clip,
      clipScale: options.clipScale ?? sampler?.clipScale,
    });
    if (options.fdc) {
      throw new InvalidArgumentError("the SDA baseline has no FDC (spec §5.2); drop fdc: true");
    }
    if (options.backgroundLikelihood) {
      throw new InvalidArgumentError(
        "the SDA baseline does not use the background (spec §5.2); drop backgroundLikelihood: true",
      );
    }
    if (options.sigmaX !== undefined) {
      throw new InvalidArgumentError(
        "sigmaX is SOAD's likelihood coefficient; the SDA baseline's is gamma (spec §5.1): drop " +
          "sigmaX",
      );
    }
  }
  const shape: WindowShape = [S, L, layout.channels, H, W];
  const steps = options.steps ?? sampler?.steps;
  const showProgress = options.progress ?? (options.onStep === undefined && stderrIsTerminal());
  const bar = showProgress
    ? new Progress({
      total: steps ?? 256,
      label: `${method.toUpperCase()} sampler`,
      ...(typeof showProgress === "object" ? { stream: showProgress } : {}),
    })
    : undefined;
  const onStep = bar
    ? (info: StepInfo) => {
      bar.tick(1, `t=${info.t.toFixed(3)}`);
      options.onStep?.(info);
    }
    : options.onStep;
  const t0 = performance.now();
  const res = await runSampler(noise, shape, {
    steps,
    corrections: options.corrections,
    tau: options.tau ?? sampler?.tau,
    fdc: fdcConfig,
    refresh: options.refresh,
    maxLangevinStep: options.maxLangevinStep,
    tMax: options.tMax ?? sampler?.tMax,
    seed: options.seed,
    onStep,
  }).finally(() => bar?.done());
  const seconds = (performance.now() - t0) / 1000;
  const state = stateChannels(res.samples, shape);
  const stats = ensembleStats(state, S);
  const out: AssimilateResult = {
    samples: res.samples,
    shape,
    layout,
    mean: stats.mean,
    spread: stats.spread,
    reports: res.reports,
    evaluations: res.evaluations,
    seconds,
    backgroundLikelihood: backgroundInLikelihood,
    sparseSampler: sparse,
  };
  if (options.truth) {
    out.rmseMean = rmsePerFrame(stats.mean, options.truth, L);
    out.rmseSamples = Array.from(
      { length: S },
      (_, s) => rmsePerFrame(state.subarray(s * L * 2 * R, (s + 1) * L * 2 * R), options.truth!, L),
    );
  }
  return out;
}
