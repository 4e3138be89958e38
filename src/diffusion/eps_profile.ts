/**
 * How well a prior denoises at each diffusion time: the ε-prediction MSE per channel and the RMSE
 * of the Tweedie estimate x̂0 = (z_t − σ ε̂)/μ on clean windows noised at chosen times. The average
 * training loss hides the noisiest times, where x̂0 magnifies ε errors by σ/μ (up to 1000 at
 * t = 1, spec §4.2) and a sampler started there diverges (docs/results.md).
 * @module
 */

import type { Denoiser, WindowShape } from "./denoiser.ts";
import { alpha, sigma } from "./schedule.ts";
import { InvalidArgumentError } from "../errors.ts";
import { Rng } from "../rng.ts";

/** One diffusion time of an {@link epsProfile}. */
export interface EpsProfileRow {
  /** The diffusion time. */
  t: number;
  /** ε-MSE per channel (mean over windows, frames and pixels). */
  mse: number[];
  /** Mean of ε̂ − ε per channel (a bias shows as large-scale drift in samples). */
  bias: number[];
  /** RMSE of x̂0 over every entry. */
  x0Rmse: number;
}

/**
 * Noises the clean windows `z0` (`[B, L, C, H, W]`) at each time of `times` with seeded standard
 * normal ε and measures the denoiser there.
 *
 * @example
 * ```ts
 * import { epsProfile } from "@soad/soad/internal";
 * import { isotropicGaussianDenoiser } from "@soad/soad/internal";
 * const z0 = new Float32Array(64).fill(0.5);
 * const rows = await epsProfile(isotropicGaussianDenoiser(), z0, [1, 1, 1, 8, 8], [0.5], 0);
 * console.log(rows[0].mse.length); // 1
 * ```
 */
export async function epsProfile(
  denoiser: Denoiser,
  z0: Float32Array,
  shape: WindowShape,
  times: number[],
  seed: number,
): Promise<EpsProfileRow[]> {
  const [B, L, C, H, W] = shape;
  const R = H * W;
  if (z0.length !== B * L * C * R) {
    throw new InvalidArgumentError(
      `z0 has ${z0.length} values, shape [${shape}] needs ${B * L * C * R}`,
    );
  }
  const rng = new Rng(seed);
  const rows: EpsProfileRow[] = [];
  for (const t of times) {
    if (!(t >= 0 && t <= 1)) throw new InvalidArgumentError(`times must be in [0, 1], got ${t}`);
    const a = alpha(t), s = sigma(t);
    const eps = Float32Array.from(z0, () => rng.normal());
    const zt = z0.map((v, i) => a * v + s * eps[i]);
    const e = await denoiser.denoise(zt, shape, new Float32Array([t]));
    const mse = new Array<number>(C).fill(0), bias = new Array<number>(C).fill(0);
    let x0 = 0;
    for (let i = 0; i < z0.length; i++) {
      const c = Math.floor(i / R) % C, d = e[i] - eps[i];
      mse[c] += d * d;
      bias[c] += d;
      x0 += ((zt[i] - s * e[i]) / a - z0[i]) ** 2;
    }
    const n = B * L * R;
    rows.push({
      t,
      mse: mse.map((v) => v / n),
      bias: bias.map((v) => v / n),
      x0Rmse: Math.sqrt(x0 / z0.length),
    });
  }
  return rows;
}
