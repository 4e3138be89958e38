/**
 * Verification metrics (pure functions): RMSE per frame (spec §6.1), ensemble mean and spread,
 * spread–skill ratio and the CRPS of an ensemble.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/** Any array-like of numbers (typed arrays or plain arrays). */
export type Num = ArrayLike<number>;

/**
 * RMSE_j = sqrt(mean over frame j of (x̂ − x)²), for `frames` equal frames.
 *
 * @example
 * ```ts
 * import { rmsePerFrame } from "@soad/soad";
 * console.log(rmsePerFrame([1, 1, 0, 0], [0, 0, 0, 0], 2)); // [1, 0]
 * ```
 */
export function rmsePerFrame(estimate: Num, truth: Num, frames: number): number[] {
  if (estimate.length !== truth.length || estimate.length % frames !== 0 || frames < 1) {
    throw new InvalidArgumentError(
      `estimate (${estimate.length}) and truth (${truth.length}) must have equal length, ` +
        `divisible by frames = ${frames}`,
    );
  }
  const per = estimate.length / frames;
  const out: number[] = [];
  for (let f = 0; f < frames; f++) {
    let s = 0;
    for (let i = f * per; i < (f + 1) * per; i++) s += (estimate[i] - truth[i]) ** 2;
    out.push(Math.sqrt(s / per));
  }
  return out;
}

/** Mean and spread of an ensemble. */
export interface EnsembleStats {
  /** Member mean per entry. */
  mean: Float32Array;
  /** Member standard deviation per entry (unbiased, 0 for one member). */
  spread: Float32Array;
  /** Members used (finite ones). */
  members: number;
}

/**
 * Mean and spread over `members` of `[members, n]`; members with non-finite values are skipped.
 *
 * @example
 * ```ts
 * import { ensembleStats } from "@soad/soad";
 * const s = ensembleStats([0, 2, 2, 4], 2);
 * console.log(s.mean, s.spread); // Float32Array(2) [1, 3] Float32Array(2) [1.4142135381698608, 1.4142135381698608]
 * ```
 */
export function ensembleStats(samples: Num, members: number): EnsembleStats {
  if (!(members >= 1 && samples.length % members === 0)) {
    throw new InvalidArgumentError(`${samples.length} values do not split into ${members} members`);
  }
  const n = samples.length / members;
  const ok: number[] = [];
  for (let m = 0; m < members; m++) {
    let fin = true;
    for (let i = m * n; i < (m + 1) * n && fin; i++) fin = Number.isFinite(samples[i]);
    if (fin) ok.push(m);
  }
  const mean = new Float32Array(n), spread = new Float32Array(n);
  if (ok.length === 0) return { mean: mean.fill(NaN), spread: spread.fill(NaN), members: 0 };
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (const m of ok) s += samples[m * n + i];
    const mu = s / ok.length;
    let v = 0;
    for (const m of ok) v += (samples[m * n + i] - mu) ** 2;
    mean[i] = mu;
    spread[i] = ok.length > 1 ? Math.sqrt(v / (ok.length - 1)) : 0;
  }
  return { mean, spread, members: ok.length };
}

/**
 * Spread–skill ratio sqrt((1 + 1/S)·mean(spread²)) / RMSE(mean): 1 for a calibrated ensemble of
 * S members, > 1 over-dispersed, < 1 under-dispersed.
 *
 * @example
 * ```ts
 * import { spreadSkillRatio } from "@soad/soad";
 * console.log(spreadSkillRatio([0, 2], [0], 2).toFixed(3)); // "1.732"
 * ```
 */
export function spreadSkillRatio(samples: Num, truth: Num, members: number): number {
  const { mean, spread, members: S } = ensembleStats(samples, members);
  if (mean.length !== truth.length) {
    throw new InvalidArgumentError(`truth has ${truth.length} values, a member ${mean.length}`);
  }
  if (S < 2) throw new InvalidArgumentError("spread–skill needs at least 2 finite members");
  let v = 0, e = 0;
  for (let i = 0; i < mean.length; i++) {
    v += spread[i] ** 2;
    e += (mean[i] - truth[i]) ** 2;
  }
  return Math.sqrt((1 + 1 / S) * v / mean.length) / Math.sqrt(e / mean.length);
}

