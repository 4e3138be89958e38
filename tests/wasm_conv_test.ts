// The wasm conv engine (wasm/conv.c via src/backend/wasm_conv.ts) against float64 references:
// forward and filter gradient over geometries with every tail (channels not multiples of 4 or 8,
// widths not multiples of 4, stride 2, 1×1 / 3×3 / 5×5), on one and on two threads, and the tfjs
// ops built on it against tfjs-wasm's own conv2d.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend/select.ts";
import {
  closeConvThreads,
  convEngineInfo,
  type ConvGeometry,
  setConvThreads,
  wasmConvFilterGrad,
  wasmConvForward,
} from "../src/backend/wasm_conv.ts";
import { convFilterGradWasm, convValidWasm } from "../src/diffusion/wasm_conv_ops.ts";
import { SoadError } from "../src/errors.ts";
import { Rng } from "../src/rng.ts";

function outDims(g: ConvGeometry): [number, number] {
  return [
    Math.floor((g.hp - g.kh) / g.stride) + 1,
    Math.floor((g.wp - g.kw) / g.stride) + 1,
  ];
}

function refForward(x: Float32Array, f: Float32Array, b: Float32Array | null, g: ConvGeometry) {
  const [ho, wo] = outDims(g);
  const out = new Float64Array(g.n * ho * wo * g.cout);
  for (let n = 0; n < g.n; n++) {
    for (let y = 0; y < ho; y++) {
      for (let xx = 0; xx < wo; xx++) {
        for (let o = 0; o < g.cout; o++) {
          let acc = b ? b[o] : 0;
          for (let u = 0; u < g.kh; u++) {
            for (let v = 0; v < g.kw; v++) {
              for (let i = 0; i < g.cin; i++) {
                const xi = ((n * g.hp + y * g.stride + u) * g.wp + xx * g.stride + v) * g.cin + i;
                acc += x[xi] * f[((u * g.kw + v) * g.cin + i) * g.cout + o];
              }
            }
          }
          out[((n * ho + y) * wo + xx) * g.cout + o] = acc;
        }
      }
    }
  }
  return out;
}

function refFilterGrad(x: Float32Array, dy: Float32Array, g: ConvGeometry) {
  const [ho, wo] = outDims(g);
  const out = new Float64Array(g.kh * g.kw * g.cin * g.cout);
  for (let n = 0; n < g.n; n++) {
    for (let y = 0; y < ho; y++) {
      for (let xx = 0; xx < wo; xx++) {
        for (let u = 0; u < g.kh; u++) {
          for (let v = 0; v < g.kw; v++) {
            for (let i = 0; i < g.cin; i++) {
              const xv = x[((n * g.hp + y * g.stride + u) * g.wp + xx * g.stride + v) * g.cin + i];
              const d0 = ((n * ho + y) * wo + xx) * g.cout;
              const w0 = ((u * g.kw + v) * g.cin + i) * g.cout;
              for (let o = 0; o < g.cout; o++) out[w0 + o] += xv * dy[d0 + o];
            }
          }
        }
      }
    }
  }
  return out;
}

function randn(n: number, rng: Rng): Float32Array {
  return new Float32Array(n).map(() => rng.normal());
}

/** max |a − ref| / max(1, max |ref|). */
function relErr(a: Float32Array, ref: Float64Array): number {
  let e = 0, m = 1;
  for (let i = 0; i < ref.length; i++) {
    e = Math.max(e, Math.abs(a[i] - ref[i]));
    m = Math.max(m, Math.abs(ref[i]));
  }
  return e / m;
}

const GEOMETRIES: ConvGeometry[] = [
  { n: 1, hp: 7, wp: 9, cin: 1, kh: 3, kw: 3, cout: 1, stride: 1 },
  { n: 2, hp: 9, wp: 11, cin: 3, kh: 5, kw: 5, cout: 6, stride: 1 },
  { n: 1, hp: 8, wp: 13, cin: 10, kh: 1, kw: 1, cout: 17, stride: 1 },
  { n: 3, hp: 12, wp: 12, cin: 5, kh: 5, kw: 5, cout: 9, stride: 2 },
  { n: 2, hp: 11, wp: 11, cin: 2, kh: 3, kw: 3, cout: 4, stride: 2 },
  { n: 1, hp: 6, wp: 22, cin: 16, kh: 3, kw: 1, cout: 64, stride: 1 },
  // large enough to be split over two threads
  { n: 2, hp: 20, wp: 21, cin: 16, kh: 5, kw: 5, cout: 24, stride: 1 },
];

