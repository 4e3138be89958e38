/**
 * The training loop of the SOAD / SDA prior (spec §4.3): per step, a batch of random 9-frame
 * chunks (optional circular roll), one diffusion time t ~ U(0, 1) per window, ε-prediction MSE,
 * gradients from a {@link GradEngine} (main thread or data-parallel Workers) averaged in a fixed
 * order, AdamW with a linear decay of the learning rate per step (factor 1 − k/steps; SOAD decays
 * per epoch), gradient-norm logging, validation on fixed samples of the valid split, atomic
 * checkpoints every N steps and at the end, bit-identical `resume`, a progress bar, `log.csv`,
 * `loss.png`, `train.json`.
 *
 * Files in `out`: `checkpoint.safetensors` (full state), `model.safetensors` (final weights),
 * `best.safetensors` (weights of the best validation loss), `log.csv`, `loss.png`, `train.json`;
 * with `config.keepEvery` = N also `step-<s>.safetensors` every N steps. With `config.ema` the
 * run keeps an exponential moving average of the weights (`ema.ts`), updated after every
 * optimiser step and stored in the checkpoint: validation is computed for both the raw and the
 * EMA weights (`valid_loss`, `valid_loss_ema` in the log), `best.safetensors` and the step
 * snapshots hold the EMA weights chosen by the EMA's validation loss, `model-ema.safetensors` the
 * final EMA beside the raw final `model.safetensors`; the raw weights keep training.
 * @module
 */

import type { BackendName } from "../backend/select.ts";
import { BlowUpError, InvalidArgumentError } from "../errors.ts";
import { removeStrayTemporaries, writeJsonAtomic } from "../io/atomic.ts";
import { prepareOutputDir } from "../io/output_dir.ts";
import { Progress, type ProgressStream } from "../io/progress.ts";
import { AdamW, lrFactor } from "./adamw.ts";
import type { TrainConfig } from "./config.ts";
import { writeCheckpoint, writeWeights } from "./checkpoint.ts";
import { type GradEngine, LocalEngine } from "./engine.ts";
import { type StepRecord, writeLog } from "./log.ts";
import { ParamLayout } from "./param_layout.ts";
import type { SampleTask } from "./sample_step.ts";
import { drawChunk, type WindowSource } from "./source.ts";
import { emaDecay, updateEma } from "./ema.ts";
import { streamRng, streamSeed } from "./stream_rng.ts";
import { startState } from "./run_start.ts";
import { WorkerEngine } from "./worker_engine.ts";
import type { NamedTensor } from "../io/safetensors.ts";

/** Options of {@link train}. */
export interface TrainOptions {
  /** Output directory (created). */
  out: string;
  /** Training and validation windows. */
  source: WindowSource;
  /**
   * The configuration of a new run (model and steps required, defaults for the rest). On resume,
   * the fields given must equal the checkpoint's, except `steps` (which may extend the run) and `checkpointEvery`.
   */
  config?: Partial<TrainConfig>;
  /**
   * Continue from `out/checkpoint.safetensors` (bit-identical to an uninterrupted run). The
   * source must be the checkpoint's data (same description and fingerprint, whatever its path).
   */
  resume?: boolean;
  /**
   * A new run only: replace the files of a non-empty `out` (without it, a new run refuses an
   * `out` that holds anything, so that no model, log or checkpoint is silently replaced).
   */
  force?: boolean;
  /**
   * A new run only: start from these trained weights (PyTorch names) instead of the random init —
   * same architecture, the channel count may differ ({@link warmStartWeights}).
   */
  init?: Map<string, NamedTensor>;
  /** Stop (with a checkpoint) once this many steps are done, before the end of the schedule. */
  until?: number;
  /** Data-parallel workers; 0 = compute on the main thread (default: one per core). */
  workers?: number;
  /** Backend of the replicas (default wasm). */
  backend?: BackendName;
  /** An engine to use instead of creating one (tests); it is not closed. */
  engine?: GradEngine;
  /** Progress bar: false for none, or a stream (default stderr). */
  progress?: boolean | ProgressStream;
  /** Aborting stops after the current step with a checkpoint (Ctrl-C in the CLI). */
  signal?: AbortSignal;
  /** Called after every step. */
  onStep?: (r: StepRecord) => void;
}

