/**
 * Colormaps as functions from a value in [0, 1] to `[r, g, b]` bytes, built from matplotlib's
 * anchor tables with linear interpolation: the diverging `RdBu_r` (blue → white → red, what pyqg
 * plots PV with) and the sequential `viridis`. Plus the value ranges used to normalise data.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/** An RGB colour, each channel an integer byte 0..255. */
export type Rgb = [number, number, number];

/** A colormap: a value in [0, 1] (clamped; NaN gives mid grey) → `[r, g, b]` bytes. */
export type Colormap = (t: number) => Rgb;

/** The names of the built-in colormaps. */
export type ColormapName = "RdBu_r" | "viridis";

/** matplotlib's `_RdBu_data` (ColorBrewer RdBu, 11 classes), equally spaced, reversed for _r. */
const RDBU: readonly (readonly [number, number, number])[] = [
  [0.403921568627451, 0.0, 0.12156862745098039],
  [0.6980392156862745, 0.09411764705882353, 0.16862745098039217],
  [0.8392156862745098, 0.3764705882352941, 0.30196078431372547],
  [0.9568627450980393, 0.6470588235294118, 0.5098039215686274],
  [0.9921568627450981, 0.8588235294117647, 0.7803921568627451],
  [0.9686274509803922, 0.9686274509803922, 0.9686274509803922],
  [0.8196078431372549, 0.8980392156862745, 0.9411764705882353],
  [0.5725490196078431, 0.7725490196078432, 0.8705882352941177],
  [0.2627450980392157, 0.5764705882352941, 0.7647058823529411],
  [0.12941176470588237, 0.4, 0.6745098039215687],
  [0.0196078431372549, 0.18823529411764706, 0.3803921568627451],
];

/** Every 8th entry (and the last) of matplotlib's 256-entry viridis table: [index, r, g, b]. */
const VIRIDIS: readonly (readonly [number, number, number, number])[] = [
  [0, 0.2670, 0.0049, 0.3294],
  [8, 0.2770, 0.0503, 0.3757],
  [16, 0.2823, 0.0950, 0.4173],
  [24, 0.2829, 0.1359, 0.4534],
  [32, 0.2788, 0.1755, 0.4834],
  [40, 0.2706, 0.2141, 0.5071],
  [48, 0.2590, 0.2515, 0.5247],
  [56, 0.2450, 0.2877, 0.5373],
  [64, 0.2297, 0.3224, 0.5457],
  [72, 0.2143, 0.3556, 0.5512],
  [80, 0.1994, 0.3876, 0.5546],
  [88, 0.1856, 0.4186, 0.5568],
  [96, 0.1727, 0.4488, 0.5579],
  [104, 0.1607, 0.4785, 0.5581],
  [112, 0.1490, 0.5081, 0.5573],
  [120, 0.1378, 0.5375, 0.5549],
  [128, 0.1276, 0.5669, 0.5506],
  [136, 0.1206, 0.5964, 0.5436],
  [144, 0.1206, 0.6258, 0.5335],
  [152, 0.1323, 0.6550, 0.5197],
  [160, 0.1579, 0.6838, 0.5017],
  [168, 0.1966, 0.7118, 0.4792],
  [176, 0.2461, 0.7389, 0.4520],
  [184, 0.3041, 0.7647, 0.4199],
  [192, 0.3692, 0.7889, 0.3829],
  [200, 0.4401, 0.8111, 0.3410],
  [208, 0.5160, 0.8312, 0.2943],
  [216, 0.5958, 0.8487, 0.2433],
  [224, 0.6785, 0.8637, 0.1895],
  [232, 0.7624, 0.8764, 0.1371],
  [240, 0.8456, 0.8873, 0.0997],
  [248, 0.9261, 0.8973, 0.1041],
  [255, 0.9932, 0.9062, 0.1439],
];

