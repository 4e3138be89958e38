/**
 * Spatial observation masks (spec §2.2): random ratio with an exact count floor(p·H·W) drawn by a
 * seeded permutation, uniform stride (i ≡ j ≡ 0 mod s), and user masks. A mask is the sorted list
 * of observed flat grid indices `y·W + x`.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { Rng } from "../rng.ts";

/** A spatial mask on an `height × width` grid. */
export interface SpatialMask {
  /** Rows (y). */
  height: number;
  /** Columns (x). */
  width: number;
  /** Observed flat indices `y·width + x`, strictly increasing. */
  indices: Int32Array;
}

function checkGrid(height: number, width: number): void {
  if (!(Number.isInteger(height) && Number.isInteger(width) && height > 0 && width > 0)) {
    throw new InvalidArgumentError(
      `mask grid must be positive integers, got ${height}x${width}`,
    );
  }
}

/**
 * Exactly floor(ratio·H·W) points chosen uniformly without replacement (ratio 1 → all points).
 *
 * @example
 * ```ts
 * import { randomMask } from "@soad/soad";
 * import { Rng } from "@soad/soad";
 * console.log(randomMask(256, 256, 0.01, new Rng(0)).indices.length); // 655
 * ```
 */
export function randomMask(height: number, width: number, ratio: number, rng: Rng): SpatialMask {
  checkGrid(height, width);
  if (!(ratio > 0 && ratio <= 1)) {
    throw new InvalidArgumentError(`mask ratio must be in (0, 1], got ${ratio}`);
  }
  const n = height * width;
  const count = Math.floor(ratio * n);
  if (count < 1) {
    throw new InvalidArgumentError(
      `mask ratio ${ratio} on ${height}x${width} selects no point; expected ratio ≥ ${1 / n}`,
    );
  }
  if (count === n) return { height, width, indices: Int32Array.from({ length: n }, (_, i) => i) };
  const perm = rng.permutation(n);
  return { height, width, indices: perm.slice(0, count).sort() };
}

/**
 * Points (y, x) with y ≡ 0 and x ≡ 0 mod `stride` (starting at 0).
 *
 * @example
 * ```ts
 * import { strideMask } from "@soad/soad";
 * console.log(strideMask(256, 256, 10).indices.length); // 676
 * ```
 */
export function strideMask(height: number, width: number, stride: number): SpatialMask {
  checkGrid(height, width);
  if (!(Number.isInteger(stride) && stride >= 1)) {
    throw new InvalidArgumentError(`mask stride must be a positive integer, got ${stride}`);
  }
  const idx: number[] = [];
  for (let y = 0; y < height; y += stride) {
    for (let x = 0; x < width; x += stride) idx.push(y * width + x);
  }
  return { height, width, indices: Int32Array.from(idx) };
}

/**
 * A user mask from a boolean/0-1 grid `[height][width]` (row-major); at least one point.
 *
 * @example
 * ```ts
 * import { userMask } from "@soad/soad";
 * console.log(userMask(2, 2, [1, 0, 0, 1]).indices); // Int32Array(2) [0, 3]
 * ```
 */
export function userMask(
  height: number,
  width: number,
  grid: ArrayLike<number | boolean>,
): SpatialMask {
  checkGrid(height, width);
  if (grid.length !== height * width) {
    throw new InvalidArgumentError(
      `user mask has ${grid.length} values, expected height·width = ${height * width}`,
    );
  }
  const idx: number[] = [];
  for (let i = 0; i < grid.length; i++) if (grid[i]) idx.push(i);
  if (idx.length === 0) {
    throw new InvalidArgumentError("user mask selects no point; expected at least one true value");
  }
  return { height, width, indices: Int32Array.from(idx) };
}

/**
 * Checks a mask (sizes, sorted unique in-range indices, at least one point).
 *
 * @example
 * ```ts
 * import { strideMask } from "@soad/soad";
 * import { checkMask } from "@soad/soad/internal";
 * checkMask(strideMask(8, 8, 2), 8, 8); // ok
 * ```
 */
export function checkMask(mask: SpatialMask, height: number, width: number): void {
  if (mask.height !== height || mask.width !== width) {
    throw new InvalidArgumentError(
      `mask is ${mask.height}x${mask.width}, expected the state grid ${height}x${width}`,
    );
  }
  const idx = mask.indices;
  if (idx.length === 0) throw new InvalidArgumentError("mask has no points; expected at least one");
  for (let i = 0; i < idx.length; i++) {
    if (!(idx[i] >= 0 && idx[i] < height * width) || (i > 0 && idx[i] <= idx[i - 1])) {
      throw new InvalidArgumentError(
        `mask indices must be strictly increasing in 0..${height * width - 1}; entry ${i} is ${
          idx[i]
        }`,
      );
    }
  }
}
