/**
 * Many cycling runs as one result: each `deno task cycle` run is one truth (trajectory) and seed,
 * run as its own process with its own `--out` (a Slurm array task or Kubernetes Indexed Job pod
 * only needs its index, e.g. `--simulate 60 --seed $INDEX --out out/cycle-$INDEX`), and
 * {@link mergeCycleRuns} combines their `summary.json` files into one `summary.json` /
 * `summary.md` with per-method statistics over the runs. Merging refuses runs whose settings
 * differ (everything in a run's `run.json` identity except its truth and seed), the same truth and
 * seed twice, and lists the runs that have no finished `summary.json`.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { writeJsonAtomic, writeTextAtomic } from "../io/atomic.ts";
import { prepareOutputDir } from "../io/output_dir.ts";
import type { CycleSummary } from "./cycle_outputs.ts";

/** Format tag of a merged `summary.json`. */
export const CYCLE_MERGE_FORMAT = "soad-cycle-merge/1";

/** Mean, sample standard deviation (n − 1; 0 for one run), min and max of a score over runs. */
export interface RunStats {
  /** Mean over runs. */
  mean: number;
  /** Sample standard deviation over runs (0 with one run). */
  std: number;
  /** Smallest run value. */
  min: number;
  /** Largest run value. */
  max: number;
}

/** One method's statistics over the merged runs. */
export interface MergedMethod {
  /** Runs in which the method finished (the statistics are over these). */
  runs: number;
  /** Runs (folders) in which the method failed, with their errors. */
  failed: { run: string; error: string }[];
  /** Members (samples) per day. */
  members: number;
  /** Statistics of the runs' `rmse_mean`. */
  rmse_mean: RunStats;
  /** Statistics of the runs' `crps_mean`. */
  crps_mean: RunStats;
  /** Statistics of the runs' `spread_mean`. */
  spread_mean: RunStats;
  /** Per day: the mean over runs of the day's RMSE. */
  rmse: number[];
  /** Per day: the sample standard deviation over runs of the day's RMSE. */
  rmse_std: number[];
}

/** The merged `summary.json`. */
export interface CycleMergeSummary {
  /** {@link CYCLE_MERGE_FORMAT}. */
  format: string;
  /** Days verified per run. */
  days: number;
  /** The runs merged, in the order given. */
  runs: { dir: string; truth: unknown; seed: unknown }[];
  /** Runs given but not finished (no summary.json or no run.json), with the reason. */
  missing: { dir: string; reason: string }[];
  /** The settings all runs share (a run's identity less its truth and seed). */
  settings: Record<string, unknown>;
  /** Per method, in the runs' report order. */
  methods: Record<string, MergedMethod>;
}

/** Options of {@link mergeCycleRuns}. */
export interface MergeCycleOptions {
  /** Write into an existing, non-empty `out` (default false: refuse it). */
  force?: boolean;
  /** Merge the finished runs when some are missing (default false: refuse, listing them). */
  allowMissing?: boolean;
}

/** Keys of a run's identity that differ between runs by design. */
const PER_RUN = new Set(["truth", "seed"]);

async function readJsonOrUndefined<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    if (e instanceof SyntaxError) {
      throw new InvalidArgumentError(`${path} is not valid JSON (${e.message})`);
    }
    throw e;
  }
}

/**
 * Statistics of `xs` over runs (see {@link RunStats}).
 *
 * @example
 * ```ts
 * import { runStats } from "./cycle_merge.ts";
 * console.log(runStats([1, 2, 3])); // { mean: 2, std: 1, min: 1, max: 3 }
 * ```
 */
export function runStats(xs: number[]): RunStats {
  const n = xs.length;
  if (n === 0) return { mean: NaN, std: NaN, min: NaN, max: NaN };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const v = n > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(v), min: Math.min(...xs), max: Math.max(...xs) };
}

/**
 * Merges finished cycling runs (`dirs`, each a `deno task cycle --out`) into `out`: writes
 * `summary.json` ({@link CycleMergeSummary}) and `summary.md`. Throws an
 * {@link InvalidArgumentError} for runs with different settings, the same truth and seed twice,
 * or unfinished runs (unless `allowMissing`), before writing anything.
 *
 * @example
 * ```ts ignore
 * const merged = await mergeCycleRuns(["out/cycle-0", "out/cycle-1"], "out/cycle-merged");
 * console.log(merged.methods.letkf.rmse_mean.mean);
 * ```
 */
