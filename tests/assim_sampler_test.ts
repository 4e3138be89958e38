import assert from "node:assert/strict";
import type { Denoiser, WindowShape } from "../src/diffusion/denoiser.ts";
import { soadCoefficient, soadNoise } from "../src/assim/soad.ts";
import { sdaCoefficient, sdaNoise } from "../src/assim/sda.ts";
import { fdcActiveSteps } from "../src/assim/fdc.ts";
import { runSampler } from "../src/assim/sampler.ts";
import { assimilate } from "../src/assim/assimilate.ts";
import { augmentedIdentityDenoiser, isotropicGaussianDenoiser } from "../src/assim/gaussian.ts";
import type { PosteriorNoise } from "../src/assim/score.ts";
import { type Observation, observe } from "../src/obs/observe.ts";
import { randomMask, strideMask } from "../src/obs/mask.ts";
import { arctan3x, sin3x } from "../src/obs/pointwise.ts";
import { vor2vel } from "../src/obs/vor2vel.ts";
import { augmentedLayout } from "../src/obs/layout.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { Rng } from "../src/rng.ts";

/** A nonlinear test denoiser ε̂ = 0.7 tanh(z) + 0.3 roll(z, 1)·k(t) with its exact VJP. */
function nonlinearDenoiser(): Denoiser {
  const f = (z: Float32Array, t: number): Float32Array => {
    const k = 1 + t;
    return z.map((v, i) => 0.7 * Math.tanh(v) + 0.3 * k * z[(i + 1) % z.length]);
  };
  return {
    denoise: (z, _s, t): Promise<Float32Array> => Promise.resolve(f(z, t[0])),
    denoiseVjp: (z, _s, t, w) => {
      const k = 1 + t[0], n = z.length;
      const grad = z.map((v, i) =>
        0.7 * (1 - Math.tanh(v) ** 2) * w[i] + 0.3 * k * w[(i - 1 + n) % n]
      );
      return Promise.resolve({ eps: f(z, t[0]), grad });
    },
  };
}

async function checkGradient(noise: PosteriorNoise, shape: WindowShape, t: number, seed: number) {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const z = Float32Array.from({ length: n }, () => 0.5 * rng.normal());
  const v = Float32Array.from({ length: n }, () => rng.normal());
  const r = await noise.evaluate(z, shape, t);
  let an = 0;
  for (let i = 0; i < n; i++) an += r.g![i] * v[i];
  const h = 1e-3;
  const lp = (await noise.evaluate(z.map((x, i) => x + h * v[i]), shape, t)).stats.loss[0];
  const lm = (await noise.evaluate(z.map((x, i) => x - h * v[i]), shape, t)).stats.loss[0];
  const fd = (lp - lm) / (2 * h);
  assert.ok(
    Math.abs(fd - an) < 2e-3 * Math.max(1, Math.abs(an)),
    `${noise.method}: fd ${fd} vs ${an}`,
  );
}

Deno.test("assim: coefficients and the FDC active-step count match the spec", () => {
  assert.ok(Math.abs(soadCoefficient(0.5, 0.1) - 1.854) < 1e-3);
  assert.ok(Math.abs(soadCoefficient(0.1, 0.1) - 0.431) < 1e-3);
  assert.ok(Math.abs(soadCoefficient(0.05, 0.1) - 0.274) < 1e-3);
  assert.ok(Math.abs(sdaCoefficient(0.5, 0.1) - 4.83) < 1e-2);
  assert.ok(Math.abs(sdaCoefficient(0.1, 0.1) - 1.64) < 1e-2);
  assert.equal(fdcActiveSteps(256, 0.1), 244);
});

Deno.test("assim: G_SOAD and G_SDA gradients equal ∇ℒ by finite differences (nonlinear net, H)", async () => {
  const n = 8, L = 3, R = n * n, rng = new Rng(1);
  const x = Float32Array.from({ length: L * 2 * R }, () => rng.normal());
  const den = nonlinearDenoiser();
  const mk = (op: typeof sin3x, k: number): Observation =>
    observe(x, L, n, n, {
      operator: op,
      mask: randomMask(n, n, 0.5, rng),
      interval: 2,
      rng: new Rng(k),
    });
  const obs = [mk(arctan3x, 1), mk(sin3x, 2), mk(vor2vel, 3)];
  for (const t of [0.3, 0.8]) {
    await checkGradient(sdaNoise(den, obs, { clip: false }), [1, L, 2, n, n], t, 4);
    const { planObservations } = await import("../src/assim/plan.ts");
    const planned = planObservations(obs, augmentedLayout("full"), {
      frames: L,
      channels: 10,
      height: n,
      width: n,
    });
    await checkGradient(soadNoise(den, planned, { clip: false }), [1, L, 10, n, n], t, 5);
  }
});

