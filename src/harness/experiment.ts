/**
 * The evaluation grid runner (spec §6.1): runs the cells of {@link enumerateGrid} with the given
 * models on normalised test windows, resumable. After every finished cell the results file
 * `results.json` (and `results.csv`) is rewritten atomically, cells in run order; `resume` skips
 * the cells already there, so an interrupted and resumed run writes the same files as an
 * uninterrupted one. At the end it writes RMSE heatmaps and step-wise RMSE plots
 * (see `experiment_report.ts`).
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { writeJsonAtomic, writeTextAtomic } from "../io/atomic.ts";
import { Progress, type ProgressStream } from "../io/progress.ts";
import { timeGrid } from "../diffusion/schedule.ts";
import { type CellResult, type ExperimentModel, round6, runCell } from "./experiment_cell.ts";
import {
  type ExperimentConfig,
  type ExperimentData,
  type ResolvedExperimentConfig,
  resolveExperimentConfig,
} from "./experiment_config.ts";
import { cellKey, type ExperimentCell, modelOf } from "./experiment_grid.ts";
import { resultsCsv, writeFigures } from "./experiment_report.ts";

/** Format tag of `results.json`. */
export const RESULTS_FORMAT = "soad-experiment/1";

/** The content of `results.json`. */
export interface ExperimentResults {
  /** {@link RESULTS_FORMAT}. */
  format: string;
  /** The resolved run configuration. */
  config: ResolvedExperimentConfig;
  /** Caller's description of the inputs (data path, checkpoint digests, normalisation). */
  inputs: Record<string, unknown>;
  /** t after each step (x axis of `stepRmse`). */
  stepT: number[];
  /** Finished cells, in run order. */
  cells: CellResult[];
}

/** Options of {@link runExperiment}. */
export interface RunExperimentOptions {
  /** The cells to run (from `enumerateGrid`). */
  cells: ExperimentCell[];
  /** Test windows. */
  data: ExperimentData;
  /** Models by name: `sda`, `soad-arctan3x`, `soad-sin3x`, `soad-vor2vel`, `soad-full`. */
  models: Record<string, ExperimentModel>;
  /** Run configuration. */
  config?: ExperimentConfig;
  /** Output directory. */
  out: string;
  /** Continue the results file in `out` (its configuration and inputs must match). */
  resume?: boolean;
  /** Identity of the inputs, stored and compared on resume (JSON-serialisable). */
  inputs?: Record<string, unknown>;
  /** Stop after this many newly run cells (for tests and smoke runs). */
  limit?: number;
  /** Write heatmaps and step-wise plots at the end (default true). */
  figures?: boolean;
  /** Clock in milliseconds (default `performance.now`); a constant gives byte-stable files. */
  now?: () => number;
  /** Progress output: false, or a stream (default `Deno.stderr`). */
  progress?: false | ProgressStream;
  /** Label of the progress bar (default "experiment cells"). */
  progressLabel?: string;
  /** Called after each finished cell. */
  onCell?: (r: CellResult) => void;
}

/** What {@link runExperiment} did. */
export interface RunExperimentResult {
  /** Every finished cell of the results file. */
  results: ExperimentResults;
  /** Cells run now. */
  ran: number;
  /** Cells skipped because they were in the results file. */
  skipped: number;
  /** Cells still to run (when `limit` stopped the run). */
  remaining: number;
  /** Files written. */
  files: string[];
}

/**
 * Reads `results.json` of an output directory (undefined when it does not exist).
 *
 * @example
 * ```ts
 * import { readResults } from "@soad/soad";
 * console.log(await readResults(await Deno.makeTempDir())); // undefined
 * ```
 */
