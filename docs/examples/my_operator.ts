/**
 * An example of user observation operators for docs/user-operators.md: import this module (or
 * pass it as `--operator-module`) and the operators are registered by name, so that training,
 * `loadPrior`, `assimilate` and the Workers of the tasks all find them.
 * @module
 */

import { elementwiseOperator, functionOperator, registerOperator } from "@soad/soad";

/** tanh(2q): a saturating element-wise sensor (2 channels, like arctan3x). */
export const tanh2x = registerOperator(elementwiseOperator({
  name: "tanh2x",
  f: (v) => Math.tanh(2 * v),
  df: (v) => 2 / Math.cosh(2 * v) ** 2, // only the SDA baseline needs the derivative
}));

/** q1² + q2²: any function of a frame with a declared channel count (here 1). */
export const layerEnergy = registerOperator(functionOperator({
  name: "layer-energy",
  outChannels: 1,
  apply: (x) => {
    const n = x.length / 2;
    return Float64Array.from({ length: n }, (_, i) => x[i] ** 2 + x[n + i] ** 2);
  },
}));
