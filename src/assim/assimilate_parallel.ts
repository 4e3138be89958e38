/**
 * {@link assimilate} in a Deno Worker, so that independent runs (SOAD and SDA on one window, or
 * several windows) use several cores: tfjs-wasm runs one thread per instance in Deno, and each
 * Worker gets its own. The network comes as safetensors bytes (a prior's metadata applies there as
 * in `assimilate({ prior })`); operators travel by name: built-in ones, or user ones registered by
 * the `operatorModules` the Worker imports first. Results equal an in-thread run with the same
 * inputs.
 * @module
 */

import type { BackendName } from "../backend/select.ts";
import { InvalidArgumentError, SoadError } from "../errors.ts";
import type { Observation } from "../obs/observe.ts";
import { type AssimilateOptions, type AssimilateResult, defaultLayout } from "./assimilate.ts";
import { modelLayout } from "../obs/registry.ts";

/** Observations as they travel to a Worker: the operator by name. */
export interface SerializedObservation extends Omit<Observation, "operator"> {
  /** Name of a built-in operator (`arctan3x`, `sin3x`, `vor2vel`). */
  operator: string;
}

/** Options of {@link assimilateInWorker}. */
export interface WorkerAssimilateOptions extends
  Omit<
    AssimilateOptions,
    "denoiser" | "prior" | "progress" | "observations" | "layout" | "onStep"
  > {
  /** U-Net weights (safetensors bytes, PyTorch names); the configuration comes from the shapes. */
  weights: Uint8Array;
  /** Observations of registered operators (built-in, or registered by `operatorModules`). */
  observations: Observation[];
  /** URLs of modules that register the user operators the observations use (imported first). */
  operatorModules?: string[];
  /** Model of the channel layout (`sda`, `arctan3x`, `sin3x`, `vor2vel`, `full`; default as `assimilate`). */
  model?: string;
  /** Backend inside the Worker (default wasm). */
  backend?: BackendName;
  /** Called after every sampler step. */
  onStep?: (step: number) => void;
}

/** The message a Worker receives. */
export interface WorkerAssimilateRequest {
  /** Weights. */
  weights: Uint8Array;
  /** Backend. */
  backend?: BackendName;
  /** Modules registering user operators. */
  operatorModules?: string[];
  /** Options of `assimilate` with serialised observations. */
  options:
    & Omit<
      WorkerAssimilateOptions,
      "weights" | "backend" | "onStep" | "observations" | "operatorModules"
    >
    & {
      observations: SerializedObservation[];
    };
}

/** A message a Worker sends. */
export type WorkerAssimilateMessage =
  | { type: "step"; step: number }
  | { type: "done"; result: Omit<AssimilateResult, "layout"> }
  | { type: "error"; name: string; message: string };

/**
 * Runs {@link assimilate} in a new Worker and resolves with its result (the Worker is closed).
 *
 * @example
 * ```ts ignore
 * import { assimilateInWorker } from "@soad/soad";
 * const weights = await Deno.readFile("models/sda-small/weights.safetensors");
 * const [a, b] = await Promise.all([
 *   assimilateInWorker({ weights: soadWeights, model: "sin3x", method: "soad", observations, steps: 64 }),
 *   assimilateInWorker({ weights, method: "sda", observations, steps: 64 }),
 * ]);
 * ```
 */
export function assimilateInWorker(options: WorkerAssimilateOptions): Promise<AssimilateResult> {
  const { weights, backend, onStep, observations, operatorModules, ...rest } = options;
  if (!(weights instanceof Uint8Array)) {
    return Promise.reject(
      new InvalidArgumentError("weights must be safetensors bytes (Uint8Array)"),
    );
  }
  const request: WorkerAssimilateRequest = {
    weights,
    backend,
    operatorModules,
    options: {
      ...rest,
      observations: observations.map((o) => ({ ...o, operator: o.operator.name })),
    },
  };
  const worker = new Worker(new URL("./assimilate_worker.ts", import.meta.url).href, {
    type: "module",
  });
  return new Promise<AssimilateResult>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<WorkerAssimilateMessage>) => {
      const m = e.data;
      if (m.type === "step") return onStep?.(m.step);
      worker.terminate();
      if (m.type === "done") {
        const layout = options.model
          ? modelLayout(options.model)
          : defaultLayout(options.method ?? "soad", observations);
        resolve({ ...m.result, layout });
      } else {
        const err = m.name === "InvalidArgumentError"
          ? new InvalidArgumentError(m.message)
          : new SoadError(`assimilation worker: ${m.name}: ${m.message}`);
        reject(err);
      }
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      worker.terminate();
      reject(new SoadError(`assimilation worker crashed: ${e.message}`));
    };
    worker.postMessage(request);
  });
}
