/**
 * `deno task demo` — the main job on an embedded default: assimilate sparse, noisy, nonlinear
 * observations of a held-out QG window with a shipped SOAD prior and the SDA baseline, print the
 * per-frame RMSE of both next to climatology, and write a figure. No flags needed; no data to
 * generate (the truth window and the priors are in `models/`). About a minute on 2 cores.
 * @module
 */

import { parseArgs } from "node:util";
import { selectBackend } from "../src/backend/select.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { writeJsonAtomic } from "../src/io/atomic.ts";
import { writePng } from "../src/io/image.ts";
import { readNpy } from "../src/io/npy.ts";
import { Progress } from "../src/io/progress.ts";
import { knownBackground, SIGMA_BACKGROUND } from "../src/obs/background.ts";
import { observeStack } from "../src/obs/observe.ts";
import { arctan3x, sin3x } from "../src/obs/pointwise.ts";
import { vor2vel } from "../src/obs/vor2vel.ts";
import type { AssimilateResult } from "../src/assim/assimilate.ts";
import { assimilateInWorker } from "../src/assim/assimilate_parallel.ts";
import {
  climatologyEstimate,
  normalisedMoments,
  pointwisePosteriorMean,
} from "../src/assim/baselines.ts";
import { checkExperimentCheckpoint } from "../src/assim/experiment_inputs.ts";
import { rmsePerFrame } from "../src/assim/metrics.ts";
import { Rng } from "../src/rng.ts";
import { assimilationFigure } from "./assim_figure.ts";

const OPS = { arctan3x, sin3x, vor2vel } as const;
const MODELS = new URL("../models/", import.meta.url);

const HELP = `deno task demo [flags]

Assimilates observations of a held-out QG window (models/demo/window.npy, 9 daily frames, 64x64,
both layers) with a shipped SOAD prior and the SDA baseline (models/<op>-small, models/sda-small),
prints the per-frame RMSE of both and of two baselines without a learned prior — climatology (the
training mean; about 1 in normalised units) and, for arctan3x and sin3x, "pointwise" (the
observation-only Bayes estimate of every point on its own, from the same observations and
background) — and writes demo.png and results.json under --out.

  --op NAME            arctan3x (default) | sin3x | vor2vel
  --ratio P            random mask: observe a fraction P of the grid points (default 0.25)
  --stride S           uniform mask every S points instead of --ratio
  --interval N         observe frames 0, N, 2N, ... (default 2)
  --setting I|II       I: background at frame 0 (sigma_b = 0.1, default); II: none
  --steps K            sampler steps (default 64; the paper: 256)
  --t-max T            start of the sampler's time grid (default 0.85 for these small priors;
                       1 = the spec, see docs/results.md)
  --corrections M      Langevin corrections per step (default 5)
  --no-sda             SOAD only
  --seed N             seed of the mask, noise, background and sampler (default 0)
  --backend NAME       webgpu | wasm | cpu (default: automatic)
  --out DIR            output directory (default out/demo)
`;

function num(name: string, v: string, lo: number, hi = Infinity, int = false): number {
  const x = Number(v);
  if (v.trim() === "" || !(x >= lo && x <= hi) || (int && !Number.isInteger(x))) {
    throw new InvalidArgumentError(
      `--${name} expects ${int ? "an integer" : "a number"} in [${lo}, ${hi}], got "${v}"`,
    );
  }
  return x;
}