export async function readResults(out: string): Promise<ExperimentResults | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${out}/results.json`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  const r = JSON.parse(text) as ExperimentResults;
  if (r?.format !== RESULTS_FORMAT || !Array.isArray(r.cells)) {
    throw new InvalidArgumentError(`${out}/results.json is not a ${RESULTS_FORMAT} results file`);
  }
  return r;
}

/**
 * Runs the grid (see the module doc). Every model a cell needs must be given, and every cell
 * must be valid, before anything runs; an existing results file needs `resume` and must have the
 * same configuration and inputs.
 *
 * @example
 * ```ts
 * import { runExperiment } from "@soad/soad";
 * import { enumerateGrid } from "@soad/soad";
 * import { augmentedIdentityDenoiser } from "@soad/soad/internal";
 * const data = { count: 1, length: 9, height: 8, width: 8, normalisation: { offset: [0, 0], std: [1, 1] },
 *   window: () => new Float32Array(9 * 2 * 64).map((_, i) => Math.sin(i)) };
 * const cells = enumerateGrid({ ops: ["arctan3x"], masks: ["s2"], intervals: [1], seeds: [0], methods: ["soad"], settings: ["II"] });
 * const r = await runExperiment({ cells, data, models: { "soad-arctan3x": { denoiser: augmentedIdentityDenoiser() } },
 *   config: { steps: 4 }, out: await Deno.makeTempDir(), progress: false });
 * console.log(r.ran); // 1
 * ```
 */
export async function runExperiment(options: RunExperimentOptions): Promise<RunExperimentResult> {
  const { cells, data, models, out } = options;
  const config = resolveExperimentConfig(options.config);
  const now = options.now ?? ((): number => performance.now());
  const inputs = JSON.parse(JSON.stringify(options.inputs ?? {}));
  const missing = [...new Set(cells.map(modelOf))].filter((m) => !models[m]);
  if (missing.length) {
    throw new InvalidArgumentError(
      `no model for ${missing.join(", ")} (needed by the chosen cells); give its checkpoint`,
    );
  }
  const keys = cells.map(cellKey);
  if (new Set(keys).size !== keys.length) throw new InvalidArgumentError("duplicate cells");
  for (const c of cells) {
    if (!(c.window < data.count)) {
      throw new InvalidArgumentError(
        `test window ${c.window} is out of range; the data has ${data.count} test windows`,
      );
    }
  }
  await Deno.mkdir(out, { recursive: true });
  const existing = await readResults(out);
  const stepT = Array.from(timeGrid(config.steps, config.tMax).slice(1), round6);
  let results: ExperimentResults;
  if (existing) {
    if (!options.resume) {
      throw new InvalidArgumentError(
        `${out}/results.json exists; pass resume (--resume) to continue it or choose another output`,
      );
    }
    const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
    if (!same(existing.config, config)) {
      throw new InvalidArgumentError(
        `cannot resume ${out}: its configuration ${JSON.stringify(existing.config)} differs from ` +
          `this run's ${JSON.stringify(config)}`,
      );
    }
    if (!same(existing.inputs, inputs)) {
      const was = existing.inputs as Record<string, unknown>;
      const keys = [...new Set([...Object.keys(was), ...Object.keys(inputs)])]
        .filter((k) => !same(was[k], inputs[k]));
      throw new InvalidArgumentError(
        `cannot resume ${out}: its inputs differ from this run's in ` +
          keys.map((k) =>
            `${k} (results ${JSON.stringify(was[k])}, now ${JSON.stringify(inputs[k])})`
          ).join(", ") + ` (other data or checkpoints); resume with the same data and ` +
          `checkpoints, or choose another --out`,
      );
    }
    results = existing;
  } else {
    results = { format: RESULTS_FORMAT, config, inputs, stepT, cells: [] };
  }
  const done = new Set(results.cells.map((c) => c.key));
  const todo = cells.filter((c) => !done.has(cellKey(c)));
  const limit = options.limit ?? Infinity;
  const n = Math.min(todo.length, limit);
  const progress = options.progress === false ? undefined : new Progress({
    total: n,
    label: options.progressLabel ?? "experiment cells",
    stream: options.progress,
  });
  const files = [`${out}/results.json`, `${out}/results.csv`];
  const save = async (): Promise<void> => {
    await writeJsonAtomic(files[0], results);
    await writeTextAtomic(files[1], resultsCsv(results.cells, config.frames));
  };
  let ran = 0;
  for (const cell of todo.slice(0, n)) {
    const key = cellKey(cell);
    const r = await runCell(cell, data, models[modelOf(cell)], config, now, (i, K) => {
      progress?.tick(0, `${key} step ${i + 1}/${K}`);
    });
    results.cells.push(r);
    await save();
    ran++;
    progress?.tick(1, `${r.key} rmse ${r.rmse.toFixed(4)}`);
    options.onCell?.(r);
  }
  progress?.done();
  if (ran === 0) await save();
  if (options.figures ?? true) files.push(...await writeFigures(results, out));
  return {
    results,
    ran,
    skipped: cells.length - todo.length,
    remaining: todo.length - ran,
    files,
  };
}
