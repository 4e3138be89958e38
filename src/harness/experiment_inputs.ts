/**
 * Inputs of the evaluation grid from files: U-Net checkpoints (configuration inferred from the
 * tensor shapes, checked against the model's channel count and, when the metadata names it, the
 * model it was trained for) and the test windows of a dataset store, normalised as the
 * checkpoints were trained.
 * @module
 */

import { createUNet, type UNet } from "../diffusion/unet.ts";
import { type UNetConfig, unetConfigFromWeights } from "../diffusion/unet_config.ts";
import { openDatasetStore, readWindow } from "../data/store.ts";
import { InvalidArgumentError } from "../errors.ts";
import { type NamedTensor, readSafetensors, readSafetensorsMetadata } from "../io/safetensors.ts";
import { Q_STD } from "../obs/background.ts";
import { augmentedLayout, type ModelName } from "../obs/layout.ts";
import type { ExperimentData } from "./experiment_config.ts";
import { normalisedMoments } from "../assim/baselines.ts";
import {
  checkPriorMetadata,
  PRIOR_METADATA_KEY,
  type TrainedFor,
} from "../diffusion/prior_info.ts";
import type { SamplerDefaults } from "../diffusion/sampler_defaults.ts";

/** A checked checkpoint, before any network is built ({@link checkExperimentCheckpoint}). */
export interface CheckedCheckpoint {
  /** The tensors (PyTorch names). */
  weights: Map<string, NamedTensor>;
  /** The network configuration inferred from the tensor shapes. */
  config: UNetConfig;
  /** The model named in the metadata (`sda`, `arctan3x`, …), when present. */
  trainedFor?: string;
  /** The normalisation in the metadata, when present. */
  normalisation?: { offset: number[]; std: number[] };
  /** The sampler defaults in the prior's `soad_prior` metadata, when present. */
  sampler?: SamplerDefaults;
  /** What the prior was trained for, from its `soad_prior` metadata, when present. */
  trainedOn?: TrainedFor;
}

/** A loaded checkpoint. */
export interface LoadedCheckpoint {
  /** The network (dispose when done). */
  net: UNet;
  /** Hex SHA-256 of the file (identity for resume). */
  sha256: string;
  /** The model named in the metadata (`sda`, `arctan3x`, …), when present. */
  trainedFor?: string;
  /** The normalisation in the metadata, when present. */
  normalisation?: { offset: number[]; std: number[] };
  /** The sampler defaults in the prior's `soad_prior` metadata, when present. */
  sampler?: SamplerDefaults;
  /** What the prior was trained for, from its `soad_prior` metadata, when present. */
  trainedOn?: TrainedFor;
}

/**
 * Checks the bytes of a checkpoint of grid model `model` (`sda`, `soad-arctan3x`, `soad-sin3x`,
 * `soad-vor2vel`, `soad-full`) without building the network: refuses a file that is not a
 * safetensors U-Net, a channel count that does not fit the model's operators, or metadata naming
 * another model. `what` names the checkpoint in the messages.
 *
 * @example
 * ```ts
 * import { checkExperimentCheckpoint } from "@soad/soad/internal";
 * try {
 *   checkExperimentCheckpoint(new Uint8Array(8), "sda", 9);
 * } catch (e) {
 *   console.log((e as Error).name); // InvalidArgumentError
 * }
 * ```
 */
export function checkExperimentCheckpoint(
  bytes: Uint8Array,
  model: string,
  frames: number,
  what = `checkpoint of ${model}`,
): CheckedCheckpoint {
  const layoutName = model === "sda" ? "sda" : model.replace(/^soad-/, "");
  const layout = augmentedLayout(layoutName as ModelName);
  let w;
  try {
    w = readSafetensors(bytes);
  } catch (e) {
    throw new InvalidArgumentError(`${what}: not a safetensors file (${(e as Error).message})`);
  }
  const first = w.get("down.0.conv.weight");
  if (!first) throw new InvalidArgumentError(`${what}: not a SOAD U-Net (no down.0.conv.weight)`);
  const C = first.shape[1];
  if (C !== layout.channels) {
    throw new InvalidArgumentError(
      `${what} models C = ${C} channels, but ${model} needs C = ${layout.channels} (state + ` +
        `${layout.entries.map((e) => e.operator.name).join(" + ") || "nothing"}): it was ` +
        `trained for another operator set`,
    );
  }
  const meta = readSafetensorsMetadata(bytes);
  const trainedFor = meta.model;
  if (trainedFor !== undefined && trainedFor !== layoutName) {
    throw new InvalidArgumentError(
      `${what} was trained for model "${trainedFor}", expected "${layoutName}"`,
    );
  }
  let normalisation: CheckedCheckpoint["normalisation"];
  if (meta.normalisation) {
    const n = JSON.parse(meta.normalisation);
    if (Array.isArray(n?.std) && n.std.length === 2) {
      normalisation = { offset: Array.isArray(n.offset) ? n.offset : [0, 0], std: n.std };
    }
  }
  let config: UNetConfig;
  try {
    config = unetConfigFromWeights(w, frames);
  } catch (e) {
    throw new InvalidArgumentError(`${what}: ${(e as Error).message}`);
  }
  const pm = meta[PRIOR_METADATA_KEY]
    ? checkPriorMetadata(JSON.parse(meta[PRIOR_METADATA_KEY]), what)
    : undefined;
  return {
    weights: w,
    config,
    trainedFor,
    normalisation,
    ...(pm ? { sampler: pm.sampler, trainedOn: pm.trainedFor } : {}),
  };
}

