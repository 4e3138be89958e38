/**
 * `deno task cycle` — the cycling twin experiment: SOAD, SDA, an LETKF with the QG model, the free
 * run and climatology on one truth and one set of observations, cycled over days and verified
 * (see docs/cycle.md). `--tune-letkf` sweeps the LETKF's localisation, inflation and RTPS instead.
 * @module
 */

import { parseArgs } from "node:util";
import { InvalidArgumentError } from "../src/errors.ts";
import {
  parseBackgroundLikelihoodFlag,
  parseClipScaleFlag,
  parseSigmaXFlag,
} from "./sampler_flags.ts";
import { SPEC_CLIP_SCALE, SPEC_SIGMA_X } from "../src/diffusion/sampler_defaults.ts";
import { BUILTIN_OPERATORS } from "../src/obs/builtin.ts";
import { cycle, CYCLE_METHODS, type CycleMethod, type CycleOptions } from "../src/harness/cycle.ts";
import { loadTruth, type Truth } from "../src/harness/truth.ts";
import { readF64 } from "../src/harness/cycle_store.ts";
import {
  cycleSampler,
  priorAssimilator,
  readCyclePrior,
} from "../src/harness/prior_assimilator.ts";
import { tuneLetkf } from "../src/harness/tune_letkf.ts";
import { DATA_PRESETS } from "../src/data/config.ts";
import { fetchPriorBytes } from "../src/diffusion/prior.ts";
import { readPriorInfo } from "../src/diffusion/prior_info.ts";
import { checkNormalisationsMatch } from "../src/diffusion/normalisation_match.ts";
import { type BackendName, defaultThreads } from "../src/backend/select.ts";
import { setLetkfThreads } from "../src/assim/letkf_wasm.ts";

const HELP = `deno task cycle [flags]

Cycles SOAD, SDA, an LETKF (with the QG model), the free run and climatology over a truth
trajectory with the same observations, verifies every day (RMSE normalised and physical, spread,
spread-skill, CRPS, rank histogram) and writes summary.json, summary.md, rmse.png, spread.png,
rank_histograms.png, snapshot.png and analyses.zarr under --out. Resumable (--resume).

truth (one of):
  --truth T.npy         [T, 2, H, W] float32 physical q, daily frames
  --truth-meta F.json   its sidecar (default T.json): qg_params and pool (models/demo/window.json)
  --simulate DAYS       simulate a truth with the demo preset's physics (128^2 -> 64^2, 3-year warm-up)
observations:
  --op NAME             arctan3x (default) | sin3x | vor2vel
  --ratio P | --stride S  random mask of a fraction P (default 0.25) | every S points
  --interval N          observe every N days (default 1)
  --days D              days verified (default: all the truth's frames, or DAYS of --simulate)
  --seed S              seed of the observations, the samplers and --simulate (default 0)
methods:
  --methods LIST        any of soad,sda,letkf,free,climatology (default: all)
  --prior P             SOAD prior: a shipped name, a models/ folder, a safetensors path or a URL
                        (default: the shipped prior of --op)
  --sda-prior P         SDA prior, the same forms (default: the shipped sda)
  --samples S           SOAD/SDA posterior samples per window (default 4)
  --steps K             sampler steps (default: the prior's metadata; 64 for the shipped priors)
  --t-max T             sampler start time (default: the prior's metadata; 0.85 for the shipped)
  --corrections M       Langevin corrections per step (default 5)
  --background-likelihood on|off
                        soad: a window's background also enters the likelihood, not only the FDC
                        (default off, whatever the prior's metadata says: with an analysis as the
                        background and its estimated sigma_b it measured worse, docs/results.md)
  --sigma-x X           soad: σx of the likelihood coefficient (default 1, the spec's, whatever the
                        prior's metadata says: its value was chosen on single windows)
  --clip-scale X        soad: κ of the likelihood clip (default 1, the spec's, likewise)
  --sigma-b X           SOAD background std: auto (default: the previous analysis's calibrated
                        spread, sqrt((1 + 1/S) mean spread^2)) or a number
  --initial-background none|climatology   background of SOAD's first window (default none)
  --members N           LETKF members (default 32)
  --loc-radius KM       Gaspari-Cohn half-width in km; weight 0 beyond twice it (default 100)
  --inflation R         multiplicative inflation (default 1.05)
  --rtps A              relaxation to prior spread (default 0.5)
  --weight-stride S     LETKF weight interpolation: solve every S-th column in x and y, interpolate
                        the transforms in between (default 1: every column, the exact LETKF)
  --workers W           forecast Workers (default 2)
  --letkf-threads N     threads of the LETKF analysis kernel, 1 or 2 (default: the cores, at most
                        2; the same bytes on either: the forecast Workers are idle meanwhile)
  --warmup-days D       warm-up of the simulated truth and climatology runs (default 1095)
  --climatology-from DIR  reuse the climatological states of an earlier run (DIR/state/climatology)
  --tune-letkf          sweep --tune-loc x --tune-inflation x --tune-rtps with the LETKF only
  --tune-loc LIST       (default 50,100,200)   --tune-inflation LIST (default 1,1.05)
  --tune-rtps LIST      (default 0,0.5)
output:
  --out DIR             output folder (required; refused if it exists and is not empty)
  --resume              continue the run in --out (same flags; the same bytes as uninterrupted)
  --force               replace an existing --out
  --save-members        also write every member to analyses.zarr
  --backend NAME        webgpu | wasm | cpu for the priors (default wasm in the Workers)
`;

