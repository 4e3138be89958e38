// More rows of tests/fixtures/spec/SAMPLER_ANALYTIC.md (2000 chains, iso prior N(0, I), 16 of 64
// entries observed with σo = 0.1): the SDA baseline and the refreshed corrector, the Jacobian-free
// SOAD option on the aug toy, and unconditional sampling of the bare prior (also from tMax < 1).
import assert from "node:assert/strict";
import { isotropicGaussianDenoiser } from "../src/assim/gaussian.ts";
import { runSampler } from "../src/assim/sampler.ts";
import { priorNoise } from "../src/assim/score.ts";
import { sdaNoise } from "../src/assim/sda.ts";
import { alpha, sigma } from "../src/diffusion/schedule.ts";
import { elementwiseOperator } from "../src/obs/operator.ts";
import { Rng } from "../src/rng.ts";
import { describe, exactIndependent, groupStats } from "./assim_posterior.ts";
import { fmt, runToy } from "./assim_toy.ts";

const CHAINS = 2000;

function inRange(name: string, v: number, lo: number, hi: number, what: string): void {
  assert.ok(v >= lo && v <= hi, `${name} = ${v.toFixed(4)} outside [${lo}, ${hi}]; ${what}`);
}

Deno.test("SDA baseline (iso, γ = 0.1, clip, M = 5 stale, no FDC) matches its reference row at K = 256", async () => {
  // reference: obs mean err 0.046 sd, var ratio 6.66; unobs 0.024 sd, var ratio 1.02
  const H = 4, W = 8, R = H * W, rng = new Rng(1003);
  const x = Float32Array.from({ length: 2 * R }, () => rng.normal());
  const identity = elementwiseOperator({ name: "identity", f: (v) => v, df: () => 1 });
  const mask = { height: H, width: W, indices: rng.permutation(R).slice(0, 8).sort() };
  const values = new Float32Array(16);
  for (let c = 0; c < 2; c++) {
    mask.indices.forEach((p, j) => (values[c * 8 + j] = x[c * R + p] + 0.1 * rng.normal()));
  }
  const obs = { operator: identity, mask, frames: [0], values, sigma: 0.1 };
  const res = await runSampler(sdaNoise(isotropicGaussianDenoiser(), [obs]), [CHAINS, 1, 2, H, W], {
    steps: 256,
    corrections: 5,
    seed: 17,
  });
  assert.ok(res.reports.every((r) => r.completed));
  const seen = new Map<number, number>();
  for (let c = 0; c < 2; c++) {
    mask.indices.forEach((p, j) => seen.set(c * R + p, values[c * 8 + j]));
  }
  const o = [], u = [];
  for (let i = 0; i < 2 * R; i++) {
    if (seen.has(i)) o.push(exactIndependent(i, [{ y: seen.get(i)!, sigma: 0.1 }]));
    else u.push(exactIndependent(i, []));
  }
  const so = groupStats(res.samples, CHAINS, 2 * R, o),
    su = groupStats(res.samples, CHAINS, 2 * R, u);
  const msg = `${describe("obs", so)}; ${describe("unobs", su)}`;
  console.log(`  SDA iso K=256: ${msg}`);
  inRange("obs mean error", so.meanErr, 0, 0.1, msg);
  inRange("obs var ratio", so.varRatio, 5.9, 7.4, msg);
  inRange("unobs mean error", su.meanErr, 0, 0.06, msg);
  inRange("unobs var ratio", su.varRatio, 0.97, 1.07, msg);
});

Deno.test("refreshed corrector (iso, FDC, M = 5 refreshed, clip) matches its reference row at K = 256", async () => {
  // reference: obs mean err 0.031 sd, var ratio 1.75; unobs 0.024 sd, var ratio 1.07
  const s = await runToy("iso", CHAINS, {
    steps: 256,
    corrections: 5,
    refresh: true,
    clip: true,
    useFdc: true,
  });
  console.log(`  iso refreshed K=256: ${fmt(s)}`);
  assert.equal(s.stopped, 0);
  inRange("obs mean error", s.obsMeanErr, 0, 0.08, fmt(s));
  inRange("obs var ratio", s.obsVar, 1.6, 1.9, fmt(s));
  inRange("unobs mean error", s.unobsMeanErr, 0, 0.06, fmt(s));
  inRange("unobs var ratio", s.unobsVar, 1.02, 1.12, fmt(s));
});

