/**
 * Circular convolutions by the FFT on the conv engine (`wasm/fft_conv.c`): the U-Net's stride-1
 * k×k convolutions with circular padding are circular cross-correlations, so on a power-of-two
 * grid they are products in Fourier space. Per frequency the channel mixing costs 4 real
 * multiply-adds per (in, out) pair on half the plane, against k² per pixel directly (25 for
 * the paper's 5×5): an order of magnitude fewer operations, plus the FFTs (cheap: O(log n) per
 * value) and the filter's spectrum (5 complex multiply-adds per pair and frequency, pruned DFT).
 * Each phase splits over the engine's threads. Results equal the direct convolution up to float
 * rounding (tests/wasm_fft_conv_test.ts).
 * @module
 */

import { SoadError } from "../errors.ts";
import { al, getEngine } from "./wasm_conv.ts";

/** Shape of a circular convolution: input `[n, h, w, cin]`, filter `[kh, kw, cin, cout]`. */
export interface CircularConvGeometry {
  /** Images (frames) in the batch. */
  n: number;
  /** Grid height (a power of two). */
  h: number;
  /** Grid width (a power of two). */
  w: number;
  /** Input channels. */
  cin: number;
  /** Filter height (odd, ≤ h). */
  kh: number;
  /** Filter width (odd, ≤ w). */
  kw: number;
  /** Output channels. */
  cout: number;
}

const pow2 = (v: number): boolean => Number.isInteger(v) && v >= 2 && (v & (v - 1)) === 0;
const odd = (v: number): boolean => Number.isInteger(v) && v >= 1 && v % 2 === 1;

/**
 * Whether the FFT path can run a circular convolution of this shape: power-of-two grid sides
 * (at least 2), odd filter sides no larger than the grid.
 *
 * @example
 * ```ts
 * import { fftConvSupported } from "@soad/soad/internal";
 * console.log(fftConvSupported(64, 64, 5, 5), fftConvSupported(48, 64, 5, 5)); // true false
 * ```
 */
export function fftConvSupported(h: number, w: number, kh: number, kw: number): boolean {
  return pow2(h) && pow2(w) && odd(kh) && odd(kw) && kh <= h && kw <= w;
}

function check(g: CircularConvGeometry): void {
  for (const k of ["n", "h", "w", "cin", "kh", "kw", "cout"] as const) {
    if (!Number.isInteger(g[k]) || g[k] < 1) {
      throw new SoadError(`fft conv geometry: ${k} must be a positive integer, got ${g[k]}`);
    }
  }
  if (!fftConvSupported(g.h, g.w, g.kh, g.kw)) {
    throw new SoadError(
      `fft conv: needs power-of-two grid sides and odd filter sides no larger than the grid, ` +
        `got a ${g.kh}×${g.kw} filter on ${g.h}×${g.w}`,
    );
  }
}

function sizes(a: Float32Array, want: number, what: string): void {
  if (a.length !== want) {
    throw new SoadError(`fft conv: the ${what} has ${a.length} values, expected ${want}`);
  }
}

const up = (v: number, m: number): number => Math.ceil(v / m) * m;

/** Bump allocator over the engine heap: byte offsets of 64-byte aligned float arrays. */
class Layout {
  end: number;
  constructor(start: number) {
    this.end = start;
  }
  take(floats: number): number {
    const at = this.end;
    this.end += al(floats);
    return at;
  }
}

/** cos, sin(2πk/m) for k < m, into the heap at `at`. */
function writeTwiddles(F: Float32Array, at: number, m: number): void {
  const o = at >> 2;
  for (let k = 0; k < m; k++) {
    F[o + 2 * k] = Math.cos((2 * Math.PI * k) / m);
    F[o + 2 * k + 1] = Math.sin((2 * Math.PI * k) / m);
  }
}

/**
 * Twiddles of the pruned DFT over `k` filter taps along an axis of `n`: `[j][tap]` = (cos, sin)
 * of 2π·j·(tap − (k − 1)/2)/n for the frequencies j < `count`, into the heap at `at`.
 */
