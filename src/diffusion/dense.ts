/**
 * Dense layers of the U-Net (1×1 convolutions and linears, `y = x W + b` on the last axis) with
 * hand-written gradients: `dx = dy · Wᵀ` and, with `paramGrads`, `dW = (dyᵀ x)ᵀ`, `db = Σ dy`
 * (explicit transposes: a transposed-operand matMul is slow on wasm). On wasm a rank-4 input runs
 * as a 1×1 convolution on the conv engine. Kernels are `[in, out]`.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { customOp, sumLeading } from "./circular_conv.ts";
import { onWasm } from "./wasm_heap_kernels.ts";
import { convFilterGradWasm, convValidWasm } from "./wasm_conv_ops.ts";

/**
 * Dense layer `y = x W + b` on the last axis (x `[..., in]`, W `[in, out]`): the U-Net's 1×1
 * convs and linears. Input gradient `dy Wᵀ`; with `paramGrads`, `dW = (dyᵀ x)ᵀ`, `db = Σ dy`
 * (no transposed-A matMul, slow on wasm).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { dense } from "./dense.ts";
 * const y = dense(tf.ones([2, 3, 4]), tf.ones([4, 5]), tf.zeros([5]));
 * console.log(y.shape); // [2, 3, 5]
 * ```
 */
export function dense(
  x: tf.Tensor,
  kernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  paramGrads = false,
): tf.Tensor {
  if (x.rank === 4 && onWasm(x)) return dense1x1Wasm(x as tf.Tensor4D, kernel, bias, paramGrads);
  const [cin, cout] = kernel.shape;
  const lead = x.shape.slice(0, -1);
  const m = lead.reduce((a, b) => a * b, 1);
  // explicit transposes: a matMul with transposeB is ~10x slower on wasm (and tfjs's own
  // MatMul gradient uses it)
  if (!paramGrads) {
    const op = customOp(([xi]) => ({
      value: tf.tidy(() =>
        tf.add(tf.matMul(tf.reshape(xi, [m, cin]), kernel), bias).reshape([...lead, cout])
      ),
      gradFunc: (dy) =>
        tf.tidy(() =>
          tf.matMul(tf.reshape(dy, [m, cout]), tf.transpose(kernel)).reshape([...lead, cin])
        ),
    }));
    return op(x);
  }
  const op = customOp(([xi, ki, bi], save) => {
    save([xi, ki]);
    const x2 = tf.reshape(xi, [m, cin]);
    return {
      value: tf.add(tf.matMul(x2, ki as tf.Tensor2D), bi).reshape([...lead, cout]),
      gradFunc: (dy, saved) => {
        const [xs, ks] = saved;
        const d2 = tf.reshape(dy, [m, cout]);
        return [
          tf.matMul(d2, tf.transpose(ks)).reshape(xs.shape),
          tf.transpose(tf.matMul(tf.transpose(d2), tf.reshape(xs, [m, cin]))),
          sumLeading(d2),
        ];
      },
    };
  });
  return op(x, kernel, bias);
}

/**
 * {@link dense} of a rank-4 input on the wasm conv engine, as a 1×1 convolution: the rows of x's
 * first three axes are split over the engine's threads; `dx = conv(dy, Wᵀ)`, `dW` is the 1×1
 * filter gradient.
 */
function dense1x1Wasm(
  x: tf.Tensor4D,
  kernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  paramGrads: boolean,
): tf.Tensor4D {
  const [cin, cout] = kernel.shape;
  const inputGrad = (dy: tf.Tensor, k: tf.Tensor2D) =>
    tf.tidy(() =>
      convValidWasm(dy as tf.Tensor4D, tf.reshape(tf.transpose(k), [1, 1, cout, cin]), null, 1)
    );
  if (!paramGrads) {
    const op = customOp(([xi]) => ({
      value: tf.tidy(() =>
        convValidWasm(xi as tf.Tensor4D, tf.reshape(kernel, [1, 1, cin, cout]), bias, 1)
      ),
      gradFunc: (dy) => inputGrad(dy, kernel),
    }));
    return op(x) as tf.Tensor4D;
  }
  const op = customOp(([xi, ki, bi], save) => {
    save([xi, ki]);
    return {
      value: tf.tidy(() =>
        convValidWasm(
          xi as tf.Tensor4D,
          tf.reshape(ki, [1, 1, cin, cout]),
          bi as tf.Tensor1D,
          1,
        )
      ),
      gradFunc: (dy, saved) => {
        const [xs, ks] = saved as [tf.Tensor4D, tf.Tensor2D];
        return [
          inputGrad(dy, ks),
          tf.tidy(() =>
            tf.reshape(convFilterGradWasm(xs, dy as tf.Tensor4D, 1, 1, 1), [cin, cout])
          ),
          sumLeading(dy),
        ];
      },
    };
  });
  return op(x, kernel, bias) as tf.Tensor4D;
}
