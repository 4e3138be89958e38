/**
 * Saving an assimilation as a Zarr v2 group that `xarray.open_zarr` opens with coordinates: the
 * ensemble, its mean and spread (and the truth when given) in physical q [1/s], on `time` (days),
 * `layer` (0 = upper), `y` and `x` (cell centres in metres).
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { writeZarrGroup, type ZarrVariable } from "../io/zarr_write.ts";
import type { Normalisation } from "../diffusion/prior_info.ts";
import type { AssimilateResult } from "./assimilate.ts";

/** Options of {@link saveAnalysis}. */
export interface SaveAnalysisOptions {
  /** The prior's normalisation: the arrays are written as physical q = x·std + offset. */
  normalisation: Normalisation;
  /** Side of the square domain in metres (default 1e6, pyqg's `L`). */
  extent?: number;
  /** Days between frames (default 1: daily snapshots). */
  daysPerFrame?: number;
  /** Day of frame 0 (default 0). */
  startDay?: number;
  /** The true state `[L, 2, H, W]` in normalised units, saved as `truth` when given. */
  truth?: Float32Array;
  /** Extra group attributes (method, prior, observations, …). */
  attrs?: Record<string, unknown>;
  /** Replace an existing store at `dir` (default false: refused). */
  replace?: boolean;
}

/**
 * Writes `result` (from `assimilate`) as a Zarr group at `dir`: `q_ensemble` (member, time,
 * layer, y, x), `q_mean` and `q_spread` (time, layer, y, x), optionally `q_truth`, all float32
 * physical q [1/s] (names that do not shadow xarray's `Dataset.mean`), with
 * coordinate variables `time` (days), `layer`, `y`, `x` (metres) and `member`.
 *
 * @example
 * ```ts ignore
 * import { saveAnalysis } from "@soad/soad";
 * await saveAnalysis("out/analysis.zarr", result, { normalisation: prior.normalisation });
 * // python: xarray.open_zarr("out/analysis.zarr").q_mean.sel(layer=0).isel(time=0)
 * ```
 */
export async function saveAnalysis(
  dir: string,
  result: Pick<AssimilateResult, "samples" | "shape" | "mean" | "spread">,
  options: SaveAnalysisOptions,
): Promise<void> {
  const [S, L, C, H, W] = result.shape;
  const R = H * W;
  const { offset, std } = options.normalisation;
  const extent = options.extent ?? 1e6;
  const dayStep = options.daysPerFrame ?? 1, day0 = options.startDay ?? 0;
  if (!(extent > 0) || !(dayStep > 0) || !Number.isFinite(day0)) {
    throw new InvalidArgumentError(
      `saveAnalysis: extent and daysPerFrame must be > 0 and startDay finite, got ` +
        `${extent}, ${dayStep}, ${day0}`,
    );
  }
  const phys = (x: Float32Array, scale: boolean) => {
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const c = Math.floor(i / R) % 2;
      out[i] = scale ? x[i] * std[c] : x[i] * std[c] + offset[c];
    }
    return out;
  };
  // the state channels of every member: [S, L, 2, H, W]
  const ens = new Float32Array(S * L * 2 * R);
  for (let s = 0; s < S; s++) {
    for (let f = 0; f < L; f++) {
      const src = ((s * L + f) * C) * R;
      ens.set(result.samples.subarray(src, src + 2 * R), (s * L + f) * 2 * R);
    }
  }
  const field = (data: Float32Array, what: string): ZarrVariable => ({
    dims: ["time", "layer", "y", "x"],
    shape: [L, 2, H, W],
    data,
    attrs: { units: "1/s", long_name: `potential vorticity q, ${what}` },
  });
  const centres = (n: number) => Float64Array.from({ length: n }, (_, i) => (i + 0.5) * extent / n);
  const vars: Record<string, ZarrVariable> = {
    time: {
      dims: ["time"],
      shape: [L],
      data: Float64Array.from({ length: L }, (_, f) => day0 + f * dayStep),
      attrs: { units: "days", long_name: "time" },
    },
    layer: {
      dims: ["layer"],
      shape: [2],
      data: new Int32Array([0, 1]),
      attrs: { long_name: "QG layer (0 = upper)" },
    },
    y: {
      dims: ["y"],
      shape: [H],
      data: centres(H),
      attrs: { units: "m", long_name: "y (south to north)" },
    },
    x: { dims: ["x"], shape: [W], data: centres(W), attrs: { units: "m", long_name: "x" } },
    member: { dims: ["member"], shape: [S], data: Int32Array.from({ length: S }, (_, i) => i) },
    q_ensemble: {
      dims: ["member", "time", "layer", "y", "x"],
      shape: [S, L, 2, H, W],
      data: phys(ens, false),
      attrs: { units: "1/s", long_name: "potential vorticity q, ensemble members" },
    },
    q_mean: field(phys(result.mean, false), "ensemble mean"),
    q_spread: field(phys(result.spread, true), "ensemble spread (std)"),
  };
  if (options.truth) {
    if (options.truth.length !== L * 2 * R) {
      throw new InvalidArgumentError(
        `saveAnalysis: truth has ${options.truth.length} values, expected [${L}, 2, ${H}, ${W}]`,
      );
    }
    vars.q_truth = field(phys(options.truth, false), "truth");
  }
  if (options.replace) await Deno.remove(dir, { recursive: true }).catch(() => {});
  await writeZarrGroup(dir, vars, {
    normalisation: options.normalisation,
    ...options.attrs,
  });
}
