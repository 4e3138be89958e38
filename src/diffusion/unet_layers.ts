/**
 * Building blocks of the SOAD U-Net on NHWC tensors whose batch axis holds the frames folded
 * b-major (row `b·L + l` is frame l of window b): Fourier time embedding, channel LayerNorm, SiLU,
 * residual block, temporal block, nearest ×2 upsampling. Parameters come from a {@link ParamSource}
 * in tfjs layouts (conv filters `[kh, kw, in, out]`, dense kernels `[in, out]`).
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { conv2dPadded, customOp, sumLeading } from "./circular_conv.ts";
import { dense } from "./dense.ts";
import { N_FREQ } from "./unet_config.ts";
import { onWasm } from "./wasm_heap_kernels.ts";
import {
  fusedChannelsOk,
  layerNormGradWasm,
  layerNormWasm,
  siluGradWasm,
  siluWasm,
} from "./wasm_pointwise_ops.ts";

/** Where the layers get their parameters (by PyTorch name) and how they differentiate. */
export interface ParamSource {
  /** The parameter tensor in tfjs layout, by PyTorch state-dict name. */
  get(name: string): tf.Tensor;
  /** Whether filter/bias gradients must be computed (training) or only input gradients. */
  paramGrads: boolean;
  /** Optional cache of adjoint conv filters by weight name (see `adjointFilter`). */
  adjoint?(name: string): tf.Tensor4D | undefined;
}

/** Window geometry of a folded batch. */
export interface Fold {
  /** Windows B. */
  batch: number;
  /** Frames L per window. */
  frames: number;
}

/**
 * SiLU `x · sigmoid(x)`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { silu } from "./unet_layers.ts";
 * silu(tf.tensor1d([0, 1])).print(); // [0, 0.7311]
 * ```
 */
export function silu<T extends tf.Tensor>(x: T): T {
  if (onWasm(x)) {
    // one fused pass each way on the conv engine
    const op = customOp(([xi], save) => {
      save([xi]);
      return { value: siluWasm(xi), gradFunc: (dy, [xs]) => siluGradWasm(xs, dy) };
    });
    return op(x) as T;
  }
  // one saved tensor instead of the three clones tfjs's sigmoid·mul gradients would keep
  const op = customOp(([xi], save) => {
    save([xi]);
    return {
      value: tf.tidy(() => tf.mul(xi, tf.sigmoid(xi))),
      gradFunc: (dy, [xs]) =>
        tf.tidy(() => {
          const s = tf.sigmoid(xs);
          return tf.mul(tf.mul(dy, s), tf.add(1, tf.mul(xs, tf.sub(1, s))));
        }),
    };
  });
  return op(x) as T;
}

/**
 * Layer norm over the last (channel) axis: biased variance, eps 1e-5, then `·weight + bias`.
 * Custom gradient (the closed form `dx = r·(g − mean(g) − x̂·mean(g·x̂))`, `g = dy·weight`, about
 * half the ops of tfjs's autodiff); weight and bias gradients only with `paramGrads` (default
 * true), else zeros.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { channelLayerNorm } from "./unet_layers.ts";
 * const y = channelLayerNorm(tf.tensor2d([[1, 3]]), tf.ones([2]), tf.zeros([2]));
 * y.print(); // ≈ [[-1, 1]]
 * ```
 */
