// The forward-diffusion corrector (spec §5.1) by its moments over many draws: observed entries
// ~ N(μ y, μ²(r² − σo²)), background entries ~ N(μ x_b, μ²(r² − σb²)), everything else untouched;
// and an analytic toy WITH a background against its exact posterior.
import assert from "node:assert/strict";
import { applyFdc, backgroundObservation } from "../src/assim/fdc.ts";
import { augmentedIdentityDenoiser } from "../src/assim/gaussian.ts";
import { NormalSource } from "../src/assim/normal.ts";
import { runSampler } from "../src/assim/sampler.ts";
import { soadNoise } from "../src/assim/soad.ts";
import { alpha, sigma } from "../src/diffusion/schedule.ts";
import { Rng } from "../src/rng.ts";
import { describe, exactIndependent, groupStats } from "./assim_posterior.ts";

/** The diffusion time at which r = σ/μ equals `r` (bisection; r is increasing in t). */
function timeAtRatio(r: number): number {
  let lo = 0, hi = 0.99;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (sigma(mid) / alpha(mid) < r) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

const SENTINEL = 7;

Deno.test("FDC: observed and background entries have mean μ·y / μ·x_b and variance μ²(r² − σ²)", () => {
  const per = 24, batch = 8000;
  const obs = [{
    index: new Int32Array([10, 13, 17, 22]),
    y: new Float32Array([0.5, -1.2, 2, 0.1]),
    sigma: 0.1,
  }];
  const bg = { values: Float32Array.from({ length: 8 }, (_, i) => (i - 3.5) / 2), sigma: 0.2 };
  const touched = new Set<number>([...obs[0].index, ...bg.values.keys()]);
  const t = timeAtRatio(0.3), mu = alpha(t), r = sigma(t) / mu;
  const z = new Float32Array(batch * per).fill(SENTINEL);
  const active = new Uint8Array(batch).fill(1);
  active[5] = 0;
  const n = applyFdc(
    z,
    batch,
    per,
    t,
    { observations: obs, background: bg },
    new NormalSource(1),
    active,
  );
  assert.equal(n, 2);
  assert.ok(
    z.subarray(5 * per, 6 * per).every((v) => v === SENTINEL),
    "an inactive sample changed",
  );
  const moments = (i: number) => {
    let m = 0, m2 = 0, k = 0;
    for (let b = 0; b < batch; b++) {
      if (!active[b]) continue;
      m += z[b * per + i];
      k++;
    }
    m /= k;
    for (let b = 0; b < batch; b++) if (active[b]) m2 += (z[b * per + i] - m) ** 2;
    return { m, v: m2 / (k - 1), k };
  };
  const check = (i: number, target: number, so: number) => {
    const { m, v, k } = moments(i);
    const variance = mu * mu * (r * r - so * so);
    assert.ok(
      Math.abs(m - mu * target) < 5 * Math.sqrt(variance / k),
      `entry ${i}: mean ${m}, expected μ·${target} = ${mu * target}`,
    );
    return v / variance;
  };
  // the variance ratio pooled over a group (relative sd √(2/k)/√entries): r = 0.3 makes the
  // r² − σ² term matter (σb = 0.2: 0.05 instead of r² = 0.09)
  const ratios = (entries: number[], target: (i: number) => number, so: number) =>
    entries.reduce((a, i) => a + check(i, target(i), so), 0) / entries.length;
  const o = ratios([...obs[0].index], (i) => obs[0].y[obs[0].index.indexOf(i)], obs[0].sigma);
  const b = ratios([...bg.values.keys()], (i) => bg.values[i], bg.sigma);
  assert.ok(Math.abs(o - 1) < 5 * Math.sqrt(2 / (batch * 4)), `observed variance ratio ${o}`);
  assert.ok(Math.abs(b - 1) < 5 * Math.sqrt(2 / (batch * 8)), `background variance ratio ${b}`);
  for (let i = 0; i < per; i++) {
    if (touched.has(i)) continue;
    for (let s = 0; s < batch; s++) assert.equal(z[s * per + i], SENTINEL, `entry ${i} changed`);
  }

  // between σo and σb only the observations are replaced
  const t2 = timeAtRatio(0.15);
  const z2 = new Float32Array(4 * per).fill(SENTINEL);
  assert.equal(
    applyFdc(z2, 4, per, t2, { observations: obs, background: bg }, new NormalSource(2)),
    1,
  );
  for (let s = 0; s < 4; s++) {
    for (let i = 0; i < per; i++) {
      const changed = z2[s * per + i] !== SENTINEL;
      assert.equal(changed, obs[0].index.includes(i), `t2: entry ${i}`);
    }
  }
  // below both: nothing
  const z3 = new Float32Array(per).fill(SENTINEL);
  assert.equal(
    applyFdc(
      z3,
      1,
      per,
      timeAtRatio(0.05),
      { observations: obs, background: bg },
      new NormalSource(3),
    ),
    0,
  );
  assert.ok(z3.every((v) => v === SENTINEL));
});

/**
 * The background toy: z = [x (2 channels), H(x) = x (2 channels)] on 4×4, x ~ N(0, I); a
 * background x_b = x + 0.1ξ on every x entry (frame 0, channels 0..1: what the FDC overwrites) and
 * y = x + 0.1ξ at 6 points × 2 channels on the copy. Exact posterior: independent entries
 * (exactIndependent). Returns the background-only and background + observation groups.
 */
async function backgroundToy(steps: number, backgroundInLikelihood: boolean) {
  const H = 4, W = 4, R = H * W, per = 4 * R, chains = 1500;
  const rng = new Rng(21);
  const x = Float32Array.from({ length: 2 * R }, () => rng.normal());
  const sb = 0.1, so = 0.1;
  const xb = x.map((v) => v + sb * rng.normal());
  const pts = rng.permutation(R).slice(0, 6).sort();
  const index = new Int32Array(2 * pts.length), y = new Float32Array(2 * pts.length);
  for (let c = 0; c < 2; c++) {
    pts.forEach((p, j) => {
      index[c * pts.length + j] = (2 + c) * R + p;
      y[c * pts.length + j] = x[c * R + p] + so * rng.normal();
    });
  }
  const obs = [{ index, y, sigma: so }];
  const background = { values: xb, sigma: sb };
  const looks = backgroundInLikelihood ? [...obs, backgroundObservation(background)] : obs;
  const res = await runSampler(
    soadNoise(augmentedIdentityDenoiser(), looks),
    [chains, 1, 4, H, W],
    {
      steps,
      corrections: 5,
      fdc: { observations: obs, background },
      seed: 9,
    },
  );
  assert.ok(res.reports.every((r) => r.completed));
  const observed = new Map<number, number>();
  for (let c = 0; c < 2; c++) pts.forEach((p, j) => observed.set(c * R + p, y[c * pts.length + j]));
  const both = [], bgOnly = [];
  for (let i = 0; i < 2 * R; i++) {
    const looks = [{ y: xb[i], sigma: sb }];
    if (observed.has(i)) {
      both.push(exactIndependent(i, [...looks, { y: observed.get(i)!, sigma: so }]));
    } else bgOnly.push(exactIndependent(i, looks));
  }
  const a = groupStats(res.samples, chains, per, bgOnly);
  const b = groupStats(res.samples, chains, per, both);
  return {
    a,
    b,
    msg: `${describe("background only", a)}; ${describe("background + observation", b)}`,
  };
}

Deno.test("SOAD with a background (aug toy, FDC, M = 5, clip, K = 64) against its exact posterior", async () => {
  // The background enters only through the FDC, which stops at r = σb; the stale Langevin moves
  // after that, coupled to the unobserved copy, over-disperse the background-only entries: 1.45×
  // the exact variance at K = 64, 2.5× at K = 128, 4.7× at K = 256 (measured, the method as
  // specified, not a port bug). The test pins the K = 64 behaviour.
  const { a, b, msg } = await backgroundToy(64, false);
  console.log(`  ${msg}`);
  assert.ok(a.meanErr < 0.12, msg);
  assert.ok(a.varRatio > 1.3 && a.varRatio < 1.6, msg);
  assert.ok(b.meanErr < 0.45, msg);
  assert.ok(b.varRatio > 1 && b.varRatio < 1.25, msg);
});

Deno.test("SOAD with the background in the likelihood stays calibrated as K grows (aug toy)", async () => {
  // The same toy with the background also in ℒ (backgroundObservation): the score knows the
  // background after the FDC stops, so the stale moves no longer over-disperse it. Measured:
  // background only 0.86 / 1.18 / 1.24× the exact variance at K = 64 / 128 / 256 (FDC only: 1.45 /
  // 2.5 / 4.6×), background + observation 0.97 / 1.23 / 1.15× (FDC only: 1.12 / 1.96 / 2.4×).
  for (const K of [128, 256]) {
    const spec = await backgroundToy(K, false);
    const { a, b, msg } = await backgroundToy(K, true);
    console.log(`  K = ${K}: ${msg}`);
    assert.ok(spec.a.varRatio > 2, `K = ${K}, FDC only: ${spec.msg}`);
    assert.ok(a.meanErr < 0.12 && b.meanErr < 0.12, msg);
    assert.ok(a.varRatio > 0.8 && a.varRatio < 1.4, msg);
    assert.ok(b.varRatio > 0.8 && b.varRatio < 1.4, msg);
  }
});

Deno.test("backgroundObservation observes exactly the entries the FDC overwrites", () => {
  const values = Float32Array.from([0.3, -1.2, 0.7, 2.5, -0.4, 0.1]); // [2, H, W] with HW = 3
  const bg = { values, sigma: 0.2 };
  const o = backgroundObservation(bg);
  assert.equal(o.sigma, 0.2);
  assert.deepEqual([...o.y], [...values]);
  const per = 12, z = new Float32Array(per).fill(SENTINEL);
  applyFdc(z, 1, per, timeAtRatio(0.5), { observations: [], background: bg }, new NormalSource(4));
  const written = [...z.keys()].filter((i) => z[i] !== SENTINEL);
  assert.deepEqual([...o.index], written);
});
