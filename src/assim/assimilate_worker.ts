/**
 * Deno Worker entry of {@link assimilateInWorker}: loads a U-Net from safetensors bytes on its own
 * tfjs backend (wasm is single-threaded in Deno, so two Workers use two cores), rebuilds the
 * observations of the built-in operators by name and runs {@link assimilate}. Posts
 * `{ type: "step", step }` per sampler step, then `{ type: "done", result }` or
 * `{ type: "error", name, message }`. Not part of the public API.
 * @module
 */

import { selectBackend } from "../backend/select.ts";
import { createUNet } from "../diffusion/unet.ts";
import { unetConfigFromWeights } from "../diffusion/unet_config.ts";
import { readSafetensors } from "../io/safetensors.ts";
import { augmentedLayout, type ModelName } from "../obs/layout.ts";
import { builtinOperator } from "../obs/builtin.ts";
import { assimilate } from "./assimilate.ts";
import type { WorkerAssimilateMessage, WorkerAssimilateRequest } from "./assimilate_parallel.ts";

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<WorkerAssimilateRequest>) => void) | null;
  postMessage: (m: WorkerAssimilateMessage, transfer?: Transferable[]) => void;
};

scope.onmessage = async (e: MessageEvent<WorkerAssimilateRequest>) => {
  const r = e.data;
  try {
    await selectBackend({ prefer: r.backend ?? "wasm", quiet: true });
    const weights = readSafetensors(r.weights);
    const net = await createUNet(unetConfigFromWeights(weights, r.options.frames ?? 9), {
      weights,
    });
    const { observations, model, ...options } = r.options;
    const result = await assimilate({
      ...options,
      denoiser: net,
      layout: model ? augmentedLayout(model as ModelName) : undefined,
      observations: observations.map((o) => ({ ...o, operator: builtinOperator(o.operator) })),
      onStep: (info) => scope.postMessage({ type: "step", step: info.step }),
    });
    net.dispose();
    // the layout holds operator functions (not cloneable): the caller rebuilds it
    const { layout: _layout, ...plain } = result;
    scope.postMessage({ type: "done", result: plain }, [plain.samples.buffer as ArrayBuffer]);
  } catch (err) {
    const x = err as Error;
    scope.postMessage({ type: "error", name: x.name ?? "Error", message: x.message ?? String(x) });
  }
};
