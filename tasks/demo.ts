/**
 * `deno task demo` — the main job on an embedded default: assimilate sparse, noisy, nonlinear
 * observations of a held-out QG window with a shipped SOAD prior and the SDA baseline, print the
 * per-frame RMSE of both next to climatology, and write a figure. No flags needed; no data to
 * generate (the truth window and the priors are in `models/`). About a minute on 2 cores.
 * @module
 */

import { parseArgs } from "node:util";
import {
  parseBackgroundLikelihoodFlag,
  parseClipScaleFlag,
  parseSigmaXFlag,
  parseTauFlag,
} from "./sampler_flags.ts";
import { selectBackend } from "../src/backend/select.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { writeJsonAtomic } from "../src/io/atomic.ts";
import { writePng } from "../src/io/image.ts";
import { prepareOutputDir } from "../src/io/output_dir.ts";
import { Progress } from "../src/io/progress.ts";
import { knownBackground, SIGMA_BACKGROUND } from "../src/obs/background.ts";
import { observeStack } from "../src/obs/observe.ts";
import { getOperator } from "../src/obs/registry.ts";
import type { AssimilateResult } from "../src/assim/assimilate.ts";
import { assimilateInWorker } from "../src/assim/assimilate_parallel.ts";
import {
  climatologyEstimate,
  normalisedMoments,
  pointwisePosteriorMean,
} from "../src/assim/baselines.ts";
import { rmsePerFrame } from "../src/assim/metrics.ts";
import { checkPriorFit } from "../src/assim/prior_fit.ts";
import { saveAnalysis } from "../src/assim/save_analysis.ts";
import { fetchPriorBytes } from "../src/diffusion/prior.ts";
import { type PriorInfo, readPriorInfo } from "../src/diffusion/prior_info.ts";
import { samplerDefault, type SamplerDefaults } from "../src/diffusion/sampler_defaults.ts";
import {
  observedFraction,
  samplerForDensity,
  sparseApplies,
} from "../src/diffusion/sparse_sampler.ts";
import { checkNormalisationsMatch } from "../src/diffusion/normalisation_match.ts";
import { DATA_PRESETS } from "../src/data/config.ts";
import { dataPhysics } from "../src/data/physics.ts";
import { Rng } from "../src/rng.ts";
import { assimilationFigure } from "./assim_figure.ts";
import {
  ASSIM_DEFAULTS,
  backgroundText,
  checkDataFit,
  dataMismatches,
  fetchWindow,
  guidanceText,
  guidanceValues,
  numFlag as num,
  printRmseTable,
  samplerText,
  samplerValues,
  sparseText,
} from "./assim_cli.ts";
import { pathToFileURL } from "node:url";

const DEMO = new URL("../models/demo/", import.meta.url);

const HELP = `deno task demo [flags]

Assimilates observations of a held-out QG window (models/demo/window.npy, 9 daily frames, 64x64,
both layers) with a shipped SOAD prior and the SDA baseline (models/<op>-small, models/sda-small),
prints the per-frame RMSE of both and of two baselines without a learned prior — climatology (the
training mean; about 1 in normalised units) and, for arctan3x and sin3x, "pointwise" (the
observation-only Bayes estimate of every point on its own, from the same observations and
background) — and writes demo.png and results.json under --out (and the analyses with --save).

  --op NAME            arctan3x (default) | sin3x | vor2vel
  --prior P            the SOAD prior: a shipped name, path or URL (default: the shipped <op> prior)
  --sda-prior P        the SDA prior (default: the shipped sda prior)
  --window F.npy       your own truth window of physical q, float32/64 [frames >= 9, 2, n, n]
                       (default: the demo's held-out window)
  --ratio P            random mask: observe a fraction P of the grid points (default 0.25)
  --stride S           uniform mask every S points instead of --ratio
  --interval N         observe frames 0, N, 2N, ... (default 2)
  --setting I|II       I: background at frame 0 (sigma_b = 0.1, default); II: none
  --steps K            sampler steps for both methods (default: each prior's own, 128 for the
                       shipped SOAD priors, 64 for SDA)
  --t-max T            start of the sampler's time grid for both methods (default: each prior's,
                       0.85 for the shipped ones; 1 = the spec, see docs/results.md)
  --corrections M      Langevin corrections per step (default 5)
  --tau X              Langevin step scale for both methods (default: each prior's, else 0.25)
  --sigma-x X          SOAD: σx of the likelihood coefficient (default: the SOAD prior's, else 1,
                       the spec's)
  --clip-scale X       SOAD: κ of the likelihood clip c <= κ/max|grad| (default: the SOAD prior's,
                       else 1, the spec's)
  --background-likelihood on|off
                       setting I, SOAD: the background also enters the likelihood, not only the
                       FDC (default: the SOAD prior's metadata, on for the shipped ones; off = the
                       spec's code)
  --no-sda             SOAD only
  --seed N             seed of the mask, noise, background and sampler (default 0)
  --backend NAME       webgpu | wasm | cpu (default: automatic)
  --save               also write the analyses (ensemble, mean, spread, truth; physical q) as
                       Zarr stores soad.zarr and sda.zarr (xarray.open_zarr opens them)
  --allow-mismatch     run a prior that does not fit the observations or the data (refused
                       otherwise, naming both sides)
  --out DIR            output directory (default out/demo; refused when it exists and is not
                       empty unless --force)
  --force              replace the files of an existing --out
`;

