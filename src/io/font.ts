/**
 * A tiny built-in 5×7 bitmap font (printable ASCII 32..126, after the classic LCD font, with a
 * descender row for g j p q y) to draw labels into RGBA images at an integer scale. Each glyph
 * occupies a 6×9 cell (1 column and 1 row of spacing) times the scale. Characters outside ASCII are drawn as `?`, except a few symbols with
 * ASCII stand-ins (`−` → `-`, `×` → `x`, `·` → `.`).
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { type Color, fillRect, type Image } from "./image.ts";

/** Glyph width in font pixels. */
export const GLYPH_WIDTH = 5;
/** Glyph height in font pixels: 7 above the baseline and 1 descender row. */
export const GLYPH_HEIGHT = 8;
/** Horizontal advance per character (glyph + 1 column of spacing), in font pixels. */
export const CELL_WIDTH = 6;
/** Line height (glyph + 1 row of spacing), in font pixels. */
export const CELL_HEIGHT = 9;

/**
 * Glyphs for ASCII 32..126, 5 columns each as 2 hex digits; bit 0 of a column is the top
 * row, bit 6 the baseline row, bit 7 the descender row.
 */
const GLYPHS = [
  "0000000000",
  "00005f0000",
  "0007000700",
  "147f147f14",
  "242a7f2a12", // space ! " # $
  "2313086462",
  "3649552250",
  "0005030000",
  "001c224100",
  "0041221c00", // % & ' ( )
  "082a1c2a08",
  "08083e0808",
  "0050300000",
  "0808080808",
  "0060600000", // * + , - .
  "2010080402",
  "3e5149453e",
  "00427f4000",
  "4261514946",
  "2141454b31", // / 0 1 2 3
  "1814127f10",
  "2745454539",
  "3c4a494930",
  "0171090503",
  "3649494936", // 4 5 6 7 8
  "064949291e",
  "0036360000",
  "0056360000",
  "0814224100",
  "1414141414", // 9 : ; < =
  "0041221408",
  "0201510906",
  "324979413e",
  "7e1111117e",
  "7f49494936", // > ? @ A B
  "3e41414122",
  "7f4141221c",
  "7f49494941",
  "7f09090101",
  "3e41415132", // C D E F G
  "7f0808087f",
  "00417f4100",
  "2040413f01",
  "7f08142241",
  "7f40404040", // H I J K L
  "7f0204027f",
  "7f0408107f",
  "3e4141413e",
  "7f09090906",
  "3e4151215e", // M N O P Q
  "7f09192946",
  "4649494931",
  "01017f0101",
  "3f4040403f",
  "1f2040201f", // R S T U V
  "7f2018207f",
  "6314081463",
  "0304780403",
  "6151494543",
  "007f414100", // W X Y Z [
  "0204081020",
  "0041417f00",
  "0402010204",
  "4040404040",
  "0001020400", // \ ] ^ _ `
  "2054545478",
  "7f48444438",
  "3844444420",
  "384444487f",
  "3854545418", // a b c d e
  "087e090102",
  "18a4a4a47c",
  "7f08040478",
  "00447d4000",
  "4080847d00", // f g h i j
  "007f102844",
  "00417f4000",
  "7c04180478",
  "7c08040478",
  "3844444438", // k l m n o
  "fc24242418",
  "18242424fc",
  "7c08040408",
  "4854545420",
  "043f444020", // p q r s t
  "3c4040207c",
  "1c2040201c",
  "3c4030403c",
  "4428102844",
  "1ca0a0a07c", // u v w x y
  "4464544c44",
  "0008364100",
  "00007f0000",
  "0041360800",
  "0804081008", // z { | } ~
];

const STAND_INS: Record<string, string> = { "−": "-", "×": "x", "·": ".", "–": "-", "—": "-" };

/**
 * The 5 column bitmasks of a character's glyph (bit 0 = top row); unknown characters give `?`.
 *
 * @example
 * ```ts
 * import { glyph } from "./font.ts";
 * console.log(glyph("-")); // [8, 8, 8, 8, 8]
 * ```
 */
export function glyph(ch: string): number[] {
  const s = STAND_INS[ch] ?? ch;
  let code = s.charCodeAt(0);
  if (!(code >= 32 && code <= 126) || s.length !== 1) code = 63; // '?'
  const hex = GLYPHS[code - 32];
  const cols: number[] = [];
  for (let i = 0; i < GLYPH_WIDTH; i++) cols.push(parseInt(hex.slice(2 * i, 2 * i + 2), 16));
  return cols;
}

function checkScale(scale: number): void {
  if (!Number.isInteger(scale) || scale < 1) {
    throw new InvalidArgumentError(`text scale must be an integer ≥ 1, got ${scale}`);
  }
}

/**
 * Width in pixels of a single line of text at `scale` (no trailing spacing column).
 *
 * @example
 * ```ts
 * import { textWidth } from "./font.ts";
 * console.log(textWidth("abc", 2)); // 34
 * ```
 */
export function textWidth(text: string, scale = 1): number {
  checkScale(scale);
  const n = [...text].length;
  return n === 0 ? 0 : (n * CELL_WIDTH - 1) * scale;
}

/**
 * Height in pixels of one line of text at `scale` (the glyph height, no spacing row).
 *
 * @example
 * ```ts
 * import { textHeight } from "./font.ts";
 * console.log(textHeight(2)); // 14
 * ```
 */
export function textHeight(scale = 1): number {
  checkScale(scale);
  return GLYPH_HEIGHT * scale;
}

/** Horizontal alignment of {@link drawText} relative to `x`. */
export type TextAlign = "left" | "center" | "right";

/** Options of {@link drawText}. */
export interface DrawTextOptions {
  /** Colour of the glyph pixels (default black). */
  color?: Color;
  /** Integer scale factor: each font pixel becomes scale × scale image pixels (default 1). */
  scale?: number;
  /** Where `x` is: the left edge, the centre or the right edge of the text (default left). */
  align?: TextAlign;
  /** A background colour painted behind the text box (with 1 px × scale margin). */
  background?: Color;
}

/**
 * Draws one line of text with its top-left corner at (x, y) (or centred/right-aligned on x),
 * clipped to the image. Returns the width drawn in pixels.
 *
 * @example
 * ```ts
 * import { createImage } from "@soad/soad";
 * import { drawText } from "./font.ts";
 * const img = createImage(120, 20);
 * drawText(img, "KE = 1.5e-3", 2, 2, { scale: 2, color: [200, 0, 0] });
 * ```
 */
export function drawText(
  image: Image,
  text: string,
  x: number,
  y: number,
  options: DrawTextOptions = {},
): number {
  const scale = options.scale ?? 1;
  const color = options.color ?? [0, 0, 0];
  const w = textWidth(text, scale);
  let left = Math.round(x);
  if (options.align === "center") left = Math.round(x - w / 2);
  else if (options.align === "right") left = Math.round(x - w);
  const top = Math.round(y);
  if (options.background) {
    fillRect(
      image,
      left - scale,
      top - scale,
      w + 2 * scale,
      (GLYPH_HEIGHT + 2) * scale,
      options.background,
    );
  }
  let cx = left;
  for (const ch of text) {
    const cols = glyph(ch);
    for (let c = 0; c < GLYPH_WIDTH; c++) {
      const bits = cols[c];
      if (bits === 0) continue;
      for (let r = 0; r < GLYPH_HEIGHT; r++) {
        if (bits & (1 << r)) fillRect(image, cx + c * scale, top + r * scale, scale, scale, color);
      }
    }
    cx += CELL_WIDTH * scale;
  }
  return w;
}