Deno.test("wasm conv: forward and filter gradient = float64 reference, 1 and 2 threads", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const rng = new Rng(3);
  try {
    const results = new Map<string, Float32Array[]>();
    for (const threads of [1, 2]) {
      assert.equal(await setConvThreads(threads), threads);
      assert.equal(convEngineInfo().threads, threads);
      for (const g of GEOMETRIES) {
        const [ho, wo] = outDims(g);
        const r = new Rng(g.hp * 100 + g.cin);
        const x = randn(g.n * g.hp * g.wp * g.cin, r);
        const f = randn(g.kh * g.kw * g.cin * g.cout, r);
        const b = randn(g.cout, r);
        const dy = randn(g.n * ho * wo * g.cout, r);
        const out = new Float32Array(g.n * ho * wo * g.cout);
        wasmConvForward(x, f, b, g, out);
        const e = relErr(out, refForward(x, f, b, g));
        assert.ok(e < 2e-6, `forward ${JSON.stringify(g)}: rel err ${e}`);
        const outNb = new Float32Array(out.length);
        wasmConvForward(x, f, null, g, outNb);
        assert.ok(relErr(outNb, refForward(x, f, null, g)) < 2e-6, "forward without bias");
        const dw = new Float32Array(f.length);
        wasmConvFilterGrad(x, dy, g, dw);
        const ew = relErr(dw, refFilterGrad(x, dy, g));
        assert.ok(ew < 2e-6, `filter grad ${JSON.stringify(g)}: rel err ${ew}`);
        const key = JSON.stringify(g);
        const prev = results.get(key);
        if (prev) {
          // each output value is computed by one thread in the same order: bitwise equal
          assert.deepEqual(out, prev[0], `forward on 2 threads = 1 thread ${key}`);
          assert.ok(relErr(dw, Float64Array.from(prev[1])) < 1e-6, `filter grad 2 vs 1 ${key}`);
        } else results.set(key, [out, dw]);
      }
    }
    void rng;
  } finally {
    closeConvThreads();
  }
  assert.equal(convEngineInfo().threads, 1);
});

Deno.test("wasm conv: bad geometry and sizes throw SoadError", () => {
  const g = { n: 1, hp: 4, wp: 4, cin: 1, kh: 3, kw: 3, cout: 1, stride: 1 };
  assert.throws(
    () => wasmConvForward(new Float32Array(15), new Float32Array(9), null, g, new Float32Array(4)),
    (e: unknown) => e instanceof SoadError && /input has 15 values, expected 16/.test(e.message),
  );
  assert.throws(
    () =>
      wasmConvForward(
        new Float32Array(4),
        new Float32Array(9),
        null,
        { ...g, hp: 2, wp: 2 },
        new Float32Array(1),
      ),
    (e: unknown) => e instanceof SoadError && /larger than the input/.test(e.message),
  );
  assert.throws(
    () =>
      wasmConvFilterGrad(
        new Float32Array(16),
        new Float32Array(4),
        { ...g, stride: 0 },
        new Float32Array(9),
      ),
    (e: unknown) => e instanceof SoadError && /stride must be a positive integer/.test(e.message),
  );
  return setConvThreads(0).then(
    () => assert.fail("threads 0 accepted"),
    (e: unknown) => assert.ok(e instanceof SoadError),
  );
});

Deno.test("wasm conv: tfjs ops = tfjs-wasm conv2d (XNNPACK) and the swapped-conv filter grad", async () => {
  await selectBackend({ prefer: "wasm", quiet: true });
  for (const [k, s, cin, cout] of [[5, 1, 4, 16], [5, 2, 16, 32], [3, 1, 6, 10], [1, 1, 8, 3]]) {
    tf.tidy(() => {
      const x = tf.randomNormal(
        [2, 12 + k - 1, 10 + k - 1, cin],
        0,
        1,
        "float32",
        7,
      ) as tf.Tensor4D;
      const f = tf.randomNormal([k, k, cin, cout], 0, 1, "float32", 8) as tf.Tensor4D;
      const b = tf.randomNormal([cout], 0, 1, "float32", 9) as tf.Tensor1D;
      const ours = convValidWasm(x, f, b, s);
      const ref = tf.add(tf.conv2d(x, f, s, "valid"), b);
      assert.deepEqual(ours.shape, ref.shape);
      const err = tf.max(tf.abs(tf.sub(ours, ref))).dataSync()[0];
      const scale = Math.max(1, tf.max(tf.abs(ref)).dataSync()[0]);
      assert.ok(err / scale < 2e-6, `conv k${k} s${s}: ${err / scale}`);
      const dy = tf.randomNormal(ours.shape, 0, 1, "float32", 10) as tf.Tensor4D;
      const dw = convFilterGradWasm(x, dy, k, k, s);
      // the same gradient as one conv with batch and channel axes swapped
      const xT = tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D;
      const dT = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
      const g = tf.slice(tf.conv2d(xT, dT, 1, "valid", "NHWC", s), [0, 0, 0, 0], [-1, k, k, -1]);
      const refW = tf.transpose(g, [1, 2, 0, 3]);
      const ew = tf.max(tf.abs(tf.sub(dw, refW))).dataSync()[0];
      const sw = Math.max(1, tf.max(tf.abs(refW)).dataSync()[0]);
      assert.ok(ew / sw < 2e-6, `filter grad k${k} s${s}: ${ew / sw}`);
    });
  }
});

Deno.test("selectBackend: threads sets the conv engine (wasm), bad counts are refused", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  try {
    const two = await selectBackend({ prefer: "wasm", quiet: true, threads: 2 });
    assert.equal(two.threads, 2);
    assert.equal(convEngineInfo().threads, 2);
    assert.match(two.reason, /conv engine 2 thread\(s\)/);
    const one = await selectBackend({ prefer: "wasm", quiet: true });
    assert.equal(one.threads, 1);
    assert.equal(convEngineInfo().threads, 1);
    await assert.rejects(
      () => selectBackend({ prefer: "wasm", quiet: true, threads: 1.5 }),
      (e: unknown) =>
        e instanceof SoadError && /threads must be a positive integer/.test(e.message),
    );
  } finally {
    closeConvThreads();
  }
});
