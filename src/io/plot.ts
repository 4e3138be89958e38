/**
 * Figures for when a picture beats a table: a grid of 2-D fields with colorbars
 * ({@link fieldPanels}) and line charts with linear or log axes and a legend ({@link lineChart}).
 * Both return an {@link Image}; write it with `writePng` from `image.ts`.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { colormap, type ColormapName, dataRange, symmetricRange } from "./colormap.ts";
import { drawText, textHeight, textWidth } from "./font.ts";
import {
  BLACK,
  type Color,
  createImage,
  drawLine,
  drawRect,
  fillRect,
  type Image,
} from "./image.ts";

/**
 * Formats a number compactly with `digits` significant digits: plain notation for
 * 1e-3 ≤ |v| < 1e5 (`0.0123`, `250`), otherwise `1.08e-6`.
 *
 * @example
 * ```ts
 * import { formatNumber } from "./plot.ts";
 * console.log(formatNumber(-1.0819e-6), formatNumber(0.25)); // "-1.08e-6" "0.25"
 * ```
 */
export function formatNumber(v: number, digits = 3): string {
  if (v === 0) return "0";
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(digits)));
  const [m, e] = v.toExponential(digits - 1).split("e");
  return `${Number(m)}e${Number(e)}`;
}

/** One panel of {@link fieldPanels}. */
export interface FieldPanel {
  /** Title drawn above the field. */
  title: string;
  /** The field, row-major `data[j * nx + i]`; j = 0 is drawn at the bottom (origin "lower"). */
  data: Float64Array | Float32Array;
  /** Number of rows (y points). */
  ny: number;
  /** Number of columns (x points). */
  nx: number;
  /** Colour limits; default ±max|x| for RdBu_r and [min, max] for viridis. */
  range?: [number, number];
  /** Colormap, default "RdBu_r". */
  cmap?: ColormapName;
}

/** Options of {@link fieldPanels}. */
export interface FieldPanelsOptions {
  /** Panels per row (default min(count, 4)). */
  columns?: number;
  /** Integer upscaling of each grid cell (nearest); default so a panel is about 256 px. */
  scale?: number;
  /** A title over the whole figure. */
  suptitle?: string;
}

/** Shortens `text` with ".." so it fits in `width` pixels at text scale `ts`. */
function fit(text: string, width: number, ts: number): string {
  if (textWidth(text, ts) <= width) return text;
  const chars = [...text];
  while (chars.length > 0 && textWidth(chars.join("") + "..", ts) > width) chars.pop();
  return chars.join("") + "..";
}

/**
 * Draws a grid of 2-D fields, each with its title above and a colorbar with max, middle and
 * min labels on its right. Fields are upscaled by an integer factor (nearest neighbour) and drawn
 * with y index 0 at the bottom, like matplotlib's `imshow(origin="lower")` in pyqg's plots.
 * NaN values are drawn grey. Throws an {@link InvalidArgumentError} when a panel's data length
 * is not ny·nx.
 *
 * @example
 * ```ts
 * import { fieldPanels } from "@soad/soad/internal";
 * const n = 32, q = new Float64Array(n * n).map((_, k) => Math.sin((k % n) / 3));
 * const img = fieldPanels([{ title: "q1", data: q, ny: n, nx: n }], { suptitle: "step 0" });
 * console.log(img.width > 256); // true
 * ```
 */
