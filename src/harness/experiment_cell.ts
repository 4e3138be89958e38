/**
 * One cell of the evaluation grid (spec §6.1): the seeded draws (chunk offset, masks, observation
 * noise, background) and the assimilation, with per-frame RMSE, ensemble calibration and the
 * step-wise RMSE of the Tweedie estimate (figure 6). A cell's result is a pure function of the
 * cell, the data, the model and the run configuration (wall time aside).
 * @module
 */

import type { Denoiser, WindowShape } from "../diffusion/denoiser.ts";
import { alpha, sigma } from "../diffusion/schedule.ts";
import { InvalidArgumentError } from "../errors.ts";
import { knownBackground, Q_STD, SIGMA_BACKGROUND, unknownBackground } from "../obs/background.ts";
import { augmentedLayout, type ModelName } from "../obs/layout.ts";
import { type Observation, observeStack } from "../obs/observe.ts";
import {
  cellSampler,
  type ExperimentConfig,
  type ExperimentData,
  resolveExperimentConfig,
} from "./experiment_config.ts";
import type { ObservationOperator } from "../obs/operator.ts";
import { arctan3x, sin3x } from "../obs/pointwise.ts";
import { vor2vel } from "../obs/vor2vel.ts";
import { Rng } from "../rng.ts";
import { assimilate } from "../assim/assimilate.ts";
import {
  climatologyEstimate,
  type PointPrior,
  pointwisePosteriorMean,
} from "../assim/baselines.ts";
import {
  cellKey,
  type ExperimentCell,
  modelOf,
  parseMask,
  parseVariant,
} from "./experiment_grid.ts";
import {
  anomalyStats,
  crps,
  rmsePerFrame,
  spreadSkillRatio,
  stateChannels,
} from "../assim/metrics.ts";

const OPERATORS: Record<string, ObservationOperator> = { arctan3x, sin3x, vor2vel };

/** The seeded inputs of a cell. */
export interface CellInputs {
  /** First snapshot of the chunk in the window (for unknown-bg: the previous day). */
  start: number;
  /** Truth `[L, 2, H, W]`. */
  truth: Float32Array;
  /** Observations. */
  observations: Observation[];
  /** Background of frame 0 (setting I), `[2, H, W]`. */
  background?: Float32Array;
  /** The seed of every draw of the cell. */
  seed: number;
}

/**
 * The seed of a cell's draws: the cell's seed for window 0 (as the paper's `seedno`), mixed with
 * the window index otherwise. Method and setting do not enter, so SOAD and SDA (and settings I
 * and II) of one seed see the same chunk, masks and noise.
 *
 * @example
 * ```ts
 * import { cellSeed } from "@soad/soad/internal";
 * console.log(cellSeed(3, 0)); // 3
 * ```
 */
export function cellSeed(seed: number, window: number): number {
  return (seed ^ Math.imul(window, 0x9e3779b1)) >>> 0;
}

/**
 * Draws a cell's inputs in a fixed order from one seeded stream: chunk offset, masks (random
 * masks per operator in order; a stride mask shared), observation noise per operator, then the
 * background (known: truth + σb ξ; unknown: the 1-day QG forecast of the previous day).
 *
 * @example
 * ```ts
 * import { prepareCell } from "@soad/soad/internal";
 * const data = { count: 1, length: 10, height: 16, width: 16, normalisation: { offset: [0, 0], std: [1, 1] },
 *   window: () => new Float32Array(10 * 2 * 256) };
 * const cell = { setting: "I" as const, ops: ["sin3x" as const], mask: "s4", interval: 4, seed: 0, method: "soad" as const, window: 0, variant: "base" };
 * console.log(prepareCell(cell, data, { steps: 4 }).observations[0].frames); // [0, 4, 8]
 * ```
 */
