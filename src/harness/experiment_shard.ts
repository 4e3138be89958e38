/**
 * Sharded evaluation grids: `--shard i/n` runs a deterministic, cost-balanced share of the cells
 * of {@link enumerateGrid} (every shard computes the same assignment from the same grid, so no
 * coordinator is needed: a Slurm array task or a Kubernetes Indexed Job pod only needs its
 * index), and {@link mergeShards} combines the shards' output folders into the `results.json`,
 * `results.csv`, `summary.md` and figures that one unsharded run writes (equal apart from the
 * cells' wall-clock `seconds`). A shard's folder holds `shard.json` (the whole grid's keys, its
 * index and count) next to its ordinary results; merging refuses shards of different grids,
 * configurations or inputs (data, checkpoints, normalisation) and reports missing cells.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { writeJsonAtomic, writeTextAtomic } from "../io/atomic.ts";
import { prepareOutputDir } from "../io/output_dir.ts";
import type { CellResult } from "./experiment_cell.ts";
import { type ExperimentResults, readResults } from "./experiment.ts";
import { cellKey, type ExperimentCell, parseVariant } from "./experiment_grid.ts";
import { resultsCsv, writeFigures } from "./experiment_report.ts";

/** Format tag of `shard.json`. */
export const SHARD_FORMAT = "soad-experiment-shard/1";

/** One shard of a grid: `index` counts from 0, `count` shards in all. */
export interface ShardSpec {
  /** This shard, 0 ≤ index < count. */
  index: number;
  /** Number of shards. */
  count: number;
}

/** The content of a shard folder's `shard.json`. */
export interface ShardManifest {
  /** {@link SHARD_FORMAT}. */
  format: string;
  /** This shard. */
  index: number;
  /** Number of shards. */
  count: number;
  /** Keys of every cell of the whole grid, in grid order. */
  grid: string[];
  /** Keys of this shard's cells, in grid order. */
  cells: string[];
}

/**
 * Parses `i/n` (0 ≤ i < n, integers).
 *
 * @example
 * ```ts
 * import { parseShard } from "./experiment_shard.ts";
 * console.log(parseShard("2/3")); // { index: 2, count: 3 }
 * ```
 */
export function parseShard(spec: string): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(String(spec));
  const index = m ? Number(m[1]) : NaN, count = m ? Number(m[2]) : NaN;
  if (!(m && count >= 1 && index < count)) {
    throw new InvalidArgumentError(
      `--shard must be i/n with integers 0 ≤ i < n (i counts from 0, e.g. 0/3, 1/3, 2/3), ` +
        `got "${spec}"`,
    );
  }
  return { index, count };
}

/**
 * The expected cost of a cell relative to the others of the same run (all cells of a run share
 * K, M and S): U-Net passes per sampler evaluation. SOAD and SDA both run a forward pass and a
 * forward + vector–Jacobian product (≈ 3 forward passes) per evaluation; the Jacobian-free
 * ablation runs the forward pass only. The unknown-background forecast and the observation
 * operators are small beside the U-Net.
 *
 * @example
 * ```ts
 * import { cellCost } from "./experiment_shard.ts";
 * const c = { setting: "I" as const, ops: ["arctan3x" as const], mask: "s4", interval: 1, seed: 0, method: "soad" as const, window: 0, variant: "jacobian-free" };
 * console.log(cellCost(c), cellCost({ ...c, variant: "base" })); // 1 4
 * ```
 */
export function cellCost(cell: ExperimentCell): number {
  return parseVariant(cell.variant).jacobianFree ? 1 : 4;
}

/**
 * The cells of shard `shard` of the grid `cells`, in grid order. The assignment is a greedy
 * longest-processing-time split: cells by decreasing {@link cellCost} (grid order among equal
 * costs), each to the shard with the least cost so far (the lowest index among equal loads), so
 * the shards' costs differ by at most one cell's cost. Deterministic: every shard computes the
 * same split from the same grid; the shards together hold every cell exactly once.
 *
 * @example
 * ```ts
 * import { shardCells } from "./experiment_shard.ts";
 * import { enumerateGrid } from "@soad/soad";
 * const grid = enumerateGrid({ ops: ["arctan3x"], masks: ["s4"], intervals: [1, 2, 4], seeds: [0], settings: ["I"] });
 * console.log(shardCells(grid, { index: 0, count: 2 }).length); // 3 (of 6)
 * ```
 */
