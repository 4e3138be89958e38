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
import { readPriorInfo } from "../diffusion/prior_info.ts";
import { readSafetensors, readSafetensorsMetadata } from "../io/safetensors.ts";
import { getOperator, modelLayout } from "../obs/registry.ts";
import { assimilate, type AssimilationPrior } from "./assimilate.ts";
import type { WorkerAssimilateMessage, WorkerAssimilateRequest } from "./assimilate_parallel.ts";

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<WorkerAssimilateRequest>) => void) | null;
  postMessage: (m: WorkerAssimilateMessage, transfer?: Transferable[]) => void;
};

scope.onmessage = async (e: MessageEvent<WorkerAssimilateRequest>) => {
  const r = e.data;
  try {
    await selectBackend({ prefer: r.backend ?? "wasm", quiet: true });
    // user operators: their modules register them here too
    for (const m of r.operatorModules ?? []) await import(m);
    // a prior with metadata brings its defaults and checks; bare U-Net weights still run
    const meta = readSafetensorsMetadata(r.weights);
    let prior: AssimilationPrior | undefined;
    let net;
    if (meta.soad_prior !== undefined || meta.model !== undefined) {
      // (the normalisation is not used here: old files without one still run)
      const info = readPriorInfo(r.weights, "prior", { offset: [0, 0], std: [1, 1] });
      net = await createUNet(info.config, { weights: info.weights });
      prior = { denoiser: net, trainedFor: info.trainedFor, sampler: info.sampler };
    } else {
      const weights = readSafetensors(r.weights);
      net = await createUNet(unetConfigFromWeights(weights, r.options.frames ?? 9), { weights });
    }
    const { observations, model, ...options } = r.options;
    const result = await assimilate({
      ...options,
      ...(prior ? { prior } : { denoiser: net }),
      layout: model ? modelLayout(model) : undefined,
      observations: observations.map((o) => ({ ...o, operator: getOperator(o.operator) })),
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