/** What {@link train} returns. */
export interface TrainResult {
  /** The configuration used. */
  config: TrainConfig;
  /** Steps done (total, including earlier runs when resumed). */
  step: number;
  /** Whether the schedule is complete. */
  finished: boolean;
  /** Records of this run's steps (all steps of `log.csv` when resumed). */
  records: StepRecord[];
  /** Best validation loss so far. */
  bestValid: number | null;
  /** Steps per second of this invocation (excluding validation and checkpoint writing). */
  stepsPerSecond: number;
  /** Final parameters, flat tfjs layout. */
  params: Float32Array;
  /** Final EMA of the parameters (runs with `config.ema`). */
  ema?: Float32Array;
}

/**
 * The training tasks of step `s` (0-based) — all of them, or `count` from sample `from` (the
 * trainer draws a batch in groups so that memory does not grow with it) — a pure function of
 * the seed and s: global sample
 * g = s·B + b takes window perm_e[g mod N] (perm_e a seeded permutation per pass e = ⌊g/N⌋), then
 * chunk start, roll, t and noise seed from g's own stream.
 *
 * @example
 * ```ts
 * import { resolveTrainConfig } from "@soad/soad";
 * import { SyntheticSource } from "@soad/soad";
 * import { stepTasks } from "./trainer.ts";
 * const c = resolveTrainConfig({ model: "sda", steps: 5, batchSize: 2, frames: 3 });
 * const tasks = stepTasks(c, new SyntheticSource({ height: 4, width: 4 }), 0);
 * console.log(tasks.length, tasks[0].t === stepTasks(c, new SyntheticSource({ height: 4, width: 4 }), 0)[0].t); // 2 true
 * ```
 */
export function stepTasks(
  c: TrainConfig,
  src: WindowSource,
  s: number,
  perms: Map<number, Int32Array> = new Map(),
  from = 0,
  count: number = c.batchSize - from,
): SampleTask[] {
  const n = src.count("train");
  const tasks: SampleTask[] = [];
  for (let b = from; b < from + count; b++) {
    const g = s * c.batchSize + b;
    const epoch = Math.floor(g / n);
    let perm = perms.get(epoch);
    if (!perm) {
      perms.clear();
      perm = streamRng(c.seed, "perm", epoch).permutation(n);
      perms.set(epoch, perm);
    }
    const rng = streamRng(c.seed, "sample", g);
    const x = drawChunk(src, "train", perm[g % n], c.frames, c.roll, rng);
    let t = rng.uniform();
    // spec: t ~ U(0, 1); optionally oversample the noisiest times (config.highTimeFraction)
    if (c.highTimeFraction > 0 && rng.uniform() < c.highTimeFraction) {
      t = c.highTimeFrom + (1 - c.highTimeFrom) * t;
    }
    tasks.push({ x, t, noiseSeed: streamSeed(c.seed, "noise", g) });
  }
  return tasks;
}

/**
 * The fixed validation tasks (no roll): window i mod N_valid, chunk, t and noise from the seed.
 *
 * @example
 * ```ts
 * import { resolveTrainConfig } from "@soad/soad";
 * import { SyntheticSource } from "@soad/soad";
 * import { validTasks } from "./trainer.ts";
 * const c = resolveTrainConfig({ model: "sda", steps: 5, frames: 3, validSamples: 3 });
 * console.log(validTasks(c, new SyntheticSource({ height: 4, width: 4 })).length); // 3
 * ```
 */
