/**
 * The VP cosine diffusion schedule of SOAD and SDA (`../shared/spec/SOAD.md` §4.2):
 * η = 1e-3, c = arccos(√η), α(t) = μ(t) = cos²(c t), σ(t) = sqrt(1 − α(t)² + η²), for t in [0, 1].
 * Forward noising: z_t = α(t) z_0 + σ(t) ε.
 * @module
 */

/** η of the schedule: σ(0) = η and α(1) = η. */
export const SCHEDULE_ETA = 1e-3;
const C = Math.acos(Math.sqrt(SCHEDULE_ETA));

/**
 * Signal scale α(t) = μ(t) = cos²(c t).
 *
 * @example
 * ```ts
 * import { alpha } from "./schedule.ts";
 * console.log(alpha(0), alpha(1).toFixed(6)); // 1 "0.001000"
 * ```
 */
export function alpha(t: number): number {
  const c = Math.cos(C * t);
  return c * c;
}

/**
 * Noise scale σ(t) = sqrt(1 − α(t)² + η²).
 *
 * @example
 * ```ts
 * import { sigma } from "./schedule.ts";
 * console.log(sigma(0), sigma(1)); // 0.001 1
 * ```
 */
export function sigma(t: number): number {
  const a = alpha(t);
  return Math.sqrt(1 - a * a + SCHEDULE_ETA * SCHEDULE_ETA);
}

/**
 * Noise-to-signal ratio r(t) = σ(t) / α(t).
 *
 * @example
 * ```ts
 * import { snrRatio } from "./schedule.ts";
 * console.log(snrRatio(0.5).toFixed(2)); // "1.66"
 * ```
 */
export function snrRatio(t: number): number {
  return sigma(t) / alpha(t);
}

/**
 * The sampler's time grid t_i = tMax·(1 − i/K), i = 0..K (K + 1 points from tMax down to 0;
 * tMax = 1 is the spec's grid).
 *
 * @example
 * ```ts
 * import { timeGrid } from "./schedule.ts";
 * console.log(Array.from(timeGrid(4))); // [1, 0.75, 0.5, 0.25, 0]
 * console.log(Array.from(timeGrid(2, 0.5))); // [0.5, 0.25, 0]
 * ```
 */
export function timeGrid(steps: number, tMax = 1): Float64Array {
  if (!Number.isInteger(steps) || steps < 1) {
    throw new RangeError(`steps must be a positive integer, got ${steps}`);
  }
  if (!(tMax > 0 && tMax <= 1)) throw new RangeError(`tMax must be in (0, 1], got ${tMax}`);
  const t = new Float64Array(steps + 1);
  for (let i = 0; i <= steps; i++) t[i] = tMax * (1 - i / steps);
  return t;
}
