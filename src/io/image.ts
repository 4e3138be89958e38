/**
 * A minimal 8-bit RGBA canvas (row 0 at the top) with the few drawing primitives the figures
 * need, and PNG encoding through `fast-png`. Text drawing lives in `font.ts`.
 * @module
 */

import { encode } from "fast-png";
import { InvalidArgumentError } from "../errors.ts";
import { writeFileAtomic } from "./atomic.ts";

/** An RGBA image: `data[4 * (y * width + x) + c]`, row 0 at the top, channels r, g, b, a. */
export interface Image {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** The pixels, 4 bytes each, row-major from the top-left corner. */
  data: Uint8Array;
}

/** A colour: `[r, g, b]` or `[r, g, b, a]`, bytes 0..255 (alpha defaults to 255). */
export type Color = readonly [number, number, number] | readonly [number, number, number, number];

/** Opaque white. */
export const WHITE: Color = [255, 255, 255];
/** Opaque black. */
export const BLACK: Color = [0, 0, 0];

/**
 * Creates an image filled with `background` (default opaque white).
 *
 * @example
 * ```ts
 * import { createImage } from "@soad/soad";
 * const img = createImage(4, 3);
 * console.log(img.data.length); // 48
 * ```
 */
export function createImage(width: number, height: number, background: Color = WHITE): Image {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new InvalidArgumentError(
      `image size must be positive integers, got ${width}x${height}`,
    );
  }
  if (width * height > 1 << 27) {
    throw new InvalidArgumentError(`image of ${width}x${height} pixels is too large`);
  }
  const img: Image = { width, height, data: new Uint8Array(width * height * 4) };
  fillImage(img, background);
  return img;
}

/**
 * Fills the whole image with one colour (no blending).
 *
 * @example
 * ```ts
 * import { createImage, fillImage } from "./image.ts";
 * const img = createImage(2, 2);
 * fillImage(img, [0, 0, 0]);
 * console.log(img.data[0], img.data[3]); // 0 255
 * ```
 */
export function fillImage(image: Image, color: Color): void {
  const [r, g, b, a = 255] = color;
  const d = image.data;
  for (let i = 0; i < d.length; i += 4) {
    d[i] = r;
    d[i + 1] = g;
    d[i + 2] = b;
    d[i + 3] = a;
  }
}

/**
 * Sets one pixel; out-of-bounds coordinates are ignored. A colour with alpha < 255 is blended
 * over the existing pixel.
 *
 * @example
 * ```ts
 * import { createImage, setPixel } from "./image.ts";
 * const img = createImage(2, 2);
 * setPixel(img, 1, 0, [255, 0, 0]);
 * console.log(img.data.slice(4, 8)); // Uint8Array [255, 0, 0, 255]
 * ```
 */
export function setPixel(image: Image, x: number, y: number, color: Color): void {
  x = Math.floor(x);
  y = Math.floor(y);
  if (x < 0 || y < 0 || x >= image.width || y >= image.height) return;
  const i = 4 * (y * image.width + x);
  const d = image.data;
  const a = color[3] ?? 255;
  if (a >= 255) {
    d[i] = color[0];
    d[i + 1] = color[1];
    d[i + 2] = color[2];
    d[i + 3] = 255;
    return;
  }
  const w = a / 255;
  for (let c = 0; c < 3; c++) d[i + c] = Math.round(color[c] * w + d[i + c] * (1 - w));
  d[i + 3] = Math.round(a + d[i + 3] * (1 - w));
}

/**
 * Reads one pixel as `[r, g, b, a]` (undefined outside the image).
 *
 * @example
 * ```ts
 * import { createImage, getPixel } from "./image.ts";
 * console.log(getPixel(createImage(1, 1), 0, 0)); // [255, 255, 255, 255]
 * ```
 */
export function getPixel(
  image: Image,
  x: number,
  y: number,
): [number, number, number, number] | undefined {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height) return undefined;
  const i = 4 * (y * image.width + x);
  const d = image.data;
  return [d[i], d[i + 1], d[i + 2], d[i + 3]];
}

/**
 * Fills the rectangle with top-left corner (x, y) and size w × h (clipped to the image).
 *
 * @example
 * ```ts
 * import { createImage, fillRect } from "./image.ts";
 * const img = createImage(10, 10);
 * fillRect(img, 2, 2, 3, 3, [0, 0, 255]);
 * ```
 */
export function fillRect(
  image: Image,
  x: number,
  y: number,
  w: number,
  h: number,
  color: Color,
): void {
  const x0 = Math.max(0, Math.floor(x)), y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(image.width, Math.floor(x + w)),
    y1 = Math.min(image.height, Math.floor(y + h));
  for (let yy = y0; yy < y1; yy++) {
    for (let xx = x0; xx < x1; xx++) setPixel(image, xx, yy, color);
  }
}

