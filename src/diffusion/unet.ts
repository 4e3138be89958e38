/**
 * The SOAD/SDA denoising U-Net (spec §4.1) on tfjs: ε̂(z_t, t) for windows `[B, L, C, H, W]`, its
 * VJP w.r.t. z for the sampler, and parameter gradients for a trainer. Weights use the PyTorch
 * names and layouts of `shared/peers/unet_torch.py`; internally they are tf.Variables in tfjs
 * layouts. Call `selectBackend()` first: the weights live on the backend active at creation.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { InvalidArgumentError } from "../errors.ts";
import type { NamedTensor } from "../io/safetensors.ts";
import { readTensor } from "../backend/select.ts";
import { byWindowChunks, DEFAULT_CHUNK_FRAME_PIXELS, windowsPerChunk } from "./chunks.ts";
import type { Denoiser, DenoiseVjpResult, WindowShape } from "./denoiser.ts";
import {
  initUNetWeights,
  type ResolvedUNetConfig,
  resolveUNetConfig,
  type UNetConfig,
  unetParamShapes,
} from "./unet_config.ts";
import { checkUNetWeights, tfToTorch, torchToTf } from "./unet_weights.ts";
import { adjointFilter } from "./circular_conv.ts";
import { checkDenoiseInputs, type ForwardOptions, unetForward } from "./unet_forward.ts";

/** Result of {@link UNet.denoiseParamVjp}. */
export interface ParamVjpResult {
  /** ε̂(z, t), `[B, L, C, H, W]`. */
  eps: Float32Array;
  /** ∂/∂θ Σ w ⊙ ε̂ by PyTorch name, in PyTorch layout. */
  grads: Map<string, NamedTensor>;
}

/** The U-Net. Create with {@link createUNet}; call `dispose()` when done. */
export interface UNet extends Denoiser {
  /** The validated configuration. */
  readonly config: ResolvedUNetConfig;
  /** Number of trainable parameters. */
  readonly paramCount: number;
  /** The parameters as tf.Variables in tfjs layout, by PyTorch name (for optimizers). */
  readonly variables: Map<string, tf.Variable>;
  /** Replaces all weights (PyTorch names and layouts); throws naming missing/unexpected/misshaped. */
  setWeights(tensors: Map<string, NamedTensor> | Record<string, NamedTensor>): void;
  /** The weights in PyTorch names and layouts. */
  getWeights(): Promise<Map<string, NamedTensor>>;
  /** Tensor-level forward: z `[B, L, C, H, W]`, t `[B]` → ε̂ `[B, L, C, H, W]` (not disposed). */
  forward(z: tf.Tensor, t: tf.Tensor1D, options?: ForwardOptions): tf.Tensor;
  /** Stage outputs `temb` `[B, 64]`, `d_i`, `u_i` `[B, L, c, h, w]` (debugging; fixture names). */
  stages(z: Float32Array, shape: WindowShape, t: Float32Array): Promise<Map<string, NamedTensor>>;
  /** ε̂ and the parameter gradients of Σ w ⊙ ε̂ (the training backward). */
  denoiseParamVjp(
    z: Float32Array,
    shape: WindowShape,
    t: Float32Array,
    w: Float32Array,
  ): Promise<ParamVjpResult>;
  /** Frees the weights. */
  dispose(): void;
}

/** Options of {@link createUNet}. */
export interface CreateUNetOptions {
  /** Seed of the PyTorch-like random init (default 0). */
  seed?: number;
  /** Initial weights (PyTorch names and layouts) instead of the random init. */
  weights?: Map<string, NamedTensor> | Record<string, NamedTensor>;
  /**
   * `denoise`/`denoiseVjp`/`denoiseParamVjp` run large batches in chunks of whole windows of at
   * most this many frames × pixels (default {@link DEFAULT_CHUNK_FRAME_PIXELS}: 2 windows of
   * 9×64²).
   */
  chunkFramePixels?: number;
}

class UNetImpl implements UNet {
  readonly config: ResolvedUNetConfig;
  readonly paramCount: number;
  readonly variables: Map<string, tf.Variable> = new Map();
  readonly #shapes: Map<string, number[]>;
  /** Adjoint conv filters for the input gradient, valid while the variable's dataId is the same. */
  readonly #adjoints = new Map<string, { dataId: unknown; filter: tf.Tensor4D }>();
  #disposed = false;
  readonly #chunk: number;

