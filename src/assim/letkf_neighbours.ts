/**
 * The LETKF's geometry: the doubly periodic grid of the state and, for every grid column, the
 * observations within the localisation cutoff with their Gaspari–Cohn weights (R-localisation),
 * built once per observation network (`letkf.ts` runs the analysis).
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { gaspariCohn } from "./gaspari_cohn.ts";

/** The periodic grid of the state: point (i, j) sits at x = (j + ½)·lengthX/nx, y = (i + ½)·lengthY/ny. */
export interface LetkfGrid {
  /** Points in x. */
  nx: number;
  /** Points in y. */
  ny: number;
  /** Layers (state entries per column). */
  layers: number;
  /** Domain side in x, metres. */
  lengthX: number;
  /** Domain side in y, metres (default lengthX). */
  lengthY?: number;
}

/** The observations within the cutoff of every column (see {@link letkfNeighbours}). */
export interface LetkfNeighbours {
  /** Cutoff (metres) they were built for; Infinity = every observation, weight 1. */
  cutoff: number;
  /** Observation count m. */
  observations: number;
  /** Column c's neighbours are entries offsets[c] .. offsets[c + 1] − 1. */
  offsets: Int32Array;
  /** Observation index of each entry. */
  index: Int32Array;
  /** Gaspari–Cohn weight of each entry. */
  weight: Float64Array;
}

/**
 * Observation positions `xy` ([m, 2], x then y, metres) within `cutoff` metres (periodic distance,
 * strictly less) of every grid column, with their Gaspari–Cohn weights (half-width cutoff / 2).
 * Positions do not change between cycles in a twin experiment, so this is built once.
 *
 * @example
 * ```ts
 * import { letkfNeighbours } from "@soad/soad";
 * const nb = letkfNeighbours({ nx: 4, ny: 4, layers: 1, lengthX: 4 }, new Float64Array([0.5, 0.5]), 1.5);
 * console.log(nb.offsets[1] - nb.offsets[0], nb.weight[0]); // 1 1
 * ```
 */
export function letkfNeighbours(
  grid: LetkfGrid,
  xy: ArrayLike<number>,
  cutoff: number,
): LetkfNeighbours {
  checkGrid(grid);
  if (xy.length % 2 !== 0) {
    throw new InvalidArgumentError(`observation positions must be [m, 2], got ${xy.length} values`);
  }
  if (!(cutoff > 0)) {
    throw new InvalidArgumentError(
      `localisation cutoff must be > 0 metres (or Infinity), got ${cutoff}`,
    );
  }
  const m = xy.length / 2, { nx, ny } = grid, G = nx * ny;
  const Lx = grid.lengthX, Ly = grid.lengthY ?? grid.lengthX;
  const offsets = new Int32Array(G + 1);
  if (!Number.isFinite(cutoff)) {
    const index = new Int32Array(G * m), weight = new Float64Array(G * m).fill(1);
    for (let c = 0; c < G; c++) {
      offsets[c + 1] = (c + 1) * m;
      for (let k = 0; k < m; k++) index[c * m + k] = k;
    }
    return { cutoff, observations: m, offsets, index, weight };
  }
  const idx: number[] = [], wts: number[] = [];
  const half = cutoff / 2, c2 = cutoff * cutoff;
  for (let i = 0; i < ny; i++) {
    const y0 = (i + 0.5) * Ly / ny;
    for (let j = 0; j < nx; j++) {
      const x0 = (j + 0.5) * Lx / nx;
      for (let k = 0; k < m; k++) {
        let dx = Math.abs(xy[2 * k] - x0), dy = Math.abs(xy[2 * k + 1] - y0);
        dx = Math.min(dx, Lx - dx);
        dy = Math.min(dy, Ly - dy);
        const r2 = dx * dx + dy * dy;
        if (r2 < c2) {
          idx.push(k);
          wts.push(gaspariCohn(Math.sqrt(r2) / half));
        }
      }
      offsets[i * nx + j + 1] = idx.length;
    }
  }
  return {
    cutoff,
    observations: m,
    offsets,
    index: Int32Array.from(idx),
    weight: Float64Array.from(wts),
  };
}

/** Throws unless the grid has integer sizes >= 1 and positive lengths. */
export function checkGrid(g: LetkfGrid): void {
  const ok = [g.nx, g.ny, g.layers].every((v) => Number.isInteger(v) && v >= 1) &&
    g.lengthX > 0 && (g.lengthY === undefined || g.lengthY > 0);
  if (!ok) {
    throw new InvalidArgumentError(
      `LETKF grid needs integer nx, ny, layers >= 1 and lengths > 0, got ${JSON.stringify(g)}`,
    );
  }
}
