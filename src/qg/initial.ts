/**
 * Initial conditions of the QG model: pyqg's random-noise IC (with the fixtures' integer hash
 * in place of NumPy's unseeded draws, so a seed reproduces it bit for bit) and the strong
 * multi-mode IC of the fixtures (`../shared/fixtures/qg/README.md`).
 * @module
 */

/**
 * The fixtures' 32-bit integer hash of index `k` mapped to [0, 1).
 *
 * @example
 * ```ts
 * import { hashUniform } from "@soad/soad/internal";
 * const u = hashUniform(5, 0);
 * console.log(u >= 0 && u < 1); // true
 * ```
 */
export function hashUniform(k: number, seed = 0): number {
  let x = (k + Math.imul(0x9e3779b9, seed + 1)) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return (x >>> 0) / 4294967296;
}

/**
 * pyqg's noise IC: q1[j, i] = 1e-7·h(j·nx + i, seed) + 1e-6·h(i, seed + 1), q2 = 0, with h the
 * fixtures' hash. Layout `[layer][y][x]`.
 *
 * @example
 * ```ts
 * import { icNoise } from "@soad/soad";
 * const q = icNoise(32, 32, 0);
 * console.log(q.length, q[2 * 32 * 32 - 1]); // 2048 0
 * ```
 */
export function icNoise(nx: number, ny: number = nx, seed = 0): Float64Array {
  const q = new Float64Array(2 * ny * nx);
  const column = new Float64Array(nx);
  for (let i = 0; i < nx; i++) column[i] = 1e-6 * hashUniform(i, seed + 1);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      q[j * nx + i] = 1e-7 * hashUniform(j * nx + i, seed) + column[i];
    }
  }
  return q;
}

/**
 * The fixtures' strong multi-mode IC (nonlinear from the first step), with
 * X = 2πx/L, Y = 2πy/W at cell centres:
 * q1 = 1e-5·[cos(3X+0.3)·sin(2Y) + 0.5·cos(5X+4Y+1.1) + 0.25·sin(X−7Y)],
 * q2 = 1e-6·[sin(2X+0.7)·cos(3Y) + 0.6·cos(4X−3Y)].
 *
 * @example
 * ```ts
 * import { icModes } from "@soad/soad/internal";
 * const q = icModes(64);
 * console.log(q.length); // 8192
 * ```
 */
export function icModes(nx: number, ny: number = nx): Float64Array {
  const q = new Float64Array(2 * ny * nx);
  const off = ny * nx;
  for (let j = 0; j < ny; j++) {
    const Y = (2 * Math.PI * (j + 0.5)) / ny;
    for (let i = 0; i < nx; i++) {
      const X = (2 * Math.PI * (i + 0.5)) / nx;
      q[j * nx + i] = 1e-5 *
        (Math.cos(3 * X + 0.3) * Math.sin(2 * Y) + 0.5 * Math.cos(5 * X + 4 * Y + 1.1) +
          0.25 * Math.sin(X - 7 * Y));
      q[off + j * nx + i] = 1e-6 *
        (Math.sin(2 * X + 0.7) * Math.cos(3 * Y) + 0.6 * Math.cos(4 * X - 3 * Y));
    }
  }
  return q;
}
