/**
 * A small LETKF tuning sweep, as DAPPER reports tuned values: every combination of localisation
 * half-width, inflation and RTPS cycled on the same truth, observations and initial ensemble;
 * results ranked by the mean analysis RMSE.
 * @module
 */

import { writeJsonAtomic, writeTextAtomic } from "../io/atomic.ts";
import { prepareOutputDir } from "../io/output_dir.ts";
import { cycle, type CycleOptions } from "./cycle.ts";
import { readF64 } from "./cycle_store.ts";
import { loadTruth } from "./truth.ts";

/** The grid of the sweep. */
export interface TuneGrid {
  /** Gaspari–Cohn half-widths, km. */
  loc: number[];
  /** Inflations. */
  inflation: number[];
  /** RTPS values. */
  rtps: number[];
}

/** One row of the sweep. */
export interface TuneRow {
  /** Half-width, km. */
  loc_radius_km: number;
  /** Inflation. */
  inflation: number;
  /** RTPS. */
  rtps: number;
  /** Mean RMSE (normalised), or NaN when it diverged. */
  rmse_mean: number;
  /** Mean spread. */
  spread_mean: number;
  /** Mean CRPS. */
  crps_mean: number;
  /** Seconds. */
  seconds: number;
  /** Failure, if any. */
  error?: string;
}

/**
 * Runs the sweep under `opts.out` (`base/` holds the truth and the climatology run; one folder per
 * combination) and writes tune.json and tune.md; resumable like {@link cycle}.
 *
 * @example
 * ```ts ignore
 * const r = await tuneLetkf(options, { loc: [50, 100], inflation: [1], rtps: [0.5] });
 * console.log(r.rows[0]); // the best
 * ```
 */
export async function tuneLetkf(
  opts: CycleOptions,
  grid: TuneGrid,
): Promise<{ rows: TuneRow[]; table: string; seconds: number }> {
  const t0 = performance.now(), out = opts.out;
  await prepareOutputDir(out, {
    force: opts.force,
    allowExisting: opts.resume ? (e) => e.includes("base") : undefined,
    hint: "or --resume to continue the sweep that wrote it",
  });
  const base = await cycle({
    ...opts,
    methods: ["free", "climatology"],
    out: `${out}/base`,
    resume: opts.resume,
    force: opts.force,
  });
  const truth = "simulate" in opts.truth
    ? await loadTruth(`${out}/base/truth.npy`, `${out}/base/truth.json`)
    : opts.truth;
  const climatology = opts.climatology ?? await readF64(`${out}/base/state/climatology/states.f64`);
  const rows: TuneRow[] = [];
  for (const loc of grid.loc) {
    for (const inflation of grid.inflation) {
      for (const rtps of grid.rtps) {
        const r = await cycle({
          ...opts,
          truth,
          days: base.summary.days,
          methods: ["letkf"],
          locRadiusKm: loc,
          inflation,
          rtps,
          climatology,
          out: `${out}/loc${loc}_infl${inflation}_rtps${rtps}`,
        });
        const s = r.summary.methods.letkf;
        rows.push({
          loc_radius_km: loc,
          inflation,
          rtps,
          rmse_mean: s.error ? NaN : s.rmse_mean,
          spread_mean: s.spread_mean,
          crps_mean: s.crps_mean,
          seconds: s.seconds,
          ...(s.error ? { error: s.error } : {}),
        });
      }
    }
  }
  rows.sort((
    x,
    y,
  ) => (Number.isNaN(x.rmse_mean)
    ? 1
    : Number.isNaN(y.rmse_mean)
    ? -1
    : x.rmse_mean - y.rmse_mean)
  );
  const free = base.summary.methods.free, clim = base.summary.methods.climatology;
  const table = [
    `| loc radius (km) | inflation | RTPS | RMSE | spread | CRPS | seconds |`,
    `| --- | --- | --- | --- | --- | --- | --- |`,
    ...rows.map((r) =>
      `| ${r.loc_radius_km} | ${r.inflation} | ${r.rtps} | ${
        r.error ? "diverged" : r.rmse_mean.toFixed(3)
      } | ` +
      `${r.spread_mean.toFixed(3)} | ${r.crps_mean.toFixed(3)} | ${r.seconds.toFixed(0)} |`
    ),
    ``,
    `free run RMSE ${free.rmse_mean.toFixed(3)}, climatology RMSE ${clim.rmse_mean.toFixed(3)} ` +
    `(${base.summary.days} days, ${opts.members ?? 32} members)`,
  ].join("\n");
  await writeJsonAtomic(`${out}/tune.json`, {
    days: base.summary.days,
    rows,
    free: free.rmse_mean,
    climatology: clim.rmse_mean,
  });
  await writeTextAtomic(`${out}/tune.md`, `# LETKF tuning sweep\n\n${table}\n`);
  return { rows, table, seconds: (performance.now() - t0) / 1000 };
}
