/**
 * The element-wise operators of spec §2.1: `arctan3x` (H(x) = arctan(3x)) and `sin3x`
 * (H(x) = 1.5·sin(3x), the amplitude of the code), both with 2 output channels (one per layer).
 * @module
 */

import { elementwiseOperator, type ObservationOperator } from "./operator.ts";

/** Amplitude of the `sin3x` operator (only in the code, spec §2.1 / §7.4). */
export const SIN3X_AMPLITUDE = 1.5;

/**
 * H(x) = arctan(3x), element-wise on both layers.
 *
 * @example
 * ```ts
 * import { arctan3x } from "@soad/soad";
 * console.log(arctan3x.apply([0, 1], 1, 1, 1)[1].toFixed(4)); // "1.2490"
 * ```
 */
export const arctan3x: ObservationOperator = elementwiseOperator({
  name: "arctan3x",
  f: (v) => Math.atan(3 * v),
  df: (v) => 3 / (1 + 9 * v * v),
});

/**
 * H(x) = 1.5·sin(3x), element-wise on both layers.
 *
 * @example
 * ```ts
 * import { sin3x } from "@soad/soad";
 * console.log(sin3x.apply([0, 0.5], 1, 1, 1)[1].toFixed(4)); // "1.4962"
 * ```
 */
export const sin3x: ObservationOperator = elementwiseOperator({
  name: "sin3x",
  f: (v) => SIN3X_AMPLITUDE * Math.sin(3 * v),
  df: (v) => 3 * SIN3X_AMPLITUDE * Math.cos(3 * v),
});
