/**
 * `deno task data-stats --data A.zarr,B.zarr` — compares the flow in dataset stores: the upper
 * layer's time-mean isotropic KE spectrum (optionally plotted, log-log, against k·r_d), its
 * spectral centroid (the eddy scale, in km, deformation radii and pixels), the RMS of q per layer
 * and the sin3x phase-jump fractions (neighbouring pixels and consecutive days with
 * 3·|Δq| > π, q in the store's normalised units). Code: `src/data/stats.ts`.
 * @module
 */

import { parseArgs } from "node:util";
import { SoadError } from "../src/errors.ts";
import { dataSplit } from "../src/data/config.ts";
import { openDatasetStore, readWindow } from "../src/data/store.ts";
import { FlowStats, type FlowStatsResult } from "../src/data/stats.ts";
import { resolveParams } from "../src/qg/params.ts";
import { lineChart } from "../src/io/plot.ts";
import { writePng } from "../src/io/image.ts";
import { writeJsonAtomic } from "../src/io/atomic.ts";
import { prepareOutputFile } from "../src/io/output_dir.ts";
import { InvalidArgumentError } from "../src/errors.ts";

const HELP = `deno task data-stats --data STORE[,STORE...] [flags]

Prints one row per dataset store: domain, pixel size (km and per deformation radius r_d), the
upper-layer KE spectral centroid (wavelength 2π/k_c in km, in r_d and in pixels) and peak, RMS q
per layer, the sin3x phase-jump fractions: neighbouring pixel pairs (x and y, periodic) and the
same pixel on consecutive days where 3·|Δq| > π, q divided by the store's per-layer std, and the
persistence RMSE (q/std, both layers) between a window's first snapshot and the ones 1, 2, 4 and 8
snapshots later.

Flags:
  --data LIST      comma-separated dataset stores (finalised)
  --split NAME     train | valid | test (default test): the windows measured
  --plot FILE.png  also draw the upper-layer KE spectra against k·r_d (log-log)
  --json FILE      also write the numbers (and spectra) as JSON
  --force          replace existing --plot / --json files
`;

/** The statistics of one store, with what identifies it. */
export interface StoreStats extends FlowStatsResult {
  /** Store path. */
  path: string;
  /** Domain length [m]. */
  L: number;
  /** Deformation radius [m]. */
  rd: number;
  /** Stored (pooled) grid points per side. */
  n: number;
  /** Windows measured. */
  windows: number;
}

/**
 * Measures one store's split (see the module documentation).
 *
 * @example
 * ```ts ignore
 * import { storeStats } from "@soad/soad/data-stats";
 * const s = storeStats("data/qg.zarr", "test");
 * console.log(s.jumpNeighbour); // e.g. [ 0.114, 0.053 ]
 * ```
 */
export function storeStats(path: string, split: "train" | "valid" | "test"): StoreStats {
  const s = openDatasetStore(path);
  const std = s.attrs.norm_std;
  if (!s.attrs.complete || !std) {
    throw new InvalidArgumentError(
      `${path} is not finalised (no normalisation statistics); finish it with deno task generate --resume`,
    );
  }
  const c = s.config;
  const n = c.qg.nx / c.pool;
  const params = resolveParams({ ...c.qg, nx: n, ny: c.qg.ny / c.pool });
  const acc = new FlowStats(params, [std[0], std[1]]);
  const [w0, w1] = dataSplit(c)[split];
  for (let w = w0; w < w1; w++) acc.addWindow(readWindow(s, w), c.window);
  return { ...acc.result(), path, L: c.qg.L, rd: c.qg.rd, n, windows: w1 - w0 };
}

/** Leads (snapshots) whose persistence RMSE the table shows. */
const LEADS = [1, 2, 4, 8];

function pct(v: number): string {
  return `${(100 * v).toFixed(2)} %`;
}

/**
 * The comparison table (Markdown) of {@link storeStats} results.
 *
 * @example
 * ```ts ignore
 * import { statsTable, storeStats } from "@soad/soad/data-stats";
 * console.log(statsTable([storeStats("data/qg.zarr", "test")]));
 * ```
 */
export function statsTable(rows: StoreStats[]): string {
  const head = [
    "store",
    "L (km)",
    "pixel (km)",
    "pixels / r_d",
    "snapshots",
    "KE1 centroid 2π/k_c: km / r_d / pixels",
    "KE1 peak 2π/k (km)",
    "RMS q1, q2 (1/s)",
    "neighbour jumps L1 / L2",
    "next-day jumps L1 / L2",
    `persistence RMSE lead ${LEADS.join(" / ")} d`,
  ];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => " --- ").join("|")}|`];
  for (const r of rows) {
    const px = r.L / r.n, lam = (2 * Math.PI) / r.centroid;
    lines.push(
      `| ${
        [
          r.path,
          (r.L / 1e3).toFixed(0),
          (px / 1e3).toFixed(2),
          (r.rd / px).toFixed(2),
          String(r.frames),
          `${(lam / 1e3).toFixed(1)} / ${(lam / r.rd).toFixed(2)} / ${(lam / px).toFixed(1)}`,
          ((2 * Math.PI) / r.peak / 1e3).toFixed(1),
          `${r.rms[0].toExponential(2)}, ${r.rms[1].toExponential(2)}`,
          `${pct(r.jumpNeighbour[0])} / ${pct(r.jumpNeighbour[1])}`,
          `${pct(r.jumpTime[0])} / ${pct(r.jumpTime[1])}`,
          LEADS.map((d) => r.persistence[d]?.toFixed(3) ?? "–").join(" / "),
        ].join(" | ")
      } |`,
    );
  }
  return lines.join("\n");
}

async function main(args: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args,
    options: {
      data: { type: "string" },
      split: { type: "string", default: "test" },
      plot: { type: "string" },
      json: { type: "string" },
      force: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (v.help) {
    console.log(HELP);
    return;
  }
  if (!v.data) throw new InvalidArgumentError("--data is required (comma-separated stores)");
  const split = v.split as string;
  if (split !== "train" && split !== "valid" && split !== "test") {
    throw new InvalidArgumentError(`--split must be train, valid or test, got "${split}"`);
  }
  for (const f of [v.plot, v.json]) if (f) await prepareOutputFile(f, { force: v.force });
  const rows = v.data.split(",").filter((p) => p).map((p) => storeStats(p, split));
  console.log(statsTable(rows));
  if (v.plot) {
    const img = lineChart(
      rows.map((r) => ({
        name: `${r.path} (L ${(r.L / 1e3).toFixed(0)} km)`,
        x: Array.from(r.kr, (k) => k * r.rd),
        y: r.keSpectrum,
      })),
      {
        logX: true,
        logY: true,
        title: `upper-layer KE spectrum (${split} split, time mean)`,
        xlabel: "k r_d",
        ylabel: "E(k) (m3/s2)",
      },
    );
    await writePng(v.plot, img);
    console.log(`wrote ${v.plot}`);
  }
  if (v.json) {
    await writeJsonAtomic(
      v.json,
      rows.map((r) => ({ ...r, kr: Array.from(r.kr), keSpectrum: Array.from(r.keSpectrum) })),
    );
    console.log(`wrote ${v.json}`);
  }
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (e) {
    if (e instanceof SoadError || e instanceof TypeError) {
      console.error(`data-stats: ${(e as Error).message}`);
      Deno.exit(2);
    }
    throw e;
  }
}
