/**
 * Time subsampling (spec §2.2): with interval N the observed frames are 0, N, 2N, … < L.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/**
 * Observed frame indices for window length `frames` and interval `interval`.
 *
 * @example
 * ```ts
 * import { observedFrames } from "@soad/soad/internal";
 * console.log(observedFrames(9, 4)); // [0, 4, 8]
 * ```
 */
export function observedFrames(frames: number, interval: number): number[] {
  if (!(Number.isInteger(frames) && frames >= 1)) {
    throw new InvalidArgumentError(`window length must be a positive integer, got ${frames}`);
  }
  if (!(Number.isInteger(interval) && interval >= 1)) {
    throw new InvalidArgumentError(`time interval N must be a positive integer, got ${interval}`);
  }
  const out: number[] = [];
  for (let f = 0; f < frames; f += interval) out.push(f);
  return out;
}
