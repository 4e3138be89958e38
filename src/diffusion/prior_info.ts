/**
 * What a prior's weights file says about itself: the `soad_prior` entry of its safetensors
 * `__metadata__` (JSON) — what it was trained for (method, operators, channels, grid, frames,
 * dataset), its normalisation of physical q, the training data's climatology and the sampler
 * defaults (t-max, K) it should be run with. Files written before this entry existed (plain
 * training runs) are read from their older keys (`model`, `unet`, `data`, `normalisation`), with
 * the spec's sampler defaults.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import {
  type NamedTensor,
  readSafetensors,
  readSafetensorsMetadata,
  replaceSafetensorsMetadata,
} from "../io/safetensors.ts";
import { modelLayout } from "../obs/registry.ts";
import { type ResolvedUNetConfig, unetConfigFromWeights } from "./unet_config.ts";
import { type SamplerDefaults, SPEC_SAMPLER } from "./sampler_defaults.ts";
import { checkSparseSampler } from "./sparse_sampler.ts";

/** The `__metadata__` key that holds a prior's {@link PriorMetadata} as JSON. */
export const PRIOR_METADATA_KEY = "soad_prior";

/** Normalisation of physical q per layer: x = (q − offset[layer]) / std[layer]. */
export interface Normalisation {
  /** Subtracted per layer (the shipped priors: 0, no mean removal). */
  offset: number[];
  /** Divided by per layer (the training split's std). */
  std: number[];
}

/** What a prior was trained for. */
export interface TrainedFor {
  /** `"soad"` (augmented state) or `"sda"` (state only). */
  method: "soad" | "sda";
  /** The model name (`sda`, `arctan3x`, `full`, or the user's operator names joined with `+`). */
  model: string;
  /** The operators whose outputs follow the 2 state channels, in order, with their channel counts. */
  operators: { name: string; channels: number }[];
  /** Channels C of the network's state (2 + the operators' channels). */
  channels: number;
  /** Grid `[ny, nx]` of the training windows (absent when unknown). */
  grid?: [number, number];
  /** Frames L per training window. */
  frames: number;
  /** The training data's configuration name (`demo`, …), when known. */
  dataset?: string;
  /**
   * The training data's physics (every QG parameter but dt, the pooling, the snapshot interval;
   * `dataPhysics`), when recorded: what the fit to data is judged by, not the name.
   */
  physics?: Record<string, number>;
}

/** The physical moments of the training data per layer (climatology), when known. */
export interface Climatology {
  /** Mean of q per layer [1/s]. */
  mean: number[];
  /** Standard deviation of q per layer [1/s]. */
  std: number[];
}

/** The JSON stored under {@link PRIOR_METADATA_KEY}. */
export interface PriorMetadata {
  /** Schema version (1). */
  version: 1;
  /** What the prior was trained for. */
  trainedFor: TrainedFor;
  /** Normalisation of physical q. */
  normalisation: Normalisation;
  /** Sampler defaults. */
  sampler: SamplerDefaults;
  /** The training data's per-layer moments, when known. */
  climatology?: Climatology;
  /** Free text: where the sampler defaults come from. */
  note?: string;
}

/** Everything a weights file says about a prior, before any network is built. */
export interface PriorInfo extends PriorMetadata {
  /** The tensors (PyTorch names). */
  weights: Map<string, NamedTensor>;
  /** The network configuration (from the tensor shapes; frames from the metadata). */
  config: ResolvedUNetConfig;
  /** Whether the metadata was derived from pre-`soad_prior` keys (sampler = the spec's). */
  legacy: boolean;
  /** The raw `__metadata__`. */
  metadata: Record<string, string>;
}

function isNums(v: unknown, n?: number): v is number[] {
  return Array.isArray(v) && (n === undefined || v.length === n) &&
    v.every((x) => typeof x === "number" && Number.isFinite(x));
}

function parse(meta: Record<string, string>, key: string, what: string): unknown {
  try {
    return JSON.parse(meta[key]);
  } catch {
    throw new InvalidArgumentError(`${what}: metadata "${key}" is not valid JSON`);
  }
}

