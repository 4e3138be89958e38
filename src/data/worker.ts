/**
 * Deno Worker entry for dataset generation: receives `{ path, seedIndex, limitSteps, fft }`
 * messages, runs the trajectory into the store and reports each written window.
 * Not part of the public API.
 * @module
 */

import type { FFTBackend } from "../fft/types.ts";
import { runSeedIntoStore } from "./run_seed.ts";
import { openDatasetStore } from "./store.ts";

/** A job sent to the worker. */
export interface WorkerJob {
  /** Store directory. */
  path: string;
  /** Trajectory index. */
  seedIndex: number;
  /** Step limit, if any. */
  limitSteps?: number;
  /** FFT engine. */
  fft?: FFTBackend | "auto";
}

/** A message from the worker. */
export type WorkerReport =
  | { type: "window"; seedIndex: number; window: number }
  | { type: "seed"; seedIndex: number; written: number; skipped: number; limited: boolean }
  | { type: "error"; seedIndex: number; name: string; message: string };

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<WorkerJob>) => void) | null;
  postMessage: (m: WorkerReport) => void;
};

scope.onmessage = async (e: MessageEvent<WorkerJob>) => {
  const job = e.data;
  try {
    const s = openDatasetStore(job.path);
    const r = await runSeedIntoStore(s, job.seedIndex, {
      limitSteps: job.limitSteps,
      fft: job.fft,
      onWindow: (w) => scope.postMessage({ type: "window", seedIndex: job.seedIndex, window: w }),
    });
    scope.postMessage({ type: "seed", seedIndex: job.seedIndex, ...r });
  } catch (err) {
    const er = err instanceof Error ? err : new Error(String(err));
    scope.postMessage({
      type: "error",
      seedIndex: job.seedIndex,
      name: er.name,
      message: er.message,
    });
  }
};
