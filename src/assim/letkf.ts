/**
 * The local ensemble transform Kalman filter (LETKF; Hunt, Kostelich & Szunyogh 2007) on a doubly
 * periodic grid, as pure functions on typed arrays: one local analysis per horizontal grid point
 * (it updates every layer of that column) from the observations within a cutoff, with R⁻¹ scaled by
 * the Gaspari–Cohn weight of their distance (R-localisation), multiplicative prior inflation ρ in
 * ensemble space and relaxation to prior spread (RTPS). The N×N ensemble-space problem of each
 * column is solved with one symmetric eigen-decomposition; the symmetric square root is the
 * transform, as in Hunt et al. and `../shared/peers/letkf_numpy.py`.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { checkGrid, type LetkfGrid, type LetkfNeighbours } from "./letkf_neighbours.ts";
import { letkfKernel } from "./letkf_wasm.ts";
import { SymmetricEigen } from "./symmetric_eigen.ts";

export { type LetkfGrid, type LetkfNeighbours, letkfNeighbours } from "./letkf_neighbours.ts";

/** One LETKF analysis's inputs (float64 or float32 arrays). */
export interface LetkfInput {
  /** Members N. */
  members: number;
  /** Forecast ensemble Xf, `[N, layers, ny, nx]`. */
  forecast: ArrayLike<number>;
  /** Each member observed, H(x_n), `[N, m]` (the caller applies pooling and the operator). */
  observed: ArrayLike<number>;
  /** Observations y, `[m]`. */
  y: ArrayLike<number>;
  /** Observation error std σo: one for all, or one per observation. */
  sigma: number | ArrayLike<number>;
}

/** LETKF settings. */
export interface LetkfOptions {
  /** Neighbour lists (see {@link letkfNeighbours}): they carry the positions and the cutoff. */
  neighbours: LetkfNeighbours;
  /** Multiplicative prior inflation ρ ≥ 1 (1 = none; default 1). */
  inflation?: number;
  /** Relaxation to prior spread α in [0, 1] (0 = none; default 0). */
  rtps?: number;
  /**
   * Weight interpolation (Yang et al. 2009): solve the local analyses only every `weightStride`
   * columns in x and y and interpolate the transform matrices bilinearly in between (exact on the
   * solved columns; stride² times fewer eigen-solves). Default 1: every column solved. It runs on
   * the TypeScript path, which at stride 2 is slower than the exact analysis on the WASM kernel.
   */
  weightStride?: number;
  /**
   * Who solves the local analyses: `"wasm"` (default) the SIMD WebAssembly kernel
   * (`wasm/letkf.c`: Householder reflectors and QL rotations applied to the needed vectors, no
   * eigenvectors formed), `"ts"` the TypeScript reference (eigenvectors by tred2/tql2). The same
   * analysis to round-off. A global analysis (cutoff Infinity, one solve) and weight interpolation
   * always use the TypeScript path. The kernel runs on 1 thread, or 2 after `setLetkfThreads(2)`.
   */
  engine?: "wasm" | "ts";
}

/**
 * The analysis ensemble Xa `[N, layers, ny, nx]` (float64) of one LETKF step.
 *
 * @example
 * ```ts
 * import { letkfAnalysis, letkfNeighbours } from "@soad/soad";
 * const grid = { nx: 1, ny: 1, layers: 1, lengthX: 1 };
 * const neighbours = letkfNeighbours(grid, [0.5, 0.5], Infinity);
 * // two members ±1 observed directly with σo = 1: the mean moves halfway to y = 2
 * const xa = letkfAnalysis({ members: 2, forecast: [1, -1], observed: [1, -1], y: [2], sigma: 1 }, grid, { neighbours });
 * console.log(((xa[0] + xa[1]) / 2).toFixed(6)); // "1.333333"
 * ```
 */
