/**
 * `deno run -A tasks/assimilate.ts --checkpoint soad.safetensors [--sda-checkpoint sda.safetensors]
 *   --data store.zarr --window 0 --op sin3x --ratio 0.25 | --stride 4 --interval 2 --setting I
 *   --steps 256 --samples 1 --seed 0 --out out/assim`
 *
 * Assimilates one 9-frame chunk of a dataset window with SOAD (and the SDA baseline when its
 * checkpoint is given), prints per-frame RMSE, and writes `results.json` and `assimilate.png`
 * (truth / observations / SOAD / error / SDA of layer 1 at frames 0, L/2, L−1) under `--out`.
 * The checkpoint is a U-Net safetensors file (PyTorch names); its configuration is read from the
 * tensor shapes. A checkpoint whose channel count (or metadata) does not fit the operator is
 * refused before any sampling. The window is normalised as the prior was trained: with the
 * checkpoint's normalisation when it records one, else with the store's `norm_std`.
 * @module
 */

import { parseArgs } from "node:util";
import { defaultThreads, selectBackend } from "../src/backend/select.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { writeJsonAtomic } from "../src/io/atomic.ts";
import { assimilationFigure } from "./assim_figure.ts";
import { writePng } from "../src/io/image.ts";
import { openDatasetStore, readWindow } from "../src/data/store.ts";
import { augmentedLayout, type ModelName } from "../src/obs/layout.ts";
import { knownBackground, Q_STD } from "../src/obs/background.ts";
import { observeStack } from "../src/obs/observe.ts";
import { arctan3x, sin3x } from "../src/obs/pointwise.ts";
import { vor2vel } from "../src/obs/vor2vel.ts";
import { assimilate, type AssimilateResult } from "../src/assim/assimilate.ts";
import { loadExperimentCheckpoint } from "../src/assim/experiment_inputs.ts";
import { Rng } from "../src/rng.ts";

const OPS = { arctan3x, sin3x, vor2vel } as const;

