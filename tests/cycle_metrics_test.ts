import assert from "node:assert/strict";
import { crps, crpsGaussian, rankHistogram } from "../src/assim/metrics.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { Rng } from "../src/rng.ts";

Deno.test("cycle metrics: CRPS of a Gaussian ensemble against the closed form", () => {
  const rng = new Rng(11), S = 4000;
  // outcomes at several standardised distances from the forecast mean
  for (const [mu, sigma, y] of [[0, 1, 0], [1, 0.5, 2.2], [-3, 2, 1], [0, 0.1, -0.05]]) {
    const ens = Float64Array.from({ length: S }, () => mu + sigma * rng.normal());
    const fair = crps(ens, [y], S, true), closed = crpsGaussian(mu, sigma, y);
    // Monte-Carlo error of the fair CRPS with 4000 members: well below 3 % of σ here
    assert.ok(
      Math.abs(fair - closed) < 0.03 * sigma,
      `N(${mu}, ${sigma}²), y = ${y}: ${fair} vs ${closed}`,
    );
  }
  // closed-form checks: CRPS(N(0,1), 0) = (√2 − 1)/√π; σ = 0 is the absolute error
  assert.ok(Math.abs(crpsGaussian(0, 1, 0) - (Math.SQRT2 - 1) / Math.sqrt(Math.PI)) < 1e-15);
  assert.equal(crpsGaussian(1, 0, 3), 2);
  // far from the mean CRPS → |y − μ| − σ/√π
  assert.ok(Math.abs(crpsGaussian(0, 1, 8) - (8 - 1 / Math.sqrt(Math.PI))) < 1e-12);
  assert.throws(() => crpsGaussian(0, -1, 0), InvalidArgumentError);
});

Deno.test("cycle metrics: rank histogram of a calibrated ensemble is flat within sampling error", () => {
  const rng = new Rng(3), S = 9, n = 20000;
  const truth = Float64Array.from({ length: n }, () => rng.normal());
  const ens = Float64Array.from({ length: S * n }, () => rng.normal());
  const h = rankHistogram(ens, truth, S);
  assert.equal(h.length, S + 1);
  assert.equal(h.reduce((a, b) => a + b, 0), n);
  // χ² with S = 9 degrees of freedom: P(χ² > 27.9) = 0.001
  const e = n / (S + 1), chi2 = h.reduce((a, c) => a + (c - e) ** 2 / e, 0);
  assert.ok(chi2 < 27.9, `χ² = ${chi2.toFixed(1)} for ${h}`);
  // an under-dispersed ensemble (half the spread) is not flat: a U shape
  const narrow = ens.map((v) => 0.5 * v);
  const u = rankHistogram(narrow, truth, S);
  const chiU = u.reduce((a, c) => a + (c - e) ** 2 / e, 0);
  assert.ok(chiU > 1000 && u[0] > 2 * e && u[S] > 2 * e && u[5] < e, `U shape expected: ${u}`);
  // ties count half below; accumulation into an existing histogram
  assert.deepEqual(rankHistogram([1, 1], [1], 2), [0, 1, 0]);
  const acc = [0, 0, 0];
  rankHistogram([0, 2], [1], 2, acc);
  rankHistogram([0, 2], [3], 2, acc);
  assert.deepEqual(acc, [0, 1, 1]);
  assert.throws(() => rankHistogram([0, 1], [0], 2, [0]), /bins/);
});
