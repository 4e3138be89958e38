/**
 * Statistics of a dataset's flow, for comparing presets: the time-mean isotropic kinetic-energy
 * spectrum of the upper layer (PV inverted on the stored, pooled grid), its spectral centroid
 * (the eddy scale), the RMS of q per layer, the persistence RMSE by lead, and the sin3x
 * phase-jump fractions — how often
 * 3·|Δq| (q in normalised units) exceeds π between neighbouring pixels and between the same pixel
 * on consecutive days, the condition under which the branch of sin(3q) can no longer be followed
 * from sample to sample (docs/results.md, "sin3x at 64²").
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { createRealFFT2 } from "../fft/create.ts";
import type { RealFFT2 } from "../fft/types.ts";
import { isotropicSpectrum } from "../qg/diagnostics.ts";
import { derivedConstants, type QGParams } from "../qg/params.ts";
import {
  type InversionCoefficients,
  inversionCoefficients,
  invertPV,
  type SpectralGrid,
  spectralGrid,
} from "../qg/spectral.ts";

/** What {@link FlowStats.result} reports. */
export interface FlowStatsResult {
  /** Snapshots accumulated. */
  frames: number;
  /** Bin-centre wavenumbers of the spectrum [rad/m]. */
  kr: Float64Array;
  /** Time-mean isotropic KE spectrum of the upper layer [m³/s²] (pyqg's binning). */
  keSpectrum: Float64Array;
  /** Spectral centroid Σ k E(k) / Σ E(k) of {@link keSpectrum} [rad/m]. */
  centroid: number;
  /** Wavenumber of the largest {@link keSpectrum} bin [rad/m]. */
  peak: number;
  /** RMS of q per layer over every pixel and snapshot [1/s]. */
  rms: [number, number];
  /** Fraction of neighbouring pixel pairs (along x and y, periodic) with 3·|Δq/σ| > π, per layer. */
  jumpNeighbour: [number, number];
  /** Fraction of pixels with 3·|Δq/σ| > π from one snapshot to the next in a window, per layer. */
  jumpTime: [number, number];
  /**
   * Persistence RMSE by lead (index = snapshots after a window's first): RMSE of q/σ (both
   * layers) between each snapshot and the window's first — how fast the normalised field changes.
   */
  persistence: Float64Array;
}

/**
 * Accumulates {@link FlowStatsResult} over windows `(time, layer, y, x)` of one square grid.
 *
 * @example
 * ```ts
 * import { resolveParams } from "@soad/soad";
 * import { FlowStats } from "@soad/soad/internal";
 * const s = new FlowStats(resolveParams({ nx: 16 }), [1, 1]);
 * s.addWindow(new Float32Array(2 * 2 * 16 * 16), 2); // two snapshots of a calm field
 * console.log(s.result().jumpNeighbour); // [ 0, 0 ]
 * ```
 */
export class FlowStats {
  readonly #n: number;
  readonly #std: [number, number];
  readonly #grid: SpectralGrid;
  readonly #inv: InversionCoefficients;
  readonly #fft: RealFFT2;
  readonly #dens: Float64Array;
  readonly #field: Float64Array;
  readonly #qh: Float64Array;
  readonly #ph: Float64Array;
  #frames = 0;
  #sumSq: [number, number] = [0, 0];
  #jumpN: [number, number] = [0, 0];
  #jumpT: [number, number] = [0, 0];
  #pairsT = 0;
  #persSq: number[] = [];
  #persN: number[] = [];

  /**
   * @param params QG parameters of the stored grid (`nx`, `ny` = the pooled grid, `L`, `W`,
   *   `rd`, `delta`); the grid must be square.
   * @param std per-layer normalisation std [1/s] that defines the normalised units.
   */
  constructor(params: QGParams, std: [number, number]) {
    if (params.nx !== params.ny) {
      throw new InvalidArgumentError(
        `FlowStats needs a square grid, got ${params.ny}x${params.nx}`,
      );
    }
    if (!(std[0] > 0 && std[1] > 0)) {
      throw new InvalidArgumentError(`std must be two positive numbers, got ${std}`);
    }
    this.#n = params.nx;
    this.#std = [std[0], std[1]];
    this.#grid = spectralGrid(params.ny, params.nx, params.L, params.W);
    const d = derivedConstants(params);
    this.#inv = inversionCoefficients(this.#grid.kappa2, d.F1, d.F2);
    this.#fft = createRealFFT2(params.ny, params.nx);
    this.#dens = new Float64Array(params.ny * this.#grid.nk);
    this.#field = this.#fft.alloc(2 * params.nx * params.ny);
    this.#qh = this.#fft.alloc(4 * this.#dens.length);
    this.#ph = new Float64Array(4 * this.#dens.length);
  }

