/**
 * Small data-movement kernels for the tfjs wasm backend, written in JavaScript on views of the
 * wasm heap (no copies out of it). tfjs-wasm's own Slice and SplitV first copy their whole input
 * out of the heap (`readSync`), and its Reverse, Sum over leading axes and GatherV2 are slow
 * generic loops; these replace them where the U-Net's custom ops need them. None of them is
 * differentiable: call them inside custom-op bodies and gradient functions only, and only when
 * {@link onWasm} is true. Results are bit-identical to the tfjs ops they replace, except
 * {@link sumLeadingWasm}, which sums in float64 and rounds once (closer to the exact sum).
 * @module
 */

import * as tf from "@tensorflow/tfjs";

/** The part of tfjs-wasm's backend heap kernels use. */
export interface WasmHeapBackend {
  /** A new output tensor on the heap. */
  makeOutput(shape: number[], dtype: "float32"): tf.TensorInfo;
  /** A view of a tensor's data on the heap (take views after the last `makeOutput`). */
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

/** The body of a heap kernel: its inputs in order, the backend, the attributes. */
export type HeapKernelBody = (
  inputs: tf.TensorInfo[],
  backend: WasmHeapBackend,
  attrs: Record<string, number>,
) => tf.TensorInfo | tf.TensorInfo[];

const registered = new Set<string>();

/**
 * Runs the wasm kernel `name` on `inputs` (passed to `body` in order), registering it with `body`
 * on first use; returns its output(s).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { selectBackend } from "@soad/soad";
 * import { runHeapKernel } from "./wasm_heap_kernels.ts";
 * await selectBackend({ prefer: "wasm", quiet: true });
 * const twice = runHeapKernel("Twice", ([x], b) => {
 *   const out = b.makeOutput(x.shape, "float32");
 *   const src = b.typedArrayFromHeap(x), dst = b.typedArrayFromHeap(out);
 *   for (let i = 0; i < src.length; i++) dst[i] = 2 * src[i];
 *   return out;
 * }, [tf.tensor1d([1, 2])]);
 * (twice as tf.Tensor).print(); // [2, 4]
 * ```
 */
export function runHeapKernel(
  name: string,
  body: HeapKernelBody,
  inputs: tf.Tensor[],
  attrs: Record<string, number> = {},
): tf.Tensor | tf.Tensor[] {
  if (!registered.has(name)) {
    registered.add(name);
    tf.registerKernel({
      kernelName: name,
      backendName: "wasm",
      kernelFunc: ({ inputs: ins, backend, attrs }) =>
        body(
          Object.keys(ins).map((_, i) => ins[`i${i}`] as tf.TensorInfo),
          backend as unknown as WasmHeapBackend,
          attrs as unknown as Record<string, number>,
        ),
    });
  }
  const named: tf.NamedTensorMap = {};
  inputs.forEach((t, i) => named[`i${i}`] = t);
  return tf.engine().runKernel(name, named, attrs as unknown as tf.NamedAttrMap) as
    | tf.Tensor
    | tf.Tensor[];
}

/** {@link runHeapKernel} of one input and one output. */
function run(
  name: string,
  body: (x: tf.TensorInfo, b: WasmHeapBackend, attrs: Record<string, number>) => tf.TensorInfo,
  x: tf.Tensor,
  attrs: Record<string, number>,
): tf.Tensor {
  return runHeapKernel(name, ([xi], b, a) => body(xi, b, a), [x], attrs) as tf.Tensor;
}

/**
 * Whether `x` can go through these kernels: the active backend is wasm and x is float32.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { onWasm } from "./wasm_heap_kernels.ts";
 * console.log(typeof onWasm(tf.zeros([1]))); // "boolean"
 * ```
 */
export function onWasm(x: tf.Tensor): boolean {
  return x.dtype === "float32" && tf.getBackend() === "wasm";
}

/**
 * Circular padding of an NHWC tensor by `ph` rows and `pw` columns per side (`ph ≤ H`,
 * `pw ≤ W`), as row copies on the heap. Same values as `padNHWC(x, ph, pw, "circular")`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { selectBackend } from "@soad/soad";
 * import { circularPadWasm } from "./wasm_heap_kernels.ts";
 * await selectBackend({ prefer: "wasm", quiet: true });
 * circularPadWasm(tf.tensor4d([1, 2, 3], [1, 1, 3, 1]), 0, 1).print(); // 3 1 2 3 1
 * ```
 */
export function circularPadWasm(x: tf.Tensor4D, ph: number, pw: number): tf.Tensor4D {
  return run(
    "SoadCircularPadNHWC",
    (xi, b, { ph, pw }) => {
      const [n, h, w, c] = xi.shape;
      const hp = h + 2 * ph, wp = w + 2 * pw;
      const out = b.makeOutput([n, hp, wp, c], "float32");
      // views after makeOutput: an allocation may grow (and detach) the heap
      const src = b.typedArrayFromHeap(xi);
      const dst = b.typedArrayFromHeap(out);
      const rowIn = w * c, rowOut = wp * c, pc = pw * c;
      for (let i = 0; i < n; i++) {
        for (let r = 0; r < hp; r++) {
          const s0 = (i * h + (r - ph + h) % h) * rowIn;
          const d0 = (i * hp + r) * rowOut;
          if (pc > 0) dst.set(src.subarray(s0 + rowIn - pc, s0 + rowIn), d0);
          dst.set(src.subarray(s0, s0 + rowIn), d0 + pc);
          if (pc > 0) dst.set(src.subarray(s0, s0 + pc), d0 + pc + rowIn);
        }
      }
      return out;
    },
    x,
    { ph, pw },
  ) as tf.Tensor4D;
}

/**
 * Every second row and column from the first, `[n, 2h, 2w, c]` → `[n, h, w, c]` (the stride-2
 * subsampling; tfjs-wasm's StridedSlice is a slow generic loop), as pixel copies on the heap.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { selectBackend } from "@soad/soad";
 * import { subsample2Wasm } from "./wasm_heap_kernels.ts";
 * await selectBackend({ prefer: "wasm", quiet: true });
 * subsample2Wasm(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1])).print(); // [[[[1]]]]
 * ```
 */
export function subsample2Wasm(x: tf.Tensor4D): tf.Tensor4D {
  return run(
    "SoadSubsample2",
    (xi, b) => {
      const [n, h2, w2, c] = xi.shape;
      const h = h2 >> 1, w = w2 >> 1;
      const out = b.makeOutput([n, h, w, c], "float32");
      const src = b.typedArrayFromHeap(xi), dst = b.typedArrayFromHeap(out);
      for (let i = 0; i < n; i++) {
        for (let r = 0; r < h; r++) {
          const s0 = (i * h2 + 2 * r) * w2 * c, d0 = (i * h + r) * w * c;
          for (let q = 0; q < w; q++) {
            dst.set(src.subarray(s0 + 2 * q * c, s0 + 2 * q * c + c), d0 + q * c);
          }
        }
      }
      return out;
    },
    x,
    {},
  ) as tf.Tensor4D;
}

/**
 * The adjoint filter `[kh, kw, out, in]` of a filter `[kh, kw, in, out]`: flipped spatially, in
 * and out channels swapped (same values as `transpose(reverse(f, [0, 1]), [0, 1, 3, 2])`).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { selectBackend } from "@soad/soad";
 * import { adjointFilterWasm } from "./wasm_heap_kernels.ts";
 * await selectBackend({ prefer: "wasm", quiet: true });
 * console.log(adjointFilterWasm(tf.zeros([5, 5, 2, 3]) as tf.Tensor4D).shape); // [5, 5, 3, 2]
 * ```
 */
export function adjointFilterWasm(f: tf.Tensor4D): tf.Tensor4D {
  return run(
    "SoadAdjointFilter",
    (fi, b) => {
      const [kh, kw, cin, cout] = fi.shape;
      const out = b.makeOutput([kh, kw, cout, cin], "float32");
      const src = b.typedArrayFromHeap(fi);
      const dst = b.typedArrayFromHeap(out);
      const taps = kh * kw, blk = cin * cout;
      for (let t = 0; t < taps; t++) {
        const s0 = (taps - 1 - t) * blk, d0 = t * blk;
        for (let i = 0; i < cin; i++) {
          for (let o = 0; o < cout; o++) dst[d0 + o * cin + i] = src[s0 + i * cout + o];
        }
      }
      return out;
    },
    f,
    {},
  ) as tf.Tensor4D;
}

/**
 * Sum over every axis but the last: `[..., c]` → `[c]` (a bias gradient), accumulated in
 * float64 and rounded once.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { selectBackend } from "@soad/soad";
 * import { sumLeadingWasm } from "./wasm_heap_kernels.ts";
 * await selectBackend({ prefer: "wasm", quiet: true });
 * sumLeadingWasm(tf.ones([2, 3, 4])).print(); // [6, 6, 6, 6]
 * ```
 */
export function sumLeadingWasm(x: tf.Tensor): tf.Tensor1D {
  return run(
    "SoadSumLeading",
    (xi, b) => {
      const c = xi.shape[xi.shape.length - 1];
      const out = b.makeOutput([c], "float32");
      const src = b.typedArrayFromHeap(xi);
      const dst = b.typedArrayFromHeap(out);
      const acc = new Float64Array(c);
      for (let k = 0; k < src.length; k += c) {
        for (let j = 0; j < c; j++) acc[j] += src[k + j];
      }
      dst.set(acc);
      return out;
    },
    x,
    {},
  ) as tf.Tensor1D;
}
