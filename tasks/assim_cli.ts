/**
 * What the assimilation CLIs (`demo`, `assimilate`) share, so that they agree: the defaults of
 * the observation setup, flag parsing with ranges, the data-against-prior check, the truth
 * window reader and the RMSE table (always with climatology beside it).
 * @module
 */

import { InvalidArgumentError } from "../src/errors.ts";
import { type NpyArray, parseNpy } from "../src/io/npy.ts";
import type { Climatology, Normalisation, TrainedFor } from "../src/diffusion/prior_info.ts";
import {
  samplerDefault,
  type SamplerDefaults,
  type SamplerNumber,
} from "../src/diffusion/sampler_defaults.ts";
import { type DataPhysics, physicsMismatch } from "../src/data/physics.ts";
import { sparseApplies } from "../src/diffusion/sparse_sampler.ts";

/**
 * The one set of defaults of the assimilation CLIs (sampler t-max and K come from the prior's
 * metadata, not from here): arctan3x observations of 25 % of the points every 2nd day with σo =
 * 0.1 and a background at day 0 (setting I), M = 5 Langevin corrections, seed 0.
 */
export const ASSIM_DEFAULTS = Object.freeze({
  op: "arctan3x",
  ratio: 0.25,
  interval: 2,
  setting: "I" as "I" | "II",
  corrections: 5,
  seed: 0,
});

/**
 * `" (prior's default)"` when a setting was not given as a flag (so it came from the prior's
 * metadata), else `""`: what the CLIs print next to K and t-max.
 *
 * @example
 * ```ts
 * import { fromPrior } from "./assim_cli.ts";
 * console.log(`t-max 0.85${fromPrior(undefined)}`); // t-max 0.85 (prior's default)
 * ```
 */
export function fromPrior(flag: unknown): string {
  return flag === undefined ? " (prior's default)" : "";
}

/**
 * The value of a sampler default (K, t-max, τ or σx) each method runs with: the flag for all, else
 * each prior's metadata, else the spec's (K 256, t-max 1, τ 0.25, σx 1). Two priors run side by side
 * (SOAD and the SDA baseline) each keep their own, as chosen on the valid split.
 *
 * @example
 * ```ts
 * import { samplerValues } from "./assim_cli.ts";
 * const priors = { SOAD: { tMax: 0.85, steps: 128 }, SDA: { tMax: 0.85, steps: 64 } };
 * console.log(samplerValues("steps", undefined, priors)); // { SOAD: 128, SDA: 64 }
 * console.log(samplerValues("tau", 1, priors)); // { SOAD: 1, SDA: 1 }
 * ```
 */
export function samplerValues(
  key: SamplerNumber,
  flag: number | undefined,
  samplers: Record<string, Partial<SamplerDefaults>>,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(samplers).map(([m, s]) => [m, flag ?? samplerDefault(key, s)]),
  );
}

/**
 * What the CLIs print for a sampler default: one value, or one per method where they differ.
 *
 * @example
 * ```ts
 * import { samplerText } from "./assim_cli.ts";
 * console.log(samplerText("K = ", { SOAD: 128, SDA: 64 }, undefined));
 * // K = SOAD 128, SDA 64 (priors' defaults)
 * console.log(samplerText("tau ", { SOAD: 0.5, SDA: 0.5 }, 0.5)); // tau 0.5
 * ```
 */
export function samplerText(
  label: string,
  values: Record<string, number>,
  flag: number | undefined,
): string {
  const vals = [...new Set(Object.values(values))];
  if (vals.length === 1) return `${label}${vals[0]}${fromPrior(flag)}`;
  return `${label}${
    Object.entries(values).map(([m, v]) => `${m} ${v}`).join(", ")
  } (priors' defaults)`;
}

/** Most posterior samples a CLI accepts (memory grows with S × the window × C). */
export const MAX_SAMPLES = 64;