/**
 * Mean over entries of the ensemble CRPS, (1/S)Σ|x_i − y| − (1/(2S²))Σ_ij|x_i − x_j|
 * (`fair`: the second term over 2S(S−1)).
 *
 * @example
 * ```ts
 * import { crps } from "@soad/soad";
 * console.log(crps([1], [0], 1), crps([0, 2], [1], 2)); // 1 0.5
 * ```
 */
export function crps(samples: Num, truth: Num, members: number, fair = false): number {
  if (!(members >= 1) || samples.length !== members * truth.length) {
    throw new InvalidArgumentError(
      `samples must hold ${members} members of ${truth.length} values, got ${samples.length}`,
    );
  }
  const n = truth.length, S = members;
  const x = new Float64Array(S);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let a = 0;
    for (let m = 0; m < S; m++) {
      x[m] = samples[m * n + i];
      a += Math.abs(x[m] - truth[i]);
    }
    x.sort();
    let pair = 0; // Σ_ij |x_i − x_j| = 2 Σ_k (2k − S + 1) x_(k)
    for (let k = 0; k < S; k++) pair += (2 * k - S + 1) * x[k];
    pair *= 2;
    total += a / S - (fair ? (S > 1 ? pair / (2 * S * (S - 1)) : 0) : pair / (2 * S * S));
  }
  return total / n;
}

/**
 * The state channels 0..1 of augmented windows `[S, L, C, H, W]` → `[S, L, 2, H, W]`.
 *
 * @example
 * ```ts
 * import { stateChannels } from "@soad/soad/internal";
 * console.log(stateChannels(new Float32Array([1, 2, 3, 4]), [1, 1, 4, 1, 1])); // Float32Array(2) [1, 2]
 * ```
 */
export function stateChannels(
  z: Num,
  shape: readonly [number, number, number, number, number],
): Float32Array {
  const [S, L, C, H, W] = shape, R = H * W;
  if (z.length !== S * L * C * R || C < 2) {
    throw new InvalidArgumentError(`z has ${z.length} values, expected [${shape}] with C ≥ 2`);
  }
  const out = new Float32Array(S * L * 2 * R);
  for (let sl = 0; sl < S * L; sl++) {
    for (let j = 0; j < 2 * R; j++) out[sl * 2 * R + j] = z[sl * C * R + j];
  }
  return out;
}

/** How an estimate's anomalies compare with the truth's (see {@link anomalyStats}). */
export interface AnomalyStats {
  /** RMS of the estimate's anomaly over RMS of the truth's (1 = the truth's amplitude). */
  amplitude: number;
  /** Pattern correlation of the two anomalies (centred on the given means, not re-centred). */
  correlation: number;
}

/**
 * Amplitude ratio a and pattern correlation ρ of the anomalies x̂ − m and x − m of `[L, 2, H, W]`
 * fields, m = the per-layer mean `layerMean` (climatology). They split the mean squared error as
 * MSE = s²(a² + 1 − 2aρ), s = RMS of the truth's anomaly: a sample with the truth's amplitude
 * (a = 1) and weak correlation scores near √2·s, a damped one (a ≈ ρ) near s·√(1 − ρ²). That is
 * why single-sample RMSE can favour an under-dispersed sampler where observations are sparse.
 *
 * @example
 * ```ts
 * import { anomalyStats } from "@soad/soad/internal";
 * const s = anomalyStats([0.5, -0.5, 0.5, -0.5], [1, -1, 1, -1], [0, 0], 1);
 * console.log(s.amplitude, s.correlation); // 0.5 1
 * ```
 */
