/**
 * The helper thread of the LETKF kernel (`letkf_wasm.ts`): instantiates the same module on the same
 * shared memory, says it is ready, then runs the column ranges the kernel posts in its control
 * block (int32 `[job seq, done seq, fn, rc, next column]`, then float64 arguments from byte 32)
 * until fn 0 (exit); the columns are shared with the calling thread through the counter.
 * @module
 */

import { parentPort, workerData } from "node:worker_threads";

interface Data {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctl: number;
}

type Kernel = (...args: number[]) => number;

const { module, memory, ctl: at } = workerData as Data;
const run =
  (new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, Kernel>)
    .letkf_columns;
const ctl = new Int32Array(memory.buffer, at, 8);
// read the job counter before saying ready: the kernel posts nothing until then
let seen = Atomics.load(ctl, 0);
parentPort?.postMessage("ready");

for (;;) {
  Atomics.wait(ctl, 0, seen);
  seen = Atomics.load(ctl, 0);
  if (ctl[2] === 0) break;
  // the memory may have grown since the last job: a fresh view of the arguments
  const args = new Float64Array(memory.buffer, at + 32, 21);
  ctl[3] = run(...Array.from(args));
  Atomics.store(ctl, 1, seen);
  Atomics.notify(ctl, 1);
}
// Deno's node:worker_threads has no parentPort.close: end the script, and with it the thread
(parentPort as { close?: () => void } | null)?.close?.();