function writeTapTwiddles(F: Float32Array, at: number, n: number, k: number, count: number) {
  const o = at >> 2, r = (k - 1) / 2;
  for (let j = 0; j < count; j++) {
    for (let t = 0; t < k; t++) {
      const a = (2 * Math.PI * ((j * (t - r)) % n)) / n;
      F[o + 2 * (j * k + t)] = Math.cos(a);
      F[o + 2 * (j * k + t) + 1] = Math.sin(a);
    }
  }
}

/** Copies rows of `c` floats into rows of `cp` (zero padded) at byte offset `at`. */
function writePadded(F: Float32Array, at: number, src: Float32Array, c: number, cp: number) {
  const o = at >> 2, rows = src.length / c;
  if (c === cp) {
    F.set(src, o);
    return;
  }
  F.fill(0, o, o + rows * cp);
  for (let r = 0; r < rows; r++) F.set(src.subarray(r * c, r * c + c), o + r * cp);
}

/**
 * Half-plane spectra `s` of `count` images `x` of `c` channels (padded to `cp`), or (inverse) the
 * images from the spectra, on the engine's threads.
 */
function fftImages(
  x: number,
  s: number,
  g: CircularConvGeometry,
  count: number,
  c: number,
  cp: number,
  tw: number,
  z: [number, number],
  inverse: boolean,
): void {
  const { h, w } = g;
  const m = Math.max(h, w);
  getEngine().run(
    inverse ? "fft_inv_images" : "fft_fwd_images",
    (lo, hi, part) =>
      inverse
        ? [s, x, h, w, c, cp, tw, m, z[part], lo, hi]
        : [x, s, h, w, c, cp, tw, m, z[part], lo, hi],
    count,
    count * h * w * cp * 2 * Math.log2(h * w),
  );
}

/** Heap layout of the twiddle tables a call needs. */
interface Twiddles {
  tw: number;
  tph: number;
  tpw: number;
}

function takeTwiddles(L: Layout, g: CircularConvGeometry): Twiddles {
  const wh = g.w / 2 + 1;
  return {
    tw: L.take(2 * Math.max(g.h, g.w)),
    tph: L.take(2 * g.h * g.kh),
    tpw: L.take(2 * wh * g.kw),
  };
}

function writeAllTwiddles(F: Float32Array, t: Twiddles, g: CircularConvGeometry): void {
  writeTwiddles(F, t.tw, Math.max(g.h, g.w));
  writeTapTwiddles(F, t.tph, g.h, g.kh, g.h);
  writeTapTwiddles(F, t.tpw, g.w, g.kw, g.w / 2 + 1);
}

/** Heap layout of one circular convolution in Fourier space (filter in, spectra in and out). */
interface ProductLayout {
  /** The filter, output channels padded to a multiple of 8. */
  pg: number;
  /** The bias, padded likewise. */
  pb: number;
  /** Scratch of the filter spectrum's first step. */
  pt: number;
  /** The packed filter spectrum. */
  pp: number;
  /** The output spectrum. */
  sy: number;
}

function takeProduct(L: Layout, n: number, g: CircularConvGeometry, cin: number, cout: number) {
  const { h, w, kh, kw } = g;
  const wh = w / 2 + 1, cop = up(cout, 8);
  return {
    pg: L.take(kh * kw * cin * cop),
    pb: L.take(cop),
    pt: L.take(kh * wh * cin * 2 * cop),
    pp: L.take(h * wh * cin * 2 * cop),
    sy: L.take(n * h * wh * 2 * cop),
  };
}

/**
 * The output spectrum `sy` of a convolution of `cin` → `cout` channels with `filter` (+ bias)
 * from the input spectrum `sx` (lanes `cip`): the filter's spectrum, then the product.
 */
