/**
 * Deno Worker entry of the data-parallel trainer: holds one U-Net replica on its own tfjs wasm
 * backend and answers `init`, `params`, `grad`, `loss`, `memory` requests from `WorkerEngine`.
 * Not part of the public API.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { type BackendName, selectBackend } from "../backend/select.ts";
import type { UNetConfig } from "../diffusion/unet_config.ts";
import { SampleComputer, type SampleGeometry, type SampleTask } from "./sample_step.ts";

/** A request to a training worker. */
export type WorkerRequest =
  | { id: number; type: "init"; config: UNetConfig; geometry: SampleGeometry; backend: BackendName }
  | { id: number; type: "params"; flat: Float32Array }
  | { id: number; type: "grad"; task: SampleTask }
  | { id: number; type: "loss"; task: SampleTask }
  | { id: number; type: "memory" };

/** A reply of a training worker. */
export type WorkerReply =
  | { id: number; ok: true; loss?: number; grad?: Float32Array; numTensors?: number }
  | { id: number; ok: false; name: string; message: string };

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<WorkerRequest>) => void) | null;
  postMessage: (m: WorkerReply, transfer?: Transferable[]) => void;
};

let computer: SampleComputer | undefined;
let queue: Promise<void> = Promise.resolve();

async function handle(r: WorkerRequest): Promise<void> {
  try {
    switch (r.type) {
      case "init":
        await selectBackend({ prefer: r.backend, quiet: true });
        // user operators: their modules register them in this Worker too
        for (const m of r.geometry.operatorModules ?? []) await import(m);
        computer = await SampleComputer.create(r.config, r.geometry);
        scope.postMessage({ id: r.id, ok: true });
        return;
      case "params":
        computer!.setParams(r.flat);
        scope.postMessage({ id: r.id, ok: true });
        return;
      case "grad": {
        const g = await computer!.gradient(r.task);
        scope.postMessage({ id: r.id, ok: true, loss: g.loss, grad: g.grad }, [
          g.grad.buffer as ArrayBuffer,
        ]);
        return;
      }
      case "loss":
        scope.postMessage({ id: r.id, ok: true, loss: await computer!.loss(r.task) });
        return;
      case "memory":
        scope.postMessage({ id: r.id, ok: true, numTensors: tf.memory().numTensors });
        return;
    }
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    scope.postMessage({ id: r.id, ok: false, name: e.name, message: e.message });
  }
}

// requests are served strictly in arrival order
scope.onmessage = (e: MessageEvent<WorkerRequest>) => {
  queue = queue.then(() => handle(e.data));
};
