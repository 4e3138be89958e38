// Circular convolutions by the FFT (wasm/fft_conv.c via src/backend/wasm_fft_conv.ts) against
// float64 circular references: forward (with and without bias) and filter gradient over grids
// from 2×2 to 32×16, channel counts with every tail (not multiples of 4 or 8), 1×5 / 3×3 / 5×5
// filters, on one and two threads; and the U-Net's conv op with method fft = method direct for
// the value and all gradients.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend/select.ts";
import { closeConvThreads, getEngine, setConvThreads } from "../src/backend/wasm_conv.ts";
import {
  type CircularConvGeometry,
  fftConvSupported,
  wasmCircularConvBackwardFFT,
  wasmCircularConvFFT,
} from "../src/backend/wasm_fft_conv.ts";
import { conv2dPadded, setCircularConvMethod } from "../src/diffusion/circular_conv.ts";
import { SoadError } from "../src/errors.ts";
import { Rng } from "../src/rng.ts";

const mod = (a: number, n: number) => ((a % n) + n) % n;

/**
 * Every (image, pixel, tap) of a circular convolution: `visit(x0, d0, w0)` with x0 the offset of
 * x[b, (y + u − rh) mod h, (x + v − rw) mod w, 0], d0 that of out[b, y, x, 0] and w0 that of
 * f[u, v, 0, 0].
 */
function taps(g: CircularConvGeometry, visit: (x0: number, d0: number, w0: number) => void) {
  for (let b = 0; b < g.n; b++) {
    for (let y = 0; y < g.h; y++) {
      for (let xx = 0; xx < g.w; xx++) {
        for (let u = 0; u < g.kh; u++) {
          for (let v = 0; v < g.kw; v++) {
            const yy = mod(y + u - (g.kh - 1) / 2, g.h), xs = mod(xx + v - (g.kw - 1) / 2, g.w);
            visit(
              ((b * g.h + yy) * g.w + xs) * g.cin,
              ((b * g.h + y) * g.w + xx) * g.cout,
              (u * g.kw + v) * g.cin * g.cout,
            );
          }
        }
      }
    }
  }
}

function refForward(
  x: Float32Array,
  f: Float32Array,
  bias: Float32Array | null,
  g: CircularConvGeometry,
) {
  const out = new Float64Array(g.n * g.h * g.w * g.cout);
  if (bias) out.forEach((_, i) => out[i] = bias[i % g.cout]);
  taps(g, (x0, d0, w0) => {
    for (let i = 0; i < g.cin; i++) {
      for (let o = 0; o < g.cout; o++) out[d0 + o] += x[x0 + i] * f[w0 + i * g.cout + o];
    }
  });
  return out;
}

function refFilterGrad(x: Float32Array, dy: Float32Array, g: CircularConvGeometry) {
  const out = new Float64Array(g.kh * g.kw * g.cin * g.cout);
  taps(g, (x0, d0, w0) => {
    for (let i = 0; i < g.cin; i++) {
      for (let o = 0; o < g.cout; o++) out[w0 + i * g.cout + o] += x[x0 + i] * dy[d0 + o];
    }
  });
  return out;
}

/** Input gradient of the circular convolution (scatter of dy through the filter), float64. */
function refInputGrad(f: Float32Array, dy: Float32Array, g: CircularConvGeometry) {
  const out = new Float64Array(g.n * g.h * g.w * g.cin);
  taps(g, (x0, d0, w0) => {
    for (let i = 0; i < g.cin; i++) {
      for (let o = 0; o < g.cout; o++) out[x0 + i] += f[w0 + i * g.cout + o] * dy[d0 + o];
    }
  });
  return out;
}