function product(
  F: Float32Array,
  P: ProductLayout,
  t: Twiddles,
  g: CircularConvGeometry,
  sx: number,
  cin: number,
  cip: number,
  cout: number,
  filter: Float32Array,
  bias: Float32Array | null,
): void {
  const e = getEngine(), { n, h, w, kh, kw } = g;
  const wh = w / 2 + 1, cop = up(cout, 8);
  writePadded(F, P.pg, filter, cout, cop);
  if (bias) writePadded(F, P.pb, bias, cout, cop);
  e.exports.kdft_rows(P.pg, P.pt, kh, kw, cin, cop, w, t.tpw);
  e.run(
    "kdft_cols",
    (lo, hi) => [P.pt, P.pp, kh, cin, cop, h, w, t.tph, lo, hi],
    h,
    h * wh * cin * cop * kh,
  );
  e.run(
    "spec_mul",
    (lo, hi) => [sx, P.pp, bias ? P.pb : 0, P.sy, n, h, wh, cin, cip, cop, lo, hi],
    h,
    n * h * wh * cin * cop * 4,
  );
}

/**
 * Circular 2-D convolution (cross-correlation, "same" size, wrapping on both axes) plus optional
 * bias by the FFT: `out[b, y, x, o] = bias[o] + Σ_{u,v,i} x[b, (y + u − rh) mod h, (x + v − rw)
 * mod w, i] · f[u, v, i, o]` with rh = (kh − 1)/2, rw = (kw − 1)/2. x `[n, h, w, cin]`
 * (unpadded), filter `[kh, kw, cin, cout]`, out `[n, h, w, cout]`.
 *
 * @example
 * ```ts
 * import { wasmCircularConvFFT } from "@soad/soad/internal";
 * const out = new Float32Array(4);
 * wasmCircularConvFFT(new Float32Array([1, 2, 3, 4]), new Float32Array([0, 0, 1]), null,
 *   { n: 1, h: 2, w: 2, cin: 1, kh: 1, kw: 3, cout: 1 }, out);
 * console.log(Array.from(out, Math.round)); // [2, 1, 4, 3]: x shifted left by one, wrapping
 * ```
 */
export function wasmCircularConvFFT(
  x: Float32Array,
  filter: Float32Array,
  bias: Float32Array | null,
  g: CircularConvGeometry,
  out: Float32Array,
): void {
  check(g);
  const { n, h, w, cin, kh, kw, cout } = g;
  sizes(x, n * h * w * cin, "input");
  sizes(filter, kh * kw * cin * cout, "filter");
  if (bias) sizes(bias, cout, "bias");
  sizes(out, n * h * w * cout, "output");
  const e = getEngine();
  const cip = up(cin, 4), cop = up(cout, 8), wh = w / 2 + 1;
  const L = new Layout(e.heap);
  const t = takeTwiddles(L, g);
  const px = L.take(x.length), sx = L.take(n * h * wh * 2 * cip);
  const P = takeProduct(L, n, g, cin, cout);
  const zl = w * 2 * Math.max(cip, cop), z: [number, number] = [L.take(zl), L.take(zl)];
  const po = L.take(out.length);
  const F = e.reserve(L.end - e.heap);
  writeAllTwiddles(F, t, g);
  F.set(x, px >> 2);
  fftImages(px, sx, g, n, cin, cip, t.tw, z, false);
  product(F, P, t, g, sx, cin, cip, cout, filter, bias);
  fftImages(po, P.sy, g, n, cout, cop, t.tw, z, true);
  out.set(F.subarray(po >> 2, (po >> 2) + out.length));
}

/**
 * The backward of {@link wasmCircularConvFFT} in one pass: the output cotangent's spectrum is
 * taken once and gives the input gradient `dx` (the same convolution with the `adjoint` filter
 * `[kh, kw, cout, cin]`: flipped, in/out swapped), the filter gradient `dg` (with the spectrum
 * of the forward's input `x`) and the bias gradient `db` (the DC bins). Each of the three may be
 * null; `dx` needs `adjoint` and `dg` needs `x`.
 *
 * @example
 * ```ts
 * import { wasmCircularConvBackwardFFT } from "@soad/soad/internal";
 * const g = { n: 1, h: 2, w: 2, cin: 1, kh: 1, kw: 1, cout: 1 };
 * const x = new Float32Array([1, 2, 3, 4]), adjoint = new Float32Array([2]);
 * const dx = new Float32Array(4), dg = new Float32Array(1), db = new Float32Array(1);
 * wasmCircularConvBackwardFFT(new Float32Array([1, 1, 1, 1]), g, adjoint, x, dx, dg, db);
 * console.log(Array.from(dx, Math.round), Math.round(dg[0]), Math.round(db[0])); // [2, 2, 2, 2] 10 4
 * ```
 */
