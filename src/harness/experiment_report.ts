/**
 * Outputs of the evaluation grid: the results table as CSV, the RMSE tables per (variant,
 * setting, operators, method) averaged over seeds and windows (rows = masks, columns = N, like
 * the paper's figures 5 and 9 and spec §6.2), their heatmaps, a Markdown summary, and the
 * step-wise RMSE plots of the Tweedie estimate (figure 6).
 * @module
 */

import { publishedRmse } from "./published.ts";
import { writeTextAtomic } from "../io/atomic.ts";
import { heatmap } from "../io/heatmap.ts";
import { writePng } from "../io/image.ts";
import { lineChart } from "../io/plot.ts";
import type { CellResult } from "./experiment_cell.ts";
import type { ExperimentResults } from "./experiment.ts";
import { parseMask } from "./experiment_grid.ts";

function csvField(v: unknown): string {
  // empty for absent values and for non-finite numbers (which JSON stores as null)
  if (v === undefined || v === null || (typeof v === "number" && !Number.isFinite(v))) return "";
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * The results as CSV, one row per cell: identity, model, chunk start, mean RMSE, RMSE per frame
 * (`rmse_f0` …), member RMSE, spread–skill, CRPS (empty for one sample), the climatology and
 * pointwise-Bayes baselines and the estimate's anomaly amplitude and correlation (empty where not
 * computed), completed samples and seconds.
 *
 * @example
 * ```ts
 * import { resultsCsv } from "@soad/soad/internal";
 * console.log(resultsCsv([], 2).split(",").slice(0, 3)); // ["key", "setting", "ops"]
 * ```
 */
export function resultsCsv(cells: CellResult[], frames: number): string {
  const head = [
    "key",
    "setting",
    "ops",
    "mask",
    "interval",
    "seed",
    "method",
    "window",
    "variant",
    "model",
    "start",
    "rmse",
    ...Array.from({ length: frames }, (_, f) => `rmse_f${f}`),
    "rmse_members",
    "spread_skill",
    "crps",
    "climatology",
    "pointwise",
    "amplitude",
    "correlation",
    "completed",
    "seconds",
  ];
  const lines = [head.join(",")];
  for (const c of cells) {
    lines.push(
      [
        c.key,
        c.setting,
        c.ops.join("+"),
        c.mask,
        c.interval,
        c.seed,
        c.method,
        c.window,
        c.variant,
        c.model,
        c.start,
        c.rmse,
        ...Array.from({ length: frames }, (_, f) => c.rmseFrames[f]),
        c.rmseMembers,
        c.spreadSkill,
        c.crps,
        c.climatology,
        c.pointwise,
        c.amplitude,
        c.correlation,
        c.completed,
        c.seconds,
      ].map(csvField).join(","),
    );
  }
  return lines.join("\n") + "\n";
}

/** One RMSE table: rows = masks, columns = N, each the mean over seeds and windows. */
export interface RmseTable {
  /** Group name, e.g. `base_I_arctan3x_soad`. */
  name: string;
  /** Human title. */
  title: string;
  /** Mask names, paper order (random ratios high to low, then strides). */
  masks: string[];
  /** Intervals, increasing. */
  intervals: number[];
  /** `values[mask][N]` (NaN where no cell). */
  values: number[][];
  /** Cells averaged per entry. */
  counts: number[][];
  /** Cells of the group. */
  cells: CellResult[];
}

function maskOrder(a: string, b: string): number {
  const pa = parseMask(a), pb = parseMask(b);
  if (pa.ratio !== undefined && pb.ratio !== undefined) return pb.ratio - pa.ratio;
  if (pa.stride !== undefined && pb.stride !== undefined) return pa.stride - pb.stride;
  return pa.ratio !== undefined ? -1 : 1;
}

