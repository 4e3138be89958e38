/**
 * The spectral grid of the QG model: wavenumbers in NumPy `rfft2` order, the per-wavenumber
 * 2x2 PV inversion and the exponential filter (`../shared/spec/QG.md` §2, §4, §5).
 * Pure functions of the parameters; computed once per model.
 * @module
 */

/** Wavenumber arrays of a half spectrum `[ny][nk]`. */
export interface SpectralGrid {
  /** Points in y. */
  ny: number;
  /** Points in x. */
  nx: number;
  /** Stored x-wavenumbers, `nx / 2 + 1`. */
  nk: number;
  /** x-wavenumbers k_m = m Δk, m = 0..nx/2 [1/m]. */
  k: Float64Array;
  /** y-wavenumbers in FFT order: 0..ny/2−1, then −ny/2..−1, times Δl [1/m]. */
  l: Float64Array;
  /** κ² = k² + l² per spectral point `[ny][nk]`. */
  kappa2: Float64Array;
}

/**
 * The wavenumbers of an `ny × nx` periodic grid on a domain `L × W`.
 *
 * @example
 * ```ts
 * import { spectralGrid } from "@soad/soad/internal";
 * const g = spectralGrid(16, 16, 1e6, 1e6);
 * console.log(g.nk, g.l[8] < 0); // 9 true (the Nyquist row is negative)
 * ```
 */
export function spectralGrid(ny: number, nx: number, L: number, W: number): SpectralGrid {
  const nk = nx / 2 + 1;
  const dk = (2 * Math.PI) / L;
  const dl = (2 * Math.PI) / W;
  const k = new Float64Array(nk);
  for (let m = 0; m < nk; m++) k[m] = m * dk;
  const l = new Float64Array(ny);
  for (let n = 0; n < ny; n++) l[n] = (n < ny / 2 ? n : n - ny) * dl;
  const kappa2 = new Float64Array(ny * nk);
  for (let j = 0; j < ny; j++) {
    for (let m = 0; m < nk; m++) kappa2[j * nk + m] = k[m] * k[m] + l[j] * l[j];
  }
  return { ny, nx, nk, k, l, kappa2 };
}

/** Coefficients of ψ̂ = A q̂ per spectral point (zero where κ = 0). */
export interface InversionCoefficients {
  /** ∂ψ̂1/∂q̂1. */
  a11: Float64Array;
  /** ∂ψ̂1/∂q̂2. */
  a12: Float64Array;
  /** ∂ψ̂2/∂q̂1. */
  a21: Float64Array;
  /** ∂ψ̂2/∂q̂2. */
  a22: Float64Array;
}

/**
 * The closed-form inverse of the two-layer PV–streamfunction relation (spec §4):
 * with D = κ²(κ² + F1 + F2), ψ̂1 = (−(κ²+F2) q̂1 − F1 q̂2)/D, ψ̂2 = (−F2 q̂1 − (κ²+F1) q̂2)/D,
 * and ψ̂ = 0 where D = 0.
 *
 * @example
 * ```ts
 * import { inversionCoefficients, spectralGrid } from "@soad/soad/internal";
 * const g = spectralGrid(16, 16, 1e6, 1e6);
 * const a = inversionCoefficients(g.kappa2, 3.5556e-9, 8.8889e-10);
 * console.log(a.a11[0]); // 0 (the mean mode is invisible)
 * ```
 */
export function inversionCoefficients(
  kappa2: Float64Array,
  F1: number,
  F2: number,
): InversionCoefficients {
  const n = kappa2.length;
  const a11 = new Float64Array(n);
  const a12 = new Float64Array(n);
  const a21 = new Float64Array(n);
  const a22 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const k2 = kappa2[i];
    const det = k2 * (k2 + F1 + F2);
    if (det === 0) continue;
    const inv = 1 / det;
    a11[i] = -(k2 + F2) * inv;
    a12[i] = -F1 * inv;
    a21[i] = -F2 * inv;
    a22[i] = -(k2 + F1) * inv;
  }
  return { a11, a12, a21, a22 };
}

/**
 * Applies ψ̂ = A q̂ to two interleaved-complex half spectra (layer 1 then layer 2, each
 * `ny * nk * 2` doubles) and writes the two streamfunction spectra into `out`.
 *
 * @example
 * ```ts
 * import { inversionCoefficients, invertPV, spectralGrid } from "@soad/soad/internal";
 * const g = spectralGrid(16, 16, 1e6, 1e6);
 * const a = inversionCoefficients(g.kappa2, 3.5556e-9, 8.8889e-10);
 * const qh = new Float64Array(2 * 16 * 9 * 2);
 * qh[2] = 1; // layer 1, k = Δk, l = 0, real part
 * const ph = new Float64Array(qh.length);
 * invertPV(a, qh, ph);
 * console.log(ph[2] < 0); // true
 * ```
 */
export function invertPV(
  a: InversionCoefficients,
  qh: Float64Array,
  out: Float64Array,
): void {
  const { a11, a12, a21, a22 } = a;
  const n = a11.length;
  const off = 2 * n;
  for (let i = 0; i < n; i++) {
    const r1 = qh[2 * i], i1 = qh[2 * i + 1];
    const r2 = qh[off + 2 * i], i2 = qh[off + 2 * i + 1];
    out[2 * i] = a11[i] * r1 + a12[i] * r2;
    out[2 * i + 1] = a11[i] * i1 + a12[i] * i2;
    out[off + 2 * i] = a21[i] * r1 + a22[i] * r2;
    out[off + 2 * i + 1] = a21[i] * i1 + a22[i] * i2;
  }
}

/**
 * pyqg's exponential filter: 1 for κ* ≤ 0.65π, else exp(−filterfac (κ* − 0.65π)⁴), with
 * κ* = sqrt((k Δx)² + (l Δy)²) (spec §5).
 *
 * @example
 * ```ts
 * import { spectralFilter, spectralGrid } from "@soad/soad/internal";
 * const g = spectralGrid(64, 64, 1e6, 1e6);
 * const f = spectralFilter(g, 1e6 / 64, 1e6 / 64, 23.6);
 * console.log(f.filter((v) => v < 1).length); // 1415
 * ```
 */
export function spectralFilter(
  grid: SpectralGrid,
  dx: number,
  dy: number,
  filterfac: number,
): Float64Array {
  const { ny, nk, k, l } = grid;
  const cphi = 0.65 * Math.PI;
  const out = new Float64Array(ny * nk);
  for (let j = 0; j < ny; j++) {
    for (let m = 0; m < nk; m++) {
      const kx = k[m] * dx, ly = l[j] * dy;
      const wv = Math.sqrt(kx * kx + ly * ly);
      out[j * nk + m] = wv <= cphi ? 1 : Math.exp(-filterfac * (wv - cphi) ** 4);
    }
  }
  return out;
}
