/**
 * Fused element-wise kernels of the U-Net on the conv engine (`wasm/pointwise.c`): SiLU and its
 * gradient, the channel LayerNorm and its gradient (with the weight and bias gradients), and
 * column sums (bias gradients). One pass each instead of 2–9 tfjs ops, split over the engine's
 * threads. Inputs are copied into the engine's memory and results out, as for the convolutions.
 * @module
 */

import { SoadError } from "../errors.ts";
import { al, getEngine } from "./wasm_conv.ts";

/** Multiply-add equivalents per element below which a call is not worth a thread hand-off. */
const COST_SILU = 24;
const COST_LN = 12;

function place(items: Float32Array[], extra: number[]): { F: Float32Array; at: number[] } {
  const e = getEngine();
  const at: number[] = [];
  let end = e.heap;
  for (const n of [...items.map((a) => a.length), ...extra]) {
    at.push(end);
    end += al(n);
  }
  const F = e.reserve(end - e.heap);
  items.forEach((a, i) => F.set(a, at[i] >> 2));
  return { F, at };
}

function same(a: Float32Array, b: Float32Array, what: string): void {
  if (a.length !== b.length) {
    throw new SoadError(`${what}: ${b.length} values where ${a.length} were expected`);
  }
}

function rowsOf(x: Float32Array, c: number, what: string): number {
  if (!Number.isInteger(c) || c < 4 || c % 4 !== 0 || x.length % c !== 0) {
    throw new SoadError(
      `${what}: the channel count must be a positive multiple of 4 dividing the size, got ` +
        `${c} for ${x.length} values`,
    );
  }
  return x.length / c;
}

/**
 * SiLU `out = x · sigmoid(x)` on the conv engine.
 *
 * @example
 * ```ts
 * import { wasmSilu } from "./wasm_pointwise.ts";
 * const out = new Float32Array(2);
 * wasmSilu(new Float32Array([0, 1]), out);
 * console.log(out[1].toFixed(4)); // 0.7311
 * ```
 */
export function wasmSilu(x: Float32Array, out: Float32Array): void {
  same(x, out, "silu output");
  const { F, at } = place([x], [x.length]);
  getEngine().run("silu_fwd", (lo, hi) => [at[0], at[1], lo, hi], x.length, x.length * COST_SILU);
  out.set(F.subarray(at[1] >> 2, (at[1] >> 2) + x.length));
}

/**
 * Gradient of {@link wasmSilu}: `out = dy · s · (1 + x · (1 − s))`, s = sigmoid(x).
 *
 * @example
 * ```ts
 * import { wasmSiluGrad } from "./wasm_pointwise.ts";
 * const out = new Float32Array(1);
 * wasmSiluGrad(new Float32Array([0]), new Float32Array([2]), out);
 * console.log(out[0]); // 1
 * ```
 */
export function wasmSiluGrad(x: Float32Array, dy: Float32Array, out: Float32Array): void {
  same(x, dy, "silu gradient cotangent");
  same(x, out, "silu gradient output");
  const { F, at } = place([x, dy], [x.length]);
  getEngine().run(
    "silu_bwd",
    (lo, hi) => [at[0], at[1], at[2], lo, hi],
    x.length,
    x.length * COST_SILU,
  );
  out.set(F.subarray(at[2] >> 2, (at[2] >> 2) + x.length));
}

/**
 * Layer norm over the last axis of c channels (c a multiple of 4), biased variance, eps 1e-5:
 * writes `y = x̂·w + b`, the normalised `xhat` and the per-row inverse deviation `r`.
 *
 * @example
 * ```ts
 * import { wasmLayerNorm } from "./wasm_pointwise.ts";
 * const y = new Float32Array(4), xhat = new Float32Array(4), r = new Float32Array(1);
 * wasmLayerNorm(new Float32Array([1, 3, 1, 3]), new Float32Array(4).fill(1), new Float32Array(4),
 *   4, y, xhat, r);
 * console.log(Array.from(y, Math.round)); // [-1, 1, -1, 1]
 * ```
 */
