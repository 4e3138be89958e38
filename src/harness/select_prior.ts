/**
 * Checkpoint selection by ensemble scores on the **valid** split (`deno task select-prior`): every
 * candidate prior assimilates the same cells — the same valid windows, masks, observation noise,
 * backgrounds and sampler seeds (a cell's draws depend on its seed and window only) — with the
 * same sampler, S members each (default 8). Per candidate: the mean over the cells of the CRPS
 * of the S members, of the RMSE of their ensemble mean, and of the members' own RMSE (the
 * paper's single-sample metric). The chosen prior is the one with the lowest mean CRPS (ties:
 * lower ensemble-mean RMSE, then the order given): the same rule for SOAD and SDA priors.
 *
 * The test split is never read: the windows come from `storeExperimentData(…, "valid")`, and no
 * option chooses another split. Each distinct candidate (by SHA-256) runs as an experiment grid
 * in `out/candidates/<sha12>/` (resumable, `results.json`); `selection.json` and `selection.csv`
 * hold the table.
 * @module
 */

import { openDatasetStore } from "../data/store.ts";
import { dataPhysics } from "../data/physics.ts";
import { InvalidArgumentError } from "../errors.ts";
import { writeJsonAtomic, writeTextAtomic } from "../io/atomic.ts";
import { prepareOutputDir } from "../io/output_dir.ts";
import type { ProgressStream } from "../io/progress.ts";
import { runExperiment } from "./experiment.ts";
import { type CellResult, round6 } from "./experiment_cell.ts";
import { type ResolvedExperimentConfig, resolveExperimentConfig } from "./experiment_config.ts";
import {
  cellKey,
  enumerateGrid,
  EXPERIMENT_OPS,
  type ExperimentOp,
  type Method,
  type Setting,
} from "./experiment_grid.ts";
import { loadExperimentCheckpoint, storeExperimentData } from "./experiment_inputs.ts";
import { type CandidateInfo, checkCandidates } from "./select_candidates.ts";

/** Format tag of `selection.json`. */
export const SELECTION_FORMAT = "soad-prior-selection/1";

/** The rule, in words (recorded in `selection.json`). */
export const SELECTION_RULE =
  "lowest mean CRPS of the ensemble over the valid cells (ties: lower ensemble-mean RMSE, then " +
  "the order given)";

/** Options of {@link selectPrior}. */
export interface SelectPriorOptions {
  /** Weights files (duplicates by content are scored once). */
  candidates: string[];
  /** Dataset store (its valid split is used). */
  data: string;
  /** Output folder. */
  out: string;
  /** Valid windows 0..n−1 (default min(4, the split's count)). */
  windows?: number;
  /** Seeds (default [0]). */
  seeds?: number[];
  /** Masks (default ["p0.25"]). */
  masks?: string[];
  /** Intervals N (default [2]). */
  intervals?: number[];
  /** Setting (default I; III for `full` priors). */
  setting?: Setting;
  /** The observed operators of SDA candidates (default ["arctan3x"]; `full`: all three). */
  ops?: ExperimentOp[];
  /** Ensemble members S (default 8; at least 2, for the CRPS). */
  samples?: number;
  /** Sampler steps K (default: the candidates' metadata, which must agree). */
  steps?: number;
  /** Sampler start (default: the candidates' metadata, which must agree). */
  tMax?: number;
  /** Langevin corrections M (default 5). */
  corrections?: number;
  /** Langevin step scale τ (default: the candidates' metadata, which must agree, else 0.25). */
  tau?: number;
  /** σx of SOAD's likelihood coefficient (default: the candidates' metadata, else 1). */
  sigmaX?: number;
  /** κ of SOAD's likelihood clip (default: the candidates' metadata, else 1). */
  clipScale?: number;
  /**
   * SOAD's background also in the likelihood (default: the candidates' metadata, which must
   * agree, else false: the spec's FDC-only background).
   */
  backgroundLikelihood?: boolean;
  /** Window length L (default 9). */
  frames?: number;
  /** Score candidates whose normalisation or training configuration differ (default false). */
  allowMismatch?: boolean;
  /** Continue the candidates' results in `out`. */
  resume?: boolean;
  /** Replace the results in a non-empty `out`. */
  force?: boolean;
  /** Progress bars: false, or a stream (default stderr). */
  progress?: false | ProgressStream;
  /** Called before each candidate runs (1-based index, count, candidate, cells). */
  onCandidate?: (i: number, n: number, c: CandidateInfo, cells: number) => void;
  /** Clock in milliseconds (tests: a constant gives byte-stable results). */
  now?: () => number;
}

