// The fused element-wise kernels of the conv engine (wasm/pointwise.c via
// src/backend/wasm_pointwise.ts) against float64 references: SiLU and its gradient (lengths with
// tails, values far into both saturated ends), LayerNorm and its gradient with the weight and bias
// gradients, column sums; on one and two threads (sizes large enough to split), and bad sizes.
import assert from "node:assert/strict";
import { closeConvThreads, setConvThreads } from "../src/backend/wasm_conv.ts";
import {
  wasmColumnSum,
  wasmLayerNorm,
  wasmLayerNormGrad,
  wasmSilu,
  wasmSiluGrad,
} from "../src/backend/wasm_pointwise.ts";
import { SoadError } from "../src/errors.ts";
import { Rng } from "../src/rng.ts";

const sig = (x: number) => 1 / (1 + Math.exp(-x));

function maxErr(a: ArrayLike<number>, ref: ArrayLike<number>, floor = 1): number {
  let e = 0, m = floor;
  for (let i = 0; i < ref.length; i++) {
    e = Math.max(e, Math.abs(a[i] - ref[i]));
    m = Math.max(m, Math.abs(ref[i]));
  }
  return e / m;
}

function refLayerNorm(x: Float32Array, w: Float32Array, b: Float32Array, c: number) {
  const rows = x.length / c, y = new Float64Array(x.length), xh = new Float64Array(x.length);
  const r = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let mean = 0, v = 0;
    for (let k = 0; k < c; k++) mean += x[i * c + k] / c;
    for (let k = 0; k < c; k++) v += (x[i * c + k] - mean) ** 2 / c;
    r[i] = 1 / Math.sqrt(v + 1e-5);
    for (let k = 0; k < c; k++) {
      xh[i * c + k] = (x[i * c + k] - mean) * r[i];
      y[i * c + k] = xh[i * c + k] * w[k] + b[k];
    }
  }
  return { y, xh, r };
}

/** dx, dw, db of the layer norm by the closed form, in float64. */
function refLayerNormGrad(
  dy: Float32Array,
  xh: Float64Array,
  r: Float64Array,
  w: Float32Array,
  c: number,
) {
  const rows = dy.length / c, dx = new Float64Array(dy.length);
  const dw = new Float64Array(c), db = new Float64Array(c);
  for (let i = 0; i < rows; i++) {
    let m1 = 0, m2 = 0;
    for (let k = 0; k < c; k++) {
      const g = dy[i * c + k] * w[k];
      m1 += g / c;
      m2 += (g * xh[i * c + k]) / c;
    }
    for (let k = 0; k < c; k++) {
      const g = dy[i * c + k] * w[k];
      dx[i * c + k] = (g - m1 - xh[i * c + k] * m2) * r[i];
      dw[k] += dy[i * c + k] * xh[i * c + k];
      db[k] += dy[i * c + k];
    }
  }
  return { dx, dw, db };
}

Deno.test("pointwise: SiLU, LayerNorm, column sums = float64 references, 1 and 2 threads", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  try {
    for (const threads of [1, 2]) {
      assert.equal(await setConvThreads(threads), threads);
      for (const n of [1, 7, 4099, 300_001]) {
        const rng = new Rng(n + threads);
        const x = new Float32Array(n).map((_, i) =>
          i === 0 ? -120 : i === 1 ? 95 : 6 * rng.normal()
        );
        const dy = new Float32Array(n).map(() => rng.normal());
        const y = new Float32Array(n), dx = new Float32Array(n);
        wasmSilu(x, y);
        wasmSiluGrad(x, dy, dx);
        const refY = Array.from(x, (v) => v * sig(v));
        const refDx = Array.from(x, (v, i) => dy[i] * sig(v) * (1 + v * (1 - sig(v))));
        assert.ok(maxErr(y, refY) < 1e-6, `silu n=${n} on ${threads}: ${maxErr(y, refY)}`);
        assert.ok(maxErr(dx, refDx) < 1e-6, `silu grad n=${n} on ${threads}`);
        assert.ok(Number.isFinite(y[0]) && Number.isFinite(dx[0]), "saturated ends stay finite");
      }
      for (const [rows, c] of [[3, 4], [37, 16], [40_000, 64]]) {
        const rng = new Rng(rows * c + threads);
        const x = new Float32Array(rows * c).map(() => 3 + 2 * rng.normal());
        const w = new Float32Array(c).map(() => rng.normal()),
          b = new Float32Array(c).map(() => rng.normal());
        const dy = new Float32Array(rows * c).map(() => rng.normal());
        const y = new Float32Array(rows * c),
          xh = new Float32Array(rows * c),
          r = new Float32Array(rows);
        wasmLayerNorm(x, w, b, c, y, xh, r);
        const ref = refLayerNorm(x, w, b, c);
        const key = `${rows}×${c} on ${threads}`;
        assert.ok(maxErr(y, ref.y) < 2e-6, `layer norm y ${key}: ${maxErr(y, ref.y)}`);
        assert.ok(maxErr(r, ref.r, 0) < 2e-6, `layer norm r ${key}`);
        const dx = new Float32Array(rows * c), dw = new Float32Array(c), db = new Float32Array(c);
        wasmLayerNormGrad(dy, xh, r, w, c, dx, dw, db);
        const g = refLayerNormGrad(dy, Float64Array.from(xh), Float64Array.from(r), w, c);
        assert.ok(maxErr(dx, g.dx) < 2e-6, `layer norm dx ${key}: ${maxErr(dx, g.dx)}`);
        assert.ok(maxErr(dw, g.dw) < 1e-5, `layer norm dw ${key}: ${maxErr(dw, g.dw)}`);
        assert.ok(maxErr(db, g.db) < 1e-5, `layer norm db ${key}: ${maxErr(db, g.db)}`);
        const dx2 = new Float32Array(rows * c);
        wasmLayerNormGrad(dy, xh, r, w, c, dx2, null, null);
        assert.deepEqual(dx2, dx, "dx without the parameter gradients");
        const cs = new Float32Array(c);
        wasmColumnSum(dy, c, cs);
        assert.ok(maxErr(cs, g.db) < 1e-5, `column sum ${key}`);
      }
    }
  } finally {
    closeConvThreads();
  }
});

Deno.test("pointwise: bad sizes throw SoadError", () => {
  const bad = (f: () => void, re: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof SoadError && re.test(e.message));
  bad(() => wasmSilu(new Float32Array(3), new Float32Array(4)), /silu output: 4 values where 3/);
  bad(
    () => wasmColumnSum(new Float32Array(12), 6, new Float32Array(6)),
    /multiple of 4 dividing the size, got 6/,
  );
  bad(
    () =>
      wasmLayerNorm(
        new Float32Array(8),
        new Float32Array(4),
        new Float32Array(3),
        4,
        new Float32Array(8),
        new Float32Array(8),
        new Float32Array(2),
      ),
    /weight and bias need 4 values/,
  );
  bad(
    () =>
      wasmLayerNormGrad(
        new Float32Array(8),
        new Float32Array(8),
        new Float32Array(2),
        new Float32Array(4),
        4,
        new Float32Array(8),
        new Float32Array(4),
        null,
      ),
    /dw and db must both be given/,
  );
});
