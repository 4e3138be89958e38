/**
 * The pointwise work of one QG step, behind one interface with two engines: TypeScript
 * ({@link TsQGKernels}) and SIMD WebAssembly (`src/qg/kernels_wasm.ts`, kernels in
 * `wasm/qg.c`). Both perform the same floating-point operations in the same order, so the
 * model's state is bit-identical whichever runs. The model owns the buffers; a kernel object is
 * bound to them once.
 * @module
 */

import { invertPV } from "./spectral.ts";

/** The model's buffers and constants a kernel object is bound to (all float64). */
export interface QGBuffers {
  /** Points in y. */
  ny: number;
  /** Points in x. */
  nx: number;
  /** `nx / 2 + 1`. */
  nk: number;
  /** x-wavenumbers `[nk]`. */
  k: Float64Array;
  /** y-wavenumbers `[ny]` (FFT order). */
  l: Float64Array;
  /** Inversion coefficients `[ny * nk]` each. */
  a11: Float64Array;
  /** See {@link QGBuffers.a11}. */
  a12: Float64Array;
  /** See {@link QGBuffers.a11}. */
  a21: Float64Array;
  /** See {@link QGBuffers.a11}. */
  a22: Float64Array;
  /** κ² `[ny * nk]`. */
  kappa2: Float64Array;
  /** Spectral filter `[ny * nk]`. */
  filtr: Float64Array;
  /** PV spectrum `[2][ny][nk][2]`. */
  qh: Float64Array;
  /** Streamfunction spectrum `[2][ny][nk][2]`. */
  ph: Float64Array;
  /** Spectra `[û1, û2, v̂1, v̂2, q̂1, q̂2]`. */
  uvqh: Float64Array;
  /** Real fields `[u1, u2, v1, v2, q1, q2]` (inverse transform of `uvqh`). */
  uvq: Float64Array;
  /** Real fluxes `[Fx1, Fx2, Fy1, Fy2]`. */
  flux: Float64Array;
  /** Spectra of the fluxes, same order. */
  fluxh: Float64Array;
}

/** The pointwise stages of a step, in pyqg's order. */
export interface QGKernels {
  /** ψ̂ = A q̂ (into `ph`). */
  invert(): void;
  /** `uvqh` ← [−i l ψ̂, i k ψ̂, q̂] for both layers. */
  velocitySpectra(): void;
  /** `flux` ← [(u + U) q, v q] from `uvq`; returns max(|u + U|, |v|) (NaN if non-finite). */
  fluxes(U1: number, U2: number): number;
  /** T ← −i k F̂x − i l F̂y − i k Qy ψ̂ from `fluxh` and `ph`. */
  advectionTendency(T: Float64Array, Qy1: number, Qy2: number): void;
  /** T̂2 += r_ek κ² ψ̂2. */
  friction(T: Float64Array, rek: number): void;
  /** q̂ ← filtr (q̂ + da T0 + db T1 + dc T2); returns the sum of the new values. */
  abStep(
    T0: Float64Array,
    T1: Float64Array,
    T2: Float64Array,
    da: number,
    db: number,
    dc: number,
  ): number;
}

/**
 * The TypeScript engine: the reference for `wasm/qg.c`, and the fallback without SIMD.
 *
 * @example
 * ```ts
 * import { QGModel } from "@soad/soad";
 * // the model picks TsQGKernels when its FFT runs in TypeScript
 * const m = new QGModel({ nx: 16 }, { fft: "ts" });
 * console.log(m.fft.backend); // "ts"
 * ```
 */
export class TsQGKernels implements QGKernels {
  readonly #b: QGBuffers;

  /** @param buffers the model's buffers and constants */
  constructor(buffers: QGBuffers) {
    this.#b = buffers;
  }

  invert(): void {
    invertPV(this.#b, this.#b.qh, this.#b.ph);
  }

  velocitySpectra(): void {
    const { ny, nk, k, l, ph, qh, uvqh } = this.#b;
    const S = ny * nk * 2;
    for (let layer = 0; layer < 2; layer++) {
      const o = layer * S;
      for (let j = 0; j < ny; j++) {
        const lj = l[j];
        for (let m = 0; m < nk; m++) {
          const idx = o + 2 * (j * nk + m);
          const re = ph[idx], im = ph[idx + 1];
          uvqh[idx] = lj * im;
          uvqh[idx + 1] = -lj * re;
          uvqh[2 * S + idx] = -k[m] * im;
          uvqh[2 * S + idx + 1] = k[m] * re;
        }
      }
    }
    uvqh.set(qh, 4 * S);
  }

  fluxes(U1: number, U2: number): number {
    const { ny, nx, uvq, flux } = this.#b;
    const R = ny * nx;
    let mx = 0;
    for (let layer = 0; layer < 2; layer++) {
      const U = layer === 0 ? U1 : U2;
      const ou = layer * R, ov = (2 + layer) * R, oq = (4 + layer) * R;
      for (let i = 0; i < R; i++) {
        const uu = uvq[ou + i] + U, vv = uvq[ov + i], qq = uvq[oq + i];
        flux[ou + i] = uu * qq;
        flux[ov + i] = vv * qq;
        const au = Math.abs(uu), av = Math.abs(vv);
        if (!(au <= mx)) mx = au; // also takes NaN
        if (!(av <= mx)) mx = av;
      }
    }
    return mx;
  }

  advectionTendency(T: Float64Array, Qy1: number, Qy2: number): void {
    const { ny, nk, k, l, fluxh, ph } = this.#b;
    const S = ny * nk * 2;
    for (let layer = 0; layer < 2; layer++) {
      const o = layer * S, oy = (2 + layer) * S, q = layer === 0 ? Qy1 : Qy2;
      for (let j = 0; j < ny; j++) {
        const lj = l[j];
        for (let m = 0; m < nk; m++) {
          const km = k[m], kq = km * q;
          const a = o + 2 * (j * nk + m), b = oy + 2 * (j * nk + m);
          T[a] = km * fluxh[a + 1] + lj * fluxh[b + 1] + kq * ph[a + 1];
          T[a + 1] = -(km * fluxh[a] + lj * fluxh[b] + kq * ph[a]);
        }
      }
    }
  }

  friction(T: Float64Array, rek: number): void {
    const { kappa2, ph } = this.#b;
    const n = kappa2.length, o = 2 * n;
    for (let i = 0; i < n; i++) {
      const c = rek * kappa2[i];
      T[o + 2 * i] += c * ph[o + 2 * i];
      T[o + 2 * i + 1] += c * ph[o + 2 * i + 1];
    }
  }

  abStep(
    T0: Float64Array,
    T1: Float64Array,
    T2: Float64Array,
    da: number,
    db: number,
    dc: number,
  ): number {
    const { qh, filtr } = this.#b;
    const n = filtr.length;
    let sum = 0;
    for (let layer = 0; layer < 2; layer++) {
      const o = layer * 2 * n;
      for (let i = 0; i < n; i++) {
        const f = filtr[i];
        const r = o + 2 * i, im = r + 1;
        const nr = f * (qh[r] + da * T0[r] + db * T1[r] + dc * T2[r]);
        const ni = f * (qh[im] + da * T0[im] + db * T1[im] + dc * T2[im]);
        qh[r] = nr;
        qh[im] = ni;
        sum += nr + ni;
      }
    }
    return sum;
  }
}
