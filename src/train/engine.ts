/**
 * Gradient engines: who computes per-sample losses and gradients for the trainer. The
 * {@link LocalEngine} runs one U-Net replica on the main thread; `WorkerEngine`
 * (`worker_engine.ts`) runs one replica per Deno Worker, each with its own tfjs wasm instance,
 * so that single-threaded wasm uses every core. Both return per-sample results in task order,
 * and the trainer reduces them in that fixed order: the averaged gradient is bit-identical for
 * any number of workers.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { UNetConfig } from "../diffusion/unet_config.ts";
import {
  SampleComputer,
  type SampleGeometry,
  type SampleGradient,
  type SampleTask,
} from "./sample_step.ts";

/** Computes per-sample losses and gradients for the current parameters. */
export interface GradEngine {
  /** Parallel replicas (0 for the main-thread engine). */
  readonly workers: number;
  /** Sets the parameters of every replica (flat tfjs layout). */
  setParams(flat: Float32Array): Promise<void>;
  /** Loss and gradient of each task, in task order. */
  gradients(tasks: SampleTask[]): Promise<SampleGradient[]>;
  /** Loss of each task (no gradients), in task order. */
  losses(tasks: SampleTask[]): Promise<number[]>;
  /** `tf.memory().numTensors` of each replica (leak checks). */
  numTensors(): Promise<number[]>;
  /** Frees the replicas (terminates workers). */
  close(): Promise<void>;
}

/**
 * The main-thread engine: one replica on the current tfjs backend (call `selectBackend` first).
 *
 * @example
 * ```ts
 * import { selectBackend } from "@soad/soad";
 * import { LocalEngine } from "./engine.ts";
 * await selectBackend({ prefer: "wasm", quiet: true });
 * const unet = { channels: 2, widths: [4], blocks: 1, kernel: 3, frames: 3 };
 * const e = await LocalEngine.create(unet, { model: "sda", frames: 3, height: 4, width: 4 });
 * const [l] = await e.losses([{ x: new Float32Array(96), t: 0.5, noiseSeed: 0 }]);
 * console.log(l > 0); // true
 * await e.close();
 * ```
 */
export class LocalEngine implements GradEngine {
  readonly workers = 0;
  /** The replica. */
  readonly computer: SampleComputer;

  private constructor(computer: SampleComputer) {
    this.computer = computer;
  }

  /** Creates the replica. */
  static async create(config: UNetConfig, geometry: SampleGeometry): Promise<LocalEngine> {
    return new LocalEngine(await SampleComputer.create(config, geometry));
  }

  setParams(flat: Float32Array): Promise<void> {
    this.computer.setParams(flat);
    return Promise.resolve();
  }

  async gradients(tasks: SampleTask[]): Promise<SampleGradient[]> {
    const out: SampleGradient[] = [];
    for (const t of tasks) out.push(await this.computer.gradient(t));
    return out;
  }

  async losses(tasks: SampleTask[]): Promise<number[]> {
    const out: number[] = [];
    for (const t of tasks) out.push(await this.computer.loss(t));
    return out;
  }

  numTensors(): Promise<number[]> {
    return Promise.resolve([tf.memory().numTensors]);
  }

  close(): Promise<void> {
    this.computer.dispose();
    return Promise.resolve();
  }
}
