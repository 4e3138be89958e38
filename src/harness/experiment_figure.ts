/**
 * The paper's comparison figure for one setting: a heatmap per operator and method (rows =
 * masks, columns = N), ours next to the published numbers (spec §6.2), on one colour scale so
 * that a colour means the same RMSE in every panel. Built from the cells of any number of
 * results files (`deno task results-figure`).
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { heatmap } from "../io/heatmap.ts";
import { blit, createImage, type Image } from "../io/image.ts";
import { drawText, textHeight } from "../io/font.ts";
import type { CellResult } from "./experiment_cell.ts";
import { EXPERIMENT_OPS, type ExperimentOp, type Setting } from "./experiment_grid.ts";
import { type RmseTable, rmseTables } from "./experiment_report.ts";
import { publishedRmse } from "./published.ts";

/** Options of {@link comparisonFigure}. */
export interface ComparisonFigureOptions {
  /** The setting shown (I or II; III has no published numbers and one operator set). */
  setting: Setting;
  /** Colour limits shared by all panels (default [0, 1.2]: climatology ≈ 1 is near the top). */
  range?: [number, number];
  /** Add the paper's panels (default true). */
  paper?: boolean;
  /** Figure title (default "RMSE, setting <S>: ours (K, …) vs the paper"). */
  title?: string;
  /** Text scale (default 2). */
  scale?: number;
}

/** One panel: a title and a mask × N table. */
interface Panel {
  title: string;
  rows: string[];
  cols: number[];
  values: number[][];
}

/** A table's value at (mask, N), undefined where it has none. */
function valueAt(t: RmseTable | undefined, mask: string, n: number): number | undefined {
  const i = t?.masks.indexOf(mask) ?? -1, j = t?.intervals.indexOf(n) ?? -1;
  return i >= 0 && j >= 0 ? t!.values[i][j] : undefined;
}

/**
 * Draws the comparison figure of one setting from experiment cells (base variant only; each
 * value the mean over the seeds and windows present). Rows of panels = operators; columns = SOAD,
 * SDA, and with `paper` the published SOAD and SDA values on the same masks and N. SDA does not
 * use the background, so in setting II its panel shows its setting-I cells when the grid skipped
 * setting II (`enumerateGrid`), and the paper's SDA panel its setting-I numbers. Throws an
 * {@link InvalidArgumentError} when no cell of the setting is present.
 *
 * @example
 * ```ts
 * import { comparisonFigure } from "@soad/soad/internal";
 * import type { CellResult } from "@soad/soad";
 * const cell = (method: "soad" | "sda", rmse: number): CellResult => ({
 *   key: `I/arctan3x/p1/N1/seed0/${method}/w0/base`, setting: "I", ops: ["arctan3x"], mask: "p1",
 *   interval: 1, seed: 0, method, window: 0, variant: "base", model: method, start: 0, rmse,
 *   rmseFrames: [rmse], completed: 1, seconds: 1,
 * });
 * const img = comparisonFigure([cell("soad", 0.3), cell("sda", 0.4)], { setting: "I" });
 * console.log(img.width > img.height); // true
 * ```
 */
export function comparisonFigure(cells: CellResult[], options: ComparisonFigureOptions): Image {
  const { setting } = options;
  const range = options.range ?? [0, 1.2];
  if (!(range[1] > range[0])) {
    throw new InvalidArgumentError(`range must be [lo, hi] with lo < hi, got [${range}]`);
  }
  const tables = rmseTables(cells.filter((c) => c.variant === "base"));
  // one row per operator set, in the paper's operator order
  const keys = new Set(
    tables.filter((t) => t.cells[0].setting === setting).map((t) => t.cells[0].ops.join("+")),
  );
  const rank = (k: string) =>
    k.split("+").map((o) => EXPERIMENT_OPS.indexOf(o as ExperimentOp)).join();
  const ops = [...keys].sort((a, b) => rank(a).localeCompare(rank(b))).map((k) => k.split("+"));
  if (ops.length === 0) {
    throw new InvalidArgumentError(`no cells of setting ${setting} (base variant) to draw`);
  }
  const find = (s: Setting, op: string, method: string) =>
    tables.find((t) => {
      const c = t.cells[0];
      return c.setting === s && c.ops.join("+") === op && c.method === method;
    });
  const rows: Panel[][] = ops.map((opSet) => {
    const op = opSet.join("+");
    const soad = find(setting, op, "soad");
    const sdaOwn = find(setting, op, "sda");
    const sda = sdaOwn ?? (setting === "II" ? find("I", op, "sda") : undefined);
    const ref = soad ?? sda!;
    const panel = (title: string, value: (m: string, n: number) => number | undefined) => ({
      title: `${op}: ${title}`,
      rows: ref.masks,
      cols: ref.intervals,
      values: ref.masks.map((m) => ref.intervals.map((n) => value(m, n) ?? NaN)),
    });
    const panels: Panel[] = [
      panel("SOAD", (m, n) => valueAt(soad, m, n)),
      panel(`SDA${!sdaOwn && sda ? " (= I)" : ""}`, (m, n) => valueAt(sda, m, n)),
    ];
    if ((options.paper ?? true) && opSet.length === 1) {
      panels.push(
        panel("paper SOAD", (m, n) => publishedRmse(setting, "soad", opSet[0], m, n)),
        // the paper's SDA numbers are its setting-I ones (spec §6.2)
        panel(
          `paper SDA${setting === "I" ? "" : " (I)"}`,
          (m, n) => publishedRmse("I", "sda", opSet[0], m, n),
        ),
      );
    }
    return panels;
  });
  const scale = options.scale ?? 2;
  const images = rows.map((ps) =>
    ps.map((p) =>
      heatmap({
        title: p.title,
        rows: p.rows.map((m) => m.replace(/^([ps])/, "$1=")),
        cols: p.cols.map(String),
        values: p.values,
        range,
        colTitle: "N",
        rowTitle: "mask",
        scale,
      })
    )
  );
  const colW = Math.max(...images.flat().map((i) => i.width));
  const rowH = images.map((r) => Math.max(...r.map((i) => i.height)));
  const ncol = Math.max(...images.map((r) => r.length));
  const th = textHeight(scale), top = th + 8 * scale;
  const title = options.title ?? `RMSE, setting ${setting}: ours vs the paper (same colours)`;
  const out = createImage(ncol * colW, top + rowH.reduce((a, b) => a + b, 0));
  drawText(out, title, out.width / 2, 4 * scale, { scale, align: "center" });
  let y = top;
  images.forEach((r, i) => {
    r.forEach((img, j) => blit(out, img, j * colW, y));
    y += rowH[i];
  });
  return out;
}
