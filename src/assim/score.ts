/**
 * The σ-scaled posterior noise Π(z, t) = σ(t)·ε̂(z, t) + G(z, t) that the sampler consumes
 * (spec §5.1). Following SDA's `score.py`, a likelihood term *wraps* a prior: the sampler only
 * sees a {@link PosteriorNoise} and never knows which method it runs.
 * @module
 */

import type { Denoiser, WindowShape } from "../diffusion/denoiser.ts";
import { sigma } from "../diffusion/schedule.ts";

/** Per-sample diagnostics of one Π evaluation (empty arrays for a bare prior). */
export interface PiStats {
  /** Likelihood coefficient before the clip, per sample. */
  cRaw: Float64Array;
  /** Coefficient after the clip, per sample. */
  c: Float64Array;
  /** ℒ, per sample. */
  loss: Float64Array;
}

/** Result of {@link PosteriorNoise.evaluate}. */
export interface PiResult {
  /** Π(z, t), same layout as z. */
  pi: Float32Array;
  /** ε̂(z, t). */
  eps: Float32Array;
  /** g = ∇_z ℒ (unscaled), when a likelihood is present. */
  g?: Float32Array;
  /** Coefficients and losses. */
  stats: PiStats;
}

/**
 * Π(z, t) for a batch of windows; samples with `active[b] === 0` may be skipped (Π = 0 there).
 *
 * @example
 * ```ts
 * import { priorNoise } from "@soad/soad/internal";
 * import { isotropicGaussianDenoiser } from "@soad/soad/internal";
 * const pi = priorNoise(isotropicGaussianDenoiser());
 * const r = await pi.evaluate(new Float32Array([1]), [1, 1, 1, 1, 1], 0.5);
 * console.log(r.pi.length); // 1
 * ```
 */
export interface PosteriorNoise {
  /** A short description (`"prior"`, `"soad"`, `"sda"`). */
  readonly method: string;
  /**
   * Evaluates Π(z, t) = σ(t) ε̂(z, t) + G(z, t) for a batch of samples.
   * @param z `[B, L, C, H, W]`
   * @param shape its shape
   * @param t the diffusion time (one for the whole batch)
   * @param active optional per-sample flags (1 = evaluate)
   */
  evaluate(z: Float32Array, shape: WindowShape, t: number, active?: Uint8Array): Promise<PiResult>;
}

/** Π = σ ε̂, the unconditional prior. */
class PriorNoise implements PosteriorNoise {
  readonly method = "prior";
  constructor(readonly denoiser: Denoiser) {}
  async evaluate(z: Float32Array, shape: WindowShape, t: number): Promise<PiResult> {
    const eps = await this.denoiser.denoise(z, shape, new Float32Array([t]));
    const s = sigma(t);
    const pi = new Float32Array(eps.length);
    for (let i = 0; i < pi.length; i++) pi[i] = s * eps[i];
    const e = new Float64Array(0);
    return { pi, eps, stats: { cRaw: e, c: e, loss: e } };
  }
}

/**
 * The bare prior: Π(z, t) = σ(t)·ε̂(z, t) (unconditional sampling).
 *
 * @example
 * ```ts
 * import { priorNoise } from "@soad/soad/internal";
 * import { isotropicGaussianDenoiser } from "@soad/soad/internal";
 * console.log(priorNoise(isotropicGaussianDenoiser()).method); // "prior"
 * ```
 */
export function priorNoise(denoiser: Denoiser): PosteriorNoise {
  return new PriorNoise(denoiser);
}

/**
 * Clips per sample: with G_raw = c_ref·g, G = min(c_ref, κ/max|g|)·g (spec §5.1: κ =
 * `clipScale` = 1), writes Π = σ ε̂ + G into `pi` and returns the effective coefficient per sample.
 *
 * @example
 * ```ts
 * import { combineClipped } from "./score.ts";
 * const pi = new Float32Array(2);
 * const c = combineClipped(pi, new Float32Array([0, 0]), new Float32Array([4, -2]), 2, 1, 1, [10], true);
 * console.log(c[0], pi[0]); // 0.25 1
 * ```
 */
export function combineClipped(
  pi: Float32Array,
  eps: Float32Array,
  g: Float32Array,
  batch: number,
  per: number,
  s: number,
  cRef: ArrayLike<number>,
  clip: boolean,
  clipScale = 1,
): Float64Array {
  const c = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    let m = 0;
    const o = b * per;
    for (let i = 0; i < per; i++) m = Math.max(m, Math.abs(g[o + i]));
    c[b] = clip && m > 0 ? Math.min(cRef[b], clipScale / m) : cRef[b];
    for (let i = 0; i < per; i++) pi[o + i] = s * eps[o + i] + c[b] * g[o + i];
  }
  return c;
}

/**
 * The common end of a likelihood's Π: zero `g` on samples that are no longer `active`, clip the
 * coefficient `cRef` per sample ({@link combineClipped}) and assemble the {@link PiResult}.
 *
 * @example
 * ```ts
 * import { finishLikelihoodPi } from "./score.ts";
 * const r = finishLikelihoodPi(new Float32Array(2), new Float32Array([4, -2]), 2, 1, 10, true,
 *   new Float64Array(2));
 * console.log(Array.from(r.stats.c)); // [0.25, 0.5]
 * ```
 */
export function finishLikelihoodPi(
  eps: Float32Array,
  g: Float32Array,
  batch: number,
  s: number,
  cRef: number,
  clip: boolean,
  loss: Float64Array,
  active?: Uint8Array,
  clipScale = 1,
): PiResult {
  const per = g.length / batch;
  if (active) {
    for (let b = 0; b < batch; b++) if (!active[b]) g.fill(0, b * per, (b + 1) * per);
  }
  const pi = new Float32Array(g.length);
  const cRaw = new Float64Array(batch).fill(cRef);
  const c = combineClipped(pi, eps, g, batch, per, s, cRaw, clip, clipScale);
  return { pi, eps, g, stats: { cRaw, c, loss } };
}
