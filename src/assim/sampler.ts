/**
 * The SOAD / SDA sampler exactly as spec §5.2, batched over S independent samples: time grid
 * t_i = 1 − i/K, exponential-integrator predictor with the cached Π, optional FDC, and the stale
 * Langevin corrector (M moves re-using one Π and one δ = τ/mean(e²) per sample), or the refreshed
 * corrector as an option. Non-finite samples are stopped and reported; the others go on.
 * @module
 */

import type { WindowShape } from "../diffusion/denoiser.ts";
import { alpha, sigma, timeGrid } from "../diffusion/schedule.ts";
import { SPEC_TAU } from "../diffusion/sampler_defaults.ts";
import { InvalidArgumentError } from "../errors.ts";
import { applyFdc, type FdcConfig } from "./fdc.ts";
import { NormalSource } from "./normal.ts";
import type { PosteriorNoise } from "./score.ts";

/** Options of {@link runSampler}. */
export interface SamplerOptions {
  /** Steps K (default 256). */
  steps?: number;
  /** Langevin corrections M per step (default 5; 0 = predictor only). */
  corrections?: number;
  /** Langevin step scale τ (default 0.25). */
  tau?: number;
  /** Forward-diffusion corrector (SOAD); omit for none (SDA). */
  fdc?: FdcConfig;
  /**
   * Re-evaluate Π before every Langevin move and once more after the last move for the next
   * predictor (the original SDA corrector; M + 1 evaluations per step). Default false (the code's
   * stale corrector: one evaluation per step).
   */
  refresh?: boolean;
  /** Calibration option: bound δ ≤ maxLangevinStep (default none, as the code). */
  maxLangevinStep?: number;
  /**
   * Start time of the grid t_i = tMax·(1 − i/K) (default 1, the spec), starting from
   * z ~ N(0, σ(tMax)² I). A start below 1 skips the noisiest times, where x̂0 = (z − σε̂)/μ
   * magnifies the network's ε error up to 1/μ(1) = 1000×: small, briefly trained priors are not
   * accurate enough there, and their samples diverge from the first steps (docs/results.md).
   * The signal left at tMax = 0.85 is μ = 0.067 of a unit-variance state against σ ≈ 1 noise.
   */
  tMax?: number;
  /** Seed of every random draw (initial noise, FDC, Langevin). */
  seed?: number;
  /** Called after every step with the per-sample δ (NaN where stopped). */
  onStep?: (info: StepInfo) => void;
}

/** Progress information of one step. */
export interface StepInfo {
  /** Step index i (0-based). */
  step: number;
  /** t_{i+1}. */
  t: number;
  /** δ per sample (NaN when no corrector or stopped). */
  delta: Float64Array;
}

/** What happened to one sample. */
export interface SampleReport {
  /** Sample index. */
  sample: number;
  /** True when all K steps ran with finite values. */
  completed: boolean;
  /** The step at whose start non-finite values were found (when stopped). */
  stoppedAtStep?: number;
  /** Explanation (when stopped). */
  message?: string;
}

/** Result of {@link runSampler}. */
export interface SamplerResult {
  /** Final z, `[S, L, C, H, W]` (stopped samples hold their last state). */
  samples: Float32Array;
  /** Shape `[S, L, C, H, W]`. */
  shape: WindowShape;
  /** One report per sample. */
  reports: SampleReport[];
  /** Π evaluations made. */
  evaluations: number;
}

function hasNonFinite(z: Float32Array, o: number, per: number): boolean {
  for (let i = 0; i < per; i++) if (!Number.isFinite(z[o + i])) return true;
  return false;
}

/**
 * Draws `shape[0]` samples of the posterior defined by `noise` (spec §5.2).
 *
 * @example
 * ```ts
 * import { runSampler } from "@soad/soad/internal";
 * import { priorNoise } from "@soad/soad/internal";
 * import { isotropicGaussianDenoiser } from "@soad/soad/internal";
 * const r = await runSampler(priorNoise(isotropicGaussianDenoiser()), [4, 1, 1, 2, 2], { steps: 8, seed: 1 });
 * console.log(r.samples.length, r.reports.every((x) => x.completed)); // 16 true
 * ```
 */
