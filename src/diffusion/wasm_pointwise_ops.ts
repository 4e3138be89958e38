/**
 * tfjs-wasm kernels for the fused element-wise kernels of `../backend/wasm_pointwise.ts` (SiLU,
 * channel LayerNorm, their gradients, column sums) on the conv engine. Not differentiable: the
 * U-Net's custom ops call them in their bodies and gradient functions, on wasm only (`onWasm`).
 * @module
 */

import type * as tf from "@tensorflow/tfjs";
import {
  wasmColumnSum,
  wasmLayerNorm,
  wasmLayerNormGrad,
  wasmSilu,
  wasmSiluGrad,
} from "../backend/wasm_pointwise.ts";
import { runHeapKernel } from "./wasm_heap_kernels.ts";

/**
 * Whether the LayerNorm and column-sum kernels take a tensor with this last axis: a positive
 * multiple of 4 channels.
 *
 * @example
 * ```ts
 * import { fusedChannelsOk } from "./wasm_pointwise_ops.ts";
 * console.log(fusedChannelsOk(16), fusedChannelsOk(10)); // true false
 * ```
 */
export function fusedChannelsOk(c: number): boolean {
  return Number.isInteger(c) && c >= 4 && c % 4 === 0;
}

/**
 * SiLU `x · sigmoid(x)` in one pass on the conv engine.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { selectBackend } from "@soad/soad";
 * import { siluWasm } from "./wasm_pointwise_ops.ts";
 * await selectBackend({ prefer: "wasm", quiet: true });
 * siluWasm(tf.tensor1d([0, 1])).print(); // [0, 0.7311]
 * ```
 */
export function siluWasm<T extends tf.Tensor>(x: T): T {
  return runHeapKernel("SoadSilu", ([xi], b) => {
    const out = b.makeOutput(xi.shape, "float32");
    wasmSilu(b.typedArrayFromHeap(xi), b.typedArrayFromHeap(out));
    return out;
  }, [x]) as T;
}

/**
 * Gradient of SiLU: `dy · s · (1 + x·(1 − s))`, s = sigmoid(x), in one pass.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { selectBackend } from "@soad/soad";
 * import { siluGradWasm } from "./wasm_pointwise_ops.ts";
 * await selectBackend({ prefer: "wasm", quiet: true });
 * siluGradWasm(tf.tensor1d([0]), tf.tensor1d([2])).print(); // [1]
 * ```
 */
export function siluGradWasm<T extends tf.Tensor>(x: T, dy: tf.Tensor): T {
  return runHeapKernel("SoadSiluGrad", ([xi, di], b) => {
    const out = b.makeOutput(xi.shape, "float32");
    wasmSiluGrad(b.typedArrayFromHeap(xi), b.typedArrayFromHeap(di), b.typedArrayFromHeap(out));
    return out;
  }, [x, dy]) as T;
}

/**
 * Channel LayerNorm forward in one pass: `[y, xhat, r]` with y = x̂·w + b, x̂ the normalised
 * input and r `[..., 1]` the inverse standard deviation per row (eps 1e-5, biased variance).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { selectBackend } from "@soad/soad";
 * import { layerNormWasm } from "./wasm_pointwise_ops.ts";
 * await selectBackend({ prefer: "wasm", quiet: true });
 * layerNormWasm(tf.tensor2d([[1, 3, 1, 3]]), tf.ones([4]), tf.zeros([4]))[0].print(); // ≈ [[-1, 1, -1, 1]]
 * ```
 */
export function layerNormWasm(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor): tf.Tensor[] {
  return runHeapKernel("SoadLayerNorm", ([xi, wi, bi], b) => {
    const c = xi.shape[xi.shape.length - 1];
    const y = b.makeOutput(xi.shape, "float32"), xh = b.makeOutput(xi.shape, "float32");
    const r = b.makeOutput([...xi.shape.slice(0, -1), 1], "float32");
    wasmLayerNorm(
      b.typedArrayFromHeap(xi),
      b.typedArrayFromHeap(wi),
      b.typedArrayFromHeap(bi),
      c,
      b.typedArrayFromHeap(y),
      b.typedArrayFromHeap(xh),
      b.typedArrayFromHeap(r),
    );
    return [y, xh, r];
  }, [x, w, bias]) as tf.Tensor[];
}

/**
 * Channel LayerNorm gradient in one pass: `[dx]`, or with `paramGrads` `[dx, dw, db]`, from the
 * output cotangent, x̂ and r of {@link layerNormWasm} and the weight.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { selectBackend } from "@soad/soad";
 * import { layerNormGradWasm } from "./wasm_pointwise_ops.ts";
 * await selectBackend({ prefer: "wasm", quiet: true });
 * const [dx] = layerNormGradWasm(tf.ones([1, 4]), tf.tensor2d([[-1, 1, -1, 1]]), tf.ones([1, 1]),
 *   tf.ones([4]), false);
 * dx.print(); // [[0, 0, 0, 0]]
 * ```
 */
export function layerNormGradWasm(
  dy: tf.Tensor,
  xhat: tf.Tensor,
  r: tf.Tensor,
  w: tf.Tensor,
  paramGrads: boolean,
): tf.Tensor[] {
  return runHeapKernel(
    "SoadLayerNormGrad",
    ([di, hi, ri, wi], b, attrs) => {
      const c = di.shape[di.shape.length - 1];
      const dx = b.makeOutput(di.shape, "float32");
      const dw = attrs.paramGrads ? b.makeOutput([c], "float32") : null;
      const db = attrs.paramGrads ? b.makeOutput([c], "float32") : null;
      wasmLayerNormGrad(
        b.typedArrayFromHeap(di),
        b.typedArrayFromHeap(hi),
        b.typedArrayFromHeap(ri),
        b.typedArrayFromHeap(wi),
        c,
        b.typedArrayFromHeap(dx),
        dw ? b.typedArrayFromHeap(dw) : null,
        db ? b.typedArrayFromHeap(db) : null,
      );
      return dw && db ? [dx, dw, db] : [dx];
    },
    [dy, xhat, r, w],
    { paramGrads: paramGrads ? 1 : 0 },
  ) as tf.Tensor[];
}

/**
 * Sum over every axis but the last (`[..., c]` → `[c]`, c a multiple of 4) on the conv engine.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { selectBackend } from "@soad/soad";
 * import { columnSumWasm } from "./wasm_pointwise_ops.ts";
 * await selectBackend({ prefer: "wasm", quiet: true });
 * columnSumWasm(tf.ones([3, 4])).print(); // [3, 3, 3, 3]
 * ```
 */
export function columnSumWasm(x: tf.Tensor): tf.Tensor1D {
  return runHeapKernel("SoadColumnSum", ([xi], b) => {
    const c = xi.shape[xi.shape.length - 1];
    const out = b.makeOutput([c], "float32");
    wasmColumnSum(b.typedArrayFromHeap(xi), c, b.typedArrayFromHeap(out));
    return out;
  }, [x]) as tf.Tensor1D;
}
