/**
 * tfjs-wasm kernels that run the U-Net's convolutions on the conv engine of
 * `../backend/wasm_conv.ts` (hand-written SIMD, optionally two threads) instead of XNNPACK: the
 * valid convolution of a padded input (forward and input gradient) and its filter gradient.
 * Not differentiable: call them inside custom-op bodies and gradient functions, on wasm only
 * (`onWasm` of `wasm_heap_kernels.ts`).
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { wasmConvFilterGrad, wasmConvForward } from "../backend/wasm_conv.ts";
import { wasmCircularConvBackwardFFT, wasmCircularConvFFT } from "../backend/wasm_fft_conv.ts";

interface HeapBackend {
  makeOutput(shape: number[], dtype: "float32"): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

const FWD = "SoadConvValid";
const WGRAD = "SoadConvFilterGrad";
const FFT = "SoadConvCircularFFT";
const FFT_GRAD = "SoadConvCircularGradFFT";
let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({
    kernelName: FWD,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const b = backend as unknown as HeapBackend;
      const x = inputs.x as tf.TensorInfo, f = inputs.f as tf.TensorInfo;
      const bias = inputs.b as tf.TensorInfo | undefined;
      const stride = (attrs as unknown as { stride: number }).stride;
      const [n, hp, wp, cin] = x.shape;
      const [kh, kw, , cout] = f.shape;
      const ho = Math.floor((hp - kh) / stride) + 1, wo = Math.floor((wp - kw) / stride) + 1;
      const out = b.makeOutput([n, ho, wo, cout], "float32");
      // views after makeOutput: an allocation may grow (and detach) the heap
      wasmConvForward(
        b.typedArrayFromHeap(x),
        b.typedArrayFromHeap(f),
        bias ? b.typedArrayFromHeap(bias) : null,
        { n, hp, wp, cin, kh, kw, cout, stride },
        b.typedArrayFromHeap(out),
      );
      return out;
    },
  });
  tf.registerKernel({
    kernelName: WGRAD,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const b = backend as unknown as HeapBackend;
      const x = inputs.x as tf.TensorInfo, dy = inputs.dy as tf.TensorInfo;
      const { stride, kh, kw } = attrs as unknown as { stride: number; kh: number; kw: number };
      const [n, hp, wp, cin] = x.shape;
      const cout = dy.shape[3];
      const out = b.makeOutput([kh, kw, cin, cout], "float32");
      wasmConvFilterGrad(
        b.typedArrayFromHeap(x),
        b.typedArrayFromHeap(dy),
        { n, hp, wp, cin, kh, kw, cout, stride },
        b.typedArrayFromHeap(out),
      );
      return out;
    },
  });
  tf.registerKernel({
    kernelName: FFT,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend }) => {
      const b = backend as unknown as HeapBackend;
      const x = inputs.x as tf.TensorInfo, f = inputs.f as tf.TensorInfo;
      const bias = inputs.b as tf.TensorInfo | undefined;
      const [n, h, w, cin] = x.shape;
      const [kh, kw, , cout] = f.shape;
      const out = b.makeOutput([n, h, w, cout], "float32");
      wasmCircularConvFFT(
        b.typedArrayFromHeap(x),
        b.typedArrayFromHeap(f),
        bias ? b.typedArrayFromHeap(bias) : null,
        { n, h, w, cin, kh, kw, cout },
        b.typedArrayFromHeap(out),
      );
      return out;
    },
  });
  tf.registerKernel({
    kernelName: FFT_GRAD,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend }) => {
      const b = backend as unknown as HeapBackend;
      const dy = inputs.dy as tf.TensorInfo, adj = inputs.adj as tf.TensorInfo;
      const x = inputs.x as tf.TensorInfo | undefined;
      const [kh, kw, , cin] = adj.shape;
      const [n, h, w, cout] = dy.shape;
      const dx = b.makeOutput([n, h, w, cin], "float32");
      const dg = x ? b.makeOutput([kh, kw, cin, cout], "float32") : null;
      const db = x ? b.makeOutput([cout], "float32") : null;
      wasmCircularConvBackwardFFT(
        b.typedArrayFromHeap(dy),
        { n, h, w, cin, kh, kw, cout },
        b.typedArrayFromHeap(adj),
        x ? b.typedArrayFromHeap(x) : null,
        b.typedArrayFromHeap(dx),
        dg ? b.typedArrayFromHeap(dg) : null,
        db ? b.typedArrayFromHeap(db) : null,
      );
      return dg && db ? [dx, dg, db] : [dx];
    },
  });
}

/**
 * Valid convolution (cross-correlation) plus optional bias of an already padded NHWC input on the
 * conv engine: x `[n, hp, wp, cin]`, filter `[kh, kw, cin, cout]` → `[n, ho, wo, cout]`, same values
 * as `tf.conv2d(x, filter, stride, "valid")` (+ bias) up to float rounding.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { selectBackend } from "@soad/soad";
 * import { convValidWasm } from "./wasm_conv_ops.ts";
 * await selectBackend({ prefer: "wasm", quiet: true });
 * convValidWasm(tf.ones([1, 3, 3, 1]), tf.ones([3, 3, 1, 2]), null, 1).print(); // [[[[9, 9]]]]
 * ```
 */
