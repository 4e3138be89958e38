/**
 * `deno task results-figure --results out/a,out/b --setting I --out docs/results/setting_I.png` —
 * the paper-style comparison figure of one setting (heatmaps per operator and method, ours next
 * to the published numbers, one colour scale) from one or more `deno task experiment` outputs.
 * @module
 */

import { parseArgs } from "node:util";
import { InvalidArgumentError } from "../src/errors.ts";
import { type ExperimentResults, readResults } from "../src/assim/experiment.ts";
import { ints } from "./experiment.ts";
import { comparisonFigure } from "../src/assim/experiment_figure.ts";
import type { CellResult } from "../src/assim/experiment_cell.ts";
import type { Setting } from "../src/assim/experiment_grid.ts";
import { writePng } from "../src/io/image.ts";
import { prepareOutputFile } from "../src/io/output_dir.ts";

const HELP =
  `deno task results-figure --results DIR[,DIR...] --setting I|II|III --out FILE.png [flags]

Draws one setting's RMSE heatmaps (rows: operators; columns: SOAD, SDA and the paper's SOAD, SDA)
on one colour scale from experiment outputs (results.json). The runs must share K, t-max, M, S
and L; each value is the mean over the seeds and windows present (base variant).
  --seeds LIST     only these seeds (default: all present)
  --range LO,HI    colour limits (default 0,1.2: climatology ≈ 1)
  --no-paper       without the paper's panels
  --force          replace an existing --out file
`;

/**
 * Reads the results, checks they are comparable and writes the figure; returns the cell count.
 *
 * @example
 * ```ts
 * import { resultsFigure } from "./results_figure.ts";
 * await resultsFigure(["--help"]); // prints the usage
 * ```
 */
export async function resultsFigure(args: string[]): Promise<number> {
  const { values: a } = parseArgs({
    args,
    options: {
      help: { type: "boolean", short: "h" },
      results: { type: "string" },
      setting: { type: "string" },
      out: { type: "string" },
      seeds: { type: "string" },
      range: { type: "string" },
      "no-paper": { type: "boolean", default: false },
      force: { type: "boolean", default: false },
    },
  });
  if (a.help) {
    console.log(HELP);
    return 0;
  }
  if (!a.results || !a.setting || !a.out) {
    throw new InvalidArgumentError("--results, --setting and --out are required (see --help)");
  }
  const setting = a.setting as Setting;
  if (!["I", "II", "III"].includes(setting)) {
    throw new InvalidArgumentError(`--setting must be I, II or III, got ${a.setting}`);
  }
  const seeds = a.seeds === undefined ? undefined : ints("seeds", a.seeds);
  const range = a.range?.split(",").map(Number) as [number, number] | undefined;
  if (range && (range.length !== 2 || !range.every(Number.isFinite))) {
    throw new InvalidArgumentError(`--range must be LO,HI, got ${a.range}`);
  }
  const cells: CellResult[] = [];
  let first: ExperimentResults | undefined;
  for (const dir of a.results.split(",")) {
    const r = await readResults(dir);
    if (!r) throw new InvalidArgumentError(`${dir}/results.json not found`);
    first ??= r;
    const [c, c0] = [JSON.stringify(r.config), JSON.stringify(first.config)];
    if (c !== c0) {
      throw new InvalidArgumentError(
        `${dir} ran with ${c}, the others with ${c0}: their RMSE are not comparable`,
      );
    }
    cells.push(...r.cells.filter((x) => !seeds || seeds.includes(x.seed)));
  }
  await prepareOutputFile(a.out, { force: a.force });
  const { steps, tMax } = first!.config;
  const img = comparisonFigure(cells, {
    setting,
    range,
    paper: !a["no-paper"],
    title: `RMSE, setting ${setting}: ours (K = ${steps}, t from ${tMax})` +
      // the paper has no setting-III numbers (spec §6.2)
      (a["no-paper"] || setting === "III" ? "" : " vs the paper (K = 256)"),
  });
  await writePng(a.out, img);
  console.error(`wrote ${a.out} (${img.width}x${img.height}) from ${cells.length} cells`);
  return cells.length;
}

if (import.meta.main) {
  try {
    await resultsFigure(Deno.args);
  } catch (e) {
    console.error(`results-figure: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
