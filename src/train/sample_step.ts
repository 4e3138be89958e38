/**
 * The per-sample unit of work of training (spec §4.3): augment a state chunk with the clean
 * observation channels of the model (spec §3), noise it at one diffusion time t with the VP
 * cosine schedule (z_t = α(t) z_0 + σ(t) ε, §4.2), and compute the ε-prediction MSE (mean over
 * all L·C·H·W elements) and its gradient w.r.t. every U-Net parameter, as a flat tfjs-layout
 * vector. Runs wherever a tfjs backend is active: the main thread or a training Worker.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { readTensor } from "../backend/select.ts";
import { alpha, sigma } from "../diffusion/schedule.ts";
import { createUNet, type UNet } from "../diffusion/unet.ts";
import type { UNetConfig } from "../diffusion/unet_config.ts";
import { InvalidArgumentError } from "../errors.ts";
import { type AugmentedLayout, augmentState } from "../obs/layout.ts";
import { modelLayout } from "../obs/registry.ts";
import { ParamLayout } from "./param_layout.ts";
import { normals } from "./stream_rng.ts";

/** One training or validation sample: a state chunk, its diffusion time and noise seed. */
export interface SampleTask {
  /** Normalised state chunk `[L, 2, H, W]`. */
  x: Float32Array;
  /** Diffusion time in [0, 1]. */
  t: number;
  /** Seed of the noise ε (standard normal, `[L, C, H, W]`). */
  noiseSeed: number;
}

/** Geometry and model of the samples a {@link SampleComputer} handles. */
export interface SampleGeometry {
  /**
   * The model (channel layout, `src/obs`): sda, arctan3x, sin3x, vor2vel, full, or registered
   * user operators (`name` or `a+b`).
   */
  model: string;
  /** URLs of modules that register the user operators of `model` (imported by each Worker). */
  operatorModules?: string[];
  /** Frames L. */
  frames: number;
  /** Grid rows. */
  height: number;
  /** Grid columns. */
  width: number;
}

/** Loss and flat parameter gradient of one sample. */
export interface SampleGradient {
  /** ε-prediction MSE of the sample. */
  loss: number;
  /** ∂loss/∂θ, flat tfjs layout ({@link ParamLayout}). */
  grad: Float32Array;
}

/**
 * A U-Net replica on the current tfjs backend that turns {@link SampleTask}s into losses and
 * gradients. Call `selectBackend()` before {@link SampleComputer.create}.
 *
 * @example
 * ```ts
 * import { selectBackend } from "@soad/soad";
 * import { SampleComputer } from "./sample_step.ts";
 * await selectBackend({ prefer: "wasm", quiet: true });
 * const unet = { channels: 2, widths: [4, 8], blocks: 1, kernel: 3, frames: 3 };
 * const c = await SampleComputer.create(unet, { model: "sda", frames: 3, height: 8, width: 8 });
 * const g = await c.gradient({ x: new Float32Array(3 * 2 * 64), t: 0.5, noiseSeed: 1 });
 * console.log(g.grad.length === c.layout.size, g.loss > 0); // true true
 * c.dispose();
 * ```
 */
export class SampleComputer {
  /** The network replica. */
  readonly net: UNet;
  /** Flat parameter layout. */
  readonly layout: ParamLayout;
  /** Sample geometry. */
  readonly geometry: SampleGeometry;
  readonly #aug: AugmentedLayout;
  readonly #vars: tf.Variable[];

  private constructor(net: UNet, geometry: SampleGeometry) {
    this.net = net;
    this.layout = new ParamLayout(net.config);
    this.geometry = geometry;
    this.#aug = modelLayout(geometry.model);
    if (this.#aug.channels !== net.config.channels) {
      throw new InvalidArgumentError(
        `model ${geometry.model} has ${this.#aug.channels} channels, the network ${net.config.channels}`,
      );
    }
    this.#vars = this.layout.slots.map((s) => net.variables.get(s.name)!);
  }

  /** Creates the replica (random init from `seed`; the trainer then sets its parameters). */
  static async create(
    config: UNetConfig,
    geometry: SampleGeometry,
    seed = 0,
  ): Promise<SampleComputer> {
    return new SampleComputer(await createUNet(config, { seed }), geometry);
  }

  /** Replaces every parameter from a flat tfjs-layout vector. */
  setParams(flat: Float32Array): void {
    if (flat.length !== this.layout.size) {
      throw new InvalidArgumentError(`got ${flat.length} parameters, expected ${this.layout.size}`);
    }
    for (let i = 0; i < this.layout.slots.length; i++) {
      const s = this.layout.slots[i];
      const v = this.#vars[i];
      tf.tidy(() => v.assign(tf.tensor(flat.subarray(s.offset, s.offset + s.size), s.tfShape)));
    }
  }

  /** Reads every parameter into a flat vector. */
  async getParams(): Promise<Float32Array> {
    const out = new Float32Array(this.layout.size);
    for (let i = 0; i < this.#vars.length; i++) {
      out.set(await readTensor(this.#vars[i]), this.layout.slots[i].offset);
    }
    return out;
  }

  /** z_t, ε and t as tensors for one sample (inside a tidy). */
  #inputs(task: SampleTask): [tf.Tensor, tf.Tensor, tf.Tensor1D] {
    const { frames: L, height: H, width: W } = this.geometry;
    const C = this.#aug.channels;
    if (!(task.x instanceof Float32Array) || task.x.length !== L * 2 * H * W) {
      throw new InvalidArgumentError(
        `sample state must be a Float32Array [${L}, 2, ${H}, ${W}], got ${task.x?.length} values`,
      );
    }
    if (!(task.t >= 0 && task.t <= 1)) {
      throw new InvalidArgumentError(`t must be in [0, 1], got ${task.t}`);
    }
    const z0 = augmentState(task.x, L, H, W, this.#aug);
    const eps = normals(task.noiseSeed, z0.length);
    const a = alpha(task.t), s = sigma(task.t);
    const zt = new Float32Array(z0.length);
    for (let i = 0; i < zt.length; i++) zt[i] = a * z0[i] + s * eps[i];
    const shape = [1, L, C, H, W];
    return [tf.tensor(zt, shape), tf.tensor(eps, shape), tf.tensor1d([task.t])];
  }

  /** The ε-prediction MSE of one sample (no gradient). */
  async loss(task: SampleTask): Promise<number> {
    const l = tf.tidy(() => {
      const [zt, eps, t] = this.#inputs(task);
      return tf.mean(tf.squaredDifference(this.net.forward(zt, t), eps));
    });
    try {
      return (await readTensor(l))[0];
    } finally {
      l.dispose();
    }
  }

  /** The loss of one sample and its gradient w.r.t. every parameter. */
  async gradient(task: SampleTask): Promise<SampleGradient> {
    const { value, grads } = tf.tidy(() => {
      const [zt, eps, t] = this.#inputs(task);
      const f = (): tf.Scalar =>
        tf.mean(tf.squaredDifference(this.net.forward(zt, t, { paramGrads: true }), eps));
      return tf.variableGrads(f, this.#vars);
    });
    try {
      const grad = new Float32Array(this.layout.size);
      for (let i = 0; i < this.#vars.length; i++) {
        const g = grads[this.#vars[i].name];
        if (g) grad.set(await readTensor(g), this.layout.slots[i].offset);
      }
      return { loss: (await readTensor(value))[0], grad };
    } finally {
      value.dispose();
      tf.dispose(Object.values(grads));
    }
  }

  /** Frees the network. */
  dispose(): void {
    this.net.dispose();
  }
}