export function prepareCell(
  cell: ExperimentCell,
  data: ExperimentData,
  config: ExperimentConfig = {},
): CellInputs {
  const c = resolveExperimentConfig(config);
  const v = parseVariant(cell.variant);
  const mask = parseMask(cell.mask);
  const L = c.frames, H = data.height, W = data.width, R = H * W;
  if (!(Number.isInteger(cell.window) && cell.window >= 0 && cell.window < data.count)) {
    throw new InvalidArgumentError(
      `test window ${cell.window} is out of range; the store has ${data.count} test windows`,
    );
  }
  const need = L + (v.unknownBackground ? 1 : 0);
  if (data.length < need) {
    throw new InvalidArgumentError(
      `windows hold ${data.length} snapshots; a cell needs ${need} (L = ${L}` +
        `${v.unknownBackground ? " + the previous day" : ""})`,
    );
  }
  const seed = cellSeed(cell.seed, cell.window);
  const rng = new Rng(seed);
  const raw = data.window(cell.window);
  const start = rng.int(data.length - need + 1);
  const first = start + (v.unknownBackground ? 1 : 0);
  const truth = raw.slice(first * 2 * R, (first + L) * 2 * R);
  const operators = cell.ops.map((o) => {
    const op = OPERATORS[o];
    if (!op) throw new InvalidArgumentError(`unknown operator "${o}"`);
    return op;
  });
  const observations = observeStack(truth, L, H, W, {
    operators,
    ratio: mask.ratio,
    stride: mask.stride,
    interval: cell.interval,
    sigma: c.sigmaObs,
    noise: v.noise,
    rng,
  });
  let background: Float32Array | undefined;
  if (cell.setting === "I" && cell.method === "soad" && !v.noFdc) {
    if (v.unknownBackground) {
      const { offset, std } = data.normalisation;
      const prev = new Float32Array(2 * R);
      for (let k = 0; k < 2; k++) {
        for (let i = 0; i < R; i++) {
          prev[k * R + i] = (raw[(start * 2 + k) * R + i] * std[k] + offset[k]) / Q_STD[k];
        }
      }
      const xb = unknownBackground(prev, H, W, { rng, steps: c.forecastSteps });
      for (let k = 0; k < 2; k++) {
        for (let i = 0; i < R; i++) xb[k * R + i] = (xb[k * R + i] * Q_STD[k] - offset[k]) / std[k];
      }
      background = xb;
    } else {
      background = knownBackground(truth, L, H, W, rng);
    }
  }
  return { start, truth, observations, background, seed };
}

/** The result of one cell, as stored in the results file. */
export interface CellResult extends ExperimentCell {
  /** {@link cellKey}. */
  key: string;
  /** The model used (`sda`, `soad-<op>`, `soad-full`). */
  model: string;
  /** First snapshot of the chunk. */
  start: number;
  /** Mean over frames of the per-frame RMSE of the ensemble mean (the paper's "averaged RMSE"). */
  rmse: number;
  /** Per-frame RMSE of the ensemble mean. */
  rmseFrames: number[];
  /** Mean over members of each member's frame-averaged RMSE (S > 1). */
  rmseMembers?: number;
  /** Spread–skill ratio (S > 1). */
  spreadSkill?: number;
  /** CRPS over every state entry (S > 1). */
  crps?: number;
  /** Samples that ran to the end. */
  completed: number;
  /**
   * Present (true) where the method's sparse settings (`ExperimentConfig.sparse` / `sdaSparse`)
   * ran the cell: its observations cover less of the grid than their threshold.
   */
  sparseSampler?: true;
  /** Messages of stopped samples. */
  stopped?: string[];
  /** RMSE of the ensemble-mean Tweedie estimate after each step (frame-averaged). */
  stepRmse?: number[];
  /** Frame-averaged RMSE of climatology (the training mean), when the data has its moments. */
  climatology?: number;
  /**
   * Frame-averaged RMSE of the observation-only pointwise Bayes estimate from the cell's
   * observations (and background, where the method gets one); element-wise operators only.
   */
  pointwise?: number;
  /**
   * RMS of the estimate's anomaly from climatology over the truth's (`anomalyStats`; the estimate
   * is the ensemble mean, the sample itself for S = 1), when the data has its moments: below 1, a
   * damped estimate; about 1, the truth's amplitude.
   */
  amplitude?: number;
  /** Pattern correlation of the estimate's and the truth's anomalies from climatology. */
  correlation?: number;
  /** Wall-clock seconds. */
  seconds: number;
}

