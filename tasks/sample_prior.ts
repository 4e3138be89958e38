/**
 * `deno task sample-prior --model model.onnx|model.safetensors [--samples 4] [--steps 64]
 *   [--corrections 5] [--tau X] [--t-max 1] [--grid 64] [--frames L] [--seed 0] [--channel 0]
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
import { parseTauFlag } from "./sampler_flags.ts";
import { runSampler } from "../src/assim/sampler.ts";
import { priorNoise } from "../src/assim/score.ts";
import type { WindowShape } from "../src/diffusion/denoiser.ts";
import { samplerDefault } from "../src/diffusion/sampler_defaults.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { writePng } from "../src/io/image.ts";
import { writeNpy } from "../src/io/npy.ts";
import { type FieldPanel, fieldPanels } from "../src/io/plot.ts";
import { Progress } from "../src/io/progress.ts";
import { createOrtDenoiser } from "../src/onnx/engine.ts";
import { loadOnnxModel } from "../src/onnx/model_file.ts";
import { prepareOutputDir } from "../src/io/output_dir.ts";

const HELP = `deno task sample-prior --model model.onnx|model.safetensors [flags]

Draws unconditional samples of a trained prior with the onnxruntime-web engine (sampler of
spec §5.2 with G = 0) and writes prior.png and samples.npy under --out.

  --model F          an ONNX file from deno task export-onnx, or a prior's weights (.safetensors):
                     a shipped name (arctan3x, sin3x, vor2vel, sda, full), a path or a URL
  --samples S        windows to draw (default 4, at most 64)
  --steps K          sampler steps (default: the prior's, else 64); --corrections M (default 5);
                     --tau (default: the prior's, else 0.25)
  --t-max T          start of the time grid (default: the prior's — 0.85 for the shipped
                     priors — else 1, the spec)
  --grid N           N×N grid (default: the prior's training grid, else 64; a multiple of
                     2^(levels−1))
  --frames L         frames per window (default: the network's, 9)
  --channel C        channel to plot (default 0)
  --seed N           seed of every draw (default 0)
  --provider P       auto (default) | wasm | webgpu;  --threads N: wasm threads (default: cores)
  --out DIR          output directory (default out/prior; refused when not empty unless --force)
  --force            replace the files of an existing --out
`;

function int(v: string | undefined, name: string, min: number, max = 1_000_000): number {
  const n = Number(v);
  if (v === undefined || v.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    throw new InvalidArgumentError(`--${name} must be an integer in [${min}, ${max}], got ${v}`);
  }
  return n;
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      help: { type: "boolean", short: "h" },
      model: { type: "string" },
      samples: { type: "string", default: "4" },
      steps: { type: "string" },
      corrections: { type: "string", default: "5" },
      tau: { type: "string" },
      "t-max": { type: "string" },
      grid: { type: "string" },
      frames: { type: "string" },
      channel: { type: "string", default: "0" },
      seed: { type: "string", default: "0" },
      provider: { type: "string", default: "auto" },
      threads: { type: "string" },
      out: { type: "string", default: "out/prior" },
      force: { type: "boolean", default: false },
    },
  });
  if (a.help) {
    console.log(HELP);
    return;
  }
  if (!a.model) throw new InvalidArgumentError("--model is required (see --help)");
  const S = int(a.samples, "samples", 1, 64);
  const M = int(a.corrections, "corrections", 0, 100);
  const seed = int(a.seed, "seed", 0, 2 ** 31), ch = int(a.channel, "channel", 0);
  const tauFlag = parseTauFlag(a.tau);
  if (!["auto", "wasm", "webgpu"].includes(a.provider!)) {
    throw new InvalidArgumentError(`--provider must be auto, wasm or webgpu, got ${a.provider}`);
  }
  const tMaxFlag = a["t-max"] === undefined ? undefined : Number(a["t-max"]);
  if (tMaxFlag !== undefined && !(tMaxFlag > 0 && tMaxFlag <= 1)) {
    throw new InvalidArgumentError(`--t-max must be in (0, 1], got ${a["t-max"]}`);
  }
  const kFlag = a.steps === undefined ? undefined : int(a.steps, "steps", 1, 4096);
  const nFlag = a.grid === undefined ? undefined : int(a.grid, "grid", 1, 1024);
  const threads = a.threads !== undefined ? int(a.threads, "threads", 1, 64) : undefined;
  await prepareOutputDir(a.out!, { force: a.force });
  const { bytes, config, source, prior } = await loadOnnxModel(a.model);
  // the prior's sampler defaults and grid (an explicit flag wins)
  const tMax = tMaxFlag ?? samplerDefault("tMax", prior?.sampler);
  // without a prior (a bare ONNX network) K = 64, not the spec's 256: a quick look, not a posterior
  const K = kFlag ?? prior?.sampler.steps ?? 64;
  const tau = tauFlag ?? samplerDefault("tau", prior?.sampler);
  const N = nFlag ?? prior?.trainedFor.grid?.[0] ?? 64;
  console.log(
    `sample-prior: ${a.model}: K = ${K}, t-max ${tMax}, tau ${tau}, ${N}x${N}` +
      (prior ? " (defaults from the prior's metadata)" : " (no prior metadata: spec defaults)"),
  );
  const L = a.frames !== undefined ? int(a.frames, "frames", 1) : config.frames;
  const C = config.channels;
  if (ch >= C) throw new InvalidArgumentError(`--channel must be < ${C}, got ${ch}`);
  const f = 2 ** (config.widths.length - 1);
  if (N % f !== 0 || N / f < (config.kernel - 1) / 2) {
    throw new InvalidArgumentError(`--grid must be a multiple of ${f} (≥ ${f * 2}), got ${N}`);
  }
  const net = await createOrtDenoiser(bytes, {
    provider: a.provider as "auto" | "wasm" | "webgpu",
    numThreads: threads,
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
