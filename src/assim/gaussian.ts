/**
 * Exact denoisers of Gaussian priors, to stand in for the U-Net in analytic tests
 * (`../shared/spec/SAMPLER_ANALYTIC.md`). For a prior N(0, Σ), ε̂(z, t) = σ (μ²Σ + σ²I)⁻¹ z, a
 * symmetric linear map, so the VJP is the same map applied to the cotangent.
 * @module
 */

import type { Denoiser, DenoiseVjpResult, WindowShape } from "../diffusion/denoiser.ts";
import { alpha, sigma } from "../diffusion/schedule.ts";
import { InvalidArgumentError } from "../errors.ts";

type LinearMap = (src: Float32Array, out: Float32Array, o: number, per: number, t: number) => void;

function linearDenoiser(map: LinearMap, check?: (shape: WindowShape) => void): Denoiser {
  const run = (src: Float32Array, shape: WindowShape, t: Float32Array): Float32Array => {
    const B = shape[0];
    const per = shape[1] * shape[2] * shape[3] * shape[4];
    if (src.length !== B * per) {
      throw new InvalidArgumentError(`input has ${src.length} values, expected ${B * per}`);
    }
    if (t.length !== 1 && t.length !== B) {
      throw new InvalidArgumentError(`t must have length 1 or B = ${B}, got ${t.length}`);
    }
    check?.(shape);
    const out = new Float32Array(src.length);
    for (let b = 0; b < B; b++) map(src, out, b * per, per, t.length === 1 ? t[0] : t[b]);
    return out;
  };
  return {
    denoise: (z, shape, t): Promise<Float32Array> => Promise.resolve(run(z, shape, t)),
    denoiseVjp: (z, shape, t, w): Promise<DenoiseVjpResult> =>
      Promise.resolve({ eps: run(z, shape, t), grad: run(w, shape, t) }),
  };
}

/**
 * The exact denoiser of N(0, v·I): ε̂ = σ z/(μ² v + σ²).
 *
 * @example
 * ```ts
 * import { isotropicGaussianDenoiser } from "@soad/soad/internal";
 * const d = isotropicGaussianDenoiser();
 * const e = await d.denoise(new Float32Array([1]), [1, 1, 1, 1, 1], new Float32Array([1]));
 * console.log(e[0].toFixed(3)); // "1.000"
 * ```
 */
export function isotropicGaussianDenoiser(variance = 1): Denoiser {
  if (!(variance > 0)) throw new InvalidArgumentError(`variance must be > 0, got ${variance}`);
  return linearDenoiser((src, out, o, per, t) => {
    const mu = alpha(t), s = sigma(t);
    const k = s / (mu * mu * variance + s * s);
    for (let i = 0; i < per; i++) out[o + i] = k * src[o + i];
  });
}

/**
 * The exact denoiser of SOAD's augmented toy z = [x, H(x)] with H = identity, x ~ N(0, I): the
 * channel c < C/2 pairs with channel c + C/2 at the same (frame, y, x). With a = (x + x')/2,
 * d = (x − x')/2: ε̂_x = σ a/(2μ² + σ²) + d/σ, ε̂_x' = σ a/(2μ² + σ²) − d/σ.
 *
 * @example
 * ```ts
 * import { augmentedIdentityDenoiser } from "@soad/soad/internal";
 * const d = augmentedIdentityDenoiser();
 * const e = await d.denoise(new Float32Array([1, 1]), [1, 1, 2, 1, 1], new Float32Array([1]));
 * console.log(e[0] === e[1]); // true
 * ```
 */
export function augmentedIdentityDenoiser(): Denoiser {
  let half = 0, R = 0, L = 0;
  return linearDenoiser(
    (src, out, o, _per, t) => {
      const mu = alpha(t), s = sigma(t);
      const p = s / (2 * mu * mu + s * s), q = 1 / s;
      for (let l = 0; l < L; l++) {
        for (let c = 0; c < half; c++) {
          const i0 = o + (l * 2 * half + c) * R, i1 = i0 + half * R;
          for (let j = 0; j < R; j++) {
            const x = src[i0 + j], xp = src[i1 + j];
            const a = (x + xp) / 2, d = (x - xp) / 2;
            out[i0 + j] = p * a + q * d;
            out[i1 + j] = p * a - q * d;
          }
        }
      }
    },
    (shape) => {
      if (shape[2] % 2 !== 0) {
        throw new InvalidArgumentError(`the augmented toy needs an even C, got ${shape[2]}`);
      }
      L = shape[1], half = shape[2] / 2, R = shape[3] * shape[4];
    },
  );
}
