/**
 * Validation of observations and their placement in the augmented state (spec §3: P_k selects the
 * observed frames × the operator's channels × the spatial mask).
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { type AugmentedLayout, layoutEntry } from "../obs/layout.ts";
import { checkMask } from "../obs/mask.ts";
import type { Observation } from "../obs/observe.ts";

/** One operator's observations as flat indices into one sample `[L, C, H, W]`. */
export interface PlannedObservation {
  /** Flat indices into a sample, in the order of `y`. */
  index: Int32Array;
  /** Observed values y. */
  y: Float32Array;
  /** Noise std σo. */
  sigma: number;
}

/** Per-sample geometry `[L, C, H, W]`. */
export interface SampleGeometry {
  /** Frames L. */
  frames: number;
  /** Channels C. */
  channels: number;
  /** Rows H. */
  height: number;
  /** Columns W. */
  width: number;
}

/**
 * Checks one observation against the window: mask grid, frames in range and increasing, values
 * length `frames × outChannels × points`, finite values, σ > 0.
 *
 * @example
 * ```ts
 * import { checkObservation } from "@soad/soad/internal";
 * import { strideMask } from "@soad/soad";
 * import { sin3x } from "@soad/soad";
 * const o = { operator: sin3x, mask: strideMask(4, 4, 2), frames: [0], values: new Float32Array(8), sigma: 0.1 };
 * checkObservation(o, 0, { frames: 1, channels: 4, height: 4, width: 4 }); // ok
 * ```
 */
export function checkObservation(o: Observation, k: number, geo: SampleGeometry): void {
  const name = `observation ${k} (${o?.operator?.name ?? "?"})`;
  if (!o || !o.operator || !o.mask || !Array.isArray(o.frames) || !o.values) {
    throw new InvalidArgumentError(`${name}: expected { operator, mask, frames, values, sigma }`);
  }
  checkMask(o.mask, geo.height, geo.width);
  if (o.frames.length === 0) throw new InvalidArgumentError(`${name}: no observed frames`);
  o.frames.forEach((f, i) => {
    if (!(Number.isInteger(f) && f >= 0 && f < geo.frames) || (i > 0 && f <= o.frames[i - 1])) {
      throw new InvalidArgumentError(
        `${name}: frames must be increasing integers in 0..${geo.frames - 1}, got [${o.frames}]`,
      );
    }
  });
  const n = o.frames.length * o.operator.outChannels * o.mask.indices.length;
  if (o.values.length !== n) {
    throw new InvalidArgumentError(
      `${name}: values has ${o.values.length} entries, expected frames·outChannels·points = ` +
        `${o.frames.length}·${o.operator.outChannels}·${o.mask.indices.length} = ${n}`,
    );
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(o.values[i])) {
      throw new InvalidArgumentError(`${name}: values[${i}] is ${o.values[i]}; expected finite`);
    }
  }
  if (!(o.sigma > 0 && Number.isFinite(o.sigma))) {
    throw new InvalidArgumentError(`${name}: sigma must be finite and > 0, got ${o.sigma}`);
  }
}

/**
 * Places observations in the augmented state of `layout` (SOAD): each operator must have its
 * channels in the layout.
 *
 * @example
 * ```ts
 * import { planObservations } from "@soad/soad/internal";
 * import { augmentedLayout } from "@soad/soad";
 * import { strideMask } from "@soad/soad";
 * import { sin3x } from "@soad/soad";
 * const o = { operator: sin3x, mask: strideMask(4, 4, 2), frames: [0], values: new Float32Array(8), sigma: 0.1 };
 * const [p] = planObservations([o], augmentedLayout("sin3x"), { frames: 1, channels: 4, height: 4, width: 4 });
 * console.log(p.index[0]); // 32 (channel 2, point 0)
 * ```
 */
export function planObservations(
  observations: Observation[],
  layout: AugmentedLayout,
  geo: SampleGeometry,
): PlannedObservation[] {
  if (geo.channels !== layout.channels) {
    throw new InvalidArgumentError(
      `the layout "${layout.name}" has ${layout.channels} channels, the window ${geo.channels}`,
    );
  }
  const R = geo.height * geo.width, C = geo.channels;
  return observations.map((o, k) => {
    checkObservation(o, k, geo);
    const entry = layoutEntry(layout, o.operator.name);
    if (!entry) {
      throw new InvalidArgumentError(
        `observation ${k}: operator "${o.operator.name}" has no channels in the model layout ` +
          `"${layout.name}" (operators: ${
            layout.entries.map((e) => e.operator.name).join(", ") || "none"
          }); use a model trained for it`,
      );
    }
    const np = o.mask.indices.length, co = o.operator.outChannels;
    const index = new Int32Array(o.values.length);
    for (let fi = 0; fi < o.frames.length; fi++) {
      for (let c = 0; c < co; c++) {
        const base = (o.frames[fi] * C + entry.channels[c]) * R;
        for (let p = 0; p < np; p++) index[(fi * co + c) * np + p] = base + o.mask.indices[p];
      }
    }
    return { index, y: Float32Array.from(o.values), sigma: o.sigma };
  });
}
