/**
 * The U-Net's graph (spec §4.1) as one function of its parameters: time embedding, the down path
 * (circular conv, temporal block, residual blocks), the up path with skips, and the input checks
 * every entry point of the network shares. `unet.ts` holds the weights and calls it.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { InvalidArgumentError } from "../errors.ts";
import type { WindowShape } from "./denoiser.ts";
import type { ResolvedUNetConfig } from "./unet_config.ts";
import { checkpointed, tapeActive } from "./checkpoint.ts";
import { assertUNetMemory, planUNetMemory, type UNetPass } from "./memory_plan.ts";
import {
  channelLayerNorm,
  circConv,
  type Fold,
  type ParamSource,
  resBlock,
  temporalBlock,
  timeEmbedding,
  upsample2,
} from "./unet_layers.ts";

/** Options of {@link unetForward} (and `UNet.forward`). */
export interface ForwardOptions {
  /** Compute parameter gradients through this pass (training); default false. */
  paramGrads?: boolean;
  /** Called with every stage output (`temb`, `d0`…, `u{n-1}`…`u1`), NHWC / `[B, 64]`. */
  onStage?: (name: string, t: tf.Tensor) => void;
  /**
   * Gradient checkpointing of the residual and temporal blocks (`checkpoint.ts`): a taped pass
   * keeps only each block's input and recomputes the block in the backward pass (≈ one more
   * forward per backward, same values). Default `"auto"`: on when the plain pass would not fit
   * tfjs-wasm's 4 GiB heap (`planUNetMemory` of `memory_plan.ts`: one 9×256² window at the
   * paper's widths), off below.
   */
  checkpoint?: boolean | "auto";
}

/**
 * ε̂(z, t) of the U-Net with the given parameters: z `[B, L, C, H, W]`, t `[B]` (or `[1]`) →
 * `[B, L, C, H, W]`. `adjoint(name)` may supply a cached adjoint filter of a conv weight for the
 * input gradient (passes without parameter gradients only).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initUNetWeights, resolveUNetConfig } from "./unet_config.ts";
 * import { torchToTf } from "./unet_weights.ts";
 * import { unetForward } from "./unet_forward.ts";
 * const cfg = resolveUNetConfig({ channels: 2, widths: [4, 8], blocks: 1, kernel: 3, frames: 3 });
 * const vars = new Map<string, tf.Variable>();
 * for (const [k, w] of initUNetWeights(cfg, 0)) {
 *   const v = torchToTf(k, w);
 *   vars.set(k, tf.variable(tf.tensor(v.data, v.shape)));
 * }
 * const eps = unetForward(cfg, vars, undefined, tf.zeros([1, 3, 2, 8, 8]), tf.tensor1d([0.5]));
 * console.log(eps.shape); // [1, 3, 2, 8, 8]
 * ```
 */