const HELP = `deno task assimilate --checkpoint soad.safetensors --data store.zarr [flags]

Assimilates one 9-frame chunk of a dataset window with SOAD (and SDA with --sda-checkpoint),
prints per-frame RMSE and writes results.json and assimilate.png under --out.

  --checkpoint F       SOAD (or SDA) U-Net weights, safetensors with PyTorch names (required)
  --sda-checkpoint F   the SDA baseline's U-Net weights (optional)
  --data DIR           a Zarr store made by deno task generate (required)
  --window N           window index (default 0); --start N: first frame of the chunk
  --op NAME            arctan3x | sin3x (default) | vor2vel
  --ratio P | --stride S   random mask ratio or uniform stride
  --interval N         observe frames 0, N, 2N, ... (default 1)
  --setting I|II       I: with a background at frame 0 (default); II: without
  --steps K            sampler steps (default 256); --corrections M (default 5)
  --t-max T            start time of the sampler's grid (default 1, the spec)
  --samples S          posterior samples (default 1); --seed N (default 0)
  --backend NAME       webgpu | wasm | cpu (default: automatic)
  --threads N          threads of the wasm conv engine, 1 or 2 (default: the cores, at most 2)
  --out DIR            where to write results.json and assimilate.png
`;

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      help: { type: "boolean", short: "h" },
      checkpoint: { type: "string" },
      "sda-checkpoint": { type: "string" },
      data: { type: "string" },
      window: { type: "string", default: "0" },
      start: { type: "string" },
      op: { type: "string", default: "sin3x" },
      ratio: { type: "string" },
      stride: { type: "string" },
      interval: { type: "string", default: "1" },
      setting: { type: "string", default: "I" },
      steps: { type: "string", default: "256" },
      corrections: { type: "string", default: "5" },
      "t-max": { type: "string", default: "1" },
      samples: { type: "string", default: "1" },
      seed: { type: "string", default: "0" },
      backend: { type: "string" },
      threads: { type: "string" },
      out: { type: "string" },
    },
  });
  if (a.help) {
    console.log(HELP);
    return;
  }
  if (!a.checkpoint || !a.data) {
    throw new InvalidArgumentError("--checkpoint and --data are required (see --help)");
  }
  const op = OPS[a.op as keyof typeof OPS];
  if (!op) throw new InvalidArgumentError(`--op must be arctan3x, sin3x or vor2vel, got ${a.op}`);
  if (a.setting !== "I" && a.setting !== "II") {
    throw new InvalidArgumentError(`--setting must be I or II, got ${a.setting}`);
  }
  const L = 9, seed = Number(a.seed);
  const rng = new Rng(seed);
  await selectBackend({
    prefer: a.backend as "wasm" | "webgpu" | "cpu" | undefined,
    quiet: true,
    threads: a.threads === undefined ? defaultThreads() : Number(a.threads),
  });
  // refuses a checkpoint trained for another operator set (channel count or metadata)
  const soad = await loadExperimentCheckpoint(a.checkpoint, `soad-${a.op}`, L);
  const net = soad.net;
  const layout = augmentedLayout(a.op as ModelName);
  const store = openDatasetStore(a.data);
  // normalise as the prior was trained: the checkpoint's normalisation, else the store's
  const norm = soad.normalisation ??
    { offset: [0, 0], std: store.attrs.norm_std ? [...store.attrs.norm_std] : [...Q_STD] };
  const raw = readWindow(store, Number(a.window));
  const T = store.config.window;
  const R = raw.length / (T * 2), n = Math.round(Math.sqrt(R));
  const start = a.start !== undefined ? Number(a.start) : rng.int(T - L + 1);
  const truth = new Float32Array(L * 2 * R);
  for (let f = 0; f < L; f++) {
    for (let c = 0; c < 2; c++) {
      for (let i = 0; i < R; i++) {
        truth[(f * 2 + c) * R + i] = (raw[((start + f) * 2 + c) * R + i] - norm.offset[c]) /
          norm.std[c];
      }
    }
  }
  const observations = observeStack(truth, L, n, n, {
    operators: [op],
    ratio: a.ratio !== undefined ? Number(a.ratio) : undefined,
    stride: a.stride !== undefined ? Number(a.stride) : (a.ratio === undefined ? 1 : undefined),
    interval: Number(a.interval),
    rng,
  });
  const background = a.setting === "I" ? knownBackground(truth, L, n, n, rng) : undefined;
  const common = {
    observations,
    frames: L,
    steps: Number(a.steps),
    corrections: Number(a.corrections),
    tMax: Number(a["t-max"]),
    samples: Number(a.samples),
    seed,
    truth,
  };
  const results: Record<string, AssimilateResult> = {};
  results.soad = await assimilate({ ...common, denoiser: net, method: "soad", layout, background });
  net.dispose();
  if (a["sda-checkpoint"]) {
    const sda = (await loadExperimentCheckpoint(a["sda-checkpoint"], "sda", L)).net;
    results.sda = await assimilate({ ...common, denoiser: sda, method: "sda" });
    sda.dispose();
  }
  const summary: Record<string, unknown> = { args: a, window: Number(a.window), start, n };
  for (const [m, r] of Object.entries(results)) {
    const avg = r.rmseMean!.reduce((s, v) => s + v, 0) / L;
    console.log(
      `${m}: RMSE per frame ${r.rmseMean!.map((v) => v.toFixed(3)).join(" ")} | mean ${
        avg.toFixed(4)
      } | ${r.seconds.toFixed(1)} s`,
    );
    for (const rep of r.reports) if (!rep.completed) console.log(`  ${rep.message}`);
    summary[m] = { rmse: r.rmseMean, rmseMean: avg, seconds: r.seconds, reports: r.reports };
  }
  if (a.out) {
    await Deno.mkdir(a.out, { recursive: true });
    await writeJsonAtomic(`${a.out}/results.json`, summary);
    const estimates: [string, Float32Array][] = [["SOAD", results.soad.mean]];
    if (results.sda) estimates.push(["SDA", results.sda.mean]);
    await writePng(
      `${a.out}/assimilate.png`,
      assimilationFigure({ truth, observations, estimates, n, frames: L }),
    );
    console.log(`wrote ${a.out}/results.json and ${a.out}/assimilate.png`);
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
}
