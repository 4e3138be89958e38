/**
 * The interface the sampler consumes: a noise predictor ε̂(z, t) and its vector-Jacobian product
 * w.r.t. z. The U-Net implements it; an analytic denoiser (e.g. for a Gaussian prior) can stand in.
 * @module
 */

/** Window batch shape `[B, L, C, H, W]` (windows, frames, channels, y, x), row-major. */
export type WindowShape = [number, number, number, number, number];

/** Result of {@link Denoiser.denoiseVjp}. */
export interface DenoiseVjpResult {
  /** ε̂(z, t), shape `[B, L, C, H, W]`. */
  eps: Float32Array;
  /** ∂/∂z Σ w ⊙ ε̂(z, t), shape `[B, L, C, H, W]`. */
  grad: Float32Array;
}

/**
 * A noise predictor ε̂(z_t, t) on window batches.
 *
 * @example
 * ```ts
 * import type { Denoiser, DenoiseVjpResult, WindowShape } from "@soad/soad";
 * // ε̂ = z / 2 (a toy analytic denoiser): its VJP is w / 2.
 * const half: Denoiser = {
 *   denoise: (z: Float32Array, _s: WindowShape, _t: Float32Array): Promise<Float32Array> =>
 *     Promise.resolve(z.map((v) => v / 2)),
 *   denoiseVjp: (z: Float32Array, _s: WindowShape, _t: Float32Array, w: Float32Array):
 *     Promise<DenoiseVjpResult> =>
 *     Promise.resolve({ eps: z.map((v) => v / 2), grad: w.map((v) => v / 2) }),
 * };
 * console.log((await half.denoise(new Float32Array([2]), [1, 1, 1, 1, 1], new Float32Array([0.5])))[0]); // 1
 * ```
 */
export interface Denoiser {
  /**
   * ε̂(z, t).
   * @param z the noisy windows, `[B, L, C, H, W]` row-major
   * @param shape `[B, L, C, H, W]`
   * @param t diffusion times in [0, 1], one per window (length B) or one for all (length 1)
   * @returns ε̂, same shape as z
   */
  denoise(z: Float32Array, shape: WindowShape, t: Float32Array): Promise<Float32Array>;
  /**
   * ε̂(z, t) and the VJP `grad = ∂/∂z Σ w ⊙ ε̂(z, t)`.
   * @param z the noisy windows, `[B, L, C, H, W]` row-major
   * @param shape `[B, L, C, H, W]`
   * @param t diffusion times, length B or 1
   * @param w the cotangent, same shape as z
   */
  denoiseVjp(
    z: Float32Array,
    shape: WindowShape,
    t: Float32Array,
    w: Float32Array,
  ): Promise<DenoiseVjpResult>;
}
