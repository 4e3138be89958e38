/**
 * What a cycling run writes under `--out`: summary.json (the contract keys and more), summary.md,
 * the figures (RMSE and spread vs day for all methods, rank histograms, a snapshot panel) and the
 * analyses (mean and spread of every method and day, physical q; members optional) as a Zarr
 * group with coordinates (day, layer, y and x in metres) that `xarray.open_zarr` opens.
 * @module
 */

import { writeJsonAtomic, writeTextAtomic } from "../io/atomic.ts";
import { writePng } from "../io/image.ts";
import { type FieldPanel, fieldPanels, lineChart } from "../io/plot.ts";
import { writeZarrGroup, type ZarrVariable } from "../io/zarr_write.ts";
import type { Observation } from "../obs/observe.ts";
import type { Normalisation } from "./cycle_obs.ts";
import type { MethodScores } from "./cycle_verify.ts";

/** summary.json. */
export interface CycleSummary {
  /** Days verified. */
  days: number;
  /** Observed days. */
  observed_days: number[];
  /** The run's settings. */
  config: Record<string, unknown>;
  /** Where the truth came from and its grid. */
  truth: Record<string, unknown>;
  /** Per method: scores, wall seconds and anything it failed with. */
  methods: Record<string, MethodScores & { seconds: number; error?: string; note?: string }>;
}

/**
 * Writes summary.json and summary.md.
 *
 * @example
 * ```ts ignore
 * await writeSummary("out/cycle", summary);
 * ```
 */
export async function writeSummary(out: string, s: CycleSummary): Promise<void> {
  await writeJsonAtomic(`${out}/summary.json`, s);
  const f = (v: number | null | undefined, d = 3) =>
    v === null || v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(d);
  const lines = [
    `# Cycling twin experiment`,
    ``,
    `Truth: ${s.truth.source} (${s.truth.height}x${s.truth.width}, simulation ${s.truth.sim_grid}, pool ${s.truth.pool}); ` +
    `${s.days} days; observations: ${s.config.operator}, ${s.config.mask}, every ${s.config.interval} day(s), σo = ${s.config.sigma_obs}.`,
    ``,
    `| method | members | RMSE (normalised) | RMSE upper / lower (1/s) | spread | spread–skill | CRPS | seconds |`,
    `| --- | --- | --- | --- | --- | --- | --- | --- |`,
  ];
  for (const [m, r] of Object.entries(s.methods)) {
    if (r.error) {
      lines.push(`| ${m} | ${r.members} | failed: ${r.error} | | | | | ${f(r.seconds, 0)} |`);
      continue;
    }
    lines.push(
      `| ${m} | ${r.members} | ${f(r.rmse_mean)} | ${r.rmse_physical_mean[0].toExponential(2)} / ` +
        `${r.rmse_physical_mean[1].toExponential(2)} | ${f(r.spread_mean)} | ${
          f(r.spread_skill_mean, 2)
        } | ` +
        `${f(r.crps_mean)} | ${f(r.seconds, 0)} |`,
    );
  }
  lines.push("", "Settings: `" + JSON.stringify(s.config) + "`", "");
  for (const [m, r] of Object.entries(s.methods)) if (r.note) lines.push(`- ${m}: ${r.note}`);
  await writeTextAtomic(`${out}/summary.md`, lines.join("\n") + "\n");
}

/** Inputs of {@link writeFigures}. */
export interface FigureInputs {
  /** Output folder. */
  out: string;
  /** Scores per method. */
  scores: Record<string, MethodScores>;
  /** Normalised truth `[days, 2, H, W]`. */
  truth: Float32Array;
  /** Grid. */
  height: number;
  /** Grid. */
  width: number;
  /** Observations. */
  observations: Observation;
  /** Ensemble means per method `[days, 2, H, W]` (normalised). */
  means: Record<string, Float32Array>;
  /** Day of the snapshot. */
  snapshotDay: number;
}

/**
 * Writes rmse.png, spread.png, rank_histograms.png and snapshot.png.
 *
 * @example
 * ```ts ignore
 * await writeFigures({ out, scores, truth, height: 64, width: 64, observations, means, snapshotDay: 16 });
 * ```
 */