export function anomalyStats(
  estimate: Num,
  truth: Num,
  layerMean: readonly number[],
  cells: number,
): AnomalyStats {
  if (
    estimate.length !== truth.length || !(cells >= 1) || estimate.length % (2 * cells) !== 0 ||
    layerMean.length !== 2
  ) {
    throw new InvalidArgumentError(
      `estimate (${estimate.length}) and truth (${truth.length}) must be equal [L, 2, ${cells}] ` +
        `fields with one mean per layer (got ${layerMean.length})`,
    );
  }
  let ee = 0, tt = 0, et = 0;
  for (let i = 0; i < truth.length; i++) {
    const m = layerMean[Math.floor(i / cells) % 2];
    const e = estimate[i] - m, t = truth[i] - m;
    ee += e * e;
    tt += t * t;
    et += e * t;
  }
  if (!(tt > 0)) throw new InvalidArgumentError("the truth has no anomaly (constant field)");
  return { amplitude: Math.sqrt(ee / tt), correlation: ee > 0 ? et / Math.sqrt(ee * tt) : 0 };
}

/**
 * Rank histogram (Talagrand diagram) of an ensemble `[members, n]` against the truth `[n]`: bin k
 * counts the entries whose truth has k members below it (k = 0..members). Ties (a member equal to
 * the truth) count half below, so a discrete tie does not bias the histogram. A calibrated ensemble
 * gives a flat histogram, an under-dispersed one a U, an over-dispersed one a dome. Adds to
 * `into` when given (accumulation over days).
 *
 * @example
 * ```ts
 * import { rankHistogram } from "@soad/soad";
 * console.log(rankHistogram([0, 0, 2, 2], [1, 3], 2)); // [0, 1, 1]
 * ```
 */
export function rankHistogram(
  samples: Num,
  truth: Num,
  members: number,
  into?: number[],
): number[] {
  if (!(members >= 1) || samples.length !== members * truth.length) {
    throw new InvalidArgumentError(
      `samples must hold ${members} members of ${truth.length} values, got ${samples.length}`,
    );
  }
  const counts = into ?? new Array<number>(members + 1).fill(0);
  if (counts.length !== members + 1) {
    throw new InvalidArgumentError(`a histogram of ${members} members has ${members + 1} bins`);
  }
  const n = truth.length;
  for (let i = 0; i < n; i++) {
    let below = 0, ties = 0;
    for (let m = 0; m < members; m++) {
      const x = samples[m * n + i];
      if (x < truth[i]) below++;
      else if (x === truth[i]) ties++;
    }
    counts[below + Math.floor(ties / 2)]++;
  }
  return counts;
}

/**
 * CRPS of a Gaussian forecast N(μ, σ²) for the outcome y, in closed form (Gneiting & Raftery 2007):
 * σ[z(2Φ(z) − 1) + 2φ(z) − 1/√π], z = (y − μ)/σ; |y − μ| for σ = 0.
 *
 * @example
 * ```ts
 * import { crpsGaussian } from "@soad/soad";
 * console.log(crpsGaussian(0, 1, 0).toFixed(4)); // "0.2337"
 * ```
 */
export function crpsGaussian(mu: number, sigma: number, y: number): number {
  if (!(sigma >= 0)) throw new InvalidArgumentError(`sigma must be >= 0, got ${sigma}`);
  if (sigma === 0) return Math.abs(y - mu);
  const z = (y - mu) / sigma;
  const pdf = Math.exp(-z * z / 2) / Math.sqrt(2 * Math.PI);
  const cdf = 0.5 * (1 + erf(z / Math.SQRT2));
  return sigma * (z * (2 * cdf - 1) + 2 * pdf - 1 / Math.sqrt(Math.PI));
}

/** erf to ~1e-15 (series for small |x|, continued fraction of erfc beyond). */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = ax, sum = ax;
    for (let k = 1; k < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); k++) {
      term *= -ax * ax / k;
      sum += term / (2 * k + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …)))) (Lentz-free backward evaluation)
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + (k / 2) / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}
