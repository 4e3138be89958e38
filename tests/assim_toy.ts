// Shared set-up of the analytic sampler tests (tests/fixtures/spec/SAMPLER_ANALYTIC.md).
import type { Denoiser } from "../src/diffusion/denoiser.ts";
import { augmentedIdentityDenoiser, isotropicGaussianDenoiser } from "../src/assim/gaussian.ts";
import { runSampler, type SamplerOptions } from "../src/assim/sampler.ts";
import { soadNoise } from "../src/assim/soad.ts";
import type { PlannedObservation } from "../src/assim/plan.ts";
import { Rng } from "../src/rng.ts";

export const N = 64;
export const N_OBS = 16;
export const SIGMA_O = 0.1;

/** Summary of the sampled marginals against the exact (Kalman) posterior. */
export interface ToyStats {
  obsMeanErr: number;
  obsVar: number;
  obsVarMin: number;
  obsVarMax: number;
  unobsMeanErr: number;
  unobsVar: number;
  unobsVarMin: number;
  unobsVarMax: number;
  seconds: number;
  stopped: number;
}

/** The toy problem: a fixed random subset of 16 of 64 entries, y = x_true + 0.1 noise. */
export function toyProblem(seed: number): { obs: Int32Array; y: Float32Array } {
  const rng = new Rng(1000 + seed);
  const obs = rng.permutation(N).slice(0, N_OBS).sort();
  const y = Float32Array.from(obs, () => rng.normal() + SIGMA_O * rng.normal());
  return { obs, y };
}

/**
 * Runs `chains` chains of the iso (C = 1) or aug (C = 2, observations on the H(x) copy) toy and
 * compares x's marginals to the exact posterior of x ~ N(0, I) observed at `obs` with σo = 0.1.
 */
export async function runToy(
  prior: "iso" | "aug",
  chains: number,
  options: SamplerOptions & { clip: boolean; useFdc: boolean; jacobianFree?: boolean },
  seed = 0,
): Promise<ToyStats> {
  const { obs, y } = toyProblem(seed);
  const C = prior === "iso" ? 1 : 2;
  const offset = prior === "iso" ? 0 : N;
  const planned: PlannedObservation = {
    index: Int32Array.from(obs, (i) => offset + i),
    y,
    sigma: SIGMA_O,
  };
  const den: Denoiser = prior === "iso" ? isotropicGaussianDenoiser() : augmentedIdentityDenoiser();
  const noise = soadNoise(den, [planned], {
    clip: options.clip,
    jacobianFree: options.jacobianFree,
  });
  const t0 = performance.now();
  const res = await runSampler(noise, [chains, 1, C, 8, 8], {
    ...options,
    fdc: options.useFdc ? { observations: [planned] } : undefined,
    seed: 7 + seed,
  });
  const seconds = (performance.now() - t0) / 1000;
  const per = C * N;
  const postVar = (SIGMA_O ** 2) / (1 + SIGMA_O ** 2);
  const isObs = new Map<number, number>();
  obs.forEach((i, k) => isObs.set(i, y[k] / (1 + SIGMA_O ** 2)));
  const o = { err: 0, vs: [] as number[] }, u = { err: 0, vs: [] as number[] };
  for (let i = 0; i < N; i++) {
    let m = 0, m2 = 0;
    for (let c = 0; c < chains; c++) m += res.samples[c * per + i];
    m /= chains;
    for (let c = 0; c < chains; c++) m2 += (res.samples[c * per + i] - m) ** 2;
    const v = m2 / (chains - 1);
    const exactMean = isObs.get(i) ?? 0, exactVar = isObs.has(i) ? postVar : 1;
    const acc = isObs.has(i) ? o : u;
    acc.err += (m - exactMean) ** 2 / exactVar;
    acc.vs.push(v / exactVar);
  }
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  return {
    obsMeanErr: Math.sqrt(o.err / o.vs.length),
    obsVar: mean(o.vs),
    obsVarMin: Math.min(...o.vs),
    obsVarMax: Math.max(...o.vs),
    unobsMeanErr: Math.sqrt(u.err / u.vs.length),
    unobsVar: mean(u.vs),
    unobsVarMin: Math.min(...u.vs),
    unobsVarMax: Math.max(...u.vs),
    seconds,
    stopped: res.reports.filter((r) => !r.completed).length,
  };
}

export function fmt(s: ToyStats): string {
  const f = (v: number) => v.toFixed(3);
  return `obs err ${f(s.obsMeanErr)} var ${f(s.obsVar)} [${f(s.obsVarMin)}, ${f(s.obsVarMax)}] | ` +
    `unobs err ${f(s.unobsMeanErr)} var ${f(s.unobsVar)} [${f(s.unobsVarMin)}, ${
      f(s.unobsVarMax)
    }]` +
    ` | ${s.seconds.toFixed(1)} s`;
}