/**
 * A numeric flag in [lo, hi] (an integer when `int`); throws an `InvalidArgumentError` naming the
 * flag, the range and the value otherwise.
 *
 * @example
 * ```ts
 * import { numFlag } from "./assim_cli.ts";
 * console.log(numFlag("steps", "64", 1, 4096, true)); // 64
 * ```
 */
export function numFlag(name: string, v: string, lo: number, hi = Infinity, int = false): number {
  const x = Number(v);
  if (
    typeof v !== "string" || v.trim() === "" || !(x >= lo && x <= hi) ||
    (int && !Number.isInteger(x))
  ) {
    throw new InvalidArgumentError(
      `--${name} expects ${int ? "an integer" : "a number"} in [${lo}, ${hi}], got "${v}"`,
    );
  }
  return x;
}

/**
 * The root-mean-square a window of the prior's training data has in normalised units (from the
 * prior's climatology; 1 per layer when it records none), for {@link dataMismatches}.
 *
 * @example
 * ```ts
 * import { expectedRms } from "./assim_cli.ts";
 * console.log(expectedRms({ offset: [0, 0], std: [1, 1] }, { mean: [0, 0], std: [1, 1] })); // 1
 * ```
 */
export function expectedRms(norm: Normalisation, clim?: Climatology): number {
  if (!clim) return 1;
  let s = 0;
  for (let c = 0; c < 2; c++) {
    s += ((clim.mean[c] - norm.offset[c]) ** 2 + clim.std[c] ** 2) / norm.std[c] ** 2;
  }
  return Math.sqrt(s / 2);
}

/** What a CLI knows about its data, to compare with the prior. */
export interface DataDescription {
  /** Grid `[ny, nx]`. */
  grid: [number, number];
  /** The data's configuration name, when known. */
  dataset?: string;
  /** The data's physics (`dataPhysics`), when known. */
  physics?: DataPhysics;
  /** The truth window, normalised with the prior's normalisation. */
  truth: Float32Array;
}

/**
 * How the data differ from what the prior was trained on: grid, configuration, and the
 * normalised RMS of the truth (outside [1/2, 2] × the training data's, it is another flow or
 * another normalisation).
 *
 * @example
 * ```ts
 * import { dataMismatches } from "./assim_cli.ts";
 * const t = { method: "sda" as const, model: "sda", operators: [], channels: 2, grid: [64, 64] as [number, number], frames: 9 };
 * const m = dataMismatches(t, { offset: [0, 0], std: [1, 1] }, undefined, { grid: [16, 16], truth: new Float32Array(512).fill(1) });
 * console.log(m.length); // 1
 * ```
 */
export function dataMismatches(
  trainedFor: TrainedFor,
  norm: Normalisation,
  clim: Climatology | undefined,
  data: DataDescription,
): string[] {
  const out: string[] = [];
  const g = trainedFor.grid;
  if (g && (g[0] !== data.grid[0] || g[1] !== data.grid[1])) {
    out.push(
      `the data are on a ${data.grid.join("x")} grid, the prior was trained on ${g.join("x")}`,
    );
  }
  const physics = physicsMismatch(trainedFor, data);
  if (physics) out.push(physics);
  let s = 0;
  for (const v of data.truth) s += v * v;
  const rms = Math.sqrt(s / data.truth.length), want = expectedRms(norm, clim);
  if (!(rms >= want / 2 && rms <= want * 2)) {
    out.push(
      `the truth's RMS in the prior's units is ${rms.toPrecision(3)}, the training data's ` +
        `${want.toPrecision(3)}: another flow regime or another normalisation`,
    );
  }
  return out;
}

/**
 * Throws an `InvalidArgumentError` listing {@link dataMismatches} unless there are none or
 * `allow` (then prints them as warnings).
 *
 * @example
 * ```ts
 * import { checkDataFit } from "./assim_cli.ts";
 * checkDataFit([], false, "prior sda"); // fits: nothing happens
 * ```
 */
