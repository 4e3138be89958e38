/**
 * `deno task assimilate --prior P --data store.zarr [--sda-prior P] [--window N] [--op NAME]
 *   [--ratio P | --stride S] [--interval N] [--setting I|II] [--steps K] [--t-max T] [--samples S]
 *   [--save] [--out DIR] [--force] [--allow-mismatch]`
 *
 * Assimilates one 9-frame chunk of a dataset window (default: the first test window) with SOAD
 * (and the SDA baseline with `--sda-prior`), prints the per-frame RMSE table with climatology
 * beside it, and writes `results.json`, `assimilate.png` (and with `--save` the analyses as Zarr)
 * under `--out`. The prior (a shipped name, path or URL) brings its sampler defaults (t-max, K)
 * and what it was trained for: a prior whose operators, grid or data configuration do not fit, or
 * a window whose amplitude is not the training data's, is refused before any sampling unless
 * `--allow-mismatch`. The window is normalised as the prior was trained.
 * @module
 */

import { parseArgs } from "node:util";
import {
  parseBackgroundLikelihoodFlag,
  parseClipScaleFlag,
  parseSigmaXFlag,
  parseTauFlag,
} from "./sampler_flags.ts";
import { pathToFileURL } from "node:url";
import { defaultThreads, selectBackend } from "../src/backend/select.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { writeJsonAtomic } from "../src/io/atomic.ts";
import { writePng } from "../src/io/image.ts";
import { prepareOutputDir } from "../src/io/output_dir.ts";
import { openDatasetStore, readWindow } from "../src/data/store.ts";
import { dataPhysics } from "../src/data/physics.ts";
import { knownBackground, Q_STD } from "../src/obs/background.ts";
import { observeStack } from "../src/obs/observe.ts";
import { getOperator } from "../src/obs/registry.ts";
import { assimilate, type AssimilateResult } from "../src/assim/assimilate.ts";
import { climatologyEstimate, normalisedMoments } from "../src/assim/baselines.ts";
import { rmsePerFrame } from "../src/assim/metrics.ts";
import { checkPriorFit } from "../src/assim/prior_fit.ts";
import { saveAnalysis } from "../src/assim/save_analysis.ts";
import { fetchPriorBytes } from "../src/diffusion/prior.ts";
import { readPriorInfo } from "../src/diffusion/prior_info.ts";
import { samplerDefault, type SamplerDefaults } from "../src/diffusion/sampler_defaults.ts";
import {
  observedFraction,
  samplerForDensity,
  sparseApplies,
} from "../src/diffusion/sparse_sampler.ts";
import { createUNet } from "../src/diffusion/unet.ts";
import { Rng } from "../src/rng.ts";
import { assimilationFigure } from "./assim_figure.ts";
import {
  ASSIM_DEFAULTS,
  backgroundText,
  checkDataFit,
  dataMismatches,
  guidanceText,
  guidanceValues,
  MAX_SAMPLES,
  numFlag as num,
  printRmseTable,
  samplerText,
  samplerValues,
  sparseText,
} from "./assim_cli.ts";

