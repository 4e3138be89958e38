/**
 * Training checkpoints: one safetensors file with the weights under their PyTorch names (so
 * `readSafetensors` + `UNet.setWeights` loads it like any weights file, extra names aside), the
 * AdamW moments as `optim.exp_avg.<name>` / `optim.exp_avg_sq.<name>` (PyTorch's state names),
 * the EMA of the weights as `ema.<name>` when the run averages them (`config.ema`),
 * and metadata: step, optimiser step count, training configuration, data description with the
 * normalisation, RNG state (the counter-based streams need only seed and step) and best
 * validation loss. Written atomically. Also weights-only files for the sampler (raw or EMA
 * weights; an EMA run's files say which in their `ema` metadata).
 * @module
 */

import { IntegrityError, InvalidArgumentError, SoadError } from "../errors.ts";
import { crc32 } from "../io/crc32.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import {
  type NamedTensor,
  readSafetensors,
  readSafetensorsMetadata,
  writeSafetensors,
} from "../io/safetensors.ts";
import type { TrainConfig } from "./config.ts";
import { ParamLayout } from "./param_layout.ts";
import { modelLayout } from "../obs/registry.ts";
import { type PriorMetadata, priorMetadata } from "../diffusion/prior_info.ts";
import { SPEC_SAMPLER } from "../diffusion/sampler_defaults.ts";

/** Format tag in the metadata of a training checkpoint. */
export const CHECKPOINT_FORMAT = "soad-train-checkpoint/1";

/** The full state of a training run after `step` optimiser steps. */
export interface TrainState {
  /** Training configuration. */
  config: TrainConfig;
  /** Optimiser steps taken. */
  step: number;
  /** Parameters, flat tfjs layout. */
  params: Float32Array;
  /** AdamW first moments, same layout. */
  m: Float32Array;
  /** AdamW second moments. */
  v: Float32Array;
  /** Best validation loss so far (null if never evaluated). */
  bestValid: number | null;
  /** The data source's description (path, normalisation). */
  data: Record<string, unknown>;
  /** The exponential moving average of the weights (when `config.ema` is set), same layout. */
  ema?: Float32Array;
}

/**
 * CRC-32 (hex) of the float32 bytes of the given arrays, in order: recorded in the metadata of
 * checkpoints (weights, then both moments) and weights files, and checked when they are read.
 *
 * @example
 * ```ts
 * import { valuesCrc32 } from "@soad/soad/internal";
 * console.log(valuesCrc32(new Float32Array([1])) === valuesCrc32(new Float32Array([1]))); // true
 * ```
 */
export function valuesCrc32(...arrays: Float32Array[]): string {
  let c = 0;
  for (const a of arrays) c = crc32(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), c);
  return c.toString(16).padStart(8, "0");
}

/**
 * The `soad_prior` record of a run's weights: what the network is trained for (model, its
 * operators and channels, grid, frames, dataset), the normalisation and the data's climatology,
 * and the spec's sampler defaults (`deno task ship-prior --t-max` / `prior-metadata` set others
 * once `deno task eps-profile` has measured them). Absent when the data record no std.
 */
const isPhysics = (v: unknown): v is Record<string, number> =>
  v !== null && typeof v === "object" && !Array.isArray(v) &&
  Object.values(v).every((x) => typeof x === "number" && Number.isFinite(x));

function priorRecord(s: TrainState): Record<string, string> {
  const d = s.data as Record<string, unknown>;
  const nums = (v: unknown): v is number[] =>
    Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === "number");
  if (!nums(d.norm_std)) return {};
  const layout = modelLayout(s.config.model);
  const m: PriorMetadata = {
    version: 1,
    trainedFor: {
      method: s.config.model === "sda" ? "sda" : "soad",
      model: s.config.model,
      operators: layout.entries.map((e) => ({
        name: e.operator.name,
        channels: e.operator.outChannels,
      })),
      channels: layout.channels,
      ...(nums(d.grid) ? { grid: [d.grid[0], d.grid[1]] as [number, number] } : {}),
      frames: s.config.frames,
      ...(typeof d.config_name === "string" ? { dataset: d.config_name } : {}),
      ...(isPhysics(d.physics) ? { physics: d.physics } : {}),
    },
    normalisation: { offset: nums(d.norm_offset) ? d.norm_offset : [0, 0], std: d.norm_std },
    sampler: { ...SPEC_SAMPLER },
    ...(nums(d.norm_mean) ? { climatology: { mean: d.norm_mean, std: d.norm_std } } : {}),
    note: "sampler defaults: the spec's (set them with deno task ship-prior --t-max/--steps)",
  };
  return priorMetadata(m);
}