export function shardCells(cells: ExperimentCell[], shard: ShardSpec): ExperimentCell[] {
  const { index, count } = shard;
  if (!(Number.isInteger(count) && count >= 1 && Number.isInteger(index) && index >= 0)) {
    throw new InvalidArgumentError(
      `a shard needs integers 0 ≤ index < count, got ${index}/${count}`,
    );
  }
  if (index >= count) {
    throw new InvalidArgumentError(`shard index ${index} is out of range for ${count} shards`);
  }
  const costs = cells.map(cellCost);
  const order = cells.map((_, i) => i).sort((a, b) => costs[b] - costs[a] || a - b);
  const load = new Array<number>(count).fill(0);
  const owner = new Array<number>(cells.length);
  for (const i of order) {
    let best = 0;
    for (let s = 1; s < count; s++) if (load[s] < load[best]) best = s;
    owner[i] = best;
    load[best] += costs[i];
  }
  return cells.filter((_, i) => owner[i] === index);
}

/**
 * The manifest a shard writes as `shard.json` (see {@link ShardManifest}).
 *
 * @example
 * ```ts
 * import { shardManifest } from "./experiment_shard.ts";
 * import { enumerateGrid } from "@soad/soad";
 * const grid = enumerateGrid({ ops: ["vor2vel"], masks: ["s4"], intervals: [1], seeds: [0, 1], settings: ["II"] });
 * console.log(shardManifest(grid, { index: 1, count: 2 }).cells.length); // 2 (of 4)
 * ```
 */
export function shardManifest(cells: ExperimentCell[], shard: ShardSpec): ShardManifest {
  return {
    format: SHARD_FORMAT,
    index: shard.index,
    count: shard.count,
    grid: cells.map(cellKey),
    cells: shardCells(cells, shard).map(cellKey),
  };
}