export function fieldPanels(panels: FieldPanel[], options: FieldPanelsOptions = {}): Image {
  if (panels.length === 0) throw new InvalidArgumentError("fieldPanels: no panels given");
  for (const p of panels) {
    if (!Number.isInteger(p.nx) || !Number.isInteger(p.ny) || p.nx < 1 || p.ny < 1) {
      throw new InvalidArgumentError(`fieldPanels: '${p.title}' has bad size ${p.ny}x${p.nx}`);
    }
    if (p.data.length !== p.nx * p.ny) {
      throw new InvalidArgumentError(
        `fieldPanels: '${p.title}' has ${p.data.length} values, expected ny·nx = ${p.ny * p.nx}`,
      );
    }
  }
  const cols = Math.min(panels.length, options.columns ?? 4);
  if (!Number.isInteger(cols) || cols < 1) {
    throw new InvalidArgumentError(`fieldPanels: columns must be an integer ≥ 1, got ${cols}`);
  }
  const rows = Math.ceil(panels.length / cols);
  const scales = panels.map((p) =>
    options.scale ?? Math.max(1, Math.round(256 / Math.max(p.nx, p.ny)))
  );
  if (!scales.every((s) => Number.isInteger(s) && s >= 1)) {
    throw new InvalidArgumentError(`fieldPanels: scale must be an integer ≥ 1`);
  }
  const fieldW = Math.max(...panels.map((p, k) => p.nx * scales[k]));
  const fieldH = Math.max(...panels.map((p, k) => p.ny * scales[k]));
  const ts = fieldW >= 160 ? 2 : 1;
  const pad = 6 * ts;
  const ranges = panels.map((p): [number, number] => {
    const r = p.range ??
      ((p.cmap ?? "RdBu_r") === "RdBu_r" ? symmetricRange(p.data) : dataRange(p.data));
    if (!(r[0] < r[1])) {
      throw new InvalidArgumentError(`fieldPanels: '${p.title}' range [${r}] must have min < max`);
    }
    return r;
  });
  const labelsOf = (r: [number, number]): string[] =>
    [r[1], (r[0] + r[1]) / 2, r[0]].map((v) => formatNumber(v));
  const labelW = Math.max(...ranges.flatMap((r) => labelsOf(r).map((s) => textWidth(s, ts))));
  const barW = 8 * ts;
  const cellW = pad + fieldW + pad + barW + 3 * ts + labelW + pad;
  const titleH = textHeight(ts) + 2 * pad;
  const cellH = titleH + fieldH + pad;
  const supH = options.suptitle ? textHeight(ts + 1) + 2 * pad : pad;
  const img = createImage(cols * cellW, supH + rows * cellH);
  if (options.suptitle) {
    drawText(img, fit(options.suptitle, img.width - 2 * pad, ts + 1), img.width / 2, pad, {
      scale: ts + 1,
      align: "center",
    });
  }
  panels.forEach((p, k) => {
    const s = scales[k], r = ranges[k], cmap = colormap(p.cmap ?? "RdBu_r");
    const x0 = (k % cols) * cellW + pad, y0 = supH + Math.floor(k / cols) * cellH;
    const fx = x0 + Math.floor((fieldW - p.nx * s) / 2), fy = y0 + titleH;
    drawText(img, fit(p.title, fieldW, ts), x0 + fieldW / 2, y0 + pad, {
      scale: ts,
      align: "center",
    });
    const d = img.data;
    for (let j = 0; j < p.ny; j++) {
      const py = fy + (p.ny - 1 - j) * s; // y index 0 at the bottom
      for (let i = 0; i < p.nx; i++) {
        const [cr, cg, cb] = cmap((p.data[j * p.nx + i] - r[0]) / (r[1] - r[0]));
        for (let yy = py; yy < py + s; yy++) {
          let o = 4 * (yy * img.width + fx + i * s);
          for (let xx = 0; xx < s; xx++, o += 4) {
            d[o] = cr;
            d[o + 1] = cg;
            d[o + 2] = cb;
          }
        }
      }
    }
    drawRect(img, fx - 1, fy - 1, p.nx * s + 2, p.ny * s + 2, BLACK);
    // colorbar: max at the top
    const bx = x0 + fieldW + pad, bh = p.ny * s;
    for (let yy = 0; yy < bh; yy++) {
      fillRect(img, bx, fy + yy, barW, 1, cmap(1 - (yy + 0.5) / bh));
    }
    drawRect(img, bx - 1, fy - 1, barW + 2, bh + 2, BLACK);
    const th = textHeight(ts);
    labelsOf(r).forEach((label, m) => {
      const ty = fy + Math.round((m * (bh - 1)) / 2);
      fillRect(img, bx + barW, ty, 2 * ts, 1, BLACK);
      const ly = Math.min(Math.max(ty - th / 2, fy - 1), fy + bh - th + 1);
      drawText(img, label, bx + barW + 3 * ts, ly, { scale: ts });
    });
  });
  return img;
}

/** One series of {@link lineChart}. */
export interface LineSeries {
  /** Name shown in the legend. */
  name: string;
  /** x values. */
  x: number[] | Float64Array;
  /** y values (same length as x). Non-finite values (and ≤ 0 on a log axis) break the line. */
  y: number[] | Float64Array;
  /** Line colour; default from matplotlib's tab10 cycle. */
  color?: Color;
}

/** Options of {@link lineChart}. */
export interface LineChartOptions {
  /** Title above the plot. */
  title?: string;
  /** Label under the x axis. */
  xlabel?: string;
  /** Label at the top of the y axis. */
  ylabel?: string;
  /** Logarithmic y axis. */
  logY?: boolean;
  /** Logarithmic x axis. */
  logX?: boolean;
  /** Image width in pixels (default 720). */
  width?: number;
  /** Image height in pixels (default 480). */
  height?: number;
}