export function checkDataFit(mismatches: string[], allow: boolean, what: string): void {
  if (mismatches.length === 0) return;
  if (allow) {
    for (const m of mismatches) console.error(`warning (--allow-mismatch): ${m}`);
    return;
  }
  throw new InvalidArgumentError(
    `${what} does not fit the data: ${mismatches.join("; ")}. Use a prior trained on this ` +
      `data, or pass --allow-mismatch to run anyway`,
  );
}

/**
 * Reads and checks a truth window `.npy` of physical q: float32 or float64, `[L, 2, n, n]` with L ≥
 * `minFrames`, finite. Refuses anything else naming what it found and what is expected.
 *
 * @example
 * ```ts
 * import { checkWindow } from "./assim_cli.ts";
 * import { encodeNpy, parseNpy } from "../src/io/npy.ts";
 * const w = checkWindow(parseNpy(encodeNpy(new Float32Array(9 * 2 * 4 * 4), [9, 2, 4, 4])), 9, "w.npy");
 * console.log(w.shape); // [9, 2, 4, 4]
 * ```
 */
export function checkWindow(a: NpyArray, minFrames: number, what: string): NpyArray {
  const s = a.shape;
  if (!(a.data instanceof Float32Array || a.data instanceof Float64Array)) {
    throw new InvalidArgumentError(
      `${what}: dtype ${a.dtype}, expected float32 or float64 potential vorticity [1/s]`,
    );
  }
  if (s.length !== 4 || s[1] !== 2 || s[2] !== s[3] || s[2] < 4) {
    throw new InvalidArgumentError(
      `${what}: shape [${s}], expected [frames, 2 layers, n, n] (float32 q, layer 0 = upper)`,
    );
  }
  if (s[0] < minFrames) {
    throw new InvalidArgumentError(`${what}: ${s[0]} frames, the prior needs ${minFrames}`);
  }
  if (!a.data.every(Number.isFinite)) {
    throw new InvalidArgumentError(`${what}: holds non-finite values`);
  }
  return a;
}

/**
 * Fetches and checks a window `.npy` (path or URL) with {@link checkWindow}.
 *
 * @example
 * ```ts ignore
 * const w = await fetchWindow(new URL("../models/demo/window.npy", import.meta.url), 9);
 * ```
 */
export async function fetchWindow(url: URL, minFrames: number): Promise<NpyArray> {
  let bytes: Uint8Array;
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw new InvalidArgumentError(`cannot read window ${url.href}: ${(e as Error).message}`);
  }
  let a: NpyArray;
  try {
    a = parseNpy(bytes);
  } catch (e) {
    throw new InvalidArgumentError(`window ${url.href}: ${(e as Error).message}`);
  }
  return checkWindow(a, minFrames, `window ${url.href}`);
}

/**
 * Prints the per-frame RMSE table (normalised units) of every method; callers always include
 * `climatology` in `rows`, so every RMSE has its no-skill reference beside it.
 *
 * @example
 * ```ts
 * import { printRmseTable } from "./assim_cli.ts";
 * printRmseTable({ SOAD: [0.2, 0.3], climatology: [1, 1] }, [0]);
 * ```
 */
export function printRmseTable(rows: Record<string, number[]>, observed: number[]): void {
  if (!("climatology" in rows)) {
    throw new InvalidArgumentError("an RMSE table needs its climatology row");
  }
  const names = Object.keys(rows);
  const L = rows[names[0]].length;
  const pad = (s: string, w = 12) => s.padEnd(w);
  console.log(`\nRMSE per frame (normalised units; both layers)`);
  console.log(pad("frame", 7) + pad("observed", 10) + names.map((m) => pad(m)).join(""));
  for (let f = 0; f < L; f++) {
    const o = observed.includes(f) ? "yes" : "-";
    console.log(
      pad(String(f), 7) + pad(o, 10) + names.map((m) => pad(rows[m][f].toFixed(3))).join(""),
    );
  }
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  console.log(pad("mean", 17) + names.map((m) => pad(mean(rows[m]).toFixed(3))).join(""));
}

