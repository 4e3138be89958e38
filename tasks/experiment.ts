/**
 * `deno task experiment --data store.zarr --soad-arctan3x a.safetensors --sda s.safetensors
 *   [--ops arctan3x] [--masks p1,p0.25,s4] [--intervals 1,2,4,8] [--seeds 0,1,2,3,4]
 *   [--methods soad,sda] [--settings I,II] [--steps 256] [--out out/experiment] [--resume]`
 *
 * Runs the paper's evaluation grid (spec §6.1) on the test windows of a dataset store and writes
 * `results.json`, `results.csv`, `summary.md`, `heatmaps/*.png` and `stepwise/*.png` under
 * `--out`. See docs/experiment.md.
 * @module
 */

import { parseArgs } from "node:util";
import {
  parseBackgroundLikelihoodFlag,
  parseClipScaleFlag,
  parseSigmaXFlag,
  parseSparseFlag,
  parseTauFlag,
} from "./sampler_flags.ts";
import {
  agreedSparseSampler,
  type SparseSampler,
  type SparseSamplerKey as SparseKey,
} from "../src/diffusion/sparse_sampler.ts";
import {
  agreedBackgroundLikelihood,
  agreedSamplerDefault,
  samplerDefault,
  type SamplerDefaults,
} from "../src/diffusion/sampler_defaults.ts";
import { checkNormalisationsMatch } from "../src/diffusion/normalisation_match.ts";
import { openDatasetStore } from "../src/data/store.ts";
import { dataPhysics, physicsMismatch } from "../src/data/physics.ts";
import { defaultThreads, selectBackend } from "../src/backend/select.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { prepareOutputDir } from "../src/io/output_dir.ts";
import { removeStrayTemporaries } from "../src/io/atomic.ts";
import { runExperiment, type RunExperimentResult } from "../src/harness/experiment.ts";
import type { ExperimentModel } from "../src/harness/experiment_cell.ts";
import {
  enumerateGrid,
  type ExperimentOp,
  type Method,
  modelOf,
  type Setting,
} from "../src/harness/experiment_grid.ts";
import {
  mergeShards,
  parseShard,
  shardCells,
  shardManifest,
  writeShardManifest,
} from "../src/harness/experiment_shard.ts";
import {
  type EvaluationSplit,
  type LoadedCheckpoint,
  loadExperimentCheckpoint,
  storeExperimentData,
} from "../src/harness/experiment_inputs.ts";

