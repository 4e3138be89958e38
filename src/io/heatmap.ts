/**
 * Annotated heatmaps like the paper's figures 5 and 9: a table of values drawn as coloured cells
 * with each value printed in its cell, row labels on the left (e.g. masks), column labels on top
 * (e.g. the time interval N), a title and a colorbar. Returns an {@link Image}; write it with
 * `writePng` from `image.ts`.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { colormap } from "./colormap.ts";
import { drawText, textHeight, textWidth } from "./font.ts";
import { BLACK, type Color, createImage, drawRect, fillRect, type Image, WHITE } from "./image.ts";
import { formatNumber } from "./plot.ts";

/** Options of {@link heatmap}. */
export interface HeatmapOptions {
  /** Title above the table. */
  title: string;
  /** Row labels, top to bottom (one per row of `values`). */
  rows: string[];
  /** Column labels, left to right (one per column of `values`). */
  cols: string[];
  /** `values[r][c]`; NaN (a missing cell) is drawn grey with "-". */
  values: number[][];
  /** Colormap (default "viridis"). */
  cmap?: "viridis" | "RdBu_r";
  /** Colour limits (default [min, max] of the finite values; a constant table gets ± 0.5). */
  range?: [number, number];
  /** How a value is printed in its cell (default {@link formatCell}: "0.208", "0.180", "14.9"). */
  format?: (v: number) => string;
  /** A label over the column labels (e.g. "N"). */
  colTitle?: string;
  /** A label over the row labels (e.g. "mask"). */
  rowTitle?: string;
  /** Text scale (integer ≥ 1, default 2). */
  scale?: number;
}

/**
 * The default cell text: 3 significant digits with trailing zeros kept ("0.180", "2.41", "14.9"),
 * compact exponent notation outside 1e-3 ≤ |v| < 1e4.
 *
 * @example
 * ```ts
 * import { formatCell } from "@soad/soad/internal";
 * console.log(formatCell(0.18), formatCell(14.93)); // "0.180" "14.9"
 * ```
 */
export function formatCell(v: number): string {
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e4 ? v.toPrecision(3) : formatNumber(v);
}

/** Grey of missing cells. */
export const MISSING_COLOR: readonly [number, number, number] = [190, 190, 190];

/** Black or white, whichever reads better on `rgb` (relative luminance threshold). */
function textColorOn(rgb: readonly number[]): Color {
  const lum = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  return lum > 140 ? BLACK : WHITE;
}

/** Geometry of a heatmap image (pixel positions of the table), for tests and overlays. */
export interface HeatmapGeometry {
  /** Left edge of the first cell column. */
  x0: number;
  /** Top edge of the first cell row. */
  y0: number;
  /** Cell width in pixels. */
  cellWidth: number;
  /** Cell height in pixels. */
  cellHeight: number;
}

function checkOptions(o: HeatmapOptions): void {
  const { rows, cols, values } = o;
  if (!Array.isArray(rows) || !Array.isArray(cols) || rows.length === 0 || cols.length === 0) {
    throw new InvalidArgumentError("heatmap: rows and cols must be non-empty label lists");
  }
  if (!Array.isArray(values) || values.length !== rows.length) {
    throw new InvalidArgumentError(
      `heatmap: values has ${values?.length} rows, expected ${rows.length} (one per row label)`,
    );
  }
  values.forEach((r, i) => {
    if (!Array.isArray(r) || r.length !== cols.length) {
      throw new InvalidArgumentError(
        `heatmap: values[${i}] has ${r?.length} entries, expected ${cols.length} (one per column)`,
      );
    }
  });
  if (o.range && !(o.range[0] < o.range[1])) {
    throw new InvalidArgumentError(`heatmap: range [${o.range}] must have min < max`);
  }
}

/**
 * The pixel geometry {@link heatmap} uses for these options (cell (r, c) spans
 * `x0 + c·cellWidth … + cellWidth`, `y0 + r·cellHeight … + cellHeight`).
 *
 * @example
 * ```ts
 * import { heatmapGeometry } from "@soad/soad/internal";
 * const g = heatmapGeometry({ title: "t", rows: ["a"], cols: ["1", "2"], values: [[1, 2]] });
 * console.log(g.cellWidth > 0 && g.cellHeight > 0); // true
 * ```
 */
export function heatmapGeometry(o: HeatmapOptions): HeatmapGeometry {
  checkOptions(o);
  const ts = o.scale ?? 2;
  const fmt = o.format ?? formatCell;
  const th = textHeight(ts), pad = 4 * ts;
  const texts = o.values.flat().map((v) => (Number.isFinite(v) ? fmt(v) : "-"));
  const cellWidth = Math.max(
    ...texts.map((s) => textWidth(s, ts)),
    ...o.cols.map((s) => textWidth(s, ts)),
  ) + 4 * pad;
  const cellHeight = th + 3 * pad;
  const labelW = Math.max(...o.rows.map((s) => textWidth(s, ts)), textWidth(o.rowTitle ?? "", ts));
  const titleH = th + 2 * pad;
  const colTitleH = o.colTitle ? th + pad : 0;
  return {
    x0: pad + labelW + 2 * pad,
    y0: titleH + colTitleH + th + 2 * pad,
    cellWidth,
    cellHeight,
  };
}

