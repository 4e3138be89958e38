import { equal, ok, throws } from "node:assert/strict";
import {
  climatologyEstimate,
  normalisedMoments,
  pointwisePosteriorMean,
} from "../src/assim/baselines.ts";
import { runCell } from "../src/harness/experiment_cell.ts";
import { storeExperimentData } from "../src/harness/experiment_inputs.ts";
import { augmentedIdentityDenoiser } from "../src/assim/gaussian.ts";
import { rmsePerFrame } from "../src/assim/metrics.ts";
import type { SpatialMask } from "../src/obs/mask.ts";
import { observe } from "../src/obs/observe.ts";
import { elementwiseOperator } from "../src/obs/operator.ts";
import { arctan3x } from "../src/obs/pointwise.ts";
import { vor2vel } from "../src/obs/vor2vel.ts";
import { Rng } from "../src/rng.ts";
import { tinyStore } from "./experiment_helpers.ts";

const all = (h: number, w: number): SpatialMask => ({
  height: h,
  width: w,
  indices: Int32Array.from({ length: h * w }, (_, i) => i),
});

Deno.test("baselines: a linear operator gives the conjugate Gaussian posterior mean", () => {
  // prior N(m, s²) per layer; y = a·x + N(0, σo²) on frames 0 and 2; background on frame 0
  const a = 0.7, so = 0.3, sb = 0.2, L = 3, H = 2, W = 3, R = H * W;
  const prior = { mean: [0.4, -0.2], std: [1.5, 0.8] };
  const op = elementwiseOperator({ name: "lin", f: (v) => a * v });
  const rng = new Rng(5);
  const values = Float32Array.from({ length: 2 * 2 * R }, () => 2 * rng.normal());
  const obs = { operator: op, mask: all(H, W), frames: [0, 2], values, sigma: so };
  const xb = Float32Array.from({ length: 2 * R }, () => rng.normal());
  const x = pointwisePosteriorMean([obs], L, H, W, prior, { values: xb, sigma: sb })!;
  for (let f = 0; f < L; f++) {
    for (let k = 0; k < 2; k++) {
      for (let i = 0; i < R; i++) {
        const m = prior.mean[k], s = prior.std[k];
        let prec = 1 / (s * s), num = m / (s * s);
        const fi = [0, 2].indexOf(f);
        if (fi >= 0) {
          prec += (a * a) / (so * so);
          num += (a * values[(fi * 2 + k) * R + i]) / (so * so);
        }
        if (f === 0) {
          prec += 1 / (sb * sb);
          num += xb[k * R + i] / (sb * sb);
        }
        const got = x[(f * 2 + k) * R + i], want = num / prec;
        ok(Math.abs(got - want) < 1e-5, `f${f} k${k} i${i}: ${got} vs ${want}`);
      }
    }
  }
  // frame 1 has no information: the prior mean
  equal(x[(1 * 2 + 0) * R], Math.fround(0.4));
});

Deno.test("baselines: the pointwise posterior mean beats climatology and inversion on arctan3x", () => {
  // Bayes optimality: on draws from its own prior, no estimator has a lower expected squared error
  const H = 32, W = 32, L = 2, n = L * 2 * H * W, rng = new Rng(11);
  const truth = Float32Array.from({ length: n }, () => rng.normal());
  const o = observe(truth, L, H, W, { operator: arctan3x, mask: all(H, W), rng, sigma: 0.1 });
  const prior = { mean: [0, 0], std: [1, 1] };
  const bayes = pointwisePosteriorMean([o], L, H, W, prior)!;
  const clim = climatologyEstimate(L, H, W, prior);
  const lim = Math.PI / 2 - 1e-3;
  const inv = Float32Array.from(o.values, (y) => Math.tan(Math.max(-lim, Math.min(lim, y))) / 3)
    .map((v) => Math.max(-4, Math.min(4, v))); // values are [L, 2, all points]: the state layout
  const mse = (e: Float32Array) => rmsePerFrame(e, truth, L).reduce((s, r) => s + r * r, 0) / L;
  const [b, c, i] = [mse(bayes), mse(clim), mse(inv)];
  ok(
    b < c && b < i,
    `Bayes ${b.toFixed(4)}, climatology ${c.toFixed(4)}, inversion ${i.toFixed(4)}`,
  );
  ok(Math.abs(c - 1) < 0.1, `climatology MSE ≈ the prior variance, got ${c}`);
});

Deno.test("baselines: non-element-wise operators have none; bad inputs throw", () => {
  const H = 8, W = 8, rng = new Rng(0);
  const truth = new Float32Array(2 * H * W);
  const o = observe(truth, 1, H, W, { operator: vor2vel, mask: all(H, W), rng });
  equal(pointwisePosteriorMean([o], 1, H, W, { mean: [0, 0], std: [1, 1] }), undefined);
  throws(() => climatologyEstimate(1, H, W, { mean: [0, 0], std: [1, 0] }), /std > 0/);
  const a = observe(truth, 1, H, W, { operator: arctan3x, mask: all(H, W), rng });
  throws(
    () =>
      pointwisePosteriorMean([a], 1, H, W, { mean: [0, 0], std: [1, 1] }, {
        values: new Float32Array(3),
        sigma: 0.1,
      }),
    /background has 3 values/,
  );
});

Deno.test("baselines: experiment cells score climatology and the pointwise baseline", async () => {
  const data = storeExperimentData(await tinyStore());
  ok(data.climatology, "a finalised store gives the training moments");
  const p = normalisedMoments([3e-6, -1e-6], [2e-6, 5e-7], {
    offset: [1e-6, 0],
    std: [1e-6, 1e-6],
  });
  for (let k = 0; k < 2; k++) {
    ok(Math.abs(p.mean[k] - [2, -1][k]) < 1e-12 && Math.abs(p.std[k] - [2, 0.5][k]) < 1e-12);
  }
  const model = { denoiser: augmentedIdentityDenoiser() };
  const cell = {
    setting: "I" as const,
    ops: ["arctan3x" as const],
    mask: "p1",
    interval: 1,
    seed: 0,
    method: "soad" as const,
    window: 0,
    variant: "base",
  };
  const cfg = { steps: 2, corrections: 0, stepwise: false };
  const r = await runCell(cell, data, model, cfg, () => 0);
  ok(r.climatology! > 0.3 && r.climatology! < 3, `climatology ${r.climatology}`);
  ok(r.pointwise! < r.climatology!, `pointwise ${r.pointwise} vs climatology ${r.climatology}`);
  ok(r.amplitude! > 0 && Math.abs(r.correlation!) <= 1, `a ${r.amplitude}, ρ ${r.correlation}`);
  const v = await runCell({ ...cell, ops: ["vor2vel"] }, data, model, cfg, () => 0);
  ok(v.climatology !== undefined && v.pointwise === undefined);
});
