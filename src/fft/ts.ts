/**
 * Pure-TypeScript real 2-D FFT: the fallback engine behind {@link RealFFT2}.
 *
 * Algorithm (the WASM engine uses the same one, so both give the same numbers to round-off):
 * - x (rows): a real FFT of length `nx` as a complex FFT of length `nx / 2` on the packed
 *   pairs `x[2n] + i x[2n+1]`, followed by the usual split post-processing.
 * - y (columns): a complex FFT of length `ny` applied to all `nk` columns at once, one row of
 *   `nk` complex numbers being one "element" of the transform (contiguous inner loops).
 * - Both are in-place radix-4 decimation-in-time (one radix-2 stage first when log2 n is odd).
 *   The bit-reversal permutation is fused into the copies that happen anyway (input row →
 *   output row, output row index; spectrum → scratch), so there are no separate passes.
 * - Twiddles are precomputed with `Math.cos`/`Math.sin` from exact indices.
 * @module
 */

import type { FFTBackend, RealFFT2 } from "./types.ts";
import { InvalidArgumentError } from "../errors.ts";

/**
 * Checks the arguments of `rfft2` (`forward`) or `irfft2`: `count` a positive integer and both
 * arrays long enough for `count` fields. Shared by both engines.
 *
 * @example
 * ```ts
 * import { checkCall, TsRealFFT2 } from "./ts.ts";
 * const fft = new TsRealFFT2(4, 4);
 * checkCall(fft, new Float64Array(16), new Float64Array(24), 1, true); // ok, no throw
 * ```
 */
export function checkCall(
  plan: RealFFT2,
  src: Float64Array,
  dst: Float64Array,
  count: number,
  forward: boolean,
): void {
  const real = plan.ny * plan.nx, spec = plan.ny * plan.nk * 2;
  const name = forward ? "rfft2" : "irfft2";
  if (!Number.isInteger(count) || count < 1) {
    throw new InvalidArgumentError(`${name}: count must be a positive integer, got ${count}`);
  }
  const need = forward ? [real, spec] : [spec, real];
  if (src.length < count * need[0] || dst.length < count * need[1]) {
    throw new InvalidArgumentError(
      `${name}: for count=${count} on a ${plan.ny}x${plan.nx} grid src needs >= ${
        count * need[0]
      } and dst >= ${count * need[1]} doubles, got ${src.length} and ${dst.length}`,
    );
  }
}

/**
 * Bit-reversal permutation of `0..n-1` (n a power of two).
 *
 * @example
 * ```ts
 * import { bitReverse } from "./ts.ts";
 * console.log(Array.from(bitReverse(4))); // [0, 2, 1, 3]
 * ```
 */
export function bitReverse(n: number): Int32Array {
  const out = new Int32Array(n);
  let bits = 0;
  while ((1 << bits) < n) bits++;
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    out[i] = r;
  }
  return out;
}

/**
 * In-place radix-4 DIT FFT on bit-reversed input. Element `e` of the transform starts at
 * `base + e * es` and holds `width` consecutive complex numbers (interleaved re, im), all
 * transformed alike. Twiddles `W_m^j = cos(2πj/m) ∓ i sin(2πj/m)` come from `cs`/`sn`, tables
 * of length `tl` (a multiple of `n`). `inv` selects the `+i` (inverse, unnormalised) sign.
 */