/**
 * Groups cells by (variant, setting, operators, method) into RMSE tables (mean of each cell's
 * frame-averaged RMSE over seeds and windows; `value` picks another number of the cell, e.g. a
 * baseline). Rows in the paper's order: random ratios densest first, then strides.
 *
 * @example
 * ```ts
 * import { rmseTables } from "@soad/soad/internal";
 * console.log(rmseTables([]).length); // 0
 * ```
 */
export function rmseTables(
  cells: CellResult[],
  value: (c: CellResult) => number | undefined = (c) => c.rmse,
): RmseTable[] {
  const groups = new Map<string, CellResult[]>();
  for (const c of cells) {
    const k = `${c.variant}_${c.setting}_${c.ops.join("+")}_${c.method}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(c);
  }
  return [...groups].map(([name, cs]) => {
    const masks = [...new Set(cs.map((c) => c.mask))].sort(maskOrder);
    const intervals = [...new Set(cs.map((c) => c.interval))].sort((a, b) => a - b);
    const sum = masks.map(() => intervals.map(() => 0));
    const counts = masks.map(() => intervals.map(() => 0));
    for (const c of cs) {
      const i = masks.indexOf(c.mask), j = intervals.indexOf(c.interval);
      const v = value(c);
      sum[i][j] += v !== undefined && Number.isFinite(v) ? v : NaN; // failed or absent: "-"
      counts[i][j]++;
    }
    const c0 = cs[0];
    const variant = c0.variant === "base" ? "" : `, ${c0.variant}`;
    // SDA ignores the background: its setting-I cells are its setting-II cells (enumerateGrid)
    const setting = c0.method === "sda" && c0.setting === "I" ? "I (= II)" : c0.setting;
    return {
      name,
      title: `${c0.method.toUpperCase()} ${c0.ops.join("+")}, setting ${setting}${variant}`,
      masks,
      intervals,
      values: sum.map((r, i) => r.map((s, j) => (counts[i][j] ? s / counts[i][j] : NaN))),
      counts,
      cells: cs,
    };
  });
}

function baselineLines(t: RmseTable): string[] {
  const cl = t.cells.map((c) => c.climatology).filter((v): v is number => v !== undefined);
  if (cl.length === 0) return [];
  const f = (v: number) => v.toPrecision(3);
  const out = [
    `Baselines on the same cells: climatology ${f(Math.min(...cl))}–${f(Math.max(...cl))}` +
    (t.cells.some((c) => c.pointwise !== undefined)
      ? "; observation-only pointwise Bayes (no spatial or temporal prior):"
      : "."),
    "",
  ];
  if (t.cells.some((c) => c.pointwise !== undefined)) {
    out.push(...markdownGrid(rmseTables(t.cells, (c) => c.pointwise)[0], (v) => f(v)));
  }
  if (t.cells.some((c) => c.amplitude !== undefined)) {
    const [a] = rmseTables(t.cells, (c) => c.amplitude);
    const [r] = rmseTables(t.cells, (c) => c.correlation);
    out.push(
      "The estimate's anomaly from climatology: amplitude (RMS over the truth's) / pattern " +
        "correlation ρ (MSE = s²(a² + 1 − 2aρ); a sample that ignores sparse data scores ≈ √2 s):",
      "",
      ...markdownGrid(a, (v, i, j) => `${v.toFixed(2)} / ${r.values[i][j].toFixed(2)}`),
    );
  }
  return out;
}

/** A mask × N Markdown table of `t`'s values, formatted by `fmt` (`-` where no cell). */
function markdownGrid(t: RmseTable, fmt: (v: number, i: number, j: number) => string): string[] {
  const out = [`| mask | ${t.intervals.map((n) => `N=${n}`).join(" | ")} |`];
  out.push(`|---|${t.intervals.map(() => "---").join("|")}|`);
  t.masks.forEach((m, i) => {
    const row = t.values[i].map((v, j) => (Number.isFinite(v) ? fmt(v, i, j) : "-"));
    out.push(`| ${m} | ${row.join(" | ")} |`);
  });
  out.push("");
  return out;
}

/**
 * A Markdown summary: one table per group (mask × N, mean RMSE over seeds and windows, 3
 * significant digits as spec §6.2), followed by the group's baselines and the estimates' anomaly
 * amplitude and correlation where the cells have them.
 *
 * @example
 * ```ts
 * import { summaryMarkdown } from "@soad/soad/internal";
 * console.log(summaryMarkdown([]).startsWith("#")); // true
 * ```
 */
export function summaryMarkdown(cells: CellResult[]): string {
  const out = [
    "# Experiment summary: mean RMSE over seeds (rows = mask, columns = N)",
    "",
    "Each cell: mean RMSE (number of runs averaged) and, where spec §6.2 has it, the paper's value.",
    "",
  ];
  for (const t of rmseTables(cells)) {
    const c0 = t.cells[0];
    const paper = (m: string, n: number) =>
      c0.ops.length === 1
        ? publishedRmse(c0.setting, c0.method, c0.ops[0], m, n, c0.variant)
        : undefined;
    out.push(`## ${t.title}`, "");
    out.push(
      ...markdownGrid(t, (v, i, j) => {
        const p = paper(t.masks[i], t.intervals[j]);
        const ours = `${v.toPrecision(3)} (${t.counts[i][j]})`;
        return p === undefined ? ours : `${ours} · paper ${p}`;
      }),
    );
    out.push(...baselineLines(t));
  }
  return out.join("\n");
}