export function wasmCircularConvBackwardFFT(
  dy: Float32Array,
  g: CircularConvGeometry,
  adjoint: Float32Array | null,
  x: Float32Array | null,
  dx: Float32Array | null,
  dg: Float32Array | null,
  db: Float32Array | null,
): void {
  check(g);
  const { n, h, w, cin, kh, kw, cout } = g;
  sizes(dy, n * h * w * cout, "output cotangent");
  if (dx) {
    sizes(dx, n * h * w * cin, "input gradient");
    if (!adjoint) throw new SoadError("fft conv backward: dx needs the adjoint filter");
    sizes(adjoint, kh * kw * cin * cout, "adjoint filter");
  }
  if (dg) {
    sizes(dg, kh * kw * cin * cout, "filter gradient");
    if (!x) throw new SoadError("fft conv backward: dg needs the forward's input");
    sizes(x, n * h * w * cin, "forward input");
  }
  if (db) sizes(db, cout, "bias gradient");
  const e = getEngine();
  const cip = up(cin, 4), cop = up(cout, 8), wh = w / 2 + 1;
  const L = new Layout(e.heap);
  const t = takeTwiddles(L, g);
  const pd = L.take(dy.length), sd = L.take(n * h * wh * 2 * cop);
  const P = dx ? takeProduct(L, n, g, cout, cin) : null;
  const pdx = dx ? L.take(dx.length) : 0;
  const px = dg ? L.take(n * h * w * cin) : 0, sx = dg ? L.take(n * h * wh * 2 * cip) : 0;
  const tl = kh * wh * cin * 2 * cop, gl = kh * kw * cin * cop;
  const tp = dg ? [L.take(tl), L.take(tl)] : [0, 0], pg = dg ? [L.take(gl), L.take(gl)] : [0, 0];
  const zl = w * 2 * Math.max(cip, cop, up(cin, 8)), z: [number, number] = [L.take(zl), L.take(zl)];
  const F = e.reserve(L.end - e.heap);
  writeAllTwiddles(F, t, g);
  F.set(dy, pd >> 2);
  fftImages(pd, sd, g, n, cout, cop, t.tw, z, false);
  if (db) {
    // the DC bin of an image's spectrum is the sum over its pixels
    db.fill(0);
    for (let i = 0; i < n; i++) {
      const o = (sd >> 2) + i * h * wh * 2 * cop;
      for (let c = 0; c < cout; c++) db[c] += F[o + c];
    }
  }
  if (dx && P) {
    product(F, P, t, g, sd, cout, cop, cin, adjoint!, null);
    fftImages(pdx, P.sy, g, n, cin, up(cin, 8), t.tw, z, true);
    dx.set(F.subarray(pdx >> 2, (pdx >> 2) + dx.length));
  }
  if (dg) {
    F.set(x!, px >> 2);
    fftImages(px, sx, g, n, cin, cip, t.tw, z, false);
    const split = e.run(
      "spec_wgrad",
      (lo, hi, k) => [sx, sd, tp[k], pg[k], n, h, w, cin, cip, cop, kh, kw, t.tph, t.tpw, lo, hi],
      h,
      n * h * wh * cin * cop * 4,
    );
    const a = pg[0] >> 2, b = pg[1] >> 2;
    for (let r = 0; r < kh * kw * cin; r++) {
      for (let o = 0; o < cout; o++) {
        dg[r * cout + o] = split ? F[a + r * cop + o] + F[b + r * cop + o] : F[a + r * cop + o];
      }
    }
  }
}