Deno.test("Jacobian-free SOAD: the rows of docs/onnx.md (matches the full VJP with the clip at K = 256)", async () => {
  // 1000 chains (half the reference's) keep it short: ±0.011 MC sd on the mean variance ratio
  const opts = { steps: 256, corrections: 5, clip: true, useFdc: true };
  const full = await runToy("aug", CHAINS / 2, opts);
  const free = await runToy("aug", CHAINS / 2, { ...opts, jacobianFree: true });
  console.log(`  aug faithful K=256 full VJP:      ${fmt(full)}`);
  console.log(`  aug faithful K=256 Jacobian-free: ${fmt(free)}`);
  for (const s of [full, free]) {
    // docs/onnx.md: full 0.023 / 1.230, 0.022 / 1.021; Jacobian-free 0.026 / 1.235, 0.023 / 1.020
    assert.equal(s.stopped, 0);
    inRange("obs mean error", s.obsMeanErr, 0, 0.08, fmt(s));
    inRange("obs var ratio", s.obsVar, 1.17, 1.28, fmt(s));
    inRange("unobs mean error", s.unobsMeanErr, 0, 0.06, fmt(s));
    inRange("unobs var ratio", s.unobsVar, 0.98, 1.07, fmt(s));
  }
  // same seeds: the two agree far inside the Monte-Carlo noise
  assert.ok(Math.abs(full.obsVar - free.obsVar) < 0.03, `${fmt(full)} vs ${fmt(free)}`);
  // K = 64: the Jacobian-free variance is larger (0.994 against 0.857, docs/onnx.md)
  const free64 = await runToy("aug", CHAINS, { ...opts, steps: 64, jacobianFree: true });
  console.log(`  aug faithful K=64 Jacobian-free:  ${fmt(free64)}`);
  inRange("K = 64 obs var ratio", free64.obsVar, 0.95, 1.04, fmt(free64));
  inRange("K = 64 obs mean error", free64.obsMeanErr, 0, 0.08, fmt(free64));
  // without the clip it collapses the observed entries onto the data (iso exact settings)
  const exact = { steps: 256, corrections: 0, clip: false, useFdc: false };
  const collapsed = await runToy("iso", CHAINS, { ...exact, jacobianFree: true });
  console.log(`  iso exact K=256 Jacobian-free:    ${fmt(collapsed)}`);
  assert.ok(collapsed.obsVar < 0.01, `no clip: obs var ratio ${fmt(collapsed)}`);
  inRange("no clip: unobs var ratio", collapsed.unobsVar, 0.95, 1.03, fmt(collapsed));
});

async function priorVariance(variance: number, tMax: number): Promise<{ mean: number; v: number }> {
  const res = await runSampler(
    priorNoise(isotropicGaussianDenoiser(variance)),
    [CHAINS, 1, 1, 8, 8],
    { steps: 256, corrections: 0, seed: 4, tMax },
  );
  let m = 0, v = 0;
  for (const x of res.samples) m += x;
  m /= res.samples.length;
  for (const x of res.samples) v += (x - m) ** 2;
  return { mean: m, v: v / (res.samples.length - 1) };
}

Deno.test("the bare prior samples N(0, v) from t = 1, and the probability-flow image of N(0, σ²) from tMax", async () => {
  // from t = 1: the iso reference row (M = 0, unobserved entries) has var ratio 0.987 at K = 256
  const a = await priorVariance(1, 1);
  console.log(`  prior v = 1 from t = 1: mean ${a.mean.toFixed(4)}, var ${a.v.toFixed(4)}`);
  assert.ok(Math.abs(a.mean) < 5 / Math.sqrt(CHAINS * 64), `mean ${a.mean}`);
  assert.ok(a.v > 0.96 && a.v < 1.01, `var ${a.v}`);
  // from tMax = 0.5, z ~ N(0, σ²) while the prior's marginal is N(0, μ²v + σ²): the linear flow
  // maps it to variance v·σ²/(μ²v + σ²)
  const v = 0.01, t = 0.5, mu = alpha(t), s = sigma(t);
  const want = v * s * s / (mu * mu * v + s * s);
  const b = await priorVariance(v, t);
  console.log(
    `  prior v = 0.01 from tMax = 0.5: var ${b.v.toExponential(4)}, expected ${
      want.toExponential(4)
    }`,
  );
  // K = 256 predictor steps from tMax = 0.5 leave 3 % (measured 0.969); N(0, I) would give 1.33
  assert.ok(Math.abs(b.v / want - 1) < 0.06, `var ${b.v} vs ${want}`);
});
