import assert from "node:assert/strict";
import {
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