  /** Adds a window of `frames` snapshots, `[frames][2][n][n]` (float32 as stored, 1/s). */
  addWindow(q: ArrayLike<number>, frames: number): void {
    const n = this.#n, m = n * n;
    if (q.length !== frames * 2 * m) {
      throw new InvalidArgumentError(
        `a window of ${frames} snapshots of 2x${n}x${n} has ${
          frames * 2 * m
        } values, got ${q.length}`,
      );
    }
    const nk = this.#grid.nk, ns = n * nk;
    const field = this.#field, qh = this.#qh, ph = this.#ph;
    const M2 = m * m;
    for (let f = 0; f < frames; f++) {
      const base = f * 2 * m;
      for (let i = 0; i < 2 * m; i++) field[i] = q[base + i];
      for (let l = 0; l < 2; l++) {
        const s = this.#std[l], off = base + l * m;
        let sq = 0, jn = 0, jt = 0, pe = 0;
        for (let y = 0; y < n; y++) {
          for (let x = 0; x < n; x++) {
            const v = q[off + y * n + x];
            sq += v * v;
            pe += ((v - q[off - base + y * n + x]) / s) ** 2;
            if (jump(v, q[off + y * n + (x + 1) % n], s)) jn++;
            if (jump(v, q[off + ((y + 1) % n) * n + x], s)) jn++;
            if (f > 0 && jump(v, q[off - 2 * m + y * n + x], s)) jt++;
          }
        }
        this.#sumSq[l] += sq;
        this.#jumpN[l] += jn;
        this.#jumpT[l] += jt;
        this.#persSq[f] = (this.#persSq[f] ?? 0) + pe;
        this.#persN[f] = (this.#persN[f] ?? 0) + m;
      }
      if (f > 0) this.#pairsT += m;
      this.#fft.rfft2(field, qh, 2);
      invertPV(this.#inv, qh, ph);
      const k2 = this.#grid.kappa2;
      for (let i = 0; i < ns; i++) {
        const re = ph[2 * i], im = ph[2 * i + 1];
        this.#dens[i] += (k2[i] * (re * re + im * im)) / M2;
      }
      this.#frames++;
    }
  }

  /** The statistics of everything added so far (throws when nothing was added). */
  result(): FlowStatsResult {
    const F = this.#frames, m = this.#n * this.#n;
    if (F === 0) throw new InvalidArgumentError("FlowStats: no snapshot was added");
    const mean = this.#dens.map((v) => v / F);
    const { kr, spectrum } = isotropicSpectrum(mean, this.#grid, 1);
    const e = spectrum[0];
    let se = 0, ske = 0, peak = 0;
    for (let i = 0; i < e.length; i++) {
      se += e[i];
      ske += kr[i] * e[i];
      if (e[i] > e[peak]) peak = i;
    }
    const pairs = this.#pairsT;
    return {
      frames: F,
      kr,
      keSpectrum: e,
      centroid: se > 0 ? ske / se : NaN,
      peak: kr[peak],
      rms: [0, 1].map((l) => Math.sqrt(this.#sumSq[l] / (F * m))) as [number, number],
      jumpNeighbour: [0, 1].map((l) => this.#jumpN[l] / (2 * F * m)) as [number, number],
      jumpTime: [0, 1].map((l) => (pairs > 0 ? this.#jumpT[l] / pairs : 0)) as [number, number],
      persistence: Float64Array.from(this.#persSq, (v, d) => Math.sqrt(v / this.#persN[d])),
    };
  }
}

/** True where the phase 3q moves by more than π between two samples (q in units of `std`). */
function jump(a: number, b: number, std: number): boolean {
  return 3 * Math.abs(a - b) / std > Math.PI;
}