async function readManifest(dir: string): Promise<ShardManifest | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${dir}/shard.json`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  const m = JSON.parse(text) as ShardManifest;
  if (m?.format !== SHARD_FORMAT || !Array.isArray(m.grid) || !Array.isArray(m.cells)) {
    throw new InvalidArgumentError(`${dir}/shard.json is not a ${SHARD_FORMAT} file`);
  }
  return m;
}

/**
 * Writes `shard.json` into a shard's output folder before its cells run. When the folder already
 * has one (a resumed shard) it must be the same shard of the same grid.
 *
 * @example
 * ```ts
 * import { shardManifest, writeShardManifest } from "./experiment_shard.ts";
 * import { enumerateGrid } from "@soad/soad";
 * const grid = enumerateGrid({ ops: ["vor2vel"], masks: ["s4"], intervals: [1], seeds: [0], settings: ["II"] });
 * await writeShardManifest(await Deno.makeTempDir(), shardManifest(grid, { index: 0, count: 1 }));
 * ```
 */
export async function writeShardManifest(out: string, manifest: ShardManifest): Promise<void> {
  const old = await readManifest(out);
  if (!old && await readResults(out)) {
    throw new InvalidArgumentError(
      `${out} holds the results of an unsharded run; give each shard its own --out`,
    );
  }
  if (old && JSON.stringify(old) !== JSON.stringify(manifest)) {
    const what = old.index !== manifest.index || old.count !== manifest.count
      ? `shard ${old.index}/${old.count}, not ${manifest.index}/${manifest.count}`
      : `a shard of another grid (${old.grid.length} cells, not ${manifest.grid.length})`;
    throw new InvalidArgumentError(
      `${out} holds ${what}; give each shard its own --out (e.g. out/exp-$INDEX)`,
    );
  }
  await Deno.mkdir(out, { recursive: true });
  await writeJsonAtomic(`${out}/shard.json`, manifest);
}

/** Options of {@link mergeShards}. */
export interface MergeShardsOptions {
  /** Write `summary.md`, heatmaps and step-wise plots (default true). */
  figures?: boolean;
  /** Write what the shards have even when cells are missing (default false: refuse). */
  allowMissing?: boolean;
  /** Write into an existing non-empty `out` (default false: refuse it). */
  force?: boolean;
}

/** What {@link mergeShards} did. */
export interface MergeShardsResult {
  /** The merged results (cells in grid order). */
  results: ExperimentResults;
  /** Keys of grid cells no shard has finished (empty for a complete merge). */
  missing: string[];
  /** Shard indices of the grid whose folder was not given. */
  absentShards: number[];
  /** Files written. */
  files: string[];
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** At most `n` items of a list, then "… and k more". */
function some(xs: (string | number)[], n = 8): string {
  return xs.length <= n
    ? xs.join(", ")
    : `${xs.slice(0, n).join(", ")} … and ${xs.length - n} more`;
}

/**
 * Merges shard output folders into `out`: the same `results.json`, `results.csv`, `summary.md`
 * and figures as one unsharded run of the grid (cells in grid order; each cell's `seconds` is
 * the shard's). Refuses folders that are not shards of one grid (different grids or shard
 * counts, a shard index given twice, different configurations, or different inputs: data,
 * checkpoints, normalisation), and cells missing from the shards unless `allowMissing` (the
 * merged folder can then be finished by an unsharded `--resume` run). Refuses an existing,
 * non-empty `out` unless `force` (`prepareOutputDir`).
 *
 * @example
 * ```ts ignore
 * import { mergeShards } from "./experiment_shard.ts";
 * const r = await mergeShards(["out/exp-0", "out/exp-1", "out/exp-2"], "out/exp");
 * console.log(r.results.cells.length, r.missing.length);
 * ```
 */
export async function mergeShards(
  dirs: string[],
  out: string,
  options: MergeShardsOptions = {},
): Promise<MergeShardsResult> {
  if (dirs.length === 0) {
    throw new InvalidArgumentError("--merge needs the shard folders, e.g. --merge out/e-0,out/e-1");
  }
  if (new Set(dirs).size !== dirs.length) {
    throw new InvalidArgumentError(`a shard folder is given twice in --merge: ${dirs.join(", ")}`);
  }
  const shards: { dir: string; manifest: ShardManifest; results: ExperimentResults }[] = [];
  for (const dir of dirs) {
    const manifest = await readManifest(dir);
    if (!manifest) {
      throw new InvalidArgumentError(
        `${dir} is not a shard folder (no shard.json); run it with --shard i/n --out ${dir}`,
      );
    }
    const results = await readResults(dir);
    if (!results) {
      throw new InvalidArgumentError(
        `${dir} has no results.json yet (shard ${manifest.index}/${manifest.count} has not run)`,
      );
    }
    shards.push({ dir, manifest, results });
  }
  const first = shards[0];
  const seen = new Map<number, string>();
  for (const s of shards) {
    const m = s.manifest, r = s.results;
    if (m.count !== first.manifest.count || !same(m.grid, first.manifest.grid)) {
      throw new InvalidArgumentError(
        `${s.dir} is shard ${m.index}/${m.count} of a grid of ${m.grid.length} cells, but ` +
          `${first.dir} is shard ${first.manifest.index}/${first.manifest.count} of a grid of ` +
          `${first.manifest.grid.length} cells: they are not shards of one grid`,
      );
    }
    if (seen.has(m.index)) {
      throw new InvalidArgumentError(
        `shard ${m.index}/${m.count} is given twice: ${seen.get(m.index)} and ${s.dir}`,
      );
    }
    seen.set(m.index, s.dir);
    if (!same(r.config, first.results.config) || !same(r.stepT, first.results.stepT)) {
      throw new InvalidArgumentError(
        `${s.dir} ran with configuration ${JSON.stringify(r.config)} but ${first.dir} with ` +
          `${JSON.stringify(first.results.config)}: shards must share K, M, S, t-max and frames`,
      );
    }
    if (!same(r.inputs, first.results.inputs)) {
      throw new InvalidArgumentError(
        `${s.dir} ran on inputs ${JSON.stringify(r.inputs)} but ${first.dir} on ` +
          `${JSON.stringify(first.results.inputs)}: shards must use the same data and checkpoints`,
      );
    }
    const own = new Set(m.cells);
    const stray = r.cells.filter((c) => !own.has(c.key)).map((c) => c.key);
    if (stray.length) {
      throw new InvalidArgumentError(
        `${s.dir} has cells that are not shard ${m.index}'s: ${some(stray)}`,
      );
    }
  }
  const byKey = new Map<string, CellResult>();
  for (const s of shards) for (const c of s.results.cells) byKey.set(c.key, c);
  const grid = first.manifest.grid;
  const missing = grid.filter((k) => !byKey.has(k));
  const absentShards = Array.from({ length: first.manifest.count }, (_, i) => i)
    .filter((i) => !seen.has(i));
  if (missing.length && !options.allowMissing) {
    throw new InvalidArgumentError(
      `${missing.length} of ${grid.length} cells are missing: ${some(missing)}` +
        (absentShards.length ? ` (shards not given: ${some(absentShards)})` : "") +
        `; finish those shards (--resume) or pass --allow-missing to merge what there is`,
    );
  }
  await prepareOutputDir(out, { force: options.force });
  const results: ExperimentResults = {
    format: first.results.format,
    config: first.results.config,
    inputs: first.results.inputs,
    stepT: first.results.stepT,
    cells: grid.filter((k) => byKey.has(k)).map((k) => byKey.get(k)!),
  };
  const files = [`${out}/results.json`, `${out}/results.csv`];
  await writeJsonAtomic(files[0], results);
  await writeTextAtomic(files[1], resultsCsv(results.cells, results.config.frames));
  if (options.figures ?? true) files.push(...await writeFigures(results, out));
  return { results, missing, absentShards, files };
}