/**
 * Checks a {@link PriorMetadata} object and returns it; throws an `InvalidArgumentError` naming
 * the first bad field.
 *
 * @example
 * ```ts
 * import { checkPriorMetadata } from "@soad/soad";
 * const m = checkPriorMetadata({
 *   version: 1,
 *   trainedFor: { method: "sda", model: "sda", operators: [], channels: 2, frames: 9 },
 *   normalisation: { offset: [0, 0], std: [1, 1] },
 *   sampler: { tMax: 1, steps: 256 },
 * });
 * console.log(m.sampler.tMax); // 1
 * ```
 */
export function checkPriorMetadata(m: unknown, what = "prior metadata"): PriorMetadata {
  const bad = (field: string, expected: string): never => {
    throw new InvalidArgumentError(`${what}: ${field} must be ${expected}`);
  };
  if (m === null || typeof m !== "object") bad("soad_prior", "a JSON object");
  const o = m as Record<string, unknown>;
  if (o.version !== 1) bad("version", "1");
  const t = o.trainedFor as Record<string, unknown> | undefined;
  if (!t || typeof t !== "object") bad("trainedFor", "an object");
  if (t!.method !== "soad" && t!.method !== "sda") bad("trainedFor.method", '"soad" or "sda"');
  if (typeof t!.model !== "string") bad("trainedFor.model", "a string");
  const ops = t!.operators;
  if (
    !Array.isArray(ops) ||
    !ops.every((e) =>
      e && typeof e.name === "string" && Number.isInteger(e.channels) && e.channels > 0
    )
  ) {
    bad("trainedFor.operators", "a list of { name, channels }");
  }
  if (!Number.isInteger(t!.channels)) bad("trainedFor.channels", "an integer");
  const sum = 2 + (ops as { channels: number }[]).reduce((s, e) => s + e.channels, 0);
  if (t!.channels !== sum) {
    bad("trainedFor.channels", `2 + the operators' channels = ${sum}, not ${t!.channels}`);
  }
  if (t!.grid !== undefined && !isNums(t!.grid, 2)) bad("trainedFor.grid", "[ny, nx]");
  const ph = t!.physics;
  if (
    ph !== undefined &&
    (ph === null || typeof ph !== "object" || Array.isArray(ph) ||
      !Object.values(ph).every((v) => typeof v === "number" && Number.isFinite(v)))
  ) {
    bad("trainedFor.physics", "an object of finite numbers");
  }
  if (!Number.isInteger(t!.frames) || (t!.frames as number) < 1) {
    bad("trainedFor.frames", "a positive integer");
  }
  const n = o.normalisation as Record<string, unknown> | undefined;
  if (!n || !isNums(n.offset, 2) || !isNums(n.std, 2) || !(n.std as number[]).every((s) => s > 0)) {
    bad("normalisation", "{ offset: [2 numbers], std: [2 positive numbers] }");
  }
  const s = o.sampler as Record<string, unknown> | undefined;
  if (
    !s || typeof s.tMax !== "number" || !(s.tMax > 0 && s.tMax <= 1) ||
    !Number.isInteger(s.steps) || (s.steps as number) < 1
  ) {
    bad("sampler", "{ tMax in (0, 1], steps: a positive integer }");
  }
  if (
    s!.tau !== undefined && !(typeof s!.tau === "number" && s!.tau > 0 && Number.isFinite(s!.tau))
  ) {
    bad("sampler.tau", "a finite number > 0 (or absent: 0.25)");
  }
  if (
    s!.sigmaX !== undefined &&
    !(typeof s!.sigmaX === "number" && s!.sigmaX > 0 && Number.isFinite(s!.sigmaX))
  ) {
    bad("sampler.sigmaX", "a finite number > 0 (or absent: 1, the spec's)");
  }
  if (
    s!.clipScale !== undefined &&
    !(typeof s!.clipScale === "number" && s!.clipScale > 0 && Number.isFinite(s!.clipScale))
  ) {
    bad("sampler.clipScale", "a finite number > 0 (or absent: 1, the spec's)");
  }
  if (s!.backgroundLikelihood !== undefined && typeof s!.backgroundLikelihood !== "boolean") {
    bad("sampler.backgroundLikelihood", "a boolean (or absent: false, the FDC only)");
  }
  if (s!.sparse !== undefined) {
    const sparse = checkSparseSampler(s!.sparse, `${what}: sampler.sparse`);
    if (t!.method === "sda" && sparse.sigmaX !== undefined) {
      bad("sampler.sparse.sigmaX", "absent for an SDA prior (σx is SOAD's likelihood coefficient)");
    }
  }
  const c = o.climatology as Record<string, unknown> | undefined;
  if (c !== undefined && (!isNums(c.mean, 2) || !isNums(c.std, 2))) {
    bad("climatology", "{ mean: [2 numbers], std: [2 numbers] }");
  }
  return m as PriorMetadata;
}

