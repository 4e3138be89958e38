/**
 * One SOAD sampler step on wasm with the U-Net at the paper's widths (16, 32, 64), 3 blocks,
 * kernel 5, for the arctan3x model (C = 4, L = 9), observations p = 0.25, N = 1: Π evaluation
 * (ε̂ forward + the VJP through the network), the exponential-integrator predictor, the FDC and
 * M = 5 stale Langevin moves with their FDCs — at grids 32² and 64², batch (ensemble) 1 and 8.
 *
 *     deno bench -A bench/sampler.bench.ts                       # n = 3, warmup = 1 per case
 *     SAMPLER_ESTIMATE=1 deno run -A bench/sampler.bench.ts      # one timed step per case and
 *                                                                # seconds per assimilation
 *
 * An assimilation of one window makes K + 1 Π evaluations (K steps), so it takes about
 * (K + 1) × one step: the estimate mode prints that for K = 64 and K = 256.
 */
import { defaultThreads, selectBackend } from "../src/backend/select.ts";
import type { WindowShape } from "../src/diffusion/denoiser.ts";
import { alpha, sigma } from "../src/diffusion/schedule.ts";
import { createUNet } from "../src/diffusion/unet.ts";
import { paperUNetConfig } from "../src/diffusion/unet_config.ts";
import { applyFdc } from "../src/assim/fdc.ts";
import { NormalSource } from "../src/assim/normal.ts";
import { planObservations } from "../src/assim/plan.ts";
import { soadNoise } from "../src/assim/soad.ts";
import { augmentedLayout } from "../src/obs/layout.ts";
import { randomMask } from "../src/obs/mask.ts";
import { observe } from "../src/obs/observe.ts";
import { arctan3x } from "../src/obs/pointwise.ts";
import { Rng } from "../src/rng.ts";

const backend = await selectBackend({ prefer: "wasm", quiet: true, threads: defaultThreads() });
const L = 9, M = 5, TAU = 0.25;
const layout = augmentedLayout("arctan3x");
const C = layout.channels;
const net = await createUNet(paperUNetConfig(C), { seed: 1 });

/** A closure doing one sampler step (t = 0.5 → 0.5 − 1/256) on a batch of `batch` windows. */
function makeStep(n: number, batch: number): () => Promise<void> {
  const rng = new Rng(n * 100 + batch);
  const R = n * n, per = L * C * R;
  const truth = new Float32Array(L * 2 * R).map(() => rng.normal());
  const obs = observe(truth, L, n, n, {
    operator: arctan3x,
    mask: randomMask(n, n, 0.25, rng),
    interval: 1,
    rng,
  });
  const planned = planObservations([obs], layout, { frames: L, channels: C, height: n, width: n });
  const noise = soadNoise(net, planned);
  const shape: WindowShape = [batch, L, C, n, n];
  const z = new Float32Array(batch * per).map(() => rng.normal());
  const normal = new NormalSource(1);
  const xi = new Float32Array(per);
  const fdc = { observations: planned };
  const t = 0.5, s = 0.5 - 1 / 256;
  return async () => {
    const { pi } = await noise.evaluate(z, shape, t);
    const a = alpha(s) / alpha(t), b = sigma(s) / sigma(t);
    for (let j = 0; j < z.length; j++) z[j] = a * z[j] + (b - a) * pi[j];
    applyFdc(z, batch, per, s, fdc, normal);
    const ss = sigma(s);
    for (let m = 0; m < M; m++) {
      for (let k = 0; k < batch; k++) {
        const o = k * per;
        let e2 = 0;
        for (let j = 0; j < per; j++) e2 += (pi[o + j] / ss) ** 2;
        const d = TAU / (e2 / per), kn = ss * Math.sqrt(2 * d);
        normal.fill(xi);
        for (let j = 0; j < per; j++) z[o + j] -= d * pi[o + j] + kn * xi[j];
      }
      applyFdc(z, batch, per, s, fdc, normal);
    }
  };
}

// 64² × batch 8 in one pass needs more memory than the wasm heap; the U-Net now runs it in
// chunks of 2 windows (createUNet's chunkFramePixels), so every case runs.
const cases: [number, number][] = [[32, 1], [32, 8], [64, 1], [64, 8]];

if (Deno.env.get("SAMPLER_ESTIMATE")) {
  console.log(`backend ${backend.name}; paper U-Net C = ${C}, L = ${L}, M = ${M}`);
  console.log("grid  batch  s/step   K=64 (s)  K=256 (s)  K=256 per member (s)");
  for (const [n, batch] of cases) {
    const step = makeStep(n, batch);
    await step(); // warm-up (kernels, adjoint filters)
    const t0 = performance.now();
    await step();
    const sec = (performance.now() - t0) / 1000;
    console.log(
      `${String(n).padStart(4)}  ${String(batch).padStart(5)}  ${sec.toFixed(3).padStart(6)}  ` +
        `${(65 * sec).toFixed(0).padStart(8)}  ${(257 * sec).toFixed(0).padStart(9)}  ` +
        `${(257 * sec / batch).toFixed(0).padStart(20)}`,
    );
  }
} else {
  for (const [n, batch] of cases) {
    const step = makeStep(n, batch);
    Deno.bench({
      name: `SOAD step paper C=4 ${n}x${n} batch ${batch}`,
      group: `grid ${n}`,
      baseline: batch === 1,
      n: 3,
      warmup: 1,
      fn: step,
    });
  }
}
