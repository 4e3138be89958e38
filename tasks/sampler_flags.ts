/**
 * The sampler-default flags of `deno task prior-metadata` and `deno task ship-prior`
 * (`--t-max`, `--steps`, `--tau`, `--sigma-x`, `--clip-scale`, `--background-likelihood`), parsed into the sampler part of a metadata patch.
 * @module
 */

import { InvalidArgumentError } from "../src/errors.ts";
import type { SamplerDefaults } from "../src/diffusion/sampler_defaults.ts";
import {
  checkSparseSampler,
  SPARSE_SAMPLER_KEYS,
  type SparseSampler,
} from "../src/diffusion/sparse_sampler.ts";

/** The flags as `parseArgs` returns them. */
export interface SamplerFlags {
  /** `--t-max`: in (0, 1]. */
  "t-max"?: string;
  /** `--steps`: an integer in [1, 100000]. */
  steps?: string;
  /** `--tau`: a finite number > 0. */
  tau?: string;
  /** `--sigma-x`: a finite number > 0. */
  "sigma-x"?: string;
  /** `--clip-scale`: a finite number > 0. */
  "clip-scale"?: string;
  /** `--background-likelihood`: on or off. */
  "background-likelihood"?: string;
  /** `--sparse-sampler`: `below=F,steps=K,tau=X,sigma-x=X,clip-scale=X` (below and one more), or off. */
  "sparse-sampler"?: string;
}

/**
 * The `--background-likelihood on|off` flag of every task: undefined when absent (the priors'
 * metadata decide), else true / false (or throws). With the task's `--setting`, "on" is refused
 * for setting II (no background to put in the likelihood).
 *
 * @example
 * ```ts ignore
 * parseBackgroundLikelihoodFlag("on"); // true
 * parseBackgroundLikelihoodFlag("on", "II"); // throws
 * ```
 */
export function parseBackgroundLikelihoodFlag(
  s: string | undefined,
  setting?: string,
): boolean | undefined {
  if (s === undefined) return undefined;
  if (s !== "on" && s !== "off") {
    throw new InvalidArgumentError(
      `--background-likelihood must be on or off, got "${s}" (on: SOAD's background also enters ` +
        `the likelihood; off: the FDC only, the spec's code)`,
    );
  }
  if (s === "on" && setting !== undefined && setting !== "I") {
    throw new InvalidArgumentError(
      "--background-likelihood on needs a background: use it with --setting I (the default)",
    );
  }
  return s === "on";
}

/**
 * The `--tau` flag of every task: undefined when absent, else a finite number > 0 (or throws).
 *
 * @example
 * ```ts ignore
 * parseTauFlag("0.5"); // 0.5
 * ```
 */
export function parseTauFlag(s: string | undefined): number | undefined {
  return positiveFlag("tau", s);
}

/**
 * The `--sigma-x` flag of every task (σx of SOAD's likelihood coefficient): undefined when absent,
 * else a finite number > 0 (or throws).
 *
 * @example
 * ```ts ignore
 * parseSigmaXFlag("0.1"); // 0.1
 * ```
 */
export function parseSigmaXFlag(s: string | undefined): number | undefined {
  return positiveFlag("sigma-x", s);
}

/**
 * The `--clip-scale` flag of every task (κ of SOAD's likelihood clip): undefined when absent,
 * else a finite number > 0 (or throws).
 *
 * @example
 * ```ts ignore
 * parseClipScaleFlag("2"); // 2
 * ```
 */
export function parseClipScaleFlag(
  s: string | undefined,
  name = "clip-scale",
): number | undefined {
  return positiveFlag(name, s);
}

/** A flag that is absent or a finite number > 0. */
function positiveFlag(name: string, s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const x = Number(s);
  if (!(s.trim() !== "" && Number.isFinite(x) && x > 0)) {
    throw new InvalidArgumentError(`--${name} must be a finite number > 0, got "${s}"`);
  }
  return x;
}

/**
 * The sampler defaults the flags set, or undefined when none is given; throws on a bad value.
 *
 * @example
 * ```ts ignore
 * samplerPatch({ "t-max": "0.85", tau: "0.5" }); // { tMax: 0.85, tau: 0.5 }
 * ```
 */