/**
 * Derives {@link PriorMetadata} from the keys training wrote before `soad_prior` existed
 * (`model`, `unet`, `data`, `normalisation`), with the spec's sampler defaults.
 */
function legacyMetadata(
  meta: Record<string, string>,
  what: string,
  fallback?: Normalisation,
): PriorMetadata {
  const model = meta.model;
  if (model === undefined) {
    throw new InvalidArgumentError(
      `${what} has no "${PRIOR_METADATA_KEY}" or "model" metadata, so nothing says what it was ` +
        `trained for; add it with priorMetadata() + replaceSafetensorsMetadata(), or load the ` +
        `network with createUNet(unetConfigFromWeights(weights), { weights })`,
    );
  }
  const unet = meta.unet ? parse(meta, "unet", what) as { frames?: number } : {};
  const data = meta.data ? parse(meta, "data", what) as Record<string, unknown> : {};
  const norm = meta.normalisation
    ? parse(meta, "normalisation", what) as { offset?: unknown; std?: unknown }
    : {};
  const std = isNums(norm.std, 2)
    ? norm.std
    : isNums(data.norm_std, 2)
    ? data.norm_std
    : fallback?.std;
  if (!std) {
    throw new InvalidArgumentError(
      `${what}: its metadata records no normalisation (std per layer)`,
    );
  }
  const offset = isNums(norm.offset, 2) ? norm.offset : fallback?.offset ?? [0, 0];
  const layout = modelLayout(model);
  return {
    version: 1,
    trainedFor: {
      method: model === "sda" ? "sda" : "soad",
      model,
      operators: layout.entries.map((e) => ({
        name: e.operator.name,
        channels: e.operator.outChannels,
      })),
      channels: layout.channels,
      ...(isNums(data.grid, 2) ? { grid: [data.grid[0], data.grid[1]] as [number, number] } : {}),
      frames: Number.isInteger(unet.frames) ? unet.frames! : 9,
      ...(typeof data.config_name === "string" ? { dataset: data.config_name } : {}),
    },
    normalisation: { offset, std },
    sampler: { ...SPEC_SAMPLER },
    note: "derived from pre-soad_prior metadata; sampler defaults are the spec's",
  };
}

/**
 * Reads a prior's weights file: its tensors, network configuration and {@link PriorMetadata}
 * (from `soad_prior`, else derived from older keys). Refuses a file that is not a SOAD U-Net,
 * holds non-finite weights, or whose metadata disagrees with its tensors (channel count), naming the file as `what`.
 * `fallback` is the normalisation of an old file that records none (e.g. the data store's).
 *
 * @example
 * ```ts
 * import { readPriorInfo } from "@soad/soad";
 * try {
 *   readPriorInfo(new Uint8Array(8), "x.safetensors");
 * } catch (e) {
 *   console.log((e as Error).name); // InvalidArgumentError
 * }
 * ```
 */