/** matplotlib's tab10 colour cycle. */
const TAB10: Color[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];

interface Axis {
  lo: number;
  hi: number;
  log: boolean;
  ticks: number[];
  labels: string[];
  /** Unlabelled minor ticks (2..9 × 10^k on a log axis spanning ≤ 6 decades). */
  minor: number[];
}

/** Axis limits (in log10 units for a log axis) and tick positions/labels. */
function makeAxis(values: number[], log: boolean, margin: number): Axis {
  const t = values.map((v) => (log ? Math.log10(v) : v));
  let [lo, hi] = dataRange(t);
  const m = (hi - lo) * margin;
  lo -= m;
  hi += m;
  let ticks: number[] = [];
  if (log) {
    const d0 = Math.ceil(lo - 1e-9), d1 = Math.floor(hi + 1e-9);
    const every = Math.max(1, Math.ceil((d1 - d0 + 1) / 8));
    for (let d = d0; d <= d1; d += every) ticks.push(d);
    if (ticks.length < 3) {
      ticks = [];
      for (let d = Math.floor(lo); d <= Math.ceil(hi); d++) {
        for (const f of [1, 2, 5]) {
          const v = d + Math.log10(f);
          if (v >= lo - 1e-9 && v <= hi + 1e-9) ticks.push(v);
        }
      }
    }
    // a range inside one decade with no 1-2-5 value in it: label the ends and the middle
    if (ticks.length < 2) ticks = [lo, (lo + hi) / 2, hi];
    const minor: number[] = [];
    for (let d = Math.floor(lo); hi - lo <= 6 && d <= hi; d++) {
      for (let f = 2; f <= 9; f++) if (d + Math.log10(f) >= lo) minor.push(d + Math.log10(f));
    }
    const labels = ticks.map((v) => formatNumber(10 ** v, 2));
    return { lo, hi, log, ticks, labels, minor: minor.filter((v) => v <= hi) };
  }
  const raw = (hi - lo) / 6, p = 10 ** Math.floor(Math.log10(raw)), f = raw / p;
  const step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
  for (let k = Math.ceil(lo / step - 1e-9); k <= Math.floor(hi / step + 1e-9); k++) {
    ticks.push(k * step);
  }
  const digits = Math.max(
    1,
    Math.ceil(Math.log10(Math.max(...ticks.map(Math.abs)) / step + 1e-9)) + 1,
  );
  const labels = ticks.map((v) => formatNumber(v, Math.min(digits, 15)));
  return { lo, hi, log, ticks, labels, minor: [] };
}

/**
 * Draws a line chart of one or more series with axes, tick labels, light grid lines, optional
 * log scales and a legend placed in the emptiest corner. Use it for energy time series, KE
 * spectra (log-log) and loss curves. Throws an {@link InvalidArgumentError} when there is no
 * series, x and y lengths differ, or no point is plottable.
 *
 * @example
 * ```ts
 * import { lineChart } from "@soad/soad/internal";
 * const k = [1, 2, 4, 8, 16];
 * const img = lineChart([{ name: "KE", x: k, y: k.map((v) => v ** -3) }], {
 *   logX: true,
 *   logY: true,
 *   title: "spectrum",
 * });
 * console.log(img.width); // 720
 * ```
 */
