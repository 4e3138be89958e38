// assimilate in a Worker equals assimilate in this thread; two Workers run concurrently.
import assert from "node:assert/strict";
import { selectBackend } from "../src/backend/select.ts";
import { assimilate } from "../src/assim/assimilate.ts";
import { assimilateInWorker } from "../src/assim/assimilate_parallel.ts";
import { createUNet } from "../src/diffusion/unet.ts";
import { initUNetWeights } from "../src/diffusion/unet_config.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { readSafetensors, writeSafetensors } from "../src/io/safetensors.ts";
import { augmentedLayout } from "../src/obs/layout.ts";
import { observeStack } from "../src/obs/observe.ts";
import { elementwiseOperator } from "../src/obs/operator.ts";
import { sin3x } from "../src/obs/pointwise.ts";
import { Rng } from "../src/rng.ts";

await selectBackend({ prefer: "wasm", quiet: true });

const L = 3, n = 8;
const cfg = (channels: number) => ({ channels, widths: [4, 8], blocks: 1, kernel: 3, frames: L });

Deno.test("assimilateInWorker: SOAD and SDA in two Workers equal the in-thread runs", async () => {
  const rng = new Rng(3);
  const truth = Float32Array.from({ length: L * 2 * n * n }, () => rng.normal());
  const observations = observeStack(truth, L, n, n, {
    operators: [sin3x],
    ratio: 0.5,
    interval: 2,
    rng,
  });
  const soadBytes = writeSafetensors(initUNetWeights(cfg(4), 1), { model: "sin3x" });
  const sdaBytes = writeSafetensors(initUNetWeights(cfg(2), 2), { model: "sda" });
  const common = { observations, frames: L, steps: 3, corrections: 2, tMax: 0.9, seed: 5, truth };
  let steps = 0;
  const [ws, wd] = await Promise.all([
    assimilateInWorker({
      ...common,
      weights: soadBytes,
      model: "sin3x",
      method: "soad",
      onStep: () => steps++,
    }),
    assimilateInWorker({ ...common, weights: sdaBytes, method: "sda" }),
  ]);
  assert.equal(steps, 3);
  const soadNet = await createUNet(cfg(4), { weights: readSafetensors(soadBytes) });
  const sdaNet = await createUNet(cfg(2), { weights: readSafetensors(sdaBytes) });
  const ts = await assimilate({
    ...common,
    denoiser: soadNet,
    layout: augmentedLayout("sin3x"),
    method: "soad",
  });
  const td = await assimilate({ ...common, denoiser: sdaNet, method: "sda" });
  assert.deepEqual(ws.samples, ts.samples);
  assert.deepEqual(wd.samples, td.samples);
  assert.deepEqual(ws.rmseMean, ts.rmseMean);
  soadNet.dispose();
  sdaNet.dispose();
});

Deno.test("assimilateInWorker: errors come back typed; user operators are refused", async () => {
  const rng = new Rng(1);
  const truth = new Float32Array(L * 2 * n * n);
  const id = elementwiseOperator({ name: "identity", f: (v) => v, df: () => 1 });
  const observations = observeStack(truth, L, n, n, { operators: [id], stride: 2, rng });
  const weights = writeSafetensors(initUNetWeights(cfg(2), 1), { model: "sda" });
  await assert.rejects(
    assimilateInWorker({ weights, method: "sda", observations, frames: L, steps: 2 }),
    (e: Error) =>
      e instanceof InvalidArgumentError && /unknown operator "identity"/.test(e.message),
  );
  await assert.rejects(
    assimilateInWorker({
      weights: new Uint8Array(8),
      method: "sda",
      observations,
      frames: L,
      steps: 2,
    }),
    /safetensors/,
  );
});

Deno.test("assimilateInWorker: operatorModules register user operators in the Worker", async () => {
  const mod = new URL("../docs/examples/my_operator.ts", import.meta.url).href;
  const { tanh2x } = await import(mod);
  const rng = new Rng(2);
  const truth = Float32Array.from({ length: L * 2 * n * n }, () => rng.normal());
  const observations = observeStack(truth, L, n, n, { operators: [tanh2x], stride: 2, rng });
  const weights = writeSafetensors(initUNetWeights(cfg(2), 1), { model: "sda" });
  const common = { method: "sda" as const, observations, frames: L, steps: 2, seed: 1, truth };
  const w = await assimilateInWorker({ ...common, weights, operatorModules: [mod] });
  const net = await createUNet(cfg(2), { weights: readSafetensors(weights) });
  const t = await assimilate({ ...common, denoiser: net, tMax: 1 });
  net.dispose();
  assert.deepEqual(w.samples, t.samples);
});
