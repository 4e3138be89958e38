/**
 * Convolutions of the U-Net with hand-written gradients that run on every tfjs backend
 * (tfjs-wasm has no Conv2DBackpropFilter and its conv2dTranspose is slow):
 * - the input gradient of a padded convolution is the same convolution of the (zero-inserted,
 *   for stride 2) cotangent with the spatially flipped, in/out-transposed filter;
 * - the filter gradient (only with `paramGrads`) is, on wasm, the conv engine's kernel; elsewhere
 *   an im2col product `dyᵀ · col`, one kernel row at a time;
 * - on wasm, the convolutions themselves run on the conv engine (`wasm_conv_ops.ts`: hand-written
 *   SIMD with FMA, optionally two threads; 1.3–2.8x XNNPACK), and circular padding, adjoint
 *   filters and bias gradients use the heap kernels of `wasm_heap_kernels.ts` (tfjs-wasm's slice,
 *   reverse and leading-axis sum are slow there);
 * Dense layers (1×1 convs, linears) are in `dense.ts`.
 * All tensors are NHWC; filters are tfjs `[kh, kw, in, out]`.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import {
  adjointFilterWasm,
  circularPadWasm,
  onWasm,
  subsample2Wasm,
  sumLeadingWasm,
} from "./wasm_heap_kernels.ts";
import {
  convCircularFFTWasm,
  convCircularGradFFTWasm,
  convFilterGradWasm,
  convValidWasm,
} from "./wasm_conv_ops.ts";
import { fftConvSupported } from "../backend/wasm_fft_conv.ts";
import { columnSumWasm, fusedChannelsOk } from "./wasm_pointwise_ops.ts";
import { SoadError } from "../errors.ts";

/** How a convolution pads its input. */
export type PadMode = "circular" | "zeros";

/** Options of {@link conv2dPadded}. */
export interface ConvOptions {
  /** Stride on both spatial axes (1, or 2 for the downsampling convs). */
  stride?: 1 | 2;
  /** `circular` (wrap on both axes, the U-Net's spatial convs) or `zeros`; default circular. */
  padding?: PadMode;
  /** Also compute filter and bias gradients (training); default false (input gradient only). */
  paramGrads?: boolean;
  /** The precomputed {@link adjointFilter} of the filter (a cache; computed when absent). */
  adjoint?: tf.Tensor4D;
}

/**
 * Pads an NHWC tensor by `ph` rows and `pw` columns on both sides, wrapping around (circular) or
 * with zeros. Differentiable on every backend (slice, concat, pad).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { padNHWC } from "./circular_conv.ts";
 * const x = tf.tensor4d([1, 2, 3], [1, 1, 3, 1]);
 * console.log(padNHWC(x, 0, 1, "circular").shape); // [1, 1, 5, 1] holding 3 1 2 3 1
 * ```
 */
export function padNHWC(x: tf.Tensor4D, ph: number, pw: number, mode: PadMode): tf.Tensor4D {
  if (ph === 0 && pw === 0) return x;
  if (mode === "zeros") {
    return tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]]);
  }
  const [, h, w] = x.shape;
  if (ph > h || pw > w) {
    throw new RangeError(`circular padding (${ph}, ${pw}) exceeds the ${h}×${w} grid`);
  }
  return tf.tidy(() => {
    let y = x;
    if (ph > 0) {
      y = tf.concat([
        tf.slice(y, [0, h - ph, 0, 0], [-1, ph, -1, -1]),
        y,
        tf.slice(y, [0, 0, 0, 0], [-1, ph, -1, -1]),
      ], 1);
    }
    if (pw > 0) {
      y = tf.concat([
        tf.slice(y, [0, 0, w - pw, 0], [-1, -1, pw, -1]),
        y,
        tf.slice(y, [0, 0, 0, 0], [-1, -1, pw, -1]),
      ], 2);
    }
    return y as tf.Tensor4D;
  });
}

/**
 * {@link padNHWC} for use inside custom ops (no gradient through it): one heap-copy kernel on
 * wasm for float32 circular padding, else {@link padNHWC}.
 */
