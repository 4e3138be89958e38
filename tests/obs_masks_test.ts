import assert from "node:assert/strict";
import { randomMask, strideMask, userMask } from "../src/obs/mask.ts";
import { observedFrames } from "../src/obs/frames.ts";
import { type NoiseLaw, sampleNoise } from "../src/obs/noise.ts";
import { observe, observeStack } from "../src/obs/observe.ts";
import { knownBackground, unknownBackground } from "../src/obs/background.ts";
import { arctan3x, sin3x } from "../src/obs/pointwise.ts";
import { vor2vel } from "../src/obs/vor2vel.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { Rng } from "../src/rng.ts";

Deno.test("obs: mask counts on 256² (655 / 4096 / 16384 and 676 / 4096 / 16384)", () => {
  const rng = new Rng(0);
  assert.deepEqual(
    [0.01, 0.0625, 0.25, 1].map((p) => randomMask(256, 256, p, rng).indices.length),
    [655, 4096, 16384, 65536],
  );
  assert.deepEqual([10, 4, 2].map((s) => strideMask(256, 256, s).indices.length), [
    676,
    4096,
    16384,
  ]);
  const m = randomMask(256, 256, 0.25, new Rng(3));
  assert.ok(m.indices.every((v, i) => i === 0 || v > m.indices[i - 1]));
  assert.deepEqual(randomMask(64, 64, 0.1, new Rng(9)), randomMask(64, 64, 0.1, new Rng(9)));
  assert.notDeepEqual(randomMask(64, 64, 0.1, new Rng(9)), randomMask(64, 64, 0.1, new Rng(10)));
  const s = strideMask(8, 8, 4);
  assert.deepEqual(Array.from(s.indices), [0, 4, 32, 36]);
  assert.deepEqual(Array.from(userMask(2, 3, [0, 1, 0, 0, 0, 1]).indices), [1, 5]);
  assert.throws(() => userMask(2, 2, [0, 0, 0, 0]), InvalidArgumentError);
  assert.throws(() => randomMask(8, 8, 0.01, rng), InvalidArgumentError);
  assert.throws(() => randomMask(8, 8, 1.5, rng), InvalidArgumentError);
});

Deno.test("obs: time interval frames (N = 1, 2, 4, 8 on L = 9)", () => {
  assert.deepEqual(observedFrames(9, 1), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(observedFrames(9, 2), [0, 2, 4, 6, 8]);
  assert.deepEqual(observedFrames(9, 4), [0, 4, 8]);
  assert.deepEqual(observedFrames(9, 8), [0, 8]);
  assert.throws(() => observedFrames(9, 0), InvalidArgumentError);
});

Deno.test("obs: noise laws have mean 0 and the same std", () => {
  const laws: NoiseLaw[] = [
    { kind: "gaussian" },
    { kind: "laplace" },
    { kind: "uniform" },
    { kind: "lognormal", shape: 0.1 },
    { kind: "lognormal", shape: 0.5 },
    { kind: "lognormal", shape: 1 },
  ];
  const n = 400_000, sd = 0.1;
  laws.forEach((law, k) => {
    const e = sampleNoise(law, sd, n, new Rng(k));
    let m = 0, v = 0;
    for (const x of e) m += x;
    m /= n;
    for (const x of e) v += (x - m) ** 2;
    const std = Math.sqrt(v / (n - 1));
    assert.ok(Math.abs(m) < 5 * sd / Math.sqrt(n), `${JSON.stringify(law)} mean ${m}`);
    // heavier tails (lognormal s = 1) need a looser std tolerance
    const tol = law.kind === "lognormal" && law.shape === 1 ? 0.05 : 0.01;
    assert.ok(Math.abs(std / sd - 1) < tol, `${JSON.stringify(law)} std ${std}`);
  });
  const u = sampleNoise({ kind: "uniform" }, sd, 10_000, new Rng(1));
  assert.ok(u.every((x) => Math.abs(x) <= Math.sqrt(3) * sd));
  const ln = sampleNoise({ kind: "lognormal", shape: 0.5 }, sd, 10_000, new Rng(1));
  const shift = sd / Math.sqrt(Math.expm1(0.25));
  assert.ok(ln.every((x) => x > -shift));
  assert.throws(() => sampleNoise({ kind: "cauchy" } as unknown as NoiseLaw, 1, 1, new Rng(0)));
});

Deno.test("obs: observe and stacks (layout of values, independent random masks, shared stride)", () => {
  const L = 9, n = 16, R = n * n, rng = new Rng(4);
  const x = Float32Array.from({ length: L * 2 * R }, () => rng.normal());
  const o = observe(x, L, n, n, {
    operator: sin3x,
    mask: strideMask(n, n, 4),
    interval: 4,
    sigma: 1e-9,
    rng: new Rng(0),
  });
  assert.deepEqual(o.frames, [0, 4, 8]);
  assert.equal(o.values.length, 3 * 2 * 16);
  // frame 4, channel 1 (layer 2), point 5 (index 5 of the mask)
  const p = o.mask.indices[5];
  assert.ok(
    Math.abs(o.values[(1 * 2 + 1) * 16 + 5] - 1.5 * Math.sin(3 * x[(4 * 2 + 1) * R + p])) < 1e-5,
  );
  const st = observeStack(x, L, n, n, { operators: [arctan3x, sin3x, vor2vel], ratio: 0.25, rng });
  assert.equal(st.length, 3);
  assert.equal(st[2].values.length, L * 4 * 64);
  assert.notDeepEqual(st[0].mask.indices, st[1].mask.indices);
  const ss = observeStack(x, L, n, n, {
    operators: [arctan3x, sin3x],
    stride: 2,
    interval: 2,
    rng,
  });
  assert.equal(ss[0].mask, ss[1].mask);
  assert.throws(
    () => observeStack(x, L, n, n, { operators: [sin3x], ratio: 0.5, stride: 2, rng }),
    InvalidArgumentError,
  );
});

Deno.test("obs: backgrounds (known = truth + σb noise; unknown = 95-step QG forecast)", () => {
  const n = 32, R = n * n, rng = new Rng(2);
  const x = Float32Array.from(
    { length: 3 * 2 * R },
    (_, i) => Math.sin(i / 11) + 0.1 * rng.normal(),
  );
  const xb = knownBackground(x, 3, n, n, new Rng(1), 0.1);
  let v = 0;
  for (let i = 0; i < 2 * R; i++) v += (xb[i] - x[i]) ** 2;
  assert.ok(Math.abs(Math.sqrt(v / (2 * R)) - 0.1) < 0.01);
  // no steps and no perturbation: de-normalise → model → re-normalise is the identity
  const same = unknownBackground(x.subarray(0, 2 * R), n, n, {
    rng: new Rng(0),
    steps: 0,
    perturbation: 0,
  });
  let e = 0;
  for (let i = 0; i < 2 * R; i++) e = Math.max(e, Math.abs(same[i] - x[i]));
  assert.ok(e < 1e-5, `round trip ${e}`);
  const fc = unknownBackground(x.subarray(0, 2 * R), n, n, { rng: new Rng(0) });
  assert.ok(fc.every(Number.isFinite));
  let d = 0;
  for (let i = 0; i < 2 * R; i++) d += (fc[i] - x[i]) ** 2;
  assert.ok(d > 0);
  assert.throws(() => unknownBackground(new Float32Array(10), n, n, { rng }), InvalidArgumentError);
});
