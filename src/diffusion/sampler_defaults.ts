/**
 * The sampler defaults a prior may carry (t-max, K, τ, σx), the spec's values where it carries none,
 * and the one value several priors must agree on when they share a run.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { SparseSampler } from "./sparse_sampler.ts";

/** Sampler defaults of a prior. */
export interface SamplerDefaults {
  /** Start of the sampler's time grid (1 = the spec). */
  tMax: number;
  /** Steps K. */
  steps: number;
  /**
   * Langevin step scale τ (absent: the spec's 0.25, {@link SPEC_TAU}); a prior whose sampler was
   * tuned on the valid split says so here.
   */
  tau?: number;
  /**
   * SOAD: σx of the likelihood's closed-form coefficient c(t) = (r²/2)/(σo² + σx² r²/(σx² + r²))
   * (absent: the spec's 1, {@link SPEC_SIGMA_X}); a prior whose coefficient was tuned on the valid
   * split says so here. The SDA baseline ignores it.
   */
  sigmaX?: number;
  /**
   * Scale κ of the likelihood coefficient's clip, c ← min(c, κ / max|∇ℒ|) (absent: the spec's 1,
   * {@link SPEC_CLIP_SCALE}); SOAD and SDA priors alike.
   */
  clipScale?: number;
  /**
   * SOAD with a background: the background also enters the likelihood ℒ (as an observation of
   * frame 0's q with error σb), not only the FDC. Absent or false: the FDC only, the spec's code.
   */
  backgroundLikelihood?: boolean;
  /**
   * Other K, τ, σx or κ where the observations are sparse (the densest operator's observed
   * fraction of the grid below `sparse.below`; see `samplerForDensity`). Absent: one setting for
   * every density.
   */
  sparse?: SparseSampler;
}

/**
 * The spec's sampler start (t = 1) and steps (K = 256): the defaults of a prior whose metadata
 * names none. A prior that must start lower says so in its metadata (the shipped ones: 0.85).
 */
export const SPEC_SAMPLER: Readonly<SamplerDefaults> = Object.freeze({ tMax: 1, steps: 256 });

/**
 * The spec's Langevin step scale τ (§5): the default of a prior whose metadata names none.
 *
 * @example
 * ```ts
 * import { SPEC_TAU } from "@soad/soad";
 * console.log(SPEC_TAU); // 0.25
 * ```
 */
export const SPEC_TAU = 0.25;

/**
 * The spec's σx of SOAD's likelihood coefficient (§5.1: a scalar prior variance σx² = 1): the
 * default of a prior whose metadata names none.
 *
 * @example
 * ```ts
 * import { SPEC_SIGMA_X } from "@soad/soad";
 * console.log(SPEC_SIGMA_X); // 1
 * ```
 */
export const SPEC_SIGMA_X = 1;

/**
 * The spec's scale of the likelihood coefficient's clip (§5.1: c ← min(c, 1/max|∇ℒ|)): the
 * default of a prior whose metadata names none.
 *
 * @example
 * ```ts
 * import { SPEC_CLIP_SCALE } from "@soad/soad";
 * console.log(SPEC_CLIP_SCALE); // 1
 * ```
 */
export const SPEC_CLIP_SCALE = 1;

/** A sampler default that is a number: K, t-max, τ, σx or the clip scale κ. */
export type SamplerNumber = "steps" | "tMax" | "tau" | "sigmaX" | "clipScale";

/** The flag and the printed name of each sampler default. */
const SAMPLER_FLAGS: Record<SamplerNumber, [name: string, flag: string]> = {
  steps: ["K", "--steps"],
  tMax: ["t-max", "--t-max"],
  tau: ["tau", "--tau"],
  sigmaX: ["sigma-x", "--sigma-x"],
  clipScale: ["clip scale", "--clip-scale"],
};

/** The spec's value of each sampler default a prior's metadata may leave out. */
const SPEC_VALUES: Record<SamplerNumber, number> = {
  steps: SPEC_SAMPLER.steps,
  tMax: SPEC_SAMPLER.tMax,
  tau: SPEC_TAU,
  sigmaX: SPEC_SIGMA_X,
  clipScale: SPEC_CLIP_SCALE,
};

/**
 * A prior's sampler default (K, t-max, τ, σx or κ): its metadata's value, else the spec's (K 256,
 * t-max 1, τ 0.25, σx 1, κ 1).
 *
 * @example
 * ```ts
 * import { samplerDefault } from "@soad/soad";
 * console.log(samplerDefault("steps", { tMax: 0.85, steps: 128 }), samplerDefault("tau", undefined));
 * // 128 0.25
 * ```
 */
export function samplerDefault(
  key: SamplerNumber,
  sampler: Partial<SamplerDefaults> | undefined,
): number {
  return sampler?.[key] ?? SPEC_VALUES[key];
}

/**
 * The one value of a sampler default (K, t-max, τ, σx or κ) that several priors run with: their metadata's
 * (absent: the spec's), which must agree; throws an `InvalidArgumentError` naming each prior's value
 * and the flag that chooses one otherwise. How the experiment and select-prior tasks settle the
 * sampler of a run shared by several priors.
 *
 * @example
 * ```ts
 * import { agreedSamplerDefault } from "@soad/soad";
 * const v = agreedSamplerDefault("tau", [["a", { tMax: 1, steps: 64 }], ["b", undefined]], "priors'");
 * console.log(v); // 0.25
 * ```
 */
export function agreedSamplerDefault(
  key: SamplerNumber,
  priors: [name: string, sampler: Partial<SamplerDefaults> | undefined][],
  whose: string,
  why = "to choose one for every run",
): number {
  const of = (s: Partial<SamplerDefaults> | undefined): number => samplerDefault(key, s);
  const vals = [...new Set(priors.map(([, s]) => of(s)))];
  if (vals.length > 1) {
    const [name, flag] = SAMPLER_FLAGS[key];
    throw new InvalidArgumentError(
      `the ${whose} metadata give different ${name} (` +
        priors.map(([n, s]) => `${n}: ${of(s)}`).join(", ") + `); pass ${flag} ${why}`,
    );
  }
  return vals[0];
}

/**
 * Whether SOAD puts the background in the likelihood for the priors of one run: `flag` when
 * given, else their metadata's `backgroundLikelihood` (absent: false, the spec's FDC-only
 * background), which must agree; throws an `InvalidArgumentError` naming each prior's value
 * otherwise.
 *
 * @example
 * ```ts
 * import { agreedBackgroundLikelihood } from "@soad/soad";
 * const p: [string, { tMax: number; steps: number; backgroundLikelihood?: boolean }][] = [
 *   ["a", { tMax: 1, steps: 64, backgroundLikelihood: true }],
 * ];
 * console.log(agreedBackgroundLikelihood(undefined, p, "priors'")); // true
 * ```
 */
export function agreedBackgroundLikelihood(
  flag: boolean | undefined,
  priors: [name: string, sampler: Partial<SamplerDefaults> | undefined][],
  whose: string,
): boolean {
  if (flag !== undefined) return flag;
  const of = (s: Partial<SamplerDefaults> | undefined): boolean => s?.backgroundLikelihood ?? false;
  const vals = [...new Set(priors.map(([, s]) => of(s)))];
  if (vals.length > 1) {
    throw new InvalidArgumentError(
      `the ${whose} metadata disagree on the background likelihood (` +
        priors.map(([n, s]) => `${n}: ${of(s) ? "on" : "off"}`).join(", ") +
        `); pass --background-likelihood on or off to choose one for every run`,
    );
  }
  return vals[0] ?? false;
}