function padInOp(x: tf.Tensor4D, ph: number, pw: number, mode: PadMode): tf.Tensor4D {
  if (mode === "circular" && (ph > 0 || pw > 0) && onWasm(x)) {
    const [, h, w] = x.shape;
    if (ph > h || pw > w) {
      throw new RangeError(`circular padding (${ph}, ${pw}) exceeds the ${h}×${w} grid`);
    }
    return circularPadWasm(x, ph, pw);
  }
  return padNHWC(x, ph, pw, mode);
}

/**
 * The sum over every axis but the last (`[..., c]` → `[c]`): bias gradients. On wasm the conv
 * engine's column sum (c a multiple of 4) or the heap kernel, else `tf.sum`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { sumLeading } from "./circular_conv.ts";
 * sumLeading(tf.ones([2, 3, 4])).print(); // [6, 6, 6, 6]
 * ```
 */
export function sumLeading(x: tf.Tensor): tf.Tensor1D {
  if (onWasm(x)) {
    return fusedChannelsOk(x.shape[x.rank - 1]) ? columnSumWasm(x) : sumLeadingWasm(x);
  }
  return tf.sum(x, [...Array(x.rank - 1).keys()]) as tf.Tensor1D;
}

/** What the body of a {@link customOp} returns. */
export interface CustomOpResult {
  /** The forward value. */
  value: tf.Tensor;
  /** Gradients w.r.t. the inputs, in order, given the output cotangent and the saved tensors. */
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}

/**
 * A typed wrapper of `tf.customGrad`: `body` gets the input tensors as an array and the save
 * function, and must return the value and a gradient function (one gradient per input).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { customOp } from "./circular_conv.ts";
 * const double = customOp(([x]) => ({ value: tf.mul(x, 2), gradFunc: (dy) => tf.mul(dy, 2) }));
 * tf.grad((x: tf.Tensor) => double(x))(tf.scalar(3)).print(); // 2
 * ```
 */
export function customOp(
  body: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => CustomOpResult,
): (...inputs: tf.Tensor[]) => tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    return body(args.slice(0, -1) as tf.Tensor[], save);
  });
  return (...inputs: tf.Tensor[]) => f(...inputs);
}

/** Inserts a zero after every row and column: `[n, h, w, c]` → `[n, 2h, 2w, c]`. */
function zeroInsert(dy: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = dy.shape;
  // rank <= 4 throughout (webgpu handles some rank >= 5 ops on the CPU)
  return tf.tidy(() => {
    const rows = tf.pad(tf.reshape(dy, [n * h, 1, w, c]), [[0, 0], [0, 1], [0, 0], [0, 0]]);
    return tf.pad(tf.reshape(rows, [n * 2 * h * w, 1, c]), [[0, 0], [0, 1], [0, 0]])
      .reshape([n, 2 * h, 2 * w, c]);
  });
}

/**
 * The adjoint filter `[kh, kw, out, in]`: flipped spatially, in/out channels swapped. The input
 * gradient of a padded conv is the same padded conv of the cotangent with this filter.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { adjointFilter } from "./circular_conv.ts";
 * console.log(adjointFilter(tf.zeros([5, 5, 2, 3]) as tf.Tensor4D).shape); // [5, 5, 3, 2]
 * ```
 */
export function adjointFilter(f: tf.Tensor4D): tf.Tensor4D {
  // on wasm one heap kernel (tf.reverse is a slow generic loop there); not differentiable
  if (onWasm(f)) return adjointFilterWasm(f);
  return tf.tidy(() => tf.transpose(tf.reverse(f, [0, 1]), [0, 1, 3, 2]));
}

/**
 * How the circular k×k convolutions run on wasm: `auto` (the default: in Fourier space,
 * `../backend/wasm_fft_conv.ts`, wherever the grid is a power of two and the filter has more
 * than one tap; else the direct kernels) or `direct` (always the conv engine's direct kernels).
 * Other backends and other convolutions are not affected.
 */
export type CircularConvMethod = "auto" | "direct";

let circularMethod: CircularConvMethod = "auto";

/**
 * Sets the {@link CircularConvMethod} of this thread (for benchmarks and parity checks; `auto`
 * is the fast choice). Returns the previous method.
 *
 * @example
 * ```ts
 * import { setCircularConvMethod } from "@soad/soad/internal";
 * const before = setCircularConvMethod("direct");
 * setCircularConvMethod(before);
 * ```
 */
export function setCircularConvMethod(method: CircularConvMethod): CircularConvMethod {
  if (method !== "auto" && method !== "direct") {
    throw new SoadError(`circular conv method must be auto or direct, got '${method}'`);
  }
  const before = circularMethod;
  circularMethod = method;
  return before;
}