export function unetForward(
  config: ResolvedUNetConfig,
  vars: Map<string, tf.Variable>,
  adjoint: ((name: string) => tf.Tensor4D | undefined) | undefined,
  z: tf.Tensor,
  t: tf.Tensor1D,
  options: ForwardOptions = {},
): tf.Tensor {
  if (z.rank !== 5 || z.shape[2] !== config.channels || t.rank !== 1) {
    throw new InvalidArgumentError(
      `forward needs z [B, L, ${config.channels}, H, W] and t [B], got [${z.shape}], [${t.shape}]`,
    );
  }
  const [B, L, C, H, W] = z.shape as WindowShape;
  const { widths, blocks } = config;
  const n = widths.length;
  const paramGrads = options.paramGrads ?? false;
  const p: ParamSource = {
    paramGrads,
    get: (k) => vars.get(k)!,
    adjoint: paramGrads ? undefined : adjoint,
  };
  const fold: Fold = { batch: B, frames: L };
  const stage = options.onStage ?? (() => {});
  // on wasm a pass that would overflow tfjs-wasm's heap is refused here (an emscripten abort
  // would leave the backend unusable); large taped passes checkpoint their blocks
  const pass: UNetPass = paramGrads ? "param" : tapeActive() ? "vjp" : "forward";
  const plan = tf.getBackend() === "wasm"
    ? assertUNetMemory(config, [B, L, C, H, W], pass, options.checkpoint ?? "auto")
    : planUNetMemory(config, [B, L, C, H, W], pass, options.checkpoint ?? "auto");
  const remat = plan.checkpoint;
  const params = (prefix: string): tf.Variable[] =>
    paramGrads ? [...vars].filter(([k]) => k.startsWith(`${prefix}.`)).map(([, v]) => v) : [];
  const res = (x: tf.Tensor4D, emb: tf.Tensor2D, prefix: string): tf.Tensor4D =>
    remat
      ? checkpointed(
        ([a, e]) => resBlock(a as tf.Tensor4D, e as tf.Tensor2D, p, prefix, fold),
        [x, emb],
        params(prefix),
      ) as tf.Tensor4D
      : resBlock(x, emb, p, prefix, fold);
  const temporal = (x: tf.Tensor4D, prefix: string): tf.Tensor4D =>
    remat
      ? (checkpointed(
        ([a]) => temporalBlock(a as tf.Tensor4D, p, prefix, fold),
        [x],
        params(prefix),
      ) as tf.Tensor4D)
      : temporalBlock(x, p, prefix, fold);
  return tf.tidy(() => {
    const tb = t.shape[0] === B ? t : tf.broadcastTo(t, [B]) as tf.Tensor1D;
    const emb = timeEmbedding(tb, p);
    stage("temb", emb);
    let x = tf.transpose(tf.reshape(z, [B * L, C, H, W]), [0, 2, 3, 1]) as tf.Tensor4D;
    const skips: tf.Tensor4D[] = [];
    for (let i = 0; i < n; i++) {
      x = circConv(x, p, `down.${i}.conv`, i === 0 ? 1 : 2);
      if (i > 0) x = temporal(x, `down.${i}.tb`);
      for (let j = 0; j < blocks[i]; j++) x = res(x, emb, `down.${i}.rb.${j}`);
      skips.push(x);
      stage(`d${i}`, x);
    }
    for (let i = n - 1; i >= 0; i--) {
      for (let j = 0; j < blocks[i]; j++) x = res(x, emb, `up.${i}.rb.${j}`);
      if (i > 0) {
        x = temporal(x, `up.${i}.tb`);
        x = channelLayerNorm(
          x,
          p.get(`up.${i}.norm.weight`),
          p.get(`up.${i}.norm.bias`),
          paramGrads,
        );
        x = upsample2(x);
      }
      x = circConv(x, p, `up.${i}.conv`);
      if (i > 0) {
        x = tf.add(x, skips[i - 1]);
        stage(`u${i}`, x);
      }
    }
    return tf.transpose(x, [0, 3, 1, 2]).reshape([B, L, C, H, W]);
  });
}

/**
 * Checks the arrays a denoising call gets against the network: the shape `[B, L, C, H, W]`, C =
 * the network's channels, a grid that the levels divide with a coarsest grid no smaller than the
 * kernel's half-width, z (and w) of the shape's size, t of length B or 1 and finite. Throws
 * {@link InvalidArgumentError} saying which.
 *
 * @example
 * ```ts
 * import { resolveUNetConfig } from "./unet_config.ts";
 * import { checkDenoiseInputs } from "./unet_forward.ts";
 * const cfg = resolveUNetConfig({ channels: 2, widths: [4, 8], blocks: 1, kernel: 3, frames: 3 });
 * checkDenoiseInputs(cfg, new Float32Array(384), [1, 3, 2, 8, 8], new Float32Array([0.5]));
 * ```
 */
export function checkDenoiseInputs(
  config: ResolvedUNetConfig,
  z: Float32Array,
  shape: WindowShape,
  t: Float32Array,
  w?: Float32Array,
): void {
  if (
    !Array.isArray(shape) || shape.length !== 5 ||
    !shape.every((d) => Number.isInteger(d) && d > 0)
  ) {
    throw new InvalidArgumentError(
      `shape must be [B, L, C, H, W] of positive integers, got [${shape}]`,
    );
  }
  const [B, , C, H, W] = shape;
  if (C !== config.channels) {
    throw new InvalidArgumentError(`z has ${C} channels, the network expects ${config.channels}`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (!(z instanceof Float32Array) || z.length !== size) {
    throw new InvalidArgumentError(
      `z must be a Float32Array of ${size} values for shape [${shape}]`,
    );
  }
  if (w !== undefined && (!(w instanceof Float32Array) || w.length !== size)) {
    throw new InvalidArgumentError(`w must be a Float32Array of ${size} values like z`);
  }
  const levels = config.widths.length;
  const f = 2 ** (levels - 1);
  const p = (config.kernel - 1) / 2;
  if (H % f !== 0 || W % f !== 0 || H / f < p || W / f < p) {
    throw new InvalidArgumentError(
      `grid ${H}×${W} must be divisible by ${f} with a coarsest grid of at least ${p}×${p}`,
    );
  }
  if (!(t instanceof Float32Array) || (t.length !== B && t.length !== 1)) {
    throw new InvalidArgumentError(`t must be a Float32Array of length B = ${B} or 1`);
  }
  if (!t.every(Number.isFinite)) throw new InvalidArgumentError("t must be finite");
}
