// The Jacobian-free SOAD option: g = −2 Pᵀ R with no vector–Jacobian product, so a forward-only
// denoiser (the onnxruntime engine) can run SOAD; the full term adds exactly J_ε̂ᵀ w.
import assert from "node:assert/strict";
import type { Denoiser } from "../src/diffusion/denoiser.ts";
import { alpha, sigma } from "../src/diffusion/schedule.ts";
import { isotropicGaussianDenoiser } from "../src/assim/gaussian.ts";
import { soadNoise } from "../src/assim/soad.ts";

const exact = isotropicGaussianDenoiser();
const forwardOnly: Denoiser = {
  denoise: exact.denoise,
  denoiseVjp: () => Promise.reject(new Error("forward-only: no VJP")),
};
const obs = [{ index: new Int32Array([0, 2]), y: new Float32Array([0.7, -0.4]), sigma: 0.1 }];
const z = new Float32Array([0.3, -1.2, 0.9, 0.1]);
const shape: [number, number, number, number, number] = [1, 1, 4, 1, 1];

Deno.test("jacobian-free SOAD: g = −2 Pᵀ R and no VJP is asked for", async () => {
  const t = 0.3, mu = alpha(t), s = sigma(t);
  const r = await soadNoise(forwardOnly, obs, { jacobianFree: true, clip: false })
    .evaluate(z, shape, t);
  assert.ok(r.g);
  const eps = await exact.denoise(z, shape, new Float32Array([t]));
  const want = [0, 0, 0, 0];
  obs[0].index.forEach((i, j) => (want[i] = -2 * (mu * obs[0].y[j] - z[i] + s * eps[i])));
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(r.g[i] - want[i]) < 1e-6, `g[${i}]`);
  await assert.rejects(soadNoise(forwardOnly, obs).evaluate(z, shape, t), /forward-only/);
});

Deno.test("jacobian-free SOAD differs from the full term by exactly J_ε̂ᵀ w", async () => {
  const t = 0.3, s = sigma(t), mu = alpha(t);
  const free = await soadNoise(exact, obs, { jacobianFree: true, clip: false }).evaluate(
    z,
    shape,
    t,
  );
  const full = await soadNoise(exact, obs, { clip: false }).evaluate(z, shape, t);
  assert.ok(free.g && full.g);
  // isotropic prior: J_ε̂ = σ/(μ² + σ²) I, and w = 2σ Pᵀ R = −σ g_free
  const j = s / (mu * mu + s * s);
  for (let i = 0; i < 4; i++) {
    const jw = j * (-s * free.g[i]);
    assert.ok(Math.abs(full.g[i] - (free.g[i] + jw)) < 1e-5, `g[${i}]`);
  }
});
