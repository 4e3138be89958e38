/**
 * The data-parallel {@link GradEngine}: one Deno Worker per replica, each with its own tfjs
 * backend instance (wasm is single-threaded in Deno, so this is how training uses several cores).
 * Tasks are handed out one at a time to whichever worker is free; results come back in task
 * order, so the reduction order (and the averaged gradient) does not depend on the worker count.
 * @module
 */

import type { BackendName } from "../backend/select.ts";
import type { UNetConfig } from "../diffusion/unet_config.ts";
import { InvalidArgumentError, SoadError } from "../errors.ts";
import type { GradEngine } from "./engine.ts";
import type { SampleGeometry, SampleGradient, SampleTask } from "./sample_step.ts";
import type { WorkerReply, WorkerRequest } from "./worker.ts";

type Pending = { resolve: (r: WorkerReply & { ok: true }) => void; reject: (e: Error) => void };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

class Replica {
  readonly worker: Worker;
  #next = 0;
  #pending = new Map<number, Pending>();
  #dead: Error | null = null;

  constructor() {
    this.worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
    this.worker.onmessage = (e: MessageEvent<WorkerReply>) => {
      const r = e.data;
      const p = this.#pending.get(r.id);
      if (!p) return;
      this.#pending.delete(r.id);
      if (r.ok) p.resolve(r);
      else p.reject(new SoadError(`training worker: ${r.name}: ${r.message}`));
    };
    this.worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#dead = new SoadError(`training worker crashed: ${e.message}`);
      for (const p of this.#pending.values()) p.reject(this.#dead);
      this.#pending.clear();
    };
  }

  call(
    req: DistributiveOmit<WorkerRequest, "id">,
    transfer: Transferable[] = [],
  ): Promise<WorkerReply & { ok: true }> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id } as WorkerRequest, transfer);
    });
  }
}

/**
 * Data-parallel engine over `n` Workers.
 *
 * @example
 * ```ts
 * import { WorkerEngine } from "./worker_engine.ts";
 * const unet = { channels: 2, widths: [4], blocks: 1, kernel: 3, frames: 3 };
 * const e = await WorkerEngine.create(2, unet, { model: "sda", frames: 3, height: 4, width: 4 });
 * const ls = await e.losses([0, 1].map((i) => ({ x: new Float32Array(96), t: 0.5, noiseSeed: i })));
 * console.log(ls.length); // 2
 * await e.close();
 * ```
 */
export class WorkerEngine implements GradEngine {
  readonly workers: number;
  readonly #replicas: Replica[];

  private constructor(replicas: Replica[]) {
    this.#replicas = replicas;
    this.workers = replicas.length;
  }

  /** Starts `n` workers and creates a replica in each (on `backend`, default wasm). */
  static async create(
    n: number,
    config: UNetConfig,
    geometry: SampleGeometry,
    backend: BackendName = "wasm",
  ): Promise<WorkerEngine> {
    if (!Number.isInteger(n) || n < 1) {
      throw new InvalidArgumentError(`workers must be an integer >= 1, got ${n}`);
    }
    const replicas = Array.from({ length: n }, () => new Replica());
    const e = new WorkerEngine(replicas);
    try {
      await Promise.all(replicas.map((r) => r.call({ type: "init", config, geometry, backend })));
    } catch (err) {
      await e.close();
      throw err;
    }
    return e;
  }

  async setParams(flat: Float32Array): Promise<void> {
    await Promise.all(this.#replicas.map((r) => r.call({ type: "params", flat })));
  }

  /** Runs tasks with dynamic dispatch; results in task order. */
  async #map<T>(tasks: SampleTask[], run: (r: Replica, t: SampleTask) => Promise<T>): Promise<T[]> {
    const out = new Array<T>(tasks.length);
    let next = 0;
    const loop = async (r: Replica): Promise<void> => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await run(r, tasks[i]);
      }
    };
    await Promise.all(this.#replicas.map(loop));
    return out;
  }

  gradients(tasks: SampleTask[]): Promise<SampleGradient[]> {
    return this.#map(tasks, async (r, task) => {
      const rep = await r.call({ type: "grad", task });
      return { loss: rep.loss!, grad: rep.grad! };
    });
  }

  losses(tasks: SampleTask[]): Promise<number[]> {
    return this.#map(tasks, async (r, task) => (await r.call({ type: "loss", task })).loss!);
  }

  async numTensors(): Promise<number[]> {
    const reps = await Promise.all(this.#replicas.map((r) => r.call({ type: "memory" })));
    return reps.map((r) => r.numTensors!);
  }

  close(): Promise<void> {
    for (const r of this.#replicas) r.worker.terminate();
    return Promise.resolve();
  }
}