/**
 * Writes `summary.md`, `heatmaps/<group>.png` and `stepwise/<group>_N<n>.png` (RMSE of the
 * Tweedie estimate vs step, one line per mask, mean over seeds and windows) under `out`.
 * Returns the paths written.
 *
 * @example
 * ```ts
 * import { writeFigures } from "@soad/soad/internal";
 * const files = await writeFigures({ format: "soad-experiment/1", config: {} as never, inputs: {}, stepT: [], cells: [] }, await Deno.makeTempDir());
 * console.log(files.length); // 1 (summary.md)
 * ```
 */
export async function writeFigures(results: ExperimentResults, out: string): Promise<string[]> {
  const files = [`${out}/summary.md`];
  await writeTextAtomic(files[0], summaryMarkdown(results.cells));
  for (const t of rmseTables(results.cells)) {
    const path = `${out}/heatmaps/${t.name}.png`;
    await writePng(
      path,
      heatmap({
        title: `RMSE ${t.title}`,
        rows: t.masks.map((m) => m.replace(/^([ps])/, "$1=")),
        cols: t.intervals.map(String),
        values: t.values,
        colTitle: "N",
        rowTitle: "mask",
      }),
    );
    files.push(path);
    for (const n of t.intervals) {
      const series = t.masks.flatMap((m) => {
        const cs = t.cells.filter((c) => c.mask === m && c.interval === n && c.stepRmse?.length);
        if (cs.length === 0) return [];
        const K = Math.min(...cs.map((c) => c.stepRmse!.length));
        const y = Array.from({ length: K }, (_, i) => {
          return cs.reduce((s, c) => s + c.stepRmse![i], 0) / cs.length;
        });
        return [{ name: m.replace(/^([ps])/, "$1="), x: y.map((_, i) => i + 1), y }];
      });
      if (series.length === 0 || !series.some((s) => s.y.some((v) => v > 0))) continue;
      // log scale only over a wide range (lineChart's log axis needs a 1-2-5 tick in range)
      const ys = series.flatMap((s) => s.y).filter((v) => v > 0 && Number.isFinite(v));
      const logY = ys.length > 0 && Math.max(...ys) / Math.min(...ys) > 20;
      const path = `${out}/stepwise/${t.name}_N${n}.png`;
      await writePng(
        path,
        lineChart(series, {
          title: `Tweedie-estimate RMSE vs step, ${t.title}, N=${n}`,
          xlabel: "sampler step",
          ylabel: "RMSE",
          logY,
        }),
      );
      files.push(path);
    }
  }
  return files;
}