export function readPriorInfo(
  bytes: Uint8Array,
  what = "prior",
  fallback?: Normalisation,
): PriorInfo {
  let weights: Map<string, NamedTensor>, metadata: Record<string, string>;
  try {
    weights = readSafetensors(bytes);
    metadata = readSafetensorsMetadata(bytes);
  } catch (e) {
    throw new InvalidArgumentError(`${what}: not a safetensors file (${(e as Error).message})`);
  }
  let config: ResolvedUNetConfig;
  try {
    config = unetConfigFromWeights(weights) as ResolvedUNetConfig;
  } catch (e) {
    throw new InvalidArgumentError(`${what}: ${(e as Error).message}`);
  }
  for (const [name, t] of weights) {
    if (!t.data.every(Number.isFinite)) {
      throw new InvalidArgumentError(
        `${what}: tensor "${name}" holds non-finite values (NaN or ±Inf): the weights are broken`,
      );
    }
  }
  const legacy = metadata[PRIOR_METADATA_KEY] === undefined;
  const m = legacy
    ? legacyMetadata(metadata, what, fallback)
    : checkPriorMetadata(parse(metadata, PRIOR_METADATA_KEY, what), what);
  if (m.trainedFor.channels !== config.channels) {
    throw new InvalidArgumentError(
      `${what}: its metadata says ${m.trainedFor.channels} channels (model ` +
        `"${m.trainedFor.model}") but its network has ${config.channels}`,
    );
  }
  return {
    ...m,
    weights,
    config: { ...config, frames: m.trainedFor.frames },
    legacy,
    metadata,
  };
}

/**
 * The `__metadata__` entry (`{ soad_prior: JSON }`) for a prior; merge it into the metadata of
 * a weights file (training and `deno task ship-prior` do).
 *
 * @example
 * ```ts
 * import { priorMetadata } from "@soad/soad";
 * const m = priorMetadata({
 *   version: 1,
 *   trainedFor: { method: "sda", model: "sda", operators: [], channels: 2, frames: 9 },
 *   normalisation: { offset: [0, 0], std: [1, 1] },
 *   sampler: { tMax: 0.85, steps: 64 },
 * });
 * console.log(Object.keys(m)); // ["soad_prior"]
 * ```
 */
export function priorMetadata(m: PriorMetadata): Record<string, string> {
  return { [PRIOR_METADATA_KEY]: JSON.stringify(checkPriorMetadata(m)) };
}

/** Fields {@link withPriorMetadata} sets (the rest are kept or derived). */
export interface PriorMetadataPatch {
  /** Sampler defaults (merged into the current ones). */
  sampler?: Partial<SamplerDefaults>;
  /** The training data's climatology. */
  climatology?: Climatology;
  /** What it was trained for (merged into the current record). */
  trainedFor?: Partial<TrainedFor>;
  /** Note (where the sampler defaults come from). */
  note?: string;
}

/**
 * Returns `bytes` (a prior's weights) with its `soad_prior` metadata set: the current record
 * (or one derived from older keys) merged with `patch`; every tensor byte and every other
 * metadata key unchanged. How `deno task prior-metadata` and `ship-prior` write sampler defaults.
 *
 * @example
 * ```ts
 * import { readPriorInfo, withPriorMetadata } from "@soad/soad";
 * import { initUNetWeights } from "@soad/soad/internal";
 * import { writeSafetensors } from "@soad/soad";
 * const w = initUNetWeights({ channels: 2, widths: [4], blocks: 1, kernel: 3, frames: 9 }, 0);
 * const old = writeSafetensors(w, { model: "sda", normalisation: '{"offset":[0,0],"std":[1,1]}' });
 * const bytes = withPriorMetadata(old, { sampler: { tMax: 0.85, steps: 64 } });
 * console.log(readPriorInfo(bytes).sampler); // { tMax: 0.85, steps: 64 }
 * ```
 */
export function withPriorMetadata(
  bytes: Uint8Array,
  patch: PriorMetadataPatch,
  what = "prior",
  fallback?: Normalisation,
): Uint8Array {
  const info = readPriorInfo(bytes, what, fallback);
  const m: PriorMetadata = {
    version: 1,
    trainedFor: { ...info.trainedFor, ...patch.trainedFor },
    normalisation: info.normalisation,
    sampler: { ...info.sampler, ...patch.sampler },
    ...(patch.climatology ?? info.climatology
      ? { climatology: patch.climatology ?? info.climatology }
      : {}),
  };
  const note = patch.note ?? (info.legacy ? undefined : info.note);
  if (note !== undefined) m.note = note;
  return replaceSafetensorsMetadata(bytes, { ...info.metadata, ...priorMetadata(m) });
}