  constructor(config: ResolvedUNetConfig, weights: Map<string, NamedTensor>, chunk: number) {
    this.config = config;
    this.#chunk = chunk;
    this.#shapes = unetParamShapes(config);
    let n = 0;
    for (const s of this.#shapes.values()) n += s.reduce((a, b) => a * b, 1);
    this.paramCount = n;
    this.#check(weights);
    for (const [name, t] of weights) {
      const v = torchToTf(name, t);
      const init = tf.tensor(v.data, v.shape, "float32");
      this.variables.set(name, tf.variable(init, true));
      init.dispose();
    }
  }

  #alive(): void {
    if (this.#disposed) throw new InvalidArgumentError("this UNet has been disposed");
  }

  #check(weights: Map<string, NamedTensor>): void {
    checkUNetWeights(this.#shapes, weights);
  }

  setWeights(tensors: Map<string, NamedTensor> | Record<string, NamedTensor>): void {
    this.#alive();
    const m = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
    this.#check(m);
    for (const [name, t] of m) {
      const v = torchToTf(name, t);
      tf.tidy(() => this.variables.get(name)!.assign(tf.tensor(v.data, v.shape, "float32")));
    }
  }

  async getWeights(): Promise<Map<string, NamedTensor>> {
    this.#alive();
    const out = new Map<string, NamedTensor>();
    for (const [name, s] of this.#shapes) {
      out.set(name, tfToTorch(name, await readTensor(this.variables.get(name)!), s));
    }
    return out;
  }

  #adjoint(name: string): tf.Tensor4D | undefined {
    const v = this.variables.get(name)!;
    if (v.rank !== 4) return undefined;
    const hit = this.#adjoints.get(name);
    if (hit && hit.dataId === v.dataId) return hit.filter;
    hit?.filter.dispose();
    const filter = tf.keep(adjointFilter(v as tf.Tensor4D));
    this.#adjoints.set(name, { dataId: v.dataId, filter });
    return filter;
  }

  forward(z: tf.Tensor, t: tf.Tensor1D, options: ForwardOptions = {}): tf.Tensor {
    this.#alive();
    return unetForward(this.config, this.variables, (k) => this.#adjoint(k), z, t, options);
  }

  #inputs(z: Float32Array, shape: WindowShape, t: Float32Array, w?: Float32Array): void {
    this.#alive();
    checkDenoiseInputs(this.config, z, shape, t, w);
  }

