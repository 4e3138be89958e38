/**
 * The helper thread of the WASM kernels (conv engine, LETKF): one `node:worker_threads` Worker
 * that shares the kernel's WebAssembly memory and waits on a control block with `Atomics`. This
 * module starts it (resolving once the Worker says it is ready) and unrefs it, so a helper never
 * keeps a process alive.
 * @module
 */

import { Worker } from "node:worker_threads";

/**
 * Starts the Worker module `url` with `workerData`; resolves to it after its first message (its
 * "ready"), rejects on its error. The Worker is unref'd.
 *
 * @example
 * ```ts ignore
 * import { startHelperThread } from "./helper_thread.ts";
 * const worker = await startHelperThread(new URL("./conv_thread.ts", import.meta.url), {});
 * void worker.terminate();
 * ```
 */
export async function startHelperThread(url: URL, workerData: unknown): Promise<Worker> {
  const worker = new Worker(url, { workerData });
  await new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve());
    worker.once("error", (e: unknown) => reject(e));
  });
  worker.unref();
  return worker;
}
