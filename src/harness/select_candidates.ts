/**
 * The candidates of checkpoint selection (`deno task select-prior`): weights files read and
 * checked against each other and against the data before anything is sampled. Candidates must be
 * priors of one model (so one method and one operator set), one grid and one window length;
 * their normalisation and training configuration must also agree with each other and with the
 * data unless the caller allows a mismatch (then every candidate sees the data normalised as the
 * first one was trained). The sampler's K and t-max come from the caller, else from the
 * candidates' metadata, which must then agree: every candidate is scored with the same sampler.
 * @module
 */

import type { UNetConfig } from "../diffusion/unet_config.ts";
import type { TrainedFor } from "../diffusion/prior_info.ts";
import {
  agreedBackgroundLikelihood,
  agreedSamplerDefault,
  type SamplerDefaults,
  type SamplerNumber,
} from "../diffusion/sampler_defaults.ts";
import {
  agreedSparseSampler,
  SPARSE_SAMPLER_KEYS,
  type SparseSampler,
} from "../diffusion/sparse_sampler.ts";
import { InvalidArgumentError } from "../errors.ts";
import { readSafetensorsMetadata } from "../io/safetensors.ts";
import { type DataPhysics, physicsMismatch } from "../data/physics.ts";
import {
  NORMALISATION_TOLERANCE,
  normalisationDifference,
} from "../diffusion/normalisation_match.ts";
import { checkExperimentCheckpoint } from "./experiment_inputs.ts";

/** A checked candidate. */
export interface CandidateInfo {
  /** Where it was read from. */
  path: string;
  /** Hex SHA-256 of the file (its identity: the same bytes are scored once). */
  sha256: string;
  /** The model it was trained for (`sda`, `arctan3x`, `sin3x`, `vor2vel`, `full`). */
  model: string;
  /** The grid model the experiment cells need (`sda`, `soad-<op>`, `soad-full`). */
  gridModel: string;
  /** Its network (from the tensor shapes). */
  config: UNetConfig;
  /** Normalisation from its metadata, when present. */
  normalisation?: { offset: number[]; std: number[] };
  /** Sampler defaults from its `soad_prior` metadata, when present. */
  sampler?: SamplerDefaults;
  /** What it was trained for, from its `soad_prior` metadata, when present. */
  trainedOn?: TrainedFor;
  /** The training step its metadata records, when present. */
  step?: number;
  /** `ema` or `raw` for weights of a run trained with `--ema`. */
  weights?: string;
}

/** What the candidates are checked against. */
export interface CandidateCheck {
  /** Window length L of the cells. */
  frames: number;
  /** The data's grid (rows, columns). */
  grid: [number, number];
  /** The data's configuration name (`demo`, …). */
  dataset?: string;
  /** The data's physics (`dataPhysics`), when known. */
  physics?: DataPhysics;
  /** Run candidates whose normalisation or training configuration differ (default false). */
  allowMismatch?: boolean;
}

/** The sampler and normalisation every candidate is scored with. */
export interface CandidateSettings {
  /** The checked candidates, in the order given, duplicates (same bytes) removed. */
  candidates: CandidateInfo[];
  /** Normalisation of the data (the candidates', else undefined: the store's). */
  normalisation?: { offset: number[]; std: number[] };
  /** Sampler steps K. */
  steps: number;
  /** Sampler start t-max. */
  tMax: number;
  /** Langevin step scale τ. */
  tau: number;
  /** σx of SOAD's likelihood coefficient (1, the spec's, for SDA candidates). */
  sigmaX: number;
  /** κ of SOAD's likelihood clip (1, the spec's, for SDA candidates). */
  clipScale: number;
  /**
   * The candidates' sparse-observation settings (their metadata, which must agree), less what a
   * given value fixes; absent: none.
   */
  sparse?: SparseSampler;
  /** SOAD's background also in the likelihood (the flag, else the candidates' metadata). */
  backgroundLikelihood: boolean;
  /** Mismatches let through by `allowMismatch`, in words. */
  warnings: string[];
}

