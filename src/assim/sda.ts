/**
 * The SDA baseline's likelihood term G_SDA (spec §5.1), wrapping a prior denoiser: nonlinear H on
 * the Tweedie estimate x̂0 = (z − σ ε̂)/μ of the state channels 0..1;
 * ℒ = Σ_k ω_k ‖μ y_k − μ H_k(x̂0)‖², g = ∇_z ℒ through H's VJP and the network:
 * with a = Σ_k ω_k H_k'ᵀ (μ (y_k − H_k(x̂0))) placed on channels 0..1,
 * g = −2a + J_ε̂ᵀ (2σ a). c(t) = (r²/2)/(σo² + γ r²), γ = 0.1, clip c ← min(c, 1/max|g|).
 * @module
 */

import type { Denoiser, WindowShape } from "../diffusion/denoiser.ts";
import { alpha, sigma } from "../diffusion/schedule.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { Observation } from "../obs/observe.ts";
import { finishLikelihoodPi, type PiResult, type PosteriorNoise } from "./score.ts";

/** Default γ of the SDA baseline. */
export const SDA_GAMMA = 0.1;

/**
 * c(t) = (r²/2)/(σo² + γ r²) (before the clip).
 *
 * @example
 * ```ts
 * import { sdaCoefficient } from "@soad/soad/internal";
 * console.log(sdaCoefficient(0.5, 0.1).toFixed(2)); // "4.83"
 * ```
 */
export function sdaCoefficient(t: number, sigmaObs: number, gamma: number = SDA_GAMMA): number {
  const r = sigma(t) / alpha(t), r2 = r * r;
  return (r2 / 2) / (sigmaObs * sigmaObs + gamma * r2);
}

/** Options of {@link sdaNoise}. */
export interface SdaOptions {
  /** γ (default 0.1). */
  gamma?: number;
  /** Clip (default true). */
  clip?: boolean;
  /** κ of the clip c ← min(c, κ/max|g|) (default 1, the spec's). */
  clipScale?: number;
}

class SdaNoise implements PosteriorNoise {
  readonly method = "sda";
  constructor(
    readonly denoiser: Denoiser,
    readonly obs: Observation[],
    readonly gamma: number,
    readonly clip: boolean,
    readonly clipScale: number,
  ) {}

  async evaluate(
    z: Float32Array,
    shape: WindowShape,
    t: number,
    active?: Uint8Array,
  ): Promise<PiResult> {
    const [B, L, C, H, W] = shape;
    if (C < 2) throw new InvalidArgumentError(`SDA needs ≥ 2 state channels, got C = ${C}`);
    const R = H * W, per = L * C * R;
    const tt = new Float32Array([t]);
    const mu = alpha(t), s = sigma(t);
    const eps = await this.denoiser.denoise(z, shape, tt);
    const cs = this.obs.map((o) => sdaCoefficient(t, o.sigma, this.gamma));
    const cRef = Math.max(...cs);
    const wts = cs.map((c) => c / cRef);
    const a = new Float32Array(z.length); // Σ ω H'ᵀ r on channels 0..1
    const loss = new Float64Array(B);
    for (let b = 0; b < B; b++) {
      if (active && !active[b]) continue;
      this.obs.forEach((ob, k) => {
        const nf = ob.frames.length, op = ob.operator, co = op.outChannels;
        const idx = ob.mask.indices, np = idx.length;
        const x0 = new Float64Array(nf * 2 * R);
        ob.frames.forEach((f, fi) => {
          const src = b * per + f * C * R;
          for (let j = 0; j < 2 * R; j++) x0[fi * 2 * R + j] = (z[src + j] - s * eps[src + j]) / mu;
        });
        const h = op.apply(x0, nf, H, W);
        const cot = new Float64Array(nf * co * R);
        for (let fc = 0; fc < nf * co; fc++) {
          for (let p = 0; p < np; p++) {
            const r = mu * (ob.values[fc * np + p] - h[fc * R + idx[p]]);
            loss[b] += wts[k] * r * r;
            cot[fc * R + idx[p]] = wts[k] * r;
          }
        }
        const back = op.vjp!(x0, cot, nf, H, W);
        ob.frames.forEach((f, fi) => {
          const dst = b * per + f * C * R;
          for (let j = 0; j < 2 * R; j++) a[dst + j] += back[fi * 2 * R + j];
        });
      });
    }
    const w = new Float32Array(z.length);
    for (let i = 0; i < w.length; i++) w[i] = 2 * s * a[i];
    const { grad } = await this.denoiser.denoiseVjp(z, shape, tt, w);
    const g = new Float32Array(z.length);
    for (let i = 0; i < g.length; i++) g[i] = grad[i] - 2 * a[i];
    return finishLikelihoodPi(eps, g, B, s, cRef, this.clip, loss, active, this.clipScale);
  }
}

/**
 * Π for the SDA baseline: the prior wrapped with the state-space likelihood of `observations`
 * (each operator must provide `vjp`).
 *
 * @example
 * ```ts
 * import { sdaNoise } from "@soad/soad/internal";
 * import { isotropicGaussianDenoiser } from "@soad/soad/internal";
 * import { sin3x } from "@soad/soad";
 * import { strideMask } from "@soad/soad";
 * const obs = [{ operator: sin3x, mask: strideMask(2, 2, 1), frames: [0], values: new Float32Array(8), sigma: 0.1 }];
 * const r = await sdaNoise(isotropicGaussianDenoiser(), obs).evaluate(new Float32Array(8), [1, 1, 2, 2, 2], 0.5);
 * console.log(r.pi.length); // 8
 * ```
 */
export function sdaNoise(
  denoiser: Denoiser,
  observations: Observation[],
  options: SdaOptions = {},
): PosteriorNoise {
  const gamma = options.gamma ?? SDA_GAMMA;
  if (!(gamma >= 0 && Number.isFinite(gamma))) {
    throw new InvalidArgumentError(`gamma must be finite and ≥ 0, got ${gamma}`);
  }
  if (observations.length === 0) throw new InvalidArgumentError("SDA needs an observation");
  for (const o of observations) {
    if (typeof o.operator.vjp !== "function") {
      throw new InvalidArgumentError(
        `operator "${o.operator.name}" has no vjp; the SDA baseline needs the VJP of H ` +
          `(give df / adjoint when building it)`,
      );
    }
  }
  const clipScale = options.clipScale ?? 1;
  if (!(clipScale > 0 && Number.isFinite(clipScale))) {
    throw new InvalidArgumentError(`clipScale must be finite and > 0, got ${clipScale}`);
  }
  return new SdaNoise(denoiser, observations, gamma, options.clip ?? true, clipScale);
}