Deno.test("assim: the sampler is deterministic per seed; NaN guard stops one sample only", async () => {
  const obs = [{ index: new Int32Array([64, 70]), y: new Float32Array([1, -1]), sigma: 0.1 }];
  const noise = soadNoise(augmentedIdentityDenoiser(), obs);
  const opts = { steps: 16, seed: 3, fdc: { observations: obs } };
  const a = await runSampler(noise, [3, 1, 2, 8, 8], opts);
  const b = await runSampler(noise, [3, 1, 2, 8, 8], opts);
  assert.deepEqual(a.samples, b.samples);
  assert.equal(a.evaluations, 17);
  const c = await runSampler(noise, [3, 1, 2, 8, 8], { ...opts, seed: 4 });
  assert.notDeepEqual(a.samples, c.samples);
  const r = await runSampler(noise, [3, 1, 2, 8, 8], { ...opts, refresh: true, corrections: 2 });
  assert.equal(r.evaluations, 1 + 16 * 3);
  // a denoiser that breaks window 1 below t = 0.5
  const base = augmentedIdentityDenoiser();
  const broken: Denoiser = {
    denoise: async (z, s, t) => {
      const e = await base.denoise(z, s, t);
      if (t[0] < 0.5) e.fill(NaN, 128, 256);
      return e;
    },
    denoiseVjp: (z, s, t, w) => base.denoiseVjp(z, s, t, w),
  };
  const bad = await runSampler(soadNoise(broken, obs), [3, 1, 2, 8, 8], opts);
  assert.deepEqual(bad.reports.map((x) => x.completed), [true, false, true]);
  assert.match(bad.reports[1].message!, /sample 1 has non-finite values at the start of step \d+/);
  assert.ok(bad.samples.subarray(0, 128).every(Number.isFinite));
  assert.ok(bad.samples.subarray(256).every(Number.isFinite));
});

Deno.test("assim: assimilate (SOAD with background, SDA) and its input errors", async () => {
  const L = 3, n = 8, R = n * n, rng = new Rng(2);
  const truth = Float32Array.from({ length: L * 2 * R }, () => rng.normal());
  const o = observe(truth, L, n, n, { operator: sin3x, mask: strideMask(n, n, 2), rng });
  const bg = truth.slice(0, 2 * R);
  const common = { observations: [o], frames: L, steps: 8, samples: 3, seed: 1, truth };
  const soad = await assimilate({
    ...common,
    denoiser: augmentedIdentityDenoiser(),
    method: "soad",
    background: bg,
  });
  assert.deepEqual(soad.shape, [3, L, 4, n, n]);
  assert.equal(soad.layout.name, "sin3x");
  assert.equal(soad.rmseMean!.length, L);
  assert.equal(soad.rmseSamples!.length, 3);
  assert.equal(soad.mean.length, L * 2 * R);
  const sda = await assimilate({ ...common, denoiser: isotropicGaussianDenoiser(), method: "sda" });
  assert.deepEqual(sda.shape, [3, L, 2, n, n]);
  assert.ok(sda.reports.every((r) => r.completed));
  const den = isotropicGaussianDenoiser();
  const bad = (obs: Observation, extra = {}) =>
    assert.rejects(
      () => assimilate({ denoiser: den, observations: [obs], method: "soad", frames: L, ...extra }),
      InvalidArgumentError,
    );
  await bad({ ...o, values: o.values.map((v, i) => (i === 3 ? NaN : v)) });
  await bad({ ...o, values: o.values.subarray(1) });
  await bad({ ...o, frames: [0, 5] });
  await bad(o, { layout: augmentedLayout("arctan3x") }); // model trained for another operator
  await bad({ ...o, mask: strideMask(16, 16, 2) });
  await bad({ ...o, mask: { height: n, width: n, indices: new Int32Array(0) } });
});