export function validTasks(c: TrainConfig, src: WindowSource): SampleTask[] {
  const n = src.count("valid");
  if (n === 0 || c.validEvery === 0) return [];
  return Array.from({ length: c.validSamples }, (_, i) => {
    const rng = streamRng(c.seed, "valid", i);
    const x = drawChunk(src, "valid", i % n, c.frames, false, rng);
    return { x, t: rng.uniform(), noiseSeed: streamSeed(c.seed, "valid-noise", i) };
  });
}

/**
 * Sums per-sample gradients in task order (float64) and divides by their count: the gradient of
 * the batch-mean loss, independent of which replica computed which sample.
 *
 * @example
 * ```ts
 * import { averageGradients } from "@soad/soad/internal";
 * const g = averageGradients([new Float32Array([1, 2]), new Float32Array([3, 4])]);
 * console.log(g); // Float32Array [2, 3]
 * ```
 */
export function averageGradients(grads: Float32Array[]): Float32Array {
  const n = grads[0].length;
  const acc = new Float64Array(n);
  for (const g of grads) for (let i = 0; i < n; i++) acc[i] += g[i];
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = acc[i] / grads.length;
  return out;
}

/**
 * Samples computed at once per group of a step: the gradients of a group are held in memory
 * (one per sample) and then added into a float64 sum in sample order, so memory does not grow
 * with the batch and the sum is the one {@link averageGradients} forms (bit-identical).
 *
 * @example
 * ```ts
 * import { gradientGroupSize } from "@soad/soad/internal";
 * console.log(gradientGroupSize(0), gradientGroupSize(2)); // 4 8
 * ```
 */
export function gradientGroupSize(workers: number): number {
  return 4 * Math.max(1, workers);
}

/**
 * Bytes the training loop of this configuration holds (parameters, AdamW moments, the float64
 * gradient sum, one group of per-sample gradients and chunks, the fixed validation chunks) —
 * not the data cache, which has its own budget.
 *
 * @example
 * ```ts
 * import { resolveTrainConfig } from "@soad/soad";
 * import { trainMemoryEstimate } from "@soad/soad/internal";
 * const c = resolveTrainConfig({ model: "sda", steps: 1, validSamples: 8 });
 * console.log(trainMemoryEstimate(c, 1000, 64, 64, 0) > 0); // true
 * ```
 */
export function trainMemoryEstimate(
  c: TrainConfig,
  nParams: number,
  height: number,
  width: number,
  workers: number,
): number {
  const chunk = c.frames * c.unet.channels * height * width * 4;
  const group = gradientGroupSize(workers);
  const valid = c.validEvery > 0 ? c.validSamples : 0;
  return nParams * (4 * 4 + 8 + 4 * group) + (group + valid) * chunk;
}

/** Refuses a configuration whose loop would need more than half the machine's memory. */
function checkMemory(c: TrainConfig, src: WindowSource, workers: number): void {
  const need = trainMemoryEstimate(c, new ParamLayout(c.unet).size, src.height, src.width, workers);
  const limit = Deno.systemMemoryInfo().total / 2;
  if (need > limit) {
    const gib = (b: number) => (b / 2 ** 30).toFixed(2);
    throw new InvalidArgumentError(
      `this run would hold about ${gib(need)} GiB (network, optimiser, one gradient group and ` +
        `${c.validSamples} validation samples), over the limit of ${gib(limit)} GiB (half of ` +
        `this machine's memory); lower --valid-samples, or use a smaller network`,
    );
  }
}

function checkSource(c: TrainConfig, src: WindowSource): void {
  if (src.channels !== 2) {
    throw new InvalidArgumentError(`the data has ${src.channels} state channels; training needs 2`);
  }
  if (src.length < c.frames) {
    throw new InvalidArgumentError(
      `the data's windows have ${src.length} snapshots, fewer than frames = ${c.frames}`,
    );
  }
  const f = 2 ** (c.unet.widths.length - 1);
  if (src.height % f !== 0 || src.width % f !== 0) {
    throw new InvalidArgumentError(
      `grid ${src.height}×${src.width} must be divisible by ${f} for ${c.unet.widths.length} levels`,
    );
  }
}

