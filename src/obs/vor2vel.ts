/**
 * The `vor2vel` operator of spec §2.1: per-layer velocities (u1, u2, v1, v2) from the
 * *normalised* PV by the two-layer spectral inversion (L = 1e6 m, rd = 15000 m, δ = 0.25),
 * û = −i l ψ̂, v̂ = i k ψ̂, each channel divided by [1.2e4, 1.6e4, 1.1e4, 1.6e4].
 * Linear; its VJP is the adjoint irfft2(conj(M)ᵀ rfft2(w)) (NumPy rfft2/irfft2 conventions,
 * including the discarded imaginary parts, are handled exactly).
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { createRealFFT2 } from "../fft/create.ts";
import type { RealFFT2 } from "../fft/types.ts";
import { derivedConstants, resolveParams } from "../qg/params.ts";
import { type InversionCoefficients, inversionCoefficients, spectralGrid } from "../qg/spectral.ts";
import { checkFrames, type NumericArray, type ObservationOperator } from "./operator.ts";

/** Output scales of `vor2vel`, channels [u1, u2, v1, v2]. */
export const VOR2VEL_SCALES: readonly [number, number, number, number] = [
  1.2e4,
  1.6e4,
  1.1e4,
  1.6e4,
];

interface Plan {
  fft: RealFFT2;
  k: Float64Array;
  l: Float64Array;
  inv: InversionCoefficients;
  nk: number;
}

const plans = new Map<string, Plan>();

function plan(height: number, width: number): Plan {
  const key = `${height}x${width}`;
  let p = plans.get(key);
  if (!p) {
    if (height !== width) {
      throw new InvalidArgumentError(
        `vor2vel needs a square grid (L = W = 1e6 m), got ${height}x${width}`,
      );
    }
    const d = derivedConstants(resolveParams({ nx: Math.max(16, width) }));
    const g = spectralGrid(height, width, 1e6, 1e6);
    p = {
      fft: createRealFFT2(height, width),
      k: g.k,
      l: g.l,
      inv: inversionCoefficients(g.kappa2, d.F1, d.F2),
      nk: g.nk,
    };
    plans.set(key, p);
  }
  return p;
}

function checkGrid(height: number, width: number): void {
  for (const n of [height, width]) {
    if (!(Number.isInteger(n) && n >= 2 && n <= 1024 && (n & (n - 1)) === 0)) {
      throw new InvalidArgumentError(
        `vor2vel needs a power-of-two grid in 2..1024, got ${height}x${width}`,
      );
    }
  }
}

/** u_i = Σ_j Mu_ij q_j, v_i = Σ_j Mv_ij q_j, Mu = −i l a, Mv = i k a (one frame). */
function forwardFrame(p: Plan, q: Float64Array, out: Float64Array): void {
  const { fft, k, l, inv, nk } = p;
  const ny = fft.ny, nx = fft.nx, S = ny * nk * 2, R = ny * nx;
  const qh = new Float64Array(2 * S);
  fft.rfft2(q, qh, 2);
  const vh = new Float64Array(4 * S); // u1, u2, v1, v2
  for (let j = 0; j < ny; j++) {
    for (let m = 0; m < nk; m++) {
      const s = j * nk + m;
      const r1 = qh[2 * s], i1 = qh[2 * s + 1], r2 = qh[S + 2 * s], i2 = qh[S + 2 * s + 1];
      const p1r = inv.a11[s] * r1 + inv.a12[s] * r2, p1i = inv.a11[s] * i1 + inv.a12[s] * i2;
      const p2r = inv.a21[s] * r1 + inv.a22[s] * r2, p2i = inv.a21[s] * i1 + inv.a22[s] * i2;
      const ll = l[j], kk = k[m];
      // −i l ψ = l·(ψi, −ψr);  i k ψ = k·(−ψi, ψr)
      vh[2 * s] = ll * p1i, vh[2 * s + 1] = -ll * p1r;
      vh[S + 2 * s] = ll * p2i, vh[S + 2 * s + 1] = -ll * p2r;
      vh[2 * S + 2 * s] = -kk * p1i, vh[2 * S + 2 * s + 1] = kk * p1r;
      vh[3 * S + 2 * s] = -kk * p2i, vh[3 * S + 2 * s + 1] = kk * p2r;
    }
  }
  const tmp = new Float64Array(4 * R);
  fft.irfft2(vh, tmp, 4);
  for (let c = 0; c < 4; c++) {
    const sc = 1 / VOR2VEL_SCALES[c];
    for (let i = 0; i < R; i++) out[c * R + i] = tmp[c * R + i] * sc;
  }
}

