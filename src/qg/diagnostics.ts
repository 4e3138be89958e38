/**
 * Diagnostics of the two-layer QG model (`../shared/spec/QG.md` §10): layer kinetic energy,
 * available potential energy, enstrophy, the energy-budget terms (APE generation by the shear,
 * bottom-drag loss), the CFL number and pyqg's isotropic KE spectrum.
 * @module
 */

import type { RealFFT2 } from "../fft/types.ts";
import type { QGDerived, QGParams } from "./params.ts";
import type { SpectralGrid } from "./spectral.ts";

/** Diagnostics of one state, with pyqg's names and units (per unit mass). */
export interface QGDiagnostics {
  /** Kinetic energy per layer ½⟨u² + v²⟩ [m²/s²]. */
  ke_layer: [number, number];
  /** Depth-weighted kinetic energy Σ (H_i/H) KE_i [m²/s²]. */
  ke: number;
  /** Available potential energy ½ F1 (H1/H) ⟨(ψ1 − ψ2)²⟩ [m²/s²]. */
  ape: number;
  /** ke + ape [m²/s²]. */
  energy: number;
  /** Enstrophy per layer ½⟨q²⟩ [1/s²]. */
  ens_layer: [number, number];
  /** APE generation by the background shear F1 (H1/H)(U1 − U2)⟨ψ1 ∂xψ2⟩ [m²/s³]. */
  ape_generation: number;
  /** Bottom-drag loss r_ek (H2/H)⟨u2² + v2²⟩ [m²/s³]. */
  drag_dissipation: number;
  /** max(|u + U|, |v|) Δt / Δx. */
  cfl: number;
}

/** An isotropic spectrum per layer at bin-centre wavenumbers. */
export interface SpectrumResult {
  /** Bin-centre wavenumbers [1/m]. */
  kr: Float64Array;
  /** Spectrum per layer, `[layer][bin]`. */
  spectrum: [Float64Array, Float64Array];
}

/** What the diagnostics read from a model: its parameters, grid, FFT and state. */
export interface QGStateView {
  /** Resolved parameters. */
  params: Readonly<QGParams>;
  /** Derived constants. */
  derived: Readonly<QGDerived>;
  /** Spectral grid. */
  grid: SpectralGrid;
  /** FFT engine for the grid. */
  fft: RealFFT2;
  /** PV spectrum `[2][ny][nk]` interleaved complex. */
  qh: Float64Array;
  /** Streamfunction spectrum of `qh`, same layout. */
  ph: Float64Array;
}

/**
 * Domain mean of f² for each of `count` half spectra (Parseval; the k = 0 and k = nx/2
 * columns count once, the others twice).
 *
 * @example
 * ```ts
 * import { spectralMeanSquare } from "@soad/soad/internal";
 * // a constant field 1 on a 16x16 grid has f̂(0,0) = 256
 * const fh = new Float64Array(16 * 9 * 2);
 * fh[0] = 256;
 * console.log(spectralMeanSquare(fh, 16, 16, 1)[0]); // 1
 * ```
 */
export function spectralMeanSquare(
  fh: Float64Array,
  ny: number,
  nx: number,
  count: number,
): Float64Array {
  const nk = nx / 2 + 1;
  const M2 = (ny * nx) ** 2;
  const out = new Float64Array(count);
  for (let c = 0; c < count; c++) {
    let s = 0;
    const o = c * ny * nk * 2;
    for (let j = 0; j < ny; j++) {
      for (let m = 0; m < nk; m++) {
        const i = o + 2 * (j * nk + m);
        const w = m === 0 || m === nk - 1 ? 1 : 2;
        s += w * (fh[i] * fh[i] + fh[i + 1] * fh[i + 1]);
      }
    }
    out[c] = s / M2;
  }
  return out;
}