/**
 * Draws an annotated heatmap: each cell coloured by its value with the value printed in it
 * (black or white, whichever contrasts), row labels on the left, column labels on top, the
 * title above and a colorbar with max / middle / min labels on the right. Throws an
 * {@link InvalidArgumentError} when the table does not match the labels or the range is empty.
 *
 * @example
 * ```ts
 * import { heatmap } from "@soad/soad/internal";
 * const img = heatmap({
 *   title: "SOAD arctan3x, setting I",
 *   rows: ["p=0.01", "p=1"],
 *   cols: ["1", "2", "4", "8"],
 *   values: [[0.208, 0.212, 0.217, 0.222], [0.084, 0.094, 0.102, 0.112]],
 *   colTitle: "N",
 * });
 * console.log(img.width > 0); // true
 * ```
 */
export function heatmap(options: HeatmapOptions): Image {
  const g = heatmapGeometry(options);
  const { rows, cols, values, title } = options;
  const ts = options.scale ?? 2;
  const fmt = options.format ?? formatCell;
  const cmap = colormap(options.cmap ?? "viridis");
  const th = textHeight(ts), pad = 4 * ts;
  const finite = values.flat().filter(Number.isFinite);
  let range: [number, number];
  if (options.range) range = options.range;
  else if (finite.length === 0) range = [0, 1];
  else {
    const lo = Math.min(...finite), hi = Math.max(...finite);
    range = lo < hi ? [lo, hi] : [lo - 0.5, hi + 0.5];
  }
  const barLabels = [range[1], (range[0] + range[1]) / 2, range[0]].map((v) => fmt(v));
  const tableW = cols.length * g.cellWidth, tableH = rows.length * g.cellHeight;
  const barX = g.x0 + tableW + 3 * pad, barW = 6 * ts;
  const width = Math.max(
    barX + barW + 3 * ts + Math.max(...barLabels.map((s) => textWidth(s, ts))) + 2 * pad,
    textWidth(title, ts) + 2 * pad,
  );
  const height = g.y0 + tableH + 2 * pad;
  const img = createImage(width, height);
  drawText(img, title, width / 2, pad, { scale: ts, align: "center" });
  if (options.colTitle) {
    drawText(img, options.colTitle, g.x0 + tableW / 2, g.y0 - 2 * th - 2 * pad, {
      scale: ts,
      align: "center",
    });
  }
  if (options.rowTitle) {
    drawText(img, options.rowTitle, g.x0 - 2 * pad, g.y0 - th - pad, {
      scale: ts,
      align: "right",
    });
  }
  cols.forEach((label, c) => {
    drawText(img, label, g.x0 + (c + 0.5) * g.cellWidth, g.y0 - th - pad, {
      scale: ts,
      align: "center",
    });
  });
  rows.forEach((label, r) => {
    const cy = g.y0 + r * g.cellHeight;
    drawText(img, label, g.x0 - 2 * pad, cy + (g.cellHeight - th) / 2, {
      scale: ts,
      align: "right",
    });
    cols.forEach((_, c) => {
      const v = values[r][c];
      const cx = g.x0 + c * g.cellWidth;
      const rgb: Color = Number.isFinite(v)
        ? cmap((v - range[0]) / (range[1] - range[0]))
        : MISSING_COLOR;
      fillRect(img, cx, cy, g.cellWidth, g.cellHeight, rgb);
      drawText(
        img,
        Number.isFinite(v) ? fmt(v) : "-",
        cx + g.cellWidth / 2,
        cy + (g.cellHeight - th) / 2,
        {
          scale: ts,
          align: "center",
          color: textColorOn(rgb),
        },
      );
    });
  });
  drawRect(img, g.x0 - 1, g.y0 - 1, tableW + 2, tableH + 2, BLACK);
  for (let y = 0; y < tableH; y++) {
    fillRect(img, barX, g.y0 + y, barW, 1, cmap(1 - (y + 0.5) / tableH));
  }
  drawRect(img, barX - 1, g.y0 - 1, barW + 2, tableH + 2, BLACK);
  barLabels.forEach((label, m) => {
    const ty = g.y0 + Math.round((m * (tableH - 1)) / 2);
    fillRect(img, barX + barW, ty, 2 * ts, 1, BLACK);
    const ly = Math.min(Math.max(ty - th / 2, g.y0 - 1), g.y0 + tableH - th + 1);
    drawText(img, label, barX + barW + 3 * ts, ly, { scale: ts });
  });
  return img;
}
