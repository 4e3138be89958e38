/**
 * The two-layer quasi-geostrophic model exactly as pyqg's `QGModel` defines it
 * (`../shared/spec/QG.md`): PV in spectral space, per-wavenumber 2x2 inversion, flux-form
 * pseudo-spectral advection with the background flow folded in, background-gradient and
 * bottom-drag terms, AB3 time stepping (Euler, then AB2 on start-up) and the exponential
 * filter applied to the whole new state. State in float64.
 * @module
 */

import { BlowUpError, InvalidArgumentError } from "../errors.ts";
import { createRealFFT2 } from "../fft/create.ts";
import type { FFTBackend, RealFFT2 } from "../fft/types.ts";
import { type QGDerived, type QGParams, derivedConstants, resolveParams } from "./params.ts";
import {
  type InversionCoefficients,
  inversionCoefficients,
  invertPV,
  spectralFilter,
  type SpectralGrid,
  spectralGrid,
} from "./spectral.ts";
import { type QGDiagnostics, qgDiagnostics, type SpectrumResult, keSpectrum } from "./diagnostics.ts";

/** Options that are not physics. */
export interface QGModelOptions {
  /** FFT engine: "auto" (default) takes SIMD WASM when available, else TypeScript. */
  fft?: FFTBackend | "auto";
  /** Check for blow-up (non-finite q or CFL > `maxCfl`) at every step. Default true. */
  checkStability?: boolean;
  /** Largest CFL number accepted before the run is stopped. Default 1. */
  maxCfl?: number;
}

/** Adams–Bashforth coefficients for the current, previous and second previous tendency. */
const AB_COEFFS: readonly (readonly [number, number, number])[] = [
  [1, 0, 0],
  [1.5, -0.5, 0],
  [23 / 12, -16 / 12, 5 / 12],
];

/**
 * The two-layer QG model (pyqg's `QGModel`), with every pyqg parameter by its pyqg name.
 *
 * Real fields use the layout `[layer][y][x]` (layer 0 = upper), y index 0 at the south.
 *
 * @example
 * ```ts
 * import { icNoise, QGModel } from "../../mod.ts";
 * const m = new QGModel({ nx: 32, dt: 7200 });
 * m.setQ(icNoise(32));
 * m.step(10);
 * console.log(m.steps, m.diagnostics().ke > 0); // 10 true
 * ```
 */
export class QGModel {
  /** The resolved parameters (defaults filled in). */
  readonly params: Readonly<QGParams>;
  /** Derived constants F1, F2, Qy, H, layer weights, grid spacing. */
  readonly derived: Readonly<QGDerived>;
  /** Wavenumbers of the half spectrum. */
  readonly grid: SpectralGrid;
  /** The FFT engine in use. */
  readonly fft: RealFFT2;
  readonly #inv: InversionCoefficients;
  readonly #filtr: Float64Array;
  readonly #check: boolean;
  readonly #maxCfl: number;
  // spectral buffers: S = ny*nk*2 doubles per field, R = ny*nx per real field
  readonly #qh: Float64Array; // [2 layers]
  readonly #ph: Float64Array; // [2]
  readonly #uvqh: Float64Array; // [u1, u2, v1, v2, q1, q2]
  readonly #uvq: Float64Array; // real [u1, u2, v1, v2, q1, q2]
  readonly #flux: Float64Array; // real [Fx1, Fx2, Fy1, Fy2]
  readonly #fluxh: Float64Array; // spectral [Fx1, Fx2, Fy1, Fy2]
  #tend: Float64Array[]; // [T^n, T^{n-1}, T^{n-2}], each [2]
  #ablevel = 0;
  #steps = 0;
  #qReal: Float64Array | null = null;
  #failed: string | null = null;
  #lastCfl = 0;

