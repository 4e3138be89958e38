/**
 * SOAD/SDA window assimilators backed by a prior (a shipped name, a path — a `models/` folder
 * or a safetensors — or a URL, resolved and read as `loadPrior` does), run in a Worker per
 * window. The prior's metadata is the one source of the sampler defaults (t-max, K), the grid
 * and the operator it was trained for.
 * @module
 */

import { assimilateInWorker } from "../assim/assimilate_parallel.ts";
import { stateChannels } from "../assim/metrics.ts";
import type { BackendName } from "../backend/select.ts";
import { fetchPriorBytes } from "../diffusion/prior.ts";
import { type PriorMetadata, readPriorInfo } from "../diffusion/prior_info.ts";
import { SPEC_CLIP_SCALE, SPEC_SIGMA_X } from "../diffusion/sampler_defaults.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { WindowAssimilator } from "./window_cycle.ts";

/** A prior read and checked for a cycling run: its weights and what its metadata says. */
export interface CyclePrior extends PriorMetadata {
  /** Weights (safetensors bytes), sent to the Workers. */
  bytes: Uint8Array;
  /** Where it came from (the URL it was read from). */
  path: string;
  /** Hex SHA-256 of the weights. */
  sha256: string;
}

/**
 * Reads and checks a prior for a cycling run: `source` is what `loadPrior` takes (a shipped
 * name, a path or a URL of a weights file) or a local folder holding `weights.safetensors`.
 * `model` is "sda" or the operator's name; the prior must have been trained for it, for windows
 * of 9 frames and (when its metadata names a grid) for `grid`. The network is not built here:
 * the Workers build their own.
 *
 * @example
 * ```ts ignore
 * const p = await readCyclePrior("arctan3x", "arctan3x", [64, 64]);
 * console.log(p.sampler.steps, p.sampler.tMax); // 128 0.85
 * ```
 */