function dit(
  a: Float64Array,
  base: number,
  n: number,
  es: number,
  width: number,
  cs: Float64Array,
  sn: Float64Array,
  tl: number,
  inv: boolean,
): void {
  const w2 = width * 2;
  let h = 1;
  let log = 0;
  while ((1 << log) < n) log++;
  if (log & 1) {
    // One radix-2 stage (no twiddles).
    for (let b = 0; b < n; b += 2) {
      const p0 = base + b * es;
      const p1 = p0 + es;
      for (let c = 0; c < w2; c++) {
        const x = a[p0 + c], y = a[p1 + c];
        a[p0 + c] = x + y;
        a[p1 + c] = x - y;
      }
    }
    h = 2;
  }
  const sg = inv ? 1 : -1;
  for (; h < n; h *= 4) {
    const step = tl / (4 * h);
    for (let j = 0; j < h; j++) {
      const w1r = cs[j * step], w1i = sg * sn[j * step];
      const w2r = cs[2 * j * step], w2i = sg * sn[2 * j * step];
      const w3r = cs[3 * j * step], w3i = sg * sn[3 * j * step];
      for (let b = j; b < n; b += 4 * h) {
        const p0 = base + b * es;
        const p1 = p0 + h * es;
        const p2 = p1 + h * es;
        const p3 = p2 + h * es;
        for (let c = 0; c < w2; c += 2) {
          const ar = a[p0 + c], ai = a[p0 + c + 1];
          const cr0 = a[p1 + c], ci0 = a[p1 + c + 1];
          const br0 = a[p2 + c], bi0 = a[p2 + c + 1];
          const dr0 = a[p3 + c], di0 = a[p3 + c + 1];
          const cr = cr0 * w2r - ci0 * w2i, ci = cr0 * w2i + ci0 * w2r;
          const br = br0 * w1r - bi0 * w1i, bi = br0 * w1i + bi0 * w1r;
          const dr = dr0 * w3r - di0 * w3i, di = dr0 * w3i + di0 * w3r;
          const t0r = ar + cr, t0i = ai + ci, t1r = ar - cr, t1i = ai - ci;
          const t2r = br + dr, t2i = bi + di, t3r = br - dr, t3i = bi - di;
          a[p0 + c] = t0r + t2r;
          a[p0 + c + 1] = t0i + t2i;
          a[p2 + c] = t0r - t2r;
          a[p2 + c + 1] = t0i - t2i;
          // X1 = T1 ∓ i T3, X3 = T1 ± i T3 (upper sign: forward).
          if (inv) {
            a[p1 + c] = t1r - t3i;
            a[p1 + c + 1] = t1i + t3r;
            a[p3 + c] = t1r + t3i;
            a[p3 + c + 1] = t1i - t3r;
          } else {
            a[p1 + c] = t1r + t3i;
            a[p1 + c + 1] = t1i - t3r;
            a[p3 + c] = t1r - t3i;
            a[p3 + c + 1] = t1i + t3r;
          }
        }
      }
    }
  }
}

/**
 * The TypeScript engine. Create it through `createRealFFT2(ny, nx, { backend: "ts" })`.
 *
 * @example
 * ```ts
 * import { TsRealFFT2 } from "./ts.ts";
 * const fft = new TsRealFFT2(8, 8);
 * const spec = fft.alloc(8 * fft.nk * 2);
 * fft.rfft2(new Float64Array(64).fill(1), spec);
 * console.log(spec[0]); // 64
 * ```
 */
export class TsRealFFT2 implements RealFFT2 {
  /** Grid points along y. */
  readonly ny: number;
  /** Grid points along x. */
  readonly nx: number;
  /** `nx / 2 + 1`. */
  readonly nk: number;
  /** Always `"ts"`. */
  readonly backend: FFTBackend = "ts";
  #n2: number;
  #brRow: Int32Array;
  #brCol: Int32Array;
  #cs: Float64Array;
  #sn: Float64Array;
  #tl: number;
  #work: Float64Array;

  /**
   * Plans the transforms; sizes are assumed valid (powers of two ≥ 2, checked by the factory).
   * @param ny grid points along y
   * @param nx grid points along x
   */
  constructor(ny: number, nx: number) {
    this.ny = ny;
    this.nx = nx;
    this.nk = nx / 2 + 1;
    this.#n2 = nx / 2;
    this.#brRow = bitReverse(this.#n2);
    this.#brCol = bitReverse(ny);
    const tl = Math.max(nx, ny);
    this.#tl = tl;
    this.#cs = new Float64Array(tl);
    this.#sn = new Float64Array(tl);
    for (let j = 0; j < tl; j++) {
      const t = (2 * Math.PI * j) / tl;
      this.#cs[j] = Math.cos(t);
      this.#sn[j] = Math.sin(t);
    }
    this.#work = new Float64Array(ny * this.nk * 2);
  }

  /** A zeroed array (plain memory for this engine). */
  alloc(length: number): Float64Array {
    return new Float64Array(length);
  }