function num(name: string, v: string | undefined, lo: number, hi = Infinity, int = false): number {
  const x = Number(v);
  if (
    v === undefined || v.trim() === "" || !(x >= lo && x <= hi) || (int && !Number.isInteger(x))
  ) {
    throw new InvalidArgumentError(
      `--${name} expects ${int ? "an integer" : "a number"} in [${lo}, ${hi}], got "${v}"`,
    );
  }
  return x;
}

function list(name: string, v: string, lo: number, hi: number): number[] {
  return v.split(",").map((s) => num(name, s, lo, hi));
}

async function main(): Promise<number> {
  const { values: a } = parseArgs({
    args: Deno.args,
    strict: true,
    options: {
      help: { type: "boolean", short: "h" },
      truth: { type: "string" },
      "truth-meta": { type: "string" },
      simulate: { type: "string" },
      op: { type: "string", default: "arctan3x" },
      ratio: { type: "string" },
      stride: { type: "string" },
      interval: { type: "string", default: "1" },
      days: { type: "string" },
      seed: { type: "string", default: "0" },
      methods: { type: "string", default: CYCLE_METHODS.join(",") },
      prior: { type: "string" },
      "sda-prior": { type: "string" },
      samples: { type: "string", default: "4" },
      steps: { type: "string" },
      "t-max": { type: "string" },
      corrections: { type: "string", default: "5" },
      "background-likelihood": { type: "string" },
      "sigma-x": { type: "string" },
      "clip-scale": { type: "string" },
      "sigma-b": { type: "string", default: "auto" },
      "initial-background": { type: "string", default: "none" },
      members: { type: "string", default: "32" },
      "loc-radius": { type: "string", default: "100" },
      inflation: { type: "string", default: "1.05" },
      rtps: { type: "string", default: "0.5" },
      workers: { type: "string", default: "2" },
      "weight-stride": { type: "string", default: "1" },
      "warmup-days": { type: "string" },
      "climatology-from": { type: "string" },
      "tune-letkf": { type: "boolean", default: false },
      "letkf-threads": { type: "string" },
      "tune-loc": { type: "string", default: "50,100,200" },
      "tune-inflation": { type: "string", default: "1,1.05" },
      "tune-rtps": { type: "string", default: "0,0.5" },
      out: { type: "string" },
      resume: { type: "boolean", default: false },
      force: { type: "boolean", default: false },
      "save-members": { type: "boolean", default: false },
      backend: { type: "string" },
    },
  });
  if (a.help) {
    console.log(HELP);
    return 0;
  }
  if (!a.out) {
    throw new InvalidArgumentError("--out DIR is required (a folder that does not exist yet)");
  }
  if ((a.truth === undefined) === (a.simulate === undefined)) {
    throw new InvalidArgumentError("give exactly one of --truth T.npy or --simulate DAYS");
  }
  if (a["truth-meta"] !== undefined && a.truth === undefined) {
    throw new InvalidArgumentError("--truth-meta goes with --truth");
  }
  const operator = BUILTIN_OPERATORS[a.op!];
  if (!operator) {
    throw new InvalidArgumentError(
      `--op must be one of ${Object.keys(BUILTIN_OPERATORS).join(", ")}, got "${a.op}"`,
    );
  }
  if (a.ratio !== undefined && a.stride !== undefined) {
    throw new InvalidArgumentError("give --ratio or --stride, not both");
  }
  const ratio = a.stride === undefined ? num("ratio", a.ratio ?? "0.25", 1e-6, 1) : undefined;
  const stride = a.stride === undefined ? undefined : num("stride", a.stride, 1, 1024, true);
  const methods = a.methods!.split(",").map((s) => s.trim()) as CycleMethod[];
  for (const m of methods) {
    if (!CYCLE_METHODS.includes(m)) {
      throw new InvalidArgumentError(
        `--methods: unknown method "${m}" (expected ${CYCLE_METHODS.join(",")})`,
      );
    }
  }
  const seed = num("seed", a.seed, 0, 2 ** 31, true);
  const warmupDays = a["warmup-days"] === undefined
    ? undefined
    : num("warmup-days", a["warmup-days"], 0, 1e5, true);
  const sigmaB = a["sigma-b"] === "auto"
    ? "auto" as const
    : num("sigma-b", a["sigma-b"], 1e-6, 100);
  const ib = a["initial-background"];
  if (ib !== "none" && ib !== "climatology") {
    throw new InvalidArgumentError(`--initial-background must be none or climatology, got "${ib}"`);
  }
  let truth: Truth | { simulate: number; seed: number; warmupDays?: number };
  let grid: [number, number];
  if (a.truth !== undefined) {
    truth = await loadTruth(a.truth, a["truth-meta"]);
    grid = [truth.height, truth.width];
  } else {
    truth = { simulate: num("simulate", a.simulate, 1, 100000, true), seed, warmupDays };
    grid = [
      DATA_PRESETS.demo.qg.ny / DATA_PRESETS.demo.pool,
      DATA_PRESETS.demo.qg.nx / DATA_PRESETS.demo.pool,
    ];
  }
  // sampler settings: explicit flags win, else each prior's metadata (the one source of defaults)
  const stepsFlag = a.steps === undefined ? undefined : num("steps", a.steps, 1, 4096, true);
  const tMaxFlag = a["t-max"] === undefined ? undefined : num("t-max", a["t-max"], 0.05, 1);
  const corrections = num("corrections", a.corrections, 0, 100, true);
  const bglFlag = parseBackgroundLikelihoodFlag(a["background-likelihood"]);
  const guidance = {
    sigmaX: parseSigmaXFlag(a["sigma-x"]),
    clipScale: parseClipScaleFlag(a["clip-scale"]),
  };
  const backend = a.backend as BackendName | undefined;
  // the priors: read and checked before any work
  const assimilators: CycleOptions["assimilators"] = {};
  const priorIds: Record<string, unknown> = {};
  const priorSteps: Partial<Record<"soad" | "sda", number>> = {};
  let normalisation: { offset: [number, number]; std: [number, number] } | undefined;
  let steps = stepsFlag ?? 0;
  for (const m of ["soad", "sda"] as const) {
    if (!methods.includes(m)) continue;
    const source = m === "soad" ? a.prior ?? a.op! : a["sda-prior"] ?? "sda";
    const prior = await readCyclePrior(source, m === "soad" ? a.op! : "sda", grid);
    const sampler = cycleSampler(prior, {
      steps: stepsFlag,
      tMax: tMaxFlag,
      corrections,
      backend,
      ...(m === "soad" && bglFlag !== undefined ? { backgroundLikelihood: bglFlag } : {}),
      ...(m === "soad" ? guidance : {}),
    });
    const n = prior.normalisation;
    const pn = { offset: [n.offset[0], n.offset[1]], std: [n.std[0], n.std[1]] } as {
      offset: [number, number];
      std: [number, number];
    };
    if (normalisation) {
      const notes = checkNormalisationsMatch({ SOAD: normalisation, SDA: pn });
      for (const n of notes) console.error(n);
    }
    normalisation = normalisation ?? pn;
    assimilators[m] = priorAssimilator(prior, sampler);
    steps = Math.max(steps, sampler.steps);
    priorIds[`${m}_prior_sha256`] = prior.sha256;
    priorIds[`${m}_t_max`] = sampler.tMax;
    // the background likelihood only where on (runs from before it existed resume unchanged)
    if (m === "soad" && sampler.backgroundLikelihood) {
      priorIds.soad_background_likelihood = true;
    }
    // σx and κ only where not the spec's 1 (runs from before they existed resume unchanged)
    if (m === "soad" && sampler.sigmaX !== undefined && sampler.sigmaX !== SPEC_SIGMA_X) {
      priorIds.soad_sigma_x = sampler.sigmaX;
    }
    if (m === "soad" && sampler.clipScale !== undefined && sampler.clipScale !== SPEC_CLIP_SCALE) {
      priorIds.soad_clip_scale = sampler.clipScale;
    }
    priorSteps[m] = sampler.steps;
  }
  if (steps === 0) steps = 32; // no prior: only the summary's record
  // what a --resume must match (the same keys and order as before K came from the metadata, so a
  // run with --steps resumes across the change; K per method only where SOAD and SDA differ)
  const identity: Record<string, unknown> = { steps, corrections, ...priorIds };
  for (const [m, k] of Object.entries(priorSteps)) if (k !== steps) identity[`${m}_steps`] = k;
  if (!normalisation) {
    // no prior: the shipped priors' normalisation (their metadata), so scores compare across runs
    const n = readPriorInfo((await fetchPriorBytes("arctan3x")).bytes, "prior arctan3x")
      .normalisation;
    normalisation = { offset: [n.offset[0], n.offset[1]], std: [n.std[0], n.std[1]] };
  }
  let climatology: Float64Array | undefined;
  if (a["climatology-from"] !== undefined) {
    const f = `${a["climatology-from"]}/state/climatology/states.f64`;
    climatology = await readF64(f);
    if (!climatology) throw new InvalidArgumentError(`--climatology-from: no ${f}`);
  }
  const common: CycleOptions = {
    climatology,
    truth,
    methods,
    operator,
    ratio,
    stride,
    interval: num("interval", a.interval, 1, 8, true),
    days: a.days === undefined ? undefined : num("days", a.days, 1, 100000, true),
    seed,
    normalisation,
    assimilators,
    samples: num("samples", a.samples, 1, 1024, true),
    steps,
    sigmaB,
    initialBackground: ib,
    members: num("members", a.members, 2, 4096, true),
    locRadiusKm: a["loc-radius"] === "inf" ? Infinity : num("loc-radius", a["loc-radius"], 1e-3),
    inflation: num("inflation", a.inflation, 1, 10),
    rtps: num("rtps", a.rtps, 0, 1),
    workers: num("workers", a.workers, 0, 64, true),
    weightStride: num("weight-stride", a["weight-stride"], 1, 64, true),
    warmupDays,
    out: a.out,
    resume: a.resume,
    force: a.force,
    saveMembers: a["save-members"],
    identity,
  };
  const letkfThreads = a["letkf-threads"] === undefined
    ? defaultThreads()
    : num("letkf-threads", a["letkf-threads"], 1, 2, true);
  if (methods.includes("letkf") || a["tune-letkf"]) await setLetkfThreads(letkfThreads);
  if (a["tune-letkf"]) {
    const r = await tuneLetkf(common, {
      loc: list("tune-loc", a["tune-loc"]!, 1e-3, Infinity),
      inflation: list("tune-inflation", a["tune-inflation"]!, 1, 10),
      rtps: list("tune-rtps", a["tune-rtps"]!, 0, 1),
    });
    console.log(r.table);
    console.log(`wrote ${a.out}/tune.json and tune.md in ${r.seconds.toFixed(0)} s`);
    return 0;
  }
  const r = await cycle(common);
  const pad = (s: string, w = 13) => s.padEnd(w);
  console.log(`\n${pad("method")}${pad("RMSE")}${pad("spread")}${pad("CRPS")}${pad("seconds")}`);
  for (const [m, s] of Object.entries(r.summary.methods)) {
    if (s.error) {
      console.log(`${pad(m)}failed: ${s.error}`);
      continue;
    }
    console.log(
      pad(m) + pad(s.rmse_mean.toFixed(3)) + pad(s.spread_mean.toFixed(3)) +
        pad(s.crps_mean.toFixed(3)) +
        pad(s.seconds.toFixed(0)),
    );
  }
  console.log(
    `\nwrote ${a.out}/summary.json, summary.md, *.png and analyses.zarr in ${
      r.seconds.toFixed(0)
    } s`,
  );
  return 0;
}

try {
  Deno.exit(await main());
} catch (e) {
  console.error(`soad cycle: ${e instanceof Error ? e.message : e}`);
  Deno.exit(1);
}