/** The scores of one candidate. */
export interface CandidateScore {
  /** Rank by the rule (1 = chosen). */
  rank: number;
  /** The candidate's file. */
  path: string;
  /** Its SHA-256. */
  sha256: string;
  /** Training step in its metadata, when recorded. */
  step: number | null;
  /** `ema` / `raw` for weights of a run with EMA, else null. */
  weights: string | null;
  /** Mean CRPS over the cells (null when a sample stopped in some cell: ranked last). */
  crps: number | null;
  /** Mean RMSE of the ensemble mean. */
  rmseEnsembleMean: number;
  /** Mean of the members' own RMSE (the paper's single-sample RMSE). */
  rmseSingle: number | null;
  /** Mean spread–skill ratio. */
  spreadSkill: number | null;
  /** Cells scored. */
  cells: number;
}

/** The content of `selection.json`. */
export interface SelectionResult {
  /** {@link SELECTION_FORMAT}. */
  format: string;
  /** {@link SELECTION_RULE}. */
  rule: string;
  /** The data: store path, fingerprint, configuration, split (always valid) and windows used. */
  data: { path: string; fingerprint: string; dataset: string; split: "valid"; windows: number };
  /** The cells every candidate ran. */
  grid: {
    model: string;
    method: Method;
    setting: Setting;
    ops: ExperimentOp[];
    masks: string[];
    intervals: number[];
    seeds: number[];
    cells: number;
  };
  /** The sampler and scoring configuration. */
  config: ResolvedExperimentConfig;
  /** The normalisation the data were scored in. */
  normalisation: { offset: number[]; std: number[] };
  /** Mean climatology RMSE over the same cells (a reference), when the store has its moments. */
  climatology: number | null;
  /** Mismatches let through with `allowMismatch`. */
  warnings: string[];
  /** Candidates in the order given. */
  candidates: CandidateScore[];
  /** The chosen candidate (rank 1). */
  chosen: { path: string; sha256: string };
}

const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Mean of a field over the cells, null when a cell lacks it. */
function cellMean(cells: CellResult[], get: (c: CellResult) => number | undefined): number | null {
  const v = cells.map(get);
  return v.every((x) => typeof x === "number" && Number.isFinite(x))
    ? round6(mean(v as number[]))
    : null;
}

/**
 * Ranks scores by the rule: CRPS (missing last), then ensemble-mean RMSE, then input order.
 * Returns the ranks (1-based) in input order.
 *
 * @example
 * ```ts
 * import { rankByCrps } from "@soad/soad/internal";
 * console.log(rankByCrps([{ crps: 0.2, rmseEnsembleMean: 1 }, { crps: 0.1, rmseEnsembleMean: 2 }, { crps: null, rmseEnsembleMean: 0 }])); // [2, 1, 3]
 * ```
 */
export function rankByCrps(
  scores: { crps: number | null; rmseEnsembleMean: number }[],
): number[] {
  const order = scores.map((_, i) => i).sort((a, b) => {
    const ca = scores[a].crps ?? Infinity, cb = scores[b].crps ?? Infinity;
    if (ca !== cb) return ca - cb;
    const ra = scores[a].rmseEnsembleMean, rb = scores[b].rmseEnsembleMean;
    return ra !== rb ? ra - rb : a - b;
  });
  const ranks = new Array<number>(scores.length);
  order.forEach((i, r) => ranks[i] = r + 1);
  return ranks;
}

/**
 * The CSV of a selection: one row per candidate in the order given.
 *
 * @example
 * ```ts
 * import { selectionCsv } from "@soad/soad/internal";
 * console.log(selectionCsv([]).trim()); // rank,candidate,sha256,step,weights,crps,rmse_ensemble_mean,rmse_single,spread_skill,cells
 * ```
 */