const SOAD_MODELS: Record<string, string> = {
  sda: "sda",
  arctan3x: "soad-arctan3x",
  sin3x: "soad-sin3x",
  vor2vel: "soad-vor2vel",
  full: "soad-full",
};

async function sha256(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(bytes)));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Reads and checks one file (throws naming it). */
async function candidate(path: string, frames: number): Promise<CandidateInfo> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new InvalidArgumentError(`candidate ${path}: cannot read it (${(e as Error).message})`);
  }
  let meta: Record<string, string>;
  try {
    meta = readSafetensorsMetadata(bytes);
  } catch (e) {
    throw new InvalidArgumentError(
      `candidate ${path}: not a safetensors file (${(e as Error).message})`,
    );
  }
  if (/checkpoint/.test(meta.format ?? "")) {
    // a training checkpoint holds raw weights (and maybe their EMA): which one would be ambiguous
    throw new InvalidArgumentError(
      `candidate ${path} is a training checkpoint (format ${meta.format}); give weights files: ` +
        `a run's best.safetensors, step-<s>.safetensors (--keep-every), model.safetensors`,
    );
  }
  const model = meta.model;
  if (model === undefined) {
    throw new InvalidArgumentError(
      `candidate ${path} does not say which model it was trained for (no "model" metadata); ` +
        `only weights written by deno task train / ship-prior can be compared`,
    );
  }
  const gridModel = SOAD_MODELS[model];
  if (!gridModel) {
    throw new InvalidArgumentError(
      `candidate ${path} was trained for "${model}"; select-prior scores the paper's models ` +
        `(${Object.keys(SOAD_MODELS).join(", ")})`,
    );
  }
  const c = checkExperimentCheckpoint(bytes, gridModel, frames, `candidate ${path}`);
  let ema: string | undefined;
  try {
    ema = meta.ema ? String(JSON.parse(meta.ema).weights) : undefined;
  } catch {
    ema = undefined;
  }
  const step = Number(meta.step);
  return {
    path,
    sha256: await sha256(bytes),
    model,
    gridModel,
    config: c.config,
    ...(c.normalisation ? { normalisation: c.normalisation } : {}),
    ...(c.sampler ? { sampler: c.sampler } : {}),
    ...(c.trainedOn ? { trainedOn: c.trainedOn } : {}),
    ...(meta.step !== undefined && Number.isSafeInteger(step) ? { step } : {}),
    ...(ema ? { weights: ema } : {}),
  };
}

const show = (v: unknown): string => JSON.stringify(v ?? null);

/**
 * Reads and checks the candidate files (see the module doc) and settles the sampler and
 * normalisation they are scored with. `steps` / `tMax` / `tau` / `sigmaX` / `backgroundLikelihood` override
 * the metadata.
 *
 * @example
 * ```ts
 * import { checkCandidates } from "./select_candidates.ts";
 * try {
 *   await checkCandidates(["/nonexistent.safetensors"], { frames: 9, grid: [64, 64] });
 * } catch (e) {
 *   console.log((e as Error).name); // InvalidArgumentError
 * }
 * ```
 */