interface CheckedPrior extends Omit<PriorInfo, "weights"> {
  bytes: Uint8Array;
  source: string;
}

async function readPrior(source: string): Promise<CheckedPrior> {
  const { bytes } = await fetchPriorBytes(source);
  const { weights: _w, ...info } = readPriorInfo(bytes, `prior ${source}`);
  return { ...info, bytes, source };
}

/**
 * The demo: parses `args` (as \`deno task demo\` does), runs it and returns the exit code.
 * Exported so that the demo runs from a remote import too (\`import { demo } from ".../demo"\`).
 *
 * @example
 * ```ts ignore
 * import { demo } from "./demo.ts";
 * await demo(["--steps", "8", "--no-sda", "--out", "out/quick"]);
 * ```
 */
export async function demo(args: string[]): Promise<number> {
  const { values: a } = parseArgs({
    args,
    strict: true,
    options: {
      help: { type: "boolean", short: "h" },
      op: { type: "string", default: ASSIM_DEFAULTS.op },
      prior: { type: "string" },
      "sda-prior": { type: "string", default: "sda" },
      window: { type: "string" },
      ratio: { type: "string" },
      stride: { type: "string" },
      interval: { type: "string", default: String(ASSIM_DEFAULTS.interval) },
      setting: { type: "string", default: ASSIM_DEFAULTS.setting },
      steps: { type: "string" },
      "t-max": { type: "string" },
      tau: { type: "string" },
      "sigma-x": { type: "string" },
      "clip-scale": { type: "string" },
      "background-likelihood": { type: "string" },
      corrections: { type: "string", default: String(ASSIM_DEFAULTS.corrections) },
      "no-sda": { type: "boolean", default: false },
      seed: { type: "string", default: String(ASSIM_DEFAULTS.seed) },
      backend: { type: "string" },
      save: { type: "boolean", default: false },
      "allow-mismatch": { type: "boolean", default: false },
      out: { type: "string", default: "out/demo" },
      force: { type: "boolean", default: false },
    },
  });
  if (a.help) {
    console.log(HELP);
    return 0;
  }
  const op = getOperator(a.op!);
  if (a.setting !== "I" && a.setting !== "II") {
    throw new InvalidArgumentError(`--setting must be I or II, got "${a.setting}"`);
  }
  if (a.backend !== undefined && !["webgpu", "wasm", "cpu"].includes(a.backend)) {
    throw new InvalidArgumentError(`--backend must be webgpu, wasm or cpu, got "${a.backend}"`);
  }
  if (a.ratio !== undefined && a.stride !== undefined) {
    throw new InvalidArgumentError("give --ratio or --stride, not both");
  }
  const ratio = a.stride === undefined
    ? num("ratio", a.ratio ?? String(ASSIM_DEFAULTS.ratio), 1e-6, 1)
    : undefined;
  const stride = a.stride === undefined ? undefined : num("stride", a.stride, 1, 64, true);
  const interval = num("interval", a.interval!, 1, 9, true);
  const stepsFlag = a.steps === undefined ? undefined : num("steps", a.steps, 1, 4096, true);
  const tMaxFlag = a["t-max"] === undefined ? undefined : num("t-max", a["t-max"], 0.05, 1);
  const corrections = num("corrections", a.corrections!, 0, 100, true);
  const tauFlag = parseTauFlag(a.tau);
  const guidance = {
    sigmaX: parseSigmaXFlag(a["sigma-x"]),
    clipScale: parseClipScaleFlag(a["clip-scale"]),
  };
  const bglFlag = parseBackgroundLikelihoodFlag(a["background-likelihood"], a.setting);
  const seed = num("seed", a.seed!, 0, 2 ** 31, true);
  const allow = a["allow-mismatch"]!;
  // the output folder is checked (absent/empty or --force, writable) before any work
  await prepareOutputDir(a.out!, { force: a.force });
  const t0 = performance.now();

  // read and check both priors (metadata, fit to the observations) before any sampling; the
  // Workers get the bytes
  const soad = await readPrior(a.prior ?? a.op!);
  const sda = a["no-sda"] ? undefined : await readPrior(a["sda-prior"]!);
  if (sda) {
    const notes = checkNormalisationsMatch({ SOAD: soad.normalisation, SDA: sda.normalisation });
    for (const n of notes) console.error(n);
  }
  const L = soad.trainedFor.frames;
  const windowUrl = a.window ? pathToFileURL(a.window) as URL : new URL("window.npy", DEMO);
  const win = await fetchWindow(windowUrl, L);
  const meta = a.window ? { store_window: "user", dataset: undefined } : {
    ...(await (await fetch(new URL("window.json", DEMO))).json()),
    dataset: "demo",
    physics: dataPhysics(DATA_PRESETS.demo), // the demo store's window (window.json)
  };
  const n = win.shape[2];
  const R = n * n;
  const { offset, std } = soad.normalisation;
  const truth = new Float32Array(L * 2 * R);
  for (let i = 0; i < truth.length; i++) {
    const c = Math.floor(i / R) % 2;
    truth[i] = (Number(win.data[i]) - offset[c]) / std[c];
  }
  checkDataFit(
    dataMismatches(soad.trainedFor, soad.normalisation, soad.climatology, {
      grid: [n, n],
      dataset: meta.dataset,
      physics: meta.physics,
      truth,
    }),
    allow,
    `SOAD prior ${soad.source}`,
  );
  const fit = { method: "soad" as const, operators: [op], height: n, width: n };
  const override = "--allow-mismatch";
  if (!allow) checkPriorFit(soad.trainedFor, fit, `SOAD prior ${soad.source}`, override);
  if (sda && !allow) {
    checkPriorFit(sda.trainedFor, { ...fit, method: "sda" }, `SDA prior ${sda.source}`, override);
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
  // each prior's defaults for this density of observations (its sparse settings where they apply;
  // SOAD's background observes all of frame 0, so with it nothing is sparse for SOAD)
  const fraction = observedFraction(observations.map((o) => o.mask));
  const soadSampler = samplerForDensity(soad.sampler, background ? 1 : fraction);
  const sdaSampler = sda ? samplerForDensity(sda.sampler, fraction) : undefined;
  // K, t-max and τ: the flags for both methods, else each prior's own (chosen on the valid split)
  const samplers: Record<string, SamplerDefaults> = sdaSampler
    ? { SOAD: soadSampler, SDA: sdaSampler }
    : { SOAD: soadSampler };
  const steps = samplerValues("steps", stepsFlag, samplers);
  const tMaxes = samplerValues("tMax", tMaxFlag, samplers);
  const taus = samplerValues("tau", tauFlag, samplers);
  const what =
    `${op.name}, ${ratio !== undefined ? `${ratio * 100}% random points` : `stride ${stride}`}, ` +
    `frames ${observations[0].frames.join(",")}, sigma_o 0.1, setting ${a.setting}`;
  const backend = await selectBackend({
    prefer: a.backend as "wasm" | "webgpu" | "cpu" | undefined,
    quiet: true,
  });
  console.log(
    `soad demo: ${n}x${n} QG window (${
      a.window ? a.window : `store window ${meta.store_window}, test split`
    }), ${what}`,
  );
  console.log(
    `  sampler: ${samplerText("K = ", steps, stepsFlag)}, M = ${corrections}, ` +
      `${samplerText("t from ", tMaxes, tMaxFlag)} to 0, ${samplerText("tau ", taus, tauFlag)}${
        guidanceText(guidance, soadSampler)
      }${sda ? guidanceText({}, sdaSampler!, "SDA ") : ""}${
        backgroundText(background !== undefined, bglFlag, soadSampler)
      }${
        sparseText(fraction, {
          ...(background ? {} : { SOAD: soad.sampler }),
          ...(sda ? { SDA: sda.sampler } : {}),
        })
      }; backend ${backend.name}`,
  );

  // SOAD and SDA run at the same time in two Workers (tfjs-wasm is one thread per instance)
  const common = {
    observations,
    frames: L,
    corrections,
    tau: tauFlag,
    seed,
    truth,
    backend: backend.name,
    allowPriorMismatch: allow,
  };
  const methods = a["no-sda"] ? ["SOAD"] : ["SOAD", "SDA"];
  const total = methods.reduce((n, m) => n + steps[m], 0);
  const bar = new Progress({ total, label: methods.join(" + ") });
  const done: Record<string, number> = { SOAD: 0, SDA: 0 };
  const tick = (m: string) => () => {
    done[m]++;
    bar.tick(1, methods.map((x) => `${x} ${done[x]}/${steps[x]}`).join(", "));
  };
  const jobs = [
    assimilateInWorker({
      ...common,
      weights: soad.bytes,
      method: "soad",
      steps: steps.SOAD,
      tMax: tMaxes.SOAD,
      background,
      backgroundLikelihood: bglFlag,
      ...guidance,
      onStep: tick("SOAD"),
    }),
  ];
  if (sda) {
    jobs.push(
      assimilateInWorker({
        ...common,
        weights: sda.bytes,
        method: "sda",
        steps: steps.SDA,
        tMax: tMaxes.SDA,
        onStep: tick("SDA"),
      }),
    );
  }
  const out = await Promise.all(jobs);
  bar.done();
  const results: Record<string, AssimilateResult> = {};
  methods.forEach((m, i) => (results[m] = out[i]));
  // baselines without a learned prior: climatology (the training mean of each layer) and the
  // observation-only pointwise Bayes estimate (element-wise operators)
  const clim = soad.climatology ?? { mean: [0, 0], std };
  const prior = normalisedMoments(clim.mean, clim.std, { offset, std });
  const rows: Record<string, number[]> = {};
  for (const [m, r] of Object.entries(results)) rows[m] = r.rmseMean!;
  rows.climatology = rmsePerFrame(climatologyEstimate(L, n, n, prior), truth, L);
  const bg = background ? { values: background, sigma: SIGMA_BACKGROUND } : undefined;
  const pointwise = pointwisePosteriorMean(observations, L, n, n, prior, bg);
  if (pointwise) rows.pointwise = rmsePerFrame(pointwise, truth, L);
  printRmseTable(rows, observations[0].frames);
  const names = Object.keys(rows);
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  for (const [m, r] of Object.entries(results)) {
    for (const rep of r.reports) if (!rep.completed) console.log(`  ${m}: ${rep.message}`);
  }

  if (a.save) {
    for (const [m, r] of Object.entries(results)) {
      await saveAnalysis(`${a.out}/${m.toLowerCase()}.zarr`, r, {
        normalisation: soad.normalisation,
        truth,
        replace: a.force,
        attrs: { method: m, prior: m === "SOAD" ? soad.source : sda?.source, observations: what },
      });
    }
  }
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
    sampler: {
      steps,
      tMax: tMaxes,
      corrections,
      tau: taus,
      ...guidanceValues(guidance, soadSampler),
      ...(sda ? { sdaClipScale: samplerDefault("clipScale", sdaSampler!) } : {}),
      backgroundLikelihood: results.SOAD.backgroundLikelihood,
      observedFraction: fraction,
      // whether each prior's sparse settings applied (flags, where given, still set their values)
      sparseSampler: {
        SOAD: sparseApplies(soad.sampler, background ? 1 : fraction),
        ...(sda ? { SDA: sparseApplies(sda.sampler, fraction) } : {}),
      },
    },
    evaluations: Object.fromEntries(Object.entries(results).map(([m, r]) => [m, r.evaluations])),
    observations: what,
    rmse: rows,
    rmseMean: Object.fromEntries(names.map((m) => [m, mean(rows[m])])),
    seconds: Object.fromEntries(Object.entries(results).map(([m, r]) => [m, r.seconds])),
    totalSeconds: seconds,
    backend: backend.name,
  });
  const saved = a.save ? ` and ${methods.map((m) => `${m.toLowerCase()}.zarr`).join(", ")}` : "";
  console.log(
    `\nwrote ${a.out}/demo.png, ${a.out}/results.json${saved} in ${seconds.toFixed(0)} s`,
  );
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await demo(Deno.args));
  } catch (e) {
    console.error(`soad demo: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
}
