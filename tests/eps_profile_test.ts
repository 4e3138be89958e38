// epsProfile against the exact denoiser of a Gaussian prior, where the MSEs are known in closed form.
import assert from "node:assert/strict";
import { isotropicGaussianDenoiser } from "../src/assim/gaussian.ts";
import { epsProfile } from "../src/diffusion/eps_profile.ts";
import { alpha, sigma } from "../src/diffusion/schedule.ts";
import { Rng } from "../src/rng.ts";

Deno.test("epsProfile: exact Gaussian denoiser gives MSE μ²/(μ²+σ²) and x̂0 error σ²/(μ²+σ²)", async () => {
  const rng = new Rng(4);
  const shape = [2, 3, 2, 32, 32] as [number, number, number, number, number];
  const z0 = Float32Array.from({ length: 2 * 3 * 2 * 1024 }, () => rng.normal());
  const times = [0.05, 0.3, 0.7, 1];
  const rows = await epsProfile(isotropicGaussianDenoiser(), z0, shape, times, 1);
  for (const r of rows) {
    const m2 = alpha(r.t) ** 2, s2 = sigma(r.t) ** 2;
    const mse = m2 / (m2 + s2), x0 = Math.sqrt(s2 / (m2 + s2));
    for (const v of r.mse) assert.ok(Math.abs(v / mse - 1) < 0.06, `t=${r.t}: mse ${v} vs ${mse}`);
    for (const b of r.bias) assert.ok(Math.abs(b) < 4 * Math.sqrt(mse / 6144) + 1e-6, `bias ${b}`);
    assert.ok(Math.abs(r.x0Rmse / x0 - 1) < 0.03, `t=${r.t}: x0 ${r.x0Rmse} vs ${x0}`);
  }
  await assert.rejects(
    epsProfile(isotropicGaussianDenoiser(), z0, shape, [1.5], 0),
    /times must be in/,
  );
  await assert.rejects(
    epsProfile(isotropicGaussianDenoiser(), z0.subarray(1), shape, [1], 0),
    /z0 has/,
  );
});

Deno.test("eps-profile task: bad --times, --seed and --window are refused before loading (issue 18)", async () => {
  const { runTask } = await import("./task_helpers.ts");
  const ck = "models/sin3x-small/weights.safetensors";
  const cases: [string[], RegExp][] = [
    [["--times", "0.5,1.5"], /--times: times must be in \[0, 1\]/],
    [["--times", "nan"], /--times: times must be in \[0, 1\]/],
    [["--seed", "1e20"], /--seed must be an integer in 0\.\.4294967295/],
    [["--window", "1.5", "--data", "x.zarr"], /--window must be a window index/],
  ];
  for (const [args, re] of cases) {
    const r = await runTask("eps_profile.ts", "--checkpoint", ck, ...args);
    assert.notEqual(r.code, 0, args.join(" "));
    assert.match(r.err, re);
  }
});