async function main(): Promise<number> {
  const { values: a } = parseArgs({
    args: Deno.args,
    strict: true,
    options: {
      help: { type: "boolean", short: "h" },
      op: { type: "string", default: "arctan3x" },
      ratio: { type: "string" },
      stride: { type: "string" },
      interval: { type: "string", default: "2" },
      setting: { type: "string", default: "I" },
      steps: { type: "string", default: "64" },
      "t-max": { type: "string", default: "0.85" },
      corrections: { type: "string", default: "5" },
      "no-sda": { type: "boolean", default: false },
      seed: { type: "string", default: "0" },
      backend: { type: "string" },
      out: { type: "string", default: "out/demo" },
    },
  });
  if (a.help) {
    console.log(HELP);
    return 0;
  }
  const op = OPS[a.op as keyof typeof OPS];
  if (!op) throw new InvalidArgumentError(`--op must be arctan3x, sin3x or vor2vel, got "${a.op}"`);
  if (a.setting !== "I" && a.setting !== "II") {
    throw new InvalidArgumentError(`--setting must be I or II, got "${a.setting}"`);
  }
  if (a.ratio !== undefined && a.stride !== undefined) {
    throw new InvalidArgumentError("give --ratio or --stride, not both");
  }
  const ratio = a.stride === undefined ? num("ratio", a.ratio ?? "0.25", 1e-6, 1) : undefined;
  const stride = a.stride === undefined ? undefined : num("stride", a.stride, 1, 64, true);
  const interval = num("interval", a.interval!, 1, 9, true);
  const steps = num("steps", a.steps!, 1, 4096, true);
  const tMax = num("t-max", a["t-max"]!, 0.05, 1);
  const corrections = num("corrections", a.corrections!, 0, 100, true);
  const seed = num("seed", a.seed!, 0, 2 ** 31, true);
  const t0 = performance.now();

  const priorPath = (name: string) => new URL(`${name}-small/weights.safetensors`, MODELS).pathname;
  const backend = await selectBackend({
    prefer: a.backend as "wasm" | "webgpu" | "cpu" | undefined,
    quiet: true,
  });
  // read and check both priors (channels, metadata) before any sampling; the Workers get the bytes
  const readPrior = async (name: string, model: string) => {
    const path = priorPath(name);
    try {
      const bytes = await Deno.readFile(path);
      return { bytes, ...checkExperimentCheckpoint(bytes, model, 9, `prior ${path}`) };
    } catch (e) {
      throw new InvalidArgumentError(
        `no usable shipped prior for ${name}: ${(e as Error).message} ` +
          `(models/README.md lists the priors; train one with deno task train)`,
      );
    }
  };
  const soad = await readPrior(a.op!, `soad-${a.op}`);
  const sda = a["no-sda"] ? undefined : await readPrior("sda", "sda");
  if (sda && JSON.stringify(sda.normalisation) !== JSON.stringify(soad.normalisation)) {
    throw new InvalidArgumentError(
      `the SOAD and SDA priors were trained with different normalisations ` +
        `(${JSON.stringify(soad.normalisation)} vs ${JSON.stringify(sda.normalisation)})`,
    );
  }
  const win = await readNpy(new URL("demo/window.npy", MODELS));
  const meta = JSON.parse(await Deno.readTextFile(new URL("demo/window.json", MODELS)));
  const [L, , n] = win.shape;
  const R = n * n;
  const { offset, std } = soad.normalisation ?? { offset: [0, 0], std: meta.norm_std };
  const truth = new Float32Array(L * 2 * R);
  for (let i = 0; i < truth.length; i++) {
    const c = Math.floor(i / R) % 2;
    truth[i] = (Number(win.data[i]) - offset[c]) / std[c];
  }
  const rng = new Rng(seed);
  const observations = observeStack(truth, L, n, n, {
    operators: [op],
    ratio,
    stride,
    interval,
    rng,
  });
  const background = a.setting === "I" ? knownBackground(truth, L, n, n, rng) : undefined;
  const what =
    `${op.name}, ${ratio !== undefined ? `${ratio * 100}% random points` : `stride ${stride}`}, ` +
    `frames ${observations[0].frames.join(",")}, sigma_o 0.1, setting ${a.setting}`;
  console.log(
    `soad demo: ${n}x${n} QG window (store window ${meta.store_window}, test split), ${what}`,
  );
  console.log(
    `  sampler: K = ${steps}, M = ${corrections}, t from ${tMax} to 0; backend ${backend.name}`,
  );

  // SOAD and SDA run at the same time in two Workers (tfjs-wasm is one thread per instance)
  const common = {
    observations,
    frames: L,
    steps,
    corrections,
    tMax,
    seed,
    truth,
    backend: backend.name,
  };
  const methods = a["no-sda"] ? ["SOAD"] : ["SOAD", "SDA"];
  const bar = new Progress({ total: steps * methods.length, label: methods.join(" + ") });
  const done: Record<string, number> = { SOAD: 0, SDA: 0 };
  const tick = (m: string) => () => {
    done[m]++;
    bar.tick(1, methods.map((x) => `${x} ${done[x]}/${steps}`).join(", "));
  };
  const jobs = [
    assimilateInWorker({
      ...common,
      weights: soad.bytes,
      model: a.op,
      method: "soad",
      background,
      onStep: tick("SOAD"),
    }),
  ];
  if (sda) {
    jobs.push(
      assimilateInWorker({ ...common, weights: sda.bytes, method: "sda", onStep: tick("SDA") }),
    );
  }
  const out = await Promise.all(jobs);
  bar.done();
  const results: Record<string, AssimilateResult> = {};
  methods.forEach((m, i) => (results[m] = out[i]));
  // baselines without a learned prior: climatology (the training mean of each layer) and the
  // observation-only pointwise Bayes estimate (element-wise operators)
  const prior = normalisedMoments(meta.norm_mean, meta.norm_std, { offset, std });
  const rows: Record<string, number[]> = {};
  for (const [m, r] of Object.entries(results)) rows[m] = r.rmseMean!;
  rows.climatology = rmsePerFrame(climatologyEstimate(L, n, n, prior), truth, L);
  const bg = background ? { values: background, sigma: SIGMA_BACKGROUND } : undefined;
  const pointwise = pointwisePosteriorMean(observations, L, n, n, prior, bg);
  if (pointwise) rows.pointwise = rmsePerFrame(pointwise, truth, L);
  const names = Object.keys(rows);
  const pad = (s: string, w = 12) => s.padEnd(w);
  console.log(`\nRMSE per frame (normalised units; both layers)`);
  console.log(pad("frame", 7) + pad("observed", 10) + names.map((m) => pad(m)).join(""));
  for (let f = 0; f < L; f++) {
    const o = observations[0].frames.includes(f) ? "yes" : "-";
    console.log(
      pad(String(f), 7) + pad(o, 10) + names.map((m) => pad(rows[m][f].toFixed(3))).join(""),
    );
  }
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  console.log(pad("mean", 17) + names.map((m) => pad(mean(rows[m]).toFixed(3))).join(""));
  for (const [m, r] of Object.entries(results)) {
    for (const rep of r.reports) if (!rep.completed) console.log(`  ${m}: ${rep.message}`);
  }

  await Deno.mkdir(a.out!, { recursive: true });
  const estimates = Object.entries(results).map(([m, r]) => [m, r.mean] as [string, Float32Array]);
  await writePng(
    `${a.out}/demo.png`,
    assimilationFigure({
      truth,
      observations,
      estimates,
      n,
      frames: L,
      title: `upper-layer q: ${what}`,
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await writeJsonAtomic(`${a.out}/results.json`, {
    args: a,
    observations: what,
    rmse: rows,
    rmseMean: Object.fromEntries(names.map((m) => [m, mean(rows[m])])),
    seconds: Object.fromEntries(Object.entries(results).map(([m, r]) => [m, r.seconds])),
    totalSeconds: seconds,
    backend: backend.name,
  });
  console.log(`\nwrote ${a.out}/demo.png and ${a.out}/results.json in ${seconds.toFixed(0)} s`);
  return 0;
}

try {
  Deno.exit(await main());
} catch (e) {
  console.error(`soad demo: ${e instanceof Error ? e.message : e}`);
  Deno.exit(1);
}