  /**
   * @param params any of pyqg's `QGModel` parameters; the rest take pyqg's defaults
   * @param options FFT engine and stability checks
   */
  constructor(params: Partial<QGParams> = {}, options: QGModelOptions = {}) {
    this.params = Object.freeze(resolveParams(params));
    const p = this.params;
    this.derived = Object.freeze(derivedConstants(p));
    this.grid = spectralGrid(p.ny, p.nx, p.L, p.W);
    this.#inv = inversionCoefficients(this.grid.kappa2, this.derived.F1, this.derived.F2);
    this.#filtr = spectralFilter(this.grid, this.derived.dx, this.derived.dy, p.filterfac);
    this.#check = options.checkStability ?? true;
    this.#maxCfl = options.maxCfl ?? 1;
    if (!(this.#maxCfl > 0)) {
      throw new InvalidArgumentError(`maxCfl must be > 0, got ${options.maxCfl}`);
    }
    this.fft = createRealFFT2(p.ny, p.nx, { backend: options.fft ?? "auto" });
    const S = p.ny * this.grid.nk * 2;
    const R = p.ny * p.nx;
    this.#qh = this.fft.alloc(2 * S);
    this.#ph = this.fft.alloc(2 * S);
    this.#uvqh = this.fft.alloc(6 * S);
    this.#uvq = this.fft.alloc(6 * R);
    this.#flux = this.fft.alloc(4 * R);
    this.#fluxh = this.fft.alloc(4 * S);
    this.#tend = [this.fft.alloc(2 * S), this.fft.alloc(2 * S), this.fft.alloc(2 * S)];
  }

  /** Number of steps taken since the last {@link QGModel.setQ}. */
  get steps(): number {
    return this.#steps;
  }

  /** Model time in seconds since the last {@link QGModel.setQ}. */
  get time(): number {
    return this.#steps * this.params.dt;
  }

  /** The CFL number seen at the start of the last step (0 before any step). */
  get lastCfl(): number {
    return this.#lastCfl;
  }

  /**
   * Replaces the state by a real PV anomaly `q` of layout `[2][ny][nx]` and restarts the time
   * stepper (the next step is forward Euler, as pyqg does after a restart).
   */
  setQ(q: Float64Array | Float32Array | number[]): void {
    const { nx, ny } = this.params;
    if (q.length !== 2 * ny * nx) {
      throw new InvalidArgumentError(
        `q must hold 2 layers of ${ny}x${nx} = ${2 * ny * nx} values ([layer][y][x]), got ${q.length}`,
      );
    }
    const buf = this.#uvq.subarray(0, 2 * ny * nx);
    for (let i = 0; i < q.length; i++) {
      const v = q[i];
      if (!Number.isFinite(v)) {
        const layer = Math.floor(i / (ny * nx));
        const r = i % (ny * nx);
        throw new InvalidArgumentError(
          `q must be finite; found ${v} at layer ${layer}, y ${Math.floor(r / nx)}, x ${r % nx}`,
        );
      }
      buf[i] = v;
    }
    this.fft.rfft2(buf, this.#qh, 2);
    this.#ablevel = 0;
    this.#steps = 0;
    this.#qReal = null;
    this.#failed = null;
    this.#lastCfl = 0;
  }

  /** PV anomaly `[2][ny][nx]` (a copy). */
  get q(): Float64Array {
    if (this.#qReal === null) {
      const out = new Float64Array(2 * this.params.ny * this.params.nx);
      this.#inverse(this.#qh, out, 2);
      this.#qReal = out;
    }
    return this.#qReal.slice();
  }

  /** PV spectrum `[2][ny][nk]` interleaved complex (a copy). */
  get qh(): Float64Array {
    return this.#qh.slice();
  }

  /** Streamfunction ψ `[2][ny][nx]` [m²/s]. */
  get psi(): Float64Array {
    const out = new Float64Array(2 * this.params.ny * this.params.nx);
    invertPV(this.#inv, this.#qh, this.#ph);
    this.#inverse(this.#ph, out, 2);
    return out;
  }

  /** Zonal velocity anomaly u = −∂ψ/∂y `[2][ny][nx]` [m/s] (without the background U). */
  get u(): Float64Array {
    return this.#velocity("u");
  }

  /** Meridional velocity v = ∂ψ/∂x `[2][ny][nx]` [m/s]. */
  get v(): Float64Array {
    return this.#velocity("v");
  }

  /** Energy, enstrophy, budget terms and CFL of the current state (spec §10). */
  diagnostics(): QGDiagnostics {
    this.#assertUsable();
    return qgDiagnostics(this.#context());
  }

  /** The isotropic KE spectrum per layer, pyqg's `calc_ispec` convention (spec §10). */
  keSpectrum(): SpectrumResult {
    this.#assertUsable();
    return keSpectrum(this.#context());
  }

  /**
   * The full tendency ∂q/∂t `[2][ny][nx]` of the current state (advection, background terms
   * and drag, before filtering), as pyqg computes it at the start of a step.
   */
  tendency(): Float64Array {
    this.#assertUsable();
    const { ny, nx } = this.params;
    const T = new Float64Array(2 * ny * this.grid.nk * 2);
    invertPV(this.#inv, this.#qh, this.#ph);
    this.#advection(T);
    this.#friction(T);
    const out = new Float64Array(2 * ny * nx);
    this.#inverse(T, out, 2);
    return out;
  }

  /** Advances `n` steps. Throws {@link BlowUpError} if q goes non-finite or CFL > maxCfl. */
  step(n = 1): void {
    if (!Number.isInteger(n) || n < 0) {
      throw new InvalidArgumentError(`step count must be a non-negative integer, got ${n}`);
    }
    this.#assertUsable();
    for (let s = 0; s < n; s++) this.#stepForward();
  }

  /** One step, in pyqg's order: invert, advect, friction, time step (with filter). */
  #stepForward(): void {
    invertPV(this.#inv, this.#qh, this.#ph);
    this.#advection(this.#tend[0]);
    this.#friction(this.#tend[0]);
    this.#timeStep();
  }

  /** T = −(ik F̂x + il F̂y) − ik Qy ψ̂ with Fx = (u + U) q, Fy = v q on the grid. */
  #advection(T: Float64Array): void {
    const { nk, k, l } = this.grid;
    const { ny, nx, U1, U2, dt } = this.params;
    const S = ny * nk * 2;
    const ph = this.#ph, qh = this.#qh, uvqh = this.#uvqh;
    // û = −i l ψ̂, v̂ = i k ψ̂, and q̂, for both layers
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
    this.fft.irfft2(uvqh, this.#uvq, 6);
    // fluxes on the grid, and the CFL number on the way
    const R = ny * nx, uvq = this.#uvq, flux = this.#flux;
    let maxU = 0, maxV = 0;
    for (let layer = 0; layer < 2; layer++) {
      const U = layer === 0 ? U1 : U2;
      const ou = layer * R, ov = (2 + layer) * R, oq = (4 + layer) * R;
      for (let i = 0; i < R; i++) {
        const uu = uvq[ou + i] + U, vv = uvq[ov + i], qq = uvq[oq + i];
        flux[ou + i] = uu * qq;
        flux[ov + i] = vv * qq;
        const au = uu < 0 ? -uu : uu, av = vv < 0 ? -vv : vv;
        if (!(au <= maxU)) maxU = au;
        if (!(av <= maxV)) maxV = av;
      }
    }
    const cfl = Math.max(maxU, maxV) * dt / this.derived.dx;
    this.#lastCfl = cfl;
    if (this.#check && !(cfl <= this.#maxCfl)) {
      this.#fail(
        Number.isFinite(cfl)
          ? `CFL number ${cfl.toPrecision(3)} exceeds ${this.#maxCfl}`
          : `the state became non-finite (CFL ${cfl})`,
        cfl,
      );
    }
    this.fft.rfft2(flux, this.#fluxh, 4);
    const fh = this.#fluxh;
    const Qy = this.derived.Qy;
    for (let layer = 0; layer < 2; layer++) {
      const o = layer * S, oy = (2 + layer) * S, q = Qy[layer];
      for (let j = 0; j < ny; j++) {
        const lj = l[j];
        for (let m = 0; m < nk; m++) {
          const km = k[m];
          const idx = 2 * (j * nk + m);
          const a = o + idx, b = oy + idx;
          // −i k (Fx) − i l (Fy) − i k Qy ψ
          T[a] = km * fh[a + 1] + lj * fh[b + 1] + km * q * ph[a + 1];
          T[a + 1] = -km * fh[a] - lj * fh[b] - km * q * ph[a];
        }
      }
    }
  }

  /** Bottom drag on the lower layer: T̂2 += r_ek κ² ψ̂2. */
  #friction(T: Float64Array): void {
    const rek = this.params.rek;
    if (rek === 0) return;
    const kappa2 = this.grid.kappa2, ph = this.#ph;
    const n = kappa2.length, o = 2 * n;
    for (let i = 0; i < n; i++) {
      const c = rek * kappa2[i];
      T[o + 2 * i] += c * ph[o + 2 * i];
      T[o + 2 * i + 1] += c * ph[o + 2 * i + 1];
    }
  }

  /** q̂ ← filtr · (q̂ + Δt (a T + b T₁ + c T₂)), then shift the tendency history. */
  #timeStep(): void {
    const [a, b, c] = AB_COEFFS[this.#ablevel];
    const dt = this.params.dt;
    const [T0, T1, T2] = this.#tend;
    const qh = this.#qh, filtr = this.#filtr;
    const n = filtr.length;
    const da = dt * a, db = dt * b, dc = dt * c;
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
    this.#tend = [T2, T0, T1];
    if (this.#ablevel < 2) this.#ablevel++;
    this.#steps++;
    this.#qReal = null;
    if (this.#check && !Number.isFinite(sum)) {
      this.#fail("the state became non-finite", this.#lastCfl);
    }
  }

  #fail(what: string, cfl: number): never {
    const step = this.#steps + 1;
    this.#failed = `${what} at step ${step} (CFL ${cfl.toPrecision(3)}, dt ${this.params.dt} s, ` +
      `nx ${this.params.nx}); reduce dt or check the initial condition`;
    throw new BlowUpError(`QG run blew up: ${this.#failed}`, step);
  }

  #assertUsable(): void {
    if (this.#failed !== null) {
      throw new BlowUpError(
        `the model state is invalid since an earlier blow-up (${this.#failed}); call setQ first`,
        this.#steps + 1,
      );
    }
  }

  #inverse(spec: Float64Array, out: Float64Array, count: number): void {
    this.fft.irfft2(spec, out, count);
  }

  #velocity(which: "u" | "v"): Float64Array {
    const { nk, k, l } = this.grid;
    const { ny, nx } = this.params;
    invertPV(this.#inv, this.#qh, this.#ph);
    const ph = this.#ph, spec = this.#uvqh;
    const S = ny * nk * 2;
    for (let layer = 0; layer < 2; layer++) {
      for (let j = 0; j < ny; j++) {
        for (let m = 0; m < nk; m++) {
          const idx = layer * S + 2 * (j * nk + m);
          const re = ph[idx], im = ph[idx + 1];
          const w = which === "u" ? -l[j] : k[m]; // û = −i l ψ̂, v̂ = i k ψ̂
          spec[idx] = -w * im;
          spec[idx + 1] = w * re;
        }
      }
    }
    const out = new Float64Array(2 * ny * nx);
    this.#inverse(spec, out, 2);
    return out;
  }

  #context() {
    invertPV(this.#inv, this.#qh, this.#ph);
    return {
      params: this.params,
      derived: this.derived,
      grid: this.grid,
      fft: this.fft,
      qh: this.#qh,
      ph: this.#ph,
    };
  }
}
