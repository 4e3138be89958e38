/**
 * The augmented-state channel layout of spec §3: z = concat_channel(x, H_1(x), H_2(x), …) with
 * the two normalised PV layers first. sda: C = 2; arctan3x / sin3x: C = 4; vor2vel: C = 6;
 * full: C = 10 = [q1, q2, atan1, atan2, sin1, sin2, u1, u2, v1, v2].
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { checkFrames, type NumericArray, type ObservationOperator } from "./operator.ts";
import { arctan3x, sin3x } from "./pointwise.ts";
import { vor2vel } from "./vor2vel.ts";

/** Number of state channels (the two QG layers). */
export const STATE_CHANNELS = 2;

/** One operator's block of channels in the augmented state. */
export interface LayoutEntry {
  /** The operator. */
  operator: ObservationOperator;
  /** Its channel indices in z (consecutive). */
  channels: number[];
}

/** Channel layout of an augmented state. */
export interface AugmentedLayout {
  /** Layout name (`"sda"`, `"arctan3x"`, …, `"full"`, or `"custom"`). */
  name: string;
  /** Total channels C. */
  channels: number;
  /** Operator blocks after the 2 state channels, in order. */
  entries: LayoutEntry[];
}

/** Names of the paper's models (spec §3, §5.3). */
export type ModelName = "sda" | "arctan3x" | "sin3x" | "vor2vel" | "full";

/**
 * A layout with the state channels first, then each operator's outputs in the order given.
 *
 * @example
 * ```ts
 * import { customLayout } from "@soad/soad";
 * import { sin3x } from "@soad/soad";
 * console.log(customLayout([sin3x]).entries[0].channels); // [2, 3]
 * ```
 */
export function customLayout(operators: ObservationOperator[], name = "custom"): AugmentedLayout {
  let c = STATE_CHANNELS;
  const entries: LayoutEntry[] = [];
  const seen = new Set<string>();
  for (const op of operators) {
    if (seen.has(op.name)) {
      throw new InvalidArgumentError(`operator "${op.name}" appears twice in the layout`);
    }
    if (op.inChannels !== STATE_CHANNELS) {
      throw new InvalidArgumentError(
        `operator "${op.name}" reads ${op.inChannels} channels; the state has ${STATE_CHANNELS}`,
      );
    }
    seen.add(op.name);
    entries.push({
      operator: op,
      channels: Array.from({ length: op.outChannels }, (_, i) => c + i),
    });
    c += op.outChannels;
  }
  return { name, channels: c, entries };
}

/**
 * The layout of one of the paper's models.
 *
 * @example
 * ```ts
 * import { augmentedLayout } from "@soad/soad";
 * console.log(augmentedLayout("full").channels, augmentedLayout("vor2vel").entries[0].channels);
 * // 10 [2, 3, 4, 5]
 * ```
 */
export function augmentedLayout(model: ModelName): AugmentedLayout {
  switch (model) {
    case "sda":
      return customLayout([], "sda");
    case "arctan3x":
      return customLayout([arctan3x], "arctan3x");
    case "sin3x":
      return customLayout([sin3x], "sin3x");
    case "vor2vel":
      return customLayout([vor2vel], "vor2vel");
    case "full":
      return customLayout([arctan3x, sin3x, vor2vel], "full");
    default:
      throw new InvalidArgumentError(
        `unknown model "${model}"; expected sda, arctan3x, sin3x, vor2vel or full`,
      );
  }
}

/**
 * The layout entry of an operator (by name), or undefined when the layout lacks it.
 *
 * @example
 * ```ts
 * import { augmentedLayout } from "@soad/soad";
 * import { layoutEntry } from "@soad/soad/internal";
 * console.log(layoutEntry(augmentedLayout("full"), "sin3x")?.channels); // [4, 5]
 * ```
 */
export function layoutEntry(layout: AugmentedLayout, name: string): LayoutEntry | undefined {
  return layout.entries.find((e) => e.operator.name === name);
}

/**
 * Builds z0 = [x, H_k(x)…] from a state `[L, 2, H, W]` (clean operators, all frames), layout
 * `[L, C, H, W]` — what the prior is trained on.
 *
 * @example
 * ```ts
 * import { augmentedLayout } from "@soad/soad";
 * import { augmentState } from "@soad/soad/internal";
 * const z = augmentState(new Float32Array(2 * 4 * 4), 1, 4, 4, augmentedLayout("arctan3x"));
 * console.log(z.length); // 64
 * ```
 */
export function augmentState(
  x: NumericArray,
  frames: number,
  height: number,
  width: number,
  layout: AugmentedLayout,
): Float32Array {
  checkFrames("state", x, frames, STATE_CHANNELS, height, width);
  const R = height * width, C = layout.channels;
  const z = new Float32Array(frames * C * R);
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < STATE_CHANNELS * R; i++) z[f * C * R + i] = x[f * STATE_CHANNELS * R + i];
  }
  for (const e of layout.entries) {
    const h = e.operator.apply(x, frames, height, width);
    const co = e.operator.outChannels;
    for (let f = 0; f < frames; f++) {
      for (let c = 0; c < co; c++) {
        z.set(h.subarray((f * co + c) * R, (f * co + c + 1) * R), (f * C + e.channels[c]) * R);
      }
    }
  }
  return z;
}
