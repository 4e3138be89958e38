/**
 * A prior's sampler settings for sparse observations: where the observed fraction of the grid is
 * below a threshold, some of the sampler defaults (K, τ, σx, κ) take other values, chosen on the
 * valid split like the defaults themselves.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { SamplerDefaults } from "./sampler_defaults.ts";

/**
 * Sampler settings a prior uses where the observations are sparse: every field but `below`
 * replaces the prior's default of that name. A run with a background (SOAD's setting I) is never
 * sparse ({@link observedFraction}).
 */
export interface SparseSampler {
  /**
   * Applies where the observed fraction of the grid (the densest operator's mask: its observed
   * points over H·W) is below this, in (0, 1].
   */
  below: number;
  /** Steps K. */
  steps?: number;
  /** Langevin step scale τ. */
  tau?: number;
  /** SOAD: σx of the likelihood coefficient. */
  sigmaX?: number;
  /** κ of the likelihood clip. */
  clipScale?: number;
}

/** A sampler default a {@link SparseSampler} may replace. */
export type SparseSamplerKey = "steps" | "tau" | "sigmaX" | "clipScale";

/** The sampler defaults a {@link SparseSampler} may replace. */
export const SPARSE_SAMPLER_KEYS: readonly SparseSamplerKey[] = [
  "steps",
  "tau",
  "sigmaX",
  "clipScale",
];

/**
 * Checks a {@link SparseSampler} and returns it; throws an `InvalidArgumentError` naming the first
 * bad field.
 *
 * @example
 * ```ts
 * import { checkSparseSampler } from "@soad/soad";
 * console.log(checkSparseSampler({ below: 0.1, steps: 64 }).steps); // 64
 * ```
 */
export function checkSparseSampler(s: unknown, what = "sampler.sparse"): SparseSampler {
  const bad = (field: string, expected: string): never => {
    throw new InvalidArgumentError(`${what}${field} must be ${expected}`);
  };
  if (s === null || typeof s !== "object" || Array.isArray(s)) bad("", "an object");
  const o = s as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== "below" && !(SPARSE_SAMPLER_KEYS as readonly string[]).includes(k)) {
      bad(`.${k}`, `absent (known fields: below, ${SPARSE_SAMPLER_KEYS.join(", ")})`);
    }
  }
  if (!(typeof o.below === "number" && o.below > 0 && o.below <= 1)) {
    bad(".below", "a number in (0, 1]");
  }
  if (o.steps !== undefined && !(Number.isInteger(o.steps) && (o.steps as number) >= 1)) {
    bad(".steps", "a positive integer (or absent)");
  }
  for (const k of ["tau", "sigmaX", "clipScale"] as const) {
    const v = o[k];
    if (v !== undefined && !(typeof v === "number" && v > 0 && Number.isFinite(v))) {
      bad(`.${k}`, "a finite number > 0 (or absent)");
    }
  }
  return o as unknown as SparseSampler;
}

/**
 * A prior's sampler defaults for observations that cover `fraction` of the grid: its `sparse`
 * settings where `fraction` is below their threshold, else its own; the result carries no
 * `sparse` field. The fraction is the densest operator's ({@link observedFraction}).
 *
 * @example
 * ```ts
 * import { samplerForDensity } from "@soad/soad";
 * const s = { tMax: 0.85, steps: 128, sigmaX: 0.03, sparse: { below: 0.1, steps: 64, sigmaX: 1 } };
 * console.log(samplerForDensity(s, 0.25).steps, samplerForDensity(s, 0.0625).steps); // 128 64
 * ```
 */
export function samplerForDensity(sampler: SamplerDefaults, fraction: number): SamplerDefaults {
  const { sparse, ...dense } = sampler;
  if (!sparse || !sparseApplies(sampler, fraction)) return dense;
  const out: SamplerDefaults = { ...dense };
  for (const k of SPARSE_SAMPLER_KEYS) {
    if (sparse[k] !== undefined) out[k] = sparse[k];
  }
  return out;
}

/**
 * Whether a prior's sparse settings apply to observations that cover `fraction` of the grid: it
 * has them and `fraction` is below their threshold.
 *
 * @example
 * ```ts
 * import { sparseApplies } from "@soad/soad";
 * const s = { tMax: 1, steps: 128, sparse: { below: 0.125, steps: 64 } };
 * console.log(sparseApplies(s, 0.0625), sparseApplies(s, 0.25)); // true false
 * ```
 */
export function sparseApplies(sampler: Partial<SamplerDefaults>, fraction: number): boolean {
  return sampler.sparse !== undefined && fraction < sampler.sparse.below;
}

/**
 * The observed fraction of the grid that picks a prior's sampler regime: the largest over the
 * masks (the densest operator's observed points over H·W), and 1 where a background enters the
 * run (SOAD's background observes the whole state of frame 0: with it, no mask is sparse).
 *
 * @example
 * ```ts
 * import { observedFraction, strideMask } from "@soad/soad";
 * const m = [strideMask(64, 64, 4)];
 * console.log(observedFraction(m), observedFraction(m, true)); // 0.0625 1
 * ```
 */
export function observedFraction(
  masks: readonly { height: number; width: number; indices: ArrayLike<number> }[],
  background = false,
): number {
  if (masks.length === 0) {
    throw new InvalidArgumentError("observedFraction needs at least one mask");
  }
  if (background) return 1;
  return Math.max(...masks.map((m) => m.indices.length / (m.height * m.width)));
}

/**
 * The one sparse-observation setting of several priors that share a run: their metadata's
 * `sparse` (absent: none), which must agree; throws an `InvalidArgumentError` naming each prior's
 * otherwise (`hint`: what to do then). `fixed` names the defaults a flag sets for every cell: they
 * are dropped, and a setting left with nothing to replace is none.
 *
 * @example
 * ```ts
 * import { agreedSparseSampler } from "@soad/soad";
 * const s = { tMax: 1, steps: 128, sparse: { below: 0.1, steps: 64, clipScale: 1 } };
 * console.log(agreedSparseSampler([["a", s], ["b", s]], "priors'", ["steps"])); // { below: 0.1, clipScale: 1 }
 * ```
 */
export function agreedSparseSampler(
  priors: [name: string, sampler: Partial<SamplerDefaults> | undefined][],
  whose: string,
  fixed: readonly SparseSamplerKey[] = [],
  hint = "pass --sparse off to run every cell with one setting",
): SparseSampler | undefined {
  const text = (s: Partial<SamplerDefaults> | undefined): string =>
    s?.sparse === undefined ? "none" : JSON.stringify(s.sparse);
  const vals = [...new Set(priors.map(([, s]) => text(s)))];
  if (vals.length > 1) {
    throw new InvalidArgumentError(
      `the ${whose} metadata give different sparse-observation settings (` +
        priors.map(([n, s]) => `${n}: ${text(s)}`).join(", ") +
        `); ${hint}`,
    );
  }
  const sparse = priors[0]?.[1]?.sparse;
  if (!sparse) return undefined;
  const out: SparseSampler = { below: sparse.below };
  for (const k of SPARSE_SAMPLER_KEYS) {
    if (sparse[k] !== undefined && !fixed.includes(k)) out[k] = sparse[k];
  }
  return SPARSE_SAMPLER_KEYS.some((k) => out[k] !== undefined) ? out : undefined;
}
