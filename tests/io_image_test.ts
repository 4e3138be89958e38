// Images: PNG round trip through fast-png, drawing primitives, colormaps, the bitmap font and
// the two figure types (orientation, colorbar, legend).
import assert from "node:assert/strict";
import { decode } from "fast-png";
import { InvalidArgumentError } from "../src/errors.ts";
import { colormap, dataRange, rdBuR, symmetricRange, viridis } from "../src/io/colormap.ts";
import { drawText, glyph, textWidth } from "../src/io/font.ts";
import {
  blit,
  createImage,
  drawLine,
  drawRect,
  encodePng,
  fillRect,
  getPixel,
  type Image,
  setPixel,
  writePng,
} from "../src/io/image.ts";
import { fieldPanels, formatNumber, lineChart } from "../src/io/plot.ts";

function countNonWhite(img: Image): number {
  let n = 0;
  for (let i = 0; i < img.data.length; i += 4) {
    if (img.data[i] !== 255 || img.data[i + 1] !== 255 || img.data[i + 2] !== 255) n++;
  }
  return n;
}

Deno.test("PNG round trip keeps size and pixel values", async () => {
  const img = createImage(7, 5, [10, 20, 30]);
  setPixel(img, 0, 0, [255, 0, 0]);
  setPixel(img, 6, 4, [0, 255, 0, 128]);
  fillRect(img, 2, 1, 2, 2, [1, 2, 3, 255]);
  const png = decode(encodePng(img));
  assert.equal(png.width, 7);
  assert.equal(png.height, 5);
  assert.equal(png.channels, 4);
  assert.equal(png.depth, 8);
  assert.deepEqual(Array.from(png.data), Array.from(img.data));
  assert.deepEqual(Array.from(png.data.slice(0, 4)), [255, 0, 0, 255]);
  const dir = await Deno.makeTempDir();
  try {
    await writePng(`${dir}/figs/a.png`, img);
    const back = decode(await Deno.readFile(`${dir}/figs/a.png`));
    assert.deepEqual(Array.from(back.data), Array.from(img.data));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.throws(() => createImage(0, 3), InvalidArgumentError);
  assert.throws(
    () => encodePng({ width: 2, height: 2, data: new Uint8Array(3) }),
    InvalidArgumentError,
  );
});

Deno.test("drawing primitives: blending, clipping, lines, rects, blit", () => {
  const img = createImage(10, 10);
  setPixel(img, 1, 1, [0, 0, 0, 128]);
  assert.deepEqual(getPixel(img, 1, 1), [127, 127, 127, 255]);
  setPixel(img, -1, 50, [0, 0, 0]); // ignored
  assert.equal(getPixel(img, 10, 0), undefined);
  drawLine(img, 0, 9, 9, 0, [255, 0, 0]);
  for (let k = 0; k < 10; k++) assert.deepEqual(getPixel(img, k, 9 - k), [255, 0, 0, 255]);
  drawRect(img, 2, 2, 4, 3, [0, 0, 255]);
  assert.deepEqual(getPixel(img, 5, 4), [0, 0, 255, 255]);
  assert.deepEqual(getPixel(img, 3, 3), [255, 255, 255, 255]);
  const page = createImage(4, 4);
  blit(page, createImage(3, 3, [9, 9, 9]), 2, 2); // clipped to 2x2
  assert.deepEqual(getPixel(page, 3, 3), [9, 9, 9, 255]);
  assert.deepEqual(getPixel(page, 1, 1), [255, 255, 255, 255]);
  assert.equal(countNonWhite(page), 4);
});

Deno.test("colormaps: endpoints, RdBu_r midpoint near white, monotone viridis luminance", () => {
  assert.deepEqual(rdBuR(0), [5, 48, 97]);
  assert.deepEqual(rdBuR(1), [103, 0, 31]);
  const mid = rdBuR(0.5);
  for (const c of mid) assert.ok(Math.abs(c - 247) <= 1, `midpoint ${mid}`);
  assert.ok(rdBuR(0.25)[2] > rdBuR(0.25)[0], "below the middle is blue");
  assert.ok(rdBuR(0.75)[0] > rdBuR(0.75)[2], "above the middle is red");
  assert.deepEqual(viridis(0), [68, 1, 84]);
  assert.deepEqual(viridis(1), [253, 231, 37]);
  // matplotlib's viridis at index 128 is (33, 145, 140)
  const v = viridis(128.5 / 256);
  [33, 145, 140].forEach((c, i) => assert.ok(Math.abs(v[i] - c) <= 1, `viridis(0.5) ${v}`));
  let prev = -1;
  for (let k = 0; k <= 20; k++) {
    const [r, g, b] = viridis(k / 20);
    const lum = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    assert.ok(lum > prev);
    prev = lum;
  }
  assert.deepEqual(rdBuR(-3), rdBuR(0));
  assert.deepEqual(rdBuR(NaN), [128, 128, 128]);
  assert.equal(colormap("viridis"), viridis);
  assert.throws(() => colormap("jet" as "viridis"), InvalidArgumentError);
});

Deno.test("symmetricRange and dataRange", () => {
  assert.deepEqual(symmetricRange([1, -3, 2, NaN]), [-3, 3]);
  assert.deepEqual(symmetricRange(new Float64Array(4)), [-1, 1]);
  const xs = Array.from({ length: 1001 }, (_, i) => i / 1000);
  xs.push(-1000); // one outlier
  const [lo, hi] = symmetricRange(xs, { percentile: 99.5 });
  assert.ok(hi > 0.98 && hi < 1.01 && lo === -hi, `robust range ${hi}`);
  assert.throws(() => symmetricRange(xs, { percentile: 0 }), InvalidArgumentError);
  assert.deepEqual(dataRange([3, Infinity, 1, 2]), [1, 3]);
  assert.deepEqual(dataRange([2, 2]), [1, 3]);
  assert.deepEqual(dataRange([]), [0, 1]);
});

Deno.test("text drawing changes pixels, scales and aligns", () => {
  const img = createImage(80, 20);
  assert.equal(countNonWhite(img), 0);
  const w = drawText(img, "KE=1.5e-3", 1, 1);
  assert.equal(w, textWidth("KE=1.5e-3"));
  assert.equal(w, 9 * 6 - 1);
  const n1 = countNonWhite(img);
  assert.ok(n1 > 40);
  const big = createImage(120, 20);
  drawText(big, "KE=1.5e-3", 1, 1, { scale: 2 });
  assert.equal(countNonWhite(big), 4 * n1);
  const right = createImage(40, 10);
  drawText(right, "-", 40, 0, { align: "right", color: [255, 0, 0] });
  assert.deepEqual(getPixel(right, 39, 3), [255, 0, 0, 255]);
  assert.deepEqual(glyph("é"), glyph("?"));
  assert.deepEqual(glyph("−"), glyph("-"));
  assert.equal(countNonWhite(createImageWithText(" ")), 0);
  for (const ch of ".,-+=:()/_%e0123456789AZaz") {
    assert.ok(glyph(ch).some((c) => c !== 0), `glyph '${ch}' is blank`);
  }
});

function createImageWithText(text: string): Image {
  const img = createImage(20, 10);
  drawText(img, text, 0, 0);
  return img;
}

Deno.test("formatNumber", () => {
  assert.equal(formatNumber(0), "0");
  assert.equal(formatNumber(-1.0819040049100294e-6), "-1.08e-6");
  assert.equal(formatNumber(0.25), "0.25");
  assert.equal(formatNumber(12345.6), "12300");
  assert.equal(formatNumber(2.5e7), "2.5e7");
});

Deno.test("fieldPanels draws y index 0 at the bottom, with a colorbar", () => {
  const n = 16;
  const data = new Float64Array(n * n);
  for (let i = 0; i < n; i++) data[i] = 1; // row j = 0 positive (red), the rest 0 (white)
  for (let i = 0; i < n; i++) data[(n - 1) * n + i] = -1; // row j = n-1 negative (blue)
  const img = fieldPanels([{ title: "rows", data, ny: n, nx: n }], { scale: 10 });
  // find the field: the darkest red and blue rows along a column through its middle
  let redY = -1, blueY = -1;
  const x = (() => {
    for (let xx = 0; xx < img.width; xx++) {
      for (let y = 0; y < img.height; y++) {
        const p = getPixel(img, xx, y)!;
        if (p[0] === 103 && p[1] === 0 && p[2] === 31) return xx + 5;
      }
    }
    return -1;
  })();
  assert.ok(x > 0, "red pixels present");
  for (let y = 0; y < img.height; y++) {
    const p = getPixel(img, x, y)!;
    if (p[0] === 103 && p[1] === 0 && p[2] === 31 && redY < 0) redY = y;
    if (p[0] === 5 && p[1] === 48 && p[2] === 97 && blueY < 0) blueY = y;
  }
  assert.ok(blueY >= 0 && redY > blueY, `j = 0 (red, y=${redY}) below j = n-1 (blue, y=${blueY})`);
  assert.equal(redY - blueY, (n - 1) * 10);
  // default scale gives ~256 px panels; a bad data length is an error
  const auto = fieldPanels([{ title: "a", data: new Float32Array(64 * 64), ny: 64, nx: 64 }]);
  assert.ok(auto.width >= 256 && auto.height >= 256);
  assert.throws(
    () => fieldPanels([{ title: "bad", data: new Float64Array(10), ny: 4, nx: 4 }]),
    InvalidArgumentError,
  );
  assert.throws(() => fieldPanels([]), InvalidArgumentError);
});

Deno.test("fieldPanels lays out a grid with columns and suptitle", () => {
  const f = new Float64Array(32 * 32).map((_, k) => Math.sin(k / 7));
  const panel = { title: "f", data: f, ny: 32, nx: 32 };
  const one = fieldPanels([panel]);
  const grid = fieldPanels([panel, panel, panel, panel], {
    columns: 2,
    suptitle: "four",
  });
  assert.equal(grid.width, 2 * one.width);
  assert.ok(grid.height > 2 * one.height);
  const v = fieldPanels([{ ...panel, cmap: "viridis", range: [0, 2] }]);
  let yellow = 0;
  for (let i = 0; i < v.data.length; i += 4) {
    if (v.data[i] === 253 && v.data[i + 1] === 231) yellow++;
  }
  assert.ok(yellow > 0, "viridis top colour in the colorbar");
});

Deno.test("lineChart draws series colours, legend, and log axes", () => {
  const k = Array.from({ length: 20 }, (_, i) => i + 1);
  const img = lineChart([
    { name: "upper", x: k, y: k.map((v) => v ** -3) },
    { name: "lower", x: k, y: k.map((v) => (v === 5 ? NaN : 0.1 * v ** -2)) },
  ], { title: "KE spectrum", xlabel: "k", ylabel: "E(k)", logX: true, logY: true });
  assert.equal(img.width, 720);
  assert.equal(img.height, 480);
  let blue = 0, orange = 0;
  for (let i = 0; i < img.data.length; i += 4) {
    const [r, g, b] = [img.data[i], img.data[i + 1], img.data[i + 2]];
    if (r === 31 && g === 119 && b === 180) blue++;
    if (r === 255 && g === 127 && b === 14) orange++;
  }
  assert.ok(blue > 200 && orange > 200, `blue ${blue}, orange ${orange}`);
  const lin = lineChart([{ name: "loss", x: [0, 1, 2], y: [3, 2, 2.5] }], {
    width: 300,
    height: 200,
  });
  assert.equal(lin.width, 300);
  assert.throws(() => lineChart([]), InvalidArgumentError);
  assert.throws(() => lineChart([{ name: "a", x: [1, 2], y: [1] }]), InvalidArgumentError);
  assert.throws(
    () => lineChart([{ name: "a", x: [1, 2], y: [-1, 0] }], { logY: true }),
    InvalidArgumentError,
  );
});

Deno.test("lineChart: a log axis inside one decade with no 1-2-5 value still draws", () => {
  const img = lineChart([{ name: "a", x: [0, 1, 2], y: [1015, 1100, 1217] }], { logY: true });
  assert.ok(Number.isFinite(img.width) && img.width > 100 && img.height > 100);
  let dark = 0;
  for (let i = 0; i < img.data.length; i += 4) if (img.data[i] < 100) dark++;
  assert.ok(dark > 200, `only ${dark} dark pixels: the chart is blank`);
});
