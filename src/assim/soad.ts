/**
 * The SOAD likelihood term G_SOAD (spec §5.1) wrapping a prior denoiser, in augmented space:
 * R_k = μ y_k − P_k z + σ P_k ε̂(z, t), ℒ = Σ_k ω_k ‖R_k‖², g = ∇_z ℒ through the network:
 * g = −2 Σ_k ω_k P_kᵀ R_k + J_ε̂ᵀ w with the cotangent w = 2σ Σ_k ω_k P_kᵀ R_k
 * (one `denoiseVjp`). Coefficient c(t) = (r²/2)/(σo² + σx² r²/(σx² + r²)), clip
 * c ← min(c, 1/max|g|), G = c g, Π = σ ε̂ + G. With several σo the coefficients differ per
 * operator: ω_k = c_k / max_k c_k and the clip applies to the largest (equal σo: ω = 1, the code).
 * @module
 */

import type { Denoiser, WindowShape } from "../diffusion/denoiser.ts";
import { alpha, sigma } from "../diffusion/schedule.ts";
import { SPEC_CLIP_SCALE, SPEC_SIGMA_X } from "../diffusion/sampler_defaults.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { PlannedObservation } from "./plan.ts";
import { finishLikelihoodPi, type PiResult, type PosteriorNoise } from "./score.ts";

/** Default σx of SOAD's closed-form coefficient (the spec's: {@link SPEC_SIGMA_X}). */
export const SIGMA_X: number = SPEC_SIGMA_X;

/**
 * c(t) = (r²/2)/(σo² + σx² r²/(σx² + r²)), r = σ(t)/α(t) (before the clip).
 *
 * @example
 * ```ts
 * import { soadCoefficient } from "@soad/soad/internal";
 * console.log(soadCoefficient(0.5, 0.1).toFixed(3)); // "1.854"
 * ```
 */
export function soadCoefficient(t: number, sigmaObs: number, sigmaX: number = SIGMA_X): number {
  const r = sigma(t) / alpha(t), r2 = r * r, sx2 = sigmaX * sigmaX;
  return (r2 / 2) / (sigmaObs * sigmaObs + (sx2 * r2) / (sx2 + r2));
}

/** Options of {@link soadNoise}. */
export interface SoadOptions {
  /** σx (default 1). */
  sigmaX?: number;
  /** Clip c ← min(c, κ/max|g|) (default true). */
  clip?: boolean;
  /** κ of the clip (default 1, the spec's; {@link SPEC_CLIP_SCALE}). */
  clipScale?: number;
  /**
   * Treat ∂ε̂/∂z as zero (g = −2 Σ_k ω_k P_kᵀ R_k, no vector–Jacobian product), so a
   * forward-only denoiser (e.g. the onnxruntime engine) can run SOAD (default false). On the
   * analytic toys it matches the full VJP while the clip is on; without the clip it collapses
   * the observed entries (docs/onnx.md).
   */
  jacobianFree?: boolean;
}

class SoadNoise implements PosteriorNoise {
  readonly method = "soad";
  constructor(
    readonly denoiser: Denoiser,
    readonly obs: PlannedObservation[],
    readonly sigmaX: number,
    readonly clip: boolean,
    readonly jacobianFree: boolean,
    readonly clipScale: number,
  ) {}

  async evaluate(
    z: Float32Array,
    shape: WindowShape,
    t: number,
    active?: Uint8Array,
  ): Promise<PiResult> {
    const [B] = shape;
    const per = z.length / B;
    const tt = new Float32Array([t]);
    const mu = alpha(t), s = sigma(t);
    const eps = await this.denoiser.denoise(z, shape, tt);
    const cs = this.obs.map((o) => soadCoefficient(t, o.sigma, this.sigmaX));
    const cRef = Math.max(...cs);
    const wts = cs.map((c) => c / cRef);
    const w = new Float32Array(z.length);
    const direct = new Float32Array(z.length);
    const loss = new Float64Array(B);
    for (let b = 0; b < B; b++) {
      if (active && !active[b]) continue;
      const o = b * per;
      this.obs.forEach((ob, k) => {
        const { index, y } = ob;
        for (let j = 0; j < index.length; j++) {
          const i = o + index[j];
          const R = mu * y[j] - z[i] + s * eps[i];
          loss[b] += wts[k] * R * R;
          w[i] += 2 * s * wts[k] * R;
          direct[i] -= 2 * wts[k] * R;
        }
      });
    }
    let g = direct;
    if (!this.jacobianFree) {
      const { grad } = await this.denoiser.denoiseVjp(z, shape, tt, w);
      g = new Float32Array(z.length);
      for (let i = 0; i < g.length; i++) g[i] = grad[i] + direct[i];
    }
    return finishLikelihoodPi(eps, g, B, s, cRef, this.clip, loss, active, this.clipScale);
  }
}

/**
 * Π for SOAD: the prior `denoiser` wrapped with the augmented-space likelihood of `observations`
 * (planned with {@link planObservations}).
 *
 * @example
 * ```ts
 * import { soadNoise } from "@soad/soad/internal";
 * import { isotropicGaussianDenoiser } from "@soad/soad/internal";
 * const obs = [{ index: new Int32Array([0]), y: new Float32Array([1]), sigma: 0.1 }];
 * const pi = soadNoise(isotropicGaussianDenoiser(), obs);
 * const r = await pi.evaluate(new Float32Array(2), [1, 1, 2, 1, 1], 0.5);
 * console.log(r.stats.c[0] > 0); // true
 * ```
 */
export function soadNoise(
  denoiser: Denoiser,
  observations: PlannedObservation[],
  options: SoadOptions = {},
): PosteriorNoise {
  const sigmaX = options.sigmaX ?? SIGMA_X;
  if (!(sigmaX > 0 && Number.isFinite(sigmaX))) {
    throw new InvalidArgumentError(`sigmaX must be finite and > 0, got ${sigmaX}`);
  }
  const clipScale = options.clipScale ?? SPEC_CLIP_SCALE;
  if (!(clipScale > 0 && Number.isFinite(clipScale))) {
    throw new InvalidArgumentError(`clipScale must be finite and > 0, got ${clipScale}`);
  }
  if (observations.length === 0) {
    throw new InvalidArgumentError("SOAD needs at least one observation");
  }
  return new SoadNoise(
    denoiser,
    observations,
    sigmaX,
    options.clip ?? true,
    options.jacobianFree ?? false,
    clipScale,
  );
}