export async function runSampler(
  noise: PosteriorNoise,
  shape: WindowShape,
  options: SamplerOptions = {},
): Promise<SamplerResult> {
  const K = options.steps ?? 256;
  const M = options.corrections ?? 5;
  const tau = options.tau ?? SPEC_TAU;
  const refresh = options.refresh ?? false;
  const dmax = options.maxLangevinStep ?? Infinity;
  if (!(Number.isInteger(M) && M >= 0)) {
    throw new InvalidArgumentError(`corrections M must be a non-negative integer, got ${M}`);
  }
  if (!(tau > 0 && Number.isFinite(tau))) {
    throw new InvalidArgumentError(`tau must be finite and > 0, got ${tau}`);
  }
  if (!(dmax > 0)) throw new InvalidArgumentError(`maxLangevinStep must be > 0, got ${dmax}`);
  const tMax = options.tMax ?? 1;
  if (!(tMax > 0 && tMax <= 1)) {
    throw new InvalidArgumentError(`tMax must be in (0, 1], got ${tMax}`);
  }
  if (!shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new InvalidArgumentError(`shape must be 5 positive integers, got [${shape}]`);
  }
  const ts = timeGrid(K, tMax);
  const B = shape[0];
  const per = shape[1] * shape[2] * shape[3] * shape[4];
  const rng = new NormalSource(options.seed ?? 0);
  const z = new Float32Array(B * per);
  rng.fill(z);
  if (tMax !== 1) {
    const s0 = sigma(ts[0]);
    for (let j = 0; j < z.length; j++) z[j] *= s0;
  }
  const xi = new Float32Array(per);
  const active = new Uint8Array(B).fill(1);
  const reports: SampleReport[] = Array.from({ length: B }, (_, b) => ({
    sample: b,
    completed: true,
  }));
  let evaluations = 0;
  const evalPi = async (t: number): Promise<Float32Array> => {
    evaluations++;
    // stopped samples enter the network as zeros so that they cannot disturb the others
    let input = z;
    if (active.some((a) => !a)) {
      input = z.slice();
      for (let b = 0; b < B; b++) if (!active[b]) input.fill(0, b * per, (b + 1) * per);
    }
    return (await noise.evaluate(input, shape, t, active)).pi;
  };
  const fdc = (t: number): void => {
    if (options.fdc) applyFdc(z, B, per, t, options.fdc, rng, active);
  };
  let pi = await evalPi(ts[0]);
  for (let i = 0; i < K; i++) {
    const t = ts[i], s = ts[i + 1];
    for (let b = 0; b < B; b++) {
      if (active[b] && hasNonFinite(z, b * per, per)) {
        active[b] = 0;
        reports[b] = {
          sample: b,
          completed: false,
          stoppedAtStep: i,
          message: `sample ${b} has non-finite values at the start of step ${i} (t = ${
            t.toFixed(4)
          }); it was stopped there, the other samples went on`,
        };
      }
    }
    if (!active.some((a) => a)) break;
    const a = alpha(s) / alpha(t), bb = sigma(s) / sigma(t);
    for (let b = 0; b < B; b++) {
      if (!active[b]) continue;
      for (let j = b * per; j < (b + 1) * per; j++) z[j] = a * z[j] + (bb - a) * pi[j];
    }
    fdc(s);
    pi = await evalPi(s);
    const ss = sigma(s);
    const delta = new Float64Array(B).fill(NaN);
    let cur = pi;
    for (let m = 0; m < M; m++) {
      if (refresh && m > 0) cur = await evalPi(s);
      for (let b = 0; b < B; b++) {
        const o = b * per;
        let e2 = 0;
        for (let j = 0; j < per; j++) e2 += (cur[o + j] / ss) ** 2;
        const d = Math.min(tau / (e2 / per), dmax);
        delta[b] = active[b] ? d : NaN;
        const kn = ss * Math.sqrt(2 * d);
        rng.fill(xi);
        // z − σ(δ e + sqrt(2δ) ξ) with e = Π/σ
        if (active[b]) { for (let j = 0; j < per; j++) z[o + j] -= d * cur[o + j] + kn * xi[j]; }
      }
      fdc(s);
    }
    if (refresh && M > 0) pi = await evalPi(s);
    options.onStep?.({ step: i, t: s, delta });
  }
  for (let b = 0; b < B; b++) {
    if (active[b] && hasNonFinite(z, b * per, per)) {
      reports[b] = {
        sample: b,
        completed: false,
        stoppedAtStep: K,
        message: `sample ${b} has non-finite values after the last step ${K - 1}`,
      };
    }
  }
  return { samples: z, shape: [...shape] as WindowShape, reports, evaluations };
}
