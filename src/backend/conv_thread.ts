/**
 * The helper thread of the conv engine (`wasm_conv.ts`): instantiates the same module on the same
 * shared memory, says it is ready, then runs the jobs the engine posts in its control block
 * (`[job seq, done seq, fn, args…]`) until fn 0 (exit).
 * @module
 */

import { parentPort, workerData } from "node:worker_threads";
import { CONV_JOBS } from "./conv_jobs.ts";

interface Data {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctl: number;
}

type Kernel = (...args: number[]) => void;

const { module, memory, ctl: at } = workerData as Data;
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<
  string,
  Kernel
>;
const ctl = new Int32Array(memory.buffer, at, 20);
// read the job counter before saying ready: the engine posts nothing until then
let seen = Atomics.load(ctl, 0);
parentPort?.postMessage("ready");

for (;;) {
  Atomics.wait(ctl, 0, seen);
  seen = Atomics.load(ctl, 0);
  const fn = ctl[2];
  if (fn === 0) break;
  ex[CONV_JOBS[fn]](...Array.from(ctl.subarray(3, 20)));
  Atomics.store(ctl, 1, seen);
  Atomics.notify(ctl, 1);
}
// Deno's node:worker_threads has no parentPort.close: end the script, and with it the thread
(parentPort as { close?: () => void } | null)?.close?.();