/**
 * How SOAD's background enters, for the sampler line of a CLI: "" without a background, else
 * ", background: FDC + likelihood" or ", background: FDC only" (the flag, else the prior's
 * metadata).
 *
 * @example
 * ```ts ignore
 * backgroundText(true, undefined, { tMax: 0.85, steps: 128, backgroundLikelihood: true });
 * // ", background: FDC + likelihood"
 * ```
 */
export function backgroundText(
  hasBackground: boolean,
  flag: boolean | undefined,
  sampler: SamplerDefaults,
): string {
  if (!hasBackground) return "";
  const on = flag ?? sampler.backgroundLikelihood ?? false;
  return `, background: ${on ? "FDC + likelihood" : "FDC only"}`;
}

/** SOAD's likelihood settings given on a command line (`--sigma-x`, `--clip-scale`). */
export interface GuidanceFlags {
  /** `--sigma-x`. */
  sigmaX?: number;
  /** `--clip-scale`. */
  clipScale?: number;
}

/**
 * SOAD's σx and clip scale κ for the sampler line of a CLI: ", sigma-x X, clip scale Y", each
 * with "(prior's default)" when it comes from the metadata; a setting at the spec's 1 with no
 * flag is left out. `who` prefixes each name (e.g. "SDA ").
 *
 * @example
 * ```ts ignore
 * guidanceText({}, { tMax: 0.85, steps: 128, sigmaX: 0.03 }); // ", sigma-x 0.03 (prior's default)"
 * ```
 */
export function guidanceText(
  flags: GuidanceFlags,
  sampler: SamplerDefaults,
  who = "",
): string {
  let out = "";
  for (const [key, name] of [["sigmaX", "sigma-x"], ["clipScale", "clip scale"]] as const) {
    const v = flags[key] ?? samplerDefault(key, sampler);
    if (flags[key] === undefined && v === 1) continue; // the spec's
    out += `, ${who}${name} ${v}${fromPrior(flags[key])}`;
  }
  return out;
}

/**
 * The values of SOAD's σx and clip scale κ a run uses (the flags, else the prior's metadata, else
 * the spec's 1), for a results file.
 *
 * @example
 * ```ts ignore
 * guidanceValues({ clipScale: 2 }, { tMax: 0.85, steps: 128, sigmaX: 0.03 }); // { sigmaX: 0.03, clipScale: 2 }
 * ```
 */
export function guidanceValues(
  flags: GuidanceFlags,
  sampler: SamplerDefaults,
): Required<GuidanceFlags> {
  return {
    sigmaX: flags.sigmaX ?? samplerDefault("sigmaX", sampler),
    clipScale: flags.clipScale ?? samplerDefault("clipScale", sampler),
  };
}

/**
 * The note a run prints where a prior's sparse-observation settings (`SamplerDefaults.sparse`)
 * apply: the observed fraction of the grid and each prior's threshold; empty where none does.
 *
 * @example
 * ```ts ignore
 * sparseText(0.0625, { soad: { tMax: 1, steps: 128, sparse: { below: 0.125, steps: 64 } } });
 * // "; sparse observations (6.25 % of the grid; SOAD's sparse settings below 12.5 %)"
 * ```
 */
export function sparseText(
  fraction: number,
  samplers: Record<string, SamplerDefaults>,
): string {
  const pct = (x: number): string => `${+(100 * x).toPrecision(3)} %`;
  const used = Object.entries(samplers).filter(([, s]) => sparseApplies(s, fraction));
  if (used.length === 0) return "";
  return `; sparse observations (${pct(fraction)} of the grid; ` +
    used.map(([m, s]) => `${m.toUpperCase()}'s sparse settings below ${pct(s.sparse!.below)}`)
      .join(", ") +
    ")";
}
