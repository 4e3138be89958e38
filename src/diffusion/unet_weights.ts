/**
 * Conversion of U-Net parameters between PyTorch layouts (the state dict of
 * `shared/peers/unet_torch.py`) and the tfjs layouts the layers use, done in plain JavaScript so
 * that no tensor has to be read synchronously:
 * - k×k Conv2d `[out, in, kh, kw]` → conv filter `[kh, kw, in, out]`;
 * - 1×1 Conv2d of a residual block (`*.rb.*.conv2`) `[out, in, 1, 1]` → dense `[in, out]`;
 * - temporal Conv1d k3 `[out, in, 3]` → conv filter `[3, 1, in, out]` (over (frames, pixels));
 * - temporal Conv1d k1 `[out, in, 1]` and Linear `[out, in]` → dense `[in, out]`;
 * - vectors unchanged.
 * @module
 */

import type { NamedTensor } from "../io/safetensors.ts";
import { InvalidArgumentError } from "../errors.ts";

/**
 * Permutes the axes of a row-major array: output axis i is input axis `perm[i]`.
 *
 * @example
 * ```ts
 * import { permuteAxes } from "./unet_weights.ts";
 * console.log(permuteAxes(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3], [1, 0]));
 * // Float32Array [1, 4, 2, 5, 3, 6]
 * ```
 */
export function permuteAxes(data: Float32Array, shape: number[], perm: number[]): Float32Array {
  const nd = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(nd);
  let s = 1;
  for (let i = nd - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i];
  }
  const stridesByOut = perm.map((p) => inStrides[p]);
  const out = new Float32Array(data.length);
  const idx = new Array<number>(nd).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src];
    for (let a = nd - 1; a >= 0; a--) {
      idx[a]++;
      src += stridesByOut[a];
      if (idx[a] < outShape[a]) break;
      src -= stridesByOut[a] * outShape[a];
      idx[a] = 0;
    }
  }
  return out;
}

/** How a parameter is laid out for tfjs. */
type Kind = "vector" | "linear" | "conv" | "dense2d" | "conv1d" | "dense1d";

function kindOf(name: string, torchShape: number[]): Kind {
  switch (torchShape.length) {
    case 1:
      return "vector";
    case 2:
      return "linear";
    case 3:
      return name.endsWith(".conv1.weight") ? "conv1d" : "dense1d";
    case 4:
      return /\.rb\.\d+\.conv2\.weight$/.test(name) ? "dense2d" : "conv";
    default:
      throw new InvalidArgumentError(
        `parameter "${name}" has unsupported rank ${torchShape.length}`,
      );
  }
}

/**
 * Converts one parameter from its PyTorch layout to the tfjs layout the layers use.
 *
 * @example
 * ```ts
 * import { torchToTf } from "./unet_weights.ts";
 * const t = torchToTf("temb.fc1.weight", { shape: [2, 3], data: new Float32Array(6) });
 * console.log(t.shape); // [3, 2]
 * ```
 */
export function torchToTf(name: string, t: NamedTensor): NamedTensor {
  const s = t.shape;
  switch (kindOf(name, s)) {
    case "vector":
      return { shape: [...s], data: t.data.slice() };
    case "linear":
      return { shape: [s[1], s[0]], data: permuteAxes(t.data, s, [1, 0]) };
    case "conv":
      return { shape: [s[2], s[3], s[1], s[0]], data: permuteAxes(t.data, s, [2, 3, 1, 0]) };
    case "dense2d":
      return { shape: [s[1], s[0]], data: permuteAxes(t.data, [s[0], s[1]], [1, 0]) };
    case "conv1d":
      return { shape: [s[2], 1, s[1], s[0]], data: permuteAxes(t.data, s, [2, 1, 0]) };
    case "dense1d":
      return { shape: [s[1], s[0]], data: permuteAxes(t.data, [s[0], s[1]], [1, 0]) };
  }
}

/**
 * Converts one parameter (or its gradient) from tfjs layout back to PyTorch layout with the
 * given PyTorch shape.
 *
 * @example
 * ```ts
 * import { tfToTorch } from "./unet_weights.ts";
 * const t = tfToTorch("temb.fc1.weight", new Float32Array(6), [2, 3]);
 * console.log(t.shape); // [2, 3]
 * ```
 */
export function tfToTorch(name: string, data: Float32Array, torchShape: number[]): NamedTensor {
  const s = torchShape;
  const shape = [...s];
  switch (kindOf(name, s)) {
    case "vector":
      return { shape, data: data.slice() };
    case "linear":
    case "dense2d":
    case "dense1d":
      return { shape, data: permuteAxes(data, [s[1], s[0]], [1, 0]) };
    case "conv":
      return { shape, data: permuteAxes(data, [s[2], s[3], s[1], s[0]], [3, 2, 0, 1]) };
    case "conv1d":
      return { shape, data: permuteAxes(data, [s[2], s[1], s[0]], [2, 1, 0]) };
  }
}

/**
 * Checks a set of PyTorch-named weights against a network's parameter shapes: no name missing,
 * none unexpected, every shape and size as expected, every value finite. Throws
 * {@link InvalidArgumentError} listing all that is wrong.
 *
 * @example
 * ```ts
 * import { initUNetWeights, unetParamShapes } from "./unet_config.ts";
 * import { checkUNetWeights } from "./unet_weights.ts";
 * const cfg = { channels: 2, widths: [4], blocks: 1, kernel: 3, frames: 3 };
 * checkUNetWeights(unetParamShapes(cfg), initUNetWeights(cfg, 0)); // passes
 * ```
 */
export function checkUNetWeights(
  shapes: Map<string, number[]>,
  weights: Map<string, NamedTensor>,
): void {
  const missing = [...shapes.keys()].filter((k) => !weights.has(k));
  const unexpected = [...weights.keys()].filter((k) => !shapes.has(k));
  const bad: string[] = [];
  for (const [name, t] of weights) {
    const s = shapes.get(name);
    if (!s) continue;
    const size = s.reduce((a, b) => a * b, 1);
    if (t.shape.length !== s.length || t.shape.some((d, i) => d !== s[i])) {
      bad.push(`${name}: shape [${t.shape}], expected [${s}]`);
    } else if (t.data.length !== size) {
      bad.push(`${name}: ${t.data.length} values, expected ${size}`);
    } else {
      const i = t.data.findIndex((v) => !Number.isFinite(v));
      if (i >= 0) bad.push(`${name}: value ${t.data[i]} at index ${i} is not finite`);
    }
  }
  if (missing.length || unexpected.length || bad.length) {
    const parts = [];
    if (missing.length) parts.push(`missing ${missing.length}: ${missing.join(", ")}`);
    if (unexpected.length) {
      parts.push(`unexpected ${unexpected.length}: ${unexpected.join(", ")}`);
    }
    if (bad.length) parts.push(`wrong shape or values: ${bad.join("; ")}`);
    throw new InvalidArgumentError(
      `UNet weights do not match the config: ${parts.join(" | ")}. For a prior's weights use ` +
        `loadPrior(path) (it reads the configuration and metadata), or ` +
        `createUNet(unetConfigFromWeights(weights), { weights })`,
    );
  }
}