/**
 * Rounds to 6 significant digits for a compact, stable results file (non-finite values pass).
 *
 * @example
 * ```ts
 * import { round6 } from "./experiment_cell.ts";
 * console.log(round6(0.123456789)); // 0.123457
 * ```
 */
export function round6(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(6)) : v;
}

/** A denoiser that records the ensemble-mean Tweedie estimate x̂ = (z − σ ε̂)/α of its last call. */
function tracking(inner: Denoiser, L: number): { denoiser: Denoiser; last: () => Float32Array } {
  let last = new Float32Array(0);
  const denoiser: Denoiser = {
    denoise: async (z, shape, t): Promise<Float32Array> => {
      const eps = await inner.denoise(z, shape, t);
      const [S, , C, H, W] = shape, R = H * W, a = alpha(t[0]), s = sigma(t[0]);
      const x = new Float32Array(L * 2 * R);
      for (let b = 0; b < S; b++) {
        for (let f = 0; f < L; f++) {
          const o = ((b * L + f) * C) * R;
          for (let j = 0; j < 2 * R; j++) x[f * 2 * R + j] += (z[o + j] - s * eps[o + j]) / a / S;
        }
      }
      last = x;
      return eps;
    },
    denoiseVjp: (z, shape, t, w) => inner.denoiseVjp(z, shape, t, w),
  };
  return { denoiser, last: () => last };
}

/** The mean over frames of per-frame values (the paper's "averaged RMSE"). */
function frameMean(f: readonly number[]): number {
  return f.reduce((s, x) => s + x, 0) / f.length;
}

/** Frame-averaged RMSE of the baselines without a learned prior, from the cell's own inputs. */
function cellBaselines(
  inputs: CellInputs,
  data: ExperimentData,
  L: number,
  prior: PointPrior,
): { climatology: number; pointwise?: number } {
  const H = data.height, W = data.width;
  const score = (e: Float32Array) => round6(frameMean(rmsePerFrame(e, inputs.truth, L)));
  const bg = inputs.background ? { values: inputs.background, sigma: SIGMA_BACKGROUND } : undefined;
  const pw = pointwisePosteriorMean(inputs.observations, L, H, W, prior, bg);
  return {
    climatology: score(climatologyEstimate(L, H, W, prior)),
    ...(pw ? { pointwise: score(pw) } : {}),
  };
}

/** A model of the grid: the denoiser and, when known, its channel count. */
export interface ExperimentModel {
  /** The prior's noise predictor. */
  denoiser: Denoiser;
  /** Channels C it models (checked against the cell's layout when given). */
  channels?: number;
}

/**
 * Runs one cell: {@link prepareCell}, then `assimilate` with the cell's method and model.
 * `now` is the clock in milliseconds (inject a constant one for byte-stable results); `onStep`
 * is called after every sampler step (0-based step, K).
 *
 * @example
 * ```ts
 * import { runCell } from "@soad/soad/internal";
 * import { augmentedIdentityDenoiser } from "@soad/soad/internal";
 * const data = { count: 1, length: 9, height: 8, width: 8, normalisation: { offset: [0, 0], std: [1, 1] },
 *   window: () => new Float32Array(9 * 2 * 64).map((_, i) => Math.sin(i)) };
 * const cell = { setting: "II" as const, ops: ["arctan3x" as const], mask: "p0.25", interval: 2, seed: 1, method: "soad" as const, window: 0, variant: "base" };
 * const r = await runCell(cell, data, { denoiser: augmentedIdentityDenoiser() }, { steps: 4 });
 * console.log(r.rmseFrames.length); // 9
 * ```
 */
