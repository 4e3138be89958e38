/**
 * The figure of one assimilated window, shared by `deno task assimilate` and `deno task demo`:
 * one row per chosen frame with the upper-layer truth, the observations of the first operator
 * (blank where unobserved), each method's estimate and the first method's error.
 * @module
 */

import type { Image } from "../src/io/image.ts";
import { type FieldPanel, fieldPanels } from "../src/io/plot.ts";
import type { Observation } from "../src/obs/observe.ts";

/** Inputs of {@link assimilationFigure}. */
export interface AssimilationFigure {
  /** Normalised truth `[L, 2, n, n]`. */
  truth: Float32Array;
  /** Observations (the first one is drawn). */
  observations: Observation[];
  /** Estimates `[L, 2, n, n]` by method name, in drawing order; the first one's error is drawn. */
  estimates: [string, Float32Array][];
  /** Grid size n. */
  n: number;
  /** Frames L. */
  frames: number;
  /** Title over the figure. */
  title?: string;
}

/**
 * Builds the panels of frames 0, L/2 and L − 1 (layer 1) on a fixed ±3 colour range.
 *
 * @example
 * ```ts
 * import { assimilationFigure } from "./assim_figure.ts";
 * import { strideMask } from "../src/obs/mask.ts";
 * import { sin3x } from "../src/obs/pointwise.ts";
 * const truth = new Float32Array(9 * 2 * 16);
 * const obs = [{ operator: sin3x, mask: strideMask(4, 4, 2), frames: [0], values: new Float32Array(8), sigma: 0.1 }];
 * const img = assimilationFigure({ truth, observations: obs, estimates: [["SOAD", truth]], n: 4, frames: 9 });
 * console.log(img.width > 0); // true
 * ```
 */
export function assimilationFigure(f: AssimilationFigure): Image {
  const { truth, n, frames: L } = f;
  const R = n * n;
  const obs = f.observations[0];
  const panels: FieldPanel[] = [];
  const range: [number, number] = [-3, 3];
  for (const fr of [0, Math.floor(L / 2), L - 1]) {
    const sl = (x: Float32Array) => x.subarray(fr * 2 * R, fr * 2 * R + R);
    panels.push({ title: `truth f${fr}`, data: sl(truth), ny: n, nx: n, range });
    const o = new Float32Array(R).fill(NaN);
    const fi = obs.frames.indexOf(fr);
    if (fi >= 0) {
      const P = obs.mask.indices.length, co = obs.operator.outChannels;
      obs.mask.indices.forEach((p, k) => (o[p] = obs.values[fi * co * P + k]));
    }
    panels.push({
      title: `${obs.operator.name} f${fr}${fi < 0 ? " (none)" : ""}`,
      data: o,
      ny: n,
      nx: n,
    });
    for (const [name, est] of f.estimates) {
      panels.push({ title: `${name} f${fr}`, data: sl(est), ny: n, nx: n, range });
    }
    const [first, est0] = f.estimates[0];
    const t = sl(truth);
    panels.push({
      title: `${first} error f${fr}`,
      data: sl(est0).map((v, i) => v - t[i]),
      ny: n,
      nx: n,
      range: [-1.5, 1.5],
    });
  }
  return fieldPanels(panels, { columns: 3 + f.estimates.length, suptitle: f.title });
}