/**
 * Draws the 1-pixel outline of the rectangle with top-left corner (x, y) and size w × h.
 *
 * @example
 * ```ts
 * import { createImage, drawRect } from "./image.ts";
 * const img = createImage(10, 10);
 * drawRect(img, 0, 0, 10, 10, [0, 0, 0]);
 * ```
 */
export function drawRect(
  image: Image,
  x: number,
  y: number,
  w: number,
  h: number,
  color: Color,
): void {
  if (w <= 0 || h <= 0) return;
  fillRect(image, x, y, w, 1, color);
  fillRect(image, x, y + h - 1, w, 1, color);
  fillRect(image, x, y, 1, h, color);
  fillRect(image, x + w - 1, y, 1, h, color);
}

/**
 * Draws a straight line from (x0, y0) to (x1, y1) (Bresenham), `thickness` pixels wide
 * (a square brush; default 1). Parts outside the image are clipped.
 *
 * @example
 * ```ts
 * import { createImage, drawLine } from "./image.ts";
 * const img = createImage(10, 10);
 * drawLine(img, 0, 0, 9, 9, [255, 0, 0], 2);
 * ```
 */
export function drawLine(
  image: Image,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  color: Color,
  thickness = 1,
): void {
  let x = Math.round(x0), y = Math.round(y0);
  const xe = Math.round(x1), ye = Math.round(y1);
  if (![x, y, xe, ye].every(Number.isFinite)) return;
  const dx = Math.abs(xe - x), dy = -Math.abs(ye - y);
  const sx = x < xe ? 1 : -1, sy = y < ye ? 1 : -1;
  const t = Math.max(1, Math.round(thickness));
  const off = Math.floor((t - 1) / 2);
  let err = dx + dy;
  const maxSteps = dx - dy + 1;
  for (let s = 0; s <= maxSteps; s++) {
    if (t === 1) setPixel(image, x, y, color);
    else fillRect(image, x - off, y - off, t, t, color);
    if (x === xe && y === ye) break;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y += sy;
    }
  }
}

/**
 * Copies `src` into `dst` with its top-left corner at (x, y), clipped to `dst`. Source pixels
 * with alpha < 255 are blended over the destination.
 *
 * @example
 * ```ts
 * import { blit, createImage } from "./image.ts";
 * const page = createImage(100, 100);
 * blit(page, createImage(10, 10, [255, 0, 0]), 45, 45);
 * ```
 */
export function blit(dst: Image, src: Image, x: number, y: number): void {
  x = Math.floor(x);
  y = Math.floor(y);
  const x0 = Math.max(0, -x), x1 = Math.min(src.width, dst.width - x);
  if (x1 <= x0) return;
  for (let sy = Math.max(0, -y); sy < src.height && sy + y < dst.height; sy++) {
    const s = src.data, d = dst.data;
    for (let sx = x0; sx < x1; sx++) {
      const si = 4 * (sy * src.width + sx);
      if (s[si + 3] === 255) {
        d.set(s.subarray(si, si + 4), 4 * ((sy + y) * dst.width + sx + x));
      } else if (s[si + 3] > 0) {
        setPixel(dst, sx + x, sy + y, [s[si], s[si + 1], s[si + 2], s[si + 3]]);
      }
    }
  }
}

/**
 * Encodes the image as an 8-bit RGBA PNG.
 *
 * @example
 * ```ts
 * import { createImage, encodePng } from "@soad/soad";
 * const png = encodePng(createImage(8, 8));
 * console.log(png[1], png[2], png[3]); // 80 78 71 ("PNG")
 * ```
 */
export function encodePng(image: Image): Uint8Array {
  if (image.data.length !== image.width * image.height * 4) {
    throw new InvalidArgumentError(
      `encodePng: data has ${image.data.length} bytes, expected 4·${image.width}·${image.height}`,
    );
  }
  return encode({
    width: image.width,
    height: image.height,
    data: image.data,
    depth: 8,
    channels: 4,
  });
}

/**
 * Encodes the image as PNG and writes it atomically (parent directories are created).
 *
 * @example
 * ```ts
 * import { createImage, writePng } from "@soad/soad";
 * const dir = await Deno.makeTempDir();
 * await writePng(`${dir}/fig.png`, createImage(16, 16, [0, 128, 255]));
 * ```
 */
export async function writePng(path: string | URL, image: Image): Promise<void> {
  await writeFileAtomic(path, encodePng(image));
}