const HELP = `deno task assimilate --prior P --data store.zarr [flags]

Assimilates one 9-frame chunk of a dataset window with SOAD (and SDA with --sda-prior), prints
per-frame RMSE with climatology beside it and writes results.json and assimilate.png under --out.
Sampler defaults (t-max, K) come from the prior's metadata.

  --prior P            SOAD (or SDA) prior: a shipped name (arctan3x, sin3x, vor2vel, sda, full),
                       a path or a URL of its weights (.safetensors); --checkpoint is an alias
  --sda-prior P        the SDA baseline's prior (optional); --sda-checkpoint is an alias
  --data DIR           a Zarr store made by deno task generate (required)
  --window N           store window index (default: the first test window); --start N: first
                       frame of the chunk (default 0)
  --op NAME            observation operator (default: the prior's, else arctan3x)
  --operator-module F  a module (path or URL) that registers your operators (registerOperator),
                       for a prior trained with deno task train --operator
  --ratio P | --stride S   random mask ratio (default 0.25) or uniform stride
  --interval N         observe frames 0, N, 2N, ... (default 2)
  --setting I|II       I: with a background at frame 0 (default); II: without
  --steps K            sampler steps (default: the prior's); --corrections M (default 5)
  --tau X              Langevin step scale (default: each prior's, else 0.25, the spec's)
  --sigma-x X          SOAD: σx of the likelihood coefficient (default: the prior's, else 1, the
                       spec's)
  --clip-scale X       κ of the prior's likelihood clip c <= κ/max|grad| (default: the prior's, else
                       1, the spec's)
  --background-likelihood on|off
                       setting I, SOAD: the background also enters the likelihood, not only the
                       FDC (default: the prior's metadata, on for the shipped SOAD priors; off =
                       the spec's code)
  --t-max T            start time of the sampler's grid (default: the prior's)
  --samples S          posterior samples (default 1, at most ${MAX_SAMPLES}); --seed N (default 0)
  --backend NAME       webgpu | wasm | cpu (default: automatic)
  --threads N          threads of the wasm conv engine, 1 or 2 (default: the cores, at most 2)
  --save               also write the analyses (ensemble, mean, spread, truth; physical q) as
                       soad.zarr / sda.zarr (xarray.open_zarr opens them)
  --allow-mismatch     run a prior that does not fit the observations or the data
  --out DIR            output folder (default out/assimilate; refused when not empty unless --force)
  --force              replace the files of an existing --out
`;

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      help: { type: "boolean", short: "h" },
      prior: { type: "string" },
      checkpoint: { type: "string" },
      "sda-prior": { type: "string" },
      "sda-checkpoint": { type: "string" },
      data: { type: "string" },
      window: { type: "string" },
      start: { type: "string", default: "0" },
      op: { type: "string" },
      "operator-module": { type: "string" },
      ratio: { type: "string" },
      stride: { type: "string" },
      interval: { type: "string", default: String(ASSIM_DEFAULTS.interval) },
      setting: { type: "string", default: ASSIM_DEFAULTS.setting },
      steps: { type: "string" },
      corrections: { type: "string", default: String(ASSIM_DEFAULTS.corrections) },
      "t-max": { type: "string" },
      tau: { type: "string" },
      "sigma-x": { type: "string" },
      "clip-scale": { type: "string" },
      "background-likelihood": { type: "string" },
      samples: { type: "string", default: "1" },
      seed: { type: "string", default: String(ASSIM_DEFAULTS.seed) },
      backend: { type: "string" },
      threads: { type: "string" },
      save: { type: "boolean", default: false },
      "allow-mismatch": { type: "boolean", default: false },
      out: { type: "string", default: "out/assimilate" },
      force: { type: "boolean", default: false },
    },
  });
  if (a.help) {
    console.log(HELP);
    return;
  }
  const priorSrc = a.prior ?? a.checkpoint;
  const sdaSrc = a["sda-prior"] ?? a["sda-checkpoint"];
  if (!priorSrc || !a.data) {
    throw new InvalidArgumentError(
      "--prior (or --checkpoint) and --data are required (see --help)",
    );
  }
  if (a.setting !== "I" && a.setting !== "II") {
    throw new InvalidArgumentError(`--setting must be I or II, got ${a.setting}`);
  }
  if (a.backend !== undefined && !["webgpu", "wasm", "cpu"].includes(a.backend)) {
    throw new InvalidArgumentError(`--backend must be webgpu, wasm or cpu, got "${a.backend}"`);
  }
  if (a.ratio !== undefined && a.stride !== undefined) {
    throw new InvalidArgumentError("give --ratio or --stride, not both");
  }
  const seed = num("seed", a.seed!, 0, 2 ** 31, true);
  const samples = num("samples", a.samples!, 1, MAX_SAMPLES, true);
  const corrections = num("corrections", a.corrections!, 0, 100, true);
  const interval = num("interval", a.interval!, 1, 9, true);
  const stepsFlag = a.steps === undefined ? undefined : num("steps", a.steps, 1, 4096, true);
  const tMaxFlag = a["t-max"] === undefined ? undefined : num("t-max", a["t-max"], 0.05, 1);
  const tauFlag = parseTauFlag(a.tau);
  const guidance = {
    sigmaX: parseSigmaXFlag(a["sigma-x"]),
    clipScale: parseClipScaleFlag(a["clip-scale"]),
  };
  const bglFlag = parseBackgroundLikelihoodFlag(a["background-likelihood"], a.setting);
  const threads = a.threads === undefined
    ? defaultThreads()
    : num("threads", a.threads, 1, 2, true);
  const allow = a["allow-mismatch"]!;

  if (a["operator-module"] !== undefined) {
    const m = a["operator-module"];
    try {
      await import(/^[a-z][a-z0-9+.-]+:/i.test(m) ? m : pathToFileURL(m).href);
    } catch (e) {
      throw new InvalidArgumentError(
        `cannot import --operator-module ${m}: ${(e as Error).message}`,
      );
    }
  }
  // everything is read and checked before any sampling: store, window, priors, output folder
  const store = openDatasetStore(a.data);
  const [t0, t1] = store.attrs.split.test;
  const win = a.window === undefined
    ? t0
    : num("window", a.window, 0, store.config.windowsPerSeed * store.config.seeds - 1, true);
  if (a.window === undefined && !(t1 > t0)) {
    throw new InvalidArgumentError(`${a.data} has no test windows; pass --window N`);
  }
  const splitOf = Object.entries(store.attrs.split).find(([, [lo, hi]]) => win >= lo && win < hi);
  const storeNorm = {
    offset: [0, 0],
    std: store.attrs.norm_std ? [...store.attrs.norm_std] : [...Q_STD],
  };
  const { bytes } = await fetchPriorBytes(priorSrc);
  const info = readPriorInfo(bytes, `prior ${priorSrc}`, storeNorm);
  const L = info.trainedFor.frames;
  const T = store.config.window;
  const start = num("start", a.start!, 0, T - L, true);
  const op = getOperator(
    a.op ??
      (info.trainedFor.operators.length === 1 ? info.trainedFor.operators[0].name : undefined) ??
      ASSIM_DEFAULTS.op,
  );
  const ratio = a.stride === undefined
    ? num("ratio", a.ratio ?? String(ASSIM_DEFAULTS.ratio), 1e-6, 1)
    : undefined;
  const raw = readWindow(store, win);
  const R = raw.length / (T * 2), n = Math.round(Math.sqrt(R));
  const stride = a.stride === undefined ? undefined : num("stride", a.stride, 1, n, true);
  const norm = info.normalisation;
  const truth = new Float32Array(L * 2 * R);
  for (let f = 0; f < L; f++) {
    for (let c = 0; c < 2; c++) {
      for (let i = 0; i < R; i++) {
        truth[(f * 2 + c) * R + i] = (raw[((start + f) * 2 + c) * R + i] - norm.offset[c]) /
          norm.std[c];
      }
    }
  }
  const what = `prior ${priorSrc}`;
  checkDataFit(
    dataMismatches(info.trainedFor, norm, info.climatology, {
      grid: [n, n],
      dataset: store.config.name,
      physics: dataPhysics(store.config),
      truth,
    }),
    allow,
    what,
  );
  const fit = { method: info.trainedFor.method, operators: [op], height: n, width: n };
  if (!allow) checkPriorFit(info.trainedFor, fit, what, "--allow-mismatch");
  let sdaInfo;
  if (sdaSrc && info.trainedFor.method === "sda") {
    throw new InvalidArgumentError(
      `--prior ${priorSrc} is already an SDA prior; give a SOAD prior with --sda-prior`,
    );
  }
  if (sdaSrc) {
    const sb = await fetchPriorBytes(sdaSrc);
    sdaInfo = readPriorInfo(sb.bytes, `SDA prior ${sdaSrc}`, storeNorm);
    if (!allow) {
      checkPriorFit(
        sdaInfo.trainedFor,
        { ...fit, method: "sda" },
        `SDA prior ${sdaSrc}`,
        "--allow-mismatch",
      );
    }
  }
  await prepareOutputDir(a.out!, { force: a.force });
  if (splitOf && splitOf[0] !== "test") {
    console.error(
      `note: window ${win} is in the ${splitOf[0]} split (the prior may have trained on it); ` +
        `the test windows are ${t0}..${t1 - 1}`,
    );
  }
  await selectBackend({
    prefer: a.backend as "wasm" | "webgpu" | "cpu" | undefined,
    quiet: true,
    threads,
  });
  const rng = new Rng(seed);
  const observations = observeStack(truth, L, n, n, {
    operators: [op],
    ratio,
    stride,
    interval,
    rng,
  });
  const background = a.setting === "I" ? knownBackground(truth, L, n, n, rng) : undefined;
  // each prior's defaults for this density of observations (its sparse settings where they apply;
  // SOAD's background observes all of frame 0, so with it nothing is sparse for SOAD)
  const fraction = observedFraction(observations.map((o) => o.mask));
  const soadBackground = background !== undefined && info.trainedFor.method === "soad";
  const mainSampler = samplerForDensity(info.sampler, soadBackground ? 1 : fraction);
  const sdaSampler = sdaInfo ? samplerForDensity(sdaInfo.sampler, fraction) : undefined;
  // K, t-max and τ: the flags for every prior, else each prior's own (chosen on the valid split)
  const samplers: Record<string, SamplerDefaults> = {
    [info.trainedFor.method]: mainSampler,
    ...(sdaSampler ? { sda: sdaSampler } : {}),
  };
  const steps = samplerValues("steps", stepsFlag, samplers);
  const tMaxes = samplerValues("tMax", tMaxFlag, samplers);
  const taus = samplerValues("tau", tauFlag, samplers);
  console.log(
    `assimilate: window ${win} (${splitOf?.[0] ?? "?"} split) frames ${start}..${start + L - 1}, ` +
      `${n}x${n}, ${op.name}, ${ratio !== undefined ? `ratio ${ratio}` : `stride ${stride}`}, ` +
      `interval ${interval}, setting ${a.setting}; ${samplerText("K = ", steps, stepsFlag)}, ` +
      `${samplerText("t-max ", tMaxes, tMaxFlag)}, ${samplerText("tau ", taus, tauFlag)}` +
      guidanceText(guidance, mainSampler) +
      (info.trainedFor.method === "soad"
        ? backgroundText(background !== undefined, bglFlag, mainSampler)
        : "") +
      (sdaInfo ? guidanceText({}, sdaSampler!, "SDA ") : "") +
      sparseText(fraction, {
        ...(soadBackground ? {} : { [info.trainedFor.method]: info.sampler }),
        ...(sdaInfo ? { sda: sdaInfo.sampler } : {}),
      }),
  );
  const common = {
    observations,
    frames: L,
    corrections,
    tau: tauFlag,
    samples,
    seed,
    truth,
    allowPriorMismatch: allow,
  };
  const results: Record<string, AssimilateResult> = {};
  const main = info.trainedFor.method;
  if (bglFlag && main !== "soad") {
    throw new InvalidArgumentError(
      "--background-likelihood on is for a SOAD prior; SDA does not use the background",
    );
  }
  if (guidance.sigmaX !== undefined && main !== "soad") {
    throw new InvalidArgumentError(
      "--sigma-x is SOAD's likelihood coefficient; the SDA baseline's is gamma (spec §5.1)",
    );
  }
  const net = await createUNet(info.config, { weights: info.weights });
  results[main] = await assimilate({
    ...common,
    steps: steps[main],
    tMax: tMaxes[main],
    prior: { denoiser: net, trainedFor: info.trainedFor, sampler: info.sampler },
    background,
    backgroundLikelihood: bglFlag,
    ...guidance,
  });
  net.dispose();
  if (sdaInfo) {
    const sda = await createUNet(sdaInfo.config, { weights: sdaInfo.weights });
    results.sda = await assimilate({
      ...common,
      steps: steps.sda,
      tMax: tMaxes.sda,
      prior: { denoiser: sda, trainedFor: sdaInfo.trainedFor, sampler: sdaInfo.sampler },
    });
    sda.dispose();
  }
  const summary: Record<string, unknown> = {
    args: a,
    window: win,
    start,
    n,
    sampler: {
      steps,
      tMax: tMaxes,
      corrections,
      tau: taus,
      ...(main === "soad"
        ? guidanceValues(guidance, mainSampler)
        : { clipScale: guidanceValues(guidance, mainSampler).clipScale }),
      ...(sdaInfo ? { sdaClipScale: samplerDefault("clipScale", sdaSampler!) } : {}),
      backgroundLikelihood: results[main].backgroundLikelihood,
      observedFraction: fraction,
      // whether each prior's sparse settings applied (flags, where given, still set their values)
      sparseSampler: {
        [main]: sparseApplies(info.sampler, soadBackground ? 1 : fraction),
        ...(sdaInfo ? { sda: sparseApplies(sdaInfo.sampler, fraction) } : {}),
      },
    },
    evaluations: Object.fromEntries(Object.entries(results).map(([m, r]) => [m, r.evaluations])),
  };
  const rows: Record<string, number[]> = {};
  for (const [m, r] of Object.entries(results)) {
    const avg = r.rmseMean!.reduce((s, v) => s + v, 0) / L;
    console.log(
      `${m}: RMSE per frame ${r.rmseMean!.map((v) => v.toFixed(3)).join(" ")} | mean ${
        avg.toFixed(4)
      } | ${r.seconds.toFixed(1)} s`,
    );
    for (const rep of r.reports) if (!rep.completed) console.log(`  ${rep.message}`);
    summary[m] = { rmse: r.rmseMean, rmseMean: avg, seconds: r.seconds, reports: r.reports };
    rows[m] = r.rmseMean!;
  }
  const { norm_mean: cm, norm_std: cs } = store.attrs;
  const clim = cm && cs
    ? normalisedMoments(cm, cs, norm)
    : info.climatology
    ? normalisedMoments(info.climatology.mean, info.climatology.std, norm)
    : undefined;
  if (clim) {
    rows.climatology = rmsePerFrame(climatologyEstimate(L, n, n, clim), truth, L);
    summary.climatology = { rmse: rows.climatology };
    printRmseTable(rows, observations[0].frames);
  } else {
    console.log("(no climatology: the store has no statistics and the prior records none)");
  }
  await writeJsonAtomic(`${a.out}/results.json`, summary);
  const estimates = Object.entries(results).map(
    ([m, r]) => [m.toUpperCase(), r.mean] as [string, Float32Array],
  );
  await writePng(
    `${a.out}/assimilate.png`,
    assimilationFigure({ truth, observations, estimates, n, frames: L }),
  );
  if (a.save) {
    for (const [m, r] of Object.entries(results)) {
      await saveAnalysis(`${a.out}/${m}.zarr`, r, {
        normalisation: norm,
        truth,
        extent: store.config.qg.L,
        startDay: start * store.config.every,
        daysPerFrame: store.config.every,
        replace: a.force,
        attrs: { method: m, prior: m === "soad" ? priorSrc : sdaSrc, data: a.data, window: win },
      });
    }
  }
  console.log(
    `wrote ${a.out}/results.json and ${a.out}/assimilate.png` +
      (a.save ? ` and ${Object.keys(results).map((m) => `${m}.zarr`).join(", ")}` : ""),
  );
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
}
