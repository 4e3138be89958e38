/**
 * The SIMD WebAssembly engine of {@link QGKernels}: thin calls into `wasm/qg.c`, linked into
 * the FFT's module and working in place on the buffers the FFT plan allocated.
 * @module
 */

import { SoadError } from "../errors.ts";
import { WasmRealFFT2 } from "../fft/wasm.ts";
import type { RealFFT2 } from "../fft/types.ts";
import type { QGBuffers, QGKernels } from "./kernels.ts";

interface Exports {
  qg_invert(
    a11: number,
    a12: number,
    a21: number,
    a22: number,
    qh: number,
    ph: number,
    n: number,
  ): void;
  qg_velocity_spectra(
    k: number,
    l: number,
    ph: number,
    qh: number,
    uvqh: number,
    ny: number,
    nk: number,
  ): void;
  qg_fluxes(uvq: number, flux: number, r: number, U1: number, U2: number): number;
  qg_advection_tendency(
    k: number,
    l: number,
    fluxh: number,
    ph: number,
    T: number,
    ny: number,
    nk: number,
    Qy1: number,
    Qy2: number,
  ): void;
  qg_friction(kappa2: number, ph: number, T: number, n: number, rek: number): void;
  qg_ab_step(
    qh: number,
    T0: number,
    T1: number,
    T2: number,
    filtr: number,
    n: number,
    da: number,
    db: number,
    dc: number,
  ): number;
}

/**
 * WASM kernels for a model whose FFT is the WASM engine and whose buffers all live in that
 * engine's memory; `null` otherwise (the model then uses the TypeScript kernels).
 *
 * @example
 * ```ts
 * import { QGModel } from "@soad/soad";
 * // the model picks the WASM kernels when its FFT is the WASM engine
 * const m = new QGModel({ nx: 16 }, { fft: "auto" });
 * console.log(["wasm", "ts"].includes(m.fft.backend)); // true
 * ```
 */
export function wasmQGKernels(
  fft: RealFFT2,
  b: QGBuffers,
  extra: Float64Array[],
): QGKernels | null {
  if (!(fft instanceof WasmRealFFT2)) return null;
  const mem = fft.memoryBuffer;
  const arrays = [
    b.k,
    b.l,
    b.a11,
    b.a12,
    b.a21,
    b.a22,
    b.kappa2,
    b.filtr,
    b.qh,
    b.ph,
    b.uvqh,
    b.uvq,
  ];
  if (![...arrays, b.flux, b.fluxh, ...extra].every((a) => a.buffer === mem)) return null;
  const x = fft.instanceExports as unknown as Exports;
  if (typeof x.qg_ab_step !== "function") {
    throw new SoadError(
      "the WASM module lacks the QG kernels; rebuild with `deno task build:wasm`",
    );
  }
  const p = (a: Float64Array) => a.byteOffset;
  const n = b.ny * b.nk;
  return {
    invert: () => x.qg_invert(p(b.a11), p(b.a12), p(b.a21), p(b.a22), p(b.qh), p(b.ph), n),
    velocitySpectra: () =>
      x.qg_velocity_spectra(p(b.k), p(b.l), p(b.ph), p(b.qh), p(b.uvqh), b.ny, b.nk),
    fluxes: (U1, U2) => x.qg_fluxes(p(b.uvq), p(b.flux), b.ny * b.nx, U1, U2),
    advectionTendency: (T, Qy1, Qy2) =>
      x.qg_advection_tendency(p(b.k), p(b.l), p(b.fluxh), p(b.ph), p(T), b.ny, b.nk, Qy1, Qy2),
    friction: (T, rek) => x.qg_friction(p(b.kappa2), p(b.ph), p(T), n, rek),
    abStep: (T0, T1, T2, da, db, dc) =>
      x.qg_ab_step(p(b.qh), p(T0), p(T1), p(T2), p(b.filtr), n, da, db, dc),
  };
}