  /** Forward transform of `count` real fields. */
  rfft2(src: Float64Array, dst: Float64Array, count = 1): void {
    const { ny, nx, nk } = this;
    checkCall(this, src, dst, count, true);
    const n2 = this.#n2, br = this.#brRow, bc = this.#brCol;
    const cs = this.#cs, sn = this.#sn, tl = this.#tl;
    const rs = nk * 2;
    const tstep = tl / nx;
    for (let f = 0; f < count; f++) {
      const si = f * ny * nx, so = f * ny * rs;
      for (let j = 0; j < ny; j++) {
        const ri = si + j * nx, ro = so + bc[j] * rs;
        for (let k = 0; k < n2; k++) {
          const p = ri + 2 * br[k];
          dst[ro + 2 * k] = src[p];
          dst[ro + 2 * k + 1] = src[p + 1];
        }
        dit(dst, ro, n2, 2, 1, cs, sn, tl, false);
        // Post-processing: X[k] = Fe + W^k Fo, X[m] = conj(Fe − W^k Fo), m = n2 − k.
        const zr = dst[ro], zi = dst[ro + 1];
        dst[ro] = zr + zi;
        dst[ro + 1] = 0;
        dst[ro + 2 * n2] = zr - zi;
        dst[ro + 2 * n2 + 1] = 0;
        for (let k = 1, m = n2 - 1; k <= m; k++, m--) {
          const pk = ro + 2 * k, pm = ro + 2 * m;
          const akr = dst[pk], aki = dst[pk + 1], amr = dst[pm], ami = dst[pm + 1];
          const fer = 0.5 * (akr + amr), fei = 0.5 * (aki - ami);
          // Fo = (Z[k] − conj Z[m]) / (2i)
          const for_ = 0.5 * (aki + ami), foi = -0.5 * (akr - amr);
          const wr = cs[k * tstep], wi = -sn[k * tstep];
          const gr = wr * for_ - wi * foi, gi = wr * foi + wi * for_;
          dst[pk] = fer + gr;
          dst[pk + 1] = fei + gi;
          dst[pm] = fer - gr;
          dst[pm + 1] = -(fei - gi);
        }
      }
      dit(dst, so, ny, rs, nk, cs, sn, tl, false);
    }
  }

  /** Inverse transform of `count` half spectra (`src` is left unchanged). */
  irfft2(src: Float64Array, dst: Float64Array, count = 1): void {
    const { ny, nx, nk } = this;
    checkCall(this, src, dst, count, false);
    const n2 = this.#n2, br = this.#brRow, bc = this.#brCol;
    const cs = this.#cs, sn = this.#sn, tl = this.#tl;
    const rs = nk * 2;
    const w = this.#work;
    const s = 1 / (nx * ny);
    const tstep = tl / nx;
    for (let f = 0; f < count; f++) {
      const si = f * ny * rs, so = f * ny * nx;
      for (let j = 0; j < ny; j++) {
        w.set(src.subarray(si + j * rs, si + (j + 1) * rs), bc[j] * rs);
      }
      dit(w, 0, ny, rs, nk, cs, sn, tl, true);
      for (let j = 0; j < ny; j++) {
        const ri = j * rs, ro = so + j * nx;
        // k = 0 and k = n2: real parts only (NumPy irfft semantics).
        const a = w[ri], c = w[ri + 2 * n2];
        dst[ro] = s * (a + c);
        dst[ro + 1] = s * (a - c);
        for (let k = 1, m = n2 - 1; k <= m; k++, m--) {
          const pk = ri + 2 * k, pm = ri + 2 * m;
          const xkr = w[pk], xki = w[pk + 1], xmr = w[pm], xmi = w[pm + 1];
          const fer = s * (xkr + xmr), fei = s * (xki - xmi);
          const dr = s * (xkr - xmr), di = s * (xki + xmi);
          const wr = cs[k * tstep], wi = sn[k * tstep]; // W^{-k}
          const for_ = dr * wr - di * wi, foi = dr * wi + di * wr;
          // Z[k] = Fe + i Fo, Z[m] = conj(Fe − i Fo)
          const qk = ro + 2 * br[k], qm = ro + 2 * br[m];
          dst[qk] = fer - foi;
          dst[qk + 1] = fei + for_;
          dst[qm] = fer + foi;
          dst[qm + 1] = -(fei - for_);
        }
        dit(dst, ro, n2, 2, 1, cs, sn, tl, true);
      }
    }
  }
}