/** The arrays a checkpoint's CRC-32 covers: weights, both moments, then the EMA if any. */
function checkpointArrays(s: TrainState): Float32Array[] {
  return s.ema ? [s.params, s.m, s.v, s.ema] : [s.params, s.m, s.v];
}

function meta(s: TrainState, kind: string): Record<string, string> {
  return {
    ...priorRecord(s),
    format: kind,
    step: String(s.step),
    model: s.config.model,
    unet: JSON.stringify(s.config.unet),
    config: JSON.stringify(s.config),
    data: JSON.stringify(s.data),
    normalisation: JSON.stringify({
      offset: s.data.norm_offset ?? null,
      std: s.data.norm_std ?? null,
    }),
    rng: JSON.stringify({ kind: "counter-streams", seed: s.config.seed, step: s.step }),
    best_valid: JSON.stringify(s.bestValid),
    crc32: kind === CHECKPOINT_FORMAT ? valuesCrc32(...checkpointArrays(s)) : valuesCrc32(s.params),
  };
}

function checkEma(s: TrainState): void {
  if ((s.config.ema !== undefined) !== (s.ema !== undefined)) {
    throw new InvalidArgumentError(
      s.ema
        ? "the training state holds EMA weights but its configuration has no ema decay"
        : `the configuration averages the weights (ema ${s.config.ema}) but the state has no EMA`,
    );
  }
}

/**
 * Serialises a training state (weights, moments, metadata) to safetensors bytes.
 *
 * @example
 * ```ts
 * import { resolveTrainConfig } from "@soad/soad";
 * import { decodeCheckpoint, encodeCheckpoint } from "./checkpoint.ts";
 * import { ParamLayout } from "./param_layout.ts";
 * const unet = { channels: 2, widths: [4], blocks: 1, kernel: 3, frames: 3 };
 * const config = resolveTrainConfig({ model: "sda", steps: 10, unet });
 * const n = new ParamLayout(unet).size;
 * const z = () => new Float32Array(n);
 * const bytes = encodeCheckpoint({
 *   config, step: 3, params: z(), m: z(), v: z(), bestValid: null, data: {},
 * });
 * console.log(decodeCheckpoint(bytes).step); // 3
 * ```
 */
export function encodeCheckpoint(s: TrainState): Uint8Array {
  checkEma(s);
  const layout = new ParamLayout(s.config.unet);
  const tensors = new Map<string, NamedTensor>([
    ...layout.toTorch(s.params),
    ...layout.toTorch(s.m, "optim.exp_avg."),
    ...layout.toTorch(s.v, "optim.exp_avg_sq."),
    ...(s.ema ? layout.toTorch(s.ema, "ema.") : []),
  ]);
  return writeSafetensors(tensors, meta(s, CHECKPOINT_FORMAT));
}

function parseJson<T>(m: Record<string, string>, key: string, what: string): T {
  if (!(key in m)) throw new InvalidArgumentError(`${what}: metadata has no "${key}"`);
  try {
    return JSON.parse(m[key]) as T;
  } catch {
    throw new InvalidArgumentError(`${what}: metadata "${key}" is not valid JSON`);
  }
}

/**
 * Parses checkpoint bytes. Throws an `InvalidArgumentError` when the file is not a training
 * checkpoint or its tensors do not match its configuration's network.
 *
 * @example
 * ```ts
 * import { decodeCheckpoint } from "./checkpoint.ts";
 * import { writeSafetensors } from "@soad/soad";
 * try {
 *   decodeCheckpoint(writeSafetensors({}));
 * } catch (e) {
 *   console.log((e as Error).name); // InvalidArgumentError
 * }
 * ```
 */