/**
 * Trains (or resumes training) and returns when the schedule is done, `until` is reached, or
 * `signal` aborts; a checkpoint is written in every case. A non-finite loss or gradient throws a
 * `BlowUpError` and leaves the last good checkpoint in place.
 *
 * @example
 * ```ts
 * import { selectBackend } from "@soad/soad";
 * import { SyntheticSource } from "@soad/soad";
 * import { train } from "@soad/soad";
 * await selectBackend({ prefer: "wasm", quiet: true });
 * const r = await train({
 *   out: await Deno.makeTempDir(),
 *   source: new SyntheticSource({ height: 8, width: 8 }),
 *   config: { model: "sda", steps: 2, batchSize: 2, frames: 3, validSamples: 2,
 *     unet: { channels: 2, widths: [4, 8], blocks: 1, kernel: 3, frames: 3 } },
 *   workers: 0,
 *   progress: false,
 * });
 * console.log(r.step, r.finished); // 2 true
 * ```
 */
export async function train(o: TrainOptions): Promise<TrainResult> {
  const { state, records } = await startState(o);
  const c = state.config;
  checkSource(c, o.source);
  checkMemory(c, o.source, Math.min(o.workers ?? navigator.hardwareConcurrency, c.batchSize));
  state.data = o.source.describe();
  if (o.resume) {
    await prepareOutputDir(o.out, { allowExisting: () => true });
    removeStrayTemporaries(o.out);
  }
  const until = Math.min(o.until ?? c.steps, c.steps);
  if (!Number.isSafeInteger(until) || until < 0) {
    throw new InvalidArgumentError(`until must be an integer >= 0, got ${o.until}`);
  }
  const adam = new AdamW(state.params.length, {
    lr: c.lr,
    weightDecay: c.weightDecay,
    beta1: c.beta1,
    beta2: c.beta2,
    eps: c.eps,
  });
  adam.load(state.m, state.v, state.step);
  state.m = adam.m;
  state.v = adam.v;

  const geometry = {
    model: c.model,
    ...(c.operatorModules ? { operatorModules: c.operatorModules } : {}),
    frames: c.frames,
    height: o.source.height,
    width: o.source.width,
  };
  const nWorkers = Math.min(o.workers ?? navigator.hardwareConcurrency, c.batchSize);
  const engine = o.engine ??
    (nWorkers > 0
      ? await WorkerEngine.create(nWorkers, c.unet, geometry, o.backend ?? "wasm")
      : await LocalEngine.create(c.unet, geometry));
  const valid = validTasks(c, o.source);
  const perms = new Map<number, Int32Array>();
  const nTrain = o.source.count("train");
  const stream = o.progress === false ? undefined : o.progress === true ? undefined : o.progress;
  const bar = o.progress === false ? undefined : new Progress({
    total: Math.max(0, until - state.step),
    label: `train ${c.model}`,
    stream,
  });
  let computeSeconds = 0, stepsDone = 0;

  const save = async (final: boolean): Promise<void> => {
    // the log first: a checkpoint is never on disk without the log of its steps (a resume
    // keeps the log's records up to the checkpoint's step and recomputes the rest)
    await writeLog(o.out, records);
    await writeCheckpoint(`${o.out}/checkpoint.safetensors`, state);
    if (final) await writeWeights(`${o.out}/model.safetensors`, state);
    if (final && state.ema) await writeWeights(`${o.out}/model-ema.safetensors`, state, "ema");
    await writeJsonAtomic(`${o.out}/train.json`, {
      config: c,
      data: state.data,
      step: state.step,
      finished: state.step >= c.steps,
      best_valid: state.bestValid,
      ...(state.ema ? { best_weights: "ema" } : {}),
      workers: engine.workers,
      steps_per_second_last_run: stepsDone / Math.max(computeSeconds, 1e-9),
      last: records.at(-1) ?? null,
    });
  };

  try {
    await engine.setParams(state.params);
    while (state.step < until && !o.signal?.aborted) {
      const t0 = performance.now();
      // the batch in groups: float64 sums in sample order (= averageGradients), bounded memory
      const group = gradientGroupSize(engine.workers);
      const acc = new Float64Array(state.params.length);
      let lossSum = 0;
      for (let b = 0; b < c.batchSize; b += group) {
        const n = Math.min(group, c.batchSize - b);
        const res = await engine.gradients(stepTasks(c, o.source, state.step, perms, b, n));
        for (const r of res) {
          const g = r.grad;
          for (let i = 0; i < acc.length; i++) acc[i] += g[i];
          lossSum += r.loss;
        }
      }
      const grad = new Float32Array(acc.length);
      for (let i = 0; i < acc.length; i++) grad[i] = acc[i] / c.batchSize;
      const loss = lossSum / c.batchSize;
      let sq = 0;
      for (let i = 0; i < grad.length; i++) sq += grad[i] * grad[i];
      const gradNorm = Math.sqrt(sq);
      if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
        await writeLog(o.out, records);
        throw new BlowUpError(
          `training diverged at step ${state.step + 1}: loss ${loss}, gradient norm ${gradNorm}; ` +
            `the last good checkpoint (step ${state.step} or earlier) is kept in ${o.out}; ` +
            `lower --lr and --resume`,
          state.step + 1,
        );
      }
      const lr = c.lr * lrFactor(state.step, c.steps, c.warmup ?? 0);
      adam.step(state.params, grad, lr);
      state.step++;
      if (state.ema) updateEma(state.ema, state.params, emaDecay(c.ema!, state.step));
      await engine.setParams(state.params);
      const seconds = (performance.now() - t0) / 1000;
      computeSeconds += seconds;
      stepsDone++;
      const end = state.step >= until || o.signal?.aborted === true;
      let validLoss: number | null = null, validLossEma: number | null = null;
      if (valid.length && (state.step % c.validEvery === 0 || end)) {
        const mean = (ls: number[]) => ls.reduce((a, b) => a + b, 0) / ls.length;
        validLoss = mean(await engine.losses(valid));
        if (state.ema) {
          await engine.setParams(state.ema);
          validLossEma = mean(await engine.losses(valid));
          await engine.setParams(state.params);
        }
      }
      const rec: StepRecord = {
        step: state.step,
        epoch: (state.step * c.batchSize) / nTrain,
        lr,
        loss,
        gradNorm,
        validLoss,
        seconds,
        ...(state.ema ? { validLossEma } : {}),
      };
      records.push(rec);
      // with EMA, the averaged weights are the ones chosen and kept
      const judged = state.ema ? validLossEma : validLoss;
      const which = state.ema ? "ema" : "raw";
      if (judged !== null && (state.bestValid === null || judged < state.bestValid)) {
        state.bestValid = judged;
        await writeWeights(`${o.out}/best.safetensors`, state, which);
      }
      if (c.keepEvery !== undefined && state.step % c.keepEvery === 0) {
        await writeWeights(`${o.out}/step-${state.step}.safetensors`, state, which);
      }
      if (state.step % c.checkpointEvery === 0 || end) await save(state.step >= c.steps);
      o.onStep?.(rec);
      bar?.tick(
        1,
        `loss ${loss.toPrecision(4)} |g| ${gradNorm.toPrecision(3)}` +
          (validLoss !== null ? ` valid ${validLoss.toPrecision(4)}` : "") +
          (validLossEma !== null ? ` ema ${validLossEma.toPrecision(4)}` : ""),
      );
    }
    if (stepsDone === 0) await save(state.step >= c.steps);
  } finally {
    bar?.done();
    if (!o.engine) await engine.close();
  }
  return {
    config: c,
    step: state.step,
    finished: state.step >= c.steps,
    records,
    bestValid: state.bestValid,
    stepsPerSecond: stepsDone / Math.max(computeSeconds, 1e-9),
    params: state.params,
    ...(state.ema ? { ema: state.ema } : {}),
  };
}
