// The VP cosine schedule against the values spec §4.2 lists.
import assert from "node:assert/strict";
import { alpha, sigma, snrRatio, timeGrid } from "../src/diffusion/schedule.ts";

Deno.test("schedule endpoints and r = σ/μ at the spec's sample times", () => {
  assert.equal(alpha(0), 1);
  assert.ok(Math.abs(sigma(0) - 1e-3) < 1e-15);
  assert.ok(Math.abs(alpha(1) - 1e-3) < 1e-15);
  assert.ok(Math.abs(sigma(1) - 1) < 1e-15);
  const want: [number, number][] = [[0.05, 0.109], [0.1, 0.221], [0.5, 1.66], [0.9, 29.4], [
    1,
    1000,
  ]];
  for (const [t, r] of want) {
    assert.ok(Math.abs(snrRatio(t) - r) / r < 5e-3, `r(${t}) = ${snrRatio(t)}, spec ${r}`);
  }
  // VP: α² + σ² = 1 + η²
  for (const t of [0, 0.3, 0.7, 1]) {
    assert.ok(Math.abs(alpha(t) ** 2 + sigma(t) ** 2 - 1 - 1e-6) < 1e-14);
  }
});

Deno.test("schedule: the corrector is active (r > σo = 0.1) on 244 of 256 steps", () => {
  const t = timeGrid(256);
  let active = 0;
  for (let i = 1; i <= 256; i++) if (snrRatio(t[i]) > 0.1) active++;
  assert.equal(active, 244);
  assert.throws(() => timeGrid(0), RangeError);
  // a grid started below 1 is the spec's grid scaled: tMax·(1 − i/K)
  assert.deepEqual(Array.from(timeGrid(4, 0.8)), [0.8, 0.6000000000000001, 0.4, 0.2, 0]);
  assert.deepEqual(timeGrid(256, 1), t);
  assert.throws(() => timeGrid(4, 0), RangeError);
  assert.throws(() => timeGrid(4, 1.5), RangeError);
});
