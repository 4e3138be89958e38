/**
 * AdamW on flat float32 parameter vectors with PyTorch's `torch.optim.AdamW` semantics
 * (decoupled weight decay applied before the moment update, bias-corrected moments, eps added
 * to the bias-corrected √v), and the linear learning-rate decay of SOAD's training
 * (`../shared/spec/SOAD.md` §4.3). Arithmetic is float64 per element with float32 storage, so the
 * update is deterministic and identical on every platform.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/** Hyper-parameters of {@link AdamW}. PyTorch defaults except lr and weight decay (SOAD's). */
export interface AdamWOptions {
  /** Base learning rate (SOAD: 1.5e-4). */
  lr: number;
  /** Decoupled weight decay (SOAD: 7.5e-6). */
  weightDecay: number;
  /** β1 (0.9). */
  beta1?: number;
  /** β2 (0.999). */
  beta2?: number;
  /** ε (1e-8). */
  eps?: number;
}

/**
 * The linear decay factor `1 − k/total` (SOAD steps it once per epoch with k = epoch and total =
 * max_epochs; the trainer uses it per optimiser step with k = step index, 0-based), floored at 0.
 *
 * @example
 * ```ts
 * import { linearDecay } from "@soad/soad/internal";
 * console.log(linearDecay(0, 100), linearDecay(50, 100), linearDecay(100, 100)); // 1 0.5 0
 * ```
 */
export function linearDecay(k: number, total: number): number {
  if (!(total > 0)) throw new InvalidArgumentError(`total must be > 0, got ${total}`);
  return Math.max(0, 1 - k / total);
}

/**
 * The learning-rate factor of optimiser step `k` (0-based) in a run of `total` steps: a linear
 * warm-up over the first `warmup` steps, min(1, (k + 1)/warmup), times the linear decay
 * {@link linearDecay}. `warmup` 0 (the default) is the decay alone, as SOAD trains.
 *
 * @example
 * ```ts
 * import { lrFactor } from "@soad/soad/internal";
 * console.log(lrFactor(0, 100, 4), lrFactor(3, 100, 4), lrFactor(50, 100, 0)); // 0.25 0.97 0.5
 * ```
 */
export function lrFactor(k: number, total: number, warmup = 0): number {
  if (!(Number.isInteger(warmup) && warmup >= 0)) {
    throw new InvalidArgumentError(`warmup must be an integer >= 0, got ${warmup}`);
  }
  const up = warmup > 0 ? Math.min(1, (k + 1) / warmup) : 1;
  return up * linearDecay(k, total);
}

/**
 * AdamW state (first and second moments, step count) over one flat parameter vector.
 *
 * @example
 * ```ts
 * import { AdamW } from "@soad/soad/internal";
 * const opt = new AdamW(2, { lr: 0.1, weightDecay: 0.01 });
 * const p = new Float32Array([1, -1]);
 * opt.step(p, new Float32Array([0.5, -0.5]), 0.1);
 * console.log(opt.steps, p[0] < 1, p[1] > -1); // 1 true true
 * ```
 */
export class AdamW {
  /** First moments m (float32, like PyTorch's state). */
  readonly m: Float32Array;
  /** Second moments v. */
  readonly v: Float32Array;
  /** Hyper-parameters with defaults filled in. */
  readonly options: Required<AdamWOptions>;
  #steps = 0;

  /**
   * Creates the optimiser state (zero moments) for `size` parameters.
   * @param size number of parameters
   * @param options learning rate, weight decay, betas, eps
   */
  constructor(size: number, options: AdamWOptions) {
    const o = { beta1: 0.9, beta2: 0.999, eps: 1e-8, ...options };
    for (const [k, v] of Object.entries(o)) {
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
        throw new InvalidArgumentError(`AdamW ${k} must be a finite number >= 0, got ${v}`);
      }
    }
    if (o.beta1 >= 1 || o.beta2 >= 1) {
      throw new InvalidArgumentError(`AdamW betas must be < 1, got ${o.beta1}, ${o.beta2}`);
    }
    this.options = o;
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  /** Number of updates taken (PyTorch's `state["step"]`). */
  get steps(): number {
    return this.#steps;
  }

  /** Restores the moments and step count (from a checkpoint). */
  load(m: Float32Array, v: Float32Array, steps: number): void {
    if (m.length !== this.m.length || v.length !== this.v.length) {
      throw new InvalidArgumentError(
        `AdamW state has ${m.length}/${v.length} values, expected ${this.m.length}`,
      );
    }
    if (!Number.isInteger(steps) || steps < 0) {
      throw new InvalidArgumentError(`AdamW step count must be an integer >= 0, got ${steps}`);
    }
    this.m.set(m);
    this.v.set(v);
    this.#steps = steps;
  }

  /**
   * One update of `params` in place with gradient `grad` at learning rate `lr`:
   * p ← p·(1 − lr·wd); m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²;
   * p ← p − (lr / (1 − β1^k)) · m / (√v / √(1 − β2^k) + ε), k = step count after increment.
   */
  step(params: Float32Array, grad: Float32Array, lr: number): void {
    const n = this.m.length;
    if (params.length !== n || grad.length !== n) {
      throw new InvalidArgumentError(
        `AdamW.step: ${params.length} params / ${grad.length} grads, expected ${n}`,
      );
    }
    const { beta1: b1, beta2: b2, eps, weightDecay: wd } = this.options;
    const k = ++this.#steps;
    const bc1 = 1 - b1 ** k;
    const bc2Sqrt = Math.sqrt(1 - b2 ** k);
    const stepSize = lr / bc1;
    const decay = 1 - lr * wd;
    const m = this.m, v = this.v;
    for (let i = 0; i < n; i++) {
      const g = grad[i];
      // intermediates rounded to float32 where PyTorch stores them (p after decay, m, v)
      const p = Math.fround(params[i] * decay);
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      params[i] = p - stepSize * m[i] / (Math.sqrt(v[i]) / bc2Sqrt + eps);
    }
  }
}
