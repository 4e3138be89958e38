/**
 * Gradient checkpointing (rematerialisation) for tfjs: a block of layers runs as one custom op
 * that keeps only its inputs for the backward pass and recomputes its own forward there, so a
 * taped forward holds one tensor per block instead of every activation inside it. This is what
 * lets the paper-width U-Net's VJP and parameter gradients run at 256² inside the 4 GiB wasm32
 * heap of tfjs-wasm (the plain taped forward needs ≈ 4.8 GB there). Costs one extra forward of
 * each checkpointed block per backward pass; values and gradients are unchanged.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { customOp } from "./circular_conv.ts";

/** The part of tfjs's engine state a nested gradient computation must leave as it found it. */
interface TapeState {
  state: { activeTape: unknown; gradientDepth: number };
}

/**
 * Whether tfjs is recording a gradient tape now (inside `tf.grad`, `tf.variableGrads`, …), i.e.
 * whether a forward pass run now keeps tensors for a backward pass.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { tapeActive } from "@soad/soad/internal";
 * let inside = false;
 * tf.grad((x: tf.Tensor) => { inside = tapeActive(); return tf.sum(x); })(tf.ones([1]));
 * console.log(tapeActive(), inside); // false true
 * ```
 */
export function tapeActive(): boolean {
  return (tf.engine() as unknown as TapeState).state.gradientDepth > 0;
}

/**
 * Runs `block(acts)` as one checkpointed op: `acts` are the block's activation inputs (kept for
 * the backward), `params` the variables it reads (given gradients when they are on the tape, as
 * in `tf.variableGrads`; pass `[]` for input gradients only). `block` must be a pure function of
 * `acts` and `params` (it runs again in the backward pass) and must use the `acts` it is given.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { checkpointed } from "@soad/soad/internal";
 * const w = tf.variable(tf.scalar(3));
 * const f = (x: tf.Tensor) => checkpointed(([a]) => tf.mul(tf.square(a), w), [x], [w]);
 * const { grads } = tf.variableGrads(() => tf.sum(f(tf.tensor1d([1, 2]))) as tf.Scalar, [w]);
 * grads[w.name].print(); // 5 = 1² + 2²
 * console.log(tf.grad(f)(tf.tensor1d([1, 2])).arraySync()); // [6, 12] = 2·3·x
 * ```
 */
export function checkpointed(
  block: (acts: tf.Tensor[]) => tf.Tensor,
  acts: tf.Tensor[],
  params: tf.Variable[],
): tf.Tensor {
  const na = acts.length;
  const op = customOp((inputs, save) => {
    // inside a custom op nothing is taped: the block's intermediates die with this tidy
    save(inputs.slice(0, na));
    return {
      value: tf.tidy(() => block(inputs.slice(0, na))),
      gradFunc: (dy, saved) => rematerialise(block, saved, params, dy),
    };
  });
  return op(...acts, ...params);
}

/**
 * The backward of a checkpointed block: its forward again on the saved inputs, on a tape of its
 * own, and that tape's gradients (zeros for inputs it does not reach).
 */
function rematerialise(
  block: (acts: tf.Tensor[]) => tf.Tensor,
  saved: tf.Tensor[],
  params: tf.Variable[],
  dy: tf.Tensor,
): tf.Tensor[] {
  const engine = tf.engine();
  const state = engine as unknown as TapeState;
  // a gradient computation run during another one's backward pass replaces (and then clears)
  // the engine's active tape, which the outer pass still needs to free its saved tensors
  const outer = state.state.activeTape;
  try {
    return tf.tidy(() => {
      const xs = [...saved, ...params];
      const { value, grads } = engine.gradients(() => block(saved), xs, dy, true);
      value.dispose();
      return grads.map((g: tf.Tensor | null, i: number) => g ?? tf.zerosLike(xs[i]));
    });
  } finally {
    state.state.activeTape = outer;
  }
}