  async denoise(z: Float32Array, shape: WindowShape, t: Float32Array): Promise<Float32Array> {
    this.#inputs(z, shape, t);
    const [eps] = await byWindowChunks(shape, t, this.#chunk, [z], async ([zc], sc, tc) => [
      await this.#denoiseChunk(zc, sc, tc),
    ]);
    return eps;
  }

  async #denoiseChunk(z: Float32Array, shape: WindowShape, t: Float32Array): Promise<Float32Array> {
    const out = tf.tidy(() => this.forward(tf.tensor(z, shape), tf.tensor1d(t)));
    try {
      return await readTensor(out);
    } finally {
      out.dispose();
    }
  }

  async denoiseVjp(
    z: Float32Array,
    shape: WindowShape,
    t: Float32Array,
    w: Float32Array,
  ): Promise<DenoiseVjpResult> {
    this.#inputs(z, shape, t, w);
    const [eps, grad] = await byWindowChunks(shape, t, this.#chunk, [z, w], async (a, sc, tc) => {
      const r = await this.#denoiseVjpChunk(a[0], sc, tc, a[1]);
      return [r.eps, r.grad];
    });
    return { eps, grad };
  }

  async #denoiseVjpChunk(
    z: Float32Array,
    shape: WindowShape,
    t: Float32Array,
    w: Float32Array,
  ): Promise<DenoiseVjpResult> {
    let eps: tf.Tensor | undefined;
    const res = tf.tidy(() => {
      const wT = tf.tensor(w, shape);
      const tT = tf.tensor1d(t);
      const f = (zz: tf.Tensor): tf.Scalar => {
        const e = this.forward(zz, tT);
        eps = tf.keep(e);
        return tf.sum(tf.mul(e, wT));
      };
      return tf.grad(f)(tf.tensor(z, shape));
    });
    try {
      return { eps: await readTensor(eps!), grad: await readTensor(res) };
    } finally {
      res.dispose();
      eps?.dispose();
    }
  }

  async denoiseParamVjp(
    z: Float32Array,
    shape: WindowShape,
    t: Float32Array,
    w: Float32Array,
  ): Promise<ParamVjpResult> {
    this.#inputs(z, shape, t, w);
    // in chunks of whole windows, like denoiseVjp (a training pass keeps every activation: the
    // 4 GiB wasm32 heap holds about 8 windows of 9×64² at the paper's widths); the gradients add
    const [B, L, C, H, W] = shape;
    const k = windowsPerChunk(shape, this.#chunk);
    if (k >= B) return await this.#denoiseParamVjpChunk(z, shape, t, w);
    const per = L * C * H * W, eps = new Float32Array(z.length);
    let grads: Map<string, NamedTensor> | undefined;
    for (let b0 = 0; b0 < B; b0 += k) {
      const b1 = Math.min(B, b0 + k);
      const r = await this.#denoiseParamVjpChunk(
        z.subarray(b0 * per, b1 * per),
        [b1 - b0, L, C, H, W],
        t.length === 1 ? t : t.subarray(b0, b1),
        w.subarray(b0 * per, b1 * per),
      );
      eps.set(r.eps, b0 * per);
      if (!grads) grads = r.grads;
      else {
        for (const [name, g] of r.grads) {
          const acc = grads.get(name)!.data;
          for (let i = 0; i < acc.length; i++) acc[i] += g.data[i];
        }
      }
    }
    return { eps, grads: grads! };
  }

  async #denoiseParamVjpChunk(
    z: Float32Array,
    shape: WindowShape,
    t: Float32Array,
    w: Float32Array,
  ): Promise<ParamVjpResult> {
    let eps: tf.Tensor | undefined;
    const names = [...this.#shapes.keys()];
    const grads = tf.tidy(() => {
      const wT = tf.tensor(w, shape);
      const tT = tf.tensor1d(t);
      const zT = tf.tensor(z, shape);
      const f = (): tf.Scalar => {
        const e = this.forward(zT, tT, { paramGrads: true });
        eps = tf.keep(e);
        return tf.sum(tf.mul(e, wT));
      };
      const r = tf.variableGrads(f, names.map((k) => this.variables.get(k)!));
      r.value.dispose();
      return names.map((k) => r.grads[this.variables.get(k)!.name]);
    });
    try {
      const out = new Map<string, NamedTensor>();
      for (let i = 0; i < names.length; i++) {
        out.set(
          names[i],
          tfToTorch(names[i], await readTensor(grads[i]), this.#shapes.get(names[i])!),
        );
      }
      return { eps: await readTensor(eps!), grads: out };
    } finally {
      tf.dispose(grads);
      eps?.dispose();
    }
  }

  async stages(
    z: Float32Array,
    shape: WindowShape,
    t: Float32Array,
  ): Promise<Map<string, NamedTensor>> {
    this.#inputs(z, shape, t);
    const [B, L] = shape;
    const kept: [string, tf.Tensor][] = [];
    const out = tf.tidy(() =>
      this.forward(tf.tensor(z, shape), tf.tensor1d(t), {
        onStage: (name, x) => {
          if (x.rank === 4) {
            const [, h, w, c] = x.shape;
            x = tf.transpose(x, [0, 3, 1, 2]).reshape([B, L, c, h, w]);
          }
          kept.push([name, tf.keep(x)]);
        },
      })
    );
    out.dispose();
    const res = new Map<string, NamedTensor>();
    try {
      for (const [name, x] of kept) {
        res.set(name, { shape: [...x.shape], data: await readTensor(x) });
      }
    } finally {
      tf.dispose(kept.map(([, x]) => x));
    }
    return res;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
    for (const a of this.#adjoints.values()) a.filter.dispose();
    this.#adjoints.clear();
  }
}

/**
 * Creates the U-Net on the current tfjs backend, with PyTorch-like random weights from `seed`
 * (or the given `weights`).
 *
 * @example
 * ```ts
 * import { selectBackend } from "@soad/soad";
 * import { createUNet } from "@soad/soad/internal";
 * await selectBackend({ prefer: "wasm", quiet: true });
 * const net = await createUNet({ channels: 2, widths: [4, 8], blocks: 1, kernel: 5, frames: 3 });
 * const shape: [number, number, number, number, number] = [1, 3, 2, 8, 8];
 * const eps = await net.denoise(new Float32Array(384), shape, new Float32Array([0.5]));
 * console.log(eps.length, net.paramCount); // 384 ...
 * net.dispose();
 * ```
 */
export async function createUNet(
  config: UNetConfig,
  options: CreateUNetOptions = {},
): Promise<UNet> {
  const cfg = resolveUNetConfig(config);
  await tf.ready();
  const w = options.weights
    ? (options.weights instanceof Map ? options.weights : new Map(Object.entries(options.weights)))
    : initUNetWeights(cfg, options.seed ?? 0);
  const chunk = options.chunkFramePixels ?? DEFAULT_CHUNK_FRAME_PIXELS;
  if (!(Number.isInteger(chunk) && chunk > 0)) {
    throw new InvalidArgumentError(`chunkFramePixels must be a positive integer, got ${chunk}`);
  }
  return new UNetImpl(cfg, w, chunk);
}
