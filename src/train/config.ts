/**
 * Training configuration (spec §4.3 defaults) and its validation. The configuration is stored in
 * every checkpoint; `--resume` continues with the stored one.
 * @module
 */

import { resolveUNetConfig, type UNetConfig } from "../diffusion/unet_config.ts";
import { InvalidArgumentError } from "../errors.ts";
import { modelLayout } from "../obs/registry.ts";

/** Everything that determines a training run's result (besides the data). */
export interface TrainConfig {
  /**
   * Which prior: `sda` (C = 2), a SOAD model `arctan3x` / `sin3x` (4), `vor2vel` (6), `full`
   * (10), or a SOAD prior for registered user operators (`name`, or `a+b`; C = 2 + theirs).
   */
  model: string;
  /**
   * URLs of modules that register the user operators of `model` (`registerOperator`); imported
   * by every training Worker and on `--resume`.
   */
  operatorModules?: string[];
  /** The U-Net; `channels` must equal the model's C. */
  unet: UNetConfig;
  /** Frames L per training chunk (9). */
  frames: number;
  /** Windows per optimiser step (global batch). */
  batchSize: number;
  /** Length of the run in optimiser steps; the learning rate decays linearly to 0 over it. */
  steps: number;
  /** Base learning rate (spec: 1.5e-4). */
  lr: number;
  /** AdamW decoupled weight decay (spec: 7.5e-6). */
  weightDecay: number;
  /** AdamW β1 (0.9). */
  beta1: number;
  /** AdamW β2 (0.999). */
  beta2: number;
  /** AdamW ε (1e-8). */
  eps: number;
  /** Random circular roll of each training chunk in y and x (the paper's code: on). */
  roll: boolean;
  /** Seed of the data order, chunks, rolls, diffusion times and noise. */
  seed: number;
  /** Seed of the network's random init. */
  initSeed: number;
  /** Write a checkpoint every this many steps (and at the end). */
  checkpointEvery: number;
  /** Evaluate the validation loss every this many steps (and at the end); 0 = never. */
  validEvery: number;
  /** Fixed validation samples (window, chunk, t and noise drawn once from the seed). */
  validSamples: number;
  /**
   * Fraction of training windows whose diffusion time is drawn from U(highTimeFrom, 1) instead of
   * U(0, 1) (default 0 = the spec). Small CPU-scale priors learn the near-identity ε̂ ≈ z_t of the
   * noisiest times too slowly for the sampler's first steps, where x̂0 errors are σ/μ ≈ 1000×
   * the ε error; oversampling them fixes that (docs/results.md). Validation stays U(0, 1).
   */
  highTimeFraction: number;
  /** Lower end of the oversampled diffusion times (default 0.8). */
  highTimeFrom: number;
  /**
   * Decay of the exponential moving average of the weights (`--ema`, e.g. 0.999), in (0, 1);
   * absent = no EMA (0 given resolves to absent, so a run without EMA stores the configuration
   * it always did). With EMA, validation, `best.safetensors` and the step snapshots use the
   * averaged weights while the raw ones keep training (`ema.ts`: warm-up
   * min(decay, (1 + s)/(10 + s))).
   */
  ema?: number;
  /**
   * Linear learning-rate warm-up over the first N optimiser steps (`--warmup`): the rate of step
   * k (0-based) is lr · min(1, (k + 1)/N) · (1 − k/steps) (`lrFactor`). Absent = none (0 given
   * resolves to absent, so a run without warm-up stores the configuration it always did).
   */
  warmup?: number;
  /**
   * Keep the weights of every N-th step as `step-<N>.safetensors` in the run folder (EMA
   * weights when EMA is on): the candidates of `deno task select-prior`. Absent = none.
   */
  keepEvery?: number;
}

/**
 * Defaults of everything except `unet` (derived from the model), `model` and `steps`: spec §4.3
 * (lr 1.5e-4, weight decay 7.5e-6, AdamW betas 0.9/0.999, eps 1e-8, roll on, 9 frames).
 *
 * @example
 * ```ts
 * import { TRAIN_DEFAULTS } from "@soad/soad";
 * console.log(TRAIN_DEFAULTS.lr, TRAIN_DEFAULTS.weightDecay); // 0.00015 0.0000075
 * ```
 */