export function decodeCheckpoint(bytes: Uint8Array, what = "checkpoint"): TrainState {
  const m = readSafetensorsMetadata(bytes);
  if (m.format !== CHECKPOINT_FORMAT) {
    throw new InvalidArgumentError(
      `${what} is not a soad training checkpoint (format "${m.format ?? "none"}", expected ` +
        `"${CHECKPOINT_FORMAT}")`,
    );
  }
  const config = parseJson<TrainConfig>(m, "config", what);
  const step = Number(m.step);
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new InvalidArgumentError(`${what}: bad step "${m.step}"`);
  }
  const tensors = readSafetensors(bytes);
  const layout = new ParamLayout(config.unet);
  const at = (prefix: string): Float32Array => {
    try {
      return layout.fromTorch(tensors, prefix);
    } catch (e) {
      throw new InvalidArgumentError(`${what} does not match its network: ${(e as Error).message}`);
    }
  };
  const params = at(""), mom = at("optim.exp_avg."), v = at("optim.exp_avg_sq.");
  const ema = config.ema !== undefined ? at("ema.") : undefined;
  const arrays = ema ? [params, mom, v, ema] : [params, mom, v];
  if (m.crc32 !== undefined && m.crc32 !== valuesCrc32(...arrays)) {
    throw new IntegrityError(
      `${what} is damaged: its tensors fail the CRC-32 recorded in its metadata (${m.crc32}); ` +
        `restore it from a copy or resume from another checkpoint`,
    );
  }
  return {
    config,
    step,
    params,
    m: mom,
    v,
    bestValid: parseJson<number | null>(m, "best_valid", what),
    data: parseJson<Record<string, unknown>>(m, "data", what),
    ...(ema ? { ema } : {}),
  };
}

/**
 * Writes a checkpoint atomically (temp file + rename).
 *
 * @example
 * ```ts
 * import { readCheckpoint, writeCheckpoint } from "@soad/soad/internal";
 * import { resolveTrainConfig } from "@soad/soad";
 * import { ParamLayout } from "./param_layout.ts";
 * const unet = { channels: 2, widths: [4], blocks: 1, kernel: 3, frames: 3 };
 * const config = resolveTrainConfig({ model: "sda", steps: 10, unet });
 * const z = () => new Float32Array(new ParamLayout(unet).size);
 * const path = (await Deno.makeTempDir()) + "/ckpt.safetensors";
 * await writeCheckpoint(path, { config, step: 1, params: z(), m: z(), v: z(), bestValid: 2, data: {} });
 * console.log((await readCheckpoint(path)).bestValid); // 2
 * ```
 */
export async function writeCheckpoint(path: string, s: TrainState): Promise<void> {
  await writeFileAtomic(path, encodeCheckpoint(s));
}

/**
 * Reads a checkpoint file (throws a `SoadError` naming the path when it cannot be read, an
 * `InvalidArgumentError` when it is not a valid checkpoint).
 *
 * @example
 * ```ts
 * import { readCheckpoint } from "@soad/soad/internal";
 * try {
 *   await readCheckpoint("/nonexistent/checkpoint.safetensors");
 * } catch (e) {
 *   console.log((e as Error).name); // SoadError
 * }
 * ```
 */
export async function readCheckpoint(path: string): Promise<TrainState> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new SoadError(`cannot read checkpoint ${path}: ${(e as Error).message}`);
  }
  return decodeCheckpoint(bytes, `checkpoint ${path}`);
}

/**
 * Writes the weights alone (PyTorch names and layouts, loadable with `readSafetensors` +
 * `UNet.setWeights` or by PyTorch's `safetensors.torch.load_file`), atomically, with the
 * network, model, normalisation and step in the metadata. `which` picks the raw weights (default)
 * or their EMA (`state.ema`); the files of an EMA run record which in the `ema` metadata key.
 *
 * @example
 * ```ts
 * import { writeWeights } from "@soad/soad/internal";
 * import { resolveTrainConfig } from "@soad/soad";
 * import { ParamLayout } from "./param_layout.ts";
 * const unet = { channels: 2, widths: [4], blocks: 1, kernel: 3, frames: 3 };
 * const config = resolveTrainConfig({ model: "sda", steps: 10, unet });
 * const z = () => new Float32Array(new ParamLayout(unet).size);
 * const path = (await Deno.makeTempDir()) + "/model.safetensors";
 * await writeWeights(path, { config, step: 1, params: z(), m: z(), v: z(), bestValid: null, data: {} });
 * ```
 */
export async function writeWeights(
  path: string,
  s: TrainState,
  which: "raw" | "ema" = "raw",
): Promise<void> {
  checkEma(s);
  if (which === "ema" && !s.ema) {
    throw new InvalidArgumentError(`cannot write EMA weights to ${path}: the run has no EMA`);
  }
  const params = which === "ema" ? s.ema! : s.params;
  const layout = new ParamLayout(s.config.unet);
  const md = meta({ ...s, params }, "soad-unet-weights/1");
  delete md.rng;
  if (s.config.ema !== undefined) {
    md.ema = JSON.stringify({ decay: s.config.ema, weights: which });
  }
  await writeFileAtomic(path, writeSafetensors(layout.toTorch(params), md));
}
