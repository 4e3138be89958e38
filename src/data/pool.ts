/**
 * Spatial average pooling of a two-layer field, as SOAD coarsens 512² to 256²
 * (`torch.nn.functional.avg_pool2d`: non-overlapping `f×f` block means).
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/**
 * Average-pools `q` of layout `[layers][ny][nx]` by `factor` (block means computed in float64)
 * and writes the result as float32 into `out` at element offset `offset` (layout
 * `[layers][ny/factor][nx/factor]`). Returns `out`.
 *
 * @example
 * ```ts
 * import { averagePool } from "@soad/soad";
 * const q = Float64Array.from({ length: 2 * 4 * 4 }, (_, i) => i);
 * const out = averagePool(q, 4, 4, 2, 2);
 * console.log(out.length, out[0]); // 8 2.5
 * ```
 */
export function averagePool(
  q: Float64Array,
  ny: number,
  nx: number,
  factor: number,
  layers = 2,
  out?: Float32Array,
  offset = 0,
): Float32Array {
  if (!Number.isInteger(factor) || factor < 1 || ny % factor !== 0 || nx % factor !== 0) {
    throw new InvalidArgumentError(
      `pool factor must be a positive integer dividing ${ny}x${nx}, got ${factor}`,
    );
  }
  if (q.length !== layers * ny * nx) {
    throw new InvalidArgumentError(
      `q must have ${layers}*${ny}*${nx} = ${layers * ny * nx} values, got ${q.length}`,
    );
  }
  const h = ny / factor, w = nx / factor;
  const res = out ?? new Float32Array(layers * h * w);
  if (res.length < offset + layers * h * w) {
    throw new InvalidArgumentError(`output too small for ${layers}x${h}x${w} at ${offset}`);
  }
  const inv = 1 / (factor * factor);
  const row = new Float64Array(w);
  for (let c = 0; c < layers; c++) {
    for (let j = 0; j < h; j++) {
      row.fill(0);
      for (let dj = 0; dj < factor; dj++) {
        const base = (c * ny + j * factor + dj) * nx;
        for (let i = 0; i < w; i++) {
          let s = 0;
          const b = base + i * factor;
          for (let di = 0; di < factor; di++) s += q[b + di];
          row[i] += s;
        }
      }
      const o = offset + (c * h + j) * w;
      for (let i = 0; i < w; i++) res[o + i] = row[i] * inv;
    }
  }
  return res;
}