export function samplerPatch(a: SamplerFlags): Partial<SamplerDefaults> | undefined {
  const patch: Partial<SamplerDefaults> = {};
  if (a["t-max"] !== undefined) {
    const t = Number(a["t-max"]);
    if (!(t > 0 && t <= 1)) {
      throw new InvalidArgumentError(`--t-max must be a number in (0, 1], got "${a["t-max"]}"`);
    }
    patch.tMax = t;
  }
  if (a.steps !== undefined) {
    const k = Number(a.steps);
    if (!(Number.isInteger(k) && k >= 1 && k <= 100_000)) {
      throw new InvalidArgumentError(`--steps must be an integer in [1, 100000], got "${a.steps}"`);
    }
    patch.steps = k;
  }
  const tau = parseTauFlag(a.tau);
  if (tau !== undefined) patch.tau = tau;
  const sigmaX = parseSigmaXFlag(a["sigma-x"]);
  if (sigmaX !== undefined) patch.sigmaX = sigmaX;
  const clipScale = parseClipScaleFlag(a["clip-scale"]);
  if (clipScale !== undefined) patch.clipScale = clipScale;
  const bgl = parseBackgroundLikelihoodFlag(a["background-likelihood"]);
  if (bgl !== undefined) patch.backgroundLikelihood = bgl;
  if (a["sparse-sampler"] !== undefined) {
    // off: drop the prior's sparse settings (undefined leaves the metadata's JSON)
    patch.sparse = parseSparseSamplerFlag(a["sparse-sampler"]);
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/**
 * The `--sparse-sampler` flag of `prior-metadata` and `ship-prior`: `off` (undefined: no sparse
 * settings), or `below=F` and at least one of `steps=K`, `tau=X`, `sigma-x=X`, `clip-scale=X`,
 * comma-separated (or throws).
 *
 * @example
 * ```ts
 * import { parseSparseSamplerFlag } from "./sampler_flags.ts";
 * console.log(parseSparseSamplerFlag("below=0.125,steps=64,sigma-x=1,clip-scale=1"));
 * // { below: 0.125, steps: 64, sigmaX: 1, clipScale: 1 }
 * ```
 */
export function parseSparseSamplerFlag(s: string): SparseSampler | undefined {
  if (s === "off") return undefined;
  const names: Record<string, keyof SparseSampler> = {
    below: "below",
    steps: "steps",
    tau: "tau",
    "sigma-x": "sigmaX",
    "clip-scale": "clipScale",
  };
  const out: Record<string, number> = {};
  for (const part of s.split(",")) {
    const [k, v, ...rest] = part.split("=");
    const key = names[k?.trim()];
    const x = Number(v);
    if (!key || rest.length || v === undefined || v.trim() === "" || !Number.isFinite(x)) {
      throw new InvalidArgumentError(
        `--sparse-sampler expects off or below=F,steps=K,tau=X,sigma-x=X,clip-scale=X ` +
          `(below and at least one more), got "${s}"`,
      );
    }
    out[key] = x;
  }
  const sparse = checkSparseSampler(out, "--sparse-sampler");
  if (!SPARSE_SAMPLER_KEYS.some((k) => sparse[k] !== undefined)) {
    throw new InvalidArgumentError(
      `--sparse-sampler "${s}" sets no default to replace; add steps=, tau=, sigma-x= or clip-scale=`,
    );
  }
  return sparse;
}

/**
 * The `--sparse` flag: `on` (the default, also when absent) lets a prior's sparse-observation
 * settings (`SamplerDefaults.sparse`) run where the observations are sparse; `off` runs one setting
 * at every density.
 *
 * @example
 * ```ts
 * import { parseSparseFlag } from "./sampler_flags.ts";
 * console.log(parseSparseFlag(undefined), parseSparseFlag("off")); // true false
 * ```
 */
export function parseSparseFlag(s: string | undefined): boolean {
  if (s === undefined || s === "on") return true;
  if (s === "off") return false;
  throw new InvalidArgumentError(
    `--sparse must be on or off, got "${s}" (on: a prior's sparse-observation settings run where ` +
      `the observations cover less of the grid than their threshold; off: one setting everywhere)`,
  );
}