export function letkfAnalysis(
  input: LetkfInput,
  grid: LetkfGrid,
  options: LetkfOptions,
): Float64Array {
  checkGrid(grid);
  const { members: N, forecast, observed, y } = input;
  const { neighbours: nb } = options;
  const rho = options.inflation ?? 1, alpha = options.rtps ?? 0;
  const { nx, ny, layers } = grid, G = nx * ny, S = layers * G, m = y.length;
  if (!(Number.isInteger(N) && N >= 2)) {
    throw new InvalidArgumentError(`the LETKF needs an integer N >= 2 members, got ${N}`);
  }
  if (forecast.length !== N * S) {
    throw new InvalidArgumentError(
      `forecast must be [${N}, ${layers}, ${ny}, ${nx}] (${N * S} values), got ${forecast.length}`,
    );
  }
  if (observed.length !== N * m) {
    throw new InvalidArgumentError(
      `observed members must be [${N}, ${m}], got ${observed.length} values`,
    );
  }
  if (nb.observations !== m || nb.offsets.length !== G + 1) {
    throw new InvalidArgumentError(
      `neighbour lists were built for ${nb.observations} observations and ${
        nb.offsets.length - 1
      } ` +
        `columns, the input has ${m} observations and ${G} columns`,
    );
  }
  if (!(rho >= 1 && Number.isFinite(rho))) {
    throw new InvalidArgumentError(`inflation must be a finite number >= 1, got ${rho}`);
  }
  if (!(alpha >= 0 && alpha <= 1)) {
    throw new InvalidArgumentError(`rtps must be in [0, 1], got ${alpha}`);
  }
  const rinv = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    const s = typeof input.sigma === "number" ? input.sigma : input.sigma[k];
    if (!(s > 0 && Number.isFinite(s))) {
      throw new InvalidArgumentError(
        `observation error std must be finite and > 0, got ${s} (obs ${k})`,
      );
    }
    rinv[k] = 1 / (s * s);
  }
  // mean and anomalies of the state and of the observed members; Yt is obs-major [m][N]
  const xm = new Float64Array(S), Xp = new Float64Array(N * S);
  for (let a = 0; a < N; a++) for (let s = 0; s < S; s++) xm[s] += forecast[a * S + s];
  for (let s = 0; s < S; s++) {
    xm[s] /= N;
    if (!Number.isFinite(xm[s])) {
      throw new InvalidArgumentError(
        `the forecast ensemble must be finite, got a non-finite value at state entry ${s}`,
      );
    }
  }
  for (let a = 0; a < N; a++) {
    for (let s = 0; s < S; s++) Xp[a * S + s] = forecast[a * S + s] - xm[s];
  }
  const Yt = new Float64Array(m * N), d = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    let mu = 0;
    for (let a = 0; a < N; a++) mu += observed[a * m + k];
    mu /= N;
    for (let a = 0; a < N; a++) Yt[k * N + a] = observed[a * m + k] - mu;
    d[k] = y[k] - mu;
    if (!Number.isFinite(d[k])) {
      throw new InvalidArgumentError(
        `observations and observed members must be finite, got a non-finite value at obs ${k}`,
      );
    }
  }
  const stride = options.weightStride ?? 1;
  if (!(Number.isInteger(stride) && stride >= 1 && nx % stride === 0 && ny % stride === 0)) {
    throw new InvalidArgumentError(
      `weightStride must be an integer >= 1 dividing the grid ${ny}x${nx}, got ${stride}`,
    );
  }
  const engine = options.engine ?? "wasm";
  if (engine !== "wasm" && engine !== "ts") {
    throw new InvalidArgumentError(`engine must be "wasm" or "ts", got ${JSON.stringify(engine)}`);
  }
  if (engine === "wasm" && stride === 1 && Number.isFinite(nb.cutoff)) {
    const xa = letkfKernel().analyse({
      members: N,
      layers,
      neighbours: nb,
      rinv,
      Yt,
      d,
      xm,
      Xp,
      inflation: rho,
      rtps: alpha,
    });
    return xa;
  }
  const out = new Float64Array(N * S);
  const A = new Float64Array(N * N), cd = new Float64Array(N), t = new Float64Array(N);
  let Z = new Float64Array(0), zd = new Float64Array(0);
  const wa = new Float64Array(N), sq = new Float64Array(N), u = new Float64Array(N);
  const eig = new SymmetricEigen(N), V = eig.vectors, lam = eig.values;
  const sqrtRho = Math.sqrt(rho), diag = (N - 1) / rho;
  const global = !Number.isFinite(nb.cutoff);
  /** V, sq, wa of the local analysis with the neighbour entries p0..p1−1. */
  const solve = (p0: number, p1: number): void => {
    // Z[a][q] = sqrt(r_q) Yb[q][a] gathered member-major, so every entry of A = diag +
    // Ybᵀ R⁻¹ Yb is one dot product over the local observations (no stores in the inner loop)
    const p = p1 - p0;
    if (Z.length < N * p) Z = new Float64Array(N * p * 2);
    if (zd.length < p) zd = new Float64Array(p * 2);
    for (let q = 0; q < p; q++) {
      const k = nb.index[p0 + q],
        sr = Math.sqrt(Math.max(0, rinv[k] * nb.weight[p0 + q])),
        o = k * N;
      zd[q] = sr * d[k];
      for (let a = 0; a < N; a++) Z[a * p + q] = sr * Yt[o + a];
    }
    for (let a = 0; a < N; a++) {
      const za = a * p;
      let c = 0;
      for (let q = 0; q < p; q++) c += Z[za + q] * zd[q];
      cd[a] = c;
      for (let b = 0; b <= a; b++) {
        const zb = b * p;
        let s0 = 0, s1 = 0, q = 0;
        for (; q + 1 < p; q += 2) {
          s0 += Z[za + q] * Z[zb + q];
          s1 += Z[za + q + 1] * Z[zb + q + 1];
        }
        if (q < p) s0 += Z[za + q] * Z[zb + q];
        A[a * N + b] = s0 + s1;
      }
    }
    for (let a = 0; a < N; a++) {
      A[a * N + a] += diag;
      for (let b = 0; b < a; b++) A[b * N + a] = A[a * N + b];
    }
    eig.decompose(A);
    // wa = V Λ⁻¹ Vᵀ (Ybᵀ R⁻¹ d); sq_k = sqrt((N − 1)/λ_k); V's rows are the eigenvectors
    wa.fill(0);
    for (let k = 0; k < N; k++) {
      let s = 0;
      const row = k * N;
      for (let a = 0; a < N; a++) s += V[row + a] * cd[a];
      s /= lam[k];
      for (let a = 0; a < N; a++) wa[a] += V[row + a] * s;
      sq[k] = Math.sqrt((N - 1) / lam[k]);
    }
  };
  if (stride > 1) {
    weightInterpolatedAnalysis(out, {
      N,
      nx,
      ny,
      layers,
      stride,
      xm,
      Xp,
      sqrtRho,
      nb,
      solve,
      V,
      sq,
      wa,
    });
  } else {
    let solved = false;
    for (let c = 0; c < G; c++) {
      const p0 = nb.offsets[c], p1 = nb.offsets[c + 1];
      if (p1 === p0) { // no observation: the inflated prior
        for (let l = 0; l < layers; l++) {
          const s = l * G + c;
          for (let a = 0; a < N; a++) out[a * S + s] = xm[s] + sqrtRho * Xp[a * S + s];
        }
        continue;
      }
      if (!global || !solved) {
        solve(p0, p1);
        solved = true;
      }
      // Xa_b = x̄ + Σ_a Xp_a (Wa_ab + wa_a), Wa = V diag(sq) Vᵀ
      for (let l = 0; l < layers; l++) {
        const s0 = l * G + c;
        let shift = 0;
        for (let a = 0; a < N; a++) {
          t[a] = Xp[a * S + s0];
          shift += wa[a] * t[a];
          u[a] = 0;
        }
        for (let k = 0; k < N; k++) {
          let s = 0;
          const row = k * N;
          for (let a = 0; a < N; a++) s += V[row + a] * t[a];
          s *= sq[k];
          for (let b = 0; b < N; b++) u[b] += V[row + b] * s;
        }
        const base = xm[s0] + shift;
        for (let b = 0; b < N; b++) out[b * S + s0] = base + u[b];
      }
    }
  }
  if (alpha > 0) relaxToPriorSpread(out, Xp, N, S, alpha);
  return out;
}