/** q̄_j = irfft2(Σ_i conj(Mu_ij) ū_i + conj(Mv_ij) v̄_i), conj(Mu) = i l a, conj(Mv) = −i k a. */
function adjointFrame(p: Plan, w: Float64Array, out: Float64Array): void {
  const { fft, k, l, inv, nk } = p;
  const ny = fft.ny, nx = fft.nx, S = ny * nk * 2, R = ny * nx;
  const ws = new Float64Array(4 * R);
  for (let c = 0; c < 4; c++) {
    const sc = 1 / VOR2VEL_SCALES[c];
    for (let i = 0; i < R; i++) ws[c * R + i] = w[c * R + i] * sc;
  }
  const wh = new Float64Array(4 * S);
  fft.rfft2(ws, wh, 4);
  const qh = new Float64Array(2 * S);
  for (let j = 0; j < ny; j++) {
    for (let m = 0; m < nk; m++) {
      const s = j * nk + m;
      const ll = l[j], kk = k[m];
      // b_i = i l ū_i − i k v̄_i  (complex), then q̄_j = Σ_i a_ij b_i
      const u1r = wh[2 * s], u1i = wh[2 * s + 1], u2r = wh[S + 2 * s], u2i = wh[S + 2 * s + 1];
      const v1r = wh[2 * S + 2 * s], v1i = wh[2 * S + 2 * s + 1];
      const v2r = wh[3 * S + 2 * s], v2i = wh[3 * S + 2 * s + 1];
      const b1r = -ll * u1i + kk * v1i, b1i = ll * u1r - kk * v1r;
      const b2r = -ll * u2i + kk * v2i, b2i = ll * u2r - kk * v2r;
      qh[2 * s] = inv.a11[s] * b1r + inv.a21[s] * b2r;
      qh[2 * s + 1] = inv.a11[s] * b1i + inv.a21[s] * b2i;
      qh[S + 2 * s] = inv.a12[s] * b1r + inv.a22[s] * b2r;
      qh[S + 2 * s + 1] = inv.a12[s] * b1i + inv.a22[s] * b2i;
    }
  }
  fft.irfft2(qh, out, 2);
}

function perFrame(
  src: NumericArray,
  cin: number,
  cout: number,
  frames: number,
  height: number,
  width: number,
  fn: (p: Plan, a: Float64Array, out: Float64Array) => void,
): Float64Array {
  checkGrid(height, width);
  const p = plan(height, width);
  const R = height * width;
  const out = new Float64Array(frames * cout * R);
  const a = new Float64Array(cin * R);
  const o = new Float64Array(cout * R);
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < cin * R; i++) a[i] = src[f * cin * R + i];
    fn(p, a, o);
    out.set(o, f * cout * R);
  }
  return out;
}

/**
 * The `vor2vel` operator: `[F, 2, H, W]` normalised q → `[F, 4, H, W]` scaled [u1, u2, v1, v2],
 * any square power-of-two grid (domain 1e6 m).
 *
 * @example
 * ```ts
 * import { vor2vel } from "@soad/soad";
 * const uv = vor2vel.apply(new Float64Array(2 * 16 * 16).fill(3), 1, 16, 16);
 * console.log(uv.length, Math.max(...uv.map(Math.abs))); // 1024 0
 * ```
 */
export const vor2vel: ObservationOperator = {
  name: "vor2vel",
  kind: "linear",
  inChannels: 2,
  outChannels: 4,
  apply(x, frames, height, width): Float64Array {
    checkFrames("vor2vel input", x, frames, 2, height, width);
    return perFrame(x, 2, 4, frames, height, width, forwardFrame);
  },
  vjp(_x, w, frames, height, width): Float64Array {
    checkFrames("vor2vel cotangent", w, frames, 4, height, width);
    return perFrame(w, 4, 2, frames, height, width, adjointFrame);
  },
};
