/**
 * SOAD/SDA window assimilators backed by a prior file (a shipped `models/*-small/` folder or a
 * user's safetensors with an optional `card.json` beside it), run in a Worker per window.
 * @module
 */

import { assimilateInWorker } from "../assim/assimilate_parallel.ts";
import { checkExperimentCheckpoint } from "./experiment_inputs.ts";
import { stateChannels } from "../assim/metrics.ts";
import type { BackendName } from "../backend/select.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { WindowAssimilator } from "./window_cycle.ts";

/** A prior read and checked for a cycling run. */
export interface CyclePrior {
  /** Weights (safetensors bytes). */
  bytes: Uint8Array;
  /** Layout model: "sda", "arctan3x", "sin3x", "vor2vel". */
  model: string;
  /** The file. */
  path: string;
  /** Hex SHA-256 of the file. */
  sha256: string;
  /** Normalisation (metadata, else the card's), if known. */
  normalisation?: { offset: [number, number]; std: [number, number] };
  /** The sampler start t-max from the card, if it says one. */
  tMax?: number;
  /** The grid the prior was trained on (card), if known. */
  grid?: [number, number];
}

/**
 * Reads and checks a prior: a folder with `weights.safetensors` (and `card.json`) or a
 * safetensors file. `model` is "sda" or the operator's name.
 *
 * @example
 * ```ts ignore
 * const p = await readCyclePrior("models/arctan3x-small", "arctan3x", [64, 64]);
 * ```
 */
export async function readCyclePrior(
  path: string,
  model: string,
  grid: [number, number],
): Promise<CyclePrior> {
  let file = path, cardPath: string | undefined;
  try {
    if ((await Deno.stat(path)).isDirectory) {
      file = `${path}/weights.safetensors`;
      cardPath = `${path}/card.json`;
    } else cardPath = path.replace(/[^/]*$/, "card.json");
  } catch {
    throw new InvalidArgumentError(
      `prior ${path} does not exist (models/README.md lists the shipped priors)`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch (e) {
    throw new InvalidArgumentError(`cannot read prior ${file}: ${(e as Error).message}`);
  }
  const checked = checkExperimentCheckpoint(
    bytes,
    model === "sda" ? "sda" : `soad-${model}`,
    9,
    `prior ${file}`,
  );
  let card: Record<string, unknown> | undefined;
  try {
    card = JSON.parse(await Deno.readTextFile(cardPath));
  } catch {
    card = undefined;
  }
  const data = card?.data as {
    grid?: [number, number];
    norm_offset?: number[];
    norm_std?: number[];
  } | undefined;
  const cardGrid = data?.grid;
  if (cardGrid && (cardGrid[0] !== grid[0] || cardGrid[1] !== grid[1])) {
    throw new InvalidArgumentError(
      `prior ${file} was trained on a ${cardGrid[0]}x${
        cardGrid[1]
      } grid (its card.json), the truth is ` +
        `${grid[0]}x${grid[1]}: use a prior of the truth's grid`,
    );
  }
  const n = checked.normalisation ??
    (data?.norm_std ? { offset: data.norm_offset ?? [0, 0], std: data.norm_std } : undefined);
  const sampler = card?.sampler as { tMax?: unknown; t_max?: unknown } | undefined;
  const tMax = typeof sampler?.tMax === "number"
    ? sampler.tMax
    : typeof sampler?.t_max === "number"
    ? sampler.t_max
    : undefined;
  return {
    bytes,
    model,
    path: file,
    sha256: Array.from(
      new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join(""),
    normalisation: n
      ? { offset: [n.offset[0], n.offset[1]], std: [n.std[0], n.std[1]] }
      : undefined,
    tMax,
    grid: cardGrid,
  };
}

/** Sampler settings of {@link workerAssimilator}. */
export interface SamplerSettings {
  /** Steps K. */
  steps: number;
  /** Start of the time grid. */
  tMax: number;
  /** Langevin corrections M. */
  corrections: number;
  /** Backend inside the Worker. */
  backend?: BackendName;
}

/**
 * A window assimilator that runs `assimilate` with the prior in a Worker.
 *
 * @example
 * ```ts ignore
 * const soad = workerAssimilator(prior, { steps: 32, tMax: 0.85, corrections: 5 });
 * ```
 */
export function workerAssimilator(prior: CyclePrior, s: SamplerSettings): WindowAssimilator {
  return async (req, onStep) => {
    const r = await assimilateInWorker({
      weights: prior.bytes,
      model: prior.model,
      method: req.method,
      observations: req.observations,
      background: req.background,
      sigmaB: req.sigmaB,
      frames: req.frames,
      steps: s.steps,
      tMax: s.tMax,
      corrections: s.corrections,
      samples: req.samples,
      seed: req.seed,
      backend: s.backend,
      onStep,
    });
    return stateChannels(r.samples, r.shape);
  };
}