/**
 * Whether a convolution of x with a filter of `fShape` runs by the FFT (stride 2 as the stride-1
 * convolution at full resolution, subsampled: cheaper than the direct kernels there too).
 */
function useFFT(x: tf.Tensor4D, fShape: number[], mode: PadMode): boolean {
  if (circularMethod === "direct" || mode !== "circular" || !onWasm(x)) return false;
  const [kh, kw] = fShape;
  return kh * kw > 1 && fftConvSupported(x.shape[1], x.shape[2], kh, kw);
}

/** Valid convolution (plus bias) of a padded input: the conv engine on wasm, else tfjs. */
function validConv(
  xp: tf.Tensor4D,
  f: tf.Tensor4D,
  b: tf.Tensor1D | null,
  stride: 1 | 2,
): tf.Tensor4D {
  if (onWasm(xp)) return convValidWasm(xp, f, b, stride);
  if (!b) return tf.conv2d(xp, f, stride, "valid");
  return tf.fused.conv2d({ x: xp, filter: f, bias: b, strides: stride, pad: "valid" });
}

/** Forward: pad, then a valid convolution plus bias. */
function convForward(
  x: tf.Tensor4D,
  f: tf.Tensor4D,
  b: tf.Tensor1D,
  stride: 1 | 2,
  mode: PadMode,
): tf.Tensor4D {
  const [kh, kw] = f.shape;
  return tf.tidy(() => {
    return validConv(padInOp(x, (kh - 1) / 2, (kw - 1) / 2, mode), f, b, stride);
  });
}

/** Input gradient of {@link convForward}. */
function convInputGrad(
  dy: tf.Tensor4D,
  f: tf.Tensor4D,
  stride: 1 | 2,
  mode: PadMode,
  adjoint?: tf.Tensor4D,
): tf.Tensor4D {
  const [kh, kw] = f.shape;
  return tf.tidy(() => {
    const d = stride === 2 ? zeroInsert(dy) : dy;
    const dp = padInOp(d, (kh - 1) / 2, (kw - 1) / 2, mode);
    return validConv(dp, adjoint ?? adjointFilter(f), null, 1);
  });
}

/**
 * Filter gradient of {@link convForward} by im2col from the padded input `xp`, one kernel row
 * at a time (`dyᵀ · col`); used off wasm (WebGPU); on wasm the conv engine's filter-gradient kernel
 * runs instead.
 */
function convFilterGradIm2col(
  xp: tf.Tensor4D,
  dy: tf.Tensor4D,
  fShape: [number, number, number, number],
  stride: 1 | 2,
): tf.Tensor4D {
  const [kh, kw, cin, cout] = fShape;
  const [n, ho, wo] = dy.shape;
  const m = n * ho * wo;
  return tf.tidy(() => {
    const dyT = tf.transpose(tf.reshape(dy, [m, cout])); // [cout, m]
    const rows: tf.Tensor[] = [];
    for (let u = 0; u < kh; u++) {
      const cols: tf.Tensor[] = [];
      for (let v = 0; v < kw; v++) {
        const s = stride === 1 ? tf.slice(xp, [0, u, v, 0], [n, ho, wo, cin]) : tf.stridedSlice(
          xp,
          [0, u, v, 0],
          [n, u + stride * (ho - 1) + 1, v + stride * (wo - 1) + 1, cin],
          [1, stride, stride, 1],
        );
        cols.push(s.reshape([m, cin]));
      }
      const col = cols.length === 1 ? cols[0] : tf.concat(cols, 1); // [m, kw*cin]
      rows.push(tf.matMul(dyT, col)); // [cout, kw*cin]
    }
    const g = tf.concat(rows, 1).reshape([cout, kh, kw, cin]);
    return tf.transpose(g, [1, 2, 3, 0]) as tf.Tensor4D;
  });
}

/** Filter gradient of {@link convForward} from the padded input (backend-dependent method). */
function convFilterGrad(
  xp: tf.Tensor4D,
  dy: tf.Tensor4D,
  fShape: [number, number, number, number],
  stride: 1 | 2,
): tf.Tensor4D {
  if (onWasm(xp)) return convFilterGradWasm(xp, dy, fShape[0], fShape[1], stride);
  return convFilterGradIm2col(xp, dy, fShape, stride);
}