export async function readCyclePrior(
  source: string,
  model: string,
  grid: [number, number],
): Promise<CyclePrior> {
  let src = source;
  if (!/^[a-z][a-z0-9+.-]+:/i.test(source)) {
    try {
      if ((await Deno.stat(source)).isDirectory) {
        src = `${source.replace(/\/+$/, "")}/weights.safetensors`;
      }
    } catch {
      // not a local folder: a shipped name or a file, which fetchPriorBytes resolves (or refuses)
    }
  }
  const { bytes, url } = await fetchPriorBytes(src);
  const what = `prior ${source}`;
  const { weights: _w, config: _c, legacy: _l, metadata: _m, ...meta } = readPriorInfo(bytes, what);
  const want = model === "sda" ? "sda" : "soad";
  if (meta.trainedFor.method !== want || meta.trainedFor.model !== model) {
    throw new InvalidArgumentError(
      `${what} was trained for ${meta.trainedFor.method} model "${meta.trainedFor.model}", ` +
        `expected ${want} model "${model}" (models/README.md lists the shipped priors)`,
    );
  }
  if (meta.trainedFor.frames !== 9) {
    throw new InvalidArgumentError(
      `${what} was trained on windows of ${meta.trainedFor.frames} frames; the cycle's windows ` +
        `have 9 (L = 9)`,
    );
  }
  const g = meta.trainedFor.grid;
  if (g && (g[0] !== grid[0] || g[1] !== grid[1])) {
    throw new InvalidArgumentError(
      `${what} was trained on a ${g[0]}x${g[1]} grid (its metadata), the truth is ` +
        `${grid[0]}x${grid[1]}: use a prior of the truth's grid`,
    );
  }
  return {
    ...meta,
    bytes,
    path: url.href,
    sha256: Array.from(
      new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join(""),
  };
}

/** Sampler settings of {@link priorAssimilator}. */
export interface SamplerSettings {
  /** Steps K. */
  steps: number;
  /** Start of the time grid. */
  tMax: number;
  /** Langevin corrections M. */
  corrections: number;
  /** Langevin step scale τ ({@link cycleSampler}: the prior's metadata, else the spec's 0.25). */
  tau?: number;
  /**
   * SOAD: σx of the likelihood coefficient ({@link cycleSampler}: the spec's 1 unless given — not
   * the prior's metadata, see there).
   */
  sigmaX?: number;
  /** κ of the likelihood clip, SOAD and SDA ({@link cycleSampler}: the spec's 1 unless given). */
  clipScale?: number;
  /**
   * SOAD: whether a window's background also enters the likelihood
   * (`AssimilateOptions.backgroundLikelihood`; {@link cycleSampler}: false unless given — not the
   * prior's metadata, see there).
   */
  backgroundLikelihood?: boolean;
  /** Backend inside the Worker. */
  backend?: BackendName;
}

/** What {@link priorAssimilator} needs of a prior: a `loadPrior` result or a {@link CyclePrior}. */
export type AssimilatorPrior = Pick<CyclePrior, "bytes" | "trainedFor" | "sampler">;

/**
 * The sampler settings of a prior in a cycling run: explicit values win, else the prior's
 * metadata (the one source of the defaults: t-max and K); corrections default to 5, SOAD's σx and
 * the clip scale κ to the spec's 1 (chosen on single windows, not yet measured in cycling), and the
 * background likelihood to off whatever the metadata says: a cycle's background is the previous
 * window's analysis with an estimated σb, not the known background with its true σb the metadata's
 * choice was measured with, and in a 32-day cycle the term was worse (RMSE 0.383 against 0.377).
 * A prior's sparse-observation settings (`SamplerDefaults.sparse`, single windows too) are not
 * used either: every window runs with these values, whatever its mask.
 *
 * @example
 * ```ts ignore
 * const s = cycleSampler(prior, { steps: 32 }); // K = 32, t-max from the prior's metadata
 * ```
 */
export function cycleSampler(
  prior: Pick<CyclePrior, "sampler">,
  flags: Partial<SamplerSettings> = {},
): SamplerSettings {
  return {
    steps: flags.steps ?? prior.sampler.steps,
    tMax: flags.tMax ?? prior.sampler.tMax,
    corrections: flags.corrections ?? 5,
    ...(flags.tau ?? prior.sampler.tau) === undefined
      ? {}
      : { tau: flags.tau ?? prior.sampler.tau },
    // the spec's likelihood unless asked for: the metadata's σx and κ were chosen on single
    // windows and not yet measured in cycling, whose documented runs use the spec's
    sigmaX: flags.sigmaX ?? SPEC_SIGMA_X,
    clipScale: flags.clipScale ?? SPEC_CLIP_SCALE,
    // off unless asked for: the metadata's choice was measured with a known background and its
    // true σb; a cycle's background is the previous analysis with an estimated σb, and there the
    // likelihood term measured worse (docs/results.md, "The background in the likelihood")
    backgroundLikelihood: flags.backgroundLikelihood ?? false,
    backend: flags.backend,
  };
}

/**
 * A window assimilator for {@link cycle}'s `assimilators`: runs `assimilate` with the prior in a
 * Worker (which builds its own network), with the sampler settings of {@link cycleSampler} —
 * the prior's metadata unless given.
 *
 * @example
 * ```ts ignore
 * import { loadPrior, priorAssimilator } from "@soad/soad";
 * const prior = await loadPrior("arctan3x");
 * const soad = priorAssimilator(prior, { steps: 32 }); // t-max 0.85 from the metadata
 * ```
 */
export function priorAssimilator(
  prior: AssimilatorPrior,
  settings: Partial<SamplerSettings> = {},
): WindowAssimilator {
  const s = cycleSampler(prior, settings);
  const model = prior.trainedFor.model;
  return async (req, onStep) => {
    const r = await assimilateInWorker({
      weights: prior.bytes,
      model,
      method: req.method,
      observations: req.observations,
      background: req.background,
      // without a background (a first window) the option has nothing to act on
      backgroundLikelihood: req.background && req.method === "soad"
        ? s.backgroundLikelihood
        : undefined,
      sigmaB: req.sigmaB,
      frames: req.frames,
      steps: s.steps,
      tMax: s.tMax,
      corrections: s.corrections,
      // σx is SOAD's (the SDA baseline refuses it); κ both methods' (explicit, so that the
      // Worker, which reads the prior's bytes, does not take the metadata's)
      sigmaX: req.method === "soad" ? s.sigmaX : undefined,
      clipScale: s.clipScale,
      // τ likewise explicit: the Worker would otherwise take a sparse mask's τ from the bytes
      tau: s.tau,
      samples: req.samples,
      seed: req.seed,
      backend: s.backend,
      onStep,
    });
    return stateChannels(r.samples, r.shape);
  };
}