const HELP = `deno task experiment --data store.zarr --soad-<op> F ... --sda F [flags]

Runs the evaluation grid (operators x masks x N x seeds x method x setting) on test windows of a
dataset store; resumable. Writes results.json, results.csv, summary.md, heatmaps/, stepwise/.
Every cell also scores two baselines without a learned prior: climatology and the
observation-only pointwise Bayes estimate (element-wise operators; docs/experiment.md).

Checkpoints (U-Net safetensors; only those the chosen cells need are required):
  --soad-arctan3x F  --soad-sin3x F  --soad-vor2vel F   SOAD models (settings I, II)
  --soad-full F                                         SOAD 10-channel model (setting III)
  --sda F                                               the SDA baseline (C = 2)
Grid (comma lists; defaults = the paper's grid, settings I and II):
  --ops arctan3x,sin3x,vor2vel   --masks p1,p0.25,p0.0625,p0.01,s2,s4,s10
  --intervals 1,2,4,8            --seeds 0,1,2,3,4        --methods soad,sda
  --settings I,II[,III]          --windows 0 (indices in the split)
  --split test|valid (test)      valid: choose checkpoints by assimilation without touching test
  --allow-mismatch               run priors whose metadata names another grid or data configuration
  --variants base[,unknown-bg,no-fdc,jacobian-free,noise-laplace,noise-uniform,noise-lognormal0.5]
Run:
  --data DIR          dataset store (required)
  --steps K (the priors' metadata, else 256)  --corrections M (5)  --samples S (1)  --frames L (9)
  --t-max T (the priors' metadata — 0.85 for the shipped priors — else 1, the spec)
  --tau X   Langevin step scale (the priors' metadata, else 0.25, the spec)
  --sigma-x X  SOAD: σx of the likelihood's closed-form coefficient (default: the SOAD priors'
             metadata, which must agree, else 1, the spec's)
  --clip-scale X  SOAD: κ of the likelihood's clip c <= κ/max|grad| (default: the SOAD priors'
             metadata, which must agree, else 1, the spec's)
  --sda-clip-scale X  the same for the SDA baseline (default: its prior's metadata, else 1)
  --sparse on|off  on (default): cells whose observations cover less of the grid than a prior's
             sparse threshold run with its sparse K, tau, sigma-x and clip scale (its metadata;
             a flag above still sets its value for every cell); off: one setting for every cell
  --refresh  re-evaluate the score before every Langevin correction (M more evaluations a step;
             default: the spec's corrector, whose M moves reuse one evaluation)
  --background-likelihood on|off  setting I, SOAD: the background also enters the likelihood
             (default: the SOAD priors' metadata, which must agree, else off: the spec's FDC only)
  --out DIR (out/experiment)  --resume  --limit N (stop after N new cells)
  --force  replace the results in a non-empty --out (default: refuse; --resume continues them
           when the data's fingerprint and the checkpoints' SHA-256 are the same)
  --backend webgpu|wasm|cpu  --no-figures
  --threads N          threads of the wasm conv engine, 1 or 2 (default: the cores, at most 2)
Many machines (docs/scale-out.md):
  --shard i/n         run shard i (from 0) of n: a deterministic, cost-balanced share of the cells;
                      each shard needs its own --out (it also writes shard.json there)
  --merge D0,D1,...   merge finished shard folders into --out: the files one unsharded run writes
                      (no --data or checkpoints needed); refuses shards of different grids, data or
                      checkpoints and lists missing cells
  --allow-missing     with --merge: write what the shards have even when cells are missing
  --force             with --merge too: write into an existing, non-empty --out
`;

/** A comma list of names. */
export const list = (s: string): string[] => s.split(",").map((x) => x.trim()).filter((x) => x);
/** A comma list of integers; `what` names the flag in the error. */
export const ints = (what: string, s: string): number[] =>
  list(s).map((x) => {
    const v = Number(x);
    if (!Number.isInteger(v)) throw new InvalidArgumentError(`--${what}: "${x}" is not an integer`);
    return v;
  });
function posInt(what: string, s: string): number {
  const v = Number(s);
  if (!(Number.isInteger(v) && v >= 0)) {
    throw new InvalidArgumentError(`--${what} must be a non-negative integer, got "${s}"`);
  }
  return v;
}

const MODELS = ["soad-arctan3x", "soad-sin3x", "soad-vor2vel", "soad-full", "sda"] as const;

/**
 * Runs the task with command-line `args` (what `deno task experiment` does).
 *
 * @example
 * ```ts
 * import { experimentMain } from "./experiment.ts";
 * await experimentMain(["--help"]);
 * ```
 */