/**
 * The circular convolution by the FFT as a custom op whose backward takes the cotangent's
 * spectrum once: for the input gradient (the convolution with the adjoint filter) and, with
 * `paramGrads`, the filter and bias gradients (with the saved input). Stride 2: the
 * full-resolution convolution, subsampled; its backward sees the zero-inserted cotangent.
 */
function fftConvOp(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D,
  stride: 1 | 2,
  paramGrads: boolean,
  adjoint?: tf.Tensor4D,
): tf.Tensor4D {
  const body = (xi: tf.Tensor, fi: tf.Tensor, bi: tf.Tensor, save: tf.GradSaveFunc) => {
    if (paramGrads) save([xi, fi]);
    const y = convCircularFFTWasm(xi as tf.Tensor4D, fi as tf.Tensor4D, bi as tf.Tensor1D);
    let value = y;
    if (stride === 2) {
      value = subsample2Wasm(y);
      y.dispose();
    }
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const d = stride === 2 ? zeroInsert(dy as tf.Tensor4D) : dy as tf.Tensor4D;
          if (!paramGrads) {
            return convCircularGradFFTWasm(d, adjoint ?? adjointFilter(filter), null)[0];
          }
          const [xs, fs] = saved as [tf.Tensor4D, tf.Tensor4D];
          return convCircularGradFFTWasm(d, adjointFilter(fs), xs);
        }),
    };
  };
  if (!paramGrads) {
    return customOp(([xi], save) => body(xi, filter, bias, save))(x) as tf.Tensor4D;
  }
  return customOp(([xi, fi, bi], save) => body(xi, fi, bi, save))(x, filter, bias) as tf.Tensor4D;
}

/**
 * Padded 2-D convolution (cross-correlation) with bias, NHWC input, filter `[kh, kw, in, out]`
 * (odd kh, kw; padding (k−1)/2 per side, circular or zeros), stride 1 or 2. Gradients w.r.t. the
 * input always work; w.r.t. filter and bias only with `paramGrads: true`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { conv2dPadded } from "./circular_conv.ts";
 * const x = tf.randomNormal([1, 8, 8, 2]) as tf.Tensor4D;
 * const f = tf.randomNormal([5, 5, 2, 3]) as tf.Tensor4D;
 * const y = conv2dPadded(x, f, tf.zeros([3]), { stride: 2 });
 * console.log(y.shape); // [1, 4, 4, 3]
 * ```
 */
export function conv2dPadded(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D,
  options: ConvOptions = {},
): tf.Tensor4D {
  const stride = options.stride ?? 1;
  const mode = options.padding ?? "circular";
  if (stride === 2 && (x.shape[1] % 2 !== 0 || x.shape[2] % 2 !== 0)) {
    throw new RangeError(`a stride-2 conv needs an even grid, got ${x.shape[1]}×${x.shape[2]}`);
  }
  if (useFFT(x, filter.shape, mode)) {
    return fftConvOp(x, filter, bias, stride, options.paramGrads ?? false, options.adjoint);
  }
  if (!options.paramGrads) {
    const op = customOp(([xi]) => ({
      value: convForward(xi as tf.Tensor4D, filter, bias, stride, mode),
      gradFunc: (dy) => convInputGrad(dy as tf.Tensor4D, filter, stride, mode, options.adjoint),
    }));
    return op(x) as tf.Tensor4D;
  }
  const op = customOp(([xi, fi, bi], save) => {
    const [kh, kw] = (fi as tf.Tensor4D).shape;
    // pad once: the padded input feeds both the forward conv and the filter gradient
    const xp = padInOp(xi as tf.Tensor4D, (kh - 1) / 2, (kw - 1) / 2, mode);
    save([xp, fi]);
    return {
      value: validConv(xp, fi as tf.Tensor4D, bi as tf.Tensor1D, stride),
      gradFunc: (dy, saved) => {
        const [xps, fs] = saved as [tf.Tensor4D, tf.Tensor4D];
        const d = dy as tf.Tensor4D;
        return [
          convInputGrad(d, fs, stride, mode),
          convFilterGrad(xps, d, fs.shape, stride),
          sumLeading(d),
        ];
      },
    };
  });
  return op(x, filter, bias) as tf.Tensor4D;
}