export async function checkCandidates(
  paths: string[],
  check: CandidateCheck,
  sampler: {
    steps?: number;
    tMax?: number;
    tau?: number;
    sigmaX?: number;
    clipScale?: number;
    backgroundLikelihood?: boolean;
  } = {},
): Promise<CandidateSettings> {
  if (paths.length === 0) {
    throw new InvalidArgumentError("no candidates: give weights files (--candidate F, --run DIR)");
  }
  const all: CandidateInfo[] = [];
  for (const p of paths) all.push(await candidate(p, check.frames));
  const seen = new Set<string>();
  const candidates = all.filter((c) => !seen.has(c.sha256) && seen.add(c.sha256) !== undefined);
  const first = candidates[0];
  const refuse = (what: string, c: CandidateInfo, a: unknown, b: unknown): never => {
    throw new InvalidArgumentError(
      `candidates do not match: ${first.path} ${what} ${show(a)}, ${c.path} ${show(b)}; ` +
        `compare priors of one method, operator set and grid (run select-prior once per model)`,
    );
  };
  for (const c of candidates.slice(1)) {
    if (c.model !== first.model) refuse("was trained for model", c, first.model, c.model);
    const ops = (x: CandidateInfo) => x.trainedOn?.operators;
    if (ops(c) && ops(first) && show(ops(c)) !== show(ops(first))) {
      refuse("observes operators", c, ops(first), ops(c));
    }
    const g = (x: CandidateInfo) => x.trainedOn?.grid;
    if (g(c) && g(first) && show(g(c)) !== show(g(first))) refuse("has grid", c, g(first), g(c));
    const f = (x: CandidateInfo) => x.trainedOn?.frames;
    if (f(c) && f(first) && f(c) !== f(first)) refuse("has frames", c, f(first), f(c));
  }
  for (const c of candidates) {
    const g = c.trainedOn?.grid;
    if (g && (g[0] !== check.grid[0] || g[1] !== check.grid[1])) {
      throw new InvalidArgumentError(
        `candidate ${c.path} was trained on a ${g.join("x")} grid, the data are ` +
          `${check.grid.join("x")}; select priors on the data they model`,
      );
    }
  }
  // softer: normalisation and training configuration (allowMismatch lets them through)
  const warnings: string[] = [];
  const soft = (msg: string, why: string): void => {
    if (!check.allowMismatch) {
      throw new InvalidArgumentError(
        `${msg}; ${why} (pass --allow-mismatch to score them anyway, every candidate on the data ` +
          `normalised as the first one was trained)`,
      );
    }
    warnings.push(msg);
  };
  for (const c of candidates.slice(1)) {
    if (show(c.normalisation) === show(first.normalisation)) continue;
    const d = c.normalisation && first.normalisation
      ? normalisationDifference(c.normalisation, first.normalisation)
      : Infinity;
    if (d <= NORMALISATION_TOLERANCE) {
      // the same physics from another store (demo vs demo-large): as the other tasks, a note
      warnings.push(
        `candidates ${first.path} and ${c.path} were trained with normalisations ` +
          `${(100 * d).toPrecision(2)} % apart (within ${100 * NORMALISATION_TOLERANCE} %)`,
      );
    } else {
      soft(
        `candidates ${first.path} and ${c.path} were trained with different normalisations ` +
          `(${show(first.normalisation)} vs ${show(c.normalisation)})`,
        "they would not see the same observations in the same units",
      );
    }
  }
  for (const c of candidates) {
    const m = c.trainedOn ? physicsMismatch(c.trainedOn, check) : undefined;
    if (m) {
      soft(
        `candidate ${c.path} does not fit: ${m}`,
        "scores on data other than a prior's own answer another question",
      );
    }
  }
  const pick = (key: SamplerNumber, given?: number): number =>
    given ?? agreedSamplerDefault(
      key,
      candidates.map((c) => [c.path, c.sampler]),
      "candidates'",
      "so that every candidate is scored with the same sampler",
    );
  const normalisation = candidates.find((c) => c.normalisation)?.normalisation;
  const sparse = agreedSparseSampler(
    candidates.map((c) => [c.path, c.sampler]),
    "candidates'",
    SPARSE_SAMPLER_KEYS.filter((k) => sampler[k] !== undefined),
    "score candidates with the same sparse settings (deno task prior-metadata --sparse-sampler)",
  );
  return {
    candidates,
    ...(normalisation ? { normalisation } : {}),
    steps: pick("steps", sampler.steps),
    tMax: pick("tMax", sampler.tMax),
    tau: pick("tau", sampler.tau),
    sigmaX: pick("sigmaX", sampler.sigmaX),
    clipScale: pick("clipScale", sampler.clipScale),
    backgroundLikelihood: agreedBackgroundLikelihood(
      sampler.backgroundLikelihood,
      candidates.map((c) => [c.path, c.sampler]),
      "candidates'",
    ),
    ...(sparse ? { sparse } : {}),
    warnings,
  };
}