/** Builds a 256-entry lookup table from anchors at positions `pos` (increasing, 0..1). */
function buildLut(pos: readonly number[], rgb: readonly (readonly number[])[]): Uint8Array {
  const lut = new Uint8Array(256 * 3);
  let k = 0;
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    while (k < pos.length - 2 && t > pos[k + 1]) k++;
    const w = (t - pos[k]) / (pos[k + 1] - pos[k]);
    for (let c = 0; c < 3; c++) {
      const v = rgb[k][c] + (rgb[k + 1][c] - rgb[k][c]) * w;
      lut[3 * i + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return lut;
}

/** Turns a lookup table into a colormap function (matplotlib's N = 256 quantisation). */
function fromLut(lut: Uint8Array): Colormap {
  return (t: number): Rgb => {
    if (Number.isNaN(t)) return [128, 128, 128];
    const i = Math.min(255, Math.max(0, Math.floor(t * 256)));
    return [lut[3 * i], lut[3 * i + 1], lut[3 * i + 2]];
  };
}

const RDBU_R_LUT = buildLut(
  RDBU.map((_, i) => i / (RDBU.length - 1)),
  [...RDBU].reverse(),
);
const VIRIDIS_LUT = buildLut(
  VIRIDIS.map((a) => a[0] / 255),
  VIRIDIS.map((a) => a.slice(1)),
);

/**
 * matplotlib's diverging `RdBu_r`: 0 → dark blue (5, 48, 97), 0.5 → near white (247, 247, 247),
 * 1 → dark red (103, 0, 31).
 *
 * @example
 * ```ts
 * import { rdBuR } from "./colormap.ts";
 * console.log(rdBuR(0.5)); // [247, 247, 247]
 * ```
 */
export const rdBuR: Colormap = fromLut(RDBU_R_LUT);

/**
 * matplotlib's sequential `viridis`: 0 → dark purple (68, 1, 84), 1 → yellow (253, 231, 37).
 *
 * @example
 * ```ts
 * import { viridis } from "./colormap.ts";
 * console.log(viridis(1)); // [253, 231, 37]
 * ```
 */
export const viridis: Colormap = fromLut(VIRIDIS_LUT);

/**
 * Looks up a built-in colormap by name.
 *
 * @example
 * ```ts
 * import { colormap } from "./colormap.ts";
 * const cmap = colormap("RdBu_r");
 * console.log(cmap(0)); // [5, 48, 97]
 * ```
 */
export function colormap(name: ColormapName): Colormap {
  if (name === "RdBu_r") return rdBuR;
  if (name === "viridis") return viridis;
  throw new InvalidArgumentError(`unknown colormap '${name}'; expected "RdBu_r" or "viridis"`);
}

/** Options of {@link symmetricRange}. */
export interface SymmetricRangeOptions {
  /**
   * Use this percentile (0..100] of |x| instead of max |x|, so a few extreme values do not wash
   * out the plot (e.g. 99.5). Default 100 (the maximum).
   */
  percentile?: number;
}

/**
 * The symmetric range `[-m, m]` with m = max |x| over the finite values (or a percentile of |x|),
 * the natural limits for a diverging colormap centred on 0. Returns `[-1, 1]` when there is no
 * finite non-zero value.
 *
 * @example
 * ```ts
 * import { symmetricRange } from "@soad/soad/internal";
 * console.log(symmetricRange([1, -3, 2])); // [-3, 3]
 * ```
 */
export function symmetricRange(
  data: ArrayLike<number>,
  options: SymmetricRangeOptions = {},
): [number, number] {
  const p = options.percentile ?? 100;
  if (!(p > 0 && p <= 100)) {
    throw new InvalidArgumentError(`symmetricRange: percentile must be in (0, 100], got ${p}`);
  }
  let m = 0;
  if (p === 100) {
    for (let i = 0; i < data.length; i++) {
      const a = Math.abs(data[i]);
      if (a > m && a !== Infinity) m = a;
    }
  } else {
    const abs: number[] = [];
    for (let i = 0; i < data.length; i++) {
      const a = Math.abs(data[i]);
      if (Number.isFinite(a)) abs.push(a);
    }
    if (abs.length > 0) {
      const sorted = Float64Array.from(abs).sort();
      const r = (p / 100) * (sorted.length - 1);
      const lo = Math.floor(r);
      const hi = Math.min(sorted.length - 1, lo + 1);
      m = sorted[lo] + (sorted[hi] - sorted[lo]) * (r - lo);
    }
  }
  return m > 0 ? [-m, m] : [-1, 1];
}

/**
 * The `[min, max]` of the finite values, widened to a non-empty interval when all values are
 * equal (`[v - 1, v + 1]`, or `[v - |v|/2, v + |v|/2]`), and `[0, 1]` when there is none.
 *
 * @example
 * ```ts
 * import { dataRange } from "./colormap.ts";
 * console.log(dataRange([3, NaN, 1, 2])); // [1, 3]
 * ```
 */
export function dataRange(data: ArrayLike<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) return [0, 1];
  if (lo === hi) {
    const d = lo === 0 ? 1 : Math.abs(lo) / 2;
    return [lo - d, hi + d];
  }
  return [lo, hi];
}