/** The adjoint filter `[kh, kw, cout, cin]`: flipped, in/out swapped. */
function adjointOf(f: Float32Array, g: CircularConvGeometry): Float32Array {
  const out = new Float32Array(f.length);
  for (let u = 0; u < g.kh; u++) {
    for (let v = 0; v < g.kw; v++) {
      for (let i = 0; i < g.cin; i++) {
        for (let o = 0; o < g.cout; o++) {
          const src = ((u * g.kw + v) * g.cin + i) * g.cout + o;
          const dst = (((g.kh - 1 - u) * g.kw + (g.kw - 1 - v)) * g.cout + o) * g.cin + i;
          out[dst] = f[src];
        }
      }
    }
  }
  return out;
}

const randn = (n: number, rng: Rng) => new Float32Array(n).map(() => rng.normal());

/** max |a − ref| / max(1, max |ref|). */
function relErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  let e = 0, m = 1;
  for (let i = 0; i < ref.length; i++) {
    e = Math.max(e, Math.abs(a[i] - ref[i]));
    m = Math.max(m, Math.abs(ref[i]));
  }
  return e / m;
}

const GEOMETRIES: CircularConvGeometry[] = [
  { n: 1, h: 2, w: 2, cin: 1, kh: 1, kw: 1, cout: 1 },
  { n: 1, h: 4, w: 4, cin: 1, kh: 3, kw: 3, cout: 1 },
  { n: 2, h: 8, w: 16, cin: 3, kh: 5, kw: 5, cout: 6 },
  { n: 3, h: 16, w: 8, cin: 6, kh: 1, kw: 5, cout: 9 },
  { n: 1, h: 4, w: 8, cin: 10, kh: 3, kw: 3, cout: 17 },
  // channel counts that are multiples of 4 but not of 8 (padded spectrum lanes)
  { n: 3, h: 8, w: 8, cin: 12, kh: 5, kw: 5, cout: 4 },
  // large enough to be split over two threads
  { n: 5, h: 32, w: 16, cin: 16, kh: 5, kw: 5, cout: 24 },
];

Deno.test("fft conv: forward and filter gradient = float64 circular reference, 1 and 2 threads", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  try {
    for (const threads of [1, 2]) {
      assert.equal(await setConvThreads(threads), threads);
      for (const g of GEOMETRIES) {
        const r = new Rng(g.h * 100 + g.cin + threads);
        const x = randn(g.n * g.h * g.w * g.cin, r);
        const f = randn(g.kh * g.kw * g.cin * g.cout, r);
        const b = randn(g.cout, r);
        const dy = randn(g.n * g.h * g.w * g.cout, r);
        const key = `${JSON.stringify(g)} on ${threads} thread(s)`;
        // poison the engine's scratch memory: padding lanes must be written, never read as is
        const engine = getEngine();
        engine.reserve(8 << 20).fill(NaN, engine.heap >> 2);
        const out = new Float32Array(g.n * g.h * g.w * g.cout);
        wasmCircularConvFFT(x, f, b, g, out);
        const e = relErr(out, refForward(x, f, b, g));
        assert.ok(e < 5e-6, `forward ${key}: rel err ${e}`);
        wasmCircularConvFFT(x, f, null, g, out);
        assert.ok(relErr(out, refForward(x, f, null, g)) < 5e-6, `forward without bias ${key}`);
        // the backward in one pass from the forward's input and the adjoint filter
        const dx = new Float32Array(x.length), dg = new Float32Array(f.length);
        const db = new Float32Array(g.cout);
        wasmCircularConvBackwardFFT(dy, g, adjointOf(f, g), x, dx, dg, db);
        const ex = relErr(dx, refInputGrad(f, dy, g));
        assert.ok(ex < 5e-6, `backward dx ${key}: rel err ${ex}`);
        const ew = relErr(dg, refFilterGrad(x, dy, g));
        assert.ok(ew < 5e-6, `backward dg ${key}: rel err ${ew}`);
        const refDb = new Float64Array(g.cout);
        dy.forEach((v, i) => refDb[i % g.cout] += v);
        assert.ok(relErr(db, refDb) < 5e-6, `backward db ${key}`);
      }
    }
  } finally {
    closeConvThreads();
  }
});

