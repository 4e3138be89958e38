import assert from "node:assert/strict";
import {
  anomalyStats,
  crps,
  ensembleStats,
  rmsePerFrame,
  spreadSkillRatio,
  stateChannels,
} from "../src/assim/metrics.ts";
import { Rng } from "../src/rng.ts";
import { InvalidArgumentError } from "../src/errors.ts";

Deno.test("metrics: RMSE per frame, ensemble mean/spread, state channels", () => {
  assert.deepEqual(rmsePerFrame([3, 4, 0, 0], [0, 0, 0, 0], 2), [Math.sqrt(12.5), 0]);
  assert.throws(() => rmsePerFrame([1, 2, 3], [1, 2, 3], 2), InvalidArgumentError);
  const s = ensembleStats([1, 2, 3, 4, NaN, 0], 3);
  assert.equal(s.members, 2);
  assert.deepEqual(Array.from(s.mean), [2, 3]);
  assert.ok(Math.abs(s.spread[0] - Math.SQRT2) < 1e-6);
  const z = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i); // [S=2, L=3, C=4, 1, 1]
  assert.deepEqual(Array.from(stateChannels(z, [2, 3, 4, 1, 1])), [
    0,
    1,
    4,
    5,
    8,
    9,
    12,
    13,
    16,
    17,
    20,
    21,
  ]);
});

Deno.test("metrics: spread–skill ≈ 1 and CRPS of a calibrated Gaussian ensemble", () => {
  const rng = new Rng(5), S = 20, n = 20000;
  const truth = new Float64Array(n), ens = new Float64Array(S * n);
  for (let i = 0; i < n; i++) {
    const c = rng.normal(); // centre ~ N(0,1); truth and members ~ N(c, 1)
    truth[i] = c + rng.normal();
    for (let m = 0; m < S; m++) ens[m * n + i] = c + rng.normal();
  }
  const ssr = spreadSkillRatio(ens, truth, S);
  assert.ok(Math.abs(ssr - 1) < 0.03, `ssr ${ssr}`);
  // CRPS of N(μ, 1) against its own draws: E = 1/√π ≈ 0.5642 (fair estimator unbiased)
  const c = crps(ens, truth, S, true);
  assert.ok(Math.abs(c - 1 / Math.sqrt(Math.PI)) < 0.01, `crps ${c}`);
  assert.ok(crps(ens, truth, S) > c); // the standard form subtracts less spread (1/S² vs 1/(S(S−1)))
  // deterministic ensemble: CRPS = MAE
  assert.equal(crps([1, 1], [0, 3], 1), 1.5);
  // brute force pairwise term
  const x = [0.3, -1, 2, 0.5], y = [0.1];
  let a = 0, p = 0;
  for (const xi of x) a += Math.abs(xi - y[0]);
  for (const xi of x) for (const xj of x) p += Math.abs(xi - xj);
  assert.ok(Math.abs(crps(x, y, 4) - (a / 4 - p / 32)) < 1e-12);
  assert.throws(() => spreadSkillRatio([1, 2], [0, 0], 1), InvalidArgumentError);
});

Deno.test("metrics: anomaly amplitude and correlation split the MSE; a damped sample beats a full one", () => {
  const rng = new Rng(11), L = 3, R = 500, n = L * 2 * R, mean = [0.4, -0.2];
  const layer = (i: number) => Math.floor(i / R) % 2;
  const truth = new Float64Array(n), full = new Float64Array(n), damped = new Float64Array(n);
  const rho = 0.5;
  for (let i = 0; i < n; i++) {
    const t = rng.normal(), e = rho * t + Math.sqrt(1 - rho * rho) * rng.normal();
    truth[i] = mean[layer(i)] + t;
    full[i] = mean[layer(i)] + e; // a posterior sample: the truth's amplitude, correlation ρ
    damped[i] = mean[layer(i)] + rho * e; // the same sample scaled by ρ
  }
  const f = anomalyStats(full, truth, mean, R), d = anomalyStats(damped, truth, mean, R);
  assert.ok(
    Math.abs(f.amplitude - 1) < 0.03 && Math.abs(f.correlation - rho) < 0.03,
    JSON.stringify(f),
  );
  assert.ok(Math.abs(d.amplitude - rho) < 0.02 && Math.abs(d.correlation - f.correlation) < 1e-9);
  // MSE = s²(a² + 1 − 2aρ), s² = mean squared truth anomaly
  let s2 = 0;
  for (let i = 0; i < n; i++) s2 += (truth[i] - mean[layer(i)]) ** 2 / n;
  for (const [x, st] of [[full, f], [damped, d]] as const) {
    const mse = rmsePerFrame(x, truth, L).reduce((a, r) => a + r * r, 0) / L;
    const want = s2 * (st.amplitude ** 2 + 1 - 2 * st.amplitude * st.correlation);
    assert.ok(Math.abs(mse - want) < 1e-9 * n, `mse ${mse} vs ${want}`);
  }
  // the damped copy of the same sample has the lower RMSE (≈ √(1 − ρ²) vs ≈ √(2 − 2ρ))
  const rm = (x: ArrayLike<number>) => rmsePerFrame(x, truth, L).reduce((a, b) => a + b) / L;
  assert.ok(rm(damped) < rm(full) - 0.1, `damped ${rm(damped)} vs full ${rm(full)}`);
  assert.equal(anomalyStats([0, 0], [1, -1], [0, 0], 1).correlation, 0);
  assert.throws(() => anomalyStats([1], [1, 2], [0, 0], 1), InvalidArgumentError);
  assert.throws(() => anomalyStats([1, 2], [0, 0], [0, 0], 1), /no anomaly/);
});

Deno.test("metrics: spread–skill by hand with the (1 + 1/S) finite-ensemble factor", () => {
  // one entry, members 0 and 2, truth 3: mean 1, sample spread² 2, error² 4 → √(1.5·2)/√4
  assert.ok(Math.abs(spreadSkillRatio([0, 2], [3], 2) - Math.sqrt(3) / 2) < 1e-6);
  // two entries, three members: spread² (1, 4), errors (1, −2) → √((4/3)·2.5)/√2.5
  const r = spreadSkillRatio([0, 0, 1, 2, 2, 4], [2, 4], 3);
  assert.ok(Math.abs(r - Math.sqrt(4 / 3 * 2.5) / Math.sqrt(2.5)) < 1e-6, `${r}`); // spread is float32
});