export async function experimentMain(args: string[]): Promise<RunExperimentResult | undefined> {
  const { values: a } = parseArgs({
    args,
    options: {
      help: { type: "boolean", short: "h" },
      data: { type: "string" },
      ...Object.fromEntries(MODELS.map((m) => [m, { type: "string" as const }])),
      ops: { type: "string", default: "arctan3x,sin3x,vor2vel" },
      masks: { type: "string", default: "p1,p0.25,p0.0625,p0.01,s2,s4,s10" },
      intervals: { type: "string", default: "1,2,4,8" },
      seeds: { type: "string", default: "0,1,2,3,4" },
      methods: { type: "string", default: "soad,sda" },
      settings: { type: "string", default: "I,II" },
      windows: { type: "string", default: "0" },
      split: { type: "string", default: "test" },
      variants: { type: "string", default: "base" },
      steps: { type: "string" },
      corrections: { type: "string", default: "5" },
      "t-max": { type: "string" },
      tau: { type: "string" },
      "sigma-x": { type: "string" },
      "clip-scale": { type: "string" },
      "sda-clip-scale": { type: "string" },
      refresh: { type: "boolean", default: false },
      "background-likelihood": { type: "string" },
      sparse: { type: "string" },
      samples: { type: "string", default: "1" },
      frames: { type: "string", default: "9" },
      out: { type: "string", default: "out/experiment" },
      resume: { type: "boolean", default: false },
      force: { type: "boolean", default: false },
      limit: { type: "string" },
      backend: { type: "string" },
      threads: { type: "string" },
      "no-figures": { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      "allow-mismatch": { type: "boolean", default: false },
      shard: { type: "string" },
      merge: { type: "string" },
      "allow-missing": { type: "boolean", default: false },
    },
  });
  if (a.help) {
    console.log(HELP);
    return undefined;
  }
  if (a.merge !== undefined) {
    if (a.shard !== undefined || a.resume) {
      throw new InvalidArgumentError(
        "--merge combines finished shard folders; it takes no --shard or --resume (run the shards " +
          "first, then merge once)",
      );
    }
    return await mergeMain(a);
  }
  if (!a.data) throw new InvalidArgumentError("--data is required (see --help)");
  if (a.force && a.resume) {
    throw new InvalidArgumentError("--force replaces the results in --out; drop it with --resume");
  }
  // the data's identity is its fingerprint (content), never its path
  const fingerprint = openDatasetStore(a.data).attrs.fingerprint;
  if (!fingerprint) {
    throw new InvalidArgumentError(
      `${a.data} is not finalised (no fingerprint); run deno task generate --out ${a.data} --finalize`,
    );
  }
  const grid = enumerateGrid({
    ops: list(a.ops!) as ExperimentOp[],
    masks: list(a.masks!),
    intervals: ints("intervals", a.intervals!),
    seeds: ints("seeds", a.seeds!),
    methods: list(a.methods!) as Method[],
    settings: list(a.settings!) as Setting[],
    windows: ints("windows", a.windows!),
    variants: list(a.variants!),
  });
  const shard = a.shard === undefined ? undefined : parseShard(a.shard);
  const cells = shard ? shardCells(grid, shard) : grid;
  const bglFlag = parseBackgroundLikelihoodFlag(a["background-likelihood"]);
  const sparseOn = parseSparseFlag(a.sparse);
  const config = {
    backgroundLikelihood: undefined as boolean | undefined,
    frames: posInt("frames", a.frames!),
    steps: a.steps === undefined ? 0 : posInt("steps", a.steps),
    corrections: posInt("corrections", a.corrections!),
    tMax: a["t-max"] === undefined ? 0 : Number(a["t-max"]),
    samples: posInt("samples", a.samples!),
    tau: parseTauFlag(a.tau),
    sigmaX: parseSigmaXFlag(a["sigma-x"]),
    clipScale: parseClipScaleFlag(a["clip-scale"]),
    sdaClipScale: parseClipScaleFlag(a["sda-clip-scale"], "sda-clip-scale"),
    sparse: undefined as SparseSampler | undefined,
    sdaSparse: undefined as SparseSampler | undefined,
    ...(a.refresh ? { refresh: true } : {}),
  };
  // a shard loads and records every checkpoint of the whole grid: all shards (and an unsharded
  // run) then share one identity of their inputs, which --merge compares
  const needed = [...new Set(grid.map(modelOf))];
  const absent = needed.filter((m) => !(a as Record<string, unknown>)[m]);
  if (absent.length) {
    throw new InvalidArgumentError(
      `missing checkpoint: the chosen cells need ${absent.map((m) => `--${m}`).join(", ")} ` +
        `(or narrow the grid with --ops / --methods / --settings)`,
    );
  }
  const backend = await selectBackend({
    prefer: a.backend as "wasm" | "webgpu" | "cpu" | undefined,
    quiet: true,
    threads: a.threads === undefined ? defaultThreads() : Number(a.threads),
  });
  const loaded: Record<string, LoadedCheckpoint> = {};
  try {
    for (const m of needed) {
      const path = (a as Record<string, unknown>)[m] as string;
      loaded[m] = await loadExperimentCheckpoint(path, m, config.frames);
    }
    const withNorm = needed.map((m) => loaded[m].normalisation).filter((x) => x);
    const normOf: Record<string, { offset: number[]; std: number[] }> = {};
    for (const m of needed) {
      if (loaded[m].normalisation) normOf[`--${m}`] = loaded[m].normalisation!;
    }
    for (const n of checkNormalisationsMatch(normOf)) console.error(n);
    // K, t-max and τ: the flags, else the priors' metadata (which must agree), else the spec's
    const samplers = needed.map((
      m,
    ): [string, SamplerDefaults | undefined] => [m, loaded[m].sampler]);
    const flags = { steps: a.steps, tMax: a["t-max"], tau: a.tau };
    for (const key of ["steps", "tMax", "tau"] as const) {
      if (flags[key] === undefined) {
        config[key] = agreedSamplerDefault(
          key,
          samplers,
          "priors'",
          "to choose one for every cell",
        );
      }
    }
    // the background likelihood: the flag, else the SOAD priors' metadata (which must agree)
    const soadSamplers = samplers.filter(([m]) => m !== "sda");
    // σx and κ: the flags, else the SOAD priors' metadata (which must agree; SDA's κ: below)
    for (const key of ["sigmaX", "clipScale"] as const) {
      if (config[key] === undefined && soadSamplers.length > 0) {
        config[key] = agreedSamplerDefault(
          key,
          soadSamplers,
          "SOAD priors'",
          "to choose one for every cell",
        );
      }
    }
    // SDA's clip scale: the flag, else its prior's metadata
    const sdaSampler = samplers.find(([m]) => m === "sda");
    if (config.sdaClipScale === undefined && sdaSampler) {
      config.sdaClipScale = samplerDefault("clipScale", sdaSampler[1]);
    }
    // sparse observations: the priors' other K, τ, σx and κ (their metadata; the SOAD priors' must
    // agree), less what a flag sets for every cell
    if (sparseOn) {
      const fixed = (keys: [SparseKey, unknown][]): SparseKey[] =>
        keys.filter(([, flag]) => flag !== undefined).map(([k]) => k);
      config.sparse = agreedSparseSampler(
        soadSamplers,
        "SOAD priors'",
        fixed([["steps", a.steps], ["tau", a.tau], ["sigmaX", a["sigma-x"]], [
          "clipScale",
          a["clip-scale"],
        ]]),
      );
      if (sdaSampler) {
        config.sdaSparse = agreedSparseSampler(
          [sdaSampler],
          "SDA prior's",
          fixed([["steps", a.steps], ["tau", a.tau], ["sigmaX", true], [
            "clipScale",
            a["sda-clip-scale"],
          ]]),
        );
      }
    }
    if (agreedBackgroundLikelihood(bglFlag, soadSamplers, "SOAD priors'")) {
      config.backgroundLikelihood = true;
    }
    const split = a.split as EvaluationSplit;
    const data = storeExperimentData(a.data, withNorm[0], split);
    // the priors were trained on this grid and configuration (their metadata), or refused
    const dataConfig = openDatasetStore(a.data).config;
    const dataId = { dataset: dataConfig.name, physics: dataPhysics(dataConfig) };
    for (const m of needed) {
      const t = loaded[m].trainedOn;
      if (!t) continue;
      const bad: string[] = [];
      if (t.grid && (t.grid[0] !== data.height || t.grid[1] !== data.width)) {
        bad.push(`trained on ${t.grid.join("x")}, the data are ${data.height}x${data.width}`);
      }
      const physics = physicsMismatch(t, dataId);
      if (physics) bad.push(physics);
      if (bad.length && !a["allow-mismatch"]) {
        throw new InvalidArgumentError(
          `--${m} does not fit ${a.data}: ${bad.join("; ")}; use priors trained on this data, ` +
            `or pass --allow-mismatch to run anyway`,
        );
      }
    }
    const models: Record<string, ExperimentModel> = {};
    for (const m of needed) {
      models[m] = { denoiser: loaded[m].net, channels: loaded[m].net.config.channels };
    }
    const inputs = {
      data: { fingerprint },
      // absent for test (results files written before --split existed resume unchanged)
      ...(split === "test" ? {} : { split }),
      normalisation: data.normalisation,
      checkpoints: Object.fromEntries(needed.map((m) => [m, loaded[m].sha256])),
    };
    if (!a.quiet) {
      console.error(
        `experiment: ${cells.length} cells, K = ${config.steps}, ${data.height}x${data.width} grid,` +
          ` ${data.count} ${split} windows, backend ${backend.name}` +
          sparseNote("SOAD", config.sparse) + sparseNote("SDA", config.sdaSparse),
      );
    }
    if (a.resume) {
      await prepareOutputDir(a.out!, { allowExisting: () => true });
      removeStrayTemporaries(a.out!); // left by a run killed mid-write
    } else {
      await prepareOutputDir(a.out!, {
        force: a.force,
        hint: "or --resume to continue the run that wrote it",
        // a shard's folder: its shard.json (or unsharded results) are checked just below
        allowExisting: (entries) =>
          shard !== undefined &&
          (entries.includes("shard.json") || entries.includes("results.json")),
      });
      if (a.force) {
        for (const f of ["results.json", "results.csv"]) {
          await Deno.remove(`${a.out}/${f}`).catch(() => {});
        }
      }
    }
    if (shard) await writeShardManifest(a.out!, shardManifest(grid, shard));
    const r = await runExperiment({
      cells,
      data,
      models,
      config,
      out: a.out!,
      resume: a.resume,
      inputs,
      limit: a.limit !== undefined ? posInt("limit", a.limit) : undefined,
      figures: !a["no-figures"],
      progress: a.quiet ? false : undefined,
      // in a log (stderr not a terminal) one line per cell; on a terminal the bar says it
      onCell: a.quiet || Deno.stderr.isTerminal() ? undefined : (c) => {
        console.error(`${c.key}: rmse ${c.rmse} (${c.seconds} s)`);
      },
    });
    if (!a.quiet) {
      console.error(
        `ran ${r.ran} cells, skipped ${r.skipped} finished, ${r.remaining} left; wrote ` +
          `${a.out}/results.json, results.csv` +
          (a["no-figures"] ? "" : `, summary.md and ${r.files.length - 3} figures`),
      );
    }
    return r;
  } finally {
    for (const l of Object.values(loaded)) l.net.dispose();
  }
}

/** `--merge`: shard folders → the files of one unsharded run. */
async function mergeMain(
  a: {
    merge?: string;
    out?: string;
    "no-figures"?: boolean;
    "allow-missing"?: boolean;
    force?: boolean;
    quiet?: boolean;
  },
): Promise<RunExperimentResult> {
  const dirs = list(a.merge!);
  const m = await mergeShards(dirs, a.out!, {
    figures: !a["no-figures"],
    allowMissing: a["allow-missing"],
    force: a.force,
  });
  if (!a.quiet) {
    console.error(
      `merged ${dirs.length} shards: ${m.results.cells.length} cells` +
        (m.missing.length
          ? `, ${m.missing.length} missing (${m.missing.slice(0, 5).join(", ")}…)`
          : "") +
        `; wrote ${a.out}/results.json, results.csv` +
        (a["no-figures"] ? "" : `, summary.md and ${m.files.length - 3} figures`),
    );
  }
  return {
    results: m.results,
    ran: 0,
    skipped: m.results.cells.length,
    remaining: m.missing.length,
    files: m.files,
  };
}

if (import.meta.main) {
  try {
    await experimentMain(Deno.args);
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
}

/** The start line's note of a method's sparse-observation settings (empty where none). */
function sparseNote(who: string, s: SparseSampler | undefined): string {
  if (!s) return "";
  const set = [
    ["K", s.steps],
    ["tau", s.tau],
    ["sigma-x", s.sigmaX],
    ["clip scale", s.clipScale],
  ].filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${v}`);
  const bg = who === "SOAD" ? "without a background " : "";
  return `; ${who} cells ${bg}observing less than ${+(100 * s.below).toPrecision(
    3,
  )} % of the grid: ` +
    set.join(", ");
}