Deno.test("fft conv: supported shapes; bad geometry and sizes throw SoadError", () => {
  assert.equal(fftConvSupported(64, 32, 5, 5), true);
  assert.equal(fftConvSupported(48, 64, 5, 5), false); // not a power of two
  assert.equal(fftConvSupported(64, 64, 4, 5), false); // even filter
  assert.equal(fftConvSupported(4, 4, 5, 5), false); // filter larger than the grid
  const g = { n: 1, h: 4, w: 4, cin: 1, kh: 3, kw: 3, cout: 1 };
  assert.throws(
    () =>
      wasmCircularConvFFT(new Float32Array(15), new Float32Array(9), null, g, new Float32Array(16)),
    (e: unknown) => e instanceof SoadError && /input has 15 values, expected 16/.test(e.message),
  );
  assert.throws(
    () =>
      wasmCircularConvFFT(
        new Float32Array(12),
        new Float32Array(9),
        null,
        { ...g, h: 3 },
        new Float32Array(12),
      ),
    (e: unknown) => e instanceof SoadError && /power-of-two grid/.test(e.message),
  );
  assert.throws(
    () =>
      wasmCircularConvBackwardFFT(
        new Float32Array(16),
        { ...g, cout: 0 },
        null,
        null,
        null,
        null,
        null,
      ),
    (e: unknown) => e instanceof SoadError && /cout must be a positive integer/.test(e.message),
  );
  assert.throws(
    () =>
      wasmCircularConvBackwardFFT(
        new Float32Array(16),
        g,
        null,
        null,
        null,
        new Float32Array(9),
        null,
      ),
    (e: unknown) => e instanceof SoadError && /dg needs the forward's input/.test(e.message),
  );
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => setCircularConvMethod("winograd" as any),
    (e: unknown) => e instanceof SoadError && /auto or direct/.test(e.message),
  );
});

Deno.test("fft conv: the U-Net conv op by FFT = direct, stride 1 and 2 (value and all gradients)", async () => {
  await selectBackend({ prefer: "wasm", quiet: true });
  const run = (method: "auto" | "direct", paramGrads: boolean, stride: 1 | 2) => {
    const before = setCircularConvMethod(method);
    try {
      return tf.tidy(() => {
        const x = tf.randomNormal([3, 16, 8, 6], 0, 1, "float32", 1) as tf.Tensor4D;
        const f = tf.randomNormal([5, 5, 6, 10], 0, 0.3, "float32", 2) as tf.Tensor4D;
        const b = tf.randomNormal([10], 0, 1, "float32", 3) as tf.Tensor1D;
        const w = tf.randomNormal([3, 16 / stride, 8 / stride, 10], 0, 1, "float32", 4);
        const loss = (xi: tf.Tensor, fi: tf.Tensor, bi: tf.Tensor) =>
          tf.sum(tf.mul(
            conv2dPadded(xi as tf.Tensor4D, fi as tf.Tensor4D, bi as tf.Tensor1D, {
              paramGrads,
              stride,
            }),
            w,
          ));
        const y = conv2dPadded(x, f, b, { paramGrads, stride });
        const grads = paramGrads
          ? tf.grads(loss)([x, f, b])
          : [tf.grad((xi: tf.Tensor) => loss(xi, f, b))(x)];
        return [y, ...grads].map((t) => t.dataSync().slice());
      });
    } finally {
      setCircularConvMethod(before);
    }
  };
  for (const stride of [1, 2] as const) {
    for (const paramGrads of [false, true]) {
      const fft = run("auto", paramGrads, stride), direct = run("direct", paramGrads, stride);
      assert.equal(fft.length, paramGrads ? 4 : 2);
      for (let k = 0; k < fft.length; k++) {
        const e = relErr(fft[k], direct[k]);
        assert.ok(e < 5e-6, `stride ${stride}, paramGrads ${paramGrads}, output ${k}: ${e}`);
      }
    }
  }
});