export function channelLayerNorm<T extends tf.Tensor>(
  x: T,
  weight: tf.Tensor,
  bias: tf.Tensor,
  paramGrads = true,
): T {
  if (onWasm(x) && fusedChannelsOk(x.shape[x.rank - 1])) {
    // one fused pass each way on the conv engine
    const op = customOp(([xi, wi, bi], save) => {
      const [y, xhat, r] = layerNormWasm(xi, wi, bi);
      save([xhat, r, wi]);
      return {
        value: y,
        gradFunc: (dy, [xh, rs, ws]) => {
          const g = layerNormGradWasm(dy, xh, rs, ws, paramGrads);
          return paramGrads ? g : [g[0], tf.zerosLike(ws), tf.zerosLike(ws)];
        },
      };
    });
    return op(x, weight, bias) as T;
  }
  const op = customOp(([xi, wi, bi], save) => {
    const mean = tf.mean(xi, -1, true);
    const d = tf.sub(xi, mean);
    const v = tf.mean(tf.square(d), -1, true);
    const r = tf.rsqrt(tf.add(v, 1e-5));
    const xhat = tf.mul(d, r);
    save([xhat, r, wi]);
    return {
      value: tf.add(tf.mul(xhat, wi), bi),
      gradFunc: (dy, [xh, rs, ws]) =>
        tf.tidy(() => {
          const g = tf.mul(dy, ws);
          const m1 = tf.mean(g, -1, true);
          const m2 = tf.mean(tf.mul(g, xh), -1, true);
          const dx = tf.mul(tf.sub(tf.sub(g, m1), tf.mul(xh, m2)), rs);
          if (!paramGrads) return [dx, tf.zerosLike(ws), tf.zerosLike(ws)];
          return [dx, sumLeading(tf.mul(dy, xh)), sumLeading(dy)];
        }),
    };
  });
  return op(x, weight, bias) as T;
}

/**
 * Fourier time embedding: `[cos(πjt)]_{j=1..16} ++ [sin(πjt)]` → fc1 → SiLU → fc2; t `[B]` →
 * `[B, 64]`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { timeEmbedding } from "./unet_layers.ts";
 * const p = { paramGrads: false, get: (n: string) =>
 *   n.endsWith("fc1.weight") ? tf.zeros([32, 256]) : n.endsWith("fc2.weight")
 *   ? tf.zeros([256, 64]) : tf.zeros([n.includes("fc1") ? 256 : 64]) };
 * console.log(timeEmbedding(tf.tensor1d([0.5]), p).shape); // [1, 64]
 * ```
 */
export function timeEmbedding(t: tf.Tensor1D, p: ParamSource): tf.Tensor2D {
  return tf.tidy(() => {
    const freqs = tf.tensor1d(
      Array.from({ length: N_FREQ }, (_, j) => Math.fround(Math.PI * (j + 1))),
    );
    const a = tf.mul(tf.reshape(t, [-1, 1]), tf.reshape(freqs, [1, N_FREQ]));
    const e0 = tf.concat([tf.cos(a), tf.sin(a)], 1);
    const h = silu(dense(e0, lin(p, "temb.fc1.weight"), vec(p, "temb.fc1.bias"), p.paramGrads));
    return dense(
      h,
      lin(p, "temb.fc2.weight"),
      vec(p, "temb.fc2.bias"),
      p.paramGrads,
    ) as tf.Tensor2D;
  });
}

function lin(p: ParamSource, name: string): tf.Tensor2D {
  return p.get(name) as tf.Tensor2D;
}
function vec(p: ParamSource, name: string): tf.Tensor1D {
  return p.get(name) as tf.Tensor1D;
}
function filt(p: ParamSource, name: string): tf.Tensor4D {
  return p.get(name) as tf.Tensor4D;
}

/**
 * Circular k×k convolution named `prefix` (`prefix.weight`, `prefix.bias`), stride 1 or 2.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { circConv } from "./unet_layers.ts";
 * const p = { paramGrads: false, get: (n: string) =>
 *   n.endsWith("weight") ? tf.ones([5, 5, 1, 2]) : tf.zeros([2]) };
 * console.log(circConv(tf.ones([1, 8, 8, 1]), p, "c", 2).shape); // [1, 4, 4, 2]
 * ```
 */
export function circConv(
  x: tf.Tensor4D,
  p: ParamSource,
  prefix: string,
  stride: 1 | 2 = 1,
): tf.Tensor4D {
  return conv2dPadded(x, filt(p, `${prefix}.weight`), vec(p, `${prefix}.bias`), {
    stride,
    padding: "circular",
    paramGrads: p.paramGrads,
    adjoint: p.adjoint?.(`${prefix}.weight`),
  });
}