function mean(a: Float64Array, from: number, n: number, f: (x: number) => number): number {
  let s = 0;
  for (let i = from; i < from + n; i++) s += f(a[i]);
  return s / n;
}

/**
 * All diagnostics of {@link QGDiagnostics} for one state, computed the way pyqg does
 * (velocities and ψ in real space; enstrophy by Parseval).
 *
 * @example
 * ```ts
 * import { icNoise, QGModel } from "@soad/soad";
 * const m = new QGModel({ nx: 32 });
 * m.setQ(icNoise(32));
 * const d = m.diagnostics(); // calls qgDiagnostics on the model's state
 * console.log(d.energy === d.ke + d.ape); // true
 * ```
 */
export function qgDiagnostics(s: QGStateView): QGDiagnostics {
  const { ny, nx, U1, U2, rek, dt } = s.params;
  const { F1, weights, dx } = s.derived;
  const { nk, k, l } = s.grid;
  const S = ny * nk * 2, R = ny * nx;
  // spectra of [u1, u2, v1, v2, ψ1, ∂xψ2, ψ1 − ψ2]
  const spec = new Float64Array(7 * S);
  const ph = s.ph;
  for (let j = 0; j < ny; j++) {
    for (let m = 0; m < nk; m++) {
      const i = 2 * (j * nk + m);
      for (let layer = 0; layer < 2; layer++) {
        const re = ph[layer * S + i], im = ph[layer * S + i + 1];
        spec[layer * S + i] = l[j] * im; // −i l ψ̂
        spec[layer * S + i + 1] = -l[j] * re;
        spec[(2 + layer) * S + i] = -k[m] * im; // i k ψ̂
        spec[(2 + layer) * S + i + 1] = k[m] * re;
      }
      spec[4 * S + i] = ph[i];
      spec[4 * S + i + 1] = ph[i + 1];
      spec[5 * S + i] = -k[m] * ph[S + i + 1];
      spec[5 * S + i + 1] = k[m] * ph[S + i];
      spec[6 * S + i] = ph[i] - ph[S + i];
      spec[6 * S + i + 1] = ph[i + 1] - ph[S + i + 1];
    }
  }
  const real = new Float64Array(7 * R);
  s.fft.irfft2(spec, real, 7);
  const sq = (x: number) => x * x;
  const ke1 = 0.5 * (mean(real, 0, R, sq) + mean(real, 2 * R, R, sq));
  const ke2 = 0.5 * (mean(real, R, R, sq) + mean(real, 3 * R, R, sq));
  const ke = weights[0] * ke1 + weights[1] * ke2;
  const ape = 0.5 * F1 * weights[0] * mean(real, 6 * R, R, sq);
  let cross = 0;
  for (let i = 0; i < R; i++) cross += real[4 * R + i] * real[5 * R + i];
  const gen = F1 * weights[0] * (U1 - U2) * (cross / R);
  const drag = rek * weights[1] * 2 * ke2;
  let maxVel = 0;
  for (let layer = 0; layer < 2; layer++) {
    const U = layer === 0 ? U1 : U2;
    for (let i = 0; i < R; i++) {
      maxVel = Math.max(
        maxVel,
        Math.abs(real[layer * R + i] + U),
        Math.abs(real[(2 + layer) * R + i]),
      );
    }
  }
  const ens = spectralMeanSquare(s.qh, ny, nx, 2);
  return {
    ke_layer: [ke1, ke2],
    ke,
    ape,
    energy: ke + ape,
    ens_layer: [0.5 * ens[0], 0.5 * ens[1]],
    ape_generation: gen,
    drag_dissipation: drag,
    cfl: (maxVel * dt) / dx,
  };
}