/** What {@link weightInterpolatedAnalysis} needs from the analysis. */
interface InterpolationContext {
  N: number;
  nx: number;
  ny: number;
  layers: number;
  stride: number;
  xm: Float64Array;
  Xp: Float64Array;
  sqrtRho: number;
  nb: LetkfNeighbours;
  solve: (p0: number, p1: number) => void;
  V: Float64Array;
  sq: Float64Array;
  wa: Float64Array;
}

/** The analysis with transforms W = V diag(sq) Vᵀ + wa 1ᵀ solved on a coarse grid, interpolated. */
function weightInterpolatedAnalysis(out: Float64Array, x: InterpolationContext): void {
  const { N, nx, ny, layers, stride, xm, Xp, nb, V, sq, wa } = x;
  const G = nx * ny, S = layers * G, cx = nx / stride, cy = ny / stride, NN = N * N;
  const W = new Float64Array(cx * cy * NN);
  for (let ci = 0; ci < cy; ci++) {
    for (let cj = 0; cj < cx; cj++) {
      const c = ci * stride * nx + cj * stride, o = (ci * cx + cj) * NN;
      const p0 = nb.offsets[c], p1 = nb.offsets[c + 1];
      if (p1 === p0) {
        for (let a = 0; a < N; a++) W[o + a * N + a] = x.sqrtRho;
        continue;
      }
      x.solve(p0, p1);
      for (let k = 0; k < N; k++) {
        const row = k * N, f = sq[k];
        for (let a = 0; a < N; a++) {
          const va = V[row + a] * f;
          for (let b = 0; b < N; b++) W[o + a * N + b] += va * V[row + b];
        }
      }
      for (let a = 0; a < N; a++) for (let b = 0; b < N; b++) W[o + a * N + b] += wa[a];
    }
  }
  const w = new Float64Array(NN), col = new Float64Array(N);
  for (let i = 0; i < ny; i++) {
    const i0 = Math.floor(i / stride), fy = (i - i0 * stride) / stride, i1 = (i0 + 1) % cy;
    for (let j = 0; j < nx; j++) {
      const j0 = Math.floor(j / stride), fx = (j - j0 * stride) / stride, j1 = (j0 + 1) % cx;
      const o00 = (i0 * cx + j0) * NN, o01 = (i0 * cx + j1) * NN;
      const o10 = (i1 * cx + j0) * NN, o11 = (i1 * cx + j1) * NN;
      const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
      if (fx === 0 && fy === 0) w.set(W.subarray(o00, o00 + NN));
      else {
        for (let e = 0; e < NN; e++) {
          w[e] = w00 * W[o00 + e] + w01 * W[o01 + e] + w10 * W[o10 + e] + w11 * W[o11 + e];
        }
      }
      const c = i * nx + j;
      for (let l = 0; l < layers; l++) {
        const s0 = l * G + c;
        for (let a = 0; a < N; a++) col[a] = Xp[a * S + s0];
        for (let b = 0; b < N; b++) {
          let v = xm[s0];
          for (let a = 0; a < N; a++) v += col[a] * w[a * N + b];
          out[b * S + s0] = v;
        }
      }
    }
  }
}

/** RTPS in place: analysis anomalies scaled by 1 + α(σf − σa)/σa per entry (σ with N − 1). */
function relaxToPriorSpread(
  xa: Float64Array,
  Xp: Float64Array,
  N: number,
  S: number,
  alpha: number,
): void {
  for (let s = 0; s < S; s++) {
    let vf = 0, mu = 0;
    for (let a = 0; a < N; a++) {
      vf += Xp[a * S + s] ** 2;
      mu += xa[a * S + s];
    }
    mu /= N;
    let va = 0;
    for (let a = 0; a < N; a++) va += (xa[a * S + s] - mu) ** 2;
    const sf = Math.sqrt(vf / (N - 1)), sa = Math.sqrt(va / (N - 1));
    if (!(sa > 0)) continue;
    const scale = 1 + alpha * (sf - sa) / sa;
    for (let a = 0; a < N; a++) xa[a * S + s] = mu + (xa[a * S + s] - mu) * scale;
  }
}