export const TRAIN_DEFAULTS: Readonly<Omit<TrainConfig, "unet" | "model" | "steps">> = Object
  .freeze({
    frames: 9,
    batchSize: 4,
    lr: 1.5e-4,
    weightDecay: 7.5e-6,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    roll: true,
    seed: 0,
    initSeed: 0,
    checkpointEvery: 100,
    validEvery: 100,
    validSamples: 16,
    highTimeFraction: 0,
    highTimeFrom: 0.8,
  });

/**
 * Fills defaults and validates. `unet` defaults to the paper's network (widths 16/32/64, 3
 * blocks, kernel 5) with the model's channel count. Throws an `InvalidArgumentError` naming the
 * field.
 *
 * @example
 * ```ts
 * import { resolveTrainConfig } from "@soad/soad";
 * const c = resolveTrainConfig({ model: "arctan3x", steps: 1000 });
 * console.log(c.unet.channels, c.lr, c.batchSize); // 4 0.00015 4
 * ```
 */
export function resolveTrainConfig(
  partial: Partial<TrainConfig> & Pick<TrainConfig, "model" | "steps">,
): TrainConfig {
  let C: number;
  try {
    C = modelLayout(partial.model).channels;
  } catch (e) {
    throw new InvalidArgumentError(`model: ${(e as Error).message}`);
  }
  const unet = partial.unet ??
    { channels: C, widths: [16, 32, 64], blocks: 3, kernel: 5, frames: 9 };
  const c: TrainConfig = { ...TRAIN_DEFAULTS, ...partial, unet } as TrainConfig;
  const resolved = resolveUNetConfig(unet);
  if (resolved.channels !== C) {
    throw new InvalidArgumentError(
      `model ${c.model} trains on C = ${C} channels, but the network has ${resolved.channels}`,
    );
  }
  const posInt = ["frames", "batchSize", "steps", "checkpointEvery", "validSamples"] as const;
  for (const k of posInt) {
    if (!Number.isSafeInteger(c[k]) || c[k] < 1) {
      throw new InvalidArgumentError(`${k} must be an integer >= 1, got ${c[k]}`);
    }
  }
  for (const k of ["validEvery", "seed", "initSeed"] as const) {
    if (!Number.isSafeInteger(c[k]) || c[k] < 0) {
      throw new InvalidArgumentError(`${k} must be an integer >= 0, got ${c[k]}`);
    }
  }
  for (const k of ["lr", "weightDecay", "eps"] as const) {
    if (!(Number.isFinite(c[k]) && c[k] >= 0)) {
      throw new InvalidArgumentError(`${k} must be a finite number >= 0, got ${c[k]}`);
    }
  }
  for (const k of ["beta1", "beta2"] as const) {
    if (!(c[k] >= 0 && c[k] < 1)) {
      throw new InvalidArgumentError(`${k} must be in [0, 1), got ${c[k]}`);
    }
  }
  if (!(c.highTimeFraction >= 0 && c.highTimeFraction <= 1)) {
    throw new InvalidArgumentError(`highTimeFraction must be in [0, 1], got ${c.highTimeFraction}`);
  }
  if (!(c.highTimeFrom >= 0 && c.highTimeFrom < 1)) {
    throw new InvalidArgumentError(`highTimeFrom must be in [0, 1), got ${c.highTimeFrom}`);
  }
  if (typeof c.roll !== "boolean") throw new InvalidArgumentError(`roll must be a boolean`);
  if (c.ema === undefined || c.ema === 0) delete c.ema;
  else if (!(typeof c.ema === "number" && c.ema > 0 && c.ema < 1)) {
    throw new InvalidArgumentError(
      `ema (the EMA decay) must be in (0, 1) or 0 = off, got ${c.ema}`,
    );
  }
  // optional step counts: 0 = off resolves to absent, so the stored configuration stays as it was
  for (const k of ["warmup", "keepEvery"] as const) {
    if (c[k] === undefined || c[k] === 0) delete c[k];
    else if (!Number.isSafeInteger(c[k]) || c[k]! < 1) {
      throw new InvalidArgumentError(`${k} must be an integer >= 1 or 0 = off, got ${c[k]}`);
    }
  }
  return { ...c, unet: { ...unet } };
}
