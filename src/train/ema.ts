/**
 * Exponential moving average (EMA) of the weights during training (`deno task train --ema
 * DECAY`). After every optimiser step s (1-based: s = 1 after the first update) the average
 * moves towards the new weights p_s:
 *
 *   e_s = d_s · e_{s−1} + (1 − d_s) · p_s,   d_s = min(DECAY, (1 + s) / (10 + s)),   e_0 = p_0
 *
 * (the warm-up of TensorFlow's `ExponentialMovingAverage(num_updates)`: d_1 = 2/11, d_9 ≈ 0.53,
 * d_90 = 0.91, d_990 = 0.991, so the average forgets the random init within the first steps
 * and reaches the nominal decay after about 1/(1 − DECAY) steps). The arithmetic is float64
 * per element with float32 storage (like {@link AdamW}'s moments), so a checkpoint holds the
 * exact state and `--resume` continues it bit for bit.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/**
 * The decay of the EMA update after optimiser step `step` (1-based):
 * min(decay, (1 + step) / (10 + step)).
 *
 * @example
 * ```ts
 * import { emaDecay } from "@soad/soad/internal";
 * console.log(emaDecay(0.999, 1), emaDecay(0.999, 90), emaDecay(0.999, 1e6)); // 0.18181818181818182 0.91 0.999
 * ```
 */
export function emaDecay(decay: number, step: number): number {
  if (!(decay > 0 && decay < 1)) {
    throw new InvalidArgumentError(`EMA decay must be in (0, 1), got ${decay}`);
  }
  if (!Number.isSafeInteger(step) || step < 1) {
    throw new InvalidArgumentError(`EMA step must be an integer >= 1, got ${step}`);
  }
  return Math.min(decay, (1 + step) / (10 + step));
}

/**
 * One EMA update in place: `ema[i] ← d·ema[i] + (1 − d)·params[i]` (float64 arithmetic, float32
 * storage).
 *
 * @example
 * ```ts
 * import { updateEma } from "@soad/soad/internal";
 * const e = new Float32Array([0, 1]);
 * updateEma(e, new Float32Array([1, 1]), 0.75);
 * console.log(e); // Float32Array [0.25, 1]
 * ```
 */
export function updateEma(ema: Float32Array, params: Float32Array, d: number): void {
  if (ema.length !== params.length) {
    throw new InvalidArgumentError(
      `EMA holds ${ema.length} values but the network has ${params.length}`,
    );
  }
  if (!(d >= 0 && d <= 1)) throw new InvalidArgumentError(`EMA decay must be in [0, 1], got ${d}`);
  const c = 1 - d;
  for (let i = 0; i < ema.length; i++) ema[i] = d * ema[i] + c * params[i];
}