export async function runCell(
  cell: ExperimentCell,
  data: ExperimentData,
  model: ExperimentModel,
  config: ExperimentConfig = {},
  now: () => number = () => performance.now(),
  onStep?: (step: number, steps: number) => void,
): Promise<CellResult> {
  const resolved = resolveExperimentConfig(config);
  const t0 = now();
  const inputs = prepareCell(cell, data, resolved);
  const c = cellSampler(
    resolved,
    cell.method,
    inputs.observations.map((o) => o.mask),
    inputs.background !== undefined,
  );
  const name = modelOf(cell);
  const layout = augmentedLayout(
    (cell.method === "sda" ? "sda" : name.slice("soad-".length)) as ModelName,
  );
  if (model.channels !== undefined && model.channels !== layout.channels) {
    throw new InvalidArgumentError(
      `model ${name} has ${model.channels} channels; ${layout.name} needs ${layout.channels}`,
    );
  }
  const v = parseVariant(cell.variant);
  const L = c.frames;
  const track = c.stepwise ? tracking(model.denoiser, L) : undefined;
  const stepRmse: number[] = [];
  const r = await assimilate({
    denoiser: track?.denoiser ?? model.denoiser,
    observations: inputs.observations,
    background: inputs.background,
    method: cell.method,
    layout,
    frames: L,
    steps: c.steps,
    corrections: c.corrections,
    tau: c.tau,
    sigmaX: cell.method === "soad" ? c.sigmaX : undefined,
    clipScale: cell.method === "soad" ? c.clipScale : c.sdaClipScale,
    refresh: c.refresh,
    tMax: c.tMax,
    samples: c.samples,
    seed: inputs.seed,
    fdc: cell.method === "soad" ? !v.noFdc : undefined,
    jacobianFree: v.jacobianFree || undefined,
    backgroundLikelihood: cell.method === "soad" && inputs.background !== undefined
      ? c.backgroundLikelihood ?? false
      : undefined,
    truth: inputs.truth,
    onStep: (info) => {
      if (track) {
        const f = rmsePerFrame(track.last(), inputs.truth, L);
        stepRmse.push(round6(frameMean(f)));
      }
      onStep?.(info.step, c.steps);
    },
  });
  const frames = r.rmseMean!.map(round6);
  const out: CellResult = {
    key: cellKey(cell),
    ...cell,
    ops: [...cell.ops],
    model: name,
    start: inputs.start,
    rmse: round6(frameMean(r.rmseMean!)),
    rmseFrames: frames,
    completed: r.reports.filter((x) => x.completed).length,
    ...(c.sparseSampler ? { sparseSampler: true as const } : {}),
    seconds: 0,
  };
  const S = c.samples;
  if (S > 1) {
    const members = r.rmseSamples!.map(frameMean);
    out.rmseMembers = round6(members.reduce((s, x) => s + x, 0) / S);
    const state = stateChannels(r.samples, r.shape as WindowShape);
    if (out.completed >= 2) {
      out.spreadSkill = round6(spreadSkillRatio(state, inputs.truth, S));
    }
    if (out.completed === S) out.crps = round6(crps(state, inputs.truth, S));
  }
  const stopped = r.reports.filter((x) => !x.completed).map((x) => x.message ?? "stopped");
  if (stopped.length) out.stopped = stopped;
  if (track) out.stepRmse = stepRmse;
  if (data.climatology) {
    Object.assign(out, cellBaselines(inputs, data, L, data.climatology));
    const a = anomalyStats(r.mean, inputs.truth, data.climatology.mean, data.height * data.width);
    out.amplitude = round6(a.amplitude);
    out.correlation = round6(a.correlation);
  }
  out.seconds = round6((now() - t0) / 1000);
  return out;
}
