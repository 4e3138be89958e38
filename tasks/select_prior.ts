/**
 * `deno task select-prior --data store.zarr --run run/train-x [--candidate F ...]` — chooses among
 * candidate priors (a run's best / step snapshots, a shipped prior, …) by ensemble scores on the
 * **valid** split: the same windows, masks, noise and sampler seeds for every candidate, 8
 * members each; prints and writes the table (`selection.json`, `selection.csv`) and names the
 * prior with the lowest CRPS. See `src/harness/select_prior.ts` and docs/results.md.
 * @module
 */

import { parseArgs } from "node:util";
import {
  parseBackgroundLikelihoodFlag,
  parseClipScaleFlag,
  parseSigmaXFlag,
  parseTauFlag,
} from "./sampler_flags.ts";
import { defaultThreads, selectBackend } from "../src/backend/select.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import type { ExperimentOp, Setting } from "../src/harness/experiment_grid.ts";
import { SELECTION_RULE, type SelectionResult, selectPrior } from "../src/harness/select_prior.ts";
import { readSafetensorsMetadata } from "../src/io/safetensors.ts";
import { ints, list } from "./experiment.ts";

const HELP = `deno task select-prior --data store.zarr (--run DIR | --candidate F)... [flags]

Scores candidate priors of one model on the VALID split of a dataset store (never the test
split): every candidate assimilates the same cells (valid windows x masks x N x seeds, the same
draws of masks, noise, background and sampler seeds) with the same sampler, S members each, and
is scored by the mean over the cells of
  CRPS              of the S members (the choice: ${SELECTION_RULE})
  ens-mean RMSE     RMSE of the members' mean
  single RMSE       the members' own RMSE (the paper's single-sample metric)
Candidates must be priors of one model (method and operators), grid and window length; different
normalisations (more than 1 % apart) or physics are refused unless --allow-mismatch.

Candidates:
  --run DIR           a training run folder: its best.safetensors, step-<s>.safetensors (deno task
                      train --keep-every), model-ema.safetensors and model.safetensors
  --candidate F       a weights file (e.g. models/arctan3x-small/weights.safetensors); repeatable
Cells (defaults: the demo's problem on the first 4 valid windows):
  --windows N         valid windows 0..N-1 (default min(4, the split's count))
  --masks LIST        masks (default p0.25)      --intervals LIST  N (default 2)
  --seeds LIST        seeds (default 0)          --setting I|II|III (default I; III for full)
  --ops LIST          observed operators of SDA candidates (default arctan3x)
Sampler (the same for every candidate):
  --samples S         members (default 8, at least 2)
  --steps K           default: the candidates' metadata (must agree)
  --t-max T           default: the candidates' metadata (must agree)
  --corrections M     Langevin corrections (default 5)    --frames L (default 9)
  --tau X             Langevin step scale (default: the candidates' metadata, else 0.25)
  --sigma-x X         SOAD: σx of the likelihood coefficient (default: the candidates' metadata,
                      else 1, the spec's)
  --clip-scale X      SOAD: κ of the likelihood clip (default: the candidates' metadata, else 1)
  --background-likelihood on|off
                      setting I, SOAD: the background also enters the likelihood (default: the
                      candidates' metadata, which must agree, else off: the spec's FDC only)
Run:
  --out DIR           output (default out/select-prior): selection.json, selection.csv and each
                      candidate's cells in candidates/<sha256[:12]>/results.json
  --resume            continue an interrupted selection in --out (finished cells are kept)
  --force             replace the results in a non-empty --out
  --allow-mismatch    score candidates trained with different normalisations or data anyway
  --backend wasm|webgpu|cpu   --threads N (1 or 2)   --quiet
`;

/** The weights files of a run folder, in a fixed order: best, steps ascending, final EMA, final. */
export function runCandidates(dir: string): string[] {
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name);
  } catch (e) {
    throw new InvalidArgumentError(`--run ${dir}: cannot read it (${(e as Error).message})`);
  }
  const steps = names.map((n) => /^step-(\d+)\.safetensors$/.exec(n)).filter((m) => m !== null)
    .map((m) => ({ name: m![0], step: Number(m![1]) })).sort((a, b) => a.step - b.step)
    .map((s) => s.name);
  const picked = [
    ...(names.includes("best.safetensors") ? ["best.safetensors"] : []),
    ...steps,
    ...["model-ema.safetensors", "model.safetensors"].filter((n) => names.includes(n)),
  ];
  if (picked.length === 0) {
    throw new InvalidArgumentError(
      `--run ${dir} holds no weights (best.safetensors, step-<s>.safetensors, model.safetensors)`,
    );
  }
  return picked.map((n) => `${dir}/${n}`);
}

function num(flag: string, v: string | undefined, int: boolean): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === "" || !Number.isFinite(x) || (int && !Number.isInteger(x))) {
    throw new InvalidArgumentError(
      `--${flag} expects ${int ? "an integer" : "a number"}, got "${v}"`,
    );
  }
  return x;
}

