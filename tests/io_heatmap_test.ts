import { deepStrictEqual, equal, notDeepStrictEqual, ok, throws } from "node:assert/strict";
import { colormap } from "../src/io/colormap.ts";
import {
  formatCell,
  heatmap,
  heatmapGeometry,
  type HeatmapOptions,
  MISSING_COLOR,
} from "../src/io/heatmap.ts";
import { encodePng, getPixel, type Image } from "../src/io/image.ts";

const options: HeatmapOptions = {
  title: "SOAD arctan3x, setting I",
  rows: ["p=0.01", "p=1", "s=10"],
  cols: ["1", "2", "4", "8"],
  values: [
    [0.208, 0.212, 0.217, 0.222],
    [0.084, 0.094, 0.102, 0.112],
    [0.2, 0.207, NaN, 0.219],
  ],
  colTitle: "N",
  rowTitle: "mask",
};

/** Pixels of cell (r, c) that differ from its corner colour (the printed text). */
function textPixels(img: Image, r: number, c: number, o: HeatmapOptions = options): number {
  const g = heatmapGeometry(o);
  const x0 = g.x0 + c * g.cellWidth, y0 = g.y0 + r * g.cellHeight;
  const bg = getPixel(img, x0 + 1, y0 + 1)!;
  let n = 0;
  for (let y = y0; y < y0 + g.cellHeight; y++) {
    for (let x = x0; x < x0 + g.cellWidth; x++) {
      const p = getPixel(img, x, y)!;
      if (p[0] !== bg[0] || p[1] !== bg[1] || p[2] !== bg[2]) n++;
    }
  }
  return n;
}

Deno.test("heatmap: size, one colour per cell from the colormap, grey for NaN", () => {
  const img = heatmap(options);
  const g = heatmapGeometry(options);
  ok(img.width >= g.x0 + 4 * g.cellWidth + 20, `width ${img.width}`);
  ok(img.height >= g.y0 + 3 * g.cellHeight, `height ${img.height}`);
  equal(img.data.length, 4 * img.width * img.height);
  const cmap = colormap("viridis");
  const lo = 0.084, hi = 0.222;
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 4; c++) {
      const v = options.values[r][c];
      const px = getPixel(img, g.x0 + c * g.cellWidth + 1, g.y0 + r * g.cellHeight + 1)!;
      const want = Number.isFinite(v) ? cmap((v - lo) / (hi - lo)) : MISSING_COLOR;
      deepStrictEqual(px.slice(0, 3), [...want], `cell ${r},${c}`);
    }
  }
  // the extremes get the ends of the colormap
  deepStrictEqual(getPixel(img, g.x0 + 1, g.y0 + g.cellHeight + 1)!.slice(0, 3), cmap(0));
  deepStrictEqual(getPixel(img, g.x0 + 3 * g.cellWidth + 1, g.y0 + 1)!.slice(0, 3), cmap(1));
  const png = encodePng(img);
  equal(png[1], 80);
});

Deno.test("heatmap: every cell has its value printed, with a contrasting colour", () => {
  const img = heatmap(options);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 4; c++) ok(textPixels(img, r, c) > 10, `${r},${c}`);
  }
  const blank = heatmap({ ...options, format: () => "" });
  equal(textPixels(blank, 0, 0, { ...options, format: () => "" }), 0);
  // the dark minimum cell gets white text, the bright maximum black text
  const g = heatmapGeometry(options);
  const has = (r: number, c: number, rgb: number[]): boolean => {
    for (let y = g.y0 + r * g.cellHeight; y < g.y0 + (r + 1) * g.cellHeight; y++) {
      for (let x = g.x0 + c * g.cellWidth; x < g.x0 + (c + 1) * g.cellWidth; x++) {
        const p = getPixel(img, x, y)!;
        if (p[0] === rgb[0] && p[1] === rgb[1] && p[2] === rgb[2]) return true;
      }
    }
    return false;
  };
  ok(has(1, 0, [255, 255, 255]));
  ok(has(0, 3, [0, 0, 0]));
  equal(formatCell(0.18), "0.180");
  equal(formatCell(14.93), "14.9");
  equal(formatCell(2.5e-5), "2.5e-5");
});

Deno.test("heatmap: range and colormap options; bad tables are clear errors", () => {
  const a = heatmap(options);
  const b = heatmap({ ...options, range: [0, 1], cmap: "RdBu_r" });
  notDeepStrictEqual(a.data, b.data);
  const g = heatmapGeometry(options);
  const px = getPixel(b, g.x0 + 1, g.y0 + g.cellHeight + 1)!;
  deepStrictEqual(px.slice(0, 3), colormap("RdBu_r")(0.084));
  // a constant table still draws
  ok(heatmap({ ...options, values: options.values.map((r) => r.map(() => 1)) }).width > 0);
  throws(() => heatmap({ ...options, values: options.values.slice(0, 2) }), /3 \(one per row/);
  throws(() => heatmap({ ...options, values: [[1], [2], [3]] }), /one per column/);
  throws(() => heatmap({ ...options, rows: [] }), /non-empty/);
  throws(() => heatmap({ ...options, range: [1, 1] }), /min < max/);
});