export function lineChart(series: LineSeries[], options: LineChartOptions = {}): Image {
  if (series.length === 0) throw new InvalidArgumentError("lineChart: no series given");
  const logX = options.logX ?? false, logY = options.logY ?? false;
  const W = options.width ?? 720, H = options.height ?? 480;
  const ok = (v: number, log: boolean): boolean => Number.isFinite(v) && (!log || v > 0);
  const xs: number[] = [], ys: number[] = [];
  for (const s of series) {
    if (s.x.length !== s.y.length) {
      throw new InvalidArgumentError(
        `lineChart: series '${s.name}' has ${s.x.length} x values but ${s.y.length} y values`,
      );
    }
    for (let i = 0; i < s.x.length; i++) {
      if (ok(s.x[i], logX) && ok(s.y[i], logY)) {
        xs.push(s.x[i]);
        ys.push(s.y[i]);
      }
    }
  }
  if (xs.length === 0) {
    throw new InvalidArgumentError(
      "lineChart: no finite point to plot (log axes also need values > 0)",
    );
  }
  const ts = W >= 560 ? 2 : 1, th = textHeight(ts), gap = 4 * ts;
  const ax = makeAxis(xs, logX, 0), ay = makeAxis(ys, logY, 0.05);
  const img = createImage(W, H);
  const left = Math.max(...ay.labels.map((l) => textWidth(l, ts))) + 3 * gap;
  const top = (options.title ? th + 2 * gap : gap) + (options.ylabel ? th + 2 * gap : gap);
  const bottom = th + 3 * gap + (options.xlabel ? th + 2 * gap : 0);
  const right = Math.ceil(textWidth(ax.labels.at(-1) ?? "", ts) / 2) + 2 * gap;
  const pw = W - left - right, ph = H - top - bottom;
  if (pw < 20 || ph < 20) {
    throw new InvalidArgumentError(`lineChart: ${W}x${H} px leaves no room for the plot`);
  }
  const X = (v: number): number => left + ((v - ax.lo) / (ax.hi - ax.lo)) * (pw - 1);
  const Y = (v: number): number => top + ph - 1 - ((v - ay.lo) / (ay.hi - ay.lo)) * (ph - 1);
  const grid: Color = [225, 225, 225];
  ax.ticks.forEach((t, k) => {
    const px = Math.round(X(t));
    drawLine(img, px, top, px, top + ph - 1, grid);
    fillRect(img, px, top + ph, 1, gap, BLACK);
    drawText(img, ax.labels[k], px, top + ph + 2 * gap, { scale: ts, align: "center" });
  });
  ay.ticks.forEach((t, k) => {
    const py = Math.round(Y(t));
    drawLine(img, left, py, left + pw - 1, py, grid);
    fillRect(img, left - gap, py, gap, 1, BLACK);
    drawText(img, ay.labels[k], left - 2 * gap, py - th / 2, { scale: ts, align: "right" });
  });
  for (const t of ax.minor) fillRect(img, Math.round(X(t)), top + ph, 1, gap / 2, BLACK);
  for (const t of ay.minor) fillRect(img, left - gap / 2, Math.round(Y(t)), gap / 2, 1, BLACK);
  drawRect(img, left - 1, top - 1, pw + 2, ph + 2, BLACK);
  if (options.title) {
    drawText(img, options.title, W / 2, gap, { scale: ts, align: "center" });
  }
  if (options.ylabel) drawText(img, options.ylabel, left, top - th - gap, { scale: ts });
  if (options.xlabel) {
    drawText(img, options.xlabel, left + pw / 2, H - th - gap, { scale: ts, align: "center" });
  }
  const pts: [number, number][] = [];
  series.forEach((s, k) => {
    const color = s.color ?? TAB10[k % TAB10.length];
    let prev: [number, number] | null = null;
    for (let i = 0; i < s.x.length; i++) {
      if (!ok(s.x[i], logX) || !ok(s.y[i], logY)) {
        prev = null;
        continue;
      }
      const p: [number, number] = [
        X(logX ? Math.log10(s.x[i]) : s.x[i]),
        Y(logY ? Math.log10(s.y[i]) : s.y[i]),
      ];
      pts.push(p);
      if (prev) drawLine(img, prev[0], prev[1], p[0], p[1], color, ts);
      const isolated = !prev &&
        !(i + 1 < s.x.length && ok(s.x[i + 1], logX) && ok(s.y[i + 1], logY));
      if (isolated) fillRect(img, p[0] - ts, p[1] - ts, 2 * ts + 1, 2 * ts + 1, color);
      prev = p;
    }
  });
  // legend in the corner of the plot area with the fewest data points under it
  const sw = 12 * ts;
  const lw = sw + 3 * gap + Math.max(...series.map((s) => textWidth(s.name, ts))) + gap;
  const lh = series.length * (th + gap) + gap;
  const corners: [number, number][] = [
    [left + pw - lw - gap, top + gap],
    [left + gap, top + gap],
    [left + gap, top + ph - lh - gap],
    [left + pw - lw - gap, top + ph - lh - gap],
  ];
  const inside = ([cx, cy]: [number, number]): number =>
    pts.filter(([x, y]) => x >= cx && x <= cx + lw && y >= cy && y <= cy + lh).length;
  const [lx, ly] = corners.reduce((a, b) => (inside(b) < inside(a) ? b : a));
  fillRect(img, lx, ly, lw, lh, [255, 255, 255, 230]);
  drawRect(img, lx, ly, lw, lh, [160, 160, 160]);
  series.forEach((s, k) => {
    const color = s.color ?? TAB10[k % TAB10.length];
    const ey = ly + gap + k * (th + gap);
    fillRect(img, lx + gap, ey + Math.floor(th / 2) - Math.floor(ts / 2), sw, ts, color);
    drawText(img, s.name, lx + 2 * gap + sw, ey, { scale: ts });
  });
  return img;
}