/**
 * pyqg's `calc_ispec(averaging=True, truncate=True)` of a 2-D spectral density `[count][ny][nk]`:
 * halve the k = 0 and k = nx/2 columns, bin by |κ| with width sqrt(Δk² + Δl²) up to
 * min(max|l|, max k), average each bin and multiply by (κ_i + Δκ/2)·π/(Δk Δl)·2.
 *
 * @example
 * ```ts
 * import { isotropicSpectrum } from "@soad/soad/internal";
 * import { spectralGrid } from "@soad/soad/internal";
 * const g = spectralGrid(16, 16, 1e6, 1e6);
 * const { kr, spectrum } = isotropicSpectrum(new Float64Array(16 * 9).fill(1), g, 1);
 * console.log(kr.length === spectrum[0].length); // true
 * ```
 */
export function isotropicSpectrum(
  density: Float64Array,
  grid: SpectralGrid,
  count: number,
): { kr: Float64Array; spectrum: Float64Array[] } {
  const { ny, nk, k, l, kappa2 } = grid;
  const dk = k[1], dl = Math.abs(l[1]);
  let maxL = 0;
  for (let j = 0; j < ny; j++) maxL = Math.max(maxL, Math.abs(l[j]));
  const kmax = Math.min(maxL, k[nk - 1]);
  const dkr = Math.sqrt(dk * dk + dl * dl);
  const edges: number[] = [];
  // same edges as numpy.arange(0, kmax, dkr)
  const nb = Math.ceil(kmax / dkr);
  for (let i = 0; i < nb; i++) edges.push(i * dkr);
  const kr = new Float64Array(nb);
  const spectrum: Float64Array[] = [];
  for (let c = 0; c < count; c++) spectrum.push(new Float64Array(nb));
  const sums = new Float64Array(count * nb);
  const counts = new Float64Array(nb);
  for (let j = 0; j < ny; j++) {
    for (let m = 0; m < nk; m++) {
      const kappa = Math.sqrt(kappa2[j * nk + m]);
      let b = -1;
      for (let i = 0; i < nb; i++) {
        const lo = edges[i];
        const inBin = i === nb - 1
          ? kappa >= lo && kappa <= lo + dkr
          : kappa >= lo && kappa < edges[i + 1];
        if (inBin) {
          b = i;
          break;
        }
      }
      if (b < 0) continue;
      const half = m === 0 || m === nk - 1 ? 0.5 : 1;
      counts[b]++;
      for (let c = 0; c < count; c++) sums[c * nb + b] += half * density[(c * ny + j) * nk + m];
    }
  }
  for (let i = 0; i < nb; i++) {
    kr[i] = edges[i] + dkr / 2;
    for (let c = 0; c < count; c++) {
      spectrum[c][i] = (sums[c * nb + i] / counts[i]) * kr[i] * Math.PI / (dk * dl) * 2;
    }
  }
  return { kr, spectrum };
}

/**
 * The isotropic KE spectrum per layer: {@link isotropicSpectrum} of κ²|ψ̂|²/M².
 *
 * @example
 * ```ts
 * import { icNoise, QGModel } from "@soad/soad";
 * const m = new QGModel({ nx: 32 });
 * m.setQ(icNoise(32));
 * const { kr, spectrum } = m.keSpectrum(); // calls keSpectrum on the model's state
 * console.log(kr.length === spectrum[1].length); // true
 * ```
 */
export function keSpectrum(s: QGStateView): SpectrumResult {
  const { ny, nx } = s.params;
  const { nk, kappa2 } = s.grid;
  const n = ny * nk;
  const M2 = (ny * nx) ** 2;
  const dens = new Float64Array(2 * n);
  for (let layer = 0; layer < 2; layer++) {
    for (let i = 0; i < n; i++) {
      const re = s.ph[layer * 2 * n + 2 * i], im = s.ph[layer * 2 * n + 2 * i + 1];
      dens[layer * n + i] = (kappa2[i] * (re * re + im * im)) / M2;
    }
  }
  const r = isotropicSpectrum(dens, s.grid, 2);
  return { kr: r.kr, spectrum: [r.spectrum[0], r.spectrum[1]] };
}