export function convValidWasm(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D | null,
  stride: number,
): tf.Tensor4D {
  register();
  const inputs: tf.NamedTensorMap = bias ? { x, f: filter, b: bias } : { x, f: filter };
  return tf.engine().runKernel(FWD, inputs, { stride }) as tf.Tensor4D;
}

/**
 * Filter gradient of {@link convValidWasm}: `dW[u, v, i, o] = Σ x[b, s·y + u, s·x + v, i] ·
 * dy[b, y, x, o]` from the padded input x and the output cotangent dy, `[kh, kw, cin, cout]`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { selectBackend } from "@soad/soad";
 * import { convFilterGradWasm } from "./wasm_conv_ops.ts";
 * await selectBackend({ prefer: "wasm", quiet: true });
 * console.log(convFilterGradWasm(tf.ones([1, 3, 3, 1]), tf.ones([1, 1, 1, 2]), 3, 3, 1).shape);
 * // [3, 3, 1, 2]
 * ```
 */
export function convFilterGradWasm(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  kh: number,
  kw: number,
  stride: number,
): tf.Tensor4D {
  register();
  return tf.engine().runKernel(WGRAD, { x, dy }, { stride, kh, kw }) as tf.Tensor4D;
}

/**
 * Circular "same" convolution (cross-correlation wrapping on both axes) plus optional bias of an
 * unpadded NHWC input by the FFT on the conv engine (`../backend/wasm_fft_conv.ts`): x
 * `[n, h, w, cin]` (power-of-two h, w), filter `[kh, kw, cin, cout]` (odd sides) →
 * `[n, h, w, cout]`, equal to circular padding then {@link convValidWasm} up to float rounding.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { selectBackend } from "@soad/soad";
 * import { convCircularFFTWasm } from "./wasm_conv_ops.ts";
 * await selectBackend({ prefer: "wasm", quiet: true });
 * console.log(convCircularFFTWasm(tf.ones([1, 4, 4, 1]), tf.ones([3, 3, 1, 2]), null).shape);
 * // [1, 4, 4, 2], every value 9
 * ```
 */
export function convCircularFFTWasm(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D | null,
): tf.Tensor4D {
  register();
  const inputs: tf.NamedTensorMap = bias ? { x, f: filter, b: bias } : { x, f: filter };
  return tf.engine().runKernel(FFT, inputs, {}) as tf.Tensor4D;
}

/**
 * The backward of {@link convCircularFFTWasm} in one pass (the cotangent's spectrum is taken
 * once): from dy and the adjoint filter `[kh, kw, cout, cin]` `[dx]`, and given the forward's
 * input x also the filter and bias gradients `[dx, dFilter, dBias]`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { selectBackend } from "@soad/soad";
 * import { convCircularGradFFTWasm } from "./wasm_conv_ops.ts";
 * await selectBackend({ prefer: "wasm", quiet: true });
 * const g = convCircularGradFFTWasm(tf.ones([1, 4, 4, 2]), tf.ones([3, 3, 2, 1]), tf.ones([1, 4, 4, 1]));
 * console.log(g.map((t) => t.shape)); // [[1, 4, 4, 1], [3, 3, 1, 2], [2]]
 * ```
 */
export function convCircularGradFFTWasm(
  dy: tf.Tensor4D,
  adjoint: tf.Tensor4D,
  x: tf.Tensor4D | null,
): tf.Tensor[] {
  register();
  const inputs: tf.NamedTensorMap = x ? { dy, adj: adjoint, x } : { dy, adj: adjoint };
  const out = tf.engine().runKernel(FFT_GRAD, inputs, {}) as tf.Tensor | tf.Tensor[];
  return Array.isArray(out) ? out : [out];
}