/** The table the task prints: one row per candidate, best rank first. */
export function selectionTable(r: SelectionResult): string {
  const f = (x: number | null) => (x === null || !Number.isFinite(x) ? "—" : x.toFixed(4));
  const byRank = [...r.candidates].sort((a, b) => a.rank - b.rank);
  const rows = byRank.map((c) => [
    String(c.rank),
    c.path + (c.weights ? ` (${c.weights})` : ""),
    c.step === null ? "" : String(c.step),
    f(c.crps),
    f(c.rmseEnsembleMean),
    f(c.rmseSingle),
    c.rank === 1 ? "← chosen" : "",
  ]);
  const head = ["rank", "candidate", "step", "CRPS", "ens-mean RMSE", "single RMSE", ""];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(w[i])).join("  ").trimEnd();
  return [line(head), ...rows.map(line)].join("\n");
}

/**
 * Runs the task with command-line `args` (what `deno task select-prior` does); returns the
 * selection (undefined for --help).
 *
 * @example
 * ```ts
 * import { selectPriorMain } from "./select_prior.ts";
 * await selectPriorMain(["--help"]);
 * ```
 */
export async function selectPriorMain(args: string[]): Promise<SelectionResult | undefined> {
  const str = { type: "string" as const };
  const { values: a } = parseArgs({
    args,
    strict: true,
    options: {
      help: { type: "boolean", short: "h" },
      data: str,
      run: { type: "string", multiple: true },
      candidate: { type: "string", multiple: true },
      windows: str,
      masks: str,
      intervals: str,
      seeds: str,
      setting: str,
      ops: str,
      samples: str,
      steps: str,
      "t-max": str,
      corrections: str,
      tau: str,
      "sigma-x": str,
      "clip-scale": str,
      "background-likelihood": str,
      frames: str,
      out: { type: "string", default: "out/select-prior" },
      resume: { type: "boolean", default: false },
      force: { type: "boolean", default: false },
      "allow-mismatch": { type: "boolean", default: false },
      backend: str,
      threads: str,
      quiet: { type: "boolean", default: false },
    },
  });
  if (a.help) {
    console.log(HELP);
    return undefined;
  }
  if (!a.data) throw new InvalidArgumentError("--data is required (see --help)");
  const candidates = [...(a.run ?? []).flatMap(runCandidates), ...(a.candidate ?? [])];
  if (candidates.length === 0) {
    throw new InvalidArgumentError("give candidates: --run DIR and/or --candidate F (see --help)");
  }
  if (a.setting !== undefined && !["I", "II", "III"].includes(a.setting)) {
    throw new InvalidArgumentError(`--setting must be I, II or III, got "${a.setting}"`);
  }
  await selectBackend({
    prefer: a.backend as "wasm" | "webgpu" | "cpu" | undefined,
    quiet: true,
    threads: a.threads === undefined ? defaultThreads() : Number(a.threads),
  });
  const r = await selectPrior({
    candidates,
    data: a.data,
    out: a.out!,
    windows: num("windows", a.windows, true),
    masks: a.masks === undefined ? undefined : list(a.masks),
    intervals: a.intervals === undefined ? undefined : ints("intervals", a.intervals),
    seeds: a.seeds === undefined ? undefined : ints("seeds", a.seeds),
    setting: a.setting as Setting | undefined,
    ops: a.ops === undefined ? undefined : list(a.ops) as ExperimentOp[],
    samples: num("samples", a.samples, true),
    steps: num("steps", a.steps, true),
    tMax: num("t-max", a["t-max"], false),
    corrections: num("corrections", a.corrections, true),
    tau: parseTauFlag(a.tau),
    sigmaX: parseSigmaXFlag(a["sigma-x"]),
    clipScale: parseClipScaleFlag(a["clip-scale"]),
    backgroundLikelihood: parseBackgroundLikelihoodFlag(a["background-likelihood"]),
    frames: num("frames", a.frames, true),
    allowMismatch: a["allow-mismatch"],
    resume: a.resume,
    force: a.force,
    progress: a.quiet ? false : undefined,
    onCandidate: a.quiet ? undefined : (i, n, c, cells) => {
      const md = readSafetensorsMetadata(Deno.readFileSync(c.path));
      console.error(
        `select-prior: candidate ${i}/${n} ${c.path}` + (md.step ? ` (step ${md.step})` : "") +
          `: ${cells} cells`,
      );
    },
  });
  if (!a.quiet) {
    for (const w of r.warnings) console.error(`select-prior: warning: ${w}`);
  }
  const g = r.grid;
  console.log(
    `${r.data.path} valid split, ${r.data.windows} window(s); ${g.model} priors, setting ` +
      `${g.setting}, ${g.ops.join("+")}, masks ${g.masks.join(",")}, N ${g.intervals.join(",")}, ` +
      `seeds ${g.seeds.join(",")}: ${g.cells} cells; S = ${r.config.samples}, K = ` +
      `${r.config.steps}, t-max ${r.config.tMax}, M = ${r.config.corrections}` +
      (r.config.tau === undefined ? "" : `, tau ${r.config.tau}`) +
      (r.config.sigmaX === undefined ? "" : `, sigma-x ${r.config.sigmaX}`) +
      (r.config.clipScale === undefined ? "" : `, clip scale ${r.config.clipScale}`) +
      (r.config.backgroundLikelihood ? ", background: FDC + likelihood" : ""),
  );
  console.log(selectionTable(r));
  if (r.climatology !== null) console.log(`climatology RMSE on the same cells: ${r.climatology}`);
  console.log(
    `chosen (lowest CRPS): ${r.chosen.path}; wrote ${a.out}/selection.json, selection.csv`,
  );
  return r;
}

if (import.meta.main) {
  try {
    await selectPriorMain(Deno.args);
  } catch (e) {
    console.error(`soad select-prior: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
}