/**
 * Loads the checkpoint of grid model `model` (`sda`, `soad-arctan3x`, `soad-sin3x`,
 * `soad-vor2vel`, `soad-full`) and refuses, before any sampling, a missing or unreadable file and
 * everything {@link checkExperimentCheckpoint} refuses.
 *
 * @example
 * ```ts
 * import { loadExperimentCheckpoint } from "@soad/soad/internal";
 * try {
 *   await loadExperimentCheckpoint("/nonexistent.safetensors", "sda", 9);
 * } catch (e) {
 *   console.log((e as Error).name); // InvalidArgumentError
 * }
 * ```
 */
export async function loadExperimentCheckpoint(
  path: string,
  model: string,
  frames: number,
): Promise<LoadedCheckpoint> {
  const what = `checkpoint of ${model} (${path})`;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new InvalidArgumentError(`${what}: cannot read it (${(e as Error).message})`);
  }
  const { weights, config, trainedFor, normalisation, sampler, trainedOn } =
    checkExperimentCheckpoint(
      bytes,
      model,
      frames,
      what,
    );
  let net: UNet;
  try {
    net = await createUNet(config, { weights });
  } catch (e) {
    throw new InvalidArgumentError(`${what}: ${(e as Error).message}`);
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(bytes)));
  const sha256 = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
  return {
    net,
    sha256,
    trainedFor,
    normalisation,
    ...(sampler ? { sampler } : {}),
    ...(trainedOn ? { trainedOn } : {}),
  };
}

/** The store split a grid evaluates on: `test` (the paper's protocol) or `valid` (model selection). */
export type EvaluationSplit = "test" | "valid";

/**
 * The test (or validation) split of a dataset store as {@link ExperimentData}: window i is the
 * store's window `split.test[0] + i` (`split.valid[0] + i`), normalised x = (q − offset)/std
 * with the given normalisation, else the store's `norm_std` (no mean removal, as training does
 * by default), else the spec's fixed per-layer std.
 *
 * @example
 * ```ts
 * import { storeExperimentData } from "@soad/soad";
 * try {
 *   storeExperimentData("/nonexistent.zarr");
 * } catch (e) {
 *   console.log((e as Error).name); // InvalidArgumentError
 * }
 * ```
 */
export function storeExperimentData(
  path: string,
  normalisation?: { offset: number[]; std: number[] },
  split: EvaluationSplit = "test",
): ExperimentData {
  if (split !== "test" && split !== "valid") {
    throw new InvalidArgumentError(`split must be test or valid, got ${split}`);
  }
  const store = openDatasetStore(path);
  const [t0, t1] = store.attrs.split[split];
  if (!(t1 > t0)) {
    throw new InvalidArgumentError(`${path} has no ${split} windows (split ${t0}..${t1})`);
  }
  const norm = normalisation ??
    { offset: [0, 0], std: store.attrs.norm_std ? [...store.attrs.norm_std] : [...Q_STD] };
  const first = readWindow(store, t0);
  const T = store.config.window;
  const R = first.length / (T * 2), n = Math.round(Math.sqrt(R));
  if (n * n !== R) throw new InvalidArgumentError(`${path}: windows are not square grids`);
  const cache = new Map<number, Float32Array>();
  const { norm_mean: mean, norm_std: std } = store.attrs;
  // the training split's moments in the normalised units the cells use (for the baselines)
  const climatology = mean && std ? normalisedMoments(mean, std, norm) : undefined;
  return {
    count: t1 - t0,
    length: T,
    height: n,
    width: n,
    normalisation: norm,
    ...(climatology ? { climatology } : {}),
    window(i: number): Float32Array {
      if (!(Number.isInteger(i) && i >= 0 && i < t1 - t0)) {
        throw new InvalidArgumentError(
          `${split} window ${i} is out of range; ${path} has ${t1 - t0} ${split} windows`,
        );
      }
      let x = cache.get(i);
      if (!x) {
        x = readWindow(store, t0 + i);
        for (let f = 0; f < T * 2; f++) {
          const c = f % 2, off = norm.offset[c], inv = 1 / norm.std[c];
          for (let k = f * R; k < (f + 1) * R; k++) x[k] = (x[k] - off) * inv;
        }
        cache.set(i, x);
      }
      return x;
    },
  };
}