export function wasmLayerNorm(
  x: Float32Array,
  w: Float32Array,
  b: Float32Array,
  c: number,
  y: Float32Array,
  xhat: Float32Array,
  r: Float32Array,
): void {
  const rows = rowsOf(x, c, "layer norm");
  if (w.length !== c || b.length !== c) {
    throw new SoadError(`layer norm: weight and bias need ${c} values`);
  }
  same(x, y, "layer norm output");
  same(x, xhat, "layer norm x̂");
  if (r.length !== rows) throw new SoadError(`layer norm: r needs ${rows} values, got ${r.length}`);
  const { F, at } = place([x, w, b], [x.length, x.length, rows]);
  getEngine().run(
    "ln_fwd",
    (lo, hi) => [at[0], at[1], at[2], at[3], at[4], at[5], c, lo, hi],
    rows,
    x.length * COST_LN,
  );
  y.set(F.subarray(at[3] >> 2, (at[3] >> 2) + x.length));
  xhat.set(F.subarray(at[4] >> 2, (at[4] >> 2) + x.length));
  r.set(F.subarray(at[5] >> 2, (at[5] >> 2) + rows));
}

/**
 * Gradient of {@link wasmLayerNorm} from the output cotangent, x̂, r and the weight: `dx`, and with
 * `dw`/`db` given also the weight and bias gradients `Σ dy·x̂`, `Σ dy` over the rows.
 *
 * @example
 * ```ts
 * import { wasmLayerNormGrad } from "./wasm_pointwise.ts";
 * const dx = new Float32Array(4), dw = new Float32Array(4), db = new Float32Array(4);
 * wasmLayerNormGrad(new Float32Array([1, 1, 1, 1]), new Float32Array([-1, 1, -1, 1]),
 *   new Float32Array([1]), new Float32Array(4).fill(1), 4, dx, dw, db);
 * console.log(Array.from(dx), Array.from(db)); // [0, 0, 0, 0] [1, 1, 1, 1]
 * ```
 */
export function wasmLayerNormGrad(
  dy: Float32Array,
  xhat: Float32Array,
  r: Float32Array,
  w: Float32Array,
  c: number,
  dx: Float32Array,
  dw: Float32Array | null,
  db: Float32Array | null,
): void {
  const rows = rowsOf(dy, c, "layer norm gradient");
  same(dy, xhat, "layer norm gradient x̂");
  same(dy, dx, "layer norm gradient output");
  if (r.length !== rows || w.length !== c) {
    throw new SoadError(`layer norm gradient: r needs ${rows} values and w ${c}`);
  }
  if ((dw === null) !== (db === null) || (dw && (dw.length !== c || db!.length !== c))) {
    throw new SoadError(`layer norm gradient: dw and db must both be given, with ${c} values`);
  }
  const { F, at } = place([dy, xhat, r, w], [dy.length, c, c, c, c]);
  const [pdy, ph, pr, pw, pdx] = at;
  const part = [[at[5], at[6]], [at[7], at[8]]];
  const split = getEngine().run(
    "ln_bwd",
    (lo, hi, k) => [pdy, ph, pr, pw, pdx, dw ? part[k][0] : 0, dw ? part[k][1] : 0, c, lo, hi],
    rows,
    dy.length * COST_LN,
  );
  dx.set(F.subarray(pdx >> 2, (pdx >> 2) + dy.length));
  if (dw && db) sumParts(F, part, split, [dw, db]);
}

/** Copies (or, after a split, adds) the two threads' partial sums into `outs`. */
function sumParts(F: Float32Array, part: number[][], split: boolean, outs: Float32Array[]): void {
  outs.forEach((o, j) => {
    const a = part[0][j] >> 2, b = part[1][j] >> 2;
    for (let k = 0; k < o.length; k++) o[k] = split ? F[a + k] + F[b + k] : F[a + k];
  });
}

/**
 * Column sums `out[k] = Σ_rows x[row, k]` of a `[rows, c]` array (c a multiple of 4): the bias
 * gradient. Summed in blocks of 64 rows (float32).
 *
 * @example
 * ```ts
 * import { wasmColumnSum } from "./wasm_pointwise.ts";
 * const out = new Float32Array(4);
 * wasmColumnSum(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]), 4, out);
 * console.log(Array.from(out)); // [6, 8, 10, 12]
 * ```
 */
export function wasmColumnSum(x: Float32Array, c: number, out: Float32Array): void {
  const rows = rowsOf(x, c, "column sum");
  if (out.length !== c) throw new SoadError(`column sum: the output needs ${c} values`);
  const { F, at } = place([x], [c, c]);
  const part = [[at[1]], [at[2]]];
  const split = getEngine().run(
    "col_sum",
    (lo, hi, k) => [at[0], part[k][0], c, lo, hi],
    rows,
    x.length,
  );
  sumParts(F, part, split, [out]);
}