/**
 * Residual block `prefix` (= `down.i.rb.j` or `up.i.rb.j`): `h = x + temb(emb)` per window,
 * `out = x + conv2(SiLU(conv1(LN(h))))`. x `[B·L, H, W, c]`, emb `[B, 64]`.
 *
 * @example
 * ```ts
 * // used by the U-Net: resBlock(x, emb, params, "down.0.rb.0", { batch: 2, frames: 9 })
 * import { resBlock } from "./unet_layers.ts";
 * console.log(typeof resBlock); // "function"
 * ```
 */
export function resBlock(
  x: tf.Tensor4D,
  emb: tf.Tensor2D,
  p: ParamSource,
  prefix: string,
  fold: Fold,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const proj = dense(
      emb,
      lin(p, `${prefix}.temb.weight`),
      vec(p, `${prefix}.temb.bias`),
      p.paramGrads,
    );
    const hx = tf.add(
      tf.reshape(x, [fold.batch, fold.frames, h, w, c]),
      tf.reshape(proj, [fold.batch, 1, 1, 1, c]),
    ).reshape([n, h, w, c]) as tf.Tensor4D;
    const normed = channelLayerNorm(
      hx,
      p.get(`${prefix}.norm.weight`),
      p.get(`${prefix}.norm.bias`),
      p.paramGrads,
    );
    const a = silu(circConv(normed, p, `${prefix}.conv1`));
    const y = dense(
      a,
      lin(p, `${prefix}.conv2.weight`),
      vec(p, `${prefix}.conv2.bias`),
      p.paramGrads,
    );
    return tf.add(x, y) as tf.Tensor4D;
  });
}

/**
 * Temporal block `prefix` (= `down.i.tb` or `up.i.tb`): at every pixel, along the L frames of a
 * window, `out = x + conv2(SiLU(conv1(x)))` with conv1 of 3 taps and zero padding.
 *
 * @example
 * ```ts
 * // used by the U-Net: temporalBlock(x, params, "down.1.tb", { batch: 2, frames: 9 })
 * import { temporalBlock } from "./unet_layers.ts";
 * console.log(typeof temporalBlock); // "function"
 * ```
 */
export function temporalBlock(
  x: tf.Tensor4D,
  p: ParamSource,
  prefix: string,
  fold: Fold,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const seq = tf.reshape(x, [fold.batch, fold.frames, h * w, c]) as tf.Tensor4D;
    const a = silu(
      conv2dPadded(seq, filt(p, `${prefix}.conv1.weight`), vec(p, `${prefix}.conv1.bias`), {
        padding: "zeros",
        paramGrads: p.paramGrads,
        adjoint: p.adjoint?.(`${prefix}.conv1.weight`),
      }),
    );
    const y = dense(
      a,
      lin(p, `${prefix}.conv2.weight`),
      vec(p, `${prefix}.conv2.bias`),
      p.paramGrads,
    );
    return tf.add(x, tf.reshape(y, [n, h, w, c])) as tf.Tensor4D;
  });
}

/**
 * Nearest ×2 upsampling `out[2i+a, 2j+b] = x[i, j]` (NHWC). Custom gradient: the sum over each
 * 2×2 block (tfjs has no gradient for rank-6 tile/broadcast).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { upsample2 } from "./unet_layers.ts";
 * console.log(upsample2(tf.ones([1, 3, 4, 2])).shape); // [1, 6, 8, 2]
 * ```
 */
export function upsample2(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  // every intermediate stays at rank <= 4 (webgpu runs some rank >= 5 ops on the CPU, sync read)
  const op = customOp(([xi]) => ({
    value: tf.tidy(() => {
      // concat, not tile: tile is ~40x slower on wasm
      const r = tf.reshape(xi, [n * h, 1, w * c]);
      const q = tf.reshape(tf.concat([r, r], 1), [n * 2 * h * w, 1, c]);
      return tf.concat([q, q], 1).reshape([n, 2 * h, 2 * w, c]);
    }),
    gradFunc: (dy) =>
      tf.tidy(() => {
        const cols = tf.sum(tf.reshape(dy, [n * 2 * h * w, 2, c]), 1); // [n·2h·w, c]
        return tf.sum(tf.reshape(cols, [n * h, 2, w, c]), 1).reshape([n, h, w, c]);
      }),
  }));
  return op(x) as tf.Tensor4D;
}