export async function mergeCycleRuns(
  dirs: string[],
  out: string,
  opts: MergeCycleOptions = {},
): Promise<CycleMergeSummary> {
  if (dirs.length === 0) {
    throw new InvalidArgumentError("--runs needs at least one cycle output folder");
  }
  const norm = (p: string) => p.replace(/\/+$/, "");
  if (dirs.some((d) => norm(d) === norm(out))) {
    throw new InvalidArgumentError(`--out ${out} is one of the runs; choose another folder`);
  }
  const missing: { dir: string; reason: string }[] = [];
  const runs: { dir: string; identity: Record<string, unknown>; summary: CycleSummary }[] = [];
  for (const dir of dirs) {
    const identity = await readJsonOrUndefined<Record<string, unknown>>(`${dir}/run.json`);
    const summary = await readJsonOrUndefined<CycleSummary>(`${dir}/summary.json`);
    if (!identity || !summary) {
      const reason = !identity && !summary
        ? "no run.json or summary.json (not started, or not a cycle output folder)"
        : !summary
        ? "no summary.json (unfinished: rerun it with --resume)"
        : "no run.json (not a cycle output folder)";
      missing.push({ dir, reason });
      continue;
    }
    if (identity.kind !== "soad-cycle" || typeof summary.methods !== "object") {
      throw new InvalidArgumentError(`${dir} is not a cycle output folder (run.json kind)`);
    }
    runs.push({ dir, identity, summary });
  }
  if (missing.length && (!opts.allowMissing || runs.length === 0)) {
    throw new InvalidArgumentError(
      `${missing.length} of ${dirs.length} runs are missing or unfinished:\n` +
        missing.map((m) => `  ${m.dir}: ${m.reason}`).join("\n") +
        (runs.length
          ? "\nrequeue them (cycle --resume), or pass --allow-missing to merge the finished ones"
          : "\nno finished run to merge"),
    );
  }
  const first = runs[0];
  const settingsOf = (id: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(id).filter(([k]) => !PER_RUN.has(k)));
  const settings = settingsOf(first.identity);
  const seen = new Map<string, string>();
  for (const r of runs) {
    const s = settingsOf(r.identity);
    const keys = [...new Set([...Object.keys(s), ...Object.keys(settings)])];
    const diff = keys.filter((k) => JSON.stringify(s[k]) !== JSON.stringify(settings[k]));
    if (diff.length) {
      throw new InvalidArgumentError(
        `${r.dir} was run with other settings than ${first.dir}: ` +
          diff.map((k) => `${k} ${JSON.stringify(s[k])} vs ${JSON.stringify(settings[k])}`).join(
            "; ",
          ) + ` (runs to merge differ only in their truth and --seed)`,
      );
    }
    const key = JSON.stringify([r.identity.truth, r.identity.seed]);
    const twice = seen.get(key);
    if (twice !== undefined) {
      throw new InvalidArgumentError(
        `${r.dir} and ${twice} have the same truth ${JSON.stringify(r.identity.truth)} and seed ` +
          `${r.identity.seed}; each run must be a different trajectory or seed`,
      );
    }
    seen.set(key, r.dir);
  }
  const days = first.summary.days;
  const methods: Record<string, MergedMethod> = {};
  for (const m of Object.keys(first.summary.methods)) {
    const ok = runs.filter((r) => !r.summary.methods[m]?.error);
    const failed = runs.filter((r) => r.summary.methods[m]?.error).map((r) => ({
      run: r.dir,
      error: String(r.summary.methods[m]?.error),
    }));
    const perDay = Array.from(
      { length: days },
      (_, d) => ok.map((r) => r.summary.methods[m].rmse[d]),
    );
    methods[m] = {
      runs: ok.length,
      failed,
      members: first.summary.methods[m].members,
      rmse_mean: runStats(ok.map((r) => r.summary.methods[m].rmse_mean)),
      crps_mean: runStats(ok.map((r) => r.summary.methods[m].crps_mean)),
      spread_mean: runStats(ok.map((r) => r.summary.methods[m].spread_mean)),
      rmse: perDay.map((xs) => runStats(xs).mean),
      rmse_std: perDay.map((xs) => runStats(xs).std),
    };
  }
  const merged: CycleMergeSummary = {
    format: CYCLE_MERGE_FORMAT,
    days,
    runs: runs.map((r) => ({ dir: r.dir, truth: r.identity.truth, seed: r.identity.seed })),
    missing,
    settings,
    methods,
  };
  await prepareOutputDir(out, { force: opts.force });
  await writeJsonAtomic(`${out}/summary.json`, merged);
  await writeTextAtomic(`${out}/summary.md`, mergedMarkdown(merged));
  return merged;
}

function mergedMarkdown(s: CycleMergeSummary): string {
  const f = (v: number, d = 3) => Number.isFinite(v) ? v.toFixed(d) : "–";
  const pm = (r: RunStats) => `${f(r.mean)} ± ${f(r.std)}`;
  const lines = [
    `# Cycling twin experiment: ${s.runs.length} runs merged`,
    ``,
    `${s.days} days per run; observations: ${s.settings.operator}, every ${s.settings.interval} ` +
    `day(s), σo = ${s.settings.sigmaObs}. Mean ± standard deviation over the runs of each run's ` +
    `mean over days (normalised units).`,
    ``,
    `| method | runs | members | RMSE | CRPS | spread | failed runs |`,
    `| --- | --- | --- | --- | --- | --- | --- |`,
  ];
  for (const [m, r] of Object.entries(s.methods)) {
    lines.push(
      `| ${m} | ${r.runs} | ${r.members} | ${pm(r.rmse_mean)} | ${pm(r.crps_mean)} | ` +
        `${pm(r.spread_mean)} | ${r.failed.length} |`,
    );
  }
  lines.push(``, `Runs:`, ``);
  for (const r of s.runs) {
    lines.push(`- ${r.dir}: truth ${JSON.stringify(r.truth)}, seed ${r.seed}`);
  }
  if (s.missing.length) {
    lines.push(``, `Missing or unfinished runs (not merged):`, ``);
    for (const m of s.missing) lines.push(`- ${m.dir}: ${m.reason}`);
  }
  return lines.join("\n") + "\n";
}
