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
import { derivedConstants, type QGDerived, type QGParams, resolveParams } from "./params.ts";
import {
  inversionCoefficients,
  spectralFilter,
  type SpectralGrid,
  spectralGrid,
} from "./spectral.ts";
import { type QGBuffers, type QGKernels, TsQGKernels } from "./kernels.ts";
import { wasmQGKernels } from "./kernels_wasm.ts";
import {
  keSpectrum,
  type QGDiagnostics,
  qgDiagnostics,
  type QGStateView,
  type SpectrumResult,
} from "./diagnostics.ts";

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
 * import { icNoise, QGModel } from "@soad/soad";
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
  /** Which engine runs the pointwise kernels ("wasm" with the WASM FFT, else "ts"). */
  readonly kernels: "wasm" | "ts";
  readonly #b: QGBuffers;
  readonly #kern: QGKernels;
  readonly #check: boolean;
  readonly #maxCfl: number;
  #tend: Float64Array[]; // [T^n, T^{n-1}, T^{n-2}], each [2 layers][ny][nk][2]
  #ablevel = 0;
  #steps = 0;
  #qReal: Float64Array | null = null;
  #failed: string | null = null;
  #lastCfl = 0;

  /**
   * Creates a model with pyqg's parameters and precomputes the spectral operators.
   * @param params any of pyqg's `QGModel` parameters; the rest take pyqg's defaults
   * @param options FFT engine and stability checks
   */
  constructor(params: Partial<QGParams> = {}, options: QGModelOptions = {}) {
    this.params = Object.freeze(resolveParams(params));
    const p = this.params;
    this.derived = Object.freeze(derivedConstants(p));
    this.grid = spectralGrid(p.ny, p.nx, p.L, p.W);
    this.#check = options.checkStability ?? true;
    this.#maxCfl = options.maxCfl ?? 1;
    if (!(this.#maxCfl > 0)) {
      throw new InvalidArgumentError(`maxCfl must be > 0, got ${options.maxCfl}`);
    }
    const { ny, nx } = p;
    const nk = this.grid.nk;
    const S = ny * nk * 2, R = ny * nx;
    const fft = createRealFFT2(ny, nx, {
      backend: options.fft ?? "auto",
      arenaDoubles: 21 * S + 10 * R + 7 * ny * nk + ny + nk + 64,
    });
    this.fft = fft;
    // every buffer and constant lives in the FFT's memory, so the WASM kernels work in place
    const copy = (a: Float64Array) => {
      const out = fft.alloc(a.length);
      out.set(a);
      return out;
    };
    const inv = inversionCoefficients(this.grid.kappa2, this.derived.F1, this.derived.F2);
    this.#b = {
      ny,
      nx,
      nk,
      k: copy(this.grid.k),
      l: copy(this.grid.l),
      a11: copy(inv.a11),
      a12: copy(inv.a12),
      a21: copy(inv.a21),
      a22: copy(inv.a22),
      kappa2: copy(this.grid.kappa2),
      filtr: copy(spectralFilter(this.grid, this.derived.dx, this.derived.dy, p.filterfac)),
      qh: fft.alloc(2 * S),
      ph: fft.alloc(2 * S),
      uvqh: fft.alloc(6 * S),
      uvq: fft.alloc(6 * R),
      flux: fft.alloc(4 * R),
      fluxh: fft.alloc(4 * S),
    };
    this.#tend = [fft.alloc(2 * S), fft.alloc(2 * S), fft.alloc(2 * S)];
    const wasm = wasmQGKernels(fft, this.#b, this.#tend);
    this.#kern = wasm ?? new TsQGKernels(this.#b);
    this.kernels = wasm ? "wasm" : "ts";
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
    if (!(q instanceof Float64Array || q instanceof Float32Array || Array.isArray(q))) {
      throw new InvalidArgumentError(
        `q must be a Float64Array, Float32Array or number[] of 2 layers of ${ny}x${nx} values ` +
          `([layer][y][x]), got ${q === null ? "null" : typeof q}`,
      );
    }
    if (q.length !== 2 * ny * nx) {
      throw new InvalidArgumentError(
        `q must hold 2 layers of ${ny}x${nx} = ${
          2 * ny * nx
        } values ([layer][y][x]), got ${q.length}`,
      );
    }
    const buf = this.#b.uvq.subarray(0, 2 * ny * nx);
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
    this.fft.rfft2(buf, this.#b.qh, 2);
    for (const T of this.#tend) T.fill(0);
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
      this.fft.irfft2(this.#b.qh, out, 2);
      this.#qReal = out;
    }
    return this.#qReal.slice();
  }

  /** PV spectrum `[2][ny][nk]` interleaved complex (a copy). */
  get qh(): Float64Array {
    return this.#b.qh.slice();
  }

  /** Streamfunction ψ `[2][ny][nx]` [m²/s]. */
  get psi(): Float64Array {
    this.#kern.invert();
    return this.#real(this.#b.ph, 0);
  }

  /** Zonal velocity anomaly u = −∂ψ/∂y `[2][ny][nx]` [m/s] (without the background U). */
  get u(): Float64Array {
    this.#kern.invert();
    this.#kern.velocitySpectra();
    return this.#real(this.#b.uvqh, 0);
  }

  /** Meridional velocity v = ∂ψ/∂x `[2][ny][nx]` [m/s]. */
  get v(): Float64Array {
    this.#kern.invert();
    this.#kern.velocitySpectra();
    return this.#real(this.#b.uvqh, 2);
  }

  /** Energy, enstrophy, budget terms and CFL of the current state (spec §10). */
  diagnostics(): QGDiagnostics {
    this.#assertUsable();
    return qgDiagnostics(this.#view());
  }

  /** The isotropic KE spectrum per layer, pyqg's `calc_ispec` convention (spec §10). */
  keSpectrum(): SpectrumResult {
    this.#assertUsable();
    return keSpectrum(this.#view());
  }

  /**
   * The full tendency ∂q/∂t `[2][ny][nx]` of the current state (advection, background terms
   * and drag, before filtering), as pyqg computes it at the start of a step.
   */
  tendency(): Float64Array {
    this.#assertUsable();
    const T = this.#tend[0]; // the free slot: the next step overwrites it anyway
    this.#tendencyInto(T);
    return this.#real(T, 0);
  }

  /** Advances `n` steps. Throws {@link BlowUpError} if q goes non-finite or CFL > maxCfl. */
  step(n = 1): void {
    if (!Number.isInteger(n) || n < 0) {
      throw new InvalidArgumentError(`step count must be a non-negative integer, got ${n}`);
    }
    this.#assertUsable();
    for (let s = 0; s < n; s++) this.#stepForward();
  }

  /** One step, as pyqg's `_step_forward` reads: invert, advect, friction, time step + filter. */
  #stepForward(): void {
    this.#tendencyInto(this.#tend[0]);
    this.#timeStep();
  }

  #tendencyInto(T: Float64Array): void {
    const k = this.#kern, p = this.params, { Qy } = this.derived;
    k.invert(); // ψ̂ = A q̂
    k.velocitySpectra(); // û = −i l ψ̂, v̂ = i k ψ̂ (and q̂)
    this.fft.irfft2(this.#b.uvqh, this.#b.uvq, 6); // u, v, q on the grid
    this.#checkCfl(k.fluxes(p.U1, p.U2)); // Fx = (u + U) q, Fy = v q
    this.fft.rfft2(this.#b.flux, this.#b.fluxh, 4);
    k.advectionTendency(T, Qy[0], Qy[1]); // −ik F̂x − il F̂y − ik Qy ψ̂
    if (p.rek !== 0) k.friction(T, p.rek); // + r_ek κ² ψ̂2 on the lower layer
  }

  /** q̂ ← filtr · (q̂ + Δt (a T + b T₁ + c T₂)), then shift the tendency history. */
  #timeStep(): void {
    const [a, b, c] = AB_COEFFS[this.#ablevel];
    const dt = this.params.dt;
    const [T0, T1, T2] = this.#tend;
    const sum = this.#kern.abStep(T0, T1, T2, dt * a, dt * b, dt * c);
    this.#tend = [T2, T0, T1];
    if (this.#ablevel < 2) this.#ablevel++;
    this.#steps++;
    this.#qReal = null;
    if (this.#check && !Number.isFinite(sum)) {
      this.#steps--;
      this.#fail("the state became non-finite", this.#lastCfl);
    }
  }

  #checkCfl(maxVelocity: number): void {
    const cfl = (maxVelocity * this.params.dt) / this.derived.dx;
    this.#lastCfl = cfl;
    if (this.#check && !(cfl <= this.#maxCfl)) {
      this.#fail(
        Number.isFinite(cfl)
          ? `CFL number ${cfl.toPrecision(3)} exceeds ${this.#maxCfl}`
          : `the state became non-finite (CFL ${cfl})`,
        cfl,
      );
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

  /** Inverse transform of two consecutive spectra of `spec` starting at field `first`. */
  #real(spec: Float64Array, first: number): Float64Array {
    const S = this.params.ny * this.grid.nk * 2;
    const out = new Float64Array(2 * this.params.ny * this.params.nx);
    this.fft.irfft2(spec.subarray(first * S, (first + 2) * S), out, 2);
    return out;
  }

  #view(): QGStateView {
    this.#kern.invert();
    return {
      params: this.params,
      derived: this.derived,
      grid: this.grid,
      fft: this.fft,
      qh: this.#b.qh,
      ph: this.#b.ph,
    };
  }
}