export function selectionCsv(scores: CandidateScore[]): string {
  const head = "rank,candidate,sha256,step,weights,crps,rmse_ensemble_mean,rmse_single," +
    "spread_skill,cells";
  const rows = scores.map((s) =>
    [
      s.rank,
      JSON.stringify(s.path),
      s.sha256,
      s.step ?? "",
      s.weights ?? "",
      s.crps ?? "",
      s.rmseEnsembleMean,
      s.rmseSingle ?? "",
      s.spreadSkill ?? "",
      s.cells,
    ].join(",")
  );
  return [head, ...rows].join("\n") + "\n";
}

/**
 * Scores every candidate on the same valid cells and names the one with the lowest CRPS (see
 * the module doc). Everything is checked before anything is sampled.
 *
 * @example
 * ```ts
 * import { selectPrior } from "@soad/soad/internal";
 * try {
 *   await selectPrior({ candidates: [], data: "/nonexistent.zarr", out: await Deno.makeTempDir() });
 * } catch (e) {
 *   console.log((e as Error).name); // InvalidArgumentError
 * }
 * ```
 */
export async function selectPrior(o: SelectPriorOptions): Promise<SelectionResult> {
  const store = openDatasetStore(o.data);
  const fingerprint = store.attrs.fingerprint;
  if (!fingerprint) {
    throw new InvalidArgumentError(
      `${o.data} is not finalised (no fingerprint); run deno task generate --out ${o.data} --finalize`,
    );
  }
  const samples = o.samples ?? 8;
  if (!(Number.isInteger(samples) && samples >= 2)) {
    throw new InvalidArgumentError(
      `samples must be an integer >= 2 (the CRPS needs an ensemble; 8 by default), got ${samples}`,
    );
  }
  const frames = o.frames ?? 9;
  const [v0, v1] = store.attrs.split.valid;
  const n = store.config.qg.nx / store.config.pool;
  const settings = await checkCandidates(
    o.candidates,
    {
      frames,
      grid: [n, n],
      dataset: store.config.name,
      physics: dataPhysics(store.config),
      allowMismatch: o.allowMismatch,
    },
    {
      steps: o.steps,
      tMax: o.tMax,
      tau: o.tau,
      sigmaX: o.sigmaX,
      clipScale: o.clipScale,
      backgroundLikelihood: o.backgroundLikelihood,
    },
  );
  const config = resolveExperimentConfig({
    frames,
    steps: settings.steps,
    tMax: settings.tMax,
    corrections: o.corrections ?? 5,
    tau: settings.tau,
    sigmaX: settings.sigmaX,
    // the clip scale reaches a cell by its method: SDA candidates' through sdaClipScale
    ...(settings.candidates[0].model === "sda"
      ? { sdaClipScale: settings.clipScale }
      : { clipScale: settings.clipScale }),
    backgroundLikelihood: settings.backgroundLikelihood,
    // the candidates' sparse-observation settings, for cells whose masks are below them
    ...(settings.sparse
      ? settings.candidates[0].model === "sda"
        ? { sdaSparse: settings.sparse }
        : { sparse: settings.sparse }
      : {}),
    samples,
    stepwise: false,
  });
  const data = storeExperimentData(o.data, settings.normalisation, "valid");
  const count = v1 - v0;
  const windows = o.windows ?? Math.min(4, count);
  if (!(Number.isInteger(windows) && windows >= 1 && windows <= count)) {
    throw new InvalidArgumentError(
      `windows must be an integer in [1, ${count}] (${o.data} has ${count} valid windows), got ${windows}`,
    );
  }
  const first = settings.candidates[0];
  const method: Method = first.model === "sda" ? "sda" : "soad";
  const full = first.model === "full";
  const setting: Setting = o.setting ?? (full ? "III" : "I");
  if (full !== (setting === "III")) {
    throw new InvalidArgumentError(
      full
        ? `the candidates are "full" priors: they assimilate in setting III (got ${setting})`
        : `setting III needs "full" priors; the candidates are ${first.model} (use I or II)`,
    );
  }
  let ops: ExperimentOp[];
  if (method === "soad" && !full) {
    const own = first.model as ExperimentOp;
    if (o.ops && (o.ops.length !== 1 || o.ops[0] !== own)) {
      throw new InvalidArgumentError(
        `the candidates are ${own} priors; they observe ${own} (got ops ${o.ops.join(",")})`,
      );
    }
    ops = [own];
  } else ops = o.ops ?? (full ? [...EXPERIMENT_OPS] : ["arctan3x"]);
  const cells = enumerateGrid({
    ops,
    masks: o.masks ?? ["p0.25"],
    intervals: o.intervals ?? [2],
    seeds: o.seeds ?? [0],
    methods: [method],
    settings: [setting],
    windows: Array.from({ length: windows }, (_, i) => i),
  });
  if (cells.length === 0) throw new InvalidArgumentError("the grid has no cells");
  const keys = new Set(cells.map(cellKey));

  if (o.force && o.resume) throw new InvalidArgumentError("force and resume exclude each other");
  await prepareOutputDir(o.out, {
    force: o.force,
    hint: "or --resume to continue the selection that wrote it",
    allowExisting: o.resume ? () => true : undefined,
  });
  if (o.force) {
    await Deno.remove(`${o.out}/candidates`, { recursive: true }).catch(() => {});
    for (const f of ["selection.json", "selection.csv"]) {
      await Deno.remove(`${o.out}/${f}`).catch(() => {});
    }
  }

  const perCandidate: CellResult[][] = [];
  for (const [i, c] of settings.candidates.entries()) {
    o.onCandidate?.(i + 1, settings.candidates.length, c, cells.length);
    const loaded = await loadExperimentCheckpoint(c.path, c.gridModel, frames);
    try {
      const r = await runExperiment({
        cells,
        data,
        models: { [c.gridModel]: { denoiser: loaded.net, channels: loaded.net.config.channels } },
        config,
        out: `${o.out}/candidates/${c.sha256.slice(0, 12)}`,
        resume: o.resume,
        inputs: {
          data: { fingerprint },
          split: "valid",
          normalisation: data.normalisation,
          checkpoints: { [c.gridModel]: loaded.sha256 },
        },
        figures: false,
        now: o.now,
        progress: o.progress,
        progressLabel: `candidate ${i + 1}/${settings.candidates.length}`,
      });
      // a resumed folder may hold cells of a larger grid: score exactly this one
      perCandidate.push(r.results.cells.filter((x) => keys.has(x.key)));
    } finally {
      loaded.net.dispose();
    }
  }

  const partial = perCandidate.map((cs, i) => ({
    path: settings.candidates[i].path,
    sha256: settings.candidates[i].sha256,
    step: settings.candidates[i].step ?? null,
    weights: settings.candidates[i].weights ?? null,
    crps: cellMean(cs, (x) => x.crps),
    rmseEnsembleMean: cellMean(cs, (x) => x.rmse) ?? Infinity,
    rmseSingle: cellMean(cs, (x) => x.rmseMembers),
    spreadSkill: cellMean(cs, (x) => x.spreadSkill),
    cells: cs.length,
  }));
  const ranks = rankByCrps(partial);
  const scores: CandidateScore[] = partial.map((s, i) => ({ rank: ranks[i], ...s }));
  const chosen = scores[ranks.indexOf(1)];
  const result: SelectionResult = {
    format: SELECTION_FORMAT,
    rule: SELECTION_RULE,
    data: { path: o.data, fingerprint, dataset: store.config.name, split: "valid", windows },
    grid: {
      model: first.model,
      method,
      setting,
      ops,
      masks: [...new Set(cells.map((c) => c.mask))],
      intervals: [...new Set(cells.map((c) => c.interval))],
      seeds: [...new Set(cells.map((c) => c.seed))],
      cells: cells.length,
    },
    config,
    normalisation: data.normalisation,
    climatology: cellMean(perCandidate[0], (x) => x.climatology),
    warnings: settings.warnings,
    candidates: scores,
    chosen: { path: chosen.path, sha256: chosen.sha256 },
  };
  await writeJsonAtomic(`${o.out}/selection.json`, result);
  await writeTextAtomic(`${o.out}/selection.csv`, selectionCsv(scores));
  return result;
}
