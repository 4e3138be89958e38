/**
 * `deno task sample-prior --model model.onnx|model.safetensors [--samples 4] [--steps 64]
 *   [--corrections 5] [--tau 0.25] [--t-max 1] [--grid 64] [--frames L] [--seed 0] [--channel 0]
 *   [--provider auto|wasm|webgpu] [--threads N] [--out out/prior]`
 *
 * Unconditional sampling of a trained prior on the onnxruntime-web engine: the SOAD/SDA sampler
 * of spec §5.2 without likelihood (G = 0: Π = σ ε̂; exponential-integrator predictor and the
 * stale Langevin corrector, `runSampler(priorNoise(…))`). Writes `prior.png` (one row per
 * sample: frames 0, L/2 and L−1 of `--channel`, in the network's normalised units) and
 * `samples.npy` ([S, L, C, H, W], float32) under `--out`, and prints the RMS of every channel (a
 * prior whose samples are far from the data's RMS has not learned the amplitude of the flow). A
 * quick look at what a prior learned.
 * @module
 */

import { parseArgs } from "node:util";
import { runSampler } from "../src/assim/sampler.ts";
import { priorNoise } from "../src/assim/score.ts";
import type { WindowShape } from "../src/diffusion/denoiser.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { writePng } from "../src/io/image.ts";
import { writeNpy } from "../src/io/npy.ts";
import { type FieldPanel, fieldPanels } from "../src/io/plot.ts";
import { Progress } from "../src/io/progress.ts";
import { createOrtDenoiser } from "../src/onnx/engine.ts";
import { loadOnnxModel } from "../src/onnx/model_file.ts";

const HELP = `deno task sample-prior --model model.onnx|model.safetensors [flags]

Draws unconditional samples of a trained prior with the onnxruntime-web engine (sampler of
spec §5.2 with G = 0) and writes prior.png and samples.npy under --out.

  --model F          an ONNX file from deno task export-onnx, or a U-Net safetensors checkpoint
  --samples S        windows to draw (default 4)
  --steps K          sampler steps (default 64); --corrections M (default 5); --tau (default 0.25)
  --t-max T          start of the time grid (default 1, the spec; the shipped small priors: 0.85)
  --grid N           N×N grid (default 64; a multiple of 2^(levels−1))
  --frames L         frames per window (default: the network's, 9)
  --channel C        channel to plot (default 0)
  --seed N           seed of every draw (default 0)
  --provider P       auto (default) | wasm | webgpu;  --threads N: wasm threads (default: cores)
  --out DIR          output directory (default out/prior)
`;

function int(v: string | undefined, name: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new InvalidArgumentError(`--${name} must be an integer ≥ ${min}, got ${v}`);
  }
  return n;
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      help: { type: "boolean", short: "h" },
      model: { type: "string" },
      samples: { type: "string", default: "4" },
      steps: { type: "string", default: "64" },
      corrections: { type: "string", default: "5" },
      tau: { type: "string", default: "0.25" },
      "t-max": { type: "string", default: "1" },
      grid: { type: "string", default: "64" },
      frames: { type: "string" },
      channel: { type: "string", default: "0" },
      seed: { type: "string", default: "0" },
      provider: { type: "string", default: "auto" },
      threads: { type: "string" },
      out: { type: "string", default: "out/prior" },
    },
  });
  if (a.help) {
    console.log(HELP);
    return;
  }
  if (!a.model) throw new InvalidArgumentError("--model is required (see --help)");
  const S = int(a.samples, "samples", 1), K = int(a.steps, "steps", 1);
  const M = int(a.corrections, "corrections", 0), N = int(a.grid, "grid", 1);
  const seed = int(a.seed, "seed", 0), ch = int(a.channel, "channel", 0);
  const tau = Number(a.tau), tMax = Number(a["t-max"]);
  if (!(tMax > 0 && tMax <= 1)) {
    throw new InvalidArgumentError(`--t-max must be in (0, 1], got ${a["t-max"]}`);
  }
  if (!["auto", "wasm", "webgpu"].includes(a.provider!)) {
    throw new InvalidArgumentError(`--provider must be auto, wasm or webgpu, got ${a.provider}`);
  }
  const { bytes, config, source } = await loadOnnxModel(a.model);
  const L = a.frames !== undefined ? int(a.frames, "frames", 1) : config.frames;
  const C = config.channels;
  if (ch >= C) throw new InvalidArgumentError(`--channel must be < ${C}, got ${ch}`);
  const f = 2 ** (config.widths.length - 1);
  if (N % f !== 0 || N / f < (config.kernel - 1) / 2) {
    throw new InvalidArgumentError(`--grid must be a multiple of ${f} (≥ ${f * 2}), got ${N}`);
  }
  const net = await createOrtDenoiser(bytes, {
    provider: a.provider as "auto" | "wasm" | "webgpu",
    numThreads: a.threads !== undefined ? int(a.threads, "threads", 1) : undefined,
  });
  const shape: WindowShape = [S, L, C, N, N];
  const progress = new Progress({ total: K, label: "prior sampling" });
  const t0 = performance.now();
  let r;
  try {
    r = await runSampler(priorNoise(net), shape, {
      steps: K,
      corrections: M,
      tau,
      tMax,
      seed,
      onStep: (s) => progress.tick(1, `t=${s.t.toFixed(3)}`),
    });
  } finally {
    progress.done();
    await net.dispose();
  }
  const secs = (performance.now() - t0) / 1000;
  for (const rep of r.reports) if (!rep.completed) console.error(`warning: ${rep.message}`);
  const plane = N * N, frames = [0, Math.floor(L / 2), L - 1];
  const panels: FieldPanel[] = [];
  for (let s = 0; s < S; s++) {
    for (const l of frames) {
      const o = ((s * L + l) * C + ch) * plane;
      panels.push({
        title: `sample ${s} frame ${l}`,
        data: r.samples.subarray(o, o + plane),
        ny: N,
        nx: N,
      });
    }
  }
  await writePng(
    `${a.out}/prior.png`,
    fieldPanels(panels, {
      columns: frames.length,
      suptitle:
        `prior samples, channel ${ch} (${source}; K=${K}, M=${M}, t from ${tMax}, ${net.provider})`,
    }),
  );
  await writeNpy(`${a.out}/samples.npy`, r.samples, shape);
  const rms = Array.from({ length: C }, (_, c) => {
    let q = 0;
    for (let sl = 0; sl < S * L; sl++) {
      for (let i = 0; i < plane; i++) q += r.samples[(sl * C + c) * plane + i] ** 2;
    }
    return Math.sqrt(q / (S * L * plane)).toFixed(3);
  });
  console.log(`RMS per channel (normalised units): ${rms.join(", ")}`);
  console.log(
    `${S} samples [${shape}] in ${secs.toFixed(1)} s (${r.evaluations} network evaluations on ` +
      `${net.reason}); wrote ${a.out}/prior.png and ${a.out}/samples.npy`,
  );
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error(`sample-prior: ${e instanceof Error ? e.message : e}`);
    Deno.exit(e instanceof InvalidArgumentError ? 2 : 1);
  }
}