export async function writeFigures(o: FigureInputs): Promise<void> {
  const names = Object.keys(o.scores).filter((m) => o.scores[m].rmse.length > 0);
  if (names.length === 0) return;
  const days = o.scores[names[0]].rmse.map((_, d) => d);
  await writePng(
    `${o.out}/rmse.png`,
    lineChart(names.map((m) => ({ name: m, x: days, y: o.scores[m].rmse })), {
      title: "RMSE of the analysis mean vs day",
      xlabel: "day",
      ylabel: "RMSE (normalised)",
      logY: true,
    }),
  );
  const spreads = names.filter((m) => o.scores[m].members > 1);
  if (spreads.length > 0) {
    await writePng(
      `${o.out}/spread.png`,
      lineChart(spreads.map((m) => ({ name: m, x: days, y: o.scores[m].spread })), {
        title: "ensemble spread vs day",
        xlabel: "day",
        ylabel: "spread (normalised)",
        logY: true,
      }),
    );
    await writePng(
      `${o.out}/rank_histograms.png`,
      lineChart(
        spreads.map((m) => {
          const h = o.scores[m].rank_histogram, tot = h.reduce((a, b) => a + b, 0);
          return {
            name: m,
            x: h.map((_, k) => k / (h.length - 1)),
            y: h.map((c) => (c * h.length) / tot),
          };
        }),
        {
          title: "rank histograms (1 = flat = calibrated)",
          xlabel: "rank of the truth / members",
          ylabel: "relative frequency x bins",
        },
      ),
    );
  }
  const R = o.height * o.width, d = o.snapshotDay, frame = 2 * R;
  const truth = o.truth.subarray(d * frame, d * frame + R); // upper layer
  const obsField = new Float32Array(R).fill(NaN);
  const i = o.observations.frames.indexOf(d);
  if (i >= 0) {
    const np = o.observations.mask.indices.length, per = o.observations.operator.outChannels * np;
    for (let p = 0; p < np; p++) {
      obsField[o.observations.mask.indices[p]] = o.observations.values[i * per + p];
    }
  }
  let lim = 0;
  for (const v of truth) lim = Math.max(lim, Math.abs(v));
  if (!(lim > 0)) lim = 1; // a constant truth still gets a figure
  const panels: FieldPanel[] = [
    { title: `truth, day ${d}`, data: truth, ny: o.height, nx: o.width, range: [-lim, lim] },
    { title: `obs (${o.observations.operator.name})`, data: obsField, ny: o.height, nx: o.width },
  ];
  for (const m of names) {
    const mean = o.means[m].subarray(d * frame, d * frame + R);
    panels.push({ title: `${m} mean`, data: mean, ny: o.height, nx: o.width, range: [-lim, lim] });
  }
  for (const m of names) {
    const mean = o.means[m].subarray(d * frame, d * frame + R);
    panels.push({
      title: `${m} error`,
      data: Float32Array.from(mean, (v, k) => v - truth[k]),
      ny: o.height,
      nx: o.width,
      range: [-lim, lim],
    });
  }
  await writePng(
    `${o.out}/snapshot.png`,
    fieldPanels(panels, {
      columns: Math.max(4, names.length + 2),
      suptitle: `upper-layer q (normalised), day ${d}`,
    }),
  );
}

/** Inputs of {@link writeAnalyses}. */
export interface AnalysesInputs {
  /** Zarr folder (must not exist). */
  path: string;
  /** Days. */
  days: number;
  /** Grid. */
  height: number;
  /** Grid. */
  width: number;
  /** Domain sizes in metres (x, y). */
  lengthX: number;
  /** Domain size y, metres. */
  lengthY: number;
  /** Normalisation (to write physical q). */
  norm: Normalisation;
  /** The truth `[days, 2, H, W]`, physical q (written as it is). */
  truth: Float32Array;
  /** Per method: mean and spread `[days, 2, H, W]` normalised, members `[S, days, 2, H, W]` optional. */
  methods: Record<
    string,
    { mean: Float32Array; spread: Float32Array; members?: Float32Array; count: number }
  >;
  /** Group attributes. */
  attrs: Record<string, unknown>;
}

/**
 * Writes the analyses Zarr group (physical q, 1/s).
 *
 * @example
 * ```ts ignore
 * await writeAnalyses({ path: "out/cycle/analyses.zarr", ... });
 * ```
 */
export async function writeAnalyses(a: AnalysesInputs): Promise<void> {
  const { days, height: H, width: W, norm } = a, R = H * W;
  const phys = (x: Float32Array, spread = false) =>
    Float32Array.from(x, (v, i) => {
      const c = Math.floor(i / R) % 2;
      return spread ? v * norm.std[c] : v * norm.std[c] + norm.offset[c];
    });
  const field = ["day", "layer", "y", "x"], shape = [days, 2, H, W];
  const vars: Record<string, ZarrVariable> = {
    day: {
      dims: ["day"],
      shape: [days],
      data: Int32Array.from({ length: days }, (_, d) => d),
      attrs: { units: "days" },
    },
    layer: {
      dims: ["layer"],
      shape: [2],
      data: new Int32Array([0, 1]),
      attrs: { description: "0 = upper, 1 = lower" },
    },
    y: {
      dims: ["y"],
      shape: [H],
      data: Float64Array.from({ length: H }, (_, i) => (i + 0.5) * a.lengthY / H),
      attrs: { units: "m" },
    },
    x: {
      dims: ["x"],
      shape: [W],
      data: Float64Array.from({ length: W }, (_, j) => (j + 0.5) * a.lengthX / W),
      attrs: { units: "m" },
    },
    truth: {
      dims: field,
      shape,
      data: a.truth,
      attrs: { units: "1/s", long_name: "potential vorticity q" },
    },
  };
  for (const [m, v] of Object.entries(a.methods)) {
    vars[`${m}_mean`] = {
      dims: field,
      shape,
      data: phys(v.mean),
      attrs: { units: "1/s", members: v.count },
    };
    vars[`${m}_spread`] = {
      dims: field,
      shape,
      data: phys(v.spread, true),
      attrs: { units: "1/s" },
    };
    if (v.members) {
      vars[`${m}_members`] = {
        dims: [`${m}_member`, ...field],
        shape: [v.count, ...shape],
        data: phys(v.members),
        attrs: { units: "1/s" },
        chunks: [1, 1, 2, H, W],
      };
    }
  }
  await writeZarrGroup(a.path, vars, a.attrs);
}
